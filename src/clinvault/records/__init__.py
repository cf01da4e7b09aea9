"""Records platform: patients (PHI encrypted and searchable), medical records, appointments."""

"""Patients: registration, demographics, the patient-user link and search."""

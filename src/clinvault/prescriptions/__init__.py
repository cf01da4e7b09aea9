"""Prescriptions: a closed loop from the prescriber to the pharmacy and the patient."""

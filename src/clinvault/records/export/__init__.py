"""A patient's own chart for download: a FHIR-style JSON Bundle and a PDF."""

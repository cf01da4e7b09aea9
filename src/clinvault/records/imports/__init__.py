"""Bulk writing of imported visits: patients by MRN and idempotent records."""

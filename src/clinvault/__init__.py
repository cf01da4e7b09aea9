"""clinvault: a secure platform for healthcare documents and records."""

__version__ = "0.1.0"

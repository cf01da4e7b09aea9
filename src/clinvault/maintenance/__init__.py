"""Housekeeping jobs that act for the system: the reconcile of stored objects and their rows."""

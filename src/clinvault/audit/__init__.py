"""Audit: one MACed event per request, chained in order, verified against checkpoints."""

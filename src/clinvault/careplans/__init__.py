"""Care plans: versioned treatment plans written by providers."""

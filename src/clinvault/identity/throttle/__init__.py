"""Failed sign-ins counted per identifier and per client address, known account or not."""

"""Finding organization members by name or email, and an organization's administrators."""

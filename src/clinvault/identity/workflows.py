"""Identity workflows."""

"""API clients: machine callers of an organization, authenticated by client credentials."""

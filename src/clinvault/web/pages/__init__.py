"""Portal pages, one module per area; each calls identity (and later feature) services."""

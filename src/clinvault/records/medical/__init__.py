"""Medical records: versioned (amendments), typed, with encrypted attachments."""

"""CSV ingest of patient visits: signed uploads, a pure parser, durable import jobs."""

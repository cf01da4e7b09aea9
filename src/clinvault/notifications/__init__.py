"""Email templates, in-app notifications and webhooks."""

"""Security signals from the audit log that alert organization administrators at once."""

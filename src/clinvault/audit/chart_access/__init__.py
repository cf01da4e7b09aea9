"""Who opened a patient's chart: the audit events about one chart, for its patient."""

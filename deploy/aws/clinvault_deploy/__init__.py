"""AWS CDK app describing the clinvault production deployment."""

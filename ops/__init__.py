"""Operator commands run against a deployed stack (with the deployer's AWS credentials)."""

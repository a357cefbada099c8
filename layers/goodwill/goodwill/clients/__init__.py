"""API clients (CONTRACT.md section 14): storefronts and services calling with their own credentials.

Owns the registry (which org a Cognito app client belongs to, its scopes and rate), the per-client
rate window that doubles as the revocation check, and creating / revoking the app clients.
"""

"""Services every domain uses: the org's configuration with its warm cache (config) and
Idempotency-Key handling (idempotency)."""

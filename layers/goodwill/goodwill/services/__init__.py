"""Services every domain uses: the org's configuration with its warm cache (config) and
Idempotency-Key handling (idempotency); and, until they move to a package of their own, the bulk
CSV import's services (imports*)."""

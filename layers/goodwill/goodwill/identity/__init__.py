"""The API's Lambda REQUEST authorizer: who is calling, decided once per token, before any handler.

API Gateway's Cognito authorizer cannot serve Goodwill's two kinds of caller on one method: without
method scopes it takes ID tokens only, with scopes access tokens only (README, "Calling Goodwill
from a storefront"). This package verifies either kind against the user pool's keys:
- `jwks`: the pool's signing keys, fetched once per Lambda instance (again for an unknown key id);
- `tokens`: a token's signature, issuer, expiry, token use and audience / client;
- `decision`: the verified token -> the caller's principal (goodwill.auth), which the authorizer
  hands to the handlers in its context. API clients' orgs come from the registry (goodwill.clients).

It needs `joserfc` (JOSE, RS256 over `cryptography`), which only the authorizer function packages.
"""

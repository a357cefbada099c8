"""Cognito app clients of the stack's user pool, one per API client: created with the
client-credentials grant and a secret, deleted on revocation. Which scopes a client gets and what
Goodwill records about it are goodwill.clients'; the secret is never stored."""

from __future__ import annotations

from botocore.exceptions import ClientError

from goodwill import aws
from goodwill.errors import ConflictError
from goodwill.settings import get_settings


def create(name: str, scopes: list[str], token_minutes: int) -> tuple[str, str]:
    """A new app client issuing access tokens valid `token_minutes`; (client id, client secret).
    The user pool's quota of app clients reached (Cognito's LimitExceededException) is 409: nothing
    a retry mends; Cognito's throttling (TooManyRequestsException) is busy (503)."""
    try:
        created = aws.cognito_idp().create_user_pool_client(
            UserPoolId=get_settings().user_pool_id,
            ClientName=name,
            GenerateSecret=True,
            AllowedOAuthFlows=["client_credentials"],
            AllowedOAuthFlowsUserPoolClient=True,
            AllowedOAuthScopes=scopes,
            ExplicitAuthFlows=["ALLOW_REFRESH_TOKEN_AUTH"],
            AccessTokenValidity=token_minutes,
            TokenValidityUnits={"AccessToken": "minutes"},
            EnableTokenRevocation=True,
        )["UserPoolClient"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "LimitExceededException":
            raise ConflictError(QUOTA_REACHED) from None
        raise
    return created["ClientId"], created["ClientSecret"]


QUOTA_REACHED = (
    "the stack's user pool holds as many app clients as its Cognito quota allows: "
    "revoke unused API clients or raise the quota (Service Quotas, Amazon Cognito)"
)


def delete(client_id: str) -> None:
    """Delete the app client; one that is gone already is fine (a repeat finishes a revocation)."""
    try:
        aws.cognito_idp().delete_user_pool_client(UserPoolId=get_settings().user_pool_id, ClientId=client_id)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise

"""Cognito app clients of the stack's user pool, one per API client: created with the
client-credentials grant and a secret, deleted on revocation. Which scopes a client gets and what
Goodwill records about it are goodwill.clients'; the secret is never stored."""

from __future__ import annotations

from botocore.exceptions import ClientError

from goodwill import aws
from goodwill.settings import get_settings


def create(name: str, scopes: list[str], token_minutes: int) -> tuple[str, str]:
    """A new app client issuing access tokens valid `token_minutes`; (client id, client secret)."""
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
    return created["ClientId"], created["ClientSecret"]


def delete(client_id: str) -> None:
    """Delete the app client; one that is gone already is fine (a repeat finishes a revocation)."""
    try:
        aws.cognito_idp().delete_user_pool_client(UserPoolId=get_settings().user_pool_id, ClientId=client_id)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise

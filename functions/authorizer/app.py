"""The API's Lambda REQUEST authorizer: verifies a person's ID token or an API client's access
token (goodwill.identity) and answers API Gateway with an Allow for the whole API, the caller's
principal in the context. Any refusal is the exception API Gateway turns into 401."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import event_source
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerRequestEvent,
    APIGatewayAuthorizerResponse,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from goodwill.errors import UnauthorizedError
from goodwill.identity import decision
from goodwill.observability import logger


@logger.inject_lambda_context
@event_source(data_class=APIGatewayAuthorizerRequestEvent)
def lambda_handler(event: APIGatewayAuthorizerRequestEvent, context: LambdaContext) -> dict[str, Any]:
    try:
        found = decision.decide(event.headers.get("Authorization"))
    except UnauthorizedError as exc:
        logger.info("token refused", extra={"reason": exc.message})  # never the token itself
        raise Exception("Unauthorized") from None  # the one answer API Gateway maps to 401
    arn = event.parsed_arn
    answer = APIGatewayAuthorizerResponse(
        principal_id=found.principal_id,
        region=arn.region,
        aws_account_id=arn.aws_account_id,
        api_id=arn.api_id,
        stage=arn.stage,
        context=found.context,
    )
    answer.allow_all_routes()  # cached per token for every method: each handler checks its route
    return answer.asdict()

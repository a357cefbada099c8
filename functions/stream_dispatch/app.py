"""DynamoDB stream -> Step Functions: start the approval or notification workflow a request needs,
and hand an approver's decision to the waiting approval workflow."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from goodwill.approvals import dispatch
from goodwill.observability import logger

# A batch whose every record failed is reported like a partial failure (all of them in
# batchItemFailures) rather than raised: the event source retries from the first failed record
# either way, and an invocation error would only add noise (and errors in the function's metrics).
processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)


def handle_record(record: DynamoDBRecord) -> None:
    change = record.dynamodb
    if change is None:
        return
    new, old = change.new_image or None, change.old_image or None
    kind = dispatch.request_transition(old, new)
    if kind == "decision" and new:
        dispatch.hand_over(new)
    elif kind and new:
        dispatch.start(kind, new)


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(
        process_partial_response(event=event, record_handler=handle_record, processor=processor, context=context)
    )

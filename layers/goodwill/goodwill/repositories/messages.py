"""SNS and SES: a text message, a push notification, an e-mail, a message on a topic.

The notification workflow retries a failed send itself (Retry with back-off, each try in its
history), so its sends (`one_try`) make one call each; other senders get the clients' own retries.
What to send, to whom and when is the domain's (goodwill.notify, goodwill.bulk.notify).
"""

from __future__ import annotations

from typing import Any

from goodwill import aws
from goodwill.settings import get_settings

_TRANSACTIONAL: dict[str, Any] = {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}}


def send_sms(to: str, body: str) -> str:
    """One try of a transactional text to a phone number (E.164); SNS's message id."""
    sent = aws.sns_single_try().publish(PhoneNumber=to, Message=body, MessageAttributes=_TRANSACTIONAL)
    return sent["MessageId"]


def send_push(endpoint_arn: str, body: str) -> str:
    """One try of a push notification to a platform endpoint; SNS's message id."""
    return aws.sns_single_try().publish(TargetArn=endpoint_arn, Message=body)["MessageId"]


def send_email(to: str, subject: str, body: str, *, one_try: bool = False) -> str:
    """A plain-text e-mail from the stack's sender; SES's message id."""
    client = aws.ses_single_try() if one_try else aws.ses()
    sent = client.send_email(
        Source=get_settings().ses_sender,
        Destination={"ToAddresses": [to]},
        Message={
            "Subject": {"Data": subject, "Charset": "UTF-8"},
            "Body": {"Text": {"Data": body, "Charset": "UTF-8"}},
        },
    )
    return sent["MessageId"]


def publish(topic_arn: str, subject: str, message: str, attributes: dict[str, str]) -> None:
    """A message on an SNS topic, with string attributes subscribers can filter on."""
    aws.sns().publish(
        TopicArn=topic_arn,
        Subject=subject,
        Message=message,
        MessageAttributes={name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()},
    )

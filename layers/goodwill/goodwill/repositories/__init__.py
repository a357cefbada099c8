"""The data layer, and the only code that calls AWS (tests/unit/test_layout.py): table.py
(serialisation, reads, writes, transactions), pages.py (listing with next_token, every page of a
query or scan), keys.py (every key format), one module per kind of record, and one per other AWS
resource: import_files (S3), workflows (Step Functions), bus (EventBridge), messages (SNS, SES),
webhook_queue (SQS), app_clients (Cognito), webhook_secrets (KMS). It imports nothing above it."""

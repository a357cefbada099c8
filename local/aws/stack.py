"""Create template.yaml's resources in moto (in-process or server) and drive its event sources.

moto has no SAM transform and ignores DefinitionSubstitutions, so the template is read here and
every resource is created with boto3: one source of truth, no hand-kept copy (AWS-LOCAL.md).
Resources the local run has no use for (IAM roles, API Gateway's account settings, wait handles)
are not created; their Ref and Arn resolve to placeholders.
"""

from __future__ import annotations

import contextlib
import io
import json
import time
import zipfile
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config

from local.aws import tokens
from local.aws.functions import Functions, function_arn
from local.aws.template import ACCOUNT, REGION, ROOT, Resolver, load, parameter_defaults, resources

LOCAL_PARAMETERS = {
    "Stage": "local",
    "DeletionProtection": "false",
    "SesSender": "goodwill@example.com",
    "ConsoleBaseUrl": "http://127.0.0.1:3000/console",
    # One FCM application (created in moto with the stack) whose endpoints customers may have.
    "PushPlatformApplications": f"arn:aws:sns:{REGION}:{ACCOUNT}:app/GCM/goodwill-local",
}
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/goodwill-local"


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", "def lambda_handler(event, context):\n    return event\n")
    return buf.getvalue()


@dataclass
class Stack:
    resolver: Resolver
    functions: Functions
    session: boto3.session.Session
    endpoint_url: str | None = None
    _iterators: dict[str, str] = field(default_factory=dict)
    _clients: dict[str, Any] = field(default_factory=dict)

    def client(self, name: str) -> Any:
        """A cached boto3 client for the emulated account (clients are thread-safe)."""
        if name not in self._clients:
            # botocore 1.44 sends DynamoDB (Streams) calls to account-id endpoints, which moto 5.2 does not route.
            config = Config(account_id_endpoint_mode="disabled")
            self._clients[name] = self.session.client(  # type: ignore[call-overload]
                name, region_name=REGION, endpoint_url=self.endpoint_url, config=config
            )
        return self._clients[name]

    def ref(self, logical_id: str) -> str:
        return self.resolver.refs[logical_id]

    def attr(self, logical_id: str, name: str) -> str:
        return self.resolver.attrs[(logical_id, name)]

    # ------------------------------------------------------------ event sources
    def stream_consumers(self) -> list[tuple[str, str]]:
        found = []
        for fn in self.functions.by_id.values():
            for event in fn.events.values():
                if event["Type"] == "DynamoDB":
                    found.append((fn.logical_id, self.resolver.resolve(event["Properties"]["Stream"])))
        return found

    def pump_streams(self) -> int:
        """Deliver new stream records to their functions (what Lambda's event source mapping does)."""
        streams = self.client("dynamodbstreams")
        delivered = 0
        for logical_id, stream_arn in self.stream_consumers():
            shards = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
            for shard in shards:
                marker = f"{logical_id}|{shard['ShardId']}"
                iterator = (
                    self._iterators.get(marker)
                    or streams.get_shard_iterator(
                        StreamArn=stream_arn,
                        ShardId=shard["ShardId"],
                        ShardIteratorType="TRIM_HORIZON",
                    )["ShardIterator"]
                )
                resp = streams.get_records(ShardIterator=iterator, Limit=100)
                self._iterators[marker] = resp["NextShardIterator"]
                records = resp["Records"]
                if records:
                    for record in records:
                        record["eventSourceARN"] = stream_arn
                    event = {"Records": json.loads(json.dumps(records, default=str))}
                    self._deliver(logical_id, event, shard["ShardId"])
                    delivered += len(records)
        return delivered

    def pump_queues(self) -> int:
        """Deliver visible SQS messages to their functions (Lambda's SQS event source mapping):
        the ones the function does not report as failed are deleted, the others come back when
        their visibility timeout ends."""
        sqs = self.client("sqs")
        delivered = 0
        for fn in self.functions.by_id.values():
            for event in fn.events.values():
                if event["Type"] != "SQS":
                    continue
                arn = self.resolver.resolve(event["Properties"]["Queue"])
                url = self.ref(next(q for q in resources("AWS::SQS::Queue") if self.attr(q, "Arn") == arn))
                delivered += self._deliver_messages(fn.logical_id, sqs, url, arn, event["Properties"])
        return delivered

    def _deliver_messages(self, logical_id: str, sqs: Any, url: str, arn: str, props: dict[str, Any]) -> int:
        batch = int(props.get("BatchSize", 10))
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=min(batch, 10), AttributeNames=["All"])
        records = [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": {},
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": arn,
                "awsRegion": REGION,
            }
            for m in messages.get("Messages", [])
        ]
        if not records:
            return 0
        # A function error leaves the whole batch to come back after its visibility timeout.
        result = self.functions.by_id[logical_id].invoke({"Records": records}) or {}
        failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        for record in records:
            if record["messageId"] not in failed:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=record["receiptHandle"])
        return len(records)

    def _deliver(self, logical_id: str, event: dict[str, Any], shard_id: str) -> None:
        for _ in range(3):
            result = self.functions.by_id[logical_id].invoke(event) or {}
            failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
            if not failed:
                return
            event = {"Records": [r for r in event["Records"] if r["dynamodb"]["SequenceNumber"] in failed]}
            time.sleep(0.05)
        self._report_failed_records(logical_id, event["Records"], shard_id)

    def _report_failed_records(self, logical_id: str, records: list[dict[str, Any]], shard_id: str) -> None:
        """What Lambda sends to the mapping's on-failure destination: where the records are, not them."""
        queue = self.on_failure_queue(logical_id, "DynamoDB")
        if not queue:
            return
        for record in records:
            sequence = record["dynamodb"]["SequenceNumber"]
            info = {
                "shardId": shard_id,
                "startSequenceNumber": sequence,
                "endSequenceNumber": sequence,
                "batchSize": 1,
                "streamArn": record["eventSourceARN"],
            }
            message = {
                "requestContext": {
                    "functionArn": function_arn(logical_id),
                    "condition": "RetryAttemptsExhausted",
                },
                "version": "1.0",
                "DDBStreamBatchInfo": info,
            }
            self.client("sqs").send_message(QueueUrl=queue, MessageBody=json.dumps(message))

    def on_failure_queue(self, logical_id: str, event_type: str) -> str | None:
        """The URL of the SQS queue a function's event source of `event_type` reports failures to."""
        for event in self.functions.by_id[logical_id].events.values():
            destination = event["Properties"].get("DestinationConfig", {}).get("OnFailure", {})
            if event["Type"] == event_type and destination.get("Type") == "SQS":
                arn = self.resolver.resolve(destination["Destination"])
                queues = [q for q in resources("AWS::SQS::Queue") if self.attr(q, "Arn") == arn]
                return self.ref(queues[0]) if queues else None
        return None

    def executions(self) -> list[dict[str, Any]]:
        sfn = self.client("stepfunctions")
        found = []
        for logical_id in resources("AWS::Serverless::StateMachine"):
            arn = self.ref(logical_id)
            found.extend(sfn.list_executions(stateMachineArn=arn)["executions"])
        return found

    def wait_for(self, execution_arn: str, timeout: float = 20.0) -> dict[str, Any]:
        """Poll one execution until it ends (moto runs executions on a thread)."""
        sfn = self.client("stepfunctions")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found: dict[str, Any] = sfn.describe_execution(executionArn=execution_arn)
            if found["status"] != "RUNNING":
                return found
            self.pump_streams()
            time.sleep(0.05)
        raise TimeoutError(f"{execution_arn} still running")

    def settle(self, timeout: float = 20.0) -> None:
        """Deliver stream records and let executions run until nothing moves any more."""
        sfn = self.client("stepfunctions")
        deadline = time.monotonic() + timeout
        last: Any = None
        quiet = 0
        while time.monotonic() < deadline:
            moved = self.pump_streams() + self.pump_queues()
            state = []
            for ex in self.executions():
                if ex["status"] == "RUNNING":
                    events = sfn.get_execution_history(executionArn=ex["executionArn"], maxResults=1000)
                    state.append((ex["executionArn"], len(events["events"])))
                else:
                    state.append((ex["executionArn"], ex["status"]))
            quiet = quiet + 1 if (not moved and state == last) else 0
            if quiet >= 4:
                return
            last = state
            time.sleep(0.05)
        raise TimeoutError("the local stack did not settle")


def _precompute(resolver: Resolver) -> None:
    for logical_id in resources("AWS::SQS::Queue"):
        name = f"goodwill-{logical_id}"
        arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"
        resolver.refs[logical_id] = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{name}"
        resolver.attrs[(logical_id, "Arn")] = arn
        resolver.attrs[(logical_id, "QueueName")] = name
    for logical_id, res in resources("AWS::Logs::LogGroup").items():
        name = resolver.resolve(res.get("Properties", {}).get("LogGroupName")) or f"goodwill-{logical_id}"
        resolver.refs[logical_id] = name
        resolver.attrs[(logical_id, "Arn")] = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name}:*"
    for logical_id in resources("AWS::DynamoDB::Table"):
        name = f"goodwill-{logical_id}"
        resolver.refs[logical_id] = name
        resolver.attrs[(logical_id, "Arn")] = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"
    for logical_id, res in resources("AWS::SNS::Topic").items():
        name = resolver.resolve(res.get("Properties", {}).get("TopicName")) or f"goodwill-{logical_id}"
        arn = f"arn:aws:sns:{REGION}:{ACCOUNT}:{name}"
        resolver.refs[logical_id] = arn
        resolver.attrs[(logical_id, "TopicArn")] = arn
        resolver.attrs[(logical_id, "TopicName")] = name
    for logical_id, res in resources("AWS::S3::Bucket").items():
        name = resolver.resolve(res.get("Properties", {}).get("BucketName")) or f"goodwill-{logical_id.lower()}-local"
        resolver.refs[logical_id] = name
        resolver.attrs[(logical_id, "Arn")] = f"arn:aws:s3:::{name}"
    for logical_id in resources("AWS::Serverless::Function"):
        resolver.refs[logical_id] = logical_id
        resolver.attrs[(logical_id, "Arn")] = function_arn(logical_id)
    for logical_id, res in resources("AWS::Serverless::StateMachine").items():
        name = resolver.resolve(res["Properties"].get("Name")) or logical_id
        arn = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}"
        resolver.refs[logical_id] = arn
        resolver.attrs[(logical_id, "Arn")] = arn
        resolver.attrs[(logical_id, "Name")] = name
    for logical_id, res in resources("AWS::Events::EventBus").items():
        name = resolver.resolve(res["Properties"]["Name"])
        resolver.refs[logical_id] = name
        resolver.attrs[(logical_id, "Arn")] = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/{name}"
        resolver.attrs[(logical_id, "Name")] = name
    for logical_id in resources("AWS::CloudFront::Distribution"):
        # Not emulated: locally the console is served by the local run itself, same origin as the API.
        resolver.attrs[(logical_id, "DomainName")] = f"{logical_id.lower()}.cloudfront.local"
    for logical_id in load()["Resources"]:
        resolver.refs.setdefault(logical_id, f"local-{logical_id}")
        resolver.attrs.setdefault((logical_id, "Arn"), f"arn:aws:local:{REGION}:{ACCOUNT}:{logical_id}")


def _conditions(resolver: Resolver) -> None:
    declared = load().get("Conditions", {})

    def holds(cond: dict[str, Any]) -> bool:
        ((name, arg),) = cond.items()
        if name == "Fn::Equals":
            left, right = (resolver.resolve(v) for v in arg)
            return bool(left == right)
        if name == "Fn::Not":
            return not holds(arg[0])
        if name == "Fn::And":
            return all(holds(c) for c in arg)
        if name == "Fn::Or":
            return any(holds(c) for c in arg)
        if name == "Condition":
            return holds(declared[arg])
        raise ValueError(f"condition function {name} is not supported by the local run")

    for name, cond in declared.items():
        resolver.conditions[name] = holds(cond)


def create(
    session: boto3.session.Session | None = None,
    endpoint_url: str | None = None,
    parameters: dict[str, str] | None = None,
) -> Stack:
    session = session or boto3.session.Session(region_name=REGION)
    resolver = Resolver()
    resolver.refs.update(parameter_defaults())
    resolver.refs.update(LOCAL_PARAMETERS)
    resolver.refs.update(parameters or {})
    resolver.refs.update({"AWS::Region": REGION, "AWS::AccountId": ACCOUNT, "AWS::StackName": "goodwill-local"})
    _conditions(resolver)
    _precompute(resolver)
    _create_user_pool(session, endpoint_url, resolver)
    _create_keys(session, endpoint_url, resolver)
    functions = Functions(resolver)
    # The pool's signing keys are the local token endpoint's (moto's Cognito issues no tokens
    # here): the functions that verify tokens read them from this run's JWKS file.
    for fn in functions.by_id.values():
        if "USER_POOL_ID" in fn.environment:
            fn.environment["JWKS_URL"] = tokens.jwks_url()
    stack = Stack(resolver=resolver, functions=functions, session=session, endpoint_url=endpoint_url)
    _create_tables(stack)
    _create_topics_and_buckets(stack)
    _create_queues_and_log_groups(stack)
    _create_functions(stack)
    _create_event_buses(stack)
    _create_state_machines(stack)
    _wire_s3_events(stack)
    sender = resolver.refs.get("SesSender")
    if sender:
        stack.client("ses").verify_email_identity(EmailAddress=sender)
    for app in filter(None, resolver.refs.get("PushPlatformApplications", "").split(",")):
        platform, name = app.split(":app/", 1)[1].split("/", 1)
        stack.client("sns").create_platform_application(Name=name, Platform=platform, Attributes={})
    return stack


def _create_user_pool(session: boto3.session.Session, endpoint_url: str | None, resolver: Resolver) -> None:
    """The user pool, its app clients and the `goodwill` resource server, in moto's Cognito (before
    the functions' environments resolve: they name the pool). moto has no hosted token endpoint:
    the local run issues client-credentials tokens itself (local/aws/tokens.py)."""
    idp = session.client("cognito-idp", region_name=REGION, endpoint_url=endpoint_url)

    def present(kind: str) -> dict[str, dict[str, Any]]:
        found = resources(kind).items()
        return {k: v for k, v in found if resolver.conditions.get(v.get("Condition", ""), "Condition" not in v)}

    for logical_id, res in present("AWS::Cognito::UserPool").items():
        pool = idp.create_user_pool(PoolName=resolver.resolve(res["Properties"])["UserPoolName"])["UserPool"]
        resolver.refs[logical_id] = pool["Id"]
        resolver.attrs[(logical_id, "Arn")] = pool["Arn"]
    for logical_id, res in present("AWS::Cognito::UserPoolClient").items():
        pool_id = resolver.resolve(res["Properties"]["UserPoolId"])
        client = idp.create_user_pool_client(UserPoolId=pool_id, ClientName=logical_id)["UserPoolClient"]
        resolver.refs[logical_id] = client["ClientId"]
    for logical_id, res in present("AWS::Cognito::UserPoolResourceServer").items():
        props = resolver.resolve(res["Properties"])
        idp.create_resource_server(
            UserPoolId=props["UserPoolId"], Identifier=props["Identifier"], Name=props["Name"], Scopes=props["Scopes"]
        )
        resolver.refs[logical_id] = f"{props['UserPoolId']}|{props['Identifier']}"
    for logical_id, res in present("AWS::Cognito::UserPoolDomain").items():
        resolver.refs[logical_id] = resolver.resolve(res["Properties"]["Domain"])


def _create_keys(session: boto3.session.Session, endpoint_url: str | None, resolver: Resolver) -> None:
    """The KMS keys, in moto's KMS (before the functions' environments resolve: they name them)."""
    kms = session.client("kms", region_name=REGION, endpoint_url=endpoint_url)
    for logical_id, res in resources("AWS::KMS::Key").items():
        key = kms.create_key(Description=res["Properties"].get("Description", logical_id))["KeyMetadata"]
        resolver.refs[logical_id] = key["KeyId"]
        resolver.attrs[(logical_id, "Arn")] = key["Arn"]


def _create_tables(stack: Stack) -> None:
    ddb = stack.client("dynamodb")
    for logical_id, res in resources("AWS::DynamoDB::Table").items():
        props = stack.resolver.resolve(res["Properties"])
        args: dict[str, Any] = {
            "TableName": stack.ref(logical_id),
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if props.get("GlobalSecondaryIndexes"):
            args["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        if props.get("StreamSpecification"):
            args["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        desc = ddb.create_table(**args)["TableDescription"]
        if desc.get("LatestStreamArn"):
            stack.resolver.attrs[(logical_id, "StreamArn")] = desc["LatestStreamArn"]
        ttl = props.get("TimeToLiveSpecification")
        if ttl:
            ddb.update_time_to_live(TableName=stack.ref(logical_id), TimeToLiveSpecification=ttl)


def _create_topics_and_buckets(stack: Stack) -> None:
    sns = stack.client("sns")
    for logical_id in resources("AWS::SNS::Topic"):
        sns.create_topic(Name=stack.attr(logical_id, "TopicName"))
    s3 = stack.client("s3")
    for logical_id in resources("AWS::S3::Bucket"):
        s3.create_bucket(Bucket=stack.ref(logical_id))


def _create_queues_and_log_groups(stack: Stack) -> None:
    sqs = stack.client("sqs")
    for logical_id in resources("AWS::SQS::Queue"):
        url = sqs.create_queue(QueueName=stack.attr(logical_id, "QueueName"))["QueueUrl"]
        stack.resolver.refs[logical_id] = url  # the endpoint's own form (server or in-process)
    for logical_id, res in resources("AWS::SQS::Queue").items():  # once every dead-letter queue exists
        props = stack.resolver.resolve(res.get("Properties", {}))
        attributes = {k: str(props[k]) for k in ("VisibilityTimeout", "MessageRetentionPeriod") if k in props}
        if props.get("RedrivePolicy"):
            attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
        if attributes:
            sqs.set_queue_attributes(QueueUrl=stack.ref(logical_id), Attributes=attributes)
    logs = stack.client("logs")
    for logical_id, res in resources("AWS::Logs::LogGroup").items():
        logs.create_log_group(logGroupName=stack.ref(logical_id))
        days = res.get("Properties", {}).get("RetentionInDays")
        if days:
            logs.put_retention_policy(logGroupName=stack.ref(logical_id), retentionInDays=int(days))


def _create_functions(stack: Stack) -> None:
    iam = stack.client("iam")
    with contextlib.suppress(iam.exceptions.EntityAlreadyExistsException):
        iam.create_role(
            RoleName="goodwill-local",
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17"}),
        )
    lam = stack.client("lambda")
    code = _zip()
    for logical_id, fn in stack.functions.by_id.items():
        lam.create_function(
            FunctionName=logical_id,
            Runtime="python3.13",
            Role=ROLE_ARN,
            Handler="app.lambda_handler",
            Code={"ZipFile": code},
            Environment={"Variables": fn.environment},
        )


def _create_event_buses(stack: Stack) -> None:
    """Buses, their archives, and rules with SQS targets (what moto's EventBridge delivers)."""
    events = stack.client("events")
    for logical_id in resources("AWS::Events::EventBus"):
        events.create_event_bus(Name=stack.ref(logical_id))
    for logical_id, res in resources("AWS::Events::Archive").items():
        props = stack.resolver.resolve(res["Properties"])
        events.create_archive(
            ArchiveName=f"goodwill-{logical_id}",
            EventSourceArn=props["SourceArn"],
            EventPattern=json.dumps(props.get("EventPattern", {})),
            RetentionDays=int(props.get("RetentionDays", 0)),
        )
    for logical_id, res in resources("AWS::Events::Rule").items():
        props = stack.resolver.resolve(res["Properties"])
        bus = props.get("EventBusName", "default")
        events.put_rule(Name=logical_id, EventBusName=bus, EventPattern=json.dumps(props["EventPattern"]))
        targets = [{"Id": t["Id"], "Arn": t["Arn"]} for t in props.get("Targets", [])]
        if targets:
            events.put_targets(Rule=logical_id, EventBusName=bus, Targets=targets)


def _create_state_machines(stack: Stack) -> None:
    sfn = stack.client("stepfunctions")
    for logical_id, res in resources("AWS::Serverless::StateMachine").items():
        sfn.create_state_machine(
            name=stack.attr(logical_id, "Name"),
            definition=definition(stack.resolver, logical_id),
            roleArn=ROLE_ARN,
            type=res["Properties"].get("Type", "STANDARD"),
        )


def definition(resolver: Resolver, logical_id: str) -> str:
    """The ASL of a state machine with the template's DefinitionSubstitutions applied."""
    props = resources("AWS::Serverless::StateMachine")[logical_id]["Properties"]
    text: str = (ROOT / props["DefinitionUri"]).read_text()
    for key, value in props.get("DefinitionSubstitutions", {}).items():
        text = text.replace("${" + key + "}", str(resolver.resolve(value)))
    return text


def _wire_s3_events(stack: Stack) -> None:
    s3 = stack.client("s3")
    per_bucket: dict[str, list[dict[str, Any]]] = {}
    for fn in stack.functions.by_id.values():
        for event in fn.events.values():
            if event["Type"] != "S3":
                continue
            props = stack.resolver.resolve(event["Properties"])
            events = props["Events"] if isinstance(props["Events"], list) else [props["Events"]]
            config: dict[str, Any] = {
                "LambdaFunctionArn": function_arn(fn.logical_id),
                "Events": events,
            }
            if props.get("Filter"):  # CloudFormation's S3Key.Rules is the API's Key.FilterRules
                rules = props["Filter"].get("S3Key", {}).get("Rules", [])
                config["Filter"] = {"Key": {"FilterRules": rules}}
            per_bucket.setdefault(props["Bucket"], []).append(config)
    for bucket, configs in per_bucket.items():
        s3.put_bucket_notification_configuration(
            Bucket=bucket, NotificationConfiguration={"LambdaFunctionConfigurations": configs}
        )

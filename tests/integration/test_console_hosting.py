"""The deployed console: a private bucket behind CloudFront, its security headers, CORS for its
origin only, the hosted-UI app client, and `make deploy-console` writing config.json from the
stack's outputs (against moto)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local.aws.stack import Stack
from local.aws.template import load
from ops import deploy_console
from tests.support import AGENT, Api


def resolved(stack: Stack, logical_id: str) -> Any:
    return stack.resolver.resolve(load()["Resources"][logical_id]["Properties"])


def site(stack: Stack) -> str:
    return f"https://{stack.resolver.attrs[('ConsoleDistribution', 'DomainName')]}"


def directives(csp: str) -> dict[str, list[str]]:
    return {d.split()[0]: d.split()[1:] for d in (part.strip() for part in csp.split(";")) if d}


def test_console_bucket_is_private_and_read_only_by_its_distribution(stack: Stack) -> None:
    bucket = resolved(stack, "ConsoleBucket")
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    allow, deny = resolved(stack, "ConsoleBucketPolicy")["PolicyDocument"]["Statement"]
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"} and allow["Action"] == "s3:GetObject"
    assert allow["Condition"]["StringEquals"]["AWS:SourceArn"].endswith(":distribution/local-ConsoleDistribution")
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    config = load()["Resources"]["ConsoleDistribution"]["Properties"]["DistributionConfig"]
    (origin,) = config["Origins"]
    assert origin["DomainName"] == {"Fn::GetAtt": ["ConsoleBucket", "RegionalDomainName"]}
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["ConsoleOriginAccessControl", "Id"]}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}  # no legacy identity, no website endpoint
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    assert config["DefaultCacheBehavior"]["AllowedMethods"] == ["GET", "HEAD"]


def test_console_pages_carry_a_strict_content_security_policy_and_hsts(stack: Stack) -> None:
    headers = resolved(stack, "ConsoleResponseHeadersPolicy")["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    csp = directives(headers["ContentSecurityPolicy"]["ContentSecurityPolicy"])
    assert csp["default-src"] == ["'none'"]
    assert csp["script-src"] == csp["style-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"] and csp["object-src"] == ["'none'"]
    imports = "goodwill-imports-123456789012-us-east-1-local"
    assert csp["connect-src"] == [
        "'self'",
        "https://*.execute-api.us-east-1.amazonaws.com",
        "https://goodwill-local-123456789012.auth.us-east-1.amazoncognito.com",
        f"https://{imports}.s3.us-east-1.amazonaws.com",
        f"https://{imports}.s3.amazonaws.com",
    ]
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert headers["ContentTypeOptions"] == {"Override": True}
    assert headers["FrameOptions"]["FrameOption"] == "DENY"


def test_api_and_import_bucket_allow_the_console_origin_only(stack: Stack) -> None:
    origin = site(stack)
    api = resolved(stack, "GoodwillApi")
    assert api["Cors"]["AllowOrigin"] == f"'{origin}'"
    for response in api["GatewayResponses"].values():
        assert response["ResponseParameters"]["Headers"]["Access-Control-Allow-Origin"] == f"'{origin}'"
    (rule,) = resolved(stack, "ImportBucket")["CorsConfiguration"]["CorsRules"]
    assert rule["AllowedOrigins"] == [origin] and rule["AllowedMethods"] == ["PUT", "GET"]
    assert os.environ["CONSOLE_ORIGIN"] == origin


def test_console_app_client_signs_in_with_code_and_pkce_back_to_the_site(stack: Stack) -> None:
    client = resolved(stack, "ConsoleAppClient")
    assert client["GenerateSecret"] is False  # a public client: PKCE instead of a secret
    assert client["AllowedOAuthFlows"] == ["code"] and client["AllowedOAuthFlowsUserPoolClient"] is True
    assert client["AllowedOAuthScopes"] == ["openid", "email", "profile"]
    assert client["CallbackURLs"] == client["LogoutURLs"] == [f"{site(stack)}/"]
    # tokens of this client are the console's (source CONSOLE)
    assert os.environ["CONSOLE_CLIENT_ID"] == stack.ref("ConsoleAppClient")


def test_api_answers_carry_cors_headers_for_the_console_origin_only(api: Api, stack: Stack) -> None:
    api.customer("c-1")
    ours = api.get("/customers/c-1", as_=AGENT, headers={"Origin": site(stack)})
    assert ours.headers["Access-Control-Allow-Origin"] == site(stack)
    error = api.get("/customers/nobody", as_=AGENT, headers={"Origin": site(stack)})
    assert error.status == 404 and error.headers["Access-Control-Allow-Origin"] == site(stack)
    theirs = api.get("/customers/c-1", as_=AGENT, headers={"Origin": "https://evil.example"})
    assert theirs.status == 200 and "Access-Control-Allow-Origin" not in theirs.headers


# ---------------------------------------------------------------- make deploy-console
OUTPUTS = {
    "ApiUrl": "https://abc123.execute-api.eu-west-1.amazonaws.com/prod",
    "ConsoleUrl": "https://d111.cloudfront.net",
    "UserPoolDomain": "https://goodwill-prod-1.auth.eu-west-1.amazoncognito.com",
    "ConsoleClientId": "console-client-1",
}


def _deployed_stack(session: boto3.session.Session) -> str:
    distribution = session.client("cloudfront").create_distribution(
        DistributionConfig={
            "CallerReference": "console",
            "Comment": "console",
            "Enabled": True,
            "Origins": {"Quantity": 1, "Items": [{"Id": "s3", "DomainName": "site.s3.amazonaws.com"}]},
            "DefaultCacheBehavior": {"TargetOriginId": "s3", "ViewerProtocolPolicy": "redirect-to-https"},
        }
    )["Distribution"]["Id"]
    template = {
        "Resources": {"Site": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "console-site"}}},
        "Outputs": {
            **{k: {"Value": v} for k, v in OUTPUTS.items()},
            "ConsoleBucketName": {"Value": {"Ref": "Site"}},
            "ConsoleDistributionId": {"Value": distribution},
        },
    }
    session.client("cloudformation").create_stack(StackName="goodwill", TemplateBody=json.dumps(template))
    return str(distribution)


def _built(tmp_path: Path) -> Path:
    (tmp_path / "js").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>Goodwill</title>")
    (tmp_path / "app.css").write_text("body{}")
    (tmp_path / "js" / "main.js").write_text("export {};")
    (tmp_path / "config.json").write_text('{"mode": "local"}')
    return tmp_path


def test_deploy_console_writes_config_from_outputs_and_replaces_the_files(tmp_path: Path) -> None:
    with mock_aws():
        session = boto3.session.Session(region_name="eu-west-1")
        distribution = _deployed_stack(session)
        s3 = session.client("s3")
        s3.put_object(Bucket="console-site", Key="js/old.js", Body=b"gone")

        done = deploy_console.deploy(session, "goodwill", _built(tmp_path))

        config = json.loads(s3.get_object(Bucket="console-site", Key="config.json")["Body"].read())
        assert config == {
            "mode": "cognito",
            "api_url": OUTPUTS["ApiUrl"],
            "cognito_domain": OUTPUTS["UserPoolDomain"],
            "client_id": "console-client-1",
            "redirect_uri": "https://d111.cloudfront.net/",
            "scope": "openid email profile",
        }
        listed = {o["Key"] for o in s3.list_objects_v2(Bucket="console-site")["Contents"]}
        assert listed == {"index.html", "app.css", "js/main.js", "config.json"} == set(done["files"])
        script = s3.head_object(Bucket="console-site", Key="js/main.js")
        assert (script["ContentType"], script["CacheControl"]) == ("text/javascript", "no-cache")
        assert s3.head_object(Bucket="console-site", Key="index.html")["ContentType"] == "text/html"
        invalidations = session.client("cloudfront").list_invalidations(DistributionId=distribution)
        assert invalidations["InvalidationList"]["Quantity"] == 1


def test_deploy_console_refuses_a_stack_without_the_console(tmp_path: Path) -> None:
    with mock_aws():
        session = boto3.session.Session(region_name="eu-west-1")
        template = {"Resources": {"Site": {"Type": "AWS::S3::Bucket"}}, "Outputs": {"ApiUrl": {"Value": "x"}}}
        session.client("cloudformation").create_stack(StackName="old", TemplateBody=json.dumps(template))
        with pytest.raises(SystemExit, match="ConsoleUrl"):
            deploy_console.deploy(session, "old", _built(tmp_path))

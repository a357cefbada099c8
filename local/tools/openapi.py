"""The OpenAPI document of the whole API, merged from the Powertools resolver of every API function.

Which functions, and which routes each must have, come from template.yaml's `Api` events, so a
new API function is documented without touching this file, and a route wired in the template but
missing in code (or the reverse) fails the build. Each function's handler module is imported the
way the local run imports it (local/aws/functions.py).

    python -m local.tools.openapi > docs/openapi.json     # regenerate the committed document

The local run serves the same document at GET /openapi.json (its servers and claim headers made
local) and Swagger UI at GET /docs, with Swagger UI's files from the Powertools package: no CDN.
"""

from __future__ import annotations

import json
import os
import sys
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from local.aws.functions import LAYER_DIR, Function
from local.aws.template import ROOT, load, resources

DOCUMENT = ROOT / "docs" / "openapi.json"
REGENERATE = ".venv/bin/python -m local.tools.openapi > docs/openapi.json"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
REF = "#/components/schemas/"

DEPLOYED_SERVER = {
    "url": "https://{api_id}.execute-api.{region}.amazonaws.com/{stage}",
    "description": "The deployed API (the stack's ApiUrl output)",
    "variables": {
        "api_id": {"default": "abcdef1234", "description": "The REST API id"},
        "region": {"default": "us-east-1"},
        "stage": {"default": "prod", "description": "The Stage parameter"},
    },
}
LOCAL_SERVER = {"url": "http://127.0.0.1:3000", "description": "make local (claims from the X-Goodwill-* headers)"}

# The local API takes the caller's claims from headers (CONTRACT.md 1): as security schemes,
# Swagger UI's Authorize dialog fills them in for every call.
LOCAL_CLAIM_SCHEMES = {
    "LocalOrg": ("X-Goodwill-Org", "The organisation (custom:org_id), e.g. acme"),
    "LocalActor": ("X-Goodwill-Actor", "The actor id (sub), e.g. alice"),
    "LocalRoles": ("X-Goodwill-Roles", "Comma-separated roles: agent, approver, admin"),
}


def api_functions() -> list[Function]:
    """The template's functions with Api events (not loaded yet)."""
    found = []
    for logical_id, res in sorted(resources("AWS::Serverless::Function").items()):
        props = res["Properties"]
        found.append(Function(logical_id, ROOT / props["CodeUri"], props["Handler"], {}, props.get("Events", {})))
    return [f for f in found if _has_api_events(f)]


def _has_api_events(function: Function) -> bool:
    return any(event["Type"] == "Api" for event in function.events.values())


def document(functions: Iterable[Function] | None = None, *, local_url: str | None = None) -> dict[str, Any]:
    """The merged document. `local_url`: the variant a local run serves (its own server first,
    the X-Goodwill-* claim headers as its security)."""
    _cold_start_environment()
    from goodwill import api

    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {}
    chosen = api_functions() if functions is None else [f for f in functions if _has_api_events(f)]
    for function in sorted(chosen, key=lambda f: f.logical_id):
        part = _function_schema(function)
        _merge_paths(function.logical_id, part.get("paths", {}), paths)
        _merge_schemas(function.logical_id, part.get("components", {}).get("schemas", {}), schemas)
    paths = {path: paths[path] for path in sorted(paths)}
    security_schemes: dict[str, Any] = dict(api.OPENAPI_SECURITY_SCHEMES)
    security: list[dict[str, list[str]]] = list(api.OPENAPI_SECURITY)
    servers: list[dict[str, Any]] = [DEPLOYED_SERVER, LOCAL_SERVER]
    if local_url:
        servers = [{"url": local_url, "description": "This local run"}]
        security_schemes = {
            name: {"type": "apiKey", "in": "header", "name": header, "description": text}
            for name, (header, text) in LOCAL_CLAIM_SCHEMES.items()
        }
        security = [{name: [] for name in LOCAL_CLAIM_SCHEMES}]
    if local_url:
        flows = api.OPENAPI_SECURITY_SCHEMES["ApiClient"]["flows"]["clientCredentials"]
        client_flow = {**flows, "tokenUrl": f"{local_url}/_local/oauth2/token"}
        security_schemes["ApiClient"] = {
            **api.OPENAPI_SECURITY_SCHEMES["ApiClient"],
            "flows": {"clientCredentials": client_flow},
        }
    _operation_security(paths, security[0])
    tags = sorted({tag for item in paths.values() for op in item.values() for tag in op.get("tags", [])})
    return {
        "openapi": "3.1.0",
        "info": {"title": api.OPENAPI_TITLE, "version": _version(), "description": api.OPENAPI_DESCRIPTION},
        "servers": servers,
        "security": security,
        "tags": [{"name": tag} for tag in tags],
        "paths": paths,
        "components": {"schemas": _reachable(paths, schemas), "securitySchemes": security_schemes},
    }


def _cold_start_environment() -> None:
    """Powertools reads its settings when the layer is first imported, as in a Lambda cold start:
    when this is the first import, give it the template's fixed Globals (the local run gives the
    functions' whole environment), so that a process importing the layer here first (a test
    run) gets the Logger and Metrics its handlers get in AWS."""
    if str(LAYER_DIR) not in sys.path:
        sys.path.insert(0, str(LAYER_DIR))  # as Functions.install_environment does
    if "goodwill.observability" not in sys.modules:
        variables = load().get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
        for key, value in variables.items():
            if isinstance(value, str):  # not a Ref: the same in every stack
                os.environ.setdefault(key, value)


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _version() -> str:
    with (ROOT / "pyproject.toml").open("rb") as f:
        return str(tomllib.load(f)["project"]["version"])


def _function_schema(function: Function) -> dict[str, Any]:
    function.load()
    app = function._module.app  # type: ignore[union-attr]
    schema: dict[str, Any] = app.get_openapi_schema().model_dump(by_alias=True, exclude_none=True, mode="json")
    wired = {
        (e["Properties"]["Path"], e["Properties"]["Method"].lower())
        for e in function.events.values()
        if e["Type"] == "Api"
    }
    routed = {(path, method) for path, item in schema.get("paths", {}).items() for method in item if method in METHODS}
    if wired != routed:
        raise RuntimeError(
            f"{function.logical_id}: template Api events and code routes differ: "
            f"only in template.yaml {sorted(wired - routed)}, only in code {sorted(routed - wired)}"
        )
    return schema


def _operation_security(paths: dict[str, dict[str, Any]], people: dict[str, list[str]]) -> None:
    """Each operation's security: people always; API clients with the scope that opens it (auth.ROUTE_SCOPES)."""
    from goodwill.auth import ROUTE_SCOPES

    for path, item in paths.items():
        for method, operation in item.items():
            scope = ROUTE_SCOPES.get((method.upper(), path))
            operation["security"] = [people, {"ApiClient": [scope]}] if scope else [people]


def _merge_paths(owner: str, source: dict[str, Any], target: dict[str, dict[str, Any]]) -> None:
    for path, item in source.items():
        merged = target.setdefault(path, {})
        for method, operation in item.items():
            if method in merged:
                raise RuntimeError(f"{method.upper()} {path} is routed by {owner} and another function")
            merged[method] = {**operation, "responses": dict(sorted(operation["responses"].items()))}


def _merge_schemas(owner: str, source: dict[str, Any], target: dict[str, Any]) -> None:
    for name, schema in source.items():
        if name in target and target[name] != schema:
            raise RuntimeError(f"{owner} defines schema {name} differently from another function")
        target[name] = schema


def _reachable(paths: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    """The schemas the operations use, directly or through other schemas (Powertools adds its
    own validation-error schemas, which every route's 422 replaces with Goodwill's)."""
    seen: set[str] = set()
    todo = _refs(paths)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo |= _refs(schemas[name])
    return {name: schemas[name] for name in sorted(seen)}


def _refs(value: Any) -> set[str]:
    if isinstance(value, dict):
        found = {value["$ref"].removeprefix(REF)} if isinstance(value.get("$ref"), str) else set()
        for inner in value.values():
            found |= _refs(inner)
        return found
    if isinstance(value, list):
        return set().union(*(_refs(v) for v in value)) if value else set()
    return set()


# ---------------------------------------------------------------- served by the local run
_SWAGGER_FILES = {"/docs/swagger-ui-bundle.min.js": "text/javascript", "/docs/swagger-ui.min.css": "text/css"}
_served: dict[str, bytes] = {}


def is_docs_path(path: str) -> bool:
    return path in ("/openapi.json", "/docs", "/docs/") or path in _SWAGGER_FILES


def serve(
    method: str, path: str, query: str, base_url: str, functions: Iterable[Function]
) -> tuple[int, dict[str, list[str]], bytes]:
    """GET (or HEAD) /openapi.json, GET /docs (Swagger UI) and Swagger UI's own files."""
    if method not in ("GET", "HEAD"):
        body = {"error": {"code": "METHOD_NOT_ALLOWED", "message": "the documentation is read-only", "details": []}}
        return 405, {"Content-Type": ["application/json"]}, json.dumps(body).encode()
    if path in _SWAGGER_FILES:
        from aws_lambda_powertools.event_handler.openapi import swagger_ui

        content = (Path(swagger_ui.__file__).parent / path.removeprefix("/docs/")).read_bytes()
        return 200, {"Content-Type": [_SWAGGER_FILES[path]], "Cache-Control": ["max-age=3600"]}, content
    if base_url not in _served:
        _served[base_url] = render(document(functions, local_url=base_url)).encode()
    spec = _served[base_url]
    if path == "/openapi.json" or parse_qs(query).get("format") == ["json"]:
        return 200, {"Content-Type": ["application/json"]}, spec
    from aws_lambda_powertools.event_handler.openapi.swagger_ui import generate_swagger_html

    html = generate_swagger_html(
        spec.decode().replace("</", "<\\/"),  # the spec sits inside a <script>
        "/docs/swagger-ui-bundle.min.js",
        "/docs/swagger-ui.min.css",
        swagger_base_url="/docs",  # link the files rather than inline 1.7 MB into the page
        oauth2_config=None,
        persist_authorization=True,
    )
    html = html.replace("<title>Swagger UI</title>", "<title>Goodwill API</title>", 1)
    return 200, {"Content-Type": ["text/html; charset=utf-8"]}, html.encode()


def main() -> int:
    sys.stdout.write(render(document()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

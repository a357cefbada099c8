"""`make local`: moto's server, template.yaml's resources, and the REST API on 127.0.0.1.

Everything runs in this one process: moto's ThreadedMotoServer emulates AWS, boto3 (the
handlers' included) reaches it through AWS_ENDPOINT_URL, the HTTP API below routes to the real
handlers exactly as API Gateway would, and a pump thread plays Lambda's DynamoDB Streams
event source mapping. `start()` is the programmatic entry (demo, tests); `main()` the command.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import json
import logging
import os
import re
import signal
import socket
import sys
import threading
import time
import warnings
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import requests

from local.aws import isolation, tokens
from local.aws.apigw import Router, bearer_token, claims_from_headers, dispatch
from local.aws.schedules import Schedules
from local.aws.stack import Stack
from local.aws.template import REGION, resources
from local.devserver import console, framing
from local.devserver.events_log import EventLog
from local.devserver.outbox import Outbox
from local.tools import openapi

HOST = "127.0.0.1"
PUMP_INTERVAL = 0.2
OUTBOX_INTERVAL = 0.1
log = logging.getLogger("goodwill.local")
HttpReply = tuple[int, dict[str, list[str]], bytes]  # status, headers, body

# Powertools' resolver keeps the current event on a class attribute shared by every handler in
# the process; Lambda runs one event per container, so API handlers run one at a time here.
_API_LOCK = threading.Lock()

AWS_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "GOODWILL_LOCAL_WEBHOOKS": "true",  # webhooks may call http://127.0.0.1:<port>
}


@dataclass
class LocalSystem:
    url: str
    moto_url: str
    stack: Stack
    outbox: Outbox
    events: EventLog
    _moto: Any
    _api: _ApiServer
    _saved_env: dict[str, str]
    _saved_moto_config: dict[str, Any]
    _stopping: threading.Event = field(default_factory=threading.Event)
    _pump_lock: threading.Lock = field(default_factory=threading.Lock)
    _threads: list[threading.Thread] = field(default_factory=list)
    schedules: Schedules | None = None  # the template's ScheduleV2 events (local/aws/schedules.py)

    def pump(self) -> int:
        """Deliver pending DynamoDB stream records and SQS messages to their functions."""
        with self._pump_lock:
            return self.stack.pump_streams() + self.stack.pump_queues()

    def settle(self, timeout: float = 20.0) -> None:
        """Wait until streams are drained and no execution moves any more."""
        with self._pump_lock:
            self.stack.settle(timeout)

    def stop(self) -> None:
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._api.shutdown()
        self._api.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._moto.stop()
        if self._moto._server is not None:  # ThreadedMotoServer.stop leaves its socket bound
            self._moto._server.server_close()
        _restore(self._saved_env, self._saved_moto_config)

    def __enter__(self) -> LocalSystem:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def _pump_forever(self) -> None:
        while not self._stopping.wait(PUMP_INTERVAL):
            try:
                self.pump()
            except Exception:  # an event source mapping logs the failure and keeps polling
                log.exception("delivering stream records failed")

    def _watch_outbox(self) -> None:
        # moto keeps no send time: stamp each message soon after it appears
        while not self._stopping.wait(OUTBOX_INTERVAL):
            try:
                self.outbox.observe()
                self.events.observe()
            except Exception:
                log.exception("reading the outbox or the event log failed")


def start(
    api_port: int = 0,
    moto_port: int = 0,
    *,
    parameters: dict[str, str] | None = None,
    access_log: bool = False,
) -> LocalSystem:
    """Start moto, create the stack, serve the API. Port 0 picks a free port."""
    from moto.core.config import default_user_config
    from moto.server import ThreadedMotoServer

    from local.aws import moto_patches
    from local.aws.stack import create

    saved_env, saved_config = dict(os.environ), copy.deepcopy(dict(default_user_config))
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto logs every request otherwise
    if moto_port:
        _ensure_free(moto_port)  # else moto's server thread dies and start() would wait forever
        os.environ["MOTO_PORT"] = str(moto_port)  # Step Functions calls back on this port
    moto = ThreadedMotoServer(ip_address=HOST, port=moto_port, verbose=False)
    moto.start()
    moto_port = moto.get_host_and_port()[1]
    os.environ["MOTO_PORT"] = str(moto_port)
    moto_url = f"http://{HOST}:{moto_port}"
    api: _ApiServer | None = None
    try:
        _configure_moto(moto_url)
        moto_patches.apply()
        isolation.apply()
        os.environ.pop("AWS_PROFILE", None)
        os.environ.update({**AWS_ENVIRONMENT, "AWS_ENDPOINT_URL": moto_url})
        _reset_caches()
        api = _ApiServer((HOST, api_port), _ApiHandler)
        url = f"http://{HOST}:{api.server_address[1]}"
        stack = create(
            endpoint_url=moto_url,
            parameters={"ConsoleBaseUrl": f"{url}/console", **(parameters or {})},
        )
        stack.functions.install_environment()
        os.environ["TOKEN_URL"] = f"{url}{tokens.TOKEN_PATH}"  # what POST /api-clients hands out
        moto_patches.route_lambda(stack.functions, s3_async=True)
        _reset_caches()
        for function in stack.functions.by_id.values():
            function.load()  # import now: no import races between request threads
    except BaseException:
        if api is not None:
            api.server_close()
        moto.stop()
        _restore(saved_env, saved_config)
        raise
    system = LocalSystem(url, moto_url, stack, Outbox(), EventLog(stack), moto, api, saved_env, saved_config)
    api.context = _ApiContext(system, Router(stack.functions), access_log)
    system.schedules = Schedules(stack)
    loops = {
        "goodwill-schedules": lambda: system.schedules.run_forever(system._stopping) if system.schedules else None,
        "goodwill-api": api.serve_forever,
        "goodwill-pump": system._pump_forever,
        "goodwill-outbox": system._watch_outbox,
    }
    for name, target in loops.items():
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        system._threads.append(thread)
    return system


def _ensure_free(port: int) -> None:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError as exc:
            raise OSError(f"{HOST}:{port} is already in use") from exc


def _configure_moto(moto_url: str) -> None:
    config = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
    requests.post(f"{moto_url}/moto-api/config", json=config, timeout=10).raise_for_status()
    # Backends are process-wide: a second start() in one process begins from nothing too.
    requests.post(f"{moto_url}/moto-api/reset", timeout=10).raise_for_status()


def _reset_caches() -> None:
    # Only what is already imported: the layer is first imported after the functions'
    # environment is installed, as in a Lambda cold start (Powertools reads it at import).
    if "goodwill.aws" in sys.modules:
        sys.modules["goodwill.aws"].reset_clients()
    if "goodwill.services.config" in sys.modules:
        sys.modules["goodwill.services.config"].clear_cache()


def _restore(env: dict[str, str], moto_config: dict[str, Any]) -> None:
    from moto.core.config import default_user_config

    os.environ.clear()
    os.environ.update(env)
    config: dict[str, Any] = default_user_config  # type: ignore[assignment]
    config.clear()
    config.update(moto_config)
    _reset_caches()


@dataclass
class _ApiContext:
    system: LocalSystem
    router: Router
    access_log: bool


class _ApiServer(ThreadingHTTPServer):
    daemon_threads = True
    # http.server listens with a backlog of 5: a burst of clients overflowed it (resets under load).
    request_queue_size = 128
    context: _ApiContext

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A browser dropping a kept-alive connection (tab or context closed) is normal: no traceback.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class _ApiHandler(BaseHTTPRequestHandler):
    """API Gateway REST API in front of the handlers; claims from the X-Goodwill-* headers."""

    protocol_version = "HTTP/1.1"
    server_version = "goodwill-local"
    # Seconds a connection may sit without sending (a request line, headers or a body half sent,
    # or idle between kept-alive requests) before it is closed: without it a client that stalls
    # holds a thread and a socket for ever. A body cut off this way is not applied.
    timeout = 60.0

    def do_request(self) -> None:
        started = time.monotonic()
        ctx = self.server.context  # type: ignore[attr-defined]
        parts = urlsplit(self.path)
        path = unquote(parts.path) or "/"
        body = self._read_body()
        if path == tokens.TOKEN_PATH:  # Cognito's /oauth2/token, for API clients
            status, headers, payload = _token_route(ctx, self.command, dict(self.headers.items()), body)
        elif path.startswith("/_local/"):
            status, headers, payload = _local_route(ctx.system, self.command, path, parts.query)
        elif console.is_console_path(path):  # the Member Care console's static files
            status, headers, payload = console.serve(self.command, path)
        elif openapi.is_docs_path(path):  # GET /openapi.json, Swagger UI at GET /docs
            with _API_LOCK:  # the document is read from the same resolvers the requests use
                functions = ctx.system.stack.functions.by_id.values()
                status, headers, payload = openapi.serve(self.command, path, parts.query, ctx.system.url, functions)
        else:
            # API Gateway's REST API hands the function the path as sent, percent-encoded.
            status, headers, payload = _api_route(ctx, self.command, parts.path or "/", parts.query, self, body)
        self._reply(status, headers, payload)
        if ctx.access_log:
            ms = (time.monotonic() - started) * 1000
            print(f"{self.command} {self.path} -> {status} ({ms:.0f} ms)", flush=True)

    def _serve(self) -> None:
        """do_request, unless the body's framing is broken: then nothing is routed (framing.py)."""
        try:
            self.do_request()
        except framing.Refused as refused:  # the rest of the request is unread: answer, then close
            self._reply(*_error(refused.status, refused.code, refused.message), close=True)
            framing.linger(self.connection)
        except framing.CutShort:  # the client stopped before its body ended: nobody to answer
            self.close_connection = True

    # HEAD is routed as itself: the local files answer it as GET without the body; the API
    # answers it as API Gateway does (no route has a HEAD method: 404, its headers only).
    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _serve

    def _read_body(self) -> bytes:
        return framing.read_body(self.headers, self.rfile)

    def _reply(self, status: int, headers: dict[str, list[str]], payload: bytes, *, close: bool = False) -> None:
        self.send_response(status)
        for name, values in headers.items():
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                for value in values:
                    self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        if close:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":  # HEAD: what GET would send, without the body
            self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # access_log prints a shorter line


def _json(status: int, body: Any) -> HttpReply:
    return status, {"Content-Type": ["application/json"]}, json.dumps(body).encode()


def _error(status: int, code: str, message: str) -> HttpReply:
    return _json(status, {"error": {"code": code, "message": message, "details": []}})


def _token_route(ctx: _ApiContext, method: str, headers: dict[str, str], body: bytes) -> HttpReply:
    if method != "POST":
        return _json(405, {"error": "invalid_request", "error_description": "POST the form"})
    idp = ctx.system.stack.client("cognito-idp")
    status, answer = tokens.token_endpoint(idp, ctx.router.user_pool_id, body, headers)
    reply = _json(status, answer)
    reply[1]["Cache-Control"] = ["no-store"]
    return reply


def _local_route(system: LocalSystem, method: str, path: str, query: str) -> HttpReply:
    if (found := re.fullmatch(r"/_local/schedules/([a-z0-9-]+)/run", path)) and system.schedules:
        return _run_schedule(system.schedules, method, found.group(1))
    if method not in ("GET", "HEAD"):
        return _error(405, "METHOD_NOT_ALLOWED", "the /_local routes are read-only")
    if path == tokens.JWKS_PATH:  # the pool's signing keys, as Cognito publishes them (this run's)
        return _json(200, tokens.jwks())
    if path == "/_local/outbox":
        params = {k: v[-1] for k, v in parse_qs(query).items()}
        return _json(200, {"items": system.outbox.items(params.get("channel"), params.get("to"))})
    if path == "/_local/events":  # every event published on the bus, newest first
        params = {k: v[-1] for k, v in parse_qs(query).items()}
        return _json(200, {"items": system.events.items(params.get("detail_type"), params.get("org_id"))})
    if path == "/_local/health":
        stack = system.stack
        return _json(
            200,
            {
                "status": "ok",
                "api_url": system.url,
                "aws_endpoint_url": system.moto_url,
                "region": REGION,
                "table": stack.ref("GoodwillTable"),
                "functions": sorted(stack.functions.by_id),
                "state_machines": sorted(resources("AWS::Serverless::StateMachine")),
                "schedules": system.schedules.names if system.schedules else [],
                "environment": stack.functions.merged_environment(),
                "routes": sorted(f"{r.method} {r.template}" for r in system._api.context.router.routes),
            },
        )
    return _error(404, "NOT_FOUND", "no such route")


def _run_schedule(schedules: Schedules, method: str, name: str) -> HttpReply:
    """POST /_local/schedules/{name}/run: run one schedule now; answers when it has finished."""
    if method != "POST":
        return _error(405, "METHOD_NOT_ALLOWED", "POST runs a schedule")
    if name not in schedules.names:
        return _error(404, "NOT_FOUND", f"no schedule {name}; schedules: {', '.join(schedules.names)}")
    return _json(200, schedules.run(name))


def _api_route(
    ctx: _ApiContext, method: str, path: str, query: str, request: BaseHTTPRequestHandler, body: bytes
) -> HttpReply:
    headers = {name: value for name, value in request.headers.items()}
    # A token (an API client's) is verified by the emulated authorizer in dispatch; the header
    # claims stand for a person signed in to the console.
    bearer = bearer_token(headers)
    claims = None if bearer is not None else claims_from_headers(headers, ctx.router.console_client_id)
    matched = ctx.router.match(method, path)
    if matched is not None and claims is None and bearer is None:
        # API Gateway refuses a caller without the Authorization header (the Lambda authorizer's
        # identity source) before any function runs.
        return _error(401, "UNAUTHORIZED", "Unauthorized")
    text = body or None  # bytes: dispatch decodes them (UTF-8 or 400) once route and caller are known
    try:
        with _API_LOCK:
            result = dispatch(ctx.router, method, path, query, headers, text, claims)
    except Exception:  # a crashed function is API Gateway's 502; the traceback goes to the log
        log.exception("function failed: %s %s", method, path)
        return _error(502, "INTERNAL_ERROR", "the function failed")
    out: dict[str, list[str]] = {k: [str(v)] for k, v in (result.get("headers") or {}).items()}
    for name, values in (result.get("multiValueHeaders") or {}).items():
        out[name] = [str(v) for v in values]
    payload = result.get("body") or ""
    if result.get("isBase64Encoded"):
        return int(result["statusCode"]), out, base64.b64decode(payload)
    return int(result["statusCode"]), out, str(payload).encode()


def banner(system: LocalSystem) -> str:
    admin = "-H 'X-Goodwill-Org: acme' -H 'X-Goodwill-Actor: alice' -H 'X-Goodwill-Roles: admin'"
    body = """'{"name": "Ada Lovelace", "phone": "+15555550101"}'"""
    return "\n".join(
        [
            f"Goodwill is running locally: API {system.url}  AWS (moto) {system.moto_url}",
            f"  curl -s -X PUT {system.url}/customers/c-1 \\",
            f"       {admin} \\",
            f"       -H 'Content-Type: application/json' -d {body}",
            f"  curl -s {system.url}/customers/c-1 {admin}",
            f"  curl -s {system.url}/_local/outbox    # every SMS, e-mail and push sent",
            "Claims come from X-Goodwill-Org, -Actor, -Roles (agent,approver,admin), -Email.",
            f"OpenAPI: {system.url}/openapi.json   Swagger UI: {system.url}/docs",
            f"Member Care console: {system.url}/console/  (sign in as any organisation, user and roles)",
            "Ctrl-C stops.",
        ]
    )


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("botocore").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    api_port = int(os.environ.get("GOODWILL_API_PORT", "3000"))
    moto_port = int(os.environ.get("GOODWILL_MOTO_PORT", "5000"))
    print(f"Starting Goodwill locally (moto on {HOST}:{moto_port}) ...", flush=True)
    started = time.monotonic()
    try:
        system = start(api_port, moto_port, access_log=True)
    except OSError as exc:
        print(f"cannot start: {exc} (set GOODWILL_API_PORT / GOODWILL_MOTO_PORT)", file=sys.stderr)
        return 1
    print(f"ready in {time.monotonic() - started:.1f} s", flush=True)
    print(banner(system), flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        stopping.wait()
    print("stopping ...", flush=True)
    system.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

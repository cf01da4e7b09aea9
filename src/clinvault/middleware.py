"""The request pipeline as one pure-ASGI middleware.

For every HTTP request: a request id, a bound context, a body-size limit,
security headers, and exactly one audit event. Writes record their event in
their own transaction (see deps.py); everything else — reads that failed,
denials, unauthenticated or unrouted requests — is recorded here, through the
audit group commit, after the response status is known.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterable

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clinvault import context
from clinvault.bootstrap import Container
from clinvault.errors import BodyTooLarge

log = structlog.get_logger(__name__)

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
UNAUDITED_PREFIXES = ("/healthz", "/readyz", "/static/", "/favicon.ico")
# Paths that answer in problem+json; the others are portal pages.
NON_PAGE_PREFIXES = ("/api/", "/fhir/", "/static/", "/healthz", "/readyz")

API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
PORTAL_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
DOCS_CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: "
    "https://fastapi.tiangolo.com; connect-src 'self'; frame-ancestors 'none'"
)


def _security_headers(path: str, https: bool) -> list[tuple[bytes, bytes]]:
    if path.startswith("/api/docs") or path.startswith("/api/redoc"):
        csp = DOCS_CSP
    elif path.startswith(("/api/", "/fhir/")):
        csp = API_CSP
    else:
        csp = PORTAL_CSP
    headers = [
        (b"content-security-policy", csp.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"no-referrer"),
        (b"cross-origin-opener-policy", b"same-origin"),
        (b"cross-origin-resource-policy", b"same-origin"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
    ]
    if not path.startswith("/static/"):
        headers.append((b"cache-control", b"no-store"))
    if https:
        headers.append((b"strict-transport-security", b"max-age=63072000; includeSubDomains"))
    return headers


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def client_ip(scope: Scope, trusted_hops: int) -> str | None:
    forwarded = _header(scope, b"x-forwarded-for")
    if trusted_hops and forwarded:
        hops = [part.strip() for part in forwarded.split(",") if part.strip()]
        if len(hops) >= trusted_hops:
            return hops[-trusted_hops][:64]
    client = scope.get("client")
    return str(client[0])[:64] if client else None


def _problem(status: int, code: str, title: str, detail: str, request_id: str, path: str) -> bytes:
    return json.dumps(
        {
            "type": f"https://clinvault.dev/problems/{code.replace('_', '-')}",
            "title": title,
            "status": status,
            "code": code,
            "detail": detail,
            "instance": path,
            "request_id": request_id,
        }
    ).encode()


class RequestPipeline:
    def __init__(
        self,
        app: ASGIApp,
        container: Container,
        *,
        body_limit_overrides: Iterable[tuple[str | re.Pattern[str], int]] = (),
    ) -> None:
        self.app = app
        self.container = container
        self.body_limit = container.settings.security.max_json_body_bytes
        self.body_limit_overrides = tuple(body_limit_overrides)
        self.https = container.settings.public_url.startswith("https://")

    def _limit_for(self, path: str) -> int:
        """The body limit of `path`: a route given as a pattern must match it whole."""
        for route, limit in self.body_limit_overrides:
            if isinstance(route, re.Pattern):
                if route.fullmatch(path):
                    return limit
            elif path.startswith(route):
                return limit
        return self.body_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        incoming_id = _header(scope, b"x-request-id")
        request_id = (
            incoming_id if incoming_id and _REQUEST_ID.match(incoming_id) else secrets.token_hex(12)
        )
        ctx = context.RequestContext(
            request_id=request_id,
            method=scope["method"],
            path=path,
            client_ip=client_ip(scope, self.container.settings.trusted_proxy_hops),
            user_agent=_header(scope, b"user-agent"),
        )
        token = context.bind(ctx)
        structlog.contextvars.bind_contextvars(request_id=request_id)
        status_holder = [500]
        started = [False]
        extra_headers = [
            (b"x-request-id", request_id.encode()),
            *_security_headers(path, self.https),
        ]

        limit = self._limit_for(path)
        received = [0]
        overflowed = [False]
        too_large = f"The body exceeds {limit} bytes: send a smaller request."

        async def send_wrapper(message: Message) -> None:
            if overflowed[0] and not started[0]:
                # Whatever the app made of a cut-off body (frameworks wrap the
                # reader's error in a 400), the client's problem is its size.
                started[0] = True
                status_holder[0] = 413
                await self._reply(
                    send, 413, "body_too_large", "The request body is too large", too_large, ctx
                )
                return
            if overflowed[0]:
                return
            if message["type"] == "http.response.start":
                started[0] = True
                status_holder[0] = message["status"]
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"
                ]
                existing = {k.lower() for k, _ in headers}
                headers.extend(h for h in extra_headers if h[0] not in existing)
                message = {**message, "headers": headers}
            await send(message)

        async def receive_limited() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                received[0] += len(message.get("body", b""))
                if received[0] > limit:
                    overflowed[0] = True
                    raise BodyTooLarge(too_large)
            return message

        try:
            declared = _header(scope, b"content-length")
            if declared is not None and declared.isdigit() and int(declared) > limit:
                if not path.startswith(NON_PAGE_PREFIXES):
                    # A portal page: its route runs (the reader's menu, the form it came
                    # from) and the first read of the body raises, never reading it.
                    await self.app(scope, self._refuse_body(too_large), send_wrapper)
                    return
                await self._reply(
                    send_wrapper,
                    413,
                    "body_too_large",
                    "The request body is too large",
                    too_large,
                    ctx,
                )
            else:
                await self.app(scope, receive_limited, send_wrapper)
        except BodyTooLarge:
            overflowed[0] = True
            if not started[0]:
                await send_wrapper({"type": "http.response.start", "status": 413})
        except Exception:
            log.exception("http.unhandled_error", path=path)
            if not started[0]:
                await self._reply(
                    send_wrapper,
                    500,
                    "internal_error",
                    "Internal error",
                    "The server failed to handle the request; it was logged. Try again later.",
                    ctx,
                )
            status_holder[0] = 500
        finally:
            route = scope.get("route")
            if ctx.action is None:
                ctx.action = getattr(route, "name", None) or "http.unrouted"
            try:
                if not ctx.audit_recorded and not path.startswith(UNAUDITED_PREFIXES):
                    await self._record(ctx, status_holder[0])
            finally:
                structlog.contextvars.unbind_contextvars("request_id")
                context.reset(token)

    @staticmethod
    def _refuse_body(too_large: str) -> Receive:
        async def refuse() -> Message:
            raise BodyTooLarge(too_large)

        return refuse

    async def _reply(
        self,
        send: Send,
        status: int,
        code: str,
        title: str,
        detail: str,
        ctx: context.RequestContext,
    ) -> None:
        body = _problem(status, code, title, detail, ctx.request_id, ctx.path)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def _record(self, ctx: context.RequestContext, status: int) -> None:
        try:
            await self.container.audit_log.write(self.container.audit.values(ctx, status))
            ctx.audit_recorded = True
        except Exception:
            # The response is gone already; losing the event must be loud.
            log.exception("audit.event.lost", request_id=ctx.request_id, action=ctx.action)

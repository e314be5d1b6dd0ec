"""The outermost layer of every request: who the client is, how often it may call, which headers
every response carries.

* Client address: uvicorn runs without proxy headers (``kefu.supervisor``); ``X-Forwarded-For``
  is believed only from the addresses in ``KEFU_TRUSTED_PROXIES`` (a made-up header from anyone
  else changes nothing), and then the nearest untrusted hop is the client.
* Per-IP request rate on ``/api/`` and ``/ws/`` (429 with ``Retry-After``). Channel webhooks are
  not counted here: they come from the platforms' few addresses and are authenticated.
* Security headers on every HTTP response (a route may set a stricter or a framing-specific CSP).
"""

from __future__ import annotations

import ipaddress
import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.errors import error_body
from gateway.limits import RateLimiter, retry_after

PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; "
    "object-src 'none'"
)
# The interactive API docs (off unless KEFU_API_DOCS) load their scripts from a CDN.
DOCS_PATHS = ("/docs", "/redoc")
LIMITED_PREFIXES = ("/api/", "/ws/")


def parse_networks(entries: list[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(e.strip(), strict=False) for e in entries if e.strip()]


def _trusted(host: str, networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in net for net in networks)


def client_host(
    peer: str, forwarded_for: str | None, networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]
) -> str:
    """The client's address: the peer, unless the peer is a trusted proxy that says who it serves."""
    if not networks or not forwarded_for or not _trusted(peer, networks):
        return peer
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, networks):
            return hop[:64]
    return hops[0][:64] if hops else peer


class Edge:
    def __init__(
        self,
        app: ASGIApp,
        *,
        trusted_proxies: list[str],
        requests_per_ip: RateLimiter,
    ) -> None:
        self.app = app
        self.networks = parse_networks(trusted_proxies)
        self.requests_per_ip = requests_per_ip

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        peer = (scope.get("client") or ("unknown", 0))[0]
        if self.networks:
            forwarded = None
            for name, value in scope.get("headers") or []:
                if name == b"x-forwarded-for":
                    forwarded = value.decode("latin-1")
            host = client_host(peer, forwarded, self.networks)
            if host != peer:
                scope = dict(scope, client=(host, 0))
            peer = host
        path: str = scope.get("path", "")
        if path.startswith(LIMITED_PREFIXES):
            wait = self.requests_per_ip.hit(f"ip:{peer}")
            if wait > 0:
                await _refuse(scope, receive, send, wait)
                return
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        docs = path.startswith(DOCS_PATHS)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                names = {name.lower() for name, _ in headers}
                csp = next((v for n, v in headers if n.lower() == b"content-security-policy"), b"")
                add = [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                ]
                if not docs:
                    add.append((b"content-security-policy", PAGE_CSP.encode()))
                # A route that lets allowed sites frame it (the widget) says so in frame-ancestors.
                if b"frame-ancestors" not in csp or b"frame-ancestors 'none'" in csp:
                    add.append((b"x-frame-options", b"DENY"))
                headers.extend((n, v) for n, v in add if n not in names)
                message = dict(message, headers=headers)
            await send(message)

        await self.app(scope, receive, with_headers)


async def _refuse(scope: Scope, receive: Receive, send: Send, wait: float) -> None:
    if scope["type"] == "websocket":
        await receive()  # websocket.connect
        await send({"type": "websocket.close", "code": 1013, "reason": "rate limited"})
        return
    body = json.dumps(
        error_body("rate_limited", "请求过于频繁，请稍后再试", "Too many requests; try again later"),
        ensure_ascii=False,
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", retry_after(wait).encode()),
                (b"x-content-type-options", b"nosniff"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})

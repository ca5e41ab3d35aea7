"""The Host-header check that keeps a local server out of reach of DNS rebinding.

A page on evil.example can re-point its own name at 127.0.0.1 and then talk to a local server as
if it were same-origin; its requests still carry `Host: evil.example`, so answering only requests
whose Host is one of the names the server is bound to shuts that door.
"""

from __future__ import annotations

import json

LOCAL_NAMES = ("127.0.0.1", "localhost", "::1")


def allowed_host_names(bind_host: str) -> frozenset[str]:
    """The Host names (without port) a server bound to `bind_host` answers: loopback names plus that host."""
    return frozenset({*LOCAL_NAMES, bind_host.strip("[]").lower()})


def host_name(header: str | None) -> str | None:
    """"127.0.0.1:8765" -> "127.0.0.1", "[::1]:8765" -> "::1", "" or None -> None."""
    if not header:
        return None
    header = header.strip().lower()
    if header.startswith("["):
        end = header.find("]")
        return header[1:end] if end > 0 else None
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


class HostCheck:
    """ASGI middleware: a request whose Host header is not an allowed name gets a JSON 403."""

    def __init__(self, app, allowed: frozenset[str]):
        self.app = app
        self.allowed = allowed

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        name = host_name(headers.get(b"host", b"").decode("latin-1"))
        if name in self.allowed:
            return await self.app(scope, receive, send)
        body = json.dumps({"error": "This server only answers requests addressed to "
                                    f"{', '.join(sorted(self.allowed))}; open it by one of those names."}).encode()
        await send({"type": "http.response.start", "status": 403,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

"""The ASGI types and the one response class the app and its routes share."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class Response:
    """A complete HTTP response."""

    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.body = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        self.headers = {"content-type": "application/json", **(headers or {})}

    async def send(self, send: Send) -> None:
        """Write it to the ASGI channel."""
        await send({"type": "http.response.start", "status": self.status,
                    "headers": [(k.encode(), v.encode()) for k, v in
                                {**self.headers, "content-length": str(len(self.body))}.items()]})
        await send({"type": "http.response.body", "body": self.body})

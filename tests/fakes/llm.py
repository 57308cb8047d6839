"""A stateful fake of an OpenAI-compatible chat-completions server, plugged in at the HTTP transport.

Payloads follow the OpenAI `POST /chat/completions` response shape. Each request takes the next
scripted behaviour (an answer object, raw content, an HTTP status, a timeout, a garbage body); when
the script runs out the last behaviour repeats. Unknown routes are refused loudly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class Behaviour:
    """What the fake does for one request."""

    kind: str  # "answer" | "content" | "status" | "timeout" | "garbage"
    value: Any = None
    headers: dict[str, str] = field(default_factory=dict)


def answer(**fields: Any) -> Behaviour:
    """Reply with this JSON object as the message content."""
    return Behaviour("answer", fields)


def content(text: str) -> Behaviour:
    """Reply with this raw message content."""
    return Behaviour("content", text)


def status(code: int, headers: dict[str, str] | None = None, message: str | None = None) -> Behaviour:
    """Reply with an HTTP error status (and the server's own ``message``, say one echoing the key)."""
    return Behaviour("status", (code, message) if message else code, headers or {})


TIMEOUT = Behaviour("timeout")
GARBAGE = Behaviour("garbage")


class FakeLLM:
    """An OpenAI-compatible server in memory: records requests, follows a script."""

    def __init__(self, *script: Behaviour, base_path: str = "/api/v1") -> None:
        self.script = list(script) or [answer(category="how_to", severity="P3", summary="s",
                                              suggested_reply="r", confidence=0.9)]
        self.base_path = base_path.rstrip("/")
        self.models = ["openai/gpt-4o-mini", "anthropic/claude-3.5-haiku", "meta-llama/llama-3.1-8b-instruct"]
        self.requests: list[dict[str, Any]] = []
        self.headers: list[httpx.Headers] = []
        self.unknown: list[str] = []

    def transport(self) -> httpx.MockTransport:
        """The transport to build an ``httpx.AsyncClient`` on."""
        return httpx.MockTransport(self.handle)

    def client(self) -> httpx.AsyncClient:
        """An ``httpx.AsyncClient`` that talks to this fake."""
        return httpx.AsyncClient(transport=self.transport())

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Route one request."""
        if request.method == "GET" and request.url.path == f"{self.base_path}/models":
            if request.headers.get("authorization") == "Bearer revoked":
                return httpx.Response(401, json={"error": {"message": "No auth credentials found", "code": 401}})
            return httpx.Response(200, json={"object": "list", "data": [
                {"id": model, "object": "model", "created": 1_700_000_000, "owned_by": model.split("/")[0]}
                for model in self.models]})
        if request.method != "POST" or request.url.path != f"{self.base_path}/chat/completions":
            self.unknown.append(f"{request.method} {request.url.path}")
            return httpx.Response(404, json={"error": {"message": f"fake: no route {request.url.path}"}})
        body = json.loads(request.content)
        self.requests.append(body)
        self.headers.append(request.headers)
        behaviour = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if behaviour.kind == "timeout":
            raise httpx.ReadTimeout("fake timeout", request=request)
        if behaviour.kind == "status":
            code, message = behaviour.value if isinstance(behaviour.value, tuple) else (behaviour.value, None)
            return httpx.Response(code, headers=behaviour.headers,
                                  json={"error": {"message": message or f"fake error {code}"}})
        if behaviour.kind == "garbage":
            return httpx.Response(200, content=b"<html>gateway</html>", headers={"content-type": "text/html"})
        text = json.dumps(behaviour.value) if behaviour.kind == "answer" else behaviour.value
        return httpx.Response(200, json={
            "id": f"chatcmpl-{len(self.requests)}", "object": "chat.completion", "created": 1_700_000_000,
            "model": body.get("model", "fake"),
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": text}}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
        })

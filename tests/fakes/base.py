"""What every stateful vendor fake shares: routing, a request log, fault injection, loopback serving.

A fake is an in-memory vendor: subclasses hold the objects (tickets, pages, messages) and register
handlers on (method, path pattern). Requests are recorded; an unknown route is refused loudly
(``unknown`` is non-empty and the answer is a 404 naming it). Faults are injected in one line:

    fake.fail(429, headers={"Retry-After": "0"})       # the next request gets a 429
    fake.fail(503, times=2, on="POST /api/v2/tickets")  # the next two matching requests
    fake.timeout(); fake.garbage()

When a contract is attached, every request body is validated against the vendor's spec before
the handler runs; a violation is recorded in ``violations`` and answered with a 400, so an adapter
that sends a misspelt field fails its test.

``serve(fake)`` runs the same fake over real loopback HTTP (a threaded stdlib server), so the
adapters' base-URL overrides and real sockets are exercised too.

A fake can enforce its vendor's documented rate limits (``fake.limiter``, see ``tests/fakes/limits.py``):
a request over a limit gets the vendor's 429 with Retry-After. Served on loopback, ``fake.latency``
(seconds, drawn per request) delays each answer like a real network and server would.

``fake.float_ids = True`` answers every id as a JSON float (``106.0``), the way JSON bridges such
as a tool layer return numbers (see :func:`floated`).
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

import httpx

Handler = Callable[[httpx.Request, "re.Match[str]"], httpx.Response]


class Limiter(Protocol):
    """Decides whether a request is over a rate limit (see tests/fakes/limits.py)."""

    def check(self, request: httpx.Request) -> float | None:
        """None when admitted (and counted), else the vendor seconds until it would be."""

    def retry_after(self, wait: float) -> str:
        """The Retry-After header value for a wait."""


class Contract(Protocol):
    """Validates one request (see tests/contract.py)."""

    def check(self, request: httpx.Request) -> None:
        """Raise AssertionError when the request does not match the spec."""


@dataclass
class Fault:
    """One injected failure."""

    kind: str  # "status" | "timeout" | "garbage"
    status: int = 500
    headers: dict[str, str] | None = None
    body: Any = None
    times: int = 1
    on: str | None = None  # "METHOD path-regex"

    def matches(self, request: httpx.Request) -> bool:
        if self.on is None:
            return True
        method, _, pattern = self.on.partition(" ")
        return request.method == method and re.search(pattern, request.url.path) is not None


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    """A JSON response."""
    return httpx.Response(status, json=body, headers=headers)


# Digit strings a bridge would read as numbers; a leading zero (a hex id such as 00000000001b59) stays text.
NUMERIC_TEXT = re.compile(r"[1-9][0-9]{0,14}")


def _is_id_key(key: object) -> bool:
    return isinstance(key, str) and (key == "id" or key.endswith(("_id", "_ids")))


def _float_id(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, str) and NUMERIC_TEXT.fullmatch(value):
        return float(value)
    if isinstance(value, list):
        return [_float_id(v) for v in value]
    return value


def floated(body: Any) -> Any:
    """``body`` with every id (``id``, ``*_id``, ``*_ids``) that is a number or a digit string as a float."""
    if isinstance(body, dict):
        return {k: _float_id(v) if _is_id_key(k) and not isinstance(v, dict) else floated(v) for k, v in body.items()}
    if isinstance(body, list):
        return [floated(item) for item in body]
    return body


def body_of(request: httpx.Request) -> Any:
    """The request's JSON (or form) body, or None."""
    raw = request.content
    if not raw:
        return None
    kind = request.headers.get("content-type", "")
    if kind.startswith("application/x-www-form-urlencoded"):
        return dict(httpx.QueryParams(raw.decode()))
    return json.loads(raw)


class FakeAPI:
    """Base of the vendor fakes."""

    service = "fake"

    def __init__(self, contract: Contract | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.unknown: list[str] = []
        self.violations: list[str] = []
        self.contract = contract
        self._faults: list[Fault] = []
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._lock = threading.RLock()
        self.limiter: Limiter | None = None  # enforces rate limits when set
        self.latency: Callable[[], float] | None = None  # loopback only: seconds before each answer
        self.float_ids = False  # every id in an answer as a JSON float (106.0), as JSON bridges return them

    # -- wiring -------------------------------------------------------------------------------
    def route(self, method: str, pattern: str, handler: Handler) -> None:
        """Serve ``method`` on paths fully matching ``pattern``."""
        self._routes.append((method, re.compile(pattern), handler))

    def transport(self) -> httpx.MockTransport:
        """An httpx transport that answers from this fake."""
        return httpx.MockTransport(self.handle)

    def client(self, **kwargs: Any) -> httpx.AsyncClient:
        """An ``httpx.AsyncClient`` whose requests reach this fake."""
        return httpx.AsyncClient(transport=self.transport(), **kwargs)

    # -- faults -------------------------------------------------------------------------------
    def fail(self, status: int, *, times: int = 1, headers: dict[str, str] | None = None, body: Any = None,
             on: str | None = None) -> None:
        """The next ``times`` (matching) requests get ``status``."""
        self._faults.append(Fault("status", status, headers, body, times, on))

    def timeout(self, *, times: int = 1, on: str | None = None) -> None:
        """The next ``times`` (matching) requests time out."""
        self._faults.append(Fault("timeout", times=times, on=on))

    def garbage(self, *, times: int = 1, on: str | None = None) -> None:
        """The next ``times`` (matching) requests get an HTML page instead of JSON."""
        self._faults.append(Fault("garbage", times=times, on=on))

    def _fault_for(self, request: httpx.Request) -> Fault | None:
        for fault in self._faults:
            if fault.matches(request):
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    # -- handling -----------------------------------------------------------------------------
    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one request: faults first, then the contract, then the route."""
        with self._lock:
            request.read()
            self.requests.append(request)
            if self.limiter is not None:
                wait = self.limiter.check(request)
                if wait is not None:
                    return self.error(429, None, {"Retry-After": self.limiter.retry_after(wait)})
            fault = self._fault_for(request)
            if fault is not None:
                if fault.kind == "timeout":
                    raise httpx.ReadTimeout("fake timeout", request=request)
                if fault.kind == "garbage":
                    return httpx.Response(200, content=b"<html><body>Bad gateway</body></html>",
                                          headers={"content-type": "text/html"})
                return self.error(fault.status, fault.body, fault.headers or {})
            if self.contract is not None:
                try:
                    self.contract.check(request)
                except AssertionError as violation:
                    self.violations.append(str(violation))
                    return self.error(400, {"error": f"contract violation: {violation}"}, {})
            for method, pattern, handler in self._routes:
                match = pattern.fullmatch(request.url.path)
                if match is not None and method == request.method:
                    return self._shaped(handler(request, match))
            self.unknown.append(f"{request.method} {request.url.path}")
            return self.error(404, {"error": f"fake {self.service}: no route {request.method} {request.url.path}"},
                              {})

    def _shaped(self, response: httpx.Response) -> httpx.Response:
        """The answer as sent, or with its ids as floats when ``float_ids`` is on."""
        if not self.float_ids or "json" not in response.headers.get("content-type", ""):
            return response
        return httpx.Response(response.status_code, headers={k: v for k, v in response.headers.items()
                                                             if k.lower() != "content-length"},
                              json=floated(json.loads(response.read())))

    def error(self, status: int, body: Any, headers: dict[str, str]) -> httpx.Response:
        """The vendor-shaped error body for an injected or natural failure (subclasses refine it)."""
        return json_response(status, body if body is not None else {"error": f"fake error {status}"}, headers)

    def sent(self, method: str, pattern: str) -> list[httpx.Request]:
        """Recorded requests for ``method`` on paths matching ``pattern``."""
        return [r for r in self.requests if r.method == method and re.fullmatch(pattern, r.url.path)]


# -- loopback ----------------------------------------------------------------------------------
class _LoopbackHandler(BaseHTTPRequestHandler):
    fake: FakeAPI
    stall_seconds: float = 2.0
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without TCP_NODELAY each answer waits ~40 ms for an ACK.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def _serve(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        url = f"http://{self.headers.get('host', 'localhost')}{self.path}"
        request = httpx.Request(self.command, url, headers=list(self.headers.items()), content=body)
        if self.fake.latency is not None:
            time.sleep(max(0.0, self.fake.latency()))  # the network and the vendor's own work, off the fake's lock
        try:
            response = self.fake.handle(request)
        except httpx.TimeoutException:
            time.sleep(self.stall_seconds)
            self.close_connection = True
            return
        content = response.read()
        self.send_response(response.status_code)
        for name, value in response.headers.items():
            if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve


@contextlib.contextmanager
def serve(fake: FakeAPI, *, stall_seconds: float = 2.0) -> Iterator[str]:
    """Serve ``fake`` on a loopback port; yields its base URL (``http://127.0.0.1:PORT``)."""
    handler = type("Handler", (_LoopbackHandler,), {"fake": fake, "stall_seconds": stall_seconds})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    # A short poll interval makes shutdown take milliseconds instead of half a second per test.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

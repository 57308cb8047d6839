"""One vendor HTTP API as adapters see it: base URL, credentials, bounded retries, errors with data.

Every remote adapter talks through a :class:`VendorAPI` built on an ``httpx.AsyncClient`` it was
given (tests plug a fake in at the transport). What is shared here and nowhere else:

- retries are declarative (stamina): a 429 waits exactly its ``Retry-After``; 5xx, timeouts and
  refused connections back off exponentially with jitter; both are bounded in attempts and time,
  and instant under ``stamina.set_testing``;
- a 401 asks the credentials provider for a fresh token once (an OAuth token that expired
  mid-run is refreshed, not fatal), then becomes :class:`AuthError`;
- statuses become the error tree with the vendor's own words and a hint saying what to do.

Vendor-specific meaning (Slack's ``ok: false``, GraphQL ``errors``) stays in the adapters.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx
import stamina

from frontline.errors import AuthError, ConnectorError, NotFoundError, RateLimitedError, UnavailableError

# A 429 asking for longer than this is not waited out inside one call: the caller decides.
MAX_RETRY_AFTER = 120.0
DEFAULT_ATTEMPTS = 5
DEFAULT_RETRY_TIMEOUT = 300.0


class Budget(Protocol):
    """A rate budget consulted before every request (token buckets arrive with the runner)."""

    async def acquire(self, request: httpx.Request) -> None:
        """Wait until the request fits the vendor's limits."""

    def penalise(self, retry_after: float) -> None:
        """The vendor answered 429: nobody sharing this budget sends before ``retry_after``."""


AuthHeaders = Callable[[bool], Awaitable[Mapping[str, str]]]
"""Returns the auth headers; called with True after a 401 to ask for a refreshed token."""

Hint = Callable[[int, str], str]
"""Turns (status, vendor's message) into what the user should do next."""


def retry_after_seconds(response: httpx.Response, default: float = 1.0) -> float:
    """Seconds to wait from ``Retry-After`` (delta-seconds or HTTP date) or vendor reset headers."""
    value = response.headers.get("retry-after")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            parsed = email.utils.parsedate_to_datetime(value) if value.strip() else None
            if parsed is not None:
                if parsed.tzinfo is None:
                    parsed = parsed.replace(tzinfo=UTC)
                return max(0.0, (parsed - datetime.now(UTC)).total_seconds())
    reset = response.headers.get("x-ratelimit-reset") or response.headers.get("x-rate-limit-reset")
    if reset:
        try:
            stamp = float(reset)
        except ValueError:
            return default
        # Epoch seconds (Intercom) or milliseconds (Linear), else already a delta.
        if stamp > 1e12:
            stamp /= 1000.0
        return max(0.0, stamp - time.time()) if stamp > 1e9 else max(0.0, stamp)
    return default


def vendor_message(response: httpx.Response) -> str:
    """The vendor's own explanation from an error body, in one short line."""
    try:
        body = response.json()
    except ValueError:
        text = " ".join(response.text.split())
        return text[:200] if text and not text.lstrip().startswith("<") else ""
    return _message_in(body)[:200]


def _message_in(body: Any) -> str:
    if isinstance(body, str):
        return body
    if isinstance(body, list):
        return "; ".join(m for m in (_message_in(item) for item in body[:3]) if m)
    if not isinstance(body, dict):
        return ""
    for key in ("description", "message", "error_description", "detail", "details", "error", "errors"):
        value = body.get(key)
        if value:
            found = _message_in(value)
            if found:
                return found
    return ""


def _retry_on(error: Exception) -> bool | float:
    """stamina hook: how long to wait before the next attempt, or False to give up."""
    if isinstance(error, RateLimitedError):
        return error.retry_after if error.retry_after <= MAX_RETRY_AFTER else False
    return isinstance(error, UnavailableError)


class VendorAPI:
    """A vendor's HTTP API on a shared ``httpx.AsyncClient``."""

    def __init__(
        self,
        service: str,
        http: httpx.AsyncClient,
        base_url: str,
        *,
        auth: AuthHeaders | None = None,
        headers: Mapping[str, str] | None = None,
        hint: Hint | None = None,
        budget: Budget | None = None,
        attempts: int = DEFAULT_ATTEMPTS,
        retry_timeout: float = DEFAULT_RETRY_TIMEOUT,
        timeout: float | None = None,
    ) -> None:
        self.service = service
        self.http = http
        self.base_url = base_url.rstrip("/")
        self._auth = auth
        self._headers = dict(headers or {})
        self._hint = hint or (lambda status, message: "")
        self.budget = budget
        self._attempts = attempts
        self._retry_timeout = retry_timeout
        self._timeout = timeout
        self.calls = 0
        self.rate_limited = 0

    def url(self, path: str) -> str:
        """An absolute URL for ``path`` (absolute URLs, e.g. pagination links, pass through)."""
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    async def request(self, method: str, path: str, *, json: Any = None, params: Mapping[str, Any] | None = None,
                      data: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None
                      ) -> httpx.Response:
        """Send with retries; a 2xx response, or an error from the tree with the vendor's words."""
        refreshed = False
        async for attempt in stamina.retry_context(on=_retry_on, attempts=self._attempts,
                                                   timeout=self._retry_timeout):
            with attempt:
                try:
                    return await self._send(method, path, json=json, params=params, data=data, headers=headers,
                                            refresh=False)
                except AuthError:
                    if refreshed or self._auth is None:
                        raise
                    refreshed = True
                    # An expired OAuth token: ask the provider for a fresh one and try once more.
                    return await self._send(method, path, json=json, params=params, data=data, headers=headers,
                                            refresh=True)
        raise AssertionError("unreachable")  # pragma: no cover - stamina re-raises the last error

    async def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """:meth:`request` and the parsed JSON body (UnavailableError when it is not JSON)."""
        response = await self.request(method, path, **kwargs)
        if not response.content:
            return {}
        try:
            return response.json()
        except ValueError:
            raise UnavailableError(self.service, f"answered {method} {path} with something that is not JSON",
                                   status=response.status_code,
                                   hint="Check the base URL: a proxy or login page may be in the way") from None

    async def _send(self, method: str, path: str, *, json: Any, params: Mapping[str, Any] | None,
                    data: Mapping[str, Any] | None, headers: Mapping[str, str] | None, refresh: bool
                    ) -> httpx.Response:
        merged = dict(self._headers)
        if self._auth is not None:
            merged.update(await self._auth(refresh))
        merged.update(headers or {})
        request = self.http.build_request(method, self.url(path), json=json, params=params, data=data,
                                          headers=merged, timeout=self._timeout or httpx.USE_CLIENT_DEFAULT)
        if self.budget is not None:
            await self.budget.acquire(request)
        self.calls += 1
        try:
            response = await self.http.send(request)
        except httpx.TimeoutException:
            raise UnavailableError(self.service, f"{method} {self._where(path)} timed out",
                                   hint="The service is slow or unreachable; the run retries it later") from None
        except httpx.TransportError as error:
            raise UnavailableError(self.service, f"cannot reach {self.base_url} ({type(error).__name__})",
                                   hint="Check the base URL and the network") from None
        if response.is_success:
            return response
        raise self.error_for(response, method, path)

    def _where(self, path: str) -> str:
        return path.split("?", 1)[0] if not path.startswith("http") else httpx.URL(path).path

    def error_for(self, response: httpx.Response, method: str, path: str) -> ConnectorError:
        """The error a non-2xx response stands for, with the vendor's message and a hint."""
        status = response.status_code
        message = vendor_message(response)
        hint = self._hint(status, message)
        where = f"{method} {self._where(path)}"
        said = f": {message}" if message else ""
        if status == 429:
            self.rate_limited += 1
            wait = retry_after_seconds(response)
            if self.budget is not None:
                self.budget.penalise(wait)
            return RateLimitedError(self.service, wait, f"rate limited on {where}{said}")
        if status in (401, 403):
            default = "the token was rejected" if status == 401 else "the token lacks a permission"
            return AuthError(self.service, f"{default} on {where}{said}", status=status,
                             hint=hint or "Check the credentials, then run `frontline doctor`")
        if status == 404:
            return NotFoundError(self.service, f"{where} was not found{said}", status=status,
                                 hint=hint or "Check the base URL and the id")
        if status >= 500 or status == 408:
            return UnavailableError(self.service, f"server error on {where}{said}", status=status,
                                    hint=hint or "The service is having trouble; the run retries it later")
        return ConnectorError(self.service, f"refused {where}{said}", status=status, hint=hint)

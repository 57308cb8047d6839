"""Linear's GraphQL API on the shared HTTP layer: one POST per operation, GraphQL ``errors`` as the error tree.

Linear answers most failures with GraphQL ``errors`` rather than an HTTP status alone: a revoked key,
a rate limit or a refused input may come back as a 400 *or* a 200 whose body carries
``{"errors": [{"message", "extensions": {"type", "code", "userPresentableMessage"}}]}``. Both are
read the same way here:

- ``AUTHENTICATION_ERROR`` (type ``authentication error``) becomes :class:`AuthError` (401) saying
  where the key comes from; ``FORBIDDEN`` an :class:`AuthError` (403) about access to the team;
- ``RATELIMITED`` becomes :class:`RateLimitedError`, waiting until the exhausted budget's reset
  (``X-RateLimit-Requests-Reset``, ``X-RateLimit-Complexity-Reset`` or the endpoint's own, all UTC
  epoch milliseconds) unless a ``Retry-After`` says otherwise;
- internal errors and lock timeouts become :class:`UnavailableError` (retried on reads);
- anything else (invalid input, an unknown entity) is a :class:`ConnectorError` with Linear's words.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any

import httpx
import stamina

from frontline.connectors.http import MAX_RETRY_AFTER, AuthHeaders, Budget, VendorAPI, retry_after_seconds
from frontline.errors import AuthError, ConnectorError, RateLimitedError, UnavailableError

SERVICE = "Linear"
DEFAULT_ENDPOINT = "https://api.linear.app/graphql"
READ_ATTEMPTS = 5
RETRY_TIMEOUT = 300.0
KEY_HELP = ("Create a personal API key in Linear (Settings → Security & access → Personal API keys) and set "
            "LINEAR_API_KEY to it as is (lin_api_…, no 'Bearer'), or put an OAuth access token in "
            "LINEAR_OAUTH_TOKEN; then run `frontline doctor`")
AUTH_CODES = {"AUTHENTICATION_ERROR", "UNAUTHENTICATED", "INVALID_TOKEN"}
AUTH_TYPES = {"authentication error"}
FORBIDDEN_CODES = {"FORBIDDEN"}
FORBIDDEN_TYPES = {"forbidden", "feature not accessible"}
RATE_CODES = {"RATELIMITED", "RATE_LIMITED"}
RATE_TYPES = {"ratelimited"}
DOWN_CODES = {"INTERNAL_SERVER_ERROR", "LOCK_TIMEOUT"}
DOWN_TYPES = {"internal error", "lock timeout", "network error", "bootstrap error"}
# The budgets Linear reports, each with -Remaining and -Reset (epoch milliseconds).
BUDGETS = ("x-ratelimit-requests", "x-ratelimit-complexity", "x-ratelimit-endpoint-requests")
# What the operation in flight is for ("create an issue in ENG"), so every error can say it.
_WHAT: ContextVar[str] = ContextVar("linear_operation", default="answer")


def linear_retry_after(headers: httpx.Headers, default: float = 1.0) -> float:
    """Seconds to wait after a rate limit: Retry-After, else until the exhausted budget resets."""
    if headers.get("retry-after"):
        return retry_after_seconds(httpx.Response(429, headers={"retry-after": headers["retry-after"]}), default)
    now = time.time()
    exhausted: list[float] = []
    resets: list[float] = []
    for budget in BUDGETS:
        try:
            reset = float(headers.get(f"{budget}-reset", ""))
        except ValueError:
            continue
        wait = max(0.0, (reset / 1000.0 if reset > 1e12 else reset) - now)
        resets.append(wait)
        try:
            if float(headers.get(f"{budget}-remaining", "1")) <= 0:
                exhausted.append(wait)
        except ValueError:
            pass
    if exhausted:
        return max(exhausted)
    return min(resets) if resets else default


def _errors_in(response: httpx.Response) -> list[Mapping[str, Any]]:
    try:
        body = response.json()
    except ValueError:
        return []
    errors = body.get("errors") if isinstance(body, Mapping) else None
    return [e for e in errors if isinstance(e, Mapping)] if isinstance(errors, list) else []


def _said(errors: list[Mapping[str, Any]]) -> str:
    """Linear's own words for up to three errors, the user-facing message first."""
    said: list[str] = []
    for error in errors[:3]:
        extensions = error.get("extensions")
        extensions = extensions if isinstance(extensions, Mapping) else {}
        text = str(extensions.get("userPresentableMessage") or error.get("message") or extensions.get("type") or "")
        text = " ".join(text.split())
        if text and text not in said:
            said.append(text)
    return "; ".join(said)[:300] or "unknown error"


class LinearAPI(VendorAPI):
    """The shared HTTP layer speaking GraphQL to Linear; it never retries by itself (see :meth:`execute`)."""

    def __init__(self, http: httpx.AsyncClient, endpoint: str, *, auth: AuthHeaders, budget: Budget | None = None
                 ) -> None:
        super().__init__(SERVICE, http, endpoint, auth=auth, hint=self._status_hint, attempts=1,
                         headers={"Accept": "application/json"}, budget=budget)
        self.endpoint = endpoint

    @staticmethod
    def _status_hint(status: int, message: str) -> str:
        if status == 401:
            return KEY_HELP
        if status == 403:
            return "The key's user lacks access: ask a Linear admin to add it to the team, or use another key"
        if status == 404:
            return f"Check LINEAR_BASE_URL: Linear's GraphQL endpoint is {DEFAULT_ENDPOINT}"
        return ""

    def error_for(self, response: httpx.Response, method: str, path: str) -> ConnectorError:
        """GraphQL errors in a non-2xx answer are read like those in a 200; otherwise as VendorAPI does."""
        errors = _errors_in(response)
        if errors:
            return self.graphql_error(errors, response, _WHAT.get())
        error = super().error_for(response, method, path)
        if isinstance(error, RateLimitedError):  # Linear's reset headers are not the generic ones
            wait = linear_retry_after(response.headers)
            return RateLimitedError(SERVICE, wait, error.message)
        return error

    def graphql_error(self, errors: list[Mapping[str, Any]], response: httpx.Response, what: str
                      ) -> ConnectorError:
        """The error the first GraphQL error stands for, with Linear's message and what to do."""
        extensions = errors[0].get("extensions")
        extensions = extensions if isinstance(extensions, Mapping) else {}
        kind = str(extensions.get("type") or "").lower()
        code = str(extensions.get("code") or "").upper()
        said = _said(errors)
        if code in AUTH_CODES or kind in AUTH_TYPES:
            return AuthError(SERVICE, f"rejected the credentials trying to {what} ({said})", status=401,
                             hint=KEY_HELP)
        if code in FORBIDDEN_CODES or kind in FORBIDDEN_TYPES:
            return AuthError(SERVICE, f"refused to {what}: {said}", status=403,
                             hint="The key's user lacks access: ask a Linear admin to add it to the team or grant "
                                  "the permission, or use another key")
        if code in RATE_CODES or kind in RATE_TYPES:
            self.rate_limited += 1
            wait = linear_retry_after(response.headers)
            if self.budget is not None:
                self.budget.penalise(wait)
            return RateLimitedError(SERVICE, wait, f"rate limited trying to {what}: {said}")
        if code in DOWN_CODES or kind in DOWN_TYPES:
            return UnavailableError(SERVICE, f"failed to {what}: {said}", status=response.status_code,
                                    hint="Linear is having trouble; the run retries it later")
        status = response.status_code if response.status_code >= 400 else None
        return ConnectorError(SERVICE, f"refused to {what}: {said}", status=status)

    async def execute(self, document: str, variables: Mapping[str, Any] | None = None, *, what: str,
                      retry: bool = True) -> dict[str, Any]:
        """The ``data`` of one operation. Reads retry a short rate limit and server trouble; writes
        (``retry=False``) never retry here, because an answer lost on the way may hide an applied write."""
        if not retry:
            return await self._once(document, variables, what)
        async for attempt in stamina.retry_context(on=retry_read, attempts=READ_ATTEMPTS, timeout=RETRY_TIMEOUT):
            with attempt:
                return await self._once(document, variables, what)
        raise AssertionError("unreachable")  # pragma: no cover - stamina re-raises the last error

    async def _once(self, document: str, variables: Mapping[str, Any] | None, what: str) -> dict[str, Any]:
        token = _WHAT.set(what)
        try:
            response = await self.request("POST", self.endpoint,
                                          json={"query": document, "variables": dict(variables or {})})
        finally:
            _WHAT.reset(token)
        self._charge(response)
        try:
            body = response.json()
        except ValueError:
            raise UnavailableError(SERVICE, f"answered with something that is not JSON trying to {what}",
                                   status=response.status_code,
                                   hint="Check LINEAR_BASE_URL: a proxy or login page may be in the way") from None
        errors = body.get("errors") if isinstance(body, Mapping) else None
        if isinstance(errors, list) and errors:
            raise self.graphql_error([e for e in errors if isinstance(e, Mapping)] or [{}], response, what)
        data = body.get("data") if isinstance(body, Mapping) else None
        if not isinstance(data, dict):
            raise UnavailableError(SERVICE, f"answered without data trying to {what}",
                                   hint="Check LINEAR_BASE_URL: it must be Linear's GraphQL endpoint")
        return data


    def _charge(self, response: httpx.Response) -> None:
        """Charge the operation's complexity, known only from the answer, to the complexity budget."""
        debit = getattr(self.budget, "debit", None)
        try:
            cost = float(response.headers.get("x-complexity", ""))
        except ValueError:
            return
        if callable(debit) and cost > 0:
            debit("complexity", cost)


def retry_read(error: Exception) -> bool | float:
    """stamina hook for reads: wait out a short rate limit, retry server trouble, give up on the rest."""
    if isinstance(error, RateLimitedError):
        return error.retry_after if error.retry_after <= MAX_RETRY_AFTER else False
    return isinstance(error, UnavailableError)


def retry_rate_limited(error: Exception) -> bool | float:
    """stamina hook for writes: only a rate limit (nothing applied) is retried blindly."""
    if isinstance(error, RateLimitedError):
        return error.retry_after if error.retry_after <= MAX_RETRY_AFTER else False
    return False

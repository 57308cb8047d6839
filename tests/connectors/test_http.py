"""The shared vendor HTTP layer: retries, Retry-After, token refresh, errors with the vendor's words."""

from __future__ import annotations

import re
from collections.abc import Mapping

import httpx
import pytest

from frontline.connectors.http import VendorAPI, retry_after_seconds
from frontline.errors import AuthError, ConnectorError, NotFoundError, RateLimitedError, UnavailableError
from tests.fakes.base import FakeAPI, json_response, serve
from tests.helpers import run


class EchoFake(FakeAPI):
    """Answers GET /things/N with the thing."""

    service = "Echo"

    def __init__(self) -> None:
        super().__init__()
        self.route("GET", r"/api/things/(\d+)", self._thing)

    def _thing(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        if request.headers.get("authorization") == "Bearer revoked":
            return json_response(401, {"error": "invalid_token", "description": "Token revoked"})
        return json_response(200, {"id": int(match.group(1))})


def api(fake: FakeAPI, token: str = "good", base: str = "https://vendor.example/api") -> tuple[VendorAPI, list[bool]]:
    asked: list[bool] = []

    async def auth(refresh: bool) -> Mapping[str, str]:
        asked.append(refresh)
        return {"Authorization": f"Bearer {'good' if refresh else token}"}

    return VendorAPI("Echo", fake.client(), base, auth=auth), asked


def test_429_and_5xx_are_retried_until_success() -> None:
    fake = EchoFake()
    fake.fail(429, headers={"Retry-After": "0"})
    fake.fail(503)
    fake.timeout()
    client, _ = api(fake)
    assert run(client.json("GET", "/things/7")) == {"id": 7}
    assert len(fake.requests) == 4 and client.rate_limited == 1


def test_retries_are_bounded_and_end_in_a_clear_error() -> None:
    fake = EchoFake()
    fake.fail(502, times=50)
    client, _ = api(fake)
    with pytest.raises(UnavailableError, match="server error on GET /things/1"):
        run(client.json("GET", "/things/1"))
    assert len(fake.requests) == 5


def test_a_very_long_retry_after_is_not_waited_out() -> None:
    fake = EchoFake()
    fake.fail(429, headers={"Retry-After": "3600"})
    client, _ = api(fake)
    with pytest.raises(RateLimitedError) as caught:
        run(client.json("GET", "/things/1"))
    assert caught.value.retry_after == 3600 and len(fake.requests) == 1


def test_an_expired_token_is_refreshed_once() -> None:
    fake = EchoFake()
    client, asked = api(fake, token="revoked")
    assert run(client.json("GET", "/things/3")) == {"id": 3}
    assert asked == [False, True]


def test_a_revoked_token_is_an_auth_error_with_the_vendors_words() -> None:
    fake = EchoFake()

    async def auth(refresh: bool) -> Mapping[str, str]:
        return {"Authorization": "Bearer revoked"}

    client = VendorAPI("Echo", fake.client(), "https://vendor.example/api", auth=auth,
                       hint=lambda status, message: "Create a new token")
    with pytest.raises(AuthError) as caught:
        run(client.json("GET", "/things/3"))
    assert "Token revoked" in str(caught.value) and "Create a new token" in str(caught.value)
    assert caught.value.status == 401 and len(fake.requests) == 2


def test_unknown_routes_are_404_and_other_statuses_keep_their_code() -> None:
    fake = EchoFake()
    client, _ = api(fake)
    with pytest.raises(NotFoundError):
        run(client.json("GET", "/nope"))
    assert fake.unknown == ["GET /api/nope"]
    fake.fail(422, body={"error": "RecordInvalid", "description": "Priority is invalid"})
    with pytest.raises(ConnectorError, match="Priority is invalid") as caught:
        run(client.json("GET", "/things/1"))
    assert caught.value.status == 422


def test_a_garbage_body_is_reported_not_parsed() -> None:
    fake = EchoFake()
    fake.garbage()
    client, _ = api(fake)
    with pytest.raises(UnavailableError, match="not JSON"):
        run(client.json("GET", "/things/1"))


def test_retry_after_reads_seconds_dates_and_reset_headers() -> None:
    assert retry_after_seconds(httpx.Response(429, headers={"Retry-After": "12"})) == 12
    assert retry_after_seconds(httpx.Response(429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})) == 0
    assert retry_after_seconds(httpx.Response(429)) == 1.0


def test_the_same_fake_answers_over_loopback_sockets() -> None:
    fake = EchoFake()
    fake.fail(503)

    async def go(base: str) -> object:
        async with httpx.AsyncClient() as http:
            client = VendorAPI("Echo", http, f"{base}/api")
            return await client.json("GET", "/things/9")

    with serve(fake) as base:
        assert run(go(base)) == {"id": 9}
    assert len(fake.requests) == 2

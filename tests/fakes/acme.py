"""A fake Acme Desk: the API of the third-party connector package in tests/fixtures/acme_helpdesk."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.fakes.base import FakeAPI, body_of, json_response

TOKEN = "acme-secret-token"


class FakeAcme(FakeAPI):
    """Tickets in memory; notes written back are kept per ticket. Refuses any other token than ``TOKEN``."""

    service = "Acme"

    def __init__(self, tickets: list[dict[str, Any]] | None = None) -> None:
        super().__init__()
        self.tickets = {str(t["id"]): t for t in tickets or []}
        self.notes: dict[str, list[dict[str, Any]]] = {}
        self.route("GET", r"/tickets", self._list)
        self.route("GET", r"/tickets/(\w+)", self._get)
        self.route("GET", r"/tickets/(\w+)/notes", self._notes)
        self.route("POST", r"/tickets/(\w+)/notes", self._note)

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Refuse a request without the token before anything else."""
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return json_response(401, {"error": "bad token"})
        return super().handle(request)

    def _list(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        after = int(request.url.params.get("after") or 0)
        limit = int(request.url.params.get("limit") or 100)
        listed = sorted((t for t in self.tickets.values() if int(t["id"]) > after), key=lambda t: int(t["id"]))
        page = listed[:limit]
        cursor = str(page[-1]["id"]) if page else (str(after) if after else None)
        return json_response(200, {"tickets": page, "next": cursor, "more": len(listed) > limit})

    def _get(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        found = self.tickets.get(match.group(1))
        return json_response(200, found) if found else json_response(404, {"error": "no such ticket"})

    def _notes(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        return json_response(200, {"notes": self.notes.get(match.group(1), [])})

    def _note(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        notes = self.notes.setdefault(match.group(1), [])
        note = {"id": f"n{sum(len(n) for n in self.notes.values()) + 1}", **body_of(request)}
        notes.append(note)
        return json_response(201, note)

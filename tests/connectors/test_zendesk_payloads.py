"""Zendesk JSON read the same whichever way a JSON layer wrote the ids (7, 7.0, "7")."""

from __future__ import annotations

from typing import Any

import pytest

from frontline.connectors.zendesk.payloads import (
    Sideloads,
    TicketReader,
    job_outcomes,
    sort_listed,
    ticket_changes,
    zendesk_id,
)
from frontline.model import WriteBack

SHAPES = [7, 7.0, "7", " 7 ", "7.0"]


@pytest.mark.parametrize("raw", SHAPES)
def test_a_zendesk_id_is_one_number_however_it_is_written(raw: object) -> None:
    assert zendesk_id(raw) == 7


@pytest.mark.parametrize("raw", ["abc", 4.5, True, None, "", "-3", float("inf"), "+7", "\u0667", "\uff17", "1_000",
                                 "007", "7e0", "9" * 5000, 10**30, "9" * 20])
def test_what_is_not_a_zendesk_id_is_none(raw: object) -> None:
    assert zendesk_id(raw) is None


def test_a_listed_ticket_whose_id_only_looks_like_a_number_is_named_not_merged() -> None:
    entries = [{"id": "\u0667", "status": "new"}, {"id": "007", "status": "new"}, {"id": 7, "status": "new"}]
    wanted, unreadable = sort_listed(entries, ("new",))
    assert [w["id"] for w in wanted] == [7]
    assert [label for label, _ in unreadable] == ["\u0667", "007"]
    assert all("is not a ticket number" in reason for _, reason in unreadable)


@pytest.mark.parametrize("user_id", SHAPES)
@pytest.mark.parametrize("reference", SHAPES)
def test_sideloaded_users_and_organizations_match_whichever_way_either_id_is_written(user_id: Any,
                                                                                      reference: Any) -> None:
    body = {"users": [{"id": user_id, "name": "Ann", "email": "ann@acme.example", "organization_id": reference}],
            "organizations": [{"id": user_id, "name": "Acme", "organization_fields": {"plan": "pro", "mrr": 10}}]}
    raw = {"id": 106.0, "status": "new", "subject": "Hi", "requester_id": reference}
    ticket = TicketReader().ticket(raw, Sideloads.of(body),
                                   [{"author_id": user_id, "body": "help"}, {"author_id": 8.0, "body": "on it"}])
    assert ticket.id == "106" and ticket.requester.name == "Ann"
    assert ticket.company is not None and ticket.company.name == "Acme"
    assert [m.author.value for m in ticket.messages] == ["customer", "agent"]


def test_bulk_job_results_match_tickets_whose_ids_came_back_as_floats() -> None:
    job = {"status": "completed", "results": [{"id": 5.0, "success": True},
                                              {"id": "6", "success": False, "error": "TicketNotFound"}]}
    assert job_outcomes(job, [5, 6]) == {5: (True, ""), 6: (False, "TicketNotFound")}


def test_a_listing_names_every_entry_it_cannot_read_and_skips_only_unwanted_statuses() -> None:
    entries = [{"id": 1.0, "status": "new"}, "oops", {"id": "abc", "status": "open"}, {"status": "new"},
               {"id": 5, "status": "solved"}, {"id": "x", "status": "closed"}, {"id": 7}]
    wanted, unreadable = sort_listed(entries, ("new", "open"))
    assert [w["id"] for w in wanted] == [1.0]
    assert [label for label, _ in unreadable] == ["position 2 on the page", "abc", "position 4 on the page", "7"]
    assert all("next run" in reason for _, reason in unreadable)


def test_the_requesters_last_update_is_read_from_the_metric_set_in_the_ticket_or_beside_it() -> None:
    metric = {"ticket_id": 7, "requester_updated_at": "2026-11-01T10:00:00Z"}
    embedded = {"id": 7, "status": "open", "metric_set": metric}
    assert TicketReader().ticket(embedded, Sideloads()).customer_updated_at is not None
    beside = Sideloads.of({"metric_sets": [{"ticket_id": 7.0, "requester_updated_at": "2026-11-01T10:00:00Z"}]})
    ticket = TicketReader().ticket({"id": 7, "status": "open"}, beside)
    assert ticket.customer_updated_at is not None and ticket.customer_updated_at.hour == 10
    assert TicketReader().ticket({"id": 7, "status": "open"}, Sideloads()).customer_updated_at is None


def test_a_retriage_removes_the_old_decisions_tags_but_never_one_it_adds() -> None:
    update = WriteBack("7", ("auto_severity:P1", "triaged"), "high", "note", "fl-1",
                       remove_tags=("auto_severity:P3", "triaged"))
    changes = ticket_changes(update)
    assert changes["additional_tags"] == ["auto_severity:P1", "triaged"]
    assert changes["remove_tags"] == ["auto_severity:P3"]

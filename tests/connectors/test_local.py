"""The embedded connectors: SQLite helpdesk, markdown KB with BM25, outbox chat."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from frontline.connectors.local.helpdesk import LocalHelpdesk
from frontline.connectors.local.kb import LocalKnowledgeBase, fts_query
from frontline.connectors.local.outbox import OutboxChat
from frontline.errors import ChannelRefusedError
from frontline.model import ChatMessage, WriteBack
from tests.helpers import run


def record(ticket_id: str, **fields: object) -> dict[str, object]:
    return {"id": ticket_id, "subject": f"Subject {ticket_id}", "description": "Body", "tags": [], **fields}


@pytest.fixture
def helpdesk(tmp_path: Path) -> LocalHelpdesk:
    return LocalHelpdesk(tmp_path / "helpdesk.db")


def test_list_changed_pages_in_import_order_and_skips_closed(helpdesk: LocalHelpdesk) -> None:
    helpdesk.upsert([record("1"), record("2", status="solved"), record("3"), record("4")])
    first = run(helpdesk.list_changed(None, 2))
    assert [t.id for t in first.items] == ["1", "3"] and first.has_more
    second = run(helpdesk.list_changed(first.cursor, 2))
    assert [t.id for t in second.items] == ["4"] and not second.has_more
    assert run(helpdesk.list_changed(second.cursor, 2)).items == []


def test_reimported_ticket_is_listed_again(helpdesk: LocalHelpdesk) -> None:
    helpdesk.upsert([record("1")])
    cursor = run(helpdesk.list_changed(None, 10)).cursor
    assert helpdesk.upsert([record("1", subject="Updated")]) == (0, 1, 0)
    page = run(helpdesk.list_changed(cursor, 10))
    assert [t.subject for t in page.items] == ["Updated"]


def test_write_back_adds_tags_keeps_existing_and_adds_one_private_note(helpdesk: LocalHelpdesk) -> None:
    helpdesk.upsert([record("1", tags=["vip", "mobile"], company="Acme", plan="pro", mrr=100.0)])
    update = WriteBack("1", ("auto_category:bug", "vip", "triaged_by_agent"), "high", "note body", "fl-1")
    first = run(helpdesk.write_back([update]))
    again = run(helpdesk.write_back([update]))
    ticket = run(helpdesk.get("1"))
    assert ticket.tags == ("vip", "mobile", "auto_category:bug", "triaged_by_agent")
    assert ticket.priority == "high"
    assert ticket.company is not None and ticket.company.plan == "pro"
    notes = helpdesk.notes("1")
    assert len(notes) == 1 and notes[0]["public"] == 0
    assert first[0].remote_ref == again[0].remote_ref
    assert run(helpdesk.find_marker("1", "fl-1")) == first[0].remote_ref
    assert run(helpdesk.find_marker("1", "fl-other")) is None


def test_write_back_to_missing_ticket_fails_only_that_ticket(helpdesk: LocalHelpdesk) -> None:
    helpdesk.upsert([record("1")])
    results = run(helpdesk.write_back([WriteBack("404", (), None, "n", "m1"), WriteBack("1", (), None, "n", "m2")]))
    assert results[0].error is not None and results[1].error is None


def test_kb_indexes_front_matter_and_finds_by_bm25(tmp_path: Path) -> None:
    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "a.md").write_text("---\ntitle: Reset your password\nurl: https://h/reset\n---\n"
                                 "Forgot your password? Use the reset link on the login page.", encoding="utf-8")
    (folder / "b.md").write_text("# Update payment method\n\nChange the credit card used for invoices.",
                                 encoding="utf-8")
    kb = LocalKnowledgeBase(tmp_path / "kb.db")
    assert kb.index(folder).added == 2
    hits = run(kb.search("I forgot my password and cannot log in", 3))
    assert hits[0].title == "Reset your password" and hits[0].url == "https://h/reset"
    card = run(kb.search("how do I change the credit card on invoices", 3))
    assert card[0].title == "Update payment method" and card[0].url.startswith("file://")
    (folder / "b.md").unlink()
    report = kb.index(folder)
    assert (report.removed, report.total) == (1, 1)


def test_fts_query_cannot_inject_syntax() -> None:
    query = fts_query('password" OR NEAR(x) * AND -title:foo')
    assert query == '"password" OR "near" OR "title" OR "foo"'
    assert fts_query("the and of") == ""


def test_outbox_writes_block_kit_payloads_with_idempotency_metadata(tmp_path: Path) -> None:
    lines: list[str] = []
    chat = OutboxChat(tmp_path / "outbox.jsonl", echo=lines.append)
    message = ChatMessage("fallback text", ({"type": "section", "text": {"type": "mrkdwn", "text": "hi"}},))
    ref = run(chat.post("#engineering", message, "key-1"))
    assert run(chat.post("#engineering", message, "key-1")) == ref  # the same key is never posted twice
    run(chat.aclose())
    entries = [json.loads(line) for line in (tmp_path / "outbox.jsonl").read_text().splitlines()]
    assert len(entries) == 1
    assert entries[0]["text"] == "fallback text" and entries[0]["blocks"][0]["type"] == "section"
    assert entries[0]["metadata"]["event_payload"]["idempotency_key"] == "key-1"
    assert lines == ["#engineering  fallback text"]
    reopened = OutboxChat(tmp_path / "outbox.jsonl")
    assert run(reopened.find_posted("key-1")) == ref


def test_outbox_refuses_malformed_and_unknown_channels(tmp_path: Path) -> None:
    chat = OutboxChat(tmp_path / "o.jsonl", channels=("#support-triage",))
    with pytest.raises(ChannelRefusedError, match="channel_not_found"):
        run(chat.post("engineering", ChatMessage("x"), "k"))
    with pytest.raises(ChannelRefusedError, match="not_in_channel"):
        run(chat.post("#engineering", ChatMessage("x"), "k"))


def test_outbox_ignores_a_torn_last_line(tmp_path: Path) -> None:
    path = tmp_path / "o.jsonl"
    path.write_text('{"channel": "#a", "metadata": {"event_payload": {"idempotency_key": "k1"}}, "ts": "1"}\n{"chan',
                    encoding="utf-8")
    chat = OutboxChat(path)
    assert run(chat.find_posted("k1")) == "1"
    assert run(chat.find_posted("k2")) is None


def test_outbox_appends_cleanly_after_a_torn_line(tmp_path: Path) -> None:
    path = tmp_path / "o.jsonl"
    path.write_text('{"chan', encoding="utf-8")
    chat = OutboxChat(path)
    run(chat.post("#a", ChatMessage("x"), "k9"))
    run(chat.aclose())
    assert run(OutboxChat(path).find_posted("k9")) is not None

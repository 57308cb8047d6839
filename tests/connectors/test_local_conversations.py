"""The embedded conversation source: import, changed-since reading, notes that are never doubled."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from frontline.connectors.local.conversations import LocalConversations
from frontline.connectors.local.importer import read_conversations
from frontline.errors import DataFileError, NotFoundError
from frontline.model import Author
from tests.helpers import run

THREAD: dict[str, Any] = {
    "id": 7, "title": "Invoice question", "state": "open", "created_at": "2026-11-02T09:00:00Z",
    "contact": {"name": "Ann", "email": "ann@acme.example"},
    "company": {"name": "Acme", "plan": "business", "mrr": 900, "lifecycle": "renewal-due"},
    "parts": [
        {"author": "customer", "kind": "comment", "body": "<p>Why was I charged twice?</p>", "format": "html",
         "created_at": "2026-11-02T09:00:00Z"},
        {"author": "bot", "kind": "comment", "body": "Thanks! A teammate will be with you soon.",
         "created_at": "2026-11-02T09:00:05Z"},
        {"author": "agent", "kind": "comment", "body": "Looking into it.", "created_at": "2026-11-02T10:00:00Z"},
        {"author": "agent", "kind": "close", "body": "", "created_at": "2026-11-02T10:01:00Z"},
        {"author": "customer", "kind": "open", "body": "", "created_at": "2026-11-04T08:00:00Z"},
        {"author": "customer", "kind": "comment", "body": "Still charged twice. I want a refund.",
         "created_at": "2026-11-04T08:00:00Z"},
    ],
}


@pytest.fixture
def source(tmp_path: Path) -> LocalConversations:
    path = tmp_path / "conversations.jsonl"
    path.write_text(json.dumps(THREAD) + "\n" + json.dumps({**THREAD, "id": 8, "company": None,
                                                             "state": "closed"}) + "\n", encoding="utf-8")
    conversations = LocalConversations(tmp_path / "conversations.db")
    conversations.upsert(read_conversations(path).records)
    return conversations


def test_a_conversation_reads_back_with_authors_kinds_company_and_reopens(source: LocalConversations) -> None:
    conversation = run(source.get("7"))
    assert [p.author for p in conversation.parts][:3] == [Author.CUSTOMER, Author.BOT, Author.AGENT]
    assert [p.body for p in conversation.customer_messages()] == ["Why was I charged twice?",
                                                                    "Still charged twice. I want a refund."]
    assert conversation.reopened == 1 and conversation.company is not None
    assert (conversation.company.plan, conversation.company.mrr, conversation.company.lifecycle) == \
        ("business", 900.0, "renewal-due")
    lonely = run(source.get("8"))
    assert lonely.company is None and lonely.company_note == "the contact has no company"


def test_changed_conversations_are_read_after_the_cursor_and_a_note_brings_one_back(source: LocalConversations) -> None:
    page = run(source.list_changed(None, 10))
    assert [c.id for c in page.items] == ["7", "8"] and not page.has_more
    assert run(source.list_changed(page.cursor, 10)).items == []
    ref = run(source.add_note("7", "frontline escalation\n[fl-abc]", "fl-abc"))
    assert run(source.add_note("7", "again", "fl-abc")) == ref  # never twice for one marker
    assert run(source.find_note("7", "fl-abc")) == ref and run(source.find_note("7", "fl-x")) is None
    again = run(source.list_changed(page.cursor, 10))
    assert [c.id for c in again.items] == ["7"]
    assert again.items[0].parts[-1].kind == "note" and again.items[0].customer_messages()[-1].body.startswith("Still")
    assert source.notes("7") == ["frontline escalation\n[fl-abc]"]


def test_bad_lines_are_reported_and_the_rest_imported(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join([json.dumps(THREAD), "{oops", json.dumps({"id": 9, "parts": []}),
                               json.dumps({**THREAD, "id": 10, "parts": [{"author": "robot", "body": "x"}]})]),
                    encoding="utf-8")
    report = read_conversations(path)
    assert [r["id"] for r in report.records] == ["7"]
    assert [line for line, _ in report.errors] == [2, 3, 4]
    assert "no parts" in report.errors[1][1] and "robot" in report.errors[2][1]
    with pytest.raises(DataFileError, match="does not exist"):
        read_conversations(tmp_path / "missing.jsonl")


def test_an_unknown_conversation_is_not_found(source: LocalConversations) -> None:
    with pytest.raises(NotFoundError, match="import conversations"):
        run(source.get("404"))
    with pytest.raises(NotFoundError):
        run(source.add_note("404", "x", "fl-1"))


def test_reimport_keeps_frontlines_notes_and_leaves_an_unchanged_conversation_alone(source: LocalConversations,
                                                                                   tmp_path: Path) -> None:
    cursor = run(source.list_changed(None, 10)).cursor
    run(source.add_note("7", "frontline escalation\n[fl-abc]", "fl-abc"))
    noted = run(source.list_changed(cursor, 10))
    path = tmp_path / "again.jsonl"
    path.write_text(json.dumps(THREAD) + "\n" + json.dumps({**THREAD, "id": 8, "company": None, "state": "closed"})
                    + "\n", encoding="utf-8")
    assert tuple(source.upsert(read_conversations(path).records)) == (0, 0, 2)
    assert run(source.list_changed(noted.cursor, 10)).items == []
    assert run(source.get("7")) == noted.items[0]  # the note is still last, nothing rewritten
    # The customer writes again: the conversation is listed again, the note stays where it was written.
    reply = {"author": "customer", "body": "Hello??", "created_at": "2026-11-05T08:00:00Z"}
    path.write_text(json.dumps({**THREAD, "parts": [*THREAD["parts"], reply]}) + "\n", encoding="utf-8")
    assert tuple(source.upsert(read_conversations(path).records)) == (0, 1, 0)
    again = run(source.list_changed(noted.cursor, 10))
    assert [c.id for c in again.items] == ["7"]
    assert [p.kind for p in again.items[0].parts][-2:] == ["note", "comment"]
    assert again.items[0].parts[-1].body == "Hello??" and source.notes("7") == ["frontline escalation\n[fl-abc]"]
    assert run(source.find_note("7", "fl-abc")) is not None


def test_a_conversation_without_times_is_unchanged_when_imported_again(tmp_path: Path) -> None:
    source = LocalConversations(tmp_path / "c.db")
    record = {"id": 3, "title": "No times", "parts": [{"author": "customer", "body": "hi"}]}
    path = tmp_path / "c.jsonl"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    assert tuple(source.upsert(read_conversations(path).records)) == (1, 0, 0)
    assert tuple(source.upsert(read_conversations(path).records)) == (0, 0, 1)
    assert run(source.get("3")).created_at is not None

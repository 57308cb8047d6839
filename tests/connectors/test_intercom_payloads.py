"""Intercom JSON read the same whichever way a JSON layer wrote the ids (7, 7.0, "7")."""

from __future__ import annotations

import pytest

from frontline.connectors.intercom.payloads import (
    company_ids,
    contact_ids,
    conversation_number,
    conversation_of,
    new_note_id,
    page_items,
    ref_id,
    seconds,
)
from frontline.model import Requester


@pytest.mark.parametrize("raw", [7005, 7005.0, "7005", " 7005 ", "7005.0"])
def test_a_conversation_id_is_one_number_however_it_is_written(raw: object) -> None:
    assert conversation_number(raw) == "7005"


@pytest.mark.parametrize("raw", ["abc", 4.5, True, None, "", "-3", float("nan"), "+7005", "\u0667\u0660\u0660\u0665",
                                 "7_005", "7005e0", "9" * 5000])
def test_what_is_not_a_conversation_id_is_none(raw: object) -> None:
    assert conversation_number(raw) is None


@pytest.mark.parametrize("raw", [7, 7.0, "7"])
def test_contact_and_company_refs_match_whichever_way_the_id_is_written(raw: object) -> None:
    conversation = {"contacts": {"contacts": [{"id": raw}]}}
    contact = {"companies": {"data": [{"id": raw}]}}
    assert contact_ids(conversation) == ["7"] and company_ids(contact) == ["7"]


def test_opaque_string_ids_are_kept_as_given() -> None:
    assert ref_id("000000000000000000002000") == "000000000000000000002000"
    assert ref_id("6329bd9ffe4e8f2e1a5b2d1c") == "6329bd9ffe4e8f2e1a5b2d1c"
    assert ref_id(None) is None and ref_id(" ") is None and ref_id(4.5) is None


def test_the_note_a_reply_created_is_found_by_its_admin_written_as_a_float() -> None:
    answer = {"conversation_parts": {"conversation_parts": [
        {"id": 9001.0, "part_type": "note", "body": "<p>hi</p>", "author": {"id": 7001.0}, "created_at": 1}]}}
    assert new_note_id(answer, "7001", "fl-missing") == "9001"


def test_timestamps_written_as_floats_are_whole_seconds() -> None:
    assert seconds(1718000000.0) == 1718000000 and seconds(1718000000.5) is None and seconds(True) is None


def test_a_search_page_names_every_entry_it_cannot_read() -> None:
    body = {"conversations": [{"id": 7005.0, "updated_at": 10}, "oops", {"id": "abc", "updated_at": 10},
                              {"updated_at": 10}, {"id": "7006", "updated_at": None}]}
    items, unreadable, following = page_items(body)
    assert [(c.id, c.updated) for c in items] == [("7005", 10)] and following is None
    assert [label for label, _ in unreadable] == ["position 2 on the page", "abc", "position 4 on the page", "7006"]


def test_part_bodies_are_html_reduced_to_text_and_the_title_is_kept_as_written() -> None:
    raw = {"id": "7005", "title": "Why does <br> break <b>exports</b>?",
           "source": {"body": "<p>Use <code>&lt;br&gt;</code> &amp; it fails</p>", "author": {"type": "user"}},
           "conversation_parts": {"conversation_parts": [
               {"id": "1", "part_type": "comment", "body": "<p>Still <b>broken</b></p>", "author": {"type": "user"},
                "created_at": 2}]}}
    conversation = conversation_of(raw, contact=Requester(), company=None, company_note="", url="")
    assert conversation.title == "Why does <br> break <b>exports</b>?"
    assert [p.body for p in conversation.parts] == ["Use <br> & it fails", "Still broken"]


def test_without_a_title_the_source_subject_is_read_as_html() -> None:
    raw = {"id": "7005", "source": {"subject": "<p>Refund &amp; invoice</p>", "body": "<p>x</p>",
                                    "author": {"type": "user"}}}
    conversation = conversation_of(raw, contact=Requester(), company=None, company_note="", url="")
    assert conversation.title == "Refund & invoice"

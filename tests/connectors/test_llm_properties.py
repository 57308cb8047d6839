"""Properties of reading the LLM's answer: whatever the model says, only the taxonomy gets through.

``parse_answer`` either returns values from the configured taxonomy (with a confidence in 0–1 and
text fields that are strings) or raises ValueError, which the classifier turns into one retry and
then a fallback; it never raises anything else, whatever the server sends.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from frontline.config import Settings
from frontline.connectors.llm import parse_answer
from tests.helpers import make_settings

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                                max_size=4),
                    max_leaves=12)
FIELDS = ("category", "severity", "summary", "suggested_reply", "confidence")


class Taxonomy:
    """The default settings, built once; a short repr keeps hypothesis' failure reports readable."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def __repr__(self) -> str:
        return "Taxonomy(default)"


@pytest.fixture(scope="module")
def taxonomy(tmp_path_factory: pytest.TempPathFactory) -> Taxonomy:
    """The default taxonomy."""
    workspace = tmp_path_factory.mktemp("llm") / "ws"
    workspace.mkdir()
    (workspace.parent / "kb").mkdir()
    return Taxonomy(make_settings(workspace, '[classifier]\nkind = "rules"\n'))


def _check(content: str | None, wrapped: Taxonomy) -> dict[str, Any] | None:
    taxonomy = wrapped.settings
    try:
        answer = parse_answer(content, taxonomy)
    except ValueError as error:
        assert str(error)
        return None
    assert answer["category"] in taxonomy.categories and answer["severity"] in taxonomy.severities
    assert isinstance(answer["category"], str) and isinstance(answer["severity"], str)
    assert math.isfinite(answer["confidence"]) and 0.0 <= answer["confidence"] <= 1.0
    assert isinstance(answer["summary"], str) and isinstance(answer["suggested_reply"], str)
    assert len(answer["summary"]) <= 300 and len(answer["suggested_reply"]) <= 4000
    return answer


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.none(), st.text(max_size=200)))
@example("[" * 5000)  # nesting deeper than the JSON decoder recurses
@example('{"category": "bug", "severity": "P1", "summary": "", "suggested_reply": "", "confidence": 1'
         + "0" * 400 + "}")  # an integer too big for a float
def test_any_text_gives_a_valid_answer_or_a_value_error(taxonomy: Taxonomy, content: str | None) -> None:
    _check(content, taxonomy)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(FIELDS), JSON, max_size=5), st.booleans())
@example({"category": [], "severity": "P1", "summary": "", "suggested_reply": "", "confidence": 0.5}, False)
@example({"category": "bug", "severity": {"P0": 1}, "summary": "", "suggested_reply": "", "confidence": 0.5}, False)
def test_any_json_object_gives_a_valid_answer_or_a_value_error(taxonomy: Taxonomy, data: dict[str, Any],
                                                               fenced: bool) -> None:
    content = json.dumps(data)
    _check(f"```json\n{content}\n```" if fenced else content, taxonomy)


@settings(max_examples=200, deadline=None)
@given(category=st.text(max_size=30), severity=st.text(max_size=5), summary=st.text(max_size=400),
       confidence=st.one_of(st.floats(), st.integers(), st.text(max_size=8)))
def test_a_value_outside_the_taxonomy_never_gets_through(taxonomy: Taxonomy, category: str, severity: str,
                                                         summary: str, confidence: Any) -> None:
    content = json.dumps({"category": category, "severity": severity, "summary": summary,
                          "suggested_reply": summary, "confidence": confidence})
    answer = _check(content, taxonomy)
    if answer is not None:
        assert (category, severity) == (answer["category"], answer["severity"])


@settings(max_examples=100, deadline=None)
@given(data=st.data(), summary=st.text(max_size=200), confidence=st.floats(min_value=0.0, max_value=1.0))
def test_an_answer_within_the_taxonomy_is_accepted_as_given(taxonomy: Taxonomy, data: st.DataObject, summary: str,
                                                            confidence: float) -> None:
    category = data.draw(st.sampled_from(sorted(taxonomy.settings.categories)))
    severity = data.draw(st.sampled_from(sorted(taxonomy.settings.severities)))
    answer = _check(json.dumps({"category": category, "severity": severity, "summary": summary,
                                "suggested_reply": "Hi!", "confidence": confidence}), taxonomy)
    assert answer is not None
    assert (answer["category"], answer["severity"], answer["confidence"]) == (category, severity, confidence)
    assert answer["summary"] == " ".join(summary.split())[:300]


def test_the_default_taxonomy_is_what_these_properties_run_on(taxonomy: Taxonomy) -> None:
    assert "bug" in taxonomy.settings.categories and "P0" in taxonomy.settings.severities


# -- the fence around the ticket ----------------------------------------------------------------------
LOOK_ALIKES = {"<": "<＜﹤〈⟨‹", "/": "/／⁄∕", "t": "tTтТτ", "i": "iIіІı", "c": "cCсСϲ", "k": "kKкКκ", "e": "eEеЕε"}
INVISIBLE = ["", " ", "  ", "\t", "\n", "\u200b", "\u00ad", "\ufeff", "\u2060", "-", "_"]


@st.composite
def tag_spellings(draw: st.DrawFn) -> str:
    """A ticket tag as a customer might spell one to close the fence: any case, spacing or look-alike."""
    def pick(char: str) -> str:
        return draw(st.sampled_from(LOOK_ALIKES.get(char, char)))

    gap = st.sampled_from(INVISIBLE)
    slash = pick("/") + draw(gap) if draw(st.booleans()) else ""
    word = draw(gap).join(pick(char) for char in "ticket")
    code = draw(st.one_of(st.just(""), st.text("0123456789abcdef", min_size=1, max_size=16).map("-{}".format)))
    close = draw(st.sampled_from([">", " >", "＞", "", "›"]))
    return f"{pick('<')}{draw(gap)}{slash}{word}{code}{close}"


def _skeleton(text: str) -> str:
    """``text`` as a model might read it: compatibility forms folded, look-alikes and invisibles dropped."""
    import unicodedata

    folded = unicodedata.normalize("NFKC", text)
    for plain, shapes in LOOK_ALIKES.items():
        for shape in shapes:
            folded = folded.replace(shape, plain)
    return "".join(char for char in folded.lower() if char not in "\u200b\u00ad\ufeff\u2060 \t\n-_")


@settings(max_examples=400, deadline=None)
@given(before=st.text(max_size=60), tags=st.lists(tag_spellings(), min_size=1, max_size=3), after=st.text(max_size=60))
def test_no_spelling_of_a_ticket_tag_can_close_the_fence(before: str, tags: list[str], after: str) -> None:
    from frontline.connectors.llm import ticket_prompt
    from frontline.model import Ticket

    prompt = ticket_prompt(Ticket("1", "", before + " ".join(tags) + after), boundary="0123456789abcdef")
    opening, closing = "<ticket-0123456789abcdef>\n", "\n</ticket-0123456789abcdef>"
    assert prompt.startswith(opening) and prompt.endswith(closing)
    inner = prompt[len(opening):-len(closing)]
    assert "<ticket" not in _skeleton(inner) and "</ticket" not in _skeleton(inner), inner

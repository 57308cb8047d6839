"""Pure text work for the Notion knowledge base: query terms, titles, excerpts and local ranking.

Notion's filters and search only match titles by substring, so the adapter asks Notion for every
page whose title contains *any* significant term of the query and ranks the candidates here:
terms that appear in few candidate titles weigh more (an IDF over the candidate set), so a summary
like "customer cannot export invoices to CSV" ranks "Export invoices" above "Customer FAQ".
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from frontline.connectors.local.kb import STOPWORDS, snippet

# Words that appear in most ticket summaries and say nothing about which article helps.
GENERIC = frozenset(
    """customer customers client clients user users issue issues problem problems unable trying tried
    report reports reported says said asks asked wants wanted needs needed seems anymore""".split()
)
_WORD = re.compile(r"[^\W_]{3,}", re.UNICODE)
# Light suffix stripping: Notion matches substrings, so "invoic" finds both "Invoice" and "invoices".
_SUFFIXES = ("ing", "ed", "es", "s")
MAX_TERMS = 8
# Blocks whose rich text is prose worth quoting in an excerpt.
TEXT_BLOCKS = frozenset(
    """paragraph heading_1 heading_2 heading_3 bulleted_list_item numbered_list_item quote callout
    to_do toggle""".split()
)


def stem(word: str) -> str:
    """``word`` lower-cased without a common English suffix, kept at least four letters long."""
    word = word.lower()
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def query_terms(text: str, limit: int = MAX_TERMS) -> list[str]:
    """The significant stems of ``text`` in order of appearance, without duplicates."""
    terms: list[str] = []
    for word in _WORD.findall(text):
        lowered = word.lower()
        if lowered in STOPWORDS or lowered in GENERIC or lowered.isdigit():
            continue
        term = stem(lowered)
        if term not in terms:
            terms.append(term)
        if len(terms) == limit:
            break
    return terms


def plain_text(rich_text: Iterable[Mapping[str, Any]] | None) -> str:
    """The plain text of a Notion rich-text array."""
    parts = []
    for item in rich_text or ():
        text = item.get("plain_text")
        if text is None:
            text = (item.get("text") or {}).get("content", "")
        parts.append(str(text))
    return "".join(parts)


def page_title(page: Mapping[str, Any], property_name: str = "") -> str:
    """A page's title: the named property when given, else its ``title``-typed property."""
    properties: Mapping[str, Any] = page.get("properties") or {}
    chosen = properties.get(property_name) if property_name else None
    if chosen is None:
        chosen = next((p for p in properties.values() if p.get("type") == "title"), None)
    if not chosen:
        return ""
    kind = chosen.get("type", "title")
    return " ".join(plain_text(chosen.get(kind)).split())


def page_url(page: Mapping[str, Any]) -> str:
    """The link to show: the public (published) URL when there is one, else the workspace URL."""
    return str(page.get("public_url") or page.get("url") or "")


def blocks_text(blocks: Iterable[Mapping[str, Any]]) -> str:
    """The prose of a page's first blocks, one sentence-ish line per block."""
    lines = []
    for block in blocks:
        kind = block.get("type", "")
        if kind not in TEXT_BLOCKS:
            continue
        text = " ".join(plain_text((block.get(kind) or {}).get("rich_text")).split())
        if text:
            lines.append(text if text[-1] in ".!?:" else f"{text}.")
    return " ".join(lines)


def excerpt(blocks: Sequence[Mapping[str, Any]], terms: list[str]) -> str:
    """A short excerpt of the page: the sentence of its first blocks sharing most query terms."""
    body = blocks_text(blocks)
    return snippet(body, terms) if body else ""


@dataclass(frozen=True, slots=True)
class Candidate:
    """A page Notion returned, with what ranking needs."""

    page: Mapping[str, Any]
    title: str
    score: float
    coverage: float

    @property
    def page_id(self) -> str:
        """The page's id."""
        return str(self.page.get("id", ""))


def rank(pages: Iterable[Mapping[str, Any]], terms: list[str], property_name: str = "") -> list[Candidate]:
    """Candidates best first: IDF-weighted share of the query terms found in each title.

    Ties go to the title the query covers best, then to the most recently edited page.
    Pages without any query term in their title are dropped.
    """
    unique: dict[str, Mapping[str, Any]] = {}
    for page in pages:
        if page.get("object", "page") != "page" or page.get("in_trash") or page.get("archived"):
            continue
        unique.setdefault(str(page.get("id")), page)
    titled = [(page, page_title(page, property_name)) for page in unique.values()]
    found = {t: sum(1 for _, title in titled if t in title.lower()) for t in terms}
    total = len(titled)
    weight = {t: math.log(1.0 + (total + 1) / (found[t] + 0.5)) for t in terms}
    whole = sum(weight.values()) or 1.0
    ranked = []
    for page, title in titled:
        lowered = title.lower()
        matched = [t for t in terms if t in lowered]
        if not matched:
            continue
        words = [w for w in _WORD.findall(lowered) if w not in STOPWORDS] or [lowered]
        coverage = sum(1 for w in words if any(t in w for t in matched)) / len(words)
        score = sum(weight[t] for t in matched) / whole
        ranked.append(Candidate(page, title or "Untitled", round(score, 3), coverage))
    # Two stable sorts: most recently edited first, then by score and coverage.
    ranked.sort(key=lambda c: str(c.page.get("last_edited_time") or ""), reverse=True)
    ranked.sort(key=lambda c: (-c.score, -c.coverage))
    return ranked

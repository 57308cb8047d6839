"""Text helpers shared by deciders and importers: HTML to text, keywords, summaries."""

from __future__ import annotations

import re
from collections.abc import Iterable
from html.parser import HTMLParser

from frontline.decide.keywords import strip_markup

_BLOCK_TAGS = frozenset(
    {"p", "div", "br", "li", "ul", "ol", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6",
     "blockquote", "pre", "hr", "section", "article", "header", "footer"}
)
_SKIP_TAGS = frozenset({"script", "style", "head", "title"})
_HTML_HINT = re.compile(r"<(?:p|div|br|span|html|body|li|ul|ol|table|a|b|i|strong|em|h\d)\b[^>]*>", re.I)
_SPACES = re.compile(r"[ \t\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skipping += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")
            if tag == "li":
                self.parts.append("- ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def looks_like_html(text: str) -> bool:
    """True when ``text`` carries HTML markup worth stripping."""
    return "<" in text and _HTML_HINT.search(text) is not None


def html_to_text(text: str) -> str:
    """Reduce an HTML body to readable plain text (paragraphs kept, tags and scripts dropped, entities decoded).

    Only for a field declared HTML: plain text that merely holds ``<script>`` or ``<br>`` is the
    customer's words and is never passed through here (see :func:`readable_text` for fields that may be either).
    """
    parser = _TextExtractor()
    parser.feed(text)
    parser.close()
    return tidy("".join(parser.parts))


def readable_text(text: str) -> str:
    """Text a classifier can learn from, out of a field that may be HTML or plain text (training data):
    reduced only when it carries HTML markup, else stripped of surrounding whitespace."""
    return html_to_text(text) if looks_like_html(text) else text.strip()


def tidy(text: str) -> str:
    """Collapse runs of spaces and blank lines."""
    lines = (_SPACES.sub(" ", line).strip() for line in text.replace("\r\n", "\n").split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


class KeywordMatcher:
    """Finds configured keywords on word boundaries, case-insensitively."""

    __slots__ = ("_pattern",)

    def __init__(self, keywords: Iterable[str]) -> None:
        words = sorted({k.strip().lower() for k in keywords if k.strip()}, key=len, reverse=True)
        if not words:
            self._pattern: re.Pattern[str] | None = None
            return
        alternatives = "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in words)
        self._pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)

    def find(self, text: str) -> set[str]:
        """The distinct keywords present in ``text`` (lower-cased), tags and entities in it read as spaces and
        characters: plain text is stored as the customer wrote it, ``Charged <b>twice</b>`` included."""
        if self._pattern is None:
            return set()
        return {" ".join(m.group(0).lower().split()) for m in self._pattern.finditer(strip_markup(text))}


_GREETING = re.compile(
    r"^\s*(?:hi|hello|hey|dear|good (?:morning|afternoon|evening)|greetings)\b[^\n.!?,]{0,40}[,.!]?\s*",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


def summarise(subject: str, description: str, *, limit: int = 200) -> str:
    """A one-line extractive summary: the subject and the first meaningful sentence."""
    body = _GREETING.sub("", description.strip(), count=1)
    first = ""
    for sentence in _SENTENCE_END.split(body):
        sentence = sentence.strip(" -*>\t")
        if len(sentence) >= 12 and not sentence.lower().startswith(("thanks", "thank you", "regards")):
            first = sentence
            break
    subject = " ".join(subject.split())
    if subject and first and first.lower() != subject.lower():
        summary = f"{subject}: {first}"
    else:
        summary = subject or first or " ".join(body.split())
    summary = " ".join(summary.split())
    if not summary:
        return "(empty ticket: no subject or description)"
    return summary if len(summary) <= limit else summary[: limit - 1].rstrip() + "…"


# Where an email client starts quoting the message being replied to.
_REPLY_HEADER = re.compile(
    r"^\s*(on\s.{4,200}?\s(wrote|a écrit|schrieb|escribió)\s*:\s*$"
    r"|-{2,}\s*original message\s*-{2,}"
    r"|from:\s.+$"
    r"|_{8,})",
    re.IGNORECASE | re.MULTILINE,
)


def own_words(text: str) -> str:
    """What the writer said: quoted lines (``> …``) and the quoted message after a reply header dropped.

    Customers' email replies carry the agent's previous message below; its words are not theirs.
    """
    header = _REPLY_HEADER.search(text)
    if header is not None and header.start() > 0:
        text = text[:header.start()]
    kept = [line for line in text.splitlines() if not line.lstrip().startswith(">")]
    return "\n".join(kept).strip()

"""Links and markup taken out of text a model wrote, before a person reads it in a note or a message.

An LLM's summary and suggested reply are shaped by the ticket it read, so a customer can make them
carry a link ("reset your password at …") into the private note an agent trusts, or into a chat
alert. The rule: plain text is kept as it is; a link becomes ``[link removed]`` (after its text,
when it has one) unless it is an http(s) link whose host is an allowed host or a subdomain of one
(the knowledge base's: ``[llm] link_hosts``), which stays as a bare URL. What counts as a link:

- Slack's ``<url>`` and ``<url|text>``, and its mentions ``<!channel>``, ``<@U…>``, ``<#C…>``;
- Markdown's ``[text](url)`` and ``![alt](url)``;
- HTML tags (dropped; one carrying a URL leaves ``[link removed]``);
- a bare address with a scheme (``https://…``, ``mailto:…``, ``javascript:…``) or starting ``www.``,
  and a domain followed by a path, a query, a fragment or a port (``evil.example/reset``,
  ``evil.example?reset=1``); ``www.`` alone is prose.

A domain name alone (``example.com``) is kept: it is ordinary prose in support replies, and it
cannot carry a crafted path, query or fragment.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

LINK_REMOVED = "[link removed]"

_SLACK = re.compile(r"<([A-Za-z][A-Za-z0-9+.\-]*:[^<>|\s]*|[!@#][^<>|\s]*)(?:\|([^<>]*))?>")
_MARKDOWN = re.compile(r"!?\[([^\[\]\n]*)\]\(\s*<?([^()\s<>]*(?:\([^()\s]*\)[^()\s<>]*)*)>?(?:\s+\"[^\"]*\")?\s*\)")
_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9\-]*(?:\s[^<>]*)?/?>")
_BARE = re.compile(
    r"(?:\b[A-Za-z][A-Za-z0-9+.\-]*://|\bwww\.(?=[A-Za-z0-9])|\b(?:mailto|javascript|data|vbscript|file|tel|sms):)"
    r"[^\s<>\"'`]*"
    # A domain followed by a path, a query, a fragment or a port: each carries what its writer chose.
    r"|\b(?:[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,63}(?::\d{1,5})?[/?#][^\s<>\"'`]*"
    r"|\b(?:[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,63}:\d{1,5}\b",
)
_TRAILING = ".,;:!?)]}'\""


def strip_links(text: str, allowed_hosts: Iterable[str] = ()) -> str:
    """``text`` with every link not to an allowed host replaced by ``[link removed]``, and HTML tags dropped."""
    hosts = tuple(host.lower().strip(".") for host in allowed_hosts if host)

    def kept(url: str) -> str | None:
        return url if _allowed(url, hosts) else None

    def slack(match: re.Match[str]) -> str:
        target, label = match.group(1), (match.group(2) or "").strip()
        url = kept(target) if target[0] not in "!@#" else None
        if url:
            return f"{label} ({url})" if label and label != url else url
        return f"{label} {LINK_REMOVED}" if label else LINK_REMOVED

    def markdown(match: re.Match[str]) -> str:
        label, url = match.group(1).strip(), kept(match.group(2))
        if url:
            return f"{label} ({url})" if label and label != url else url
        return f"{label} {LINK_REMOVED}" if label else LINK_REMOVED

    def html(match: re.Match[str]) -> str:
        urls = re.findall(r"(?:href|src|action|formaction|srcset|data)\s*=\s*[\"']?([^\s\"'<>]+)", match.group(0),
                          re.IGNORECASE)
        return "".join(f" {url} " if kept(url) else f" {LINK_REMOVED} " for url in urls)

    def bare(match: re.Match[str]) -> str:
        found = url = match.group(0)
        # Sentence punctuation after an address is prose; a ")" closing one of its own "(" is not.
        while url and url[-1] in _TRAILING and not (url[-1] == ")" and url.count("(") >= url.count(")")):
            url = url[:-1]
        return (url if kept(url) else LINK_REMOVED) + found[len(url):]

    text = _SLACK.sub(slack, text)
    text = _MARKDOWN.sub(markdown, text)
    text = _HTML_TAG.sub(html, text)
    parts = re.split(f"({re.escape(LINK_REMOVED)})", text)  # a placeholder is not looked at again
    return "".join(part if part == LINK_REMOVED else _BARE.sub(bare, part) for part in parts)


def _allowed(url: str, hosts: tuple[str, ...]) -> bool:
    """True for an http(s) URL whose host is one of ``hosts`` or below one, and nothing to trick a browser."""
    if not hosts or not url.isascii() or "\\" in url or any(char.isspace() for char in url):
        return False
    candidate = url if "://" in url else ("http://" + url if url.lower().startswith("www.") else url)
    try:
        parts = urlsplit(candidate)
        host = (parts.hostname or "").lower().rstrip(".")
    except ValueError:
        return False
    if parts.scheme.lower() not in ("http", "https") or parts.username is not None or not host:
        return False
    return any(host == allowed or host.endswith("." + allowed) for allowed in hosts)

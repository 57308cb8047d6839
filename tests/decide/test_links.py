"""Links and markup in text a model wrote are removed unless they point at the knowledge base; prose stays."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from frontline.decide.links import LINK_REMOVED, strip_links

KB = ("help.acme.example",)


@pytest.mark.parametrize(("text", "expected"), [
    ("Reset it at https://evil.example/reset?u=1.", f"Reset it at {LINK_REMOVED}."),
    ("See <https://evil.example|our portal> now", f"See our portal {LINK_REMOVED} now"),
    ("See <https://evil.example> now", f"See {LINK_REMOVED} now"),
    ("[Log in](http://evil.example/login)", f"Log in {LINK_REMOVED}"),
    ("![pixel](https://evil.example/p.gif)", f"pixel {LINK_REMOVED}"),
    ('<a href="https://evil.example">Click</a> here', f" {LINK_REMOVED} Click here"),
    ("<b>bold</b> <script>x</script>", "bold x"),
    ("hey <!channel> and <@U123|bob>", f"hey {LINK_REMOVED} and bob {LINK_REMOVED}"),
    ("go to www.evil.example", f"go to {LINK_REMOVED}"),
    ("open evil.example/reset now", f"open {LINK_REMOVED} now"),
    ("javascript:alert(1) mailto:x@evil.example", f"{LINK_REMOVED} {LINK_REMOVED}"),
    ("Guide: https://help.acme.example/refunds.", "Guide: https://help.acme.example/refunds."),
    ("[guide](https://docs.help.acme.example/a)", "guide (https://docs.help.acme.example/a)"),
    ("https://help.acme.example@evil.example/x", LINK_REMOVED),  # user info: the host is evil.example
    ("https://help.acme.example.evil.example/x", LINK_REMOVED),
    ("https://evil.example\\@help.acme.example/", LINK_REMOVED),  # browsers read \\ as /
    ("ftp://help.acme.example/file", LINK_REMOVED),
    # A domain with a query, a fragment or a port carries what the attacker chose, as a path does (autolinked by
    # Slack and the helpdesks); these were kept.
    ("open evil.example?reset=1 now", f"open {LINK_REMOVED} now"),
    ("open evil.example#token now", f"open {LINK_REMOVED} now"),
    ("open evil.example:8080/reset now", f"open {LINK_REMOVED} now"),
])
def test_links_are_replaced_unless_their_host_is_allowed(text: str, expected: str) -> None:
    assert strip_links(text, KB) == expected


@pytest.mark.parametrize("text", ["Go to www. and then", "It ends with www.", "the example.com team, at 10:30"])
def test_prose_that_only_looks_like_the_start_of_a_link_is_kept(text: str) -> None:
    assert strip_links(text, KB) == text  # "www." alone was replaced (found by the property test below)


@pytest.mark.parametrize("text", [
    "We refunded the duplicate charge of $1,234.56 on 2024-03-15 (order #12345).",
    "Upgrade to v2.14.1, then restart; see example.com for status.",
    "Temperature < 5 and > 3, e.g. this; a/b and/or c.",
    "Café crème, naïve façade — ok?",
])
def test_plain_prose_is_kept_as_written(text: str) -> None:
    assert strip_links(text, KB) == text


HOSTS = st.lists(st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=8), min_size=1, max_size=3
                 ).map(lambda labels: ".".join([*labels, "evil"]))
PATHS = st.text(string.ascii_letters + string.digits + "/?=&%._~-", max_size=20)


@st.composite
def links(draw: st.DrawFn) -> tuple[str, str]:
    """A link to an unknown host in one of the shapes a model can write, and the host."""
    host, path, label = draw(HOSTS), draw(PATHS), draw(st.text(string.ascii_letters + " ", min_size=1, max_size=12))
    scheme = draw(st.sampled_from(["https://", "http://", "HTTP://", "hxxp://", "//"]))
    url = f"{scheme}{host}/{path}" if scheme != "//" else f"www.{host}/{path}"
    shape = draw(st.sampled_from(["{u}", "<{u}>", "<{u}|{l}>", "[{l}]({u})", "![{l}]({u})", '<a href="{u}">{l}</a>',
                                  "<img src='{u}'>", "({u})", "{u}."]))
    return shape.format(u=url, l=label), host


@settings(max_examples=300, deadline=None)
@given(prose=st.lists(st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="<>[]()"),
                              max_size=30), min_size=2, max_size=4),
       found=st.lists(links(), min_size=1, max_size=3))
def test_no_generated_link_survives_in_any_shape(prose: list[str], found: list[tuple[str, str]]) -> None:
    text = prose[0] + "".join(f" {link} {more}" for (link, _), more in zip(found, prose[1:], strict=False))
    cleaned = strip_links(text, KB)
    for _, host in found:
        assert host not in cleaned, (text, cleaned)
    assert LINK_REMOVED in cleaned


@settings(max_examples=200, deadline=None)
@given(st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="<>[]():/@"), max_size=80))
def test_text_without_links_or_markup_is_unchanged(text: str) -> None:
    assert strip_links(text, KB) == text

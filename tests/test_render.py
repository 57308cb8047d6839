"""Templates: Block Kit alerts, private notes, user overrides and escaping."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from frontline.config import Settings
from frontline.errors import ConfigError
from frontline.model import Article, Company, Ticket, Triage
from frontline.render import Renderer, slack_escape
from tests.helpers import make_settings

TICKET = Ticket("42", "Export <!channel> & crash", "The export crashes", company=Company("Acme", "pro", 250.0))
TRIAGE = Triage("bug", "P1", "Export crashes <@U123>", "Hi, we're on it.", 0.87, "model", reasons=("why",))
ARTICLES = [Article("Export your data", "https://help.example/export", "snippet", 3.2)]


def test_alert_is_block_kit_with_escaped_ticket_text(settings: Settings) -> None:
    message = Renderer(settings).alert(TICKET, TRIAGE, ARTICLES, review=False)
    assert "<!channel>" not in message.text and "&lt;!channel&gt; &amp; crash" in message.text
    types = [block["type"] for block in message.blocks]
    assert types[0] == "header" and "section" in types
    flat = str(message.blocks)
    assert "<@U123>" not in flat and "&lt;@U123&gt;" in flat
    assert "<https://help.example/export|Export your data>" in flat
    assert "Acme · pro · $250/mo" in flat and "87%" in flat


def test_note_carries_decision_articles_reply_and_marker(settings: Settings) -> None:
    note = Renderer(settings).note(TICKET, TRIAGE, ARTICLES, review=False, marker="fl-123", problems=["x failed"])
    for expected in ("Category: bug", "Severity: P1 (priority high)", "Export your data: https://help.example/export",
                     "Hi, we're on it.", "[fl-123]", "x failed"):
        assert expected in note


def test_user_templates_override_the_built_ins(workspace: Path) -> None:
    folder = workspace / "tpl"
    folder.mkdir()
    (folder / "note.md.j2").write_text("Custom {{ triage.category }} [{{ marker }}]", encoding="utf-8")
    settings = make_settings(workspace, f'templates_dir = "{folder.as_posix()}"\n')
    assert Renderer(settings).note(TICKET, TRIAGE, [], review=False, marker="m").strip() == "Custom bug [m]"


def test_a_template_producing_invalid_json_is_named(workspace: Path) -> None:
    folder = workspace / "tpl"
    folder.mkdir()
    (folder / "alert_blocks.json.j2").write_text("[{broken", encoding="utf-8")
    settings = make_settings(workspace, f'templates_dir = "{folder.as_posix()}"\n')
    with pytest.raises(ConfigError, match=r"alert_blocks\.json\.j2"):
        Renderer(settings).alert(TICKET, TRIAGE, [], review=False)


def test_missing_templates_dir_is_a_config_error(workspace: Path) -> None:
    settings = make_settings(workspace, 'templates_dir = "/nonexistent/templates"\n')
    with pytest.raises(ConfigError, match="templates_dir"):
        Renderer(settings)


def test_slack_escape_handles_the_three_control_characters() -> None:
    assert slack_escape("<a> & <b>") == "&lt;a&gt; &amp; &lt;b&gt;"
    assert slack_escape(None) == ""


def test_ticket_text_reaches_the_alert_escaped_and_verbatim_everywhere_slack_parses(settings: Settings) -> None:
    hostile = Ticket("<!here>", "@channel <script>", "x", company=Company("<!everyone> & Co"))
    message = Renderer(settings).alert(hostile, TRIAGE, ARTICLES, review=True)
    assert message.text.startswith(f"{message.text.split('·')[0]}· #&lt;!here&gt; @channel &lt;script&gt;")
    objects = [obj for block in message.blocks
               for obj in (block.get("text"), *block.get("fields", ()), *block.get("elements", ())) if obj]
    mrkdwn = [obj for obj in objects if obj["type"] == "mrkdwn"]
    assert len(mrkdwn) == 5 and all(obj["verbatim"] is True for obj in mrkdwn)
    assert "&lt;!everyone&gt; &amp; Co" in str(message.blocks) and "<!everyone>" not in str(message.blocks)


def test_an_escalation_alert_escapes_the_customer_and_uses_their_first_words_as_a_missing_title(
        settings: Settings) -> None:
    from frontline.model import (
        Author,
        Conversation,
        CustomerValue,
        Escalation,
        IssueRef,
        Part,
        Requester,
        Sentiment,
        Signal,
    )

    conversation = Conversation("9", "", (Part(Author.CUSTOMER, "<!channel> @here your app is <b>broken</b> & slow"),),
                                contact=Requester("Ann", "ann@x.example"), url="https://app.example/c/9")
    escalation = Escalation(0.8, (Signal("keywords", 0.4, '"broken" in the customer\'s 1st message'),), True,
                            CustomerValue("P1", "P1: no company data (the contact has no company)"),
                            Sentiment("frustrated", 0.2, 0.9))
    message = Renderer(settings).escalation_alert(conversation, escalation, IssueRef("i1", "ESC-1", "https://t/1"))
    text = json.dumps(message.blocks) + message.text
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text and "&amp; slow" in text
    assert "your app is" in message.text  # the first words stand in for the empty title
    assert "ESC-1" in text and "https://app.example/c/9" in text and "frustrated (0.90" in text


def test_interactive_alerts_carry_controls_whose_clicks_the_slack_receiver_understands(workspace: Path) -> None:
    from urllib.parse import urlencode

    from frontline.model import Author, Conversation, CustomerValue, Escalation, Part
    from frontline.web.payloads import slack_request

    settings = make_settings(workspace, "[slack]\ninteractive = true\n")
    renderer = Renderer(settings)
    blocks = renderer.alert(TICKET, TRIAGE, ARTICLES, review=False).blocks
    [select] = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert [o["value"] for o in select["options"]] == [f"42/{name}" for name in settings.categories]
    conversation = Conversation("c7", "Refund", (Part(Author.CUSTOMER, "refund now"),))
    escalation = Escalation(0.4, (), True, CustomerValue("P1", "P1"))
    [button] = [e for b in renderer.escalation_alert(conversation, escalation, None).blocks
                if b["type"] == "actions" for e in b["elements"] if e.get("action_id")]

    def click(action: dict[str, object]) -> bytes:
        payload = {"type": "block_actions", "user": {"id": "U1", "name": "ann"}, "trigger_id": "t1",
                   "actions": [{**action, "action_ts": "1700000000.1"}]}
        return urlencode({"payload": json.dumps(payload)}).encode()

    chosen = click({**select, "selected_option": select["options"][1]})
    resolved = click(button)
    [category] = slack_request(chosen, "application/x-www-form-urlencoded").actions
    [resolve] = slack_request(resolved, "application/x-www-form-urlencoded").actions
    assert (category.kind, category.item_id, category.category) == ("correct_category", "42",
                                                                      list(settings.categories)[1])
    assert (resolve.kind, resolve.item_id) == ("resolve_escalation", "c7")
    plain = Renderer(make_settings(workspace, "")).alert(TICKET, TRIAGE, ARTICLES, review=False).blocks
    assert not [b for b in plain if b["type"] == "actions"]


def test_the_console_echo_shows_the_text_as_written_not_slack_escaped() -> None:
    from frontline.model import ChatMessage
    from frontline.render import console_line

    assert console_line(ChatMessage("[P1] Lumen &amp; Co · a &lt;b&gt; c\nsecond line")) == "[P1] Lumen & Co · a <b> c"


def test_a_relative_templates_dir_is_found_beside_the_config_file(workspace: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    folder = workspace / "tpl"
    folder.mkdir()
    (folder / "note.md.j2").write_text("Custom {{ triage.category }} [{{ marker }}]", encoding="utf-8")
    settings = make_settings(workspace, 'templates_dir = "tpl"\n')
    monkeypatch.chdir(workspace.parent)  # not where the config file is
    assert Renderer(settings).note(TICKET, TRIAGE, [], review=False, marker="m").strip() == "Custom bug [m]"


ESCAPES = {
    "mro": "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "globals": "{{ cycler.__init__.__globals__.os.system('touch PWNED') }}",
    "getpid": "{{ lipsum.__globals__['os'].getpid() }}",
    "builtins": "{{ self._TemplateReference__context.__class__.__init__.__globals__['__builtins__'] }}",
    "format": "{{ '{0.__class__.__init__.__globals__}'.format(triage) }}",
    "attr": "{{ (triage | attr('__class__')).__init__.__globals__ }}",
}


@pytest.mark.parametrize("name", list(ESCAPES))
def test_a_template_cannot_reach_python_internals(workspace: Path, monkeypatch: pytest.MonkeyPatch,
                                                   name: str) -> None:
    folder = workspace / "tpl"
    folder.mkdir()
    (folder / "note.md.j2").write_text(f"pid {ESCAPES[name]} [{{{{ marker }}}}]", encoding="utf-8")
    monkeypatch.chdir(workspace)
    settings = make_settings(workspace, 'templates_dir = "tpl"\n')
    with pytest.raises(ConfigError, match=r"^template note\.md\.j2: .*unsafe") as raised:
        Renderer(settings).note(TICKET, TRIAGE, [], review=False, marker="m")
    assert "\n" not in str(raised.value) and "Traceback" not in str(raised.value)
    assert not (workspace / "PWNED").exists()


def test_the_sandbox_keeps_filters_and_formatting(workspace: Path) -> None:
    folder = workspace / "tpl"
    folder.mkdir()
    (folder / "note.md.j2").write_text(
        "{{ ticket.subject | slack }} {{ '%.1f' | format(triage.confidence) }} {{ '{:,.0f}'.format(1234.5) }} "
        "{{ triage.reasons | join(';') }} {{ articles | length }} [{{ marker }}]", encoding="utf-8")
    settings = make_settings(workspace, f'templates_dir = "{folder.as_posix()}"\n')
    note = Renderer(settings).note(TICKET, TRIAGE, ARTICLES, review=False, marker="m")
    assert note.strip() == "Export &lt;!channel&gt; &amp; crash 0.9 1,234 why 1 [m]"

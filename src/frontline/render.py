"""Renders every message a human reads from Jinja2 templates a user can override by file."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, StrictUndefined, TemplateError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from frontline.config import Settings
from frontline.errors import ConfigError
from frontline.model import Article, ChatMessage, Conversation, Escalation, IssueRef, Ticket, Triage

SEVERITY_EMOJI = {"P0": ":rotating_light:", "P1": ":red_circle:", "P2": ":large_orange_circle:", "P3": ":white_circle:"}


def slack_escape(value: object) -> str:
    """Escape text for Slack mrkdwn so ticket text cannot ping @channel or inject links."""
    text = "" if value is None else str(value)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def console_line(message: ChatMessage) -> str:
    """A chat message's first text line as a person reads it on a console (Slack's escaping undone)."""
    first = message.text.splitlines()[0] if message.text else ""
    return first.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


class Renderer:
    """Loads templates from the user's folder first, then frontline's built-ins.

    Templates run in Jinja's sandbox: a template file is configuration, not code, so one planted in
    the templates folder can format the values it is given but cannot reach Python's internals
    (``__class__``, ``__globals__``, ``os``); trying fails the render with the template named.
    """

    def __init__(self, settings: Settings) -> None:
        loaders: list[Any] = []
        if settings.templates_dir:
            folder = Path(settings.templates_dir)
            if not folder.is_dir():
                raise ConfigError(settings.source, "templates_dir", f"points at {folder}, which is not a folder")
            loaders.append(FileSystemLoader(str(folder)))
        loaders.append(PackageLoader("frontline", "templates"))
        self._env = SandboxedEnvironment(
            loader=ChoiceLoader(loaders), autoescape=False, undefined=StrictUndefined,
            keep_trailing_newline=False, trim_blocks=True, lstrip_blocks=True,
        )
        self._env.filters["slack"] = slack_escape
        self._settings = settings
        self._cache: dict[str, Any] = {}

    def _template(self, name: str) -> Any:
        if name not in self._cache:
            try:
                self._cache[name] = self._env.get_template(name)
            except TemplateError as exc:
                raise ConfigError(f"template {name}", "(template)", f"cannot be loaded: {exc}") from None
        return self._cache[name]

    def render(self, name: str, **context: Any) -> str:
        """Render one template by name."""
        template = self._template(name)
        try:
            return str(template.render(**context))
        except SecurityError as exc:
            raise ConfigError(f"template {name}", "(template)",
                              f"was stopped by the template sandbox ({_one_line(exc)}); a template may only "
                              "format the values it is given") from None
        except TemplateError as exc:
            raise ConfigError(f"template {name}", "(template)", f"failed to render: {_one_line(exc)}") from None
        except (ArithmeticError, LookupError, TypeError, ValueError) as exc:  # {{ 1/0 }} in a user's template
            raise ConfigError(f"template {name}", "(template)",
                              f"failed to render: {type(exc).__name__}: {_one_line(exc)}") from None

    def _context(self, ticket: Ticket, triage: Triage, articles: Sequence[Article], review: bool,
                 ticket_url: str | None) -> dict[str, Any]:
        company = ticket.company
        if company:
            parts = [company.name or "unknown company"]
            if company.plan:
                parts.append(company.plan)
            if company.mrr is not None:
                parts.append(f"${company.mrr:,.0f}/mo")
            company_line = " · ".join(parts)
        else:
            company_line = ticket.requester.email or "unknown"
        articles_mrkdwn = "\n".join(
            f"• <{a.url.replace('>', '%3E')}|{slack_escape(a.title).replace('|', '¦')}>" for a in articles
        )
        return {
            "ticket": ticket, "triage": triage, "articles": list(articles), "review": review,
            "ticket_url": ticket_url, "company_line": company_line, "articles_mrkdwn": articles_mrkdwn,
            "severity_emoji": SEVERITY_EMOJI.get(triage.severity, ""),
            "priority": self._settings.priority_for(triage.severity),
            "interactive": self._settings.slack.interactive, "categories": list(self._settings.categories),
        }

    def alert(self, ticket: Ticket, triage: Triage, articles: Sequence[Article], *, review: bool,
              ticket_url: str | None = None) -> ChatMessage:
        """A Block Kit alert with its plain-text fallback."""
        context = self._context(ticket, triage, articles, review, ticket_url)
        return self.chat_message("alert_text.j2", "alert_blocks.json.j2", **context)

    def chat_message(self, text_template: str, blocks_template: str, **context: Any) -> ChatMessage:
        """A chat message from a text-fallback template and a Block Kit template that must yield a JSON list."""
        text = self.render(text_template, **context).strip()
        raw = self.render(blocks_template, **context)
        try:
            blocks = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"template {blocks_template}", "(template)",
                              f"did not produce valid JSON ({exc.msg} at line {exc.lineno})") from None
        if not isinstance(blocks, list):
            raise ConfigError(f"template {blocks_template}", "(template)", "must produce a JSON list of blocks")
        return ChatMessage(text=text, blocks=tuple(blocks))

    def note(self, ticket: Ticket, triage: Triage, articles: Sequence[Article], *, review: bool,
             marker: str, problems: Sequence[str] = (), sla: Mapping[str, Any] | None = None,
             language: str | None = None, sentiment: str | None = None) -> str:
        """The private note written back to the ticket.

        ``sla``: its due times, as ``flows.sla.note_view`` gives; ``language``, ``sentiment``: each one
        line, when read.
        """
        context = self._context(ticket, triage, articles, review, None)
        return self.render("note.md.j2", marker=marker, problems=list(problems), sla=sla, language=language,
                           sentiment=sentiment, **context).strip() + "\n"

    def urgent_issue(self, ticket: Ticket, triage: Triage, reason: str, marker: str) -> tuple[str, str]:
        """The tracker issue an urgent ticket's escalation protocol files: title and markdown body."""
        context = self._context(ticket, triage, (), False, None)
        who = ticket.company.name if ticket.company and ticket.company.name else (ticket.requester.name or
                                                                                  ticket.requester.email or "customer")
        title = f"[{triage.severity}] {who}: {ticket.subject or triage.summary}"
        return title[:250], self.render("urgent_issue.md.j2", reason=reason, marker=marker, **context).strip() + "\n"

    # -- escalations -------------------------------------------------------------------------------
    def _escalation_context(self, conversation: Conversation, escalation: Escalation,
                            issue: IssueRef | None) -> dict[str, Any]:
        company = conversation.company
        contact = conversation.contact
        parts = [company.name if company and company.name else (contact.name or contact.email or "unknown customer")]
        if company and company.plan:
            parts.append(company.plan)
        if company and company.mrr is not None:
            parts.append(f"${company.mrr:,.0f}/mo")
        sentiment = escalation.sentiment
        sentiment_line = "not scored" if sentiment is None else (
            f"{sentiment.label} ({sentiment.last:.2f}; first message {sentiment.first:.2f}, "
            f"{'worse' if sentiment.trend > 0.05 else 'better' if sentiment.trend < -0.05 else 'steady'})")
        said = conversation.customer_messages()
        # Messenger conversations often have no title: the customer's first words stand in for one.
        opening = " ".join(said[0].body.split()) if said else ""
        title = conversation.title or (opening[:77] + "…" if len(opening) > 80 else opening) or "customer conversation"
        reasons = "\n".join(f"• {slack_escape(s.name)} +{s.weight:.2f}: {slack_escape(s.detail)}"
                            for s in escalation.signals)
        return {
            "conversation": conversation, "escalation": escalation, "issue": issue, "title": title,
            "company_name": company.name if company else "", "contact_name": contact.name or contact.email,
            "customer_line": " · ".join(parts), "sentiment_line": sentiment_line,
            "last_message": said[-1].body if said else "", "reasons_mrkdwn": reasons or "(none)",
            "threshold": self._settings.escalation.threshold, "interactive": self._settings.slack.interactive,
        }

    def escalation_alert(self, conversation: Conversation, escalation: Escalation,
                         issue: IssueRef | None) -> ChatMessage:
        """The Block Kit alert for an escalation, with its text fallback."""
        context = self._escalation_context(conversation, escalation, issue)
        return self.chat_message("escalation_alert_text.j2", "escalation_alert_blocks.json.j2", **context)

    def escalation_issue(self, conversation: Conversation, escalation: Escalation, marker: str) -> tuple[str, str]:
        """The tracker issue's title and markdown body."""
        context = self._escalation_context(conversation, escalation, None)
        title = f"[{escalation.priority}] {context['customer_line'].split(' · ')[0]}: {context['title']}"
        return title[:250], self.render("escalation_issue.md.j2", marker=marker, **context).strip() + "\n"

    def escalation_note(self, conversation: Conversation, escalation: Escalation, issue: IssueRef | None, *,
                        channel: str | None, problems: Sequence[str], marker: str) -> str:
        """The private note on the conversation."""
        context = self._escalation_context(conversation, escalation, issue)
        return self.render("escalation_note.md.j2", channel=channel, problems=list(problems), marker=marker,
                           **context).strip() + "\n"

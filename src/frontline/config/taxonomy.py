"""The default taxonomy: categories with descriptions and keywords, severities P0–P3."""

from __future__ import annotations

from typing import Literal

from frontline.config.base import Strict


class Category(Strict):
    """One triage category: what it means and the words that suggest it."""

    description: str = ""
    keywords: tuple[str, ...] = ()
    default_severity: Literal["P0", "P1", "P2", "P3"] = "P2"
    reply: str = ""
    # The reply when no help article was found: `reply` may point at "the articles below".
    reply_without_articles: str = ""


class Severity(Strict):
    """One severity level and the helpdesk priority it maps to."""

    priority: Literal["urgent", "high", "normal", "low"]
    description: str = ""
    keywords: tuple[str, ...] = ()


def default_categories() -> dict[str, Category]:
    return {
        "bug": Category(
            description="Something in the product is broken, erroring or behaving wrongly.",
            keywords=(
                "error", "bug", "crash", "crashes", "crashing", "broken", "not working",
                "doesn't work", "does not work", "fails", "failing", "failed to load", "500",
                "exception", "glitch", "blank page", "stuck", "freezes", "sync issue",
            ),
            default_severity="P2",
            reply=(
                "Thanks for reporting this. We're looking into it and will update you as soon as we "
                "know more. In the meantime, the articles below may help work around it."
            ),
            reply_without_articles=(
                "Thanks for reporting this. We're looking into it and will update you as soon as we know more."
            ),
        ),
        "billing": Category(
            description="Invoices, charges, refunds, payment methods, plans and pricing.",
            keywords=(
                "invoice", "invoices", "charge", "charged", "refund", "billing", "payment",
                "credit card", "receipt", "subscription", "pricing", "overcharged", "vat",
                "proration", "downgrade", "upgrade",
            ),
            default_severity="P2",
            reply=(
                "Thanks for getting in touch about billing. Our billing team will review your "
                "account and follow up shortly."
            ),
        ),
        "how_to": Category(
            description="Questions on how to use a feature or configure the product.",
            keywords=(
                "how do i", "how to", "how can i", "where can i", "is it possible", "can i",
                "where do i", "set up", "configure", "instructions", "tutorial",
            ),
            default_severity="P3",
            reply="Good question! The articles below walk through it step by step.",
            reply_without_articles="Good question! We'll get back to you shortly with the steps for this.",
        ),
        "account_issue": Category(
            description="Login, password, 2FA, SSO, users, permissions, account ownership.",
            keywords=(
                "password", "login", "log in", "locked out", "2fa", "two-factor", "sso",
                "sign in", "reset", "account", "permissions", "invite", "owner", "verification",
            ),
            default_severity="P2",
            reply="Thanks for reaching out about your account. The steps below usually resolve this.",
            reply_without_articles=(
                "Thanks for reaching out about your account. We're looking into it and will follow up shortly."
            ),
        ),
        "feature_request": Category(
            description="Ideas and requests for new functionality.",
            keywords=(
                "feature request", "would be great", "would be nice", "please add", "suggestion",
                "wish", "could you add", "roadmap", "it would help", "support for",
            ),
            default_severity="P3",
            reply=(
                "Thanks for the suggestion! We've shared it with our product team, who review "
                "requests like this every week."
            ),
        ),
    }


def default_severities() -> dict[str, Severity]:
    return {
        "P0": Severity(
            priority="urgent",
            description="Outage, data loss or security issue; many users blocked.",
            keywords=(
                "outage", "production down", "site is down", "data loss", "lost all",
                "security breach", "everyone is locked out", "all users", "entire team",
                "nobody can", "down for everyone",
            ),
        ),
        "P1": Severity(
            priority="high",
            description="A key workflow broken for a user or team; a payment failed.",
            keywords=(
                "urgent", "asap", "blocked", "cannot log in", "can't log in", "locked out",
                "payment failed", "charged twice", "critical", "immediately",
            ),
        ),
        "P2": Severity(priority="normal", description="Normal issue with a workaround."),
        "P3": Severity(priority="low", description="Question or request, not time-sensitive."),
    }

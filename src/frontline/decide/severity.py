"""Severity: urgency words in the text, the category's default, and business impact."""

from __future__ import annotations

from frontline.config import SEVERITIES, Settings
from frontline.decide.text import KeywordMatcher
from frontline.model import Company


class SeverityRules:
    """Decides a severity from urgency keywords, falling back to the category default."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._matchers = [
            (level, KeywordMatcher(settings.severities[level].keywords)) for level in SEVERITIES
        ]

    def decide(self, text: str, category: str) -> tuple[str, str]:
        """Return (severity, reason)."""
        for level, matcher in self._matchers:
            found = matcher.find(text)
            if found:
                words = ", ".join(sorted(found)[:3])
                return level, f"{level}: text mentions {words}"
        default = self._settings.categories[category].default_severity
        return default, f"{default}: default for {category}"


def is_high_value(company: Company | None, settings: Settings) -> tuple[bool, str]:
    """Whether the customer's plan or MRR makes the ticket more urgent, and why."""
    if company is None:
        return False, ""
    plans = {p.lower() for p in settings.thresholds.high_value_plans}
    if company.plan and company.plan.lower() in plans:
        return True, f"{company.plan} plan"
    if company.mrr is not None and company.mrr > settings.thresholds.high_value_mrr:
        return True, f"MRR {company.mrr:,.0f} above {settings.thresholds.high_value_mrr:,.0f}"
    return False, ""


def raise_one_level(severity: str) -> str:
    """P3→P2→P1→P0; P0 stays P0."""
    index = SEVERITIES.index(severity)
    return SEVERITIES[max(0, index - 1)]

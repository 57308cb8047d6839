"""Customer value: what an escalating customer is worth, as P0 or P1 with a reason a person can check."""

from __future__ import annotations

from frontline.config import Settings
from frontline.model import Company, CustomerValue


def money(amount: float) -> str:
    """``$1,200`` (cents only when there are some: ``$99.50``)."""
    return f"${amount:,.0f}" if float(amount).is_integer() else f"${amount:,.2f}"


def customer_value(company: Company | None, settings: Settings, *, missing_reason: str = "") -> CustomerValue:
    """P0 for a high-value plan or MRR above the threshold, else P1; a missing company is P1 with why.

    ``missing_reason`` is the source's explanation when it has no company data (``Conversation.company_note``,
    e.g. a token lacking the companies scope), so the gap is visible in the alert instead of silent.
    """
    thresholds = settings.thresholds
    if company is None:
        why = missing_reason.strip() or "the source sent none"
        return CustomerValue("P1", f"P1: no company data ({why})")
    plans = {plan.strip().casefold() for plan in thresholds.high_value_plans}
    plan = (company.plan or "").strip()
    if plan and plan.casefold() in plans:
        return CustomerValue("P0", f"P0: {plan} plan")
    if company.mrr is not None and company.mrr > thresholds.high_value_mrr:
        return CustomerValue("P0", f"P0: MRR {money(company.mrr)} above {money(thresholds.high_value_mrr)}")
    facts = [f"{plan} plan" if plan else "no plan on record",
             f"MRR {money(company.mrr)}" if company.mrr is not None else "no MRR on record"]
    if not plan and company.mrr is None:
        name = f" for {company.name}" if company.name else ""
        return CustomerValue("P1", f"P1: no plan or MRR on record{name}")
    return CustomerValue("P1", "P1: " + ", ".join(facts))

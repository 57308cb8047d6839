"""The cascade: model first, LLM when unsure, best local answer flagged when the LLM fails."""

from __future__ import annotations

from frontline.config import Settings
from frontline.decide.cascade import CascadeClassifier
from frontline.errors import LLMError
from frontline.model import Ticket, Triage
from tests.helpers import run


class ScriptedLLM:
    """Answers or fails per ticket, counting calls."""

    name = "llm"

    def __init__(self, answer: Triage | None) -> None:
        self.answer = answer
        self.calls: list[str] = []

    async def classify_one(self, ticket: Ticket) -> Triage:
        self.calls.append(ticket.id)
        if self.answer is None:
            raise LLMError("http://llm", "timed out")
        return self.answer


SURE = Ticket("1", "Refund", "Refund the charge on my invoice, payment was charged twice, billing error")
UNSURE = Ticket("2", "hmm", "something about stuff")
LLM_ANSWER = Triage("how_to", "P3", "asks how", "Hi", 0.9, "llm")


def test_confident_local_answers_do_not_call_the_llm(settings: Settings) -> None:
    llm = ScriptedLLM(LLM_ANSWER)
    result = run(CascadeClassifier(settings, model=None, llm=llm).classify([SURE]))
    assert llm.calls == [] and result[0].category == "billing"


def test_unsure_answers_go_to_the_llm(settings: Settings) -> None:
    llm = ScriptedLLM(LLM_ANSWER)
    result = run(CascadeClassifier(settings, model=None, llm=llm).classify([SURE, UNSURE]))
    assert llm.calls == ["2"]
    assert result[1].category == "how_to" and result[1].classifier == "rules+llm"


def test_llm_failure_keeps_the_local_answer_flagged(settings: Settings) -> None:
    llm = ScriptedLLM(None)
    result = run(CascadeClassifier(settings, model=None, llm=llm).classify([UNSURE]))
    assert "llm_failed" in result[0].flags
    assert result[0].classifier == "rules"
    assert any("timed out" in r for r in result[0].reasons)

"""The trained model's calibrated probabilities have an abstain threshold of their own (thresholds.model_abstain)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from frontline.config import Settings
from frontline.decide.cascade import CascadeClassifier
from frontline.decide.triage import finish
from frontline.model import Ticket, Triage
from tests.decide.test_cascade import LLM_ANSWER, ScriptedLLM
from tests.helpers import run

TICKET = Ticket("1", "Weather", "what will the weather be tomorrow")


class ScriptedModel:
    """A trained model's answer at a fixed probability."""

    name = "model"

    def __init__(self, confidence: float) -> None:
        self.confidence = confidence

    def decide(self, tickets: Sequence[Ticket]) -> list[Triage]:
        return [Triage("billing", "P2", "s", "r", self.confidence, "model") for _ in tickets]


def _cascade(settings: Settings, confidence: float, llm: Any = None) -> CascadeClassifier:
    return CascadeClassifier(settings, model=ScriptedModel(confidence), llm=llm)  # type: ignore[arg-type]


def test_a_model_answer_below_the_models_threshold_goes_to_review(settings: Settings) -> None:
    assert settings.thresholds.model_abstain == 0.7 and settings.thresholds.abstain == 0.3
    unsure = run(_cascade(settings, 0.65).classify([TICKET]))[0]
    assert "abstained" in unsure.flags
    assert any("below abstain threshold 0.70" in reason for reason in unsure.reasons)
    sure = run(_cascade(settings, 0.75).classify([TICKET]))[0]
    assert "abstained" not in sure.flags


def test_keyword_rules_keep_their_own_lower_threshold(settings: Settings) -> None:
    rules = Triage("billing", "P2", "s", "r", 0.55, "rules")
    assert "abstained" not in finish(rules, TICKET, settings).flags
    assert "abstained" in finish(rules, TICKET, settings, abstain=0.7).flags


def test_a_model_answer_it_would_send_to_review_is_asked_of_the_llm_first(settings: Settings) -> None:
    llm = ScriptedLLM(LLM_ANSWER)
    answer = run(_cascade(settings, 0.65, llm).classify([TICKET]))[0]
    assert llm.calls == ["1"] and answer.classifier == "model+llm" and "abstained" not in answer.flags


def test_when_the_llm_fails_the_models_answer_is_judged_by_the_models_threshold(settings: Settings) -> None:
    answer = run(_cascade(settings, 0.65, ScriptedLLM(None)).classify([TICKET]))[0]
    assert "llm_failed" in answer.flags and "abstained" in answer.flags


def test_the_model_threshold_is_configurable(workspace: Any) -> None:
    from tests.helpers import make_settings

    settings = make_settings(workspace, "[thresholds]\nmodel_abstain = 0.5\n")
    assert "abstained" not in run(_cascade(settings, 0.65).classify([TICKET]))[0].flags

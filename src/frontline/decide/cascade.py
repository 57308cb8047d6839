"""The default classifier: trained model first, LLM below the confidence threshold, rules as floor."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol

from frontline.config import Settings
from frontline.decide.triage import ModelClassifier, RulesClassifier, finish
from frontline.errors import LLMError
from frontline.model import Ticket, Triage


class SingleTicketClassifier(Protocol):
    """A classifier asked one ticket at a time (the LLM)."""

    name: str

    async def classify_one(self, ticket: Ticket) -> Triage:
        """Classify one ticket; raises LLMError on failure."""
        ...


class CascadeClassifier:
    """Model → LLM (when unsure and configured) → best local answer, flagged, on LLM failure."""

    name = "cascade"

    def __init__(
        self,
        settings: Settings,
        *,
        model: ModelClassifier | None,
        llm: SingleTicketClassifier | None,
        concurrency: int = 4,
    ) -> None:
        self._settings = settings
        self._model = model
        self._llm = llm
        self._rules = RulesClassifier(settings)
        self._limit = asyncio.Semaphore(concurrency)

    @property
    def description(self) -> str:
        """Which stages are active, for logs and the run summary."""
        stages = ["model" if self._model else "rules"]
        if self._llm:
            stages.append("llm")
        return " → ".join(stages)

    async def classify(self, tickets: Sequence[Ticket]) -> list[Triage]:
        """Classify a batch; never raises for one ticket's LLM failure."""
        if self._model is not None:
            local = self._model.decide(tickets)
        else:
            local = [self._rules.decide(t) for t in tickets]
        thresholds = self._settings.thresholds
        # The model's answers have their own abstain threshold; one it would send to review is asked of the
        # LLM first, so that threshold never sits above the point where the LLM is asked.
        model_abstain = thresholds.model_abstain if self._model is not None else None
        threshold = max(thresholds.confidence, model_abstain or 0.0)
        unsure = [i for i, t in enumerate(local) if t.confidence < threshold]
        asked: set[int] = set()
        if self._llm is not None and unsure:
            answers = await asyncio.gather(*(self._ask_llm(tickets[i], local[i]) for i in unsure))
            for i, answer in zip(unsure, answers, strict=True):
                local[i] = answer
                if "llm_failed" not in answer.flags:  # the LLM's own answer, judged by the usual threshold
                    asked.add(i)
        return [finish(t, ticket, self._settings, None if i in asked else model_abstain)
                for i, (t, ticket) in enumerate(zip(local, tickets, strict=True))]

    async def _ask_llm(self, ticket: Ticket, local: Triage) -> Triage:
        assert self._llm is not None
        async with self._limit:
            try:
                answer = await self._llm.classify_one(ticket)
            except LLMError as error:
                return local.with_changes(
                    flags=(*local.flags, "llm_failed"),
                    reasons=(*local.reasons, f"LLM unavailable, kept local answer: {error.reason}"),
                )
        reasons = (
            f"local {local.classifier} was unsure ({local.category} {local.confidence:.2f}); asked the LLM",
        )
        return answer.with_changes(classifier=f"{local.classifier}+llm", reasons=(*answer.reasons, *reasons))

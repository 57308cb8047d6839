"""`frontline doctor` says whether the learned escalation signal is on, and why not when its model won't load."""

from __future__ import annotations

import asyncio
import random

from frontline.config import Settings
from frontline.decide.learned import EscalationModel
from frontline.doctor import diagnose
from frontline.ports import Check

CALM = ("how do I export my invoices", "where can I change my email address", "can I add a second admin",
        "is there a dark mode", "what time zone are reports in", "how do I invite my team")
ANGRY = ("this is unacceptable, my order never arrived", "still waiting for my refund, third time asking",
         "your app is broken again and nobody answers", "I was charged twice, fix this now",
         "worst support ever, I want my money back", "why is my account still locked?!")


def _doctor(settings: Settings) -> Check:
    checks = {check.connector: check for check in asyncio.run(diagnose(settings))}
    return checks["escalation model"]


def test_without_a_model_doctor_says_how_to_train_one(settings: Settings) -> None:
    check = _doctor(settings)
    assert check.ok
    assert "keywords + sentiment" in check.detail
    assert "frontline train --escalation" in check.fix


def test_with_a_model_doctor_reports_it_on_with_its_cross_validated_f1(settings: Settings) -> None:
    rng = random.Random(3)
    texts = [f"{rng.choice(pool)} {n}" for n in range(40) for pool in (CALM, ANGRY)]
    gold = [pool is ANGRY for _ in range(40) for pool in (CALM, ANGRY)]
    model = EscalationModel.train(texts, gold, embeddings="off")
    model.save(settings.path(settings.escalation.signals.learned.model_path))

    check = _doctor(settings)
    assert check.ok
    assert "learned signal on" in check.detail and "trained on 80 labelled messages" in check.detail
    assert "cross-validated F1" in check.detail and "embeddings" not in check.detail


def test_a_corrupt_model_is_a_failed_line_naming_the_file(settings: Settings) -> None:
    path = settings.path(settings.escalation.signals.learned.model_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not a model at all")

    check = _doctor(settings)
    assert not check.ok
    assert str(path) in check.detail and "frontline" in check.detail

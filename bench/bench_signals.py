"""The escalation text signals as a detector on real customer messages (complaints_twitter).

Run:  .venv/bin/python bench/bench_signals.py [--data FILE] [--seeds 3] [--splits 5] [--json]

Each row of the file is one message a customer sent a brand, labelled complaint (1) or not (0);
each is read as one customer message and flagged when its text signals reach the escalation
threshold, exactly as `frontline eval --signals` does. Reported:

* keywords + sentiment, the default with no trained model;
* keywords + learned, the learned model estimated two honest ways: k-fold cross-validation
  (every row scored by a model fitted without it; one run per seed) and repeated 80/20 holdout
  splits (a model trained on 80% with `EscalationModel.train`, as `frontline train --escalation`
  does, scores the other 20%; the protocol of a held-out test split). Three variants: n-grams and
  cues only; with frozen sentence embeddings (the `frontline[embeddings]` extra); and with the
  encoder fine-tuned too (the default with the extra; a few minutes per fit, so fewer runs);
* training time on the whole file and the learned signal's latency on one message.

Nothing is saved and no row of the data leaves this process: the data is read from
../shared/data at run time (it has no stated licence, so no model trained on it is shipped).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "complaints_twitter" / \
    "complaints-data.train.csv"


def read(path: Path) -> tuple[list[str], list[bool]]:
    """The texts and labels of a headerless tweet_id,text,label,domain file."""
    from frontline.datasets import load_labelled_csv

    loaded = load_labelled_csv(path, ("2",), "3", header=False)
    return list(loaded.texts), [label.strip() == "1" for label in loaded.labels]


class CachedEncoder:
    """Wraps an encoder so each distinct text is embedded once across folds and splits."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.name = inner.name
        self.dimension = inner.dimension
        self.where = inner.where
        self._cache: dict[str, np.ndarray] = {}

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            self._cache.update(zip(missing, self._inner.encode(missing), strict=True))
        return np.vstack([self._cache[t] for t in texts]) if texts else self._inner.encode([])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--seeds", type=int, default=3, help="cross-validation runs (one shuffle seed each)")
    parser.add_argument("--splits", type=int, default=5, help="random 80/20 holdout splits")
    parser.add_argument("--tuned-seeds", type=int, default=1, help="cross-validation runs with fine-tuning")
    parser.add_argument("--tuned-splits", type=int, default=3, help="holdout splits with fine-tuning")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not args.data.exists():
        print(f"no data at {args.data}; pass --data", file=sys.stderr)
        return 2

    import frontline.decide.learned as learned
    from frontline.config import Settings
    from frontline.decide import embeddings
    from frontline.decide.signals import evaluate_text_signals

    settings = Settings()
    keywords = settings.escalation.signals.keywords
    texts, gold = read(args.data)
    figures: dict[str, Any] = {"data": str(args.data), "n": len(texts), "positives": sum(gold)}

    base = evaluate_text_signals(texts, gold, settings, learned=None)
    figures["keywords+sentiment"] = {k: base[k] for k in ("precision", "recall", "f1")}

    # (label, embeddings, fine-tune, seeds, splits)
    modes = [("keywords+learned", "off", False, args.seeds, args.splits)]
    if embeddings.available():
        modes += [("keywords+learned+embeddings", "auto", False, args.seeds, args.splits),
                  ("keywords+learned+fine-tuned", "auto", True, args.tuned_seeds, args.tuned_splits)]
    if len(modes) > 1:
        started = time.perf_counter()
        encoder = CachedEncoder(embeddings.load_encoder("auto"))
        figures["encoder_load_s"] = round(time.perf_counter() - started, 2)
        real_load = learned.load_encoder
        learned.load_encoder = lambda spec: encoder if spec == "auto" else real_load(spec)  # type: ignore[assignment]
    else:
        figures["note"] = "frontline[embeddings] is not installed: n-grams and sentiment cues only"

    def decided(probabilities: Sequence[float], rows: Sequence[int]) -> dict[str, float]:
        result = evaluate_text_signals([texts[i] for i in rows], [gold[i] for i in rows], settings,
                                       learned_probabilities=probabilities)
        return {k: result[k] for k in ("precision", "recall", "f1")}

    everyone = list(range(len(texts)))
    for name, mode, finetune, seeds, splits in modes:
        runs = []
        for seed in range(seeds):
            validation = learned.cross_validate(texts, gold, keywords=keywords.words, ignore=keywords.ignore,
                                                embeddings=mode, finetune=finetune, seed=seed)
            runs.append(decided(validation.probabilities.tolist(), everyone))
        holdouts = []
        for split in range(splits):
            order = list(range(len(texts)))
            random.Random(1000 + split).shuffle(order)
            cut = int(len(order) * 0.8)
            train, test = order[:cut], order[cut:]
            model = learned.EscalationModel.train([texts[i] for i in train], [gold[i] for i in train],
                                                  keywords=keywords.words, ignore=keywords.ignore, embeddings=mode,
                                                  finetune=finetune)
            holdouts.append(decided(model.predict_proba([texts[i] for i in test]).tolist(), test))
        started = time.perf_counter()
        model = learned.EscalationModel.train(texts, gold, keywords=keywords.words, ignore=keywords.ignore,
                                              embeddings=mode, finetune=finetune)
        train_s = time.perf_counter() - started
        latencies = []
        for text in texts[:200]:
            started = time.perf_counter()
            model.predict_proba([text + " "])  # not in the encoder's cache
            latencies.append(time.perf_counter() - started)
        figures[name] = {
            "cv_seeds": seeds,
            "holdout_splits": splits,
            "cv_f1_median": round(statistics.median(r["f1"] for r in runs), 4),
            "cv_runs": runs,
            "holdout_f1_median": round(statistics.median(r["f1"] for r in holdouts), 4),
            "holdout_f1_range": [round(min(r["f1"] for r in holdouts), 4), round(max(r["f1"] for r in holdouts), 4)],
            "holdout_runs": holdouts,
            "train_s_full_file": round(train_s, 1),
            "latency_ms_median_one_message": round(statistics.median(latencies) * 1000, 2),
        }

    if args.json:
        print(json.dumps(figures))
        return 0
    print(f"{args.data}: {figures['n']} messages, {figures['positives']} complaints")
    shown = figures["keywords+sentiment"]
    print(f"  keywords+sentiment (no model)        F1 {shown['f1']:.3f}  (P {shown['precision']:.3f}, "
          f"R {shown['recall']:.3f})")
    for key, *_ in modes:
        if key in figures:
            row = figures[key]
            low, high = row["holdout_f1_range"]
            print(f"  {key:<36} F1 {row['cv_f1_median']:.3f} cross-validated (median of {row['cv_seeds']}), "
                  f"{row['holdout_f1_median']:.3f} on 20% holdouts (median of {row['holdout_splits']}, "
                  f"{low:.3f}–{high:.3f}); "
                  f"training {row['train_s_full_file']:.1f}s, {row['latency_ms_median_one_message']:.1f} ms/message")
    if "note" in figures:
        print(f"  ({figures['note']})")
    print("  goal: F1 ≥ 0.80")
    return 0


if __name__ == "__main__":
    sys.exit(main())

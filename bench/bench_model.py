"""The local model on public labelled data: 5-fold cross-validated accuracy, training time, latency.

Run:  .venv/bin/python bench/bench_model.py [--data-dir ../shared/data] [--folds 5] [--json]

banking77 (10,003 banking queries, 77 intents): stratified 5-fold cross-validation of
`TrainedModel.train` (the same code `frontline train` runs, calibration included). Reported: mean
and per-fold accuracy and macro-F1, median training time per fold, median latency of one
single-ticket prediction (what triage pays per ticket when tickets arrive one by one) and batch
throughput. Targets: accuracy ≥ 92%, training < 10 s, prediction < 1 ms per ticket.

NLBSE'24 issue reports (1,500 GitHub issues, bug / feature / question, title + body): the same
cross-validation, to show the model on long, real user-written tickets.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold

from frontline.datasets import load_labelled_csv
from frontline.decide.trained import TrainedModel

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data"
SINGLE_CALLS = 500


def cross_validate(name: str, texts: Sequence[str], labels: Sequence[str], folds: int,
                   latency: bool) -> dict[str, Any]:
    """Stratified k-fold: train on k-1 folds, score the held-out fold."""
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=42)
    accuracies: list[float] = []
    macro_f1s: list[float] = []
    train_seconds: list[float] = []
    single_ms: list[float] = []
    batch_per_s: list[float] = []
    for fold, (train_index, test_index) in enumerate(splitter.split(list(texts), list(labels)), start=1):
        train_texts = [texts[i] for i in train_index]
        train_labels = [labels[i] for i in train_index]
        test_texts = [texts[i] for i in test_index]
        gold = [labels[i] for i in test_index]
        started = time.perf_counter()
        model = TrainedModel.train(train_texts, train_labels, source=name)
        train_seconds.append(time.perf_counter() - started)
        started = time.perf_counter()
        predicted = [label for label, _ in model.predict(test_texts)]
        batch_per_s.append(len(test_texts) / (time.perf_counter() - started))
        accuracies.append(sum(p == g for p, g in zip(predicted, gold, strict=True)) / len(gold))
        macro_f1s.append(float(f1_score(gold, predicted, average="macro")))
        if latency:
            for text in test_texts[:SINGLE_CALLS]:
                started = time.perf_counter()
                model.predict([text])
                single_ms.append((time.perf_counter() - started) * 1000)
        print(f"  {name} fold {fold}/{folds}: accuracy {accuracies[-1]:.4f}, macro-F1 {macro_f1s[-1]:.4f}, "
              f"trained on {len(train_texts)} in {train_seconds[-1]:.2f}s", flush=True)
    result: dict[str, Any] = {
        "dataset": name, "rows": len(texts), "labels": len(set(labels)), "folds": folds,
        "accuracy_mean": statistics.fmean(accuracies), "accuracy_per_fold": accuracies,
        "macro_f1_mean": statistics.fmean(macro_f1s),
        "train_seconds_median": statistics.median(train_seconds),
        "batch_tickets_per_second_median": statistics.median(batch_per_s),
    }
    if single_ms:
        result["single_prediction_ms_median"] = statistics.median(single_ms)
        result["single_prediction_ms_p99"] = sorted(single_ms)[int(len(single_ms) * 0.99) - 1]
    return result


def verdict(ok: bool) -> str:
    """PASS or MISS."""
    return "PASS" if ok else "MISS"


def main() -> None:
    """Run both datasets and print the table (exit 0 either way: a benchmark, not a test)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="Print one JSON object at the end.")
    args = parser.parse_args()
    banking_file = args.data_dir / "banking77" / "train.csv"
    issues_file = args.data_dir / "nlbse24_issues" / "issues_train.csv"
    if not banking_file.exists():
        raise SystemExit(f"{banking_file} not found: pass --data-dir pointing at the shared data folder")
    banking = load_labelled_csv(banking_file, ["text"], "category")
    issues = load_labelled_csv(issues_file, ["title", "body"], "label")
    results = [
        cross_validate("banking77", banking.texts, banking.labels, args.folds, latency=True),
        cross_validate("nlbse24_issues", issues.texts, issues.labels, args.folds, latency=True),
    ]
    b, n = results
    print("\nresults (2 cores; medians over folds)")
    print(f"  banking77  accuracy {b['accuracy_mean']:.2%} (target ≥ 92%) {verdict(b['accuracy_mean'] >= 0.92)}")
    print(f"             macro-F1 {b['macro_f1_mean']:.4f}")
    print(f"             training {b['train_seconds_median']:.2f}s on {b['rows'] * (args.folds - 1) // args.folds} rows"
          f" (target < 10 s) {verdict(b['train_seconds_median'] < 10)}")
    print(f"             one ticket {b['single_prediction_ms_median']:.3f} ms median, "
          f"{b['single_prediction_ms_p99']:.3f} ms p99 (target < 1 ms) "
          f"{verdict(b['single_prediction_ms_median'] < 1)}")
    print(f"             batch {b['batch_tickets_per_second_median']:,.0f} tickets/s")
    print(f"  nlbse24    accuracy {n['accuracy_mean']:.2%}, macro-F1 {n['macro_f1_mean']:.4f} "
          f"(3 balanced classes, chance 33%), training {n['train_seconds_median']:.2f}s, "
          f"one ticket {n['single_prediction_ms_median']:.3f} ms median")
    if args.json:
        print(json.dumps({r["dataset"]: r for r in results}))


if __name__ == "__main__":
    main()

"""Out-of-scope queries: what the trained model sends to review, at its abstain threshold and others.

Run:  .venv/bin/python bench/bench_oos.py [--work DIR]

Data: CLINC150 in ``../shared/data/clinc150`` (skipped when absent). The model is trained on the
in-scope rows of its ``train`` split (15,000 queries, 150 intents; ``oos_train`` is left out, so
out-of-scope is a label the model never sees) and evaluated on the other shared split: ``val``
(3,000 in-scope) with ``oos_val`` (100 out-of-scope). Both go through the commands a user runs,
``frontline train`` and ``frontline eval --json``; the rows are written to a temporary folder only.
Printed: the eval's figures at ``thresholds.model_abstain`` and the trade-off table (abstain
threshold → unknown recall, accuracy of what is routed, in-scope sent to review, review rate).
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLINC = ROOT.parent / "shared" / "data" / "clinc150" / "data_full.train_val.json"
FRONTLINE = Path(sys.executable).with_name("frontline")


def write(path: Path, rows: list[list[str]]) -> None:
    """A two-column CSV (text, intent)."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "intent"])
        writer.writerows(rows)


def main() -> None:
    """Train, evaluate, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, help="Keep the CSVs and the model here (default: a temporary folder).")
    args = parser.parse_args()
    if not CLINC.exists():
        print(f"skipped: {CLINC} is absent")
        return
    data = json.loads(CLINC.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as scratch:
        work = args.work or Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        write(work / "train.csv", data["train"])
        write(work / "eval.csv", data["val"] + data["oos_val"])
        columns = ["--text-column", "text", "--label-column", "intent"]
        model = work / "model.joblib"
        if not model.exists():
            subprocess.run([str(FRONTLINE), "train", "--data", str(work / "train.csv"), *columns, "--out", str(model)],
                           check=True, stdout=subprocess.DEVNULL)
        out = subprocess.run([str(FRONTLINE), "eval", "--model", str(model), "--data", str(work / "eval.csv"),
                              *columns, "--json"], check=True, capture_output=True, text=True).stdout
    report = json.loads(out)
    print(f"accuracy {report['accuracy']:.3f} over all {report['n']} (out-of-scope counted wrong); "
          f"at abstain {report['abstain']:.2f}: unknown_recall {report['unknown_recall']:.3f}, "
          f"known_accuracy {report['known_accuracy']:.3f}, known sent to review {report['known_review']:.3f}")
    print("| abstain below | unknown recall | accuracy of what is routed | in-scope to review | review rate |")
    print("|---|---|---|---|---|")
    for row in report["unknown_sweep"]:
        print(f"| {row['threshold']:.2f} | {row['unknown_recall']:.3f} | {row['known_accuracy']:.3f} | "
              f"{row['known_review']:.3f} | {row['review_rate']:.3f} |")


if __name__ == "__main__":
    main()

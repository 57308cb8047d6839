"""`frontline train` and `frontline eval` from the command line."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from frontline.cli import cli, model  # noqa: F401  (registers the commands)
from tests.decide.test_trained import EXAMPLES
from tests.helpers import SHARED_DATA


@pytest.fixture
def labelled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "history.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["subject", "body", "category"])
        for label, texts in EXAMPLES.items():
            for text in texts:
                writer.writerow([text.split()[0], text, label])
    return path


def test_train_then_eval_prints_json(labelled: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    trained = runner.invoke(cli, ["train", "--data", str(labelled), "--text-column", "subject",
                                  "--text-column", "body", "--label-column", "category", "--out", "m.joblib"])
    assert trained.exit_code == 0, trained.output
    assert "Trained on 30 examples" in trained.output
    result = runner.invoke(cli, ["eval", "--model", "m.joblib", "--data", str(labelled), "--text-column", "subject",
                                 "--text-column", "body", "--label-column", "category", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["n"] == 30 and report["accuracy"] > 0.9 and 0 < report["macro_f1"] <= 1
    human = runner.invoke(cli, ["eval", "--model", "m.joblib", "--data", str(labelled), "--text-column", "body",
                                "--label-column", "category"])
    assert "macro-F1" in human.output and "confidence threshold" in human.output


def test_eval_without_a_model_is_one_clear_sentence(labelled: Path) -> None:
    result = CliRunner().invoke(cli, ["eval", "--model", "missing.joblib", "--data", str(labelled),
                                      "--text-column", "body", "--label-column", "category"])
    assert result.exit_code == 1
    assert "frontline train" in result.output and "Traceback" not in result.output


def test_train_with_a_wrong_column_names_the_columns(labelled: Path) -> None:
    result = CliRunner().invoke(cli, ["train", "--data", str(labelled), "--text-column", "text",
                                      "--label-column", "category", "--out", "m.joblib"])
    assert result.exit_code == 2 and "no column 'text'" in result.output and "subject, body" in result.output


ISSUES = SHARED_DATA / "nlbse24_issues" / "issues_train.csv"


@pytest.mark.skipif(not ISSUES.exists(), reason="shared NLBSE'24 data not beside the checkout")
def test_the_model_learns_real_issue_types(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Real GitHub issues (bug / feature / question): well above the 33% chance level on unseen rows."""
    monkeypatch.chdir(tmp_path)
    with ISSUES.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    random.Random(7).shuffle(rows)
    by_label: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_label.setdefault(row["label"], []).append(row)
    train = [r for group in by_label.values() for r in group[:150]]
    test = [r for group in by_label.values() for r in group[150:230]]
    for name, subset in (("train.csv", train), ("test.csv", test)):
        with (tmp_path / name).open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=["title", "body", "label"], extrasaction="ignore")
            writer.writeheader()
            writer.writerows(subset)
    runner = CliRunner()
    columns = ["--text-column", "title", "--text-column", "body", "--label-column", "label"]
    assert runner.invoke(cli, ["train", "--data", "train.csv", *columns, "--out", "m.joblib"]).exit_code == 0
    report = json.loads(runner.invoke(cli, ["eval", "--model", "m.joblib", "--data", "test.csv", *columns,
                                            "--json"]).output)
    assert report["n"] == 240 and report["accuracy"] >= 0.6

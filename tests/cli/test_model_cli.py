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
from tests.helpers import SHARED_DATA, SHARED_MISSING


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
    report = json.loads(result.stdout)
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


EVAL = ["--text-column", "subject", "--text-column", "body", "--label-column", "category"]


def test_eval_on_the_models_own_training_file_warns(labelled: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["train", "--data", str(labelled), *EVAL, "--out", "m.joblib"]).exit_code == 0
    own = runner.invoke(cli, ["eval", "--model", "m.joblib", "--data", "history.csv", *EVAL])
    assert own.exit_code == 0, own.output
    text = " ".join(own.output.split())
    assert "Warning: the model was trained on this file" in text
    assert "its own training data and overstate" in text and "held-out" in text
    assert "cross-validated accuracy" in text  # the honest figure, recorded when it was trained
    report = json.loads(runner.invoke(cli, ["eval", "--model", "m.joblib", "--data", str(labelled), *EVAL,
                                            "--json"]).stdout)
    assert "own training data" in report["warning"]


def test_eval_on_a_copy_of_the_training_file_warns_too(labelled: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["train", "--data", str(labelled), *EVAL, "--out", "m.joblib"]).exit_code == 0
    copy = tmp_path / "copy" / "renamed.csv"
    copy.parent.mkdir()
    copy.write_bytes(labelled.read_bytes())
    report = json.loads(runner.invoke(cli, ["eval", "--model", "m.joblib", "--data", str(copy), *EVAL,
                                            "--json"]).stdout)
    assert "own training data" in report["warning"]


def test_eval_on_other_data_does_not_warn(labelled: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["train", "--data", str(labelled), *EVAL, "--out", "m.joblib"]).exit_code == 0
    rows = labelled.read_text(encoding="utf-8").splitlines()
    other = tmp_path / "other.csv"
    other.write_text("\n".join(rows[:1] + rows[2:]) + "\n", encoding="utf-8")  # one row fewer: other data
    result = runner.invoke(cli, ["eval", "--model", "m.joblib", "--data", str(other), *EVAL])
    assert result.exit_code == 0 and "Warning" not in result.output
    report = json.loads(runner.invoke(cli, ["eval", "--model", "m.joblib", "--data", str(other), *EVAL,
                                            "--json"]).stdout)
    assert "warning" not in report


def test_a_model_saved_before_the_training_data_was_fingerprinted_loads_and_still_warns_by_path(
        labelled: Path, tmp_path: Path) -> None:
    import joblib

    runner = CliRunner()
    assert runner.invoke(cli, ["train", "--data", str(labelled), *EVAL, "--out", "m.joblib"]).exit_code == 0
    payload = joblib.load("m.joblib")
    del payload["meta"]["source_sha256"]
    joblib.dump(payload, "old.joblib")
    report = json.loads(runner.invoke(cli, ["eval", "--model", "old.joblib", "--data", str(labelled), *EVAL,
                                            "--json"]).stdout)
    assert report["n"] == 30 and "own training data" in report["warning"]


def test_train_off_a_terminal_prints_short_plain_progress_lines_on_stderr(labelled: Path) -> None:
    result = CliRunner().invoke(cli, ["train", "--data", str(labelled), *EVAL, "--out", "m.joblib"])
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert "training: reading 30 texts" in lines
    assert [line for line in lines if "calibration fold" in line] == [
        f"training: calibration fold {fold}/3 done" for fold in (1, 2, 3)]
    assert lines[-1] == "training: final model done" and len(lines) <= 8
    assert "training:" not in result.stdout  # the report itself stays clean for scripts


def test_eval_of_a_large_file_reports_progress_by_batch_not_by_row(labelled: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["train", "--data", str(labelled), *EVAL, "--out", "m.joblib"]).exit_code == 0
    header, *rows = labelled.read_text(encoding="utf-8").splitlines()
    big = tmp_path / "big.csv"
    big.write_text("\n".join([header, *(rows * 84)]) + "\n", encoding="utf-8")  # 2,520 rows
    result = runner.invoke(cli, ["eval", "--model", "m.joblib", "--data", str(big), *EVAL, "--json"])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == ["eval: scored 1,000 of 2,520 texts", "eval: scored 2,000 of 2,520 texts",
                                          "eval: scored 2,520 of 2,520 texts"]
    assert json.loads(result.stdout)["n"] == 2520


ISSUES = SHARED_DATA / "nlbse24_issues" / "issues_train.csv"


@pytest.mark.skipif(not ISSUES.exists(), reason=SHARED_MISSING)
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
                                            "--json"]).stdout)
    assert report["n"] == 240 and report["accuracy"] >= 0.6


# -- `frontline eval --signals`: the escalation text signals as a binary detector ------------------------
SIGNAL_ROWS = [
    ("I'm cancelling, this is unacceptable", "1"),
    ("Still waiting for my refund?! Third time I ask", "1"),
    ("Why is the app STILL broken? Nobody answers", "1"),
    ("The export failed again today", "1"),
    ("Thanks, that fixed it!", "0"),
    ("How do I add a teammate?", "0"),
    ("Love the new dashboard", "0"),
    ("No need to cancel, it works now, thank you", "0"),
]


def write_rows(path: Path, rows: list[tuple[str, ...]], header: tuple[str, ...] | None = ("text", "label")) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        if header:
            writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def messages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return write_rows(tmp_path / "messages.csv", SIGNAL_ROWS)


def test_eval_signals_prints_precision_recall_and_f1_as_json(messages: Path) -> None:
    result = CliRunner().invoke(cli, ["eval", "--signals", "--data", str(messages), "--text-column", "text",
                                      "--label-column", "label", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert {"precision", "recall", "f1", "n", "accuracy", "tp", "fp", "fn", "tn", "baseline_f1", "sweep"} <= set(report)
    assert report["n"] == 8 and report["positives"] == 4
    assert (report["tp"], report["fp"], report["fn"], report["tn"]) == (4, 0, 0, 4)
    assert report["precision"] == report["recall"] == report["f1"] == 1.0
    assert report["baseline_f1"] == pytest.approx(2 / 3, abs=1e-4)
    assert [row["frustrated"] for row in report["sweep"]] == [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]


def test_eval_signals_prints_a_readable_summary(messages: Path) -> None:
    result = CliRunner().invoke(cli, ["eval", "--signals", "--data", str(messages), "--text-column", "text",
                                      "--label-column", "label"])
    assert result.exit_code == 0, result.output
    assert "precision 1.000   recall 1.000   F1 1.000" in result.output
    assert "8 messages (0 skipped), 4 positive" in result.output and "frustrated` levels" in result.output


def test_eval_signals_follows_the_configured_weights(messages: Path, tmp_path: Path) -> None:
    config = tmp_path / "quiet.toml"
    config.write_text("[escalation]\nthreshold = 0.8\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(config), "eval", "--signals", "--data", str(messages),
                                      "--text-column", "text", "--label-column", "label", "--json"])
    report = json.loads(result.output)
    assert report["threshold"] == 0.8 and report["flagged"] == 2  # only keywords and frustrated together


def test_eval_signals_reads_a_file_without_a_header_by_column_number(tmp_path: Path) -> None:
    data = write_rows(tmp_path / "raw.csv", [(f"id{i}", text, label) for i, (text, label) in  # type: ignore[misc]
                                             enumerate(SIGNAL_ROWS)], header=None)
    result = CliRunner().invoke(cli, ["eval", "--signals", "--data", str(data), "--no-header", "--text-column", "2",
                                      "--label-column", "3", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["n"] == 8


def test_a_headerless_file_read_with_names_suggests_no_header(tmp_path: Path) -> None:
    data = write_rows(tmp_path / "raw.csv", [("17", "I want a refund right now please", "1"), ("18", "hi", "0")],
                      header=None)
    result = CliRunner().invoke(cli, ["eval", "--signals", "--data", str(data), "--text-column", "text",
                                      "--label-column", "label"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "no column 'text', 'label'" in result.output and "--no-header" in result.output


@pytest.mark.parametrize(("args", "message"), [
    (["--text-column", "body", "--label-column", "label"], "no column 'body' (columns: text, label)"),
    (["--no-header", "--text-column", "5", "--label-column", "2"], "no column '5' (columns: 1 to 2)"),
])
def test_eval_signals_names_a_missing_column_in_one_sentence(messages: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, ["eval", "--signals", "--data", str(messages), *args])
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


def test_eval_signals_refuses_labels_that_are_not_binary(tmp_path: Path) -> None:
    data = write_rows(tmp_path / "three.csv", [("bad", "negative"), ("meh", "neutral"), ("good", "positive")])
    result = CliRunner().invoke(cli, ["eval", "--signals", "--data", str(data), "--text-column", "text",
                                      "--label-column", "label"])
    assert result.exit_code == 2
    assert "holds 3 labels (negative, neutral, positive), not 0/1" in result.output
    assert "--positive-label" in result.output


def test_eval_signals_scores_one_label_against_the_rest(tmp_path: Path) -> None:
    rows = [(text, "negative" if label == "1" else "positive") for text, label in SIGNAL_ROWS]
    data = write_rows(tmp_path / "named.csv", rows)
    base = ["eval", "--signals", "--data", str(data), "--text-column", "text", "--label-column", "label"]
    result = CliRunner().invoke(cli, [*base, "--positive-label", "Negative", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["f1"] == 1.0
    unknown = CliRunner().invoke(cli, [*base, "--positive-label", "angry"])
    assert unknown.exit_code == 2 and "no row has the label 'angry'" in unknown.output


@pytest.mark.parametrize(("content", "message"), [
    ("", "it is empty"),
    ("text,label\n", "no rows with both text and a label"),
    ("text,label\n,1\nhello,\n", "no rows with both text and a label"),
])
def test_eval_signals_on_a_file_with_nothing_to_score_says_so(tmp_path: Path, content: str, message: str) -> None:
    data = tmp_path / "empty.csv"
    data.write_text(content, encoding="utf-8")
    result = CliRunner().invoke(cli, ["eval", "--signals", "--data", str(data), "--text-column", "text",
                                      "--label-column", "label"])
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


def test_eval_signals_with_a_model_is_a_usage_error(messages: Path) -> None:
    result = CliRunner().invoke(cli, ["eval", "--signals", "--model", "m.joblib", "--data", str(messages),
                                      "--text-column", "text", "--label-column", "label"])
    assert result.exit_code == 2 and "leave out --model" in result.output


COMPLAINTS = SHARED_DATA / "complaints_twitter" / "complaints-data.train.csv"


@pytest.mark.skipif(not COMPLAINTS.exists(), reason=SHARED_MISSING)
def test_the_signals_detect_real_complaints(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Real tweets to brands (no header; text in column 2, label in 3): F1 well above flagging everything."""
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["eval", "--signals", "--data", str(COMPLAINTS), "--no-header",
                                      "--text-column", "2", "--label-column", "3", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["n"] == 2759 and report["positives"] == 995
    assert report["f1"] >= report["baseline_f1"] + 0.1  # flagging everything: 0.53
    assert report["accuracy"] > 1 - 995 / 2759 + 0.1  # always saying "no complaint": 0.64
    assert report["precision"] > 0.65


def test_eval_on_labels_the_model_was_not_trained_on_reports_what_went_to_review(labelled: Path,
                                                                               tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["train", "--data", str(labelled), *EVAL, "--out", "m.joblib"]).exit_code == 0
    mixed = tmp_path / "mixed.csv"
    rows = labelled.read_text(encoding="utf-8").splitlines()
    mixed.write_text("\n".join([*rows, "weather,what will the weather be tomorrow in paris,oos",
                                "recipe,how long do I boil an egg,oos"]) + "\n", encoding="utf-8")
    report = json.loads(runner.invoke(cli, ["eval", "--model", "m.joblib", "--data", str(mixed), *EVAL,
                                            "--json"]).stdout)
    assert report["unknown"] == 2 and report["known"] == 30 and report["unknown_labels"] == ["oos"]
    assert 0.0 <= report["unknown_recall"] <= 1.0 and report["known_accuracy"] > 0.9
    assert report["unknown_to_review"] == round(report["unknown_recall"] * 2)
    assert [row["threshold"] for row in report["unknown_sweep"]][-1] == 0.9
    human = runner.invoke(cli, ["eval", "--model", "m.joblib", "--data", str(mixed), *EVAL]).output
    assert "2 examples have labels the model does not know (oos)" in human
    assert "sent to review" in human and "known accuracy" in human
    plain = json.loads(runner.invoke(cli, ["eval", "--model", "m.joblib", "--data", str(labelled), *EVAL,
                                           "--json"]).stdout)
    assert "unknown_recall" not in plain and "known_accuracy" not in plain

"""The learned escalation signal where it is used: the scorer, `eval --signals`, `train --escalation`, escalate.

Every model here is trained on small synthetic messages made below, without sentence embeddings.
"""

from __future__ import annotations

import json
import random
import re
import stat
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from frontline.cli import cli, model  # noqa: F401  (registers the commands)
from frontline.config import Settings
from frontline.decide.learned import EscalationModel
from frontline.decide.signals import LEARNED_SWEEP, SWEEP, EscalationScorer, evaluate_text_signals
from frontline.model import Conversation
from tests.cli.test_model_cli import write_rows
from tests.decide.test_signals import NOW, agent, conversation, customer, named
from tests.flows.test_escalate import alerts, escalate, seed, thread
from tests.helpers import make_settings

QUESTIONS = ["How do I {action}?", "Could you explain how to {action}, please?", "Is there a way to {action}? Thanks!",
             "Quick question: where can I {action}?", "Hi team, what is the best way to {action}?",
             "Hello, I would like to {action}. Where do I start?"]
ACTIONS = ["export my invoices to CSV", "change my password", "add a teammate to the workspace",
           "update the shipping address", "turn on email notifications", "switch to dark mode",
           "connect my calendar", "download a receipt", "track my order", "rename a project"]
# No configured keyword in these: what flags them is what the model learned.
COMPLAINTS = ["My {thing} {problem} and nobody answers my emails!",
              "I have been waiting {days} days, my {thing} {problem}.",
              "Still nothing after {days} days?! My {thing} {problem}. Fix it today.",
              "Why does nobody reply? My {thing} {problem} and I keep waiting!",
              "{days} days of waiting and my {thing} {problem}. Where is my money?",
              "Third time writing: my {thing} {problem}. This is a joke."]
THINGS = ["order", "package", "parcel", "replacement", "delivery", "laptop"]
PROBLEMS = ["never arrived", "is still missing", "arrived broken", "got lost again", "is two weeks late",
            "was never sent"]


def labelled(count: int, seed: int) -> list[tuple[str, bool]]:
    """``count`` messages, every third an angry complaint (True), the rest calm how-to questions (False)."""
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        if i % 3 == 0:
            text = rng.choice(COMPLAINTS).format(thing=rng.choice(THINGS), problem=rng.choice(PROBLEMS),
                                                 days=rng.randint(3, 30))
        else:
            text = rng.choice(QUESTIONS).format(action=rng.choice(ACTIONS))
        rows.append((text, i % 3 == 0))
    return rows


TRAINING = labelled(100, seed=11)
HELD_OUT = labelled(60, seed=12)
DEFAULTS = Settings()

CALM = "Could you explain how to connect my calendar?"
COMPLAINT = "This is a disgrace. My laptop arrived broken, nobody replies and I am losing my patience!"
MILD = "My order is late"  # the model leans to escalation, not overwhelmingly
RUDE = "You people are clowns, what a joke of a company"  # frustrated to the lexicon, not like the complaints
PROBABILITY = re.compile(r"\((\d\.\d\d) ≥ (\d\.\d\d)\)")


def settings_with(**learned: object) -> Settings:
    """Default settings with some `[escalation.signals.learned]` keys set."""
    return Settings.model_validate({"escalation": {"signals": {"learned": {"embeddings": "off", **learned}}}})


@pytest.fixture(scope="module")
def trained() -> EscalationModel:
    keywords = DEFAULTS.escalation.signals.keywords
    return EscalationModel.train([t for t, _ in TRAINING], [g for _, g in TRAINING], keywords=keywords.words,
                                 ignore=keywords.ignore, embeddings="off", source="synthetic")


def probability(escalation_model: EscalationModel, text: str) -> float:
    return float(escalation_model.predict_proba([text])[0])


def complaint_in_the_middle() -> Conversation:
    return conversation(customer(CALM), agent("Open Settings, then Calendar."), customer(COMPLAINT),
                        agent("So sorry, we are on it."), customer("Thanks, talk soon."))


# -- the scorer ------------------------------------------------------------------------------------------------
def test_a_complaint_gets_the_learned_signal_naming_its_message_and_probability(trained: EscalationModel) -> None:
    escalation = EscalationScorer(DEFAULTS, learned=trained).score(complaint_in_the_middle(), NOW)
    signal = named(escalation.signals)["learned"]
    assert signal.weight == 0.4 and escalation.escalate
    assert signal.detail.startswith("the customer's 2nd message reads like an escalation (")
    assert "trained on 100 labelled messages" in signal.detail
    shown = PROBABILITY.search(signal.detail)
    assert shown is not None, signal.detail
    assert float(shown.group(1)) == pytest.approx(probability(trained, COMPLAINT), abs=0.005)
    assert float(shown.group(2)) == 0.5


def test_a_calm_conversation_gets_no_learned_signal(trained: EscalationModel) -> None:
    calm = conversation(customer(CALM), agent("Open Settings, then Calendar."),
                        customer("Is there a way to switch to dark mode? Thanks!"))
    escalation = EscalationScorer(DEFAULTS, learned=trained).score(calm, NOW)
    assert "learned" not in named(escalation.signals) and not escalation.escalate


def test_while_learned_is_on_the_sentiment_label_adds_nothing_but_worsening_still_fires(
        trained: EscalationModel) -> None:
    worse = conversation(customer(CALM), agent("Open Settings, then Calendar."), customer(COMPLAINT))
    escalation = EscalationScorer(DEFAULTS, learned=trained).score(worse, NOW)
    assert escalation.sentiment is not None and escalation.sentiment.label == "frustrated"  # still read
    fired = named(escalation.signals)
    assert "sentiment" not in fired
    assert "the customer's 2nd message" in fired["learned"].detail
    assert fired["sentiment_worsening"].weight == 0.1


def test_a_frustrated_message_the_model_does_not_flag_no_longer_escalates_on_tone(trained: EscalationModel) -> None:
    assert probability(trained, RUDE) < 0.5
    rude = conversation(customer(RUDE))
    with_model = EscalationScorer(DEFAULTS, learned=trained).score(rude, NOW)
    assert with_model.signals == () and not with_model.escalate
    without = EscalationScorer(DEFAULTS, learned=None).score(rude, NOW)  # the old behaviour
    assert named(without.signals)["sentiment"].weight == 0.4 and without.escalate
    assert "learned" not in named(without.signals)


def test_without_a_model_the_sentiment_label_fires_as_before(trained: EscalationModel) -> None:
    worse = conversation(customer(CALM), agent("Open Settings, then Calendar."), customer(COMPLAINT))
    fired = named(EscalationScorer(DEFAULTS, learned=None).score(worse, NOW).signals)
    assert set(fired) == {"sentiment", "sentiment_worsening"}
    assert fired["sentiment"].detail.startswith("frustrated (")


def test_the_configured_at_least_overrides_the_models_threshold(trained: EscalationModel) -> None:
    mild = conversation(customer(MILD))
    p = probability(trained, MILD)
    assert 0.55 <= p < 0.95  # precondition: fires at the model's 0.5, not at the levels below
    assert "learned" in named(EscalationScorer(settings_with(), learned=trained).score(mild, NOW).signals)
    strict = EscalationScorer(settings_with(at_least=0.99), learned=trained)
    assert strict.learned_threshold == 0.99
    assert "learned" not in named(strict.score(mild, NOW).signals)
    assert "learned" not in named(strict.score(conversation(customer(f"{MILD}.")), NOW).signals)
    loose = EscalationScorer(settings_with(at_least=0.52), learned=trained).score(mild, NOW)
    assert "≥ 0.52)" in named(loose.signals)["learned"].detail
    assert "the customer's message reads" in named(loose.signals)["learned"].detail  # one message: no ordinal


def test_the_configured_weight_is_the_learned_signals_weight(trained: EscalationModel) -> None:
    mild = conversation(customer(MILD))
    light = EscalationScorer(settings_with(weight=0.15), learned=trained).score(mild, NOW)
    assert named(light.signals)["learned"].weight == 0.15
    assert light.score == 0.15 and not light.escalate  # below the 0.4 threshold on its own
    heavy = EscalationScorer(settings_with(weight=0.6), learned=trained).score(mild, NOW)
    assert heavy.score == 0.6 and heavy.escalate


def test_the_scorer_loads_the_model_from_the_workspace_only_when_the_file_exists(
        workspace: Path, trained: EscalationModel) -> None:
    settings = make_settings(workspace, '[escalation.signals.learned]\nembeddings = "off"\n'
                                        'model_path = "models/escalation.joblib"\n')
    before = EscalationScorer(settings)
    assert before.learned is None
    assert "learned" not in named(before.score(complaint_in_the_middle(), NOW).signals)
    trained.save(workspace / "models" / "escalation.joblib")
    after = EscalationScorer(settings)
    assert after.learned is not None and after.learned.meta.source == "synthetic"
    fired = named(after.score(complaint_in_the_middle(), NOW).signals)
    assert "the customer's 2nd message" in fired["learned"].detail


# -- evaluate_text_signals -----------------------------------------------------------------------------------
# (text, has a keyword, given probability, gold)
ROWS = [("I want a refund now", True, 0.10, True),
        ("How do I export my invoices?", False, 0.20, False),
        ("My parcel never arrived", False, 0.50, True),
        ("Is my package on its way?", False, 0.49, True),
        ("This is unacceptable", True, 0.90, False),
        (RUDE, False, 0.05, True)]
TEXTS = [row[0] for row in ROWS]
GIVEN = [row[2] for row in ROWS]
GOLD = [row[3] for row in ROWS]


def test_given_probabilities_a_message_escalates_on_a_keyword_or_the_probability() -> None:
    scorer = EscalationScorer(DEFAULTS, learned=None)
    assert [bool(scorer.keyword_hits(text)) for text in TEXTS] == [row[1] for row in ROWS]  # precondition
    result = evaluate_text_signals(TEXTS, GOLD, DEFAULTS, learned=None, learned_probabilities=GIVEN)
    # flagged: rows 0 and 4 (keywords), 2 (0.50 ≥ 0.5); not 3 (0.49) nor the rude 5 (tone does not count)
    assert (result["tp"], result["fp"], result["fn"], result["tn"]) == (2, 1, 2, 1)
    assert result["flagged"] == 3 and result["signals"] == ["keywords", "learned"]
    assert result["fired"] == {"keywords": 2, "learned": 2}
    assert result["learned"] == {"at_least": 0.5}
    assert result["sweep_knob"] == "at_least"
    sweep = {row["at_least"]: row for row in result["sweep"]}
    assert list(sweep) == list(LEARNED_SWEEP)
    assert sweep[0.5]["f1"] == result["f1"]
    assert (sweep[0.45]["precision"], sweep[0.45]["recall"]) == (0.75, 0.75)  # row 3 joins at 0.45
    assert (sweep[0.7]["precision"], sweep[0.7]["recall"]) == (0.5, 0.25)  # row 2 leaves at 0.7


def test_given_probabilities_the_configured_at_least_moves_the_decision() -> None:
    settings = settings_with(at_least=0.45)
    result = evaluate_text_signals(TEXTS, GOLD, settings, learned=None, learned_probabilities=GIVEN)
    assert result["flagged"] == 4 and result["fired"]["learned"] == 3 and result["learned"]["at_least"] == 0.45


def test_without_the_learned_signal_the_knob_is_frustrated_and_the_tone_counts() -> None:
    result = evaluate_text_signals(TEXTS, GOLD, DEFAULTS, learned=None)
    assert result["signals"] == ["keywords", "sentiment"] and "learned" not in result
    assert result["sweep_knob"] == "frustrated" and [row["frustrated"] for row in result["sweep"]] == list(SWEEP)
    assert set(result["fired"]) == {"keywords", "frustrated", "negative"} and result["fired"]["frustrated"] >= 1
    assert result["tp"] >= 2  # the rude message escalates on its tone alone


def test_with_a_model_its_probabilities_decide_and_its_metadata_is_reported(trained: EscalationModel) -> None:
    texts = [t for t, _ in HELD_OUT]
    result = evaluate_text_signals(texts, [g for _, g in HELD_OUT], DEFAULTS, learned=trained)
    assert result["fired"]["learned"] == int((trained.predict_proba(texts) >= 0.5).sum())
    assert result["learned"]["model"]["training_size"] == 100 and result["learned"]["at_least"] == 0.5
    assert result["f1"] > 0.9


# -- the command line ------------------------------------------------------------------------------------------
HEADER = ("id", "text", "label")


def as_rows(data: list[tuple[str, bool]], yes: str = "1", no: str = "0") -> list[tuple[str, ...]]:
    return [(str(i), text, yes if gold else no) for i, (text, gold) in enumerate(data)]


@pytest.fixture
def config(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A configuration whose workspace is the test's, with sentence embeddings off."""
    monkeypatch.chdir(workspace.parent)
    make_settings(workspace, '[escalation.signals.learned]\nembeddings = "off"\n')
    return workspace / "frontline.toml"


@pytest.fixture
def train_csv(tmp_path: Path) -> Path:
    return write_rows(tmp_path / "train.csv", as_rows(TRAINING), HEADER)


@pytest.fixture
def test_csv(tmp_path: Path) -> Path:
    return write_rows(tmp_path / "test.csv", as_rows(HELD_OUT), HEADER)


def invoke(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--config", str(config), *args])
    return result.exit_code, result.output


def invoke_json(config: Path, *args: str) -> tuple[int, Any]:
    """Exit code and the JSON report on stdout (progress lines go to stderr)."""
    result = CliRunner().invoke(cli, ["--config", str(config), *args])
    return result.exit_code, json.loads(result.stdout) if result.exit_code == 0 else result.output


def train_args(data: Path, *extra: str) -> list[str]:
    return ["train", "--escalation", "--data", str(data), "--text-column", "text", "--label-column", "label",
            "--embeddings", "off", *extra]


def eval_args(data: Path, *extra: str) -> list[str]:
    return ["eval", "--signals", "--data", str(data), "--text-column", "text", "--label-column", "label", *extra]


def test_train_escalation_saves_a_private_model_in_the_workspace_and_prints_its_scores(
        config: Path, workspace: Path, train_csv: Path) -> None:
    code, output = invoke(config, *train_args(train_csv))
    assert code == 0, output
    saved = workspace / "escalation-model.joblib"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    meta = EscalationModel.load(saved).meta
    assert (meta.training_size, meta.positives, meta.embeddings, meta.source) == (100, 34, None, str(train_csv))
    text = " ".join(output.split())
    assert "Trained the escalation model on 100 messages (34 escalations, 0 rows skipped)" in text
    assert "with no sentence embeddings" in text
    scores = meta.scores
    assert (f"Cross-validated at 0.50: precision {scores['cv_precision']:.3f}, recall {scores['cv_recall']:.3f}, "
            f"F1 {scores['cv_f1']:.3f}") in text
    assert scores["cv_f1"] > 0.8
    assert f"Saved to {saved}" in text


def test_train_escalation_reads_named_labels_from_a_file_without_a_header(
        config: Path, workspace: Path, tmp_path: Path) -> None:
    data = write_rows(tmp_path / "raw.csv", as_rows(TRAINING, yes="complaint", no="question"), header=None)
    base = ["train", "--escalation", "--data", str(data), "--no-header", "--text-column", "2",
            "--label-column", "3", "--embeddings", "off"]
    code, output = invoke(config, *base, "--positive-label", "Complaint")
    assert code == 0, output
    meta = EscalationModel.load(workspace / "escalation-model.joblib").meta
    assert (meta.training_size, meta.positives) == (100, 34)
    inverted = tmp_path / "inverted.joblib"
    code, output = invoke(config, *base, "--positive-label", "question", "--out", str(inverted))
    assert code == 0, output
    assert EscalationModel.load(inverted).meta.positives == 66


@pytest.mark.parametrize(("extra", "message"), [
    ((), "holds 2 labels (complaint, question), not 0/1"),
    (("--positive-label", "angry"), "no row has the label 'angry'"),
])
def test_train_escalation_refuses_labels_it_cannot_read_as_yes_or_no(
        config: Path, workspace: Path, tmp_path: Path, extra: tuple[str, ...], message: str) -> None:
    data = write_rows(tmp_path / "named.csv", as_rows(TRAINING, yes="complaint", no="question"), HEADER)
    code, output = invoke(config, *train_args(data, *extra))
    assert code == 2 and message in " ".join(output.split()) and "--positive-label" in output
    assert "Traceback" not in output and not (workspace / "escalation-model.joblib").exists()


def test_eval_signals_cross_validates_the_learned_signal_on_the_file_itself(
        config: Path, workspace: Path, train_csv: Path) -> None:
    code, report = invoke_json(config, *eval_args(train_csv, "--cv", "3", "--json"))
    assert code == 0, report
    assert report["n"] == 100 and report["positives"] == 34 and report["signals"] == ["keywords", "learned"]
    assert 0.8 < report["f1"] <= 1 and 0 < report["precision"] <= 1 and 0 < report["recall"] <= 1
    assert report["f1"] > report["baseline_f1"]
    assert report["learned"]["how"] == "the learned signal cross-validated in 3 folds on this file"
    assert "model" not in report["learned"] and "warning" not in report["learned"]
    assert not (workspace / "escalation-model.joblib").exists()  # nothing saved


def test_eval_signals_cross_validation_off_a_terminal_prints_a_line_per_fold(
        config: Path, train_csv: Path) -> None:
    result = CliRunner().invoke(cli, ["--config", str(config), *eval_args(train_csv, "--cv", "3", "--json")])
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert lines[0] == "eval --signals: reading 100 messages"
    assert [line.split(" (")[0] for line in lines[1:]] == [
        f"eval --signals: fold {fold} of 3 done" for fold in (1, 2, 3)]
    assert all("(F1 so far 0." in line or "(F1 so far 1." in line for line in lines[1:])
    assert json.loads(result.stdout)["n"] == 100


def test_eval_signals_trains_on_one_file_and_scores_another(
        config: Path, workspace: Path, train_csv: Path, test_csv: Path) -> None:
    code, report = invoke_json(config, *eval_args(test_csv, "--train", str(train_csv), "--json"))
    assert code == 0, report
    assert report["n"] == 60 and report["positives"] == 20 and report["signals"] == ["keywords", "learned"]
    assert report["f1"] > 0.8
    learned = report["learned"]
    assert learned["how"] == f"the learned signal trained on {train_csv} (100 messages)"
    assert learned["model"]["source"] == str(train_csv) and learned["model"]["embeddings"] is None
    assert "warning" not in learned
    assert not (workspace / "escalation-model.joblib").exists()


def test_after_training_eval_signals_uses_the_saved_model_and_warns_on_its_own_training_file(
        config: Path, train_csv: Path, test_csv: Path) -> None:
    assert invoke(config, *train_args(train_csv))[0] == 0
    code, output = invoke(config, *eval_args(test_csv, "--json"))
    assert code == 0, output
    held_out = json.loads(output)
    assert held_out["signals"] == ["keywords", "learned"] and held_out["sweep_knob"] == "at_least"
    assert held_out["learned"]["how"] == "the configured learned model" and "warning" not in held_out["learned"]
    code, output = invoke(config, *eval_args(train_csv, "--json"))
    own = json.loads(output)
    assert "trained on this file" in own["learned"]["warning"] and "--cv" in own["learned"]["warning"]
    code, output = invoke(config, *eval_args(train_csv))
    text = " ".join(output.split())
    assert code == 0 and "scored on keywords + learned only" in text
    assert "Warning: the learned model was trained on this file" in text
    code, output = invoke(config, *eval_args(train_csv, "--no-learned", "--json"))
    plain = json.loads(output)
    assert plain["signals"] == ["keywords", "sentiment"] and plain["sweep_knob"] == "frustrated"
    assert "learned" not in plain and "learned" not in plain["fired"]


def test_eval_signals_warns_on_a_copy_of_the_learned_models_training_file(
        config: Path, train_csv: Path, tmp_path: Path) -> None:
    assert invoke(config, *train_args(train_csv))[0] == 0
    copy = tmp_path / "elsewhere.csv"
    copy.write_bytes(train_csv.read_bytes())
    code, output = invoke(config, *eval_args(copy, "--json"))
    assert code == 0, output
    warning = json.loads(output)["learned"]["warning"]
    assert "trained on this file" in warning and "own training data" in warning and "--cv" in warning


def test_eval_signals_trained_and_scored_on_one_file_warns(config: Path, train_csv: Path) -> None:
    code, report = invoke_json(config, *eval_args(train_csv, "--train", str(train_csv), "--json"))
    assert code == 0, report
    assert "own training data" in report["learned"]["warning"]


def test_eval_signals_learned_without_a_model_file_says_how_to_train_one(
        config: Path, workspace: Path, test_csv: Path) -> None:
    code, output = invoke(config, *eval_args(test_csv, "--learned"))
    text = " ".join(output.split())
    assert code == 2 and "Traceback" not in output
    assert "escalation-model.joblib" in text and "frontline train --escalation" in text


@pytest.mark.parametrize(("args", "message"), [
    (["eval", "--signals", "--train", "train.csv", "--cv", "3"], "not both"),
    (["eval", "--signals", "--no-learned", "--cv", "3"], "leave out --no-learned"),
    (["eval", "--cv", "3"], "go with --signals"),
    (["eval", "--train", "train.csv"], "go with --signals"),
    (["train", "--positive-label", "complaint"], "go with --escalation"),
    (["train", "--embeddings", "off"], "go with --escalation"),
])
def test_learned_options_in_the_wrong_combination_are_usage_errors(
        config: Path, train_csv: Path, args: list[str], message: str) -> None:
    code, output = invoke(config, *args, "--data", str(train_csv), "--text-column", "text", "--label-column", "label")
    assert code == 2 and message in " ".join(output.split()) and "Traceback" not in output


# -- escalate ------------------------------------------------------------------------------------------------------
def test_escalate_with_a_learned_model_in_the_workspace_names_the_learned_signal(
        workspace: Path, trained: EscalationModel) -> None:
    settings = make_settings(workspace, '[classifier]\nkind = "rules"\n[escalation.signals.learned]\n'
                                        'embeddings = "off"\n')
    trained.save(settings.path(settings.escalation.signals.learned.model_path))
    source = seed(settings,
                  thread("c1", ("customer", CALM, 3), ("agent", "Open Settings, then Calendar.", 2.5),
                         ("customer", COMPLAINT, 1)),
                  thread("c2", ("customer", "Is there a way to switch to dark mode? Thanks!", 1)))
    summary = escalate(settings)
    assert summary.escalated == 1 and not summary.failures and summary.by_signal["learned"] == 1
    assert source.notes("c2") == []
    note = source.notes("c1")[0]
    assert "learned +0.40 (the customer's 2nd message reads like an escalation" in note
    assert "keywords" not in note and "sentiment +" not in note  # no keyword: the model escalated it
    alert = alerts(settings)[0]
    assert "learned +0.40" in str(alert["blocks"])


def test_a_training_file_whose_name_holds_rich_markup_is_printed_as_written(
        config: Path, tmp_path: Path, test_csv: Path) -> None:
    # "[/]" in the --train file's name was read as Rich markup: the summary line crashed with a MarkupError.
    (tmp_path / "data [").mkdir()  # with the file's "]", its path holds "[/]"
    odd = write_rows(tmp_path / "data [" / "] [bold]v2.csv", as_rows(TRAINING), HEADER)
    result = CliRunner().invoke(cli, ["--config", str(config), *eval_args(test_csv, "--train", str(odd))])
    assert result.exception is None, result.exception
    assert result.exit_code == 0, result.output
    assert f"the learned signal trained on {odd} (100 messages)" in " ".join(result.output.split())

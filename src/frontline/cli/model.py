"""`frontline train` and `frontline eval`: the local model from labelled history."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from frontline import private
from frontline.cli import cli
from frontline.cli.common import console, plural, settings_from
from frontline.config import Settings
from frontline.errors import DataFileError, TrainingDataError


def _load(data: Path, text_columns: tuple[str, ...], label_column: str, *,
          header: bool = True) -> tuple[list[str], list[str], int]:
    from frontline.datasets import load_labelled_csv

    loaded = load_labelled_csv(data, text_columns, label_column, header=header)
    return list(loaded.texts), list(loaded.labels), len(loaded.skipped)


def _train_severity(texts: list[str], levels: list[str], out: Path, source: str) -> None:
    from frontline.decide.trained import TrainedModel
    from frontline.decide.triage import severity_model_path

    model = TrainedModel.train(texts, levels, source=source)
    target = severity_model_path(out)
    model.save(target)
    accuracy = model.meta.scores.get("cv_accuracy")
    shown = f", cross-validated accuracy {accuracy:.1%}" if accuracy is not None else ""
    console.print(f"Trained the severity model on {len(texts)} examples{shown}. Saved to {target}.")


@cli.command("train")
@click.option("--data", type=click.Path(path_type=Path), help="Labelled CSV file.")
@click.option("--text-column", "text_columns", multiple=True, help="Text column (repeat for title and body).")
@click.option("--label-column", help="Label column.")
@click.option("--severity-column", help="Also train a severity model (P0–P3) from this column.")
@click.option("--from-helpdesk", is_flag=True, help="Train on the embedded helpdesk's labelled past tickets.")
@click.option("--out", type=click.Path(path_type=Path), help="Where to save the model (default: configured path).")
@click.pass_context
def train(ctx: click.Context, data: Path | None, text_columns: tuple[str, ...], label_column: str | None,
          severity_column: str | None, from_helpdesk: bool, out: Path | None) -> None:
    """Train the local classifier from labelled history (a CSV, or the helpdesk's own tickets)."""
    from frontline.decide.trained import TrainedModel

    settings = settings_from(ctx)
    if from_helpdesk:
        from frontline.connectors.local.helpdesk import LocalHelpdesk

        rows = LocalHelpdesk.from_settings(settings).labelled()
        texts, labels, skipped = [r[0] for r in rows], [r[1] for r in rows], 0
        severity_rows = [(r[0], r[2]) for r in rows if r[2]]
        source = "helpdesk history"
        if not texts:
            raise TrainingDataError("the helpdesk holds no tickets with a category label; import history "
                                    "with a `category` column first, or pass --data FILE.csv")
    else:
        if data is None or not text_columns or not label_column:
            raise click.UsageError("Pass --data FILE.csv --text-column COL --label-column COL, or --from-helpdesk.")
        texts, labels, skipped = _load(data, text_columns, label_column)
        source = str(data)
        severity_rows = []
        if severity_column:
            severity_texts, severity_labels, _ = _load(data, text_columns, severity_column)
            severity_rows = list(zip(severity_texts, severity_labels, strict=True))
    started = time.perf_counter()
    model = TrainedModel.train(texts, labels, source=source)
    elapsed = time.perf_counter() - started
    target = out or settings.model_file
    private.folder(target.parent)
    model.save(target)
    if severity_rows:
        _train_severity([r[0] for r in severity_rows], [r[1].upper() for r in severity_rows], target, source)
    labels_known = sorted(set(model.labels))
    console.print(f"Trained on {len(texts)} examples ({plural(skipped, 'row')} skipped) in {elapsed:.1f}s: "
                  f"{len(labels_known)} labels. Saved to {target}.")
    outside = sorted(set(labels_known) - set(settings.categories))
    if outside:
        console.print(f"[yellow]Note:[/] labels {', '.join(outside[:8])} are not configured categories; "
                      "triage will refuse this model until the taxonomy matches.")


@cli.command("eval")
@click.option("--model", "model_path", type=click.Path(path_type=Path), help="Model file (default: configured).")
@click.option("--signals", is_flag=True,
              help="Score the escalation text signals (keywords + sentiment) as a binary detector instead of a model.")
@click.option("--data", type=click.Path(path_type=Path), required=True, help="Labelled CSV file.")
@click.option("--text-column", "text_columns", multiple=True, required=True, help="Text column (repeatable).")
@click.option("--label-column", required=True, help="Label column.")
@click.option("--no-header", is_flag=True, help="The file has no header row: name columns by number, from 1.")
@click.option("--positive-label", help="With --signals: this label is the positive class, every other one is not "
                                       "(default: labels must be 0/1).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def evaluate_command(ctx: click.Context, model_path: Path | None, signals: bool, data: Path,
                     text_columns: tuple[str, ...], label_column: str, no_header: bool, positive_label: str | None,
                     as_json: bool) -> None:
    """Score a model on labelled data (accuracy, macro-F1, per class…), or with --signals the escalation signals."""
    from frontline.decide.evaluation import evaluate
    from frontline.decide.trained import TrainedModel

    settings = settings_from(ctx)
    if signals:
        if model_path is not None:
            raise click.UsageError("--signals scores the escalation signals, not a model: leave out --model.")
        _evaluate_signals(settings, data, text_columns, label_column, header=not no_header,
                          positive_label=positive_label, as_json=as_json)
        return
    if positive_label is not None:
        raise click.UsageError("--positive-label goes with --signals.")
    model = TrainedModel.load(model_path or settings.model_file)
    texts, labels, skipped = _load(data, text_columns, label_column, header=not no_header)
    if not texts:
        raise TrainingDataError(f"{data} has no usable rows to evaluate on")
    report = evaluate(model.predict(texts), labels)
    result = report.to_dict()
    result["skipped_rows"] = skipped
    if as_json:
        click.echo(json.dumps(result))
        return
    console.print(f"[bold]{data}[/]: {result['n']} examples ({skipped} skipped)")
    console.print(f"accuracy {result['accuracy']:.3f}   macro-F1 {result['macro_f1']:.3f}")
    console.print("\nper class (precision / recall / F1 / support):")
    for label, scores in sorted(result["per_class"].items()):
        console.print(f"  {label:<28} {scores['precision']:.3f}  {scores['recall']:.3f}  "
                      f"{scores['f1']:.3f}  {scores['support']}")
    if result["confusions"]:
        console.print("\nmost frequent confusions (gold → predicted: count):")
        for item in result["confusions"][:10]:
            gold, predicted, count = (item["gold"], item["predicted"], item["count"]) if isinstance(item, dict) \
                else item
            console.print(f"  {gold} → {predicted}: {count}")
    console.print("\nconfidence threshold: coverage / accuracy of covered")
    for row in result["thresholds"]:
        threshold, coverage, accuracy = (row["threshold"], row["coverage"], row["accuracy"]) \
            if isinstance(row, dict) else row
        shown = f"{accuracy:.3f}" if accuracy is not None else "  -  "
        console.print(f"  ≥ {threshold:.2f}: {coverage:.3f} / {shown}")


TRUE_LABELS = frozenset({"1", "1.0", "true", "yes", "y", "t"})
FALSE_LABELS = frozenset({"0", "0.0", "false", "no", "n", "f"})


def _binary(labels: list[str], data: Path, label_column: str, positive_label: str | None) -> list[bool]:
    """Gold labels as booleans: ``--positive-label`` against the rest, or 0/1 (true/false, yes/no)."""
    values = {label.strip().casefold() for label in labels}
    if positive_label is not None:
        wanted = positive_label.strip().casefold()
        if wanted not in values:
            shown = ", ".join(sorted(values)[:10])
            raise DataFileError(str(data), f"no row has the label {positive_label!r} in column {label_column!r} "
                                           f"(labels: {shown}); pass one of them to --positive-label")
        return [label.strip().casefold() == wanted for label in labels]
    if not values <= TRUE_LABELS | FALSE_LABELS:
        shown = ", ".join(sorted(values)[:10]) + (", …" if len(values) > 10 else "")
        raise DataFileError(str(data), f"column {label_column!r} holds {plural(len(values), 'label')} ({shown}), "
                                       "not 0/1; pass --positive-label VALUE to score one label against the rest")
    return [label.strip().casefold() in TRUE_LABELS for label in labels]


def _evaluate_signals(settings: Settings, data: Path, text_columns: tuple[str, ...], label_column: str, *,
                      header: bool, positive_label: str | None, as_json: bool) -> None:
    """`frontline eval --signals`: each row one customer message; flagged when keywords + sentiment escalate."""
    from frontline.decide.signals import evaluate_text_signals

    texts, labels, skipped = _load(data, text_columns, label_column, header=header)
    if not texts:
        raise DataFileError(str(data), "it has no rows with both text and a label to evaluate on")
    gold = _binary(labels, data, label_column, positive_label)
    started = time.perf_counter()
    result = evaluate_text_signals(texts, gold, settings)
    result["seconds"] = round(time.perf_counter() - started, 2)
    result["skipped_rows"] = skipped
    result["data"] = str(data)
    if as_json:
        click.echo(json.dumps(result))
        return
    console.print(f"[bold]{data}[/]: {result['n']} messages ({skipped} skipped), {result['positives']} positive; "
                  "each read as one customer message, scored on keywords + sentiment only")
    console.print(f"flagged {result['flagged']} (keywords + sentiment reach the threshold "
                  f"{result['threshold']:.2f})")
    console.print(f"precision {result['precision']:.3f}   recall {result['recall']:.3f}   F1 {result['f1']:.3f}   "
                  f"accuracy {result['accuracy']:.3f}   (F1 flagging everything: {result['baseline_f1']:.3f})")
    fired = result["fired"]
    console.print(f"fired: keywords {fired['keywords']}, frustrated {fired['frustrated']}, "
                  f"negative {fired['negative']}")
    console.print("\nat other `escalation.signals.sentiment.frustrated` levels (precision / recall / F1):")
    for row in result["sweep"]:
        console.print(f"  {row['frustrated']:.2f}: {row['precision']:.3f} / {row['recall']:.3f} / {row['f1']:.3f}")

"""`frontline train` and `frontline eval`: the local model from labelled history."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from frontline import private
from frontline.cli.common import ProgressReport, console, plural, safe, settings_from
from frontline.cli.group import cli
from frontline.config import Settings
from frontline.errors import DataFileError, TrainingDataError


def _load(data: Path, text_columns: tuple[str, ...], label_column: str, *,
          header: bool = True) -> tuple[list[str], list[str], int]:
    from frontline.datasets import load_labelled_csv

    loaded = load_labelled_csv(data, text_columns, label_column, header=header)
    return list(loaded.texts), list(loaded.labels), len(loaded.skipped)


def own_data_warning(data: Path, source: str, digest: str, *, subject: str, remedy: str) -> str | None:
    """The warning for scoring a model on its own training data, or None when ``data`` is other data.

    One wording for `eval` and `eval --signals`: the model recorded its training file's path and
    hash (``source``, ``digest``), and a copy under another name counts too.
    """
    from frontline.datasets import is_training_data

    if not is_training_data(data, source, digest):
        return None
    return (f"{subject} was trained on this file, so these figures are on its own training data and overstate "
            f"its accuracy; {remedy}")


def _train_severity(texts: list[str], levels: list[str], out: Path, source: str, digest: str) -> None:
    from frontline.decide.trained import TrainedModel
    from frontline.decide.triage import severity_model_path

    with ProgressReport("training the severity model") as progress:
        model = TrainedModel.train(texts, levels, source=source, source_sha256=digest, on_progress=progress)
    target = severity_model_path(out)
    model.save(target)
    accuracy = model.meta.scores.get("cv_accuracy")
    shown = f", cross-validated accuracy {accuracy:.1%}" if accuracy is not None else ""
    console.print(f"Trained the severity model on {len(texts)} examples{shown}. Saved to {safe(target)}.")


@cli.command("train")
@click.option("--data", type=click.Path(path_type=Path), help="Labelled CSV file.")
@click.option("--text-column", "text_columns", multiple=True, help="Text column (repeat for title and body).")
@click.option("--label-column", help="Label column.")
@click.option("--severity-column", help="Also train a severity model (P0–P3) from this column.")
@click.option("--from-helpdesk", is_flag=True, help="Train on the embedded helpdesk's labelled past tickets.")
@click.option("--escalation", is_flag=True,
              help="Train the escalation model (the `learned` signal) instead: labels say which messages needed "
                   "escalating (0/1, or --positive-label).")
@click.option("--no-header", is_flag=True, help="The file has no header row: name columns by number, from 1.")
@click.option("--positive-label", help="With --escalation: this label means escalate, every other one does not.")
@click.option("--embeddings", help="With --escalation: sentence encoder (auto, off, a model folder or name; "
                                   "default: escalation.signals.learned.embeddings).")
@click.option("--finetune/--no-finetune", default=None,
              help="With --escalation and an encoder: also fine-tune the encoder (default: "
                   "escalation.signals.learned.finetune, on).")
@click.option("--out", type=click.Path(path_type=Path), help="Where to save the model (default: configured path).")
@click.pass_context
def train(ctx: click.Context, data: Path | None, text_columns: tuple[str, ...], label_column: str | None,
          severity_column: str | None, from_helpdesk: bool, escalation: bool, no_header: bool,
          positive_label: str | None, embeddings: str | None, finetune: bool | None, out: Path | None) -> None:
    """Train the local classifier from labelled history (a CSV, or the helpdesk's own tickets).

    With --escalation, train the escalation model from labelled customer messages instead.
    """
    from frontline.decide.trained import TrainedModel

    settings = settings_from(ctx)
    if escalation:
        if from_helpdesk or severity_column:
            raise click.UsageError("--escalation trains from --data FILE.csv only (no --from-helpdesk or "
                                   "--severity-column).")
        if data is None or not text_columns or not label_column:
            raise click.UsageError("Pass --data FILE.csv --text-column COL --label-column COL with --escalation.")
        _train_escalation(settings, data, text_columns, label_column, header=not no_header,
                          positive_label=positive_label, embeddings=embeddings, finetune=finetune, out=out)
        return
    if positive_label is not None or embeddings is not None or finetune is not None:
        raise click.UsageError("--positive-label, --embeddings and --finetune go with --escalation.")
    if from_helpdesk:
        from frontline.connectors.local.helpdesk import LocalHelpdesk

        rows = LocalHelpdesk.from_settings(settings).labelled()
        texts, labels, skipped = [r[0] for r in rows], [r[1] for r in rows], 0
        severity_rows = [(r[0], r[2]) for r in rows if r[2]]
        source, digest = "helpdesk history", ""
        if not texts:
            raise TrainingDataError("the helpdesk holds no tickets with a category label; import history "
                                    "with a `category` column first, or pass --data FILE.csv")
    else:
        if data is None or not text_columns or not label_column:
            raise click.UsageError("Pass --data FILE.csv --text-column COL --label-column COL, or --from-helpdesk.")
        from frontline.datasets import fingerprint

        texts, labels, skipped = _load(data, text_columns, label_column, header=not no_header)
        source, digest = str(data.resolve()), fingerprint(data)
        severity_rows = []
        if severity_column:
            severity_texts, severity_labels, _ = _load(data, text_columns, severity_column, header=not no_header)
            severity_rows = list(zip(severity_texts, severity_labels, strict=True))
    started = time.perf_counter()
    with ProgressReport("training") as progress:
        model = TrainedModel.train(texts, labels, source=source, source_sha256=digest, on_progress=progress)
    elapsed = time.perf_counter() - started
    target = out or settings.model_file
    private.folder(target.parent)
    model.save(target)
    if severity_rows:
        _train_severity([r[0] for r in severity_rows], [r[1].upper() for r in severity_rows], target, source,
                        digest)
    labels_known = sorted(set(model.labels))
    console.print(f"Trained on {len(texts)} examples ({plural(skipped, 'row')} skipped) in {elapsed:.1f}s: "
                  f"{len(labels_known)} labels. Saved to {safe(target)}.")
    outside = sorted(set(labels_known) - set(settings.categories))
    if outside:
        console.print(f"[yellow]Note:[/] labels {safe(', '.join(outside[:8]))} are not configured categories; "
                      "triage will refuse this model until the taxonomy matches.")


@cli.command("eval")
@click.option("--model", "model_path", type=click.Path(path_type=Path), help="Model file (default: configured).")
@click.option("--signals", is_flag=True,
              help="Score the escalation text signals (keywords + sentiment) as a binary detector instead of a model.")
@click.option("--kb", "kb_mode", is_flag=True,
              help="Score KB search instead: index --kb-dir, search each --query-column, expect --article-column.")
@click.option("--kb-dir", type=click.Path(path_type=Path), help="With --kb: folder of .md articles (id: file stem).")
@click.option("--query-column", help="With --kb: the query column.")
@click.option("--article-column", help="With --kb: the column naming the right article (its file stem).")
@click.option("--duplicates", "duplicates_mode", is_flag=True,
              help="Score the duplicate finder instead: replay --data in time order against --pairs.")
@click.option("--id-column", help="With --duplicates: the ticket id column.")
@click.option("--time-column", help="With --duplicates: the creation time column (default: the file's order).")
@click.option("--pairs", "pairs_file", type=click.Path(path_type=Path),
              help="With --duplicates: CSV of an id and its duplicate id(s), comma-separated in one column.")
@click.option("--embeddings", default="auto", show_default=True,
              help="With --kb or --duplicates: sentence encoder (auto, off, a model folder or name).")
@click.option("--data", type=click.Path(path_type=Path), required=True, help="Labelled CSV file.")
@click.option("--text-column", "text_columns", multiple=True,
              help="Text column (repeatable; with --duplicates the first is the summary).")
@click.option("--label-column", help="Label column.")
@click.option("--no-header", is_flag=True, help="The file has no header row: name columns by number, from 1.")
@click.option("--positive-label", help="With --signals: this label is the positive class, every other one is not "
                                       "(default: labels must be 0/1).")
@click.option("--learned/--no-learned", default=None,
              help="With --signals: use the learned signal (default: when its model file exists) or not.")
@click.option("--train", "train_data", type=click.Path(path_type=Path),
              help="With --signals: train the learned signal on this labelled file first (same columns; "
                   "nothing is saved), then score --data.")
@click.option("--cv", "folds", type=click.IntRange(2, 20),
              help="With --signals: cross-validate the learned signal on --data itself in this many folds.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def evaluate_command(ctx: click.Context, model_path: Path | None, signals: bool, kb_mode: bool, kb_dir: Path | None,
                     query_column: str | None, article_column: str | None, duplicates_mode: bool,
                     id_column: str | None, time_column: str | None, pairs_file: Path | None, embeddings: str,
                     data: Path, text_columns: tuple[str, ...], label_column: str | None, no_header: bool,
                     positive_label: str | None, learned: bool | None, train_data: Path | None, folds: int | None,
                     as_json: bool) -> None:
    """Score a model on labelled data (accuracy, macro-F1, per class…), or with --signals the escalation signals.

    With --kb, KB search (hit@1, hit@3, MRR@10); with --duplicates, the duplicate finder (recall@1/5/10, MRR).
    """
    from frontline.decide.evaluation import evaluate, unknown_report
    from frontline.decide.trained import TrainedModel

    if kb_mode or duplicates_mode:
        if kb_mode and duplicates_mode:
            raise click.UsageError("Pass either --kb or --duplicates, not both.")
        extra = [name for name, given in (("--model", model_path), ("--signals", signals),
                                          ("--label-column", label_column), ("--positive-label", positive_label),
                                          ("--train", train_data), ("--cv", folds)) if given]
        if extra:
            raise click.UsageError(f"{', '.join(extra)} do not go with --kb or --duplicates.")
        _evaluate_retrieval(kb_mode=kb_mode, kb_dir=kb_dir, query_column=query_column,
                            article_column=article_column, id_column=id_column, time_column=time_column,
                            pairs_file=pairs_file, embeddings=embeddings, data=data, text_columns=text_columns,
                            as_json=as_json)
        return
    if kb_dir or query_column or article_column or id_column or time_column or pairs_file:
        raise click.UsageError("--kb-dir, --query-column and --article-column go with --kb; --id-column, "
                               "--time-column and --pairs with --duplicates.")
    if not text_columns or not label_column:
        raise click.UsageError("Pass --text-column COL and --label-column COL.")
    settings = settings_from(ctx)
    if signals:
        if model_path is not None:
            raise click.UsageError("--signals scores the escalation signals, not a model: leave out --model.")
        if learned is False and (train_data is not None or folds is not None):
            raise click.UsageError("--train and --cv fit the learned signal: leave out --no-learned.")
        if train_data is not None and folds is not None:
            raise click.UsageError("Pass either --train FILE (score --data with a model fitted on FILE) or --cv K "
                                   "(cross-validate on --data), not both.")
        _evaluate_signals(settings, data, text_columns, label_column, header=not no_header,
                          positive_label=positive_label, as_json=as_json,
                          learned=LearnedChoice(use=learned, train=train_data, folds=folds))
        return
    if positive_label is not None or learned is not None or train_data is not None or folds is not None:
        raise click.UsageError("--positive-label, --learned, --train and --cv go with --signals.")
    model = TrainedModel.load(model_path or settings.model_file)
    texts, labels, skipped = _load(data, text_columns, label_column, header=not no_header)
    if not texts:
        raise TrainingDataError(f"{data} has no usable rows to evaluate on")
    with ProgressReport("eval") as progress:
        predictions = model.predict(texts, on_progress=progress)
    report = evaluate(predictions, labels)
    result = report.to_dict()
    result["skipped_rows"] = skipped
    accuracy = model.meta.scores.get("cv_accuracy")
    honest = f" (the cross-validated accuracy recorded when it was trained is {accuracy:.3f})" \
        if accuracy is not None else ""
    warning = own_data_warning(data, model.meta.source, model.meta.source_sha256, subject="the model",
                               remedy=f"evaluate on held-out data{honest}")
    if warning:
        result["warning"] = warning
    unknown = unknown_report(predictions, labels, model.meta.labels, settings.thresholds.model_abstain)
    if unknown is not None:
        result.update(unknown.to_dict())
    if as_json:
        click.echo(json.dumps(result))
        return
    console.print(f"[bold]{safe(data)}[/]: {result['n']} examples ({skipped} skipped)")
    if warning:
        console.print(f"[yellow]Warning:[/] {safe(warning)}")
    console.print(f"accuracy {result['accuracy']:.3f}   macro-F1 {result['macro_f1']:.3f}")
    console.print("\nper class (precision / recall / F1 / support):")
    for label, scores in sorted(result["per_class"].items()):
        console.print(f"  {safe(label):<28} {scores['precision']:.3f}  {scores['recall']:.3f}  "
                      f"{scores['f1']:.3f}  {scores['support']}")
    if result["confusions"]:
        console.print("\nmost frequent confusions (gold → predicted: count):")
        for item in result["confusions"][:10]:
            gold, predicted, count = (item["gold"], item["predicted"], item["count"]) if isinstance(item, dict) \
                else item
            console.print(f"  {safe(gold)} → {safe(predicted)}: {count}")
    console.print("\nconfidence threshold: coverage / accuracy of covered")
    for row in result["thresholds"]:
        threshold, coverage, accuracy = (row["threshold"], row["coverage"], row["accuracy"]) \
            if isinstance(row, dict) else row
        shown = f"{accuracy:.3f}" if accuracy is not None else "  -  "
        console.print(f"  ≥ {threshold:.2f}: {coverage:.3f} / {shown}")
    if unknown is not None:
        _print_unknown(result)


def _print_unknown(result: dict[str, Any]) -> None:
    """Labels the model was never taught: how many went to review, and the accuracy on the rest."""
    names = ", ".join(safe(label) for label in result["unknown_labels"][:5])
    more = len(result["unknown_labels"]) - 5
    accuracy = result["known_accuracy"]
    console.print(f"\n{result['unknown']} examples have labels the model does not know ({names}"
                  f"{f' and {more} more' if more > 0 else ''}): {result['unknown_to_review']} sent to review "
                  f"(unknown recall {result['unknown_recall']:.3f}) at the abstain threshold {result['abstain']:.2f}; "
                  f"on the {result['known']} it knows, accuracy "
                  f"{f'{accuracy:.3f}' if accuracy is not None else '-'} of those not sent to review "
                  f"({result['known_review']:.1%} sent to review).")
    console.print("abstain threshold: unknown recall / known accuracy / known sent to review / review rate")
    for row in result["unknown_sweep"]:
        shown = f"{row['known_accuracy']:.3f}" if row["known_accuracy"] is not None else "  -  "
        console.print(f"  < {row['threshold']:.2f}: {row['unknown_recall']:.3f} / {shown} / "
                      f"{row['known_review']:.3f} / {row['review_rate']:.3f}")


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


@dataclass(frozen=True)
class LearnedChoice:
    """What `eval --signals` does about the learned signal."""

    use: bool | None = None  # None: the configured model when its file exists
    train: Path | None = None
    folds: int | None = None


def _escalation_labels(data: Path, text_columns: tuple[str, ...], label_column: str, *, header: bool,
                       positive_label: str | None) -> tuple[list[str], list[bool], int]:
    texts, labels, skipped = _load(data, text_columns, label_column, header=header)
    if not texts:
        raise DataFileError(str(data), "it has no rows with both text and a label")
    return texts, _binary(labels, data, label_column, positive_label), skipped


def _train_escalation(settings: Settings, data: Path, text_columns: tuple[str, ...], label_column: str, *,
                      header: bool, positive_label: str | None, embeddings: str | None, finetune: bool | None,
                      out: Path | None) -> None:
    from frontline.datasets import fingerprint
    from frontline.decide.learned import EscalationModel

    learned = settings.escalation.signals.learned
    keywords = settings.escalation.signals.keywords
    texts, gold, skipped = _escalation_labels(data, text_columns, label_column, header=header,
                                              positive_label=positive_label)
    started = time.perf_counter()
    tune = learned.finetune if finetune is None else finetune
    if tune and (embeddings or learned.embeddings).strip().casefold() != "off":
        console.print(f"Training on {len(texts)} messages; fine-tuning the sentence encoder takes a few minutes "
                      "on a CPU (--no-finetune skips it)…")
    with ProgressReport("training") as progress:
        model = EscalationModel.train(texts, gold, keywords=keywords.words, ignore=keywords.ignore,
                                      embeddings=embeddings or learned.embeddings, finetune=tune,
                                      source=str(data.resolve()), source_sha256=fingerprint(data),
                                      on_progress=progress)
    elapsed = time.perf_counter() - started
    target = out or settings.path(learned.model_path)
    model.save(target)
    meta = model.meta
    scores = meta.scores
    encoder = (f"sentence embeddings {safe(meta.embeddings)}" + (", fine-tuned" if meta.finetuned else "")
               if meta.embeddings else "no sentence embeddings")
    console.print(f"Trained the escalation model on {len(texts)} messages ({sum(gold)} escalations, "
                  f"{plural(skipped, 'row')} skipped) in {elapsed:.1f}s, with {encoder}.")
    part = "The linear part, cross-validated" if meta.finetuned else "Cross-validated"
    console.print(f"{part} at {meta.threshold:.2f}: precision {scores['cv_precision']:.3f}, recall "
                  f"{scores['cv_recall']:.3f}, F1 {scores['cv_f1']:.3f} (F1-best threshold on those folds: "
                  f"{scores['cv_best_threshold']:.2f}, F1 {scores['cv_best_f1']:.3f}).")
    if meta.finetuned:
        console.print("For the whole model with its fine-tuned encoder: frontline eval --signals --cv 5 on the same "
                      "file (it fine-tunes once per fold).")
    console.print(f"Saved to {safe(target)}. The `learned` signal is on for escalate while this file exists "
                  f"(weight {learned.weight:g}; it stands in for the sentiment label).")
    if out is not None and settings.path(learned.model_path).resolve() != Path(out).resolve():
        console.print("[yellow]Note:[/] escalate reads escalation.signals.learned.model_path = "
                      f"{safe(repr(learned.model_path))}; point it at {safe(out)} to use this model.")


def _evaluate_signals(settings: Settings, data: Path, text_columns: tuple[str, ...], label_column: str, *,
                      header: bool, positive_label: str | None, as_json: bool,
                      learned: LearnedChoice = LearnedChoice()) -> None:
    """`frontline eval --signals`: each row one customer message; flagged when its text signals escalate."""
    from frontline.decide.signals import evaluate_text_signals, learned_model

    texts, gold, skipped = _escalation_labels(data, text_columns, label_column, header=header,
                                              positive_label=positive_label)
    started = time.perf_counter()
    config = settings.escalation.signals
    how = "the configured learned model"
    probabilities = None
    model = None
    if learned.folds is not None:
        from frontline.decide.learned import cross_validate

        with ProgressReport("eval --signals") as progress:
            validation = cross_validate(texts, gold, keywords=config.keywords.words, ignore=config.keywords.ignore,
                                        embeddings=config.learned.embeddings, finetune=config.learned.finetune,
                                        folds=learned.folds, on_progress=progress)
        probabilities = validation.probabilities.tolist()
        how = f"the learned signal cross-validated in {learned.folds} folds on this file"
    elif learned.train is not None:
        from frontline.datasets import fingerprint
        from frontline.decide.learned import EscalationModel

        train_texts, train_gold, _ = _escalation_labels(learned.train, text_columns, label_column, header=header,
                                                        positive_label=positive_label)
        with ProgressReport(f"eval --signals: training on {learned.train.name}") as progress:
            model = EscalationModel.train(train_texts, train_gold, keywords=config.keywords.words,
                                          ignore=config.keywords.ignore, embeddings=config.learned.embeddings,
                                          finetune=config.learned.finetune, source=str(learned.train.resolve()),
                                          source_sha256=fingerprint(learned.train), on_progress=progress)
        how = f"the learned signal trained on {learned.train} ({len(train_texts)} messages)"
    elif learned.use is not False:
        model = learned_model(settings)
        if learned.use and model is None:
            raise DataFileError(str(settings.path(config.learned.model_path)),
                                "there is no escalation model there; train one with `frontline train --escalation "
                                "--data FILE.csv --text-column COL --label-column COL`")
    result = evaluate_text_signals(texts, gold, settings, learned=model, learned_probabilities=probabilities)
    result["seconds"] = round(time.perf_counter() - started, 2)
    result["skipped_rows"] = skipped
    result["data"] = str(data)
    on = "learned" in result["signals"]
    if on:
        result["learned"]["how"] = how
        warning = None if model is None else own_data_warning(
            data, model.meta.source, model.meta.source_sha256, subject="the learned model",
            remedy="score a held-out file, or pass --cv K to cross-validate on this one")
        if warning:
            result["learned"]["warning"] = warning
    if as_json:
        click.echo(json.dumps(result))
        return
    signals_read = "keywords + learned" if on else "keywords + sentiment"
    console.print(f"[bold]{safe(data)}[/]: {result['n']} messages ({skipped} skipped), {result['positives']} positive; "
                  f"each read as one customer message, scored on {signals_read} only")
    if on:
        console.print(f"learned signal: {safe(how)}, firing at {result['learned']['at_least']:.2f}")
        if "warning" in result["learned"]:
            console.print(f"[yellow]Warning:[/] {safe(result['learned']['warning'])}")
    console.print(f"flagged {result['flagged']} ({signals_read} reach the threshold {result['threshold']:.2f})")
    console.print(f"precision {result['precision']:.3f}   recall {result['recall']:.3f}   F1 {result['f1']:.3f}   "
                  f"accuracy {result['accuracy']:.3f}   (F1 flagging everything: {result['baseline_f1']:.3f})")
    console.print("fired: " + ", ".join(f"{safe(name)} {count}" for name, count in result["fired"].items()))
    knob = result["sweep_knob"]
    setting = "learned.at_least" if knob == "at_least" else "sentiment.frustrated"
    console.print(f"\nat other `escalation.signals.{setting}` levels (precision / recall / F1):")
    for row in result["sweep"]:
        console.print(f"  {row[knob]:.2f}: {row['precision']:.3f} / {row['recall']:.3f} / {row['f1']:.3f}")


def _evaluate_retrieval(*, kb_mode: bool, kb_dir: Path | None, query_column: str | None,
                        article_column: str | None, id_column: str | None, time_column: str | None,
                        pairs_file: Path | None, embeddings: str, data: Path, text_columns: tuple[str, ...],
                        as_json: bool) -> None:
    """`eval --kb` and `eval --duplicates` (see :mod:`frontline.cli.retrieval_eval`)."""
    from frontline.cli.retrieval_eval import evaluate_duplicates, evaluate_kb

    if kb_mode:
        if kb_dir is None or not query_column or not article_column:
            raise click.UsageError("--kb needs --kb-dir DIR --query-column COL --article-column COL.")
        if text_columns or id_column or time_column or pairs_file:
            raise click.UsageError("--text-column, --id-column, --time-column and --pairs go with --duplicates.")
        evaluate_kb(kb_dir, data, query_column, article_column, embeddings=embeddings, as_json=as_json)
        return
    if not id_column or not text_columns or pairs_file is None:
        raise click.UsageError("--duplicates needs --id-column COL --text-column COL --pairs PAIRS.csv.")
    if kb_dir or query_column or article_column:
        raise click.UsageError("--kb-dir, --query-column and --article-column go with --kb.")
    evaluate_duplicates(data, id_column, text_columns, time_column, pairs_file, embeddings=embeddings,
                        as_json=as_json)

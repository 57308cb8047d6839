"""Builds the demo workspace: generated tickets and history, the KB, a trained model, a config."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from frontline.config import Settings, load_settings

DEMO_FILES = ("frontline.db", "helpdesk.db", "kb.db", "outbox.jsonl", "model.joblib", "tickets.jsonl",
              "history.csv", "frontline.toml", "conversations.db", "conversations.jsonl", "tracker.db")
KB_SOURCE = Path(__file__).with_name("kb")


@dataclass(frozen=True)
class DemoWorkspace:
    """Where the demo put things."""

    folder: Path
    config: Path
    settings: Settings
    tickets: int
    history: int
    articles: int
    model_accuracy: float | None
    conversations: int
    # The moment the conversations were generated up to: scoring them as of it gives the same
    # hours open, and so the same escalations, however long the build took or when it ran.
    now: datetime


def _clean(folder: Path) -> None:
    for name in DEMO_FILES:
        for path in folder.glob(name + "*"):  # includes SQLite -wal/-shm companions
            path.unlink()
    for name in ("kb", "issues"):
        if (folder / name).is_dir():
            shutil.rmtree(folder / name)


def build_demo(folder: Path, *, tickets: int = 120, history: int = 3000, seed: int = 7,
               conversations: int = 150, now: datetime | None = None, storm: int = 0) -> DemoWorkspace:
    """Create (or recreate) a self-contained demo workspace in ``folder``.

    With ``storm`` that many customers also report one failure within the same hour
    (:mod:`frontline.demo.storm`): triage opens an incident for them.

    The conversations end at ``now`` (the clock's, to the second, by default) and are the same
    whenever it is: score them as of the workspace's ``now`` for the same figures on every run.
    """
    from frontline.connectors.local.conversations import LocalConversations
    from frontline.connectors.local.helpdesk import LocalHelpdesk
    from frontline.connectors.local.importer import read_conversations, read_tickets
    from frontline.connectors.local.kb import LocalKnowledgeBase
    from frontline.decide.trained import TrainedModel
    from frontline.decide.triage import severity_model_path
    from frontline.demo.conversations import generate_conversations
    from frontline.demo.generator import generate_history, generate_tickets, write_csv, write_jsonl

    folder = folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    _clean(folder)
    config = folder / "frontline.toml"
    config.write_text(
        "# Demo workspace written by `frontline demo`. Use it with:\n"
        f"#   frontline --config {config} run triage\n"
        "[local]\n"
        f'workspace = "{folder.as_posix()}"\n'
        'kb_dir = "kb"\n',
        encoding="utf-8",
    )
    settings = load_settings(config, dotenv=None)

    shutil.copytree(KB_SOURCE, folder / "kb")
    kb = LocalKnowledgeBase(settings.path("kb.db"), encoder=settings.local.kb_embeddings)
    articles = kb.index(folder / "kb").total

    past = generate_history(history, seed=seed + 4)
    write_csv(past, folder / "history.csv")
    texts = [f"{r['subject']}\n{r['description']}" for r in past]
    labels = [str(r["category"]) for r in past]
    model = TrainedModel.train(texts, labels, source="demo history")
    model.save(settings.model_file)
    severity = TrainedModel.train(texts, [str(r["severity"]) for r in past], source="demo history")
    severity.save(severity_model_path(settings.model_file))
    accuracy = model.meta.scores.get("cv_accuracy")

    if storm:
        from frontline.demo.storm import generate_storm

        live = generate_storm(tickets, storm, seed=seed).records
    else:
        live = generate_tickets(tickets, seed=seed)
    write_jsonl(live, folder / "tickets.jsonl")
    report = read_tickets(folder / "tickets.jsonl")
    LocalHelpdesk.from_settings(settings).upsert(report.records)

    moment = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    threads = generate_conversations(conversations, seed=seed, now=moment)
    write_jsonl(threads, folder / "conversations.jsonl")
    source = LocalConversations.from_settings(settings)
    source.upsert(read_conversations(folder / "conversations.jsonl").records)
    return DemoWorkspace(folder, config, settings, len(report.records), len(past), articles, accuracy,
                         len(threads), moment)

"""Escalate-flow throughput: 10,000 generated conversations end to end on the embedded default.

Run:  .venv/bin/python bench/bench_escalate.py [--conversations 10000] [--repeat 3]

Setup (not timed): a workspace with N generated Beacon conversations (about a fifth of them
escalation-worthy by the generator's ground truth) imported into the embedded conversation source.
Timed: one `run escalate` in a fresh subprocess per repetition, on a fresh copy of the workspace:
fetch → skip escalated → score signals (keywords, sentiment, hours open, replies, reopens) →
customer value → category (rules) → issue in the embedded tracker → alert to the outbox → private
note → ledger. Reported: median conversations/s, peak RSS of the run, and the detector against the
ground truth on the open conversations (precision, recall).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench_triage import peak_rss_mb, run_on_copy


def prepare(folder: Path, conversations: int) -> Path:
    """Generate and import the conversations; returns the config file."""
    from frontline.config import load_settings
    from frontline.connectors.local.conversations import LocalConversations
    from frontline.connectors.local.importer import read_conversations
    from frontline.demo.conversations import generate_conversations, write_jsonl

    folder.mkdir(parents=True)
    config = folder / "frontline.toml"
    config.write_text(f'[local]\nworkspace = "{folder.as_posix()}"\necho = false\n[classifier]\nkind = "rules"\n',
                      encoding="utf-8")
    write_jsonl(generate_conversations(conversations, seed=21, now=datetime.now(UTC)), folder / "c.jsonl")
    settings = load_settings(config, dotenv=None)
    LocalConversations.from_settings(settings).upsert(read_conversations(folder / "c.jsonl").records)
    return config


def escalate_only(config: Path) -> None:
    """The timed part, in its own process so its memory is its own."""
    from frontline.config import load_settings
    from frontline.engine.services import open_flow
    from frontline.flows.escalate import run_escalate

    settings = load_settings(config, dotenv=None)

    async def go() -> tuple[int, int, float]:
        async with open_flow("escalate", settings, echo=None) as services:
            started = time.perf_counter()
            summary = await run_escalate(services)
            return summary.scored, summary.escalated, time.perf_counter() - started

    scored, escalated, elapsed = asyncio.run(go())
    print(json.dumps({"scored": scored, "escalated": escalated, "seconds": elapsed, "peak_rss_mb": peak_rss_mb()}))


def against_truth(config: Path) -> tuple[float, float, int]:
    """Precision and recall of the escalations on open conversations, by the generator's labels."""
    from frontline.config import load_settings
    from frontline.connectors.local.conversations import LocalConversations
    from frontline.store.state import StateStore

    settings = load_settings(config, dotenv=None)
    source = LocalConversations.from_settings(settings)
    labels = source.labels()
    open_ids = [row[0] for row in source._db.execute("SELECT id FROM conversations WHERE state != 'closed'")]
    store = StateStore.open(settings.state_url)
    escalated = store.handled_among("escalate", open_ids)
    truth = {cid for cid in open_ids if labels[cid]["escalate"]}
    hits = len(truth & escalated)
    return hits / max(len(escalated), 1), hits / max(len(truth), 1), len(open_ids)


def main() -> None:
    """Prepare once, then time the flow on fresh copies."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--run-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_only:
        escalate_only(args.run_only)
        return
    with tempfile.TemporaryDirectory(prefix="frontline-bench-") as tmp:
        base = Path(tmp) / "base"
        started = time.perf_counter()
        prepare(base, args.conversations)
        print(f"prepared {args.conversations} conversations in {time.perf_counter() - started:.1f}s")
        rates, peaks = [], []
        copy = base
        for attempt in range(args.repeat):
            copy = Path(tmp) / f"run{attempt}"
            result = run_on_copy(base, copy, __file__)
            rates.append(args.conversations / result["seconds"])
            peaks.append(result["peak_rss_mb"])
            print(f"run {attempt + 1}: {args.conversations} conversations ({result['scored']} open scored, "
                  f"{result['escalated']} escalated) in {result['seconds']:.2f}s = {rates[-1]:,.0f}/s, "
                  f"peak RSS {result['peak_rss_mb']:.0f} MB")
        precision, recall, open_count = against_truth(copy / "frontline.toml")
        print(f"median: {statistics.median(rates):,.0f} conversations/s; peak RSS max {max(peaks):.0f} MB")
        print(f"escalations against the ground truth on {open_count} open conversations: "
              f"precision {precision:.1%}, recall {recall:.1%}")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    main()

"""A real process killed with SIGKILL at random moments, restarted until done: nothing lost or doubled."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from frontline.connectors.local.helpdesk import LocalHelpdesk
from tests.helpers import make_settings

TICKETS = 400
KILLS = 6


def test_sigkill_at_random_moments_loses_and_duplicates_nothing(workspace: Path) -> None:
    settings = make_settings(workspace, '[classifier]\nkind = "rules"\n[runner]\nbatch_size = 25\n')
    words = ["invoice refund", "error crash", "password locked out", "how do I export", "please add dark mode"]
    helpdesk = LocalHelpdesk.from_settings(settings)
    helpdesk.upsert([{"id": str(i), "subject": f"Ticket {i}", "description": f"{words[i % 5]} number {i}",
                      "tags": ["existing"]} for i in range(1, TICKETS + 1)])
    config = workspace / "frontline.toml"
    command = [sys.executable, "-c", "from frontline.cli import main; main()", "--config", str(config),
               "run", "triage", "--quiet"]
    rng = random.Random(42)
    outbox = settings.path("outbox.jsonl")
    kills = 0
    for _attempt in range(KILLS * 4):
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                   env={**os.environ, "PYTHONUNBUFFERED": "1"})
        if kills < KILLS:
            # Kill at a random point of the work itself (not of interpreter start-up): after the
            # outbox grew by a random number of alerts, plus a random extra delay.
            target = _lines(outbox) + rng.randint(1, 60)
            deadline = time.monotonic() + 60
            while process.poll() is None and _lines(outbox) < target and time.monotonic() < deadline:
                time.sleep(0.002)
            time.sleep(rng.uniform(0, 0.03))
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                kills += 1
        _, stderr = process.communicate(timeout=120)
        if process.returncode == 0:
            break
        assert process.returncode == -signal.SIGKILL, stderr.decode()
    else:
        raise AssertionError("triage never completed")
    assert kills == KILLS, f"only {kills} kills landed before the run finished"
    entries = [json.loads(line) for line in settings.path("outbox.jsonl").read_text().splitlines() if line.strip()]
    alerts = Counter(entry["metadata"]["event_payload"]["idempotency_key"] for entry in entries)
    assert len(alerts) == TICKETS, f"{TICKETS - len(alerts)} tickets lost their alert after {kills} kills"
    assert max(alerts.values()) == 1, "an alert was posted twice"
    reopened = LocalHelpdesk.from_settings(settings)
    notes = Counter(len(reopened.notes(str(i))) for i in range(1, TICKETS + 1))
    assert notes == Counter({1: TICKETS}), f"notes per ticket: {notes}"
    assert all(run_tag in reopened_tags for run_tag, reopened_tags in
               ((t, _tags(reopened, i)) for i in range(1, TICKETS + 1) for t in ("existing", "triaged_by_agent")))


def _lines(path: Path) -> int:
    try:
        with path.open("rb") as handle:
            return sum(1 for _ in handle)
    except FileNotFoundError:
        return 0


def _tags(helpdesk: LocalHelpdesk, ticket_id: int) -> tuple[str, ...]:
    row = helpdesk._db.execute("SELECT tags FROM tickets WHERE id = ?", (str(ticket_id),)).fetchone()
    return tuple(json.loads(row["tags"]))

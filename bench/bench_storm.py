"""Incident storms: how well the duplicate finder's scores separate a storm from normal tickets.

For each seed, :func:`frontline.demo.storm.generate_storm` writes dozens of customers reporting one
failure within the hour among hundreds of normal tickets; every ticket, in creation order, is
compared with the earlier ones by the finder triage uses (:class:`IndexFinder`, with the bundled
encoder and with BM25 alone). Printed per seed: the lowest scores of storm reports against earlier
reports (they must reach the incident threshold) and the highest scores of normal tickets against
any report (they must stay under it), beside the default thresholds. Then, with ``--demo``, the
whole demo (``frontline demo --storm 40 --tickets 400``) is run and its incident checked: the share
of the storm in it (goal >= 95%) and of the normal tickets pulled in (goal <= 2%).

    .venv/bin/python bench/bench_storm.py [--seeds 13 7 101] [--demo]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path

import numpy as np

from frontline.decide.duplicates import THRESHOLDS, DuplicateIndex, IndexFinder
from frontline.decide.embeddings import load_encoder
from frontline.demo.storm import Storm, generate_storm
from frontline.model import Ticket


def tickets_of(storm: Storm) -> list[Ticket]:
    """The generated records as tickets (creation order)."""
    return [Ticket(id=str(r["id"]), subject=str(r["subject"]), description=str(r["description"]),
                   created_at=datetime.fromisoformat(str(r["created_at"]).replace("Z", "+00:00")))
            for r in storm.records]


def separation(storm: Storm, finder: IndexFinder) -> tuple[np.ndarray, np.ndarray]:
    """(each storm report's best score against earlier reports, each normal ticket's best against any report)."""
    tickets = tickets_of(storm)
    finder.prepare(tickets)
    reports, normal = [], []
    seen_report = False
    for ticket in tickets:
        best = max((score for other, score in finder.similar(ticket, 50) if other in storm.storm_ids), default=0.0)
        if ticket.id in storm.storm_ids:
            if seen_report:
                reports.append(best)
            seen_report = True
        else:
            normal.append(best)
        finder.add(ticket)
    return np.array(reports), np.array(normal)


def demo_check(normal: int, reports: int) -> str:
    """Run the demo with a storm and read its incidents back: storm share in, normal share pulled in."""
    from frontline.config import load_settings
    from frontline.store.related import RelatedStore
    from frontline.store.state import StateStore

    with tempfile.TemporaryDirectory(prefix="frontline-bench-storm-") as folder:
        command = [str(Path(sys.executable).with_name("frontline")), "demo", "--dir", folder, "--quiet",
                   "--tickets", str(normal), "--storm", str(reports), "--conversations", "0"]
        subprocess.run(command, check=True, capture_output=True, text=True)
        settings = load_settings(Path(folder) / "frontline.toml", dotenv=None)
        store = StateStore.open(settings.state_url)
        try:
            found = RelatedStore(store.engine).incidents_of("triage")
        finally:
            store.close()
    storm = generate_storm(normal, reports, seed=7)  # the demo's own seed: the same tickets and ids
    lines = [f"demo --storm {reports} --tickets {normal}: {len(found)} incident(s)"]
    for incident in found:
        members = {m.ticket_id for m in incident.members}
        lines.append(f"  {incident.id}: {len(members & storm.storm_ids) / len(storm.storm_ids):.1%} of the storm "
                     f"linked, {len(members - storm.storm_ids) / normal:.1%} of the normal tickets pulled in "
                     "(goals >= 95%, <= 2%)")
    return "\n".join(lines)


def main() -> None:
    """Print the separation per seed and encoder, then (with --demo) the demo's incident."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[13, 7, 101])
    parser.add_argument("--normal", type=int, default=400)
    parser.add_argument("--reports", type=int, default=40)
    parser.add_argument("--demo", action="store_true", help="also run the demo with a storm and check its incident")
    options = parser.parse_args()
    for spec in ("auto", "off"):
        encoder = load_encoder(spec)
        duplicate, same = THRESHOLDS[encoder is not None]
        print(f"encoder {encoder.name if encoder else 'off (BM25 alone)'}: thresholds duplicate {duplicate}, "
              f"incident {same}")
        for seed in options.seeds:
            storm = generate_storm(options.normal, options.reports, seed=seed)
            reports, normal = separation(storm, IndexFinder(DuplicateIndex(encoder)))
            print(f"  seed {seed}: reports vs earlier reports min {reports.min():.3f} p5 "
                  f"{np.percentile(reports, 5):.3f} median {np.median(reports):.3f} "
                  f"({np.mean(reports >= same):.1%} reach {same}); normal vs reports max {normal.max():.3f} p99 "
                  f"{np.percentile(normal, 99):.3f} ({np.mean(normal >= same):.1%} reach {same})")
    if options.demo:
        print(demo_check(options.normal, options.reports))


if __name__ == "__main__":
    main()

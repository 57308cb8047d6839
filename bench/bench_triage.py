"""Local triage throughput: 10,000 generated tickets end to end on the embedded default.

Run:  .venv/bin/python bench/bench_triage.py [--tickets 10000] [--repeat 3] [--set incidents.enabled=false ...]

Setup (not timed): a workspace with the demo KB, a model trained on generated history and
N generated tickets imported into the SQLite helpdesk. Timed: `frontline run triage` in a
fresh subprocess per repetition (fetch → skip handled → classify → KB search → route → alert
to the outbox → write-back → ledger), on a fresh copy of the workspace. Reported: median
tickets/s over the repetitions and the peak RSS of the triage process.
Targets: ≥ 1,000 tickets/s on 2 cores, peak RSS < 600 MB. Also reported: tickets per CPU-second
of the triage process, which a busy machine moves less than tickets/s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def prepare(folder: Path, tickets: int, settings: list[str]) -> None:
    """Build the workspace once: KB, model, imported tickets; ``settings`` appended to its config."""
    from frontline.connectors.local.helpdesk import LocalHelpdesk
    from frontline.connectors.local.importer import read_tickets
    from frontline.demo.generator import generate_tickets, write_jsonl
    from frontline.demo.workspace import build_demo

    workspace = build_demo(folder, tickets=1)
    append_settings(folder / "frontline.toml", settings)
    LocalHelpdesk.from_settings(workspace.settings).upsert([])
    records = generate_tickets(tickets, seed=99)
    for index, record in enumerate(records):
        record["id"] = str(100_000 + index)
    write_jsonl(records, folder / "bench-tickets.jsonl")
    report = read_tickets(folder / "bench-tickets.jsonl")
    helpdesk = LocalHelpdesk.from_settings(workspace.settings)
    helpdesk._db.execute("DELETE FROM tickets")
    helpdesk.upsert(report.records)


def append_settings(config: Path, settings: list[str]) -> None:
    """Write ``section.key=value`` settings (TOML values) into the workspace's config file."""
    sections: dict[str, list[str]] = {}
    for setting in settings:
        name, _, value = setting.partition("=")
        section, _, key = name.strip().rpartition(".")
        if not section or not value:
            raise SystemExit(f"--set {setting!r}: write it as section.key=value, e.g. incidents.enabled=false")
        sections.setdefault(section, []).append(f"{key} = {value.strip()}")
    text = config.read_text()
    for section, lines in sections.items():
        header = f"[{section}]\n"
        if header in text:
            text = text.replace(header, header + "\n".join(lines) + "\n", 1)
        else:
            text += f"\n{header}" + "\n".join(lines) + "\n"
    config.write_text(text)


def triage_only(config: Path) -> None:
    """The timed part, run in its own process so its RSS is its own."""
    from frontline.config import load_settings
    from frontline.engine.services import open_flow
    from frontline.flows.triage import run_triage

    settings = load_settings(config, dotenv=None, overrides={("local", "echo"): False})

    async def go() -> tuple[int, float, float]:
        async with open_flow("triage", settings) as services:
            started, cpu = time.perf_counter(), time.process_time()
            summary = await run_triage(services)
            return summary.handled, time.perf_counter() - started, time.process_time() - cpu

    handled, elapsed, cpu = asyncio.run(go())
    print(json.dumps({"handled": handled, "seconds": elapsed, "cpu_seconds": cpu, "peak_rss_mb": peak_rss_mb()}))


def peak_rss_mb() -> float:
    """This process's peak resident memory.

    Linux keeps ``ru_maxrss`` across exec, so a child of the (large) preparing parent would report
    the parent's peak; ``VmHWM`` belongs to the current address space only.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_on_copy(base: Path, copy: Path, script: str) -> dict[str, Any]:
    """Copy the prepared workspace, time ``script --run-only`` on it in a fresh process; its JSON result."""
    shutil.copytree(base, copy)
    config = copy / "frontline.toml"
    config.write_text(config.read_text().replace(str(base), str(copy)))
    out = subprocess.run([sys.executable, script, "--run-only", str(config)], check=True,
                         capture_output=True, text=True).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> None:
    """Prepare once, then time triage on fresh copies."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                        help="a setting for the workspace, e.g. incidents.enabled=false (repeatable)")
    parser.add_argument("--run-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_only:
        triage_only(args.run_only)
        return
    with tempfile.TemporaryDirectory(prefix="frontline-bench-") as tmp:
        base = Path(tmp) / "base"
        started = time.perf_counter()
        prepare(base, args.tickets, args.set)
        print(f"prepared {args.tickets} tickets in {time.perf_counter() - started:.1f}s")
        rates, per_cpu, peaks = [], [], []
        for attempt in range(args.repeat):
            result = run_on_copy(base, Path(tmp) / f"run{attempt}", __file__)
            assert result["handled"] == args.tickets, result
            rates.append(result["handled"] / result["seconds"])
            per_cpu.append(result["handled"] / result["cpu_seconds"])
            peaks.append(result["peak_rss_mb"])
            print(f"run {attempt + 1}: {result['handled']} tickets in {result['seconds']:.2f}s "
                  f"= {rates[-1]:,.0f} tickets/s ({per_cpu[-1]:,.0f} per CPU-second), "
                  f"peak RSS {result['peak_rss_mb']:.0f} MB")
        # Tickets per CPU-second move less than tickets/s when other work shares the machine.
        print(f"median: {statistics.median(rates):,.0f} tickets/s (target ≥ 1,000), "
              f"{statistics.median(per_cpu):,.0f} per CPU-second; peak RSS max {max(peaks):.0f} MB (target < 600 MB)")


if __name__ == "__main__":
    main()

"""Webhook receivers under load: `frontline serve` on loopback, signed deliveries from a second process.

Run:  .venv/bin/python bench/bench_webhooks.py [--rate 500] [--duration 30] [--connections 64]
      .venv/bin/python bench/bench_webhooks.py --restart [--rate 200] [--duration 20] [--repeat 3]

Setup (not timed): a fresh workspace (embedded default, rules classifier) and `frontline serve
--no-poll` started in its own process on a free loopback port, its background worker running.
Timed: a load generator in a second process (asyncio + httpx, open loop: request *i* leaves at
``i / rate`` seconds whether or not earlier answers came back, at most ``--connections`` in
flight) sends ``rate × duration`` deliveries rotating over Zendesk, Slack and Intercom:

- 80% valid and new, each signed with the production signer;
- 10% duplicates: a valid delivery sent again (same Zendesk invocation id, same Slack trigger,
  same Intercom notification id), answered 200 and not recorded again;
- 10% bad signatures (signed with another secret), which must all be answered 401.

Reported: answer latency p50 / p90 / p99 / max, throughput (answers per second over the sending
window), how far the generator fell behind its schedule, status counts, and the checks that matter:
every valid delivery is in the inbox exactly once (its rows counted in the state store) and every
bad signature was refused. All deliveries are signed before the clock starts (well inside the
5-minute timestamp window), so the generator spends its time sending.

``--restart``: halfway through the sending, at a moment its worker holds leased deliveries, the
server is killed (SIGKILL, as by the OOM killer or a crashed host) and started again on the same
port and workspace, with the shipped default classifier (``cascade``) so that its services take as
long to load as a real deployment's. Reported per run: the deliveries that were refused meanwhile
(connection refused or reset, or a 5xx), as seconds of traffic (refused / rate) and as the window
from the first to the last; how long the new process took to answer ``/healthz``; and the drain
time: from the kill until every delivery recorded before it is settled (the killed process's
leased ones included). Checked: every delivery answered 200 is in the inbox, and none twice.
Medians over ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

SECRETS = {
    "INTERCOM_CLIENT_SECRET": "bench-intercom",
    "ZENDESK_WEBHOOK_SECRET": "bench-zendesk",
    "SLACK_SIGNING_SECRET": "bench-slack",
    "FRONTLINE_API_KEY": "bench-key",
}
SOURCES = ("zendesk", "slack", "intercom")


# -- the deliveries -------------------------------------------------------------------------------------
def delivery(source: str, number: int, *, secret: str | None = None) -> tuple[str, bytes, dict[str, str]]:
    """(path, body, headers) of valid delivery ``number`` from ``source``, signed now."""
    from frontline.web.signatures import sign_intercom, sign_slack, sign_zendesk, zendesk_timestamp

    if source == "zendesk":
        body = json.dumps({"ticket_id": str(100000 + number), "updated_at": "2026-11-20T10:00:00Z"}).encode()
        stamp = zendesk_timestamp()
        return "/webhooks/zendesk", body, {
            "content-type": "application/json", "x-zendesk-webhook-id": "01BENCH",
            "x-zendesk-webhook-invocation-id": str(number), "x-zendesk-webhook-signature-timestamp": stamp,
            "x-zendesk-webhook-signature": sign_zendesk(secret or SECRETS["ZENDESK_WEBHOOK_SECRET"], stamp, body)}
    if source == "slack":
        action = {"type": "button", "action_id": "frontline:resolve", "value": f"c{number}",
                  "action_ts": f"{time.time():.6f}"}
        payload = {"type": "block_actions", "trigger_id": f"bench.{number}", "user": {"id": "UBENCH"},
                   "actions": [action]}
        body = urlencode({"payload": json.dumps(payload)}).encode()
        stamp = str(int(time.time()))
        return "/webhooks/slack", body, {
            "content-type": "application/x-www-form-urlencoded", "x-slack-request-timestamp": stamp,
            "x-slack-signature": sign_slack(secret or SECRETS["SLACK_SIGNING_SECRET"], stamp, body)}
    body = json.dumps({"type": "notification_event", "id": f"notif_{number}", "topic": "conversation.user.replied",
                       "data": {"item": {"type": "conversation", "id": f"c{number}"}}}).encode()
    return "/webhooks/intercom", body, {
        "content-type": "application/json",
        "x-hub-signature": sign_intercom(secret or SECRETS["INTERCOM_CLIENT_SECRET"], body)}


def item_key(source: str, number: int) -> str:
    """``source:item id`` as the inbox records delivery ``number`` of ``source``."""
    return f"{source}:{100000 + number}" if source == "zendesk" else f"{source}:c{number}"


Planned = tuple[str, str, str, bytes, dict[str, str]]  # kind, item key, path, body, headers


def plan(total: int, seed: int = 7) -> list[Planned]:
    """``total`` deliveries: (kind, item key, path, body, headers), kind being valid, duplicate or bad."""
    rng = random.Random(seed)
    sent: list[tuple[str, str, bytes, dict[str, str]]] = []
    out: list[Planned] = []
    for i in range(total):
        source = SOURCES[i % len(SOURCES)]
        roll = rng.random()
        if roll < 0.1 and sent:
            out.append(("duplicate", *rng.choice(sent)))
        elif roll < 0.2:
            out.append(("bad", item_key(source, 10_000_000 + i),
                        *delivery(source, 10_000_000 + i, secret="not-the-secret")))
        else:
            valid = (item_key(source, i), *delivery(source, i))
            sent.append(valid)
            out.append(("valid", *valid))
    return out


# -- the load generator (the second process) ----------------------------------------------------------------
# A bare HTTP/1.1 client on asyncio streams, keep-alive, one request in flight per connection: httpx's
# AsyncClient tops out near 270 requests/s on one core of this machine, below the rate to measure.
async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, path: str,
                    body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    head = f"POST {path} HTTP/1.1\r\nhost: {host}\r\ncontent-length: {len(body)}\r\n" + "".join(
        f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    writer.write(head.encode("latin-1") + body)
    await writer.drain()
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("the server closed the connection")
    status = int(status_line.split()[1])
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    return status, await reader.readexactly(length)


async def load(base: str, rate: float, duration: float, connections: int) -> dict[str, Any]:
    """Send the plan open-loop at ``rate`` per second over ``connections`` keep-alive connections.

    A delivery whose connection is refused or broken is not sent again (a vendor would retry it
    later): it is counted, with the second it was due at, among the errors.
    """
    host, _, port = base.removeprefix("http://").partition(":")
    deliveries = plan(int(rate * duration))
    work: asyncio.Queue[tuple[float, Planned] | None] = asyncio.Queue()
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    errors: dict[str, int] = {}
    lateness: list[float] = []
    failed_at: list[float] = []  # seconds into the run at which each refused (or 5xx) delivery was due
    acknowledged: list[str] = []  # item keys of valid deliveries and duplicates answered 200

    async def connection() -> None:
        link: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        while (job := await work.get()) is not None:
            due, (kind, key, path, body, headers) = job
            try:
                if link is None:
                    link = await asyncio.open_connection(host, int(port))
                status, _ = await asyncio.wait_for(_exchange(*link, host, path, body, headers), 60)
            except (OSError, ValueError, IndexError, asyncio.IncompleteReadError, TimeoutError) as error:
                errors[type(error).__name__] = errors.get(type(error).__name__, 0) + 1
                failed_at.append(due - began)
                if link is not None:
                    link[1].close()
                link = None
                continue
            # From the moment the request was due, not sent: waiting for a free connection counts too.
            latencies.append(time.perf_counter() - due)
            statuses[f"{kind}:{status}"] = statuses.get(f"{kind}:{status}", 0) + 1
            if status >= 500:
                failed_at.append(due - began)
            elif status == 200 and kind != "bad":
                acknowledged.append(key)
        if link is not None:
            link[1].close()

    workers = [asyncio.create_task(connection()) for _ in range(connections)]
    print("sending", flush=True)  # the parent times its restart from here
    began = time.perf_counter()
    for number, item in enumerate(deliveries):
        due = began + number / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        else:
            lateness.append(-delay)
        work.put_nowait((due, item))
    sending = time.perf_counter() - began
    for _ in workers:
        work.put_nowait(None)
    await asyncio.gather(*workers)
    finished = time.perf_counter() - began
    latencies.sort()
    return {
        "sent": len(deliveries), "sending_seconds": sending, "finished_seconds": finished,
        "valid": sum(1 for k, *_ in deliveries if k == "valid"),
        "duplicates": sum(1 for k, *_ in deliveries if k == "duplicate"),
        "bad": sum(1 for k, *_ in deliveries if k == "bad"),
        "statuses": statuses, "errors": errors, "failed_at": sorted(failed_at), "acknowledged": acknowledged,
        "p50_ms": 1000 * _quantile(latencies, 0.50), "p90_ms": 1000 * _quantile(latencies, 0.90),
        "p99_ms": 1000 * _quantile(latencies, 0.99), "max_ms": 1000 * (latencies[-1] if latencies else 0.0),
        "mean_ms": 1000 * (statistics.fmean(latencies) if latencies else 0.0),
        "max_behind_ms": 1000 * max(lateness, default=0.0),
    }


def _quantile(ordered: list[float], q: float) -> float:
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# -- the server ---------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def write_config(folder: Path, *, classifier: str | None = "rules") -> Path:
    """The workspace's frontline.toml: the rules classifier, or (None) the shipped default."""
    config = folder / "frontline.toml"
    chosen = f'[classifier]\nkind = "{classifier}"\n' if classifier else ""
    config.write_text(f'[local]\nworkspace = "{folder.as_posix()}"\necho = false\n{chosen}', encoding="utf-8")
    return config


def start_server(folder: Path, port: int, log_name: str = "serve.log") -> subprocess.Popen[str]:
    """`frontline serve --no-poll` in the workspace (see :func:`write_config`); returns once /healthz answers."""
    import httpx

    # The log goes to a file: a pipe nobody reads while the load runs would fill up and stall the server.
    log = (folder / log_name).open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "frontline.cli", "--config", str(folder / "frontline.toml"), "serve", "--port",
         str(port), "--no-poll"], env={**os.environ, **SECRETS}, stdout=log, stderr=subprocess.STDOUT, text=True)
    for _ in range(1200):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.05)
    server.kill()
    raise SystemExit(f"frontline serve did not start:\n{(folder / log_name).read_text()}")


def drain(base: str, limit: float = 300.0) -> float | None:
    """Seconds until the background worker has settled every recorded delivery (None: not within ``limit``)."""
    import httpx

    started = time.perf_counter()
    while time.perf_counter() - started < limit:
        if httpx.get(f"{base}/healthz", timeout=10).json()["inbox"]["waiting"] == 0:
            return time.perf_counter() - started
        time.sleep(0.2)
    return None


def _inbox_query(folder: Path, query: Any) -> list[Any]:
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{folder / 'frontline.db'}")
    try:
        with engine.connect() as conn:
            return list(conn.execute(query).all())
    finally:
        engine.dispose()


def inbox_rows(folder: Path) -> dict[str, int]:
    """Rows in the inbox by source (done or not): each valid delivery must be there once."""
    from sqlalchemy import func, select

    from frontline.store.schema import inbox

    rows = _inbox_query(folder, select(inbox.c.source, func.count()).group_by(inbox.c.source))
    return {str(source): int(count) for source, count in rows}


def inbox_items(folder: Path) -> list[str]:
    """The item key (source:item id) of every inbox row, done or not."""
    from sqlalchemy import select

    from frontline.store.schema import inbox

    return [f"{source}:{item}" for source, item in _inbox_query(folder, select(inbox.c.source, inbox.c.item_id))]


def unsettled_up_to(folder: Path, last_id: int) -> int:
    """Inbox rows recorded up to ``last_id`` that are not done yet (leased by a dead process included)."""
    from sqlalchemy import func, select

    from frontline.store.schema import inbox

    return int(_inbox_query(folder, select(func.count()).select_from(inbox).where(
        inbox.c.id <= last_id, inbox.c.done_at.is_(None)))[0][0])


def leased(folder: Path) -> int:
    """Inbox rows a worker holds right now (leased, not settled)."""
    from sqlalchemy import func, select

    from frontline.store.schema import inbox

    return int(_inbox_query(folder, select(func.count()).select_from(inbox).where(
        inbox.c.claimed_by.is_not(None), inbox.c.done_at.is_(None)))[0][0])


def last_inbox_id(folder: Path) -> int:
    """The id of the newest inbox row (0 when empty)."""
    from sqlalchemy import func, select

    from frontline.store.schema import inbox

    return int(_inbox_query(folder, select(func.max(inbox.c.id)))[0][0] or 0)


def _generator(port: int, args: argparse.Namespace) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, __file__, "--generate", f"http://127.0.0.1:{port}", "--rate", str(args.rate),
         "--duration", str(args.duration), "--connections", str(args.connections)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _figures(generator: subprocess.Popen[str]) -> dict[str, Any]:
    out, err = generator.communicate()
    if generator.returncode != 0:
        raise SystemExit(f"the load generator failed:\n{err}")
    figures: dict[str, Any] = json.loads(out.splitlines()[-1])
    return figures


def restart_run(args: argparse.Namespace) -> dict[str, Any]:
    """One run with a SIGKILL and a restart halfway through the sending; the figures of that run."""
    with tempfile.TemporaryDirectory(prefix="frontline-bench-web-") as tmp:
        folder = Path(tmp) / "ws"
        folder.mkdir()
        write_config(folder, classifier=None)
        port = free_port()
        server = start_server(folder, port)
        generator = _generator(port, args)
        try:
            assert generator.stdout is not None
            generator.stdout.readline()  # "sending"
            time.sleep(args.duration / 2)
            # Killed while its worker holds a batch (the common case when the work is real triage; here
            # each delivery settles in a millisecond, so the moment is looked for, for at most 3 s).
            looking = time.perf_counter()
            while not leased(folder) and time.perf_counter() - looking < 3:
                time.sleep(0.002)
            server.kill()  # SIGKILL: no shutdown, its leases stay behind
            server.wait()
            killed = time.perf_counter()
            held = leased(folder)
            last = last_inbox_id(folder)
            server = start_server(folder, port, "serve-2.log")
            answering_after = time.perf_counter() - killed
            drained_after: float | None = None
            while time.perf_counter() - killed < 300:
                if unsettled_up_to(folder, last) == 0:
                    drained_after = time.perf_counter() - killed
                    break
                time.sleep(0.2)
            figures = _figures(generator)
            figures["drained_after_s"] = drain(f"http://127.0.0.1:{port}")
        finally:
            if generator.poll() is None:
                generator.kill()
            server.terminate()
            server.wait(timeout=30)
            output = (folder / "serve.log").read_text() + (folder / "serve-2.log").read_text()
        items = inbox_items(folder)
    failed = figures.pop("failed_at")
    acknowledged = figures.pop("acknowledged")
    figures.update({
        "killed_at_s": args.duration / 2, "leased_at_kill": held, "answering_after_s": answering_after,
        "restart_drained_after_s": drained_after, "refused": len(failed),
        "refused_seconds": len(failed) / args.rate,
        "refused_window_s": (failed[-1] - failed[0]) if failed else 0.0,
        "acknowledged_all_recorded": not set(acknowledged) - set(items),
        "recorded_once": len(items) == len(set(items)),
        "no_bad_signature_accepted": figures["statuses"].get("bad:200", 0) == 0,
        "server_traceback": "Traceback" in output,
    })
    return figures


def restart_main(args: argparse.Namespace) -> None:
    """``--restart``: ``--repeat`` runs, each run's line, then the medians."""
    runs = []
    for number in range(1, args.repeat + 1):
        figures = restart_run(args)
        runs.append(figures)
        drained = figures["restart_drained_after_s"]
        if not args.json:
            print(f"run {number}: refused {figures['refused']} deliveries = {figures['refused_seconds']:.2f} s of "
                  f"traffic (window {figures['refused_window_s']:.2f} s); answering again "
                  f"{figures['answering_after_s']:.2f} s after the kill; what was recorded before the kill "
                  f"({figures['leased_at_kill']} leased by the killed process) settled "
                  + (f"{drained:.1f} s after it" if drained is not None else "not within 300 s")
                  + f"; statuses {dict(sorted(figures['statuses'].items()))}, errors {figures['errors'] or 'none'}")
            for check in ("acknowledged_all_recorded", "recorded_once", "no_bad_signature_accepted"):
                if not figures[check]:
                    print(f"  {check.replace('_', ' ')}: NO")
            if figures["server_traceback"]:
                print("  the server logged a traceback")
    medians = {name: statistics.median(r[name] if r[name] is not None else 300.0 for r in runs)
               for name in ("refused_seconds", "refused_window_s", "answering_after_s", "restart_drained_after_s")}
    if args.json:
        print(json.dumps({"runs": runs, "medians": medians}, indent=2))
        return
    print(f"medians of {len(runs)} (SIGKILL at {args.duration / 2:g} s of {args.duration:g} s at {args.rate:g}/s): "
          f"refused {medians['refused_seconds']:.2f} s of traffic (window {medians['refused_window_s']:.2f} s), "
          f"answering {medians['answering_after_s']:.2f} s after the kill, drained "
          f"{medians['restart_drained_after_s']:.1f} s after the kill")


def main() -> None:
    """Start the server, run the generator in a second process, check and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, help="deliveries per second (default 500; 200 with --restart)")
    parser.add_argument("--duration", type=float, help="seconds of sending (default 30; 20 with --restart)")
    parser.add_argument("--connections", type=int, default=64, help="most requests in flight (default 64)")
    parser.add_argument("--restart", action="store_true", help="kill the server halfway and start it again")
    parser.add_argument("--repeat", type=int, default=3, help="runs with --restart (default 3)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--generate", metavar="BASE_URL", help=argparse.SUPPRESS)  # the generator process
    args = parser.parse_args()
    args.rate = args.rate or (200.0 if args.restart else 500.0)
    args.duration = args.duration or (20.0 if args.restart else 30.0)
    if args.generate:
        print(json.dumps(asyncio.run(load(args.generate, args.rate, args.duration, args.connections))))
        return
    if args.restart:
        restart_main(args)
        return
    with tempfile.TemporaryDirectory(prefix="frontline-bench-web-") as tmp:
        folder = Path(tmp) / "ws"
        folder.mkdir()
        write_config(folder)
        port = free_port()
        server = start_server(folder, port)
        try:
            figures = _figures(_generator(port, args))
            figures["drained_after_s"] = drain(f"http://127.0.0.1:{port}")
        finally:
            server.terminate()
            server.wait(timeout=30)
            output = (folder / "serve.log").read_text()
        rows = inbox_rows(folder)
    for bulky in ("failed_at", "acknowledged"):
        figures.pop(bulky)
    statuses = figures["statuses"]
    recorded = sum(rows.values())
    figures.update({
        "rate": args.rate, "duration": args.duration, "connections": args.connections,
        "throughput_per_s": (figures["sent"] - sum(figures["errors"].values())) / figures["finished_seconds"],
        "inbox_rows": rows,
        "every_valid_recorded_once": recorded == figures["valid"] and statuses.get("valid:200", 0) == figures["valid"],
        "every_bad_signature_refused": statuses.get("bad:401", 0) == figures["bad"],
        "duplicates_acknowledged_not_recorded": statuses.get("duplicate:200", 0) == figures["duplicates"]
        and recorded == figures["valid"],
        "server_traceback": "Traceback" in output,
    })
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"offered {args.rate:g}/s for {args.duration:g} s ({figures['sent']} deliveries: {figures['valid']} valid, "
          f"{figures['duplicates']} duplicates, {figures['bad']} bad signatures), {args.connections} connections")
    print(f"throughput        {figures['throughput_per_s']:.0f} answers/s (last answer at "
          f"{figures['finished_seconds']:.1f} s; generator at most {figures['max_behind_ms']:.0f} ms behind)")
    print(f"latency           p50 {figures['p50_ms']:.1f} ms   p90 {figures['p90_ms']:.1f} ms   "
          f"p99 {figures['p99_ms']:.1f} ms   max {figures['max_ms']:.1f} ms")
    print(f"answers           {dict(sorted(statuses.items()))}  transport errors {figures['errors'] or 'none'}")
    print(f"inbox rows        {rows} = {recorded} (valid sent: {figures['valid']})")
    drained = figures["drained_after_s"]
    print("worker            " + (f"settled every delivery {drained:.1f} s after the last answer" if drained is not None
                                  else "had not settled every delivery 300 s after the last answer"))
    for check in ("every_valid_recorded_once", "every_bad_signature_refused", "duplicates_acknowledged_not_recorded"):
        print(f"{check.replace('_', ' '):<38} {'yes' if figures[check] else 'NO'}")
    if figures["server_traceback"]:
        print("the server logged a traceback:\n" + output[-3000:])


if __name__ == "__main__":
    main()

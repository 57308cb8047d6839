"""Webhook receivers under load: `frontline serve` on loopback, signed deliveries from a second process.

Run:  .venv/bin/python bench/bench_webhooks.py [--rate 500] [--duration 30] [--connections 64]

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


def plan(total: int, seed: int = 7) -> list[tuple[str, str, bytes, dict[str, str]]]:
    """``total`` deliveries: (kind, path, body, headers), kind being valid, duplicate or bad."""
    rng = random.Random(seed)
    sent: list[tuple[str, bytes, dict[str, str]]] = []
    out: list[tuple[str, str, bytes, dict[str, str]]] = []
    for i in range(total):
        source = SOURCES[i % len(SOURCES)]
        roll = rng.random()
        if roll < 0.1 and sent:
            out.append(("duplicate", *rng.choice(sent)))
        elif roll < 0.2:
            out.append(("bad", *delivery(source, 10_000_000 + i, secret="not-the-secret")))
        else:
            valid = delivery(source, i)
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
    """Send the plan open-loop at ``rate`` per second over ``connections`` keep-alive connections."""
    host, _, port = base.removeprefix("http://").partition(":")
    deliveries = plan(int(rate * duration))
    work: asyncio.Queue[tuple[float, tuple[str, str, bytes, dict[str, str]]] | None] = asyncio.Queue()
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    errors: dict[str, int] = {}
    lateness: list[float] = []

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        while (job := await work.get()) is not None:
            due, (kind, path, body, headers) = job
            try:
                status, _ = await _exchange(reader, writer, host, path, body, headers)
            except (OSError, ValueError, IndexError, asyncio.IncompleteReadError) as error:
                errors[type(error).__name__] = errors.get(type(error).__name__, 0) + 1
                writer.close()
                reader, writer = await asyncio.open_connection(host, int(port))
                continue
            # From the moment the request was due, not sent: waiting for a free connection counts too.
            latencies.append(time.perf_counter() - due)
            statuses[f"{kind}:{status}"] = statuses.get(f"{kind}:{status}", 0) + 1
        writer.close()

    workers = [asyncio.create_task(connection()) for _ in range(connections)]
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
        "statuses": statuses, "errors": errors,
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


def start_server(folder: Path, port: int) -> subprocess.Popen[str]:
    """`frontline serve --no-poll` in a fresh workspace; returns once /healthz answers."""
    import httpx

    config = folder / "frontline.toml"
    config.write_text(f'[local]\nworkspace = "{folder.as_posix()}"\necho = false\n[classifier]\nkind = "rules"\n',
                      encoding="utf-8")
    # The log goes to a file: a pipe nobody reads while the load runs would fill up and stall the server.
    log = (folder / "serve.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "frontline.cli", "--config", str(config), "serve", "--port", str(port), "--no-poll"],
        env={**os.environ, **SECRETS}, stdout=log, stderr=subprocess.STDOUT, text=True)
    for _ in range(200):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.05)
    server.kill()
    raise SystemExit(f"frontline serve did not start:\n{(folder / 'serve.log').read_text()}")


def drain(base: str, limit: float = 300.0) -> float | None:
    """Seconds until the background worker has settled every recorded delivery (None: not within ``limit``)."""
    import httpx

    started = time.perf_counter()
    while time.perf_counter() - started < limit:
        if httpx.get(f"{base}/healthz", timeout=10).json()["inbox"]["waiting"] == 0:
            return time.perf_counter() - started
        time.sleep(0.2)
    return None


def inbox_rows(folder: Path) -> dict[str, int]:
    """Rows in the inbox by source (done or not): each valid delivery must be there once."""
    from sqlalchemy import create_engine, func, select

    from frontline.store.schema import inbox

    engine = create_engine(f"sqlite:///{folder / 'frontline.db'}")
    with engine.connect() as conn:
        rows = conn.execute(select(inbox.c.source, func.count()).group_by(inbox.c.source)).all()
    engine.dispose()
    return {str(source): int(count) for source, count in rows}


def main() -> None:
    """Start the server, run the generator in a second process, check and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=500.0, help="deliveries per second (default 500)")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of sending (default 30)")
    parser.add_argument("--connections", type=int, default=64, help="most requests in flight (default 64)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--generate", metavar="BASE_URL", help=argparse.SUPPRESS)  # the generator process
    args = parser.parse_args()
    if args.generate:
        print(json.dumps(asyncio.run(load(args.generate, args.rate, args.duration, args.connections))))
        return
    with tempfile.TemporaryDirectory(prefix="frontline-bench-web-") as tmp:
        folder = Path(tmp) / "ws"
        folder.mkdir()
        port = free_port()
        server = start_server(folder, port)
        try:
            generator = subprocess.run(
                [sys.executable, __file__, "--generate", f"http://127.0.0.1:{port}", "--rate", str(args.rate),
                 "--duration", str(args.duration), "--connections", str(args.connections)],
                capture_output=True, text=True, check=False)
            if generator.returncode != 0:
                raise SystemExit(f"the load generator failed:\n{generator.stderr}")
            figures = json.loads(generator.stdout)
            figures["drained_after_s"] = drain(f"http://127.0.0.1:{port}")
        finally:
            server.terminate()
            server.wait(timeout=30)
            output = (folder / "serve.log").read_text()
        rows = inbox_rows(folder)
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

"""The duplicate finder's own cost on 10,000 tickets: each one searched against all earlier ones, then added.

The encoder is replaced by a stand-in that returns fixed random unit vectors of MiniLM's width (384),
so the figure is the finder's (matrix products, BM25, ranking), not the encoder's; the encoder's
cost is paid once per ticket version and cached in the store.

    .venv/bin/python bench/bench_duplicates.py [--tickets 10000]

Target (issue 13): triage with duplicates at >= 300 tickets/s on 2 cores, peak RSS < 600 MB.
"""

from __future__ import annotations

import argparse
import random
import resource
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np

from frontline.decide.duplicates import DuplicateIndex, TicketText

WORDS = ("checkout payment card login password reset invoice refund export csv report dashboard slow error "
         "timeout crash mobile app android ios sync calendar email notification webhook api token sso saml "
         "billing plan upgrade downgrade seat user admin permission role delete account data import").split()


class RandomEncoder:
    """Fixed random unit vectors per text (a stand-in with the bundled encoder's width)."""

    name = "random-384"
    dimension = 384

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One unit vector per text, the same for the same text."""
        rows = np.stack([np.random.default_rng(abs(hash(t)) % 2**32).standard_normal(self.dimension)
                         for t in texts]).astype(np.float32)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def tickets(count: int) -> list[TicketText]:
    """Synthetic tickets: a few topic words and a number, a minute apart."""
    rng = random.Random(7)
    start = datetime(2026, 12, 1, tzinfo=UTC)
    return [TicketText(str(i), " ".join(rng.sample(WORDS, 4)) + f" case{i % 500}",
                       " ".join(rng.choices(WORDS, k=30)), start + timedelta(minutes=i)) for i in range(count)]


def main() -> None:
    """Search then add every ticket; print tickets/s and peak RSS."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=10_000)
    options = parser.parse_args()
    items = tickets(options.tickets)
    index = DuplicateIndex(RandomEncoder())
    index.prepare(items)  # the encoder's part, paid once per ticket version (cached in the store)
    started = time.perf_counter()
    for item in items:
        index.similar(item, 10)
        index.add(item)
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{options.tickets} tickets searched against every earlier one and added: {options.tickets / elapsed:.0f} "
          f"tickets/s, peak RSS {peak:.0f} MB (targets: >= 300 tickets/s with triage, < 600 MB)")


if __name__ == "__main__":
    main()

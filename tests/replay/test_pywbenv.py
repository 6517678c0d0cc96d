"""Which Python runs pywb (``portal_archive.replay.pywbenv``): configured, this one, or ``.venv-pywb``."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from portal_archive.replay import pywbenv
from portal_archive.replay.pywbenv import PYWB_PYTHON_ENV, PywbNotFound, pywb_bin, pywb_python


def _fake_python(folder: Path) -> Path:
    folder.mkdir(parents=True)
    python = folder / "python"
    python.write_text("#!/bin/sh\n")
    python.chmod(0o755)
    (folder / "wb-manager").write_text("#!/bin/sh\n")
    return python


def test_the_setting_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    python = _fake_python(tmp_path / "bin")
    monkeypatch.setenv(PYWB_PYTHON_ENV, str(python))
    assert pywb_python() == python
    assert pywb_bin("wb-manager") == tmp_path / "bin" / "wb-manager"
    with pytest.raises(PywbNotFound, match="no such pywb command"):
        pywb_bin("wayback")


def test_a_setting_that_is_not_a_program_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PYWB_PYTHON_ENV, str(tmp_path / "missing"))
    with pytest.raises(PywbNotFound, match=PYWB_PYTHON_ENV):
        pywb_python()


def test_this_python_only_with_a_redis_pywb_can_import(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: object() if name == "pywb" else None)
    versions = {"redis": "2.10.6"}
    monkeypatch.setattr(importlib.metadata, "version", lambda name: versions[name])
    assert pywbenv.current_python_runs_pywb()
    versions["redis"] = "7.4.1"  # fakeredis 0.x cannot import from it: pywb's rewriter fails
    assert not pywbenv.current_python_runs_pywb()
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    versions["redis"] = "2.10.6"
    assert not pywbenv.current_python_runs_pywb()


def test_falls_back_to_the_project_pywb_venv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PYWB_PYTHON_ENV, raising=False)
    monkeypatch.setattr(pywbenv, "current_python_runs_pywb", lambda: False)
    monkeypatch.setattr(pywbenv, "project_root", lambda: tmp_path)
    with pytest.raises(PywbNotFound, match=r"scripts/bootstrap\.sh.*PORTAL_ARCHIVE_PYWB_PYTHON"):
        pywb_python()
    python = _fake_python(tmp_path / ".venv-pywb" / "bin")
    assert pywb_python() == python
    monkeypatch.setattr(pywbenv, "current_python_runs_pywb", lambda: True)
    assert pywb_python() == Path(sys.executable).absolute()


def test_the_chosen_python_imports_pywb_and_the_replay_server() -> None:
    code = "import pywb.apps.frontendapp, portal_archive.replay.server as s; print(s.READY_PREFIX)"
    result = subprocess.run([str(pywb_python()), "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("Replaying")


def test_replay_without_pywb_says_how_to_set_it_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from portal_archive.cli import main
    from portal_archive.warc.records import HttpExchange
    from portal_archive.warc.writer import RotatingWarcWriter

    writer = RotatingWarcWriter(directory=tmp_path / "archive", prefix="t", host="test")
    writer.write_exchange(HttpExchange(url="http://e.test/", status=200, body=b"<p>hi</p>"))
    writer.close()
    monkeypatch.setenv(PYWB_PYTHON_ENV, str(tmp_path / "nowhere" / "python"))
    assert main(["replay", str(tmp_path / "archive"), "--port", "0"]) == 1
    assert PYWB_PYTHON_ENV in capsys.readouterr().err

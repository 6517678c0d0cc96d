"""Security properties a hostile site or a careless command line must not break.

The crawl itself is checked in ``test_hostile_crawl.py`` (no open port, no telnet or remote
control, never off its origin); here: project settings, the replay server's address, output paths
that try to leave the archive folder, and profiles that try to smuggle code.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from scrapy.utils.project import get_project_settings

from portal_archive.cli import build_parser, main
from portal_archive.profiles import ProfileError, parse_profile
from portal_archive.replay import launcher
from portal_archive.replay.pywbenv import pywb_python
from portal_archive.warc.records import HttpExchange
from portal_archive.warc.writer import RotatingWarcWriter
from tests.conftest import counting_ids, fixed_clock


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    folder = tmp_path / "archive"
    writer = RotatingWarcWriter(directory=folder, prefix="sec", host="test", clock=fixed_clock(), new_id=counting_ids())
    writer.write_exchange(HttpExchange(url="http://e.test/", status=200, body=b"<p>hi</p>"))
    writer.close()
    return folder


def test_project_settings_disable_code_execution_endpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCRAPY_SETTINGS_MODULE", "portal_archive.settings")
    settings = get_project_settings()
    assert settings.getbool("TELNETCONSOLE_ENABLED") is False
    assert settings.getbool("REMOTE_CONTROL_ENABLED") is False


def test_replay_listens_on_loopback_unless_told(archive: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert build_parser().parse_args(["replay"]).host == "127.0.0.1"
    commands: list[list[str]] = []
    monkeypatch.setattr(launcher, "run_child", lambda command, env: commands.append(command) or 0)
    assert main(["replay", str(archive)]) == 0
    (command,) = commands
    assert command[command.index("--host") + 1] == "127.0.0.1"
    server_help = subprocess.run(
        [str(pywb_python()), "-c", "from portal_archive.replay.server import main; main(['-h'])"],
        capture_output=True, text=True, env=launcher.server_env(), check=False,
    )  # fmt: skip
    assert "--host" in server_help.stdout


def test_replay_warns_when_exposed(
    archive: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(launcher, "run_child", lambda command, env: 0)
    assert main(["replay", str(archive), "--host", "0.0.0.0"]) == 0  # noqa: S104 - the point of the test
    assert "not a loopback address" in capsys.readouterr().err


@pytest.mark.parametrize("escape", ["../escape.cdxj", "indexes/../../escape.cdxj", "a/../../../escape.cdxj"])
def test_index_output_cannot_climb_out_of_the_folder(
    archive: Path, escape: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["index", str(archive), "-o", escape]) == 1
    assert "leaves" in capsys.readouterr().err
    assert not list(archive.parent.rglob("escape.cdxj"))


def test_index_output_cannot_leave_through_a_symlink(
    archive: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (archive / "link").symlink_to(outside, target_is_directory=True)
    assert main(["index", str(archive), "-o", "link/x.cdxj"]) == 1
    assert "leaves" in capsys.readouterr().err and list(outside.iterdir()) == []


def test_index_output_inside_the_folder_is_written(archive: Path) -> None:
    assert main(["index", str(archive), "-o", "indexes/../mine.cdxj"]) == 0
    assert (archive / "mine.cdxj").is_file()


def test_wacz_needs_a_wacz_name(archive: Path, tmp_path: Path) -> None:
    assert main(["wacz", str(archive), "-o", str(tmp_path / "x.zip")]) == 1
    assert not (tmp_path / "x.zip").exists()


PROFILE = {"name": "evil", "base_url": "https://evil.example", "links": {"article": ["^/a/"]}}


def test_profile_strings_are_data_never_code(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    code = f"__import__('os').system('touch {marker}')"
    profile = parse_profile({**PROFILE, "links": {"article": [code]}, "drop_params": [code]}, "evil.toml")
    assert profile.links.article[0].pattern == code and not marker.exists()


@pytest.mark.parametrize(
    "override",
    [
        {"selectors": {"title": "{{7*7}}"}},
        {"callback": "os.system"},
        {"links": {"article": ["^/a/"], "max_pages": "__import__('os')"}},
        {"links": {"article": ["^/a/"], "max_depth": -1}},
        {"base_url": "file:///etc/passwd"},
    ],
)
def test_profiles_refuse_what_is_not_plain_data(override: dict[str, object]) -> None:
    with pytest.raises(ProfileError):
        parse_profile({**PROFILE, **override}, "evil.toml")

"""Deploy the project to a real scrapyd on 127.0.0.1 and crawl the demo portal through its HTTP API.

The project is copied to a temporary folder first, so building the egg (``setup.py bdist_egg``)
leaves no ``build/`` behind in the working tree. Eggs install no dependencies: scrapyd runs from
this virtualenv, as ``docs/scheduling.md`` says it must.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from portal_archive.demo import DemoPortal
from portal_archive.warc.check import check_files
from tests.conftest import PROJECT_ROOT

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("scrapyd") is None or importlib.util.find_spec("scrapyd_client") is None,
        reason="scrapyd and scrapyd-client are in the test extra: pip install -e .[test]",
    ),
]

PROJECT_FILES = ("scrapy.cfg", "setup.py", "pyproject.toml", "README.md", "portal_archive", "spiders", "pipelines")
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def api(base: str, endpoint: str, data: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    with urllib.request.urlopen(f"{base}/{endpoint}", body, timeout=10) as response:
        return dict(json.load(response))


@pytest.fixture(scope="module")
def scrapyd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    home = tmp_path_factory.mktemp("scrapyd")
    port = free_port()
    (home / "scrapyd.conf").write_text(
        "[scrapyd]\n"
        f"bind_address = 127.0.0.1\nhttp_port = {port}\n"
        "eggs_dir = eggs\nlogs_dir = logs\nitems_dir =\ndbs_dir = dbs\npoll_interval = 0.5\nmax_proc = 2\n",
        encoding="utf-8",
    )
    with (home / "scrapyd.out").open("wb") as out:
        server = subprocess.Popen([str(BIN / "scrapyd")], cwd=home, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                assert api(base, "daemonstatus.json")["status"] == "ok"
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        yield base, home
    finally:
        server.terminate()
        server.wait(timeout=30)


def copy_project(target: Path, scrapyd_url: str) -> Path:
    target.mkdir()
    for name in PROJECT_FILES:
        source = PROJECT_ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, target / name)
    config = (target / "scrapy.cfg").read_text(encoding="utf-8")
    assert "[deploy]" in config and "project = portal_archive" in config
    (target / "scrapy.cfg").write_text(config.replace("http://localhost:6800/", f"{scrapyd_url}/"), encoding="utf-8")
    return target


def test_deploy_schedule_and_find_the_warc(scrapyd: tuple[str, Path], tmp_path: Path) -> None:
    base, home = scrapyd
    project = copy_project(tmp_path / "project", base)
    deploy = subprocess.run(
        [str(BIN / "scrapyd-deploy"), "--version", "r1"], cwd=project, capture_output=True, text=True, timeout=300
    )
    assert deploy.returncode == 0, deploy.stderr
    assert json.loads(deploy.stdout)["status"] == "ok"
    assert {"bendi", "infoq", "wechat"} <= set(api(base, "listspiders.json?project=portal_archive")["spiders"])

    (egg,) = (home / "eggs" / "portal_archive").glob("*.egg")
    names = zipfile.ZipFile(egg).namelist()
    assert {name.split("/")[0] for name in names} == {"EGG-INFO", "portal_archive", "spiders", "pipelines"}
    for data in ("portal_archive/profiles/portals/bendi.toml", "portal_archive/demo/corpus/infoq.json"):
        assert data in names
    assert "settings = portal_archive.settings" in zipfile.ZipFile(egg).read("EGG-INFO/entry_points.txt").decode()

    warc_dir = tmp_path / "warcs"
    with DemoPortal(seed=20240401) as portal:
        job = api(
            base,
            "schedule.json",
            [
                ("project", "portal_archive"),
                ("spider", "wechat"),
                ("setting", f"WARC_DIR={warc_dir.resolve()}"),
                ("base_url", portal.wechat_url),
            ],
        )
        assert job["status"] == "ok"
        deadline = time.monotonic() + 180
        finished: list[dict[str, Any]] = []
        while not finished and time.monotonic() < deadline:
            time.sleep(0.5)
            jobs = api(base, "listjobs.json?project=portal_archive")
            finished = [j for j in jobs["finished"] if j["id"] == job["jobid"]]
        assert finished, "the scheduled job did not finish in time"
        articles = {e.url for e in portal.manifest.for_site("wechat") if e.kind == "article"}

    (log,) = (home / "logs" / "portal_archive" / "wechat").glob(f"{job['jobid']}.log")
    text = log.read_text(encoding="utf-8", errors="replace")
    assert "'finish_reason': 'finished'" in text and "ERROR" not in text
    (warc,) = warc_dir.glob("wechat-*.warc.gz")
    assert check_files([warc])[1] == []
    assert f"'incremental/new': {len(articles)}" in text

"""``portal-archive demo`` as a newcomer meets it: stable URLs run after run, a second run that is an
incremental crawl of the same pages, and ``--serve`` with the crawl command and the next day."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from portal_archive.cli import build_parser, main
from portal_archive.demo import DemoPortal
from portal_archive.demo.portal import ports_from
from portal_archive.demo.run import SITES_RECORD
from tests.conftest import PROJECT_ROOT

BIN = Path(sys.executable).parent


def free_port_base() -> int:
    """A port from which five ports in a row are free (the demo's five sites)."""
    for _ in range(50):
        base = random.randrange(20_000, 60_000)
        sockets = []
        try:
            for port in range(base, base + 5):
                sock = socket.socket()
                sockets.append(sock)
                sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise RuntimeError("no five free ports in a row")


def test_the_portal_serves_on_the_ports_asked_and_says_when_one_is_taken() -> None:
    base = free_port_base()
    with DemoPortal(ports=ports_from(base)) as portal:
        assert portal.urls == {
            "bendi": f"http://127.0.0.1:{base}", "infoq": f"http://127.0.0.1:{base + 1}",
            "wechat": f"http://127.0.0.1:{base + 2}",
        }  # fmt: skip
        assert portal.notes == []
        with DemoPortal(ports=ports_from(base)) as second:  # every port taken by the first
            assert second.urls["bendi"] != portal.urls["bendi"]
            assert second.notes[0] == f"port {base} is taken: bendi is served on {second.urls['bendi']} instead"
            assert len(second.notes) == 5


@pytest.mark.slow
def test_a_second_demo_revisits_the_same_pages(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base, archive = free_port_base(), tmp_path / "archive"
    command = ["demo", "-o", str(archive), "--port-base", str(base)]
    assert main(command) == 0
    first = capsys.readouterr()
    assert main(command) == 0
    second = capsys.readouterr()
    assert "revisits the same pages" in second.err and "revisits the same pages" not in first.err
    assert (archive / SITES_RECORD).is_file()
    rows = {line.split()[0]: line.split() for line in second.out.splitlines() if line.startswith(("bendi", "total"))}
    header = next(line for line in second.out.splitlines() if line.startswith("spider"))
    assert "new  not modified" in header
    # total: pages, articles, new, not modified, response (columns in that order)
    total = rows["total"]
    assert (total[2], total[3], total[4], total[5]) == ("0", "0", "78", "0")
    assert "syndication: 15 clusters, 15 republished copies" in second.out  # the index kept its clusters
    # The folder's index is the default one: the report reads it instead of re-extracting.
    report = tmp_path / "r.json"
    assert main(["dedup-report", str(archive), "--format", "json", "-o", str(report), "--no-progress"]) == 0
    assert '"source": "index"' in report.read_text("utf-8")


@pytest.mark.slow
def test_serve_prints_the_crawl_command_and_announces_the_next_day() -> None:
    base = free_port_base()
    process = subprocess.Popen(
        [str(BIN / "portal-archive"), "demo", "--serve", "--port-base", str(base)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=PROJECT_ROOT, start_new_session=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline().strip() for _ in range(5)]  # three sites, how to crawl, next day
        assert lines[0] == f"bendi   http://127.0.0.1:{base}/"
        crawl = next(line for line in lines if line.startswith("crawl it:")).removeprefix("crawl it:").split()
        assert crawl[:4] == ["portal-archive", "crawl", "bendi", "infoq"]
        assert f"bendi=http://127.0.0.1:{base}" in crawl and f"wechat=http://127.0.0.1:{base + 2}" in crawl
        assert callable(build_parser().parse_args(crawl[1:]).func)
        assert any(line.startswith(f"next day:   kill -USR1 {process.pid}") for line in lines)
        os.kill(process.pid, signal.SIGUSR1)
        assert process.stdout.readline().startswith("now serving the next day (state 2)")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    assert process.returncode == 0
    assert process.stderr is not None and process.stderr.read() == ""

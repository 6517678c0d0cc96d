"""``portal-archive dist``: what it prints, and its exit codes when something is wrong."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from redis import Redis

from portal_archive.cli import main
from portal_archive.cli.dist import REDIS_URL_ENV
from portal_archive.crawl.runner import PROJECT_ROOT, crawl_env
from portal_archive.distributed.frontier import Frontier
from portal_archive.distributed.start import request_from_start_data
from spiders.infoq import InfoqSpider

DB = 14
BASE = "portal-archive:crawl:bendi"
BIN = Path(sys.executable).parent / "portal-archive"


@pytest.fixture
def url(redis_server: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.delenv(REDIS_URL_ENV, raising=False)
    with redis_server.empty_db(DB):
        yield str(redis_server.url_for(DB))


def test_seed_queues_the_spiders_start_requests(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dist", "seed", "bendi", "--redis", url, "-a", "base_url=http://127.0.0.1:9"]) == 0
    out = capsys.readouterr().out
    assert "queued http://127.0.0.1:9/\n" in out and "queued http://127.0.0.1:9/sitemap.xml\n" in out
    assert f"start URL(s) of bendi in {BASE}:start_urls" in out
    client = Redis.from_url(url)
    entries = [json.loads(item) for item in client.lrange(f"{BASE}:start_urls", 0, -1)]
    sitemap = next(entry for entry in entries if entry["url"].endswith("/sitemap.xml"))
    assert (sitemap["callback"], sitemap["errback"]) == ("parse_sitemap", "fetch_failed")
    assert sitemap["meta"] == {"list_depth": 0, "list_page": 1}
    # --fresh starts over, but never under running workers
    assert main(["dist", "seed", "bendi", "--redis", url, "--fresh", "-a", "base_url=http://127.0.0.1:9"]) == 0
    assert client.llen(f"{BASE}:start_urls") == len(entries)
    Frontier(Redis.from_url(url), BASE, "busy").claim_worker()
    capsys.readouterr()
    assert main(["dist", "seed", "bendi", "--redis", url, "--fresh"]) == 1
    assert "busy are still running" in capsys.readouterr().err


def test_seeded_list_api_pages_keep_their_post_body(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dist", "seed", "infoq", "--redis", url, "-a", "base_url=http://127.0.0.1:9"]) == 0
    client = Redis.from_url(url)
    key = "portal-archive:crawl:infoq:start_urls"
    entries = [json.loads(item) for item in client.lrange(key, 0, -1)]
    (listed,) = [entry for entry in entries if entry.get("method") == "POST"]
    assert listed["url"] == "http://127.0.0.1:9/public/v1/my/recommond" and json.loads(listed["body"]) == {"size": 20}
    assert listed["headers"]["Content-Type"] == "application/json"
    request = request_from_start_data(json.dumps(listed).encode(), InfoqSpider(base_url="http://127.0.0.1:9"))
    assert (request.method, json.loads(request.body)) == ("POST", {"size": 20})
    assert request.headers["Content-Type"] == b"application/json" and request.meta == listed["meta"]


def test_status_without_a_frontier(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dist", "status", "--redis", url]) == 0
    assert "no frontier under portal-archive:crawl:*" in capsys.readouterr().out
    assert main(["dist", "status", "bendi", "--redis", url]) == 0
    assert f"{BASE}: 0 queued, 0 start URL(s) waiting, 0 in flight, 0 seen" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["dist", "status"], 2, "PORTAL_ARCHIVE_REDIS_URL"),
        (["dist", "status", "--redis", "http://10.0.0.5/"], 2, "DISTRIBUTED_REDIS_URL must be empty"),
        (["dist", "seed", "nosuchportal", "--redis", "redis://127.0.0.1:9/0"], 2, "unknown portal 'nosuchportal'"),
        (["dist", "worker", "bendi", "--redis", "redis://127.0.0.1:9/0", "-s", "NOEQUALS"], 2, "NAME=VALUE"),
        (["dist", "worker", "bendi", "--redis", "redis://127.0.0.1:9/0", "--worker-id", "a b"], 2, "WORKER_ID"),
        (
            ["dist", "worker", "bendi", "--redis", "redis://127.0.0.1:9/0", "-a", "base_url=notaurl"],
            2,
            "bendi: base_url must be an absolute http(s) URL",
        ),
        (
            ["dist", "seed", "bendi", "--redis", "redis://127.0.0.1:9/0", "-a", "base_url=notaurl"],
            2,
            "bendi: base_url must be an absolute http(s) URL",
        ),
        (
            ["dist", "status", "--redis", "redis://:pw@127.0.0.1:9/0"],
            1,
            "cannot use --redis=redis://:***@127.0.0.1:9/0",
        ),
    ],
)
def test_mistakes_exit_with_a_line_that_says_what_to_do(
    argv: list[str], code: int, message: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(REDIS_URL_ENV, raising=False)
    assert main(argv) == code
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert ":pw@" not in err


def test_a_worker_that_fetched_nothing_fails(url: str, tmp_path: Path) -> None:
    command = [str(BIN), "dist", "worker", "bendi", "--redis", url, "--archive", str(tmp_path)]
    result = subprocess.run(
        [*command, "-a", "base_url=http://127.0.0.1:9"],
        capture_output=True,
        text=True,
        env=crawl_env(),
        cwd=PROJECT_ROOT,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr[-2000:]
    assert "problem: fetched nothing" in result.stderr
    assert Redis.from_url(url).hlen(f"{BASE}:workers") == 0  # and it left the frontier

"""``portal-archive crawl``: portal names, the folder lock, the run summary and the exit status."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from portal_archive.cli import main
from portal_archive.crawl.runner import (
    EXIT_BUSY,
    EXIT_USAGE,
    NO_ARTICLE,
    ArchiveBusy,
    CrawlResult,
    archive_lock,
    resolve_targets,
)
from portal_archive.demo import DemoPortal


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def summaries(archive: Path) -> list[dict[str, object]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted((archive / "runs").glob("*.json"))]


def test_all_names_every_portal_spider_but_the_generic_one() -> None:
    assert [t.spider for t in resolve_targets([], crawl_all=True)] == ["bendi", "infoq", "wechat"]


def test_a_profile_file_is_crawled_by_the_portal_spider(tmp_path: Path) -> None:
    profile = tmp_path / "mysite.toml"
    profile.write_text("name = 'mysite'\n", encoding="utf-8")
    (target,) = resolve_targets([str(profile)], crawl_all=False)
    assert (target.label, target.spider, target.arguments) == ("mysite", "portal", (("profile", str(profile)),))


@pytest.mark.parametrize("argv", [["crawl"], ["crawl", "nosuchportal"], ["crawl", "wechat", "-s", "NOEQUALS"]])
def test_usage_errors_exit_2_without_crawling(
    tmp_path: Path, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*argv, "--archive", str(tmp_path)]) == EXIT_USAGE
    assert "portal-archive crawl:" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()


def test_a_second_run_on_a_busy_folder_exits_75(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with archive_lock(tmp_path, wait=False):
        assert main(["crawl", "wechat", "--archive", str(tmp_path)]) == EXIT_BUSY
    err = capsys.readouterr().err
    assert "another crawl holds" in err and f"pid {os.getpid()}" in err and "--wait" in err
    assert not (tmp_path / "runs").exists()
    with pytest.raises(ArchiveBusy), archive_lock(tmp_path, wait=False), archive_lock(tmp_path, wait=False):
        pass


def test_wait_queues_behind_the_holder(tmp_path: Path) -> None:
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with archive_lock(tmp_path, wait=False):
            held.set()
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(5)
    threading.Timer(0.3, release.set).start()
    started = time.monotonic()
    with archive_lock(tmp_path, wait=True):
        assert time.monotonic() - started >= 0.25
    holder.join()


def test_problems_of_a_crawl_that_fetched_nothing() -> None:
    result = CrawlResult("x", 0, {"finish_reason": "finished", "downloader/response_count": 0}, "")
    assert result.problems == ["fetched nothing"]


@pytest.mark.parametrize(
    ("found", "problems"),
    [
        ({}, [NO_ARTICLE]),
        ({"spider/articles": 3}, []),
        ({"incremental/not_modified": 5}, []),  # known articles, none changed
        ({"incremental/has_known_articles": 1}, []),  # earlier runs found this portal's articles
    ],
)
def test_a_portal_run_that_found_no_article_fails_unless_it_had_some_before(
    found: dict[str, int], problems: list[str]
) -> None:
    stats = {"finish_reason": "finished", "downloader/response_count": 12, "spider/articles": 0, **found}
    assert CrawlResult("x", 0, stats, "").problems == problems
    # A spider that is no portal spider (no ``spider/articles`` at all) is not judged by articles.
    assert CrawlResult("x", 0, {"finish_reason": "finished", "downloader/response_count": 12}, "").problems == []


@pytest.mark.slow
def test_portals_aimed_at_the_wrong_site_fail_with_a_hint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with DemoPortal(seed=20240401) as portal:
        command = ["crawl", "--all", "--archive", str(tmp_path), "-a", f"base_url={portal.aggregator_url}"]
        assert main(command) == 1
    err = capsys.readouterr().err
    (summary,) = summaries(tmp_path)
    runs = {run["portal"]: run for run in summary["portals"]}  # type: ignore[union-attr]
    assert runs["bendi"]["ok"] is True
    for portal_name in ("infoq", "wechat"):
        run = runs[portal_name]
        assert run["ok"] is False and run["pages_fetched"] > 0 and run["problems"] == [NO_ARTICLE], run["problems"]
        assert f"  {portal_name}: " in err
    assert "is base_url right?" in err


@pytest.mark.slow
def test_a_dead_portal_makes_the_run_fail(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{closed_port()}"
    assert main(["crawl", "wechat", "--archive", str(tmp_path), "-a", f"base_url={dead}"]) == 1
    (summary,) = summaries(tmp_path)
    (run,) = summary["portals"]  # type: ignore[misc]
    assert summary["ok"] is False and summary["exit_status"] == 1
    assert run["exit_status"] == 0 and "fetched nothing" in run["problems"]
    assert Path(run["log"]).is_file()


@pytest.mark.slow
def test_scheduled_runs_summarise_what_each_found(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    with DemoPortal(seed=20240401) as portal:
        command = ["crawl", "wechat", "--archive", str(archive), "-a", f"base_url={portal.wechat_url}"]
        assert main(command) == 0
        portal.set_state(2)
        assert main([*command, "-s", "LOG_LEVEL=INFO"]) == 0
        articles = {e.url for e in portal.manifest.for_site("wechat") if e.kind == "article"}
        new = set(portal.manifest.changes.new) & articles  # type: ignore[union-attr]
    first, second = summaries(archive)
    assert first["ok"] is True and second["ok"] is True and not (archive / ".crawl.lock").read_text()
    (run1,) = first["portals"]  # type: ignore[misc]
    (run2,) = second["portals"]  # type: ignore[misc]
    assert run1["new_articles"] == len(articles - new) and run1["not_modified"] == 0
    assert run2["new_articles"] == len(new) and run2["not_modified"] == len(articles - new)
    assert run2["changed_articles"] == 0
    for run in (run1, run2):
        (warc,) = run["warc_files"]
        assert (archive / warc).is_file() and warc.startswith("wechat-")
        assert run["stats"]["finish_reason"] == "finished" and run["exit_status"] == 0
        assert Path(run["log"]).is_file()
    assert second["recovery"]["files"] == [] and second["skipped"] == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["crawl", "bendi", "-a", "base_url=notaurl"], "bendi: base_url must be an absolute http(s) URL"),
        (["crawl", "portal", "-a", "profile=/nonexistent/site.toml"], "/nonexistent/site.toml: cannot read"),
        (["crawl", "nosuchportal"], "no spider named 'nosuchportal'"),
    ],
)
def test_scrapy_crawl_refuses_bad_arguments_in_one_line(argv: list[str], message: str) -> None:
    from portal_archive.crawl.runner import PROJECT_ROOT, crawl_env

    done = subprocess.run(
        [sys.executable, "-m", "scrapy", *argv, "-s", "LOG_LEVEL=WARNING"],
        capture_output=True, text=True, env=crawl_env(), cwd=PROJECT_ROOT, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == EXIT_USAGE
    assert "Traceback" not in done.stderr + done.stdout
    assert done.stderr.strip().splitlines()[-1].startswith(f"scrapy crawl: {message}")


def test_portal_archive_crawl_refuses_bad_arguments_before_crawling(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["crawl", "bendi", "--archive", str(tmp_path), "-a", "base_url=notaurl"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err == "portal-archive crawl: bendi: base_url must be an absolute http(s) URL, got 'notaurl'\n"
    assert not (tmp_path / "runs").exists()


@pytest.mark.slow
def test_a_clean_crawl_logs_no_warning(demo_archive: tuple[Path, list[CrawlResult]]) -> None:
    """Components off by configuration say so at DEBUG; the demo's 500 page is a fact of the site (INFO)."""
    _directory, results = demo_archive
    for result in results:
        assert result.stats.get("log_count/WARNING", 0) == 0, (result.spider, result.log_tail)


def test_base_url_per_portal() -> None:
    from portal_archive.crawl.runner import UsageError, with_base_urls

    targets = resolve_targets(["bendi", "infoq"], crawl_all=False)
    chosen = with_base_urls(targets, [("infoq", "http://127.0.0.1:8102")], [])
    assert [t.arguments for t in chosen] == [(), (("base_url", "http://127.0.0.1:8102"),)]
    with pytest.raises(UsageError, match="--base-url names wechat, not crawled here"):
        with_base_urls(targets, [("wechat", "http://x")], [])
    with pytest.raises(UsageError, match="give base_url once"):
        with_base_urls(targets, [("bendi", "http://x")], [("base_url", "http://y")])


def test_live_line_says_what_a_crawl_has_done_so_far() -> None:
    from portal_archive.crawl.runner import live_line

    stats = {"downloader/response_count": 120, "item_scraped_count": 35, "dedup/clusters": 3, "log_count/ERROR": 1}
    assert live_line("bendi", stats, 10.0) == "  bendi: 120 pages, 35 articles, 3 new clusters, 12.0 pages/s, 1 errors"
    assert live_line("bendi", {"downloader/response_count": 0}, 0.0) == (
        "  bendi: 0 pages, 0 articles, 0 new clusters, 0.0 pages/s, 0 errors"
    )
    assert live_line("bendi", {}, 1.4) == "  bendi: starting (1 s)"  # no snapshot yet


@pytest.mark.slow
def test_a_crawl_on_a_terminal_shows_a_live_line(tmp_path: Path) -> None:
    import pty
    import select

    from portal_archive.crawl.runner import PROJECT_ROOT

    with DemoPortal(seed=20240401) as portal:
        portal.delay = 0.5  # long enough for a few updates
        leader, follower = pty.openpty()
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "portal-archive"), "crawl", "wechat", "--archive", str(tmp_path),
             "--base-url", f"wechat={portal.wechat_url}"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=follower, cwd=PROJECT_ROOT,
        )  # fmt: skip
        os.close(follower)
        screen = b""
        while True:
            ready, _, _ = select.select([leader], [], [], 120)
            try:
                chunk = os.read(leader, 4096) if ready else b""
            except OSError:  # the terminal closed with the process
                chunk = b""
            if not chunk:
                break
            screen += chunk
        os.close(leader)
        assert process.wait(timeout=60) == 0
    text = screen.decode("utf-8", "replace")
    frames = text.split("\r\x1b[K")
    assert any(part.startswith("  wechat: starting (") for part in frames), text  # before the first snapshot
    updates = [part for part in frames if part.startswith("  wechat: ") and "pages/s" in part]
    assert updates, text
    assert "  wechat: 25 pages, 20 new" in text  # the final line replaced the live one

"""Shared fixtures: the demo portal served once per session on 127.0.0.1, and WARC helpers."""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED = PROJECT_ROOT.parent / "shared"
LINT_WARC = SHARED / "tools" / "lint_warc.py"


@pytest.fixture(scope="session")
def demo_portal() -> Iterator[object]:
    """The bundled demo portal (three sites) on free ports of 127.0.0.1."""
    from portal_archive.demo import DemoPortal

    with DemoPortal(seed=20240401) as portal:
        yield portal


@pytest.fixture(scope="session")
def demo_archive(demo_portal: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Any]]:
    """One crawl of the demo portal by the three portal spiders, shared by every test that reads it.

    Returns the WARC folder and the per-spider ``CrawlResult`` list. Tests must not write into it.
    """
    from portal_archive.demo.run import SITE_URL_ATTR, run_crawls

    directory = tmp_path_factory.mktemp("demo-crawl") / "archive"
    jobs = {name: getattr(demo_portal, attr) for name, attr in SITE_URL_ATTR.items()}
    return directory, run_crawls(jobs, directory, "INFO")


def fixed_clock(moment: datetime | None = None) -> Callable[[], datetime]:
    """A clock that always answers the same instant."""
    instant = moment or datetime(2024, 4, 1, 2, 30, 0, 123456, tzinfo=UTC)
    return lambda: instant


def counting_ids() -> Callable[[], str]:
    """Deterministic ``<urn:uuid:…>`` ids: …000000000000, …000000000001, …"""
    counter = itertools.count()
    return lambda: f"<urn:uuid:00000000-0000-4000-8000-{next(counter):012d}>"


def lint_available() -> bool:
    """The shared WARC linter is present beside the project (not in every clone)."""
    return LINT_WARC.is_file()


def wget_available() -> bool:
    """Debian's wget is installed."""
    return shutil.which("wget") is not None


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A private ``redis-server`` on 127.0.0.1 (free port, nothing saved), shared by the session.

    Tests that need an empty store take their own logical database with ``redis_server.url_for(n)``
    or flush the keys they use.
    """
    from tests.redis_server import RedisServer

    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server

"""Each crawl component's settings, parsed once into a frozen config: defaults, values, bad values, frozen.

The defaults are the project's (``portal_archive.settings``) even from bare ``Settings()``, whose
Scrapy defaults are the only thing present; Scrapy-owned settings a config mirrors come from there.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from scrapy import Spider
from scrapy.exceptions import NotConfigured
from scrapy.settings import Settings
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from portal_archive import settings as project
from portal_archive.capture.recover import OrphanRecoveryExtension, RecoverConfig
from portal_archive.config import SettingsError
from portal_archive.crawl.faults import FetchFaultMiddleware, FetchFaultsConfig
from portal_archive.crawl.fetchguard import FetchGuardConfig, ResponseSizeGuard
from portal_archive.crawl.politeness import CrawlDelayConfig, CrawlDelayExtension
from portal_archive.crawl.redirects import RedirectGuardConfig, RedirectGuardMiddleware
from portal_archive.crawl.retryafter import RetryAfterConfig, RetryAfterMiddleware
from portal_archive.crawl.runstats import RunStatsConfig, RunStatsExtension


class UnitSpider(Spider):
    name = "unit"


def build(component: type[Any], **settings: Any) -> Any:
    return build_from_crawler(component, get_crawler(UnitSpider, settings))


# -- FETCH_GUARD_* -----------------------------------------------------------------------------


def test_fetch_guard_defaults_are_the_project_limit() -> None:
    assert FetchGuardConfig() == FetchGuardConfig(enabled=True, max_size=64 * 1024 * 1024)
    assert FetchGuardConfig.from_settings(Settings()).enabled is True
    # Bare Settings() carries Scrapy's own DOWNLOAD_MAXSIZE; the project lowers it.
    assert FetchGuardConfig.from_settings(Settings()).max_size == 1024 * 1024 * 1024
    assert FetchGuardConfig().max_size == project.DOWNLOAD_MAXSIZE


def test_fetch_guard_values_are_read_and_frozen() -> None:
    config = FetchGuardConfig.from_settings(Settings({"FETCH_GUARD_ENABLED": "False", "DOWNLOAD_MAXSIZE": "4096"}))
    assert (config.enabled, config.max_size) == (False, 4096)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.max_size = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("key", "value"), [("FETCH_GUARD_ENABLED", "maybe"), ("DOWNLOAD_MAXSIZE", "big"), ("DOWNLOAD_MAXSIZE", "-1")]
)
def test_fetch_guard_bad_values_name_the_key(key: str, value: str) -> None:
    with pytest.raises(SettingsError, match=key):
        FetchGuardConfig.from_settings(Settings({key: value}))


@pytest.mark.parametrize(
    ("settings", "reason"),
    [({"FETCH_GUARD_ENABLED": False}, "FETCH_GUARD_ENABLED"), ({"DOWNLOAD_MAXSIZE": 0}, "DOWNLOAD_MAXSIZE")],
)
def test_fetch_guard_switched_off(settings: dict[str, Any], reason: str) -> None:
    with pytest.raises(NotConfigured, match=reason):
        build(ResponseSizeGuard, **settings)


def test_fetch_guard_takes_its_limit_from_the_config() -> None:
    assert build(ResponseSizeGuard, DOWNLOAD_MAXSIZE=2048).maxsize == 2048


# -- FETCH_FAULTS_* ----------------------------------------------------------------------------


def test_fetch_faults_config() -> None:
    assert FetchFaultsConfig().enabled is True
    assert FetchFaultsConfig.from_settings(Settings()).enabled is True
    config = FetchFaultsConfig.from_settings(Settings({"FETCH_FAULTS_ENABLED": "0"}))
    assert config.enabled is False
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.enabled = True  # type: ignore[misc]
    with pytest.raises(SettingsError, match="FETCH_FAULTS_ENABLED"):
        FetchFaultsConfig.from_settings(Settings({"FETCH_FAULTS_ENABLED": "often"}))
    with pytest.raises(NotConfigured, match="FETCH_FAULTS_ENABLED"):
        build(FetchFaultMiddleware, FETCH_FAULTS_ENABLED=False)


# -- REDIRECT_GUARD_* --------------------------------------------------------------------------


def test_redirect_guard_defaults() -> None:
    expected = RedirectGuardConfig(enabled=True, redirects_followed=True, max_redirects=20)
    assert RedirectGuardConfig() == expected
    assert RedirectGuardConfig.from_settings(Settings()) == expected


def test_redirect_guard_values_are_read_and_frozen() -> None:
    config = RedirectGuardConfig.from_settings(
        Settings({"REDIRECT_GUARD_ENABLED": "false", "REDIRECT_ENABLED": "0", "REDIRECT_MAX_TIMES": "5"})
    )
    assert (config.enabled, config.redirects_followed, config.max_redirects) == (False, False, 5)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.max_redirects = 1  # type: ignore[misc]
    assert build(RedirectGuardMiddleware, REDIRECT_MAX_TIMES=3).max_redirects == 3


@pytest.mark.parametrize(
    ("key", "value"),
    [("REDIRECT_GUARD_ENABLED", "yes please"), ("REDIRECT_MAX_TIMES", "lots"), ("REDIRECT_MAX_TIMES", "-2")],
)
def test_redirect_guard_bad_values_name_the_key(key: str, value: str) -> None:
    with pytest.raises(SettingsError, match=key):
        RedirectGuardConfig.from_settings(Settings({key: value}))


@pytest.mark.parametrize("key", ["REDIRECT_GUARD_ENABLED", "REDIRECT_ENABLED"])
def test_redirect_guard_switched_off(key: str) -> None:
    with pytest.raises(NotConfigured, match=key):
        build(RedirectGuardMiddleware, **{key: False})


# -- RETRY_AFTER_* -----------------------------------------------------------------------------


def test_retry_after_defaults() -> None:
    expected = RetryAfterConfig(enabled=True, max_wait=60.0, retries_enabled=True)
    assert RetryAfterConfig() == expected
    assert RetryAfterConfig.from_settings(Settings()) == expected


def test_retry_after_values_are_read_and_frozen() -> None:
    config = RetryAfterConfig.from_settings(
        Settings({"RETRY_AFTER_ENABLED": "False", "RETRY_AFTER_MAX": "2.5", "RETRY_ENABLED": "false"})
    )
    assert (config.enabled, config.max_wait, config.retries_enabled) == (False, 2.5, False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.max_wait = 1.0  # type: ignore[misc]
    assert build(RetryAfterMiddleware, RETRY_AFTER_MAX=7).max_wait == 7.0


@pytest.mark.parametrize(
    ("key", "value"), [("RETRY_AFTER_ENABLED", "kind of"), ("RETRY_AFTER_MAX", "a minute"), ("RETRY_AFTER_MAX", "-1")]
)
def test_retry_after_bad_values_name_the_key(key: str, value: str) -> None:
    with pytest.raises(SettingsError, match=key):
        RetryAfterConfig.from_settings(Settings({key: value}))


@pytest.mark.parametrize("key", ["RETRY_AFTER_ENABLED", "RETRY_ENABLED"])
def test_retry_after_switched_off(key: str) -> None:
    with pytest.raises(NotConfigured, match=key):
        build(RetryAfterMiddleware, **{key: False})


# -- CRAWL_DELAY_* -----------------------------------------------------------------------------


def test_crawl_delay_defaults() -> None:
    config = CrawlDelayConfig()
    assert (config.enabled, config.max_delay, config.robots_obeyed) == (True, 60.0, True)
    assert config.user_agent == project.USER_AGENT
    bare = CrawlDelayConfig.from_settings(Settings())
    assert (bare.enabled, bare.max_delay) == (True, 60.0)
    assert bare.robots_obeyed is False  # Scrapy's own default; the project turns it on


def test_crawl_delay_values_are_read_and_frozen() -> None:
    config = CrawlDelayConfig.from_settings(
        Settings(
            {
                "CRAWL_DELAY_ENABLED": "true",
                "CRAWL_DELAY_MAX": "12",
                "ROBOTSTXT_OBEY": "True",
                "USER_AGENT": "ua/1",
                "ROBOTSTXT_USER_AGENT": "robots-name",
            }
        )
    )
    assert (config.enabled, config.max_delay, config.robots_obeyed, config.user_agent) == (
        True,
        12.0,
        True,
        "robots-name",
    )
    assert CrawlDelayConfig.from_settings(Settings({"USER_AGENT": "ua/1"})).user_agent == "ua/1"
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.max_delay = 1.0  # type: ignore[misc]
    extension = build(CrawlDelayExtension, ROBOTSTXT_OBEY=True, CRAWL_DELAY_MAX=5, USER_AGENT="ua/2")
    assert (extension.max_delay, extension.user_agent) == (5.0, "ua/2")


@pytest.mark.parametrize(
    ("key", "value"), [("CRAWL_DELAY_ENABLED", "on Sundays"), ("CRAWL_DELAY_MAX", "long"), ("CRAWL_DELAY_MAX", "-1")]
)
def test_crawl_delay_bad_values_name_the_key(key: str, value: str) -> None:
    with pytest.raises(SettingsError, match=key):
        CrawlDelayConfig.from_settings(Settings({key: value}))


# -- RUN_STATS_* -------------------------------------------------------------------------------


def test_run_stats_config(tmp_path: Path) -> None:
    assert RunStatsConfig().file is None
    assert RunStatsConfig.from_settings(Settings()).file is None
    config = RunStatsConfig.from_settings(Settings({"RUN_STATS_FILE": str(tmp_path / "stats.json")}))
    assert config.file == tmp_path / "stats.json"
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.file = None  # type: ignore[misc]
    with pytest.raises(SettingsError, match="RUN_STATS_FILE"):
        RunStatsConfig.from_settings(Settings({"RUN_STATS_FILE": 42}))
    with pytest.raises(NotConfigured, match="RUN_STATS_FILE"):
        build(RunStatsExtension)
    assert build(RunStatsExtension, RUN_STATS_FILE=str(tmp_path / "s.json")).path == tmp_path / "s.json"
    assert config.progress_interval == 0.0  # only the final stats, unless asked
    live = RunStatsConfig.from_settings(Settings({"RUN_STATS_FILE": "s.json", "RUN_STATS_PROGRESS_INTERVAL": "1.5"}))
    assert live.progress_interval == 1.5
    assert build(RunStatsExtension, RUN_STATS_FILE="s.json", RUN_STATS_PROGRESS_INTERVAL="2").progress_interval == 2.0
    with pytest.raises(SettingsError, match="RUN_STATS_PROGRESS_INTERVAL"):
        RunStatsConfig.from_settings(Settings({"RUN_STATS_PROGRESS_INTERVAL": "-1"}))


# -- RECOVER_* ---------------------------------------------------------------------------------


def test_recover_config(tmp_path: Path) -> None:
    assert RecoverConfig().enabled is True
    assert RecoverConfig.from_settings(Settings()).enabled is True
    config = RecoverConfig.from_settings(Settings({"RECOVER_ENABLED": "false"}))
    assert config.enabled is False
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.enabled = True  # type: ignore[misc]
    with pytest.raises(SettingsError, match="RECOVER_ENABLED"):
        RecoverConfig.from_settings(Settings({"RECOVER_ENABLED": "after lunch"}))


@pytest.mark.parametrize("key", ["RECOVER_ENABLED", "WARC_ENABLED"])
def test_recovery_switched_off(key: str) -> None:
    with pytest.raises(NotConfigured, match=key):
        build(OrphanRecoveryExtension, **{key: False})


def test_recovery_reconciles_the_crawl_state_this_crawl_uses(tmp_path: Path) -> None:
    extension = build(OrphanRecoveryExtension, WARC_DIR=str(tmp_path))
    assert (extension.directory, extension.state_path) == (tmp_path, tmp_path / "crawlstate.sqlite")
    elsewhere = tmp_path / "state" / "crawl.sqlite"
    extension = build(OrphanRecoveryExtension, WARC_DIR=str(tmp_path), INCREMENTAL_STATE_PATH=str(elsewhere))
    assert extension.state_path == elsewhere

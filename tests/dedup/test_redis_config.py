"""``DEDUP_INDEX_URL`` picks the index: empty is the SQLite file, a Redis URL the shared index, and
``DISTRIBUTED_REDIS_URL`` stands in when it is empty; anything else names the setting."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from scrapy.settings import Settings

from portal_archive.dedup import DedupConfig, DedupSettingsError
from portal_archive.dedup.config import REDIS_PREFIX, redact_url


def test_empty_url_keeps_the_sqlite_index_beside_the_warcs() -> None:
    config = DedupConfig.from_settings(Settings({"WARC_DIR": "/data/crawl", "DEDUP_INDEX_URL": ""}))
    assert config.index_url == ""
    assert config.index_path == Path("/data/crawl/dedup.sqlite")
    assert config.index_location == "/data/crawl/dedup.sqlite"
    assert config.redis_prefix == REDIS_PREFIX == "portal-archive:dedup:"


@pytest.mark.parametrize(
    "url", ["redis://127.0.0.1:6379/3", "rediss://user:pw@redis.example:6380/0", "unix:///run/redis.sock?db=2"]
)
def test_redis_urls_select_the_redis_index(url: str) -> None:
    config = DedupConfig.from_settings(Settings({"DEDUP_INDEX_URL": f"  {url} ", "DEDUP_REDIS_PREFIX": "crawl-7:"}))
    assert config.index_url == url
    assert config.index_url_setting == "DEDUP_INDEX_URL"
    assert config.redis_prefix == "crawl-7:"
    assert "pw" not in config.index_location and config.index_location.endswith(" crawl-7:")


def test_the_distributed_crawl_server_is_used_when_no_index_url_is_given() -> None:
    distributed = "redis://frontier.example:6379/1"
    config = DedupConfig.from_settings(Settings({"DISTRIBUTED_REDIS_URL": distributed}))
    assert (config.index_url, config.index_url_setting) == (distributed, "DISTRIBUTED_REDIS_URL")
    own = DedupConfig.from_settings(
        Settings({"DISTRIBUTED_REDIS_URL": distributed, "DEDUP_INDEX_URL": "redis://dedup.example/0"})
    )
    assert (own.index_url, own.index_url_setting) == ("redis://dedup.example/0", "DEDUP_INDEX_URL")
    assert DedupConfig.from_settings(Settings({"DISTRIBUTED_REDIS_URL": ""})).index_url == ""


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"DEDUP_INDEX_URL": "http://127.0.0.1:6379"}, "DEDUP_INDEX_URL"),
        ({"DEDUP_INDEX_URL": "archive/dedup.sqlite"}, "DEDUP_INDEX_URL"),
        ({"DEDUP_INDEX_URL": "sqlite:///archive/dedup.sqlite"}, "DEDUP_INDEX_URL"),
        ({"DISTRIBUTED_REDIS_URL": "memcached://cache:11211"}, "DISTRIBUTED_REDIS_URL"),
        ({"DEDUP_REDIS_PREFIX": "two words:"}, "DEDUP_REDIS_PREFIX"),
    ],
)
def test_anything_else_is_refused_naming_the_setting(settings: dict[str, str], named: str) -> None:
    with pytest.raises(DedupSettingsError, match=named):
        DedupConfig.from_settings(Settings(settings))


def test_a_refused_url_does_not_show_its_password() -> None:
    with pytest.raises(DedupSettingsError) as raised:
        DedupConfig.from_settings(Settings({"DEDUP_INDEX_URL": "https://admin:hunter2@redis.example/0"}))
    assert "hunter2" not in str(raised.value)
    assert redact_url("redis://:hunter2@h:1/0") == "redis://:***@h:1/0"
    assert redact_url("redis://h:1/0") == "redis://h:1/0"


def test_the_config_stays_frozen_and_validated() -> None:
    config = DedupConfig(index_url="redis://127.0.0.1/0")
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.index_url = ""  # type: ignore[misc]
    with pytest.raises(DedupSettingsError, match="DEDUP_INDEX_URL"):
        DedupConfig(index_url="ftp://x")

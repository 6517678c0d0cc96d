"""``DISTRIBUTED_*`` settings, the add-on that reads them, and a project that runs without redis."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from scrapy.settings import Settings

from portal_archive.capture.config import WarcConfig, WarcSettingsError
from portal_archive.distributed.addon import DistributedAddon
from portal_archive.distributed.config import (
    DistributedConfig,
    DistributedSettingsError,
    default_worker_id,
    frontier_name,
    redact_url,
)
from portal_archive.warc.records import HttpExchange
from portal_archive.warc.writer import RotatingWarcWriter
from tests.conftest import PROJECT_ROOT

URL = "redis://:s3cret@10.0.0.5:6379/2"


def project_settings(**overrides: Any) -> Settings:
    from scrapy.utils.project import get_project_settings

    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "portal_archive.settings")
    settings = get_project_settings()
    settings.setdict(overrides, priority="cmdline")
    return settings


def test_off_by_default() -> None:
    config = DistributedConfig.from_settings(project_settings())
    assert not config.enabled and config.redis_url == ""
    assert config.worker_id == default_worker_id()
    assert (config.key_prefix, config.heartbeat_interval, config.heartbeat_ttl) == ("portal-archive:crawl", 1.0, 30.0)
    assert (config.seed_timeout, config.start_batch) == (0.0, 64)


def test_values_are_read_converted_and_frozen() -> None:
    config = DistributedConfig.from_settings(
        Settings(
            {
                "DISTRIBUTED_REDIS_URL": URL,
                "DISTRIBUTED_WORKER_ID": "crawler-b.2",
                "DISTRIBUTED_KEY_PREFIX": "news:2026",
                "DISTRIBUTED_HEARTBEAT_INTERVAL": "0.5",
                "DISTRIBUTED_HEARTBEAT_TTL": "5",
                "DISTRIBUTED_SEED_TIMEOUT": "10",
                "DISTRIBUTED_START_BATCH": "8",
            }
        )
    )
    assert config.enabled and config.redis_url == URL
    assert (config.worker_id, config.key_prefix) == ("crawler-b.2", "news:2026")
    assert (config.heartbeat_interval, config.heartbeat_ttl, config.seed_timeout, config.start_batch) == (
        0.5,
        5.0,
        10.0,
        8,
    )
    assert config.base_key("bendi") == "news:2026:bendi"
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.worker_id = "other"  # type: ignore[misc]


def test_default_worker_id_fits_file_names_and_keys() -> None:
    worker = default_worker_id()
    assert worker.endswith(f"-{os.getpid()}")
    DistributedConfig(worker_id=worker).validate()


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"DISTRIBUTED_REDIS_URL": "http://:s3cret@10.0.0.5/"}, "DISTRIBUTED_REDIS_URL must be empty"),
        ({"DISTRIBUTED_REDIS_URL": "10.0.0.5:6379"}, "DISTRIBUTED_REDIS_URL"),
        ({"DISTRIBUTED_WORKER_ID": "a/b"}, "DISTRIBUTED_WORKER_ID"),
        ({"DISTRIBUTED_WORKER_ID": "under_score"}, "DISTRIBUTED_WORKER_ID"),
        ({"DISTRIBUTED_KEY_PREFIX": "has space"}, "DISTRIBUTED_KEY_PREFIX"),
        ({"DISTRIBUTED_HEARTBEAT_INTERVAL": "0"}, "DISTRIBUTED_HEARTBEAT_INTERVAL"),
        ({"DISTRIBUTED_HEARTBEAT_TTL": "1.5"}, "DISTRIBUTED_HEARTBEAT_TTL"),
        ({"DISTRIBUTED_SEED_TIMEOUT": "-1"}, "DISTRIBUTED_SEED_TIMEOUT"),
        ({"DISTRIBUTED_START_BATCH": "0"}, "DISTRIBUTED_START_BATCH"),
        ({"DISTRIBUTED_HEARTBEAT_TTL": "soon"}, "DISTRIBUTED_HEARTBEAT_TTL must be a number"),
        ({"DISTRIBUTED_START_BATCH": "a few"}, "DISTRIBUTED_START_BATCH must be an integer"),
    ],
)
def test_bad_values_name_their_setting(settings: dict[str, str], message: str) -> None:
    with pytest.raises(DistributedSettingsError, match=message) as caught:
        DistributedConfig.from_settings(Settings(settings))
    assert "s3cret" not in str(caught.value)


def test_passwords_never_reach_messages() -> None:
    assert redact_url(URL) == "redis://:***@10.0.0.5:6379/2"
    assert redact_url("redis://crawler:pw@host/0") == "redis://crawler:***@host/0"
    assert redact_url("redis://host:6379/0") == "redis://host:6379/0"


def test_frontier_names_keep_profiles_apart() -> None:
    from spiders.bendi import BendiSpider
    from spiders.portal import ProfileSpider

    assert frontier_name(BendiSpider(base_url="http://127.0.0.1:9")) == "bendi"
    assert frontier_name(ProfileSpider(profile="wechat", base_url="http://127.0.0.1:9")) == "portal.wechat"


# -- the add-on ----------------------------------------------------------------------------------


def test_the_addon_changes_nothing_when_off() -> None:
    settings = project_settings()
    before = settings.copy_to_dict()
    DistributedAddon().update_settings(settings)
    assert settings.copy_to_dict() == before
    assert settings["SCHEDULER"] == "scrapy.core.scheduler.Scheduler"
    assert settings.getbool("INCREMENTAL_ENABLED")


def test_the_addon_puts_the_crawl_on_the_shared_frontier() -> None:
    settings = project_settings(DISTRIBUTED_REDIS_URL=URL, DISTRIBUTED_WORKER_ID="b1")
    DistributedAddon().update_settings(settings)
    assert settings["SCHEDULER"] == "portal_archive.distributed.scheduler.ReliableScheduler"
    assert settings["SCHEDULER_QUEUE_CLASS"] == "portal_archive.distributed.queue.ReliableQueue"
    assert settings["DUPEFILTER_CLASS"] == "portal_archive.distributed.dupefilter.RedisDupeFilter"
    assert settings["SCHEDULER_SERIALIZER"] == "portal_archive.distributed.codec"
    assert settings.getbool("SCHEDULER_PERSIST")
    assert settings["WARC_HOST"] == "b1"
    assert not settings.getbool("INCREMENTAL_ENABLED")  # crawl state is one machine's file


def test_the_addon_gives_every_component_one_worker_id_and_lets_the_command_line_win() -> None:
    settings = project_settings(DISTRIBUTED_REDIS_URL=URL, WARC_HOST="shared-name", SCHEDULER="my.Scheduler")
    DistributedAddon().update_settings(settings)
    assert settings["DISTRIBUTED_WORKER_ID"] == default_worker_id()
    assert settings["WARC_HOST"] == "shared-name"
    assert settings["SCHEDULER"] == "my.Scheduler"


def test_the_addon_fills_in_the_empty_defaults_of_the_settings_module() -> None:
    """The settings module spells out WARC_HOST and DISTRIBUTED_WORKER_ID empty, above add-on priority."""
    settings = project_settings(DISTRIBUTED_REDIS_URL=URL)
    assert settings["WARC_HOST"] == "" and settings["DISTRIBUTED_WORKER_ID"] == ""
    DistributedAddon().update_settings(settings)
    assert settings["DISTRIBUTED_WORKER_ID"] == default_worker_id()
    assert settings["WARC_HOST"] == default_worker_id()
    named = project_settings(DISTRIBUTED_REDIS_URL=URL, DISTRIBUTED_WORKER_ID="crawler-b")
    DistributedAddon().update_settings(named)
    assert (named["DISTRIBUTED_WORKER_ID"], named["WARC_HOST"]) == ("crawler-b", "crawler-b")


def test_incremental_crawling_cannot_be_asked_for_in_a_distributed_crawl() -> None:
    settings = project_settings(DISTRIBUTED_REDIS_URL=URL, INCREMENTAL_ENABLED="True")
    with pytest.raises(DistributedSettingsError, match="INCREMENTAL_ENABLED"):
        DistributedAddon().update_settings(settings)


def test_the_addon_runs_in_every_crawl() -> None:
    settings = project_settings()
    assert "portal_archive.distributed.addon.DistributedAddon" in settings.getdict("ADDONS")
    assert "portal_archive.distributed.start.DistributedStartMiddleware" in settings.getdict("SPIDER_MIDDLEWARES")


# -- WARC file names carry the worker ----------------------------------------------------------------


def test_warc_host_names_the_files(tmp_path: Path) -> None:
    config = WarcConfig.from_settings(Settings({"WARC_HOST": "crawler-b.2"}))
    assert config.host == "crawler-b.2"
    writer = RotatingWarcWriter(directory=tmp_path, prefix="bendi", host=config.host)
    writer.write_exchange(HttpExchange(url="http://e.test/", status=200, body=b"hi"))
    final = writer.close()
    assert final is not None and final.name.endswith("-crawler-b.2.warc.gz")
    with pytest.raises(WarcSettingsError, match="WARC_HOST"):
        WarcConfig.from_settings(Settings({"WARC_HOST": "no/slash"}))


# -- without redis -------------------------------------------------------------------------------

NO_REDIS = textwrap.dedent(
    """
    import importlib, importlib.abc, os, pkgutil, sys

    class NoRedis(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("redis", "scrapy_redis"):
                raise ImportError("redis is not installed here")
            return None

    sys.meta_path.insert(0, NoRedis())
    NEED_REDIS = {
        "portal_archive.dedup.index.redis",
        "portal_archive.distributed.dupefilter",
        "portal_archive.distributed.queue",
        "portal_archive.distributed.scheduler",
        "portal_archive.replay.server",  # gevent-patches the interpreter: pywb's process only
    }
    import pipelines, portal_archive, spiders
    for package in (portal_archive, spiders, pipelines):
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if module.name not in NEED_REDIS:
                importlib.import_module(module.name)

    from scrapy.utils.project import get_project_settings
    from scrapy.utils.reactor import install_reactor
    from scrapy.utils.test import get_crawler
    from spiders.bendi import BendiSpider

    install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")
    os.environ["SCRAPY_SETTINGS_MODULE"] = "portal_archive.settings"
    crawler = get_crawler(BendiSpider, get_project_settings().copy_to_dict())
    assert crawler.settings["SCHEDULER"] == "scrapy.core.scheduler.Scheduler", crawler.settings["SCHEDULER"]
    from portal_archive.cli import main
    assert main(["dist", "status"]) == 2  # no server named: a usage error, not an import error
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("redis", "scrapy_redis"))
    assert not loaded, loaded
    print("ok")
    """
)


def test_the_project_imports_and_configures_crawls_without_redis() -> None:
    env = {k: v for k, v in os.environ.items() if k != "PORTAL_ARCHIVE_REDIS_URL"}
    result = subprocess.run(
        [sys.executable, "-c", NO_REDIS], capture_output=True, text=True, cwd=PROJECT_ROOT, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("ok")

"""The switch: with ``DISTRIBUTED_REDIS_URL`` set, any portal spider crawls from the shared frontier.

A Scrapy add-on (``ADDONS`` in ``portal_archive.settings``), so ``scrapy crawl bendi -s
DISTRIBUTED_REDIS_URL=redis://…`` is all it takes. With the URL empty it changes nothing and
imports nothing of redis. With it set, at add-on priority (``-s`` still wins):

- ``SCHEDULER``, ``SCHEDULER_QUEUE_CLASS``, ``DUPEFILTER_CLASS``, ``SCHEDULER_SERIALIZER``:
  scrapy-redis's scheduler on the reliable queue (``portal_archive.distributed``);
- ``WARC_HOST``: the worker id, so each worker writes WARC files of its own;
- ``INCREMENTAL_ENABLED``: off. Crawl state (ETags, payload digests, finished pages) lives in a
  SQLite file beside one machine's WARCs; shared by nobody, it would make each worker skip or
  revalidate a different set of pages. A distributed crawl fetches every page in full, and
  ``-s INCREMENTAL_ENABLED=True`` together with ``DISTRIBUTED_REDIS_URL`` is refused.

The near-duplicate index follows ``DISTRIBUTED_REDIS_URL`` on its own (``DEDUP_INDEX_URL``, see
``portal_archive.dedup.config``). See ``docs/distributed.md``.
"""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING, Final

from scrapy.settings import SETTINGS_PRIORITIES

from portal_archive.capture.config import WarcConfig
from portal_archive.distributed.config import DistributedConfig, DistributedSettingsError

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

PRIORITY: Final = "addon"
COMPONENTS: Final = {
    "SCHEDULER": "portal_archive.distributed.scheduler.ReliableScheduler",
    "SCHEDULER_QUEUE_CLASS": "portal_archive.distributed.queue.ReliableQueue",
    "DUPEFILTER_CLASS": "portal_archive.distributed.dupefilter.RedisDupeFilter",
    "SCHEDULER_SERIALIZER": "portal_archive.distributed.codec",
}


def _fill_in(settings: BaseSettings, name: str, value: str) -> None:
    """Replace an empty default with ``value``.

    At add-on priority, or at the priority the empty value was set with when that is higher: the
    project's settings module spells out every default, and add-on priority is below it.
    """
    priority = max(SETTINGS_PRIORITIES[PRIORITY], settings.getpriority(name) or 0)
    settings.set(name, value, priority=priority)


class DistributedAddon:
    """Puts the crawl on the shared frontier when ``DISTRIBUTED_REDIS_URL`` is set."""

    def update_settings(self, settings: BaseSettings) -> None:
        """Swap in the distributed components; nothing when the switch is off.

        Raises:
            DistributedSettingsError: a ``DISTRIBUTED_*`` value is unusable, scrapy-redis is missing,
                or incremental crawling was asked for explicitly.
        """
        config = DistributedConfig.from_settings(settings)
        if not config.enabled:
            return
        for module in ("redis", "scrapy_redis"):
            if importlib.util.find_spec(module) is None:
                raise DistributedSettingsError(
                    f"DISTRIBUTED_REDIS_URL is set but {module} is not installed: pip install -e '.[dist]'"
                )
        for name, path in COMPONENTS.items():
            settings.set(name, path, priority=PRIORITY)
        settings.set("SCHEDULER_PERSIST", True, priority=PRIORITY)
        # One id for every component of this process (the default one is computed once, here).
        _fill_in(settings, "DISTRIBUTED_WORKER_ID", config.worker_id)
        if not WarcConfig.from_settings(settings).host:
            _fill_in(settings, "WARC_HOST", config.worker_id)
        explicit = (settings.getpriority("INCREMENTAL_ENABLED") or 0) >= SETTINGS_PRIORITIES["cmdline"]
        if explicit and settings.getbool("INCREMENTAL_ENABLED"):
            raise DistributedSettingsError(
                "INCREMENTAL_ENABLED=True cannot be combined with DISTRIBUTED_REDIS_URL: the crawl state is one "
                "machine's file (docs/distributed.md)"
            )
        # Over the project's own INCREMENTAL_ENABLED = True, which add-on priority would not beat.
        settings.set("INCREMENTAL_ENABLED", False, priority="cmdline")

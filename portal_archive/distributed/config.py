"""``DISTRIBUTED_*`` settings, parsed once into a frozen value object (no redis import here).

Defaults live in ``portal_archive.settings``.

``DISTRIBUTED_REDIS_URL`` is the switch: empty (the default) keeps a crawl on one machine with
Scrapy's own scheduler. See ``docs/distributed.md``.
"""

from __future__ import annotations

import os
import re
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Self
from urllib.parse import urlsplit

from portal_archive import settings as project
from portal_archive.config import SettingsError, read_float, read_int

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

__all__ = [
    "URL_SCHEMES",
    "DistributedConfig",
    "DistributedSettingsError",
    "default_worker_id",
    "frontier_name",
    "redact_url",
]

URL_SCHEMES: Final = ("redis", "rediss", "unix")
"""What redis-py's ``from_url`` serves: TCP, TLS and a local socket."""
_WORKER_ID_RE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]{0,63}$")
_NOT_IN_ID_RE: Final = re.compile(r"[^A-Za-z0-9.-]+")
_PREFIX_RE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9:._-]{0,127}$")


class DistributedSettingsError(SettingsError):
    """A ``DISTRIBUTED_*`` setting has a value the distributed crawl cannot use; names the setting."""


def redact_url(url: str) -> str:
    """A Redis URL fit for logs and messages: the password replaced by ``***``."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return "<unparseable URL>"
    if password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"{parts.username or ''}:***@{host}").geturl()


def default_worker_id() -> str:
    """``HOSTNAME-PID``, reduced to what a WARC file name and a Redis key both take."""
    host = _NOT_IN_ID_RE.sub("-", socket.gethostname()).strip("-.") or "worker"
    return f"{host[:50]}-{os.getpid()}"


def frontier_name(spider: Any) -> str:
    """Which frontier a spider crawls: its name, or ``NAME.PROFILE`` for a spider reading another profile.

    The generic ``portal`` spider crawls whichever profile it is given: each profile gets its own
    frontier, so two portals crawled by it never share a queue or a seen set.
    """
    name = str(spider.name)
    profile = getattr(getattr(spider, "profile", None), "name", None)
    return f"{name}.{profile}" if profile and profile != name else name


def _redis_url(value: Any) -> str:
    url = str(value or "").strip()
    if not url:
        return ""
    scheme = url.partition("://")[0].lower() if "://" in url else ""
    if scheme not in URL_SCHEMES:
        raise DistributedSettingsError(
            "DISTRIBUTED_REDIS_URL must be empty (crawl on this machine only) or a redis://, rediss:// or unix:// "
            f"URL such as redis://:PASSWORD@10.0.0.5:6379/0, got {redact_url(url)!r}"
        )
    return url


@dataclass(frozen=True, kw_only=True)
class DistributedConfig:
    """Where the shared frontier lives and how workers keep track of each other."""

    redis_url: str = project.DISTRIBUTED_REDIS_URL
    """The Redis server of the frontier; empty turns distributed crawling off."""
    worker_id: str = project.DISTRIBUTED_WORKER_ID
    """This worker's name: in its WARC file names and its Redis keys. Default ``HOSTNAME-PID``."""
    key_prefix: str = project.DISTRIBUTED_KEY_PREFIX
    """Every key is ``PREFIX:SPIDER:…``, so several crawls (and the dedup index) share a server."""
    heartbeat_interval: float = project.DISTRIBUTED_HEARTBEAT_INTERVAL
    """Seconds between heartbeats; each also reclaims dead workers' requests and reads start URLs."""
    heartbeat_ttl: float = project.DISTRIBUTED_HEARTBEAT_TTL
    """A worker whose heartbeat is older than this is dead: its requests in flight are queued again."""
    seed_timeout: float = project.DISTRIBUTED_SEED_TIMEOUT
    """Seconds a worker waits for start URLs on a frontier that never had any (0: it closes at once).
    Once a frontier has had work, workers close as soon as nothing is left anywhere."""
    start_batch: int = project.DISTRIBUTED_START_BATCH
    """Start URLs moved from the start list into the frontier per read."""

    @property
    def enabled(self) -> bool:
        return bool(self.redis_url)

    def base_key(self, spider_name: str) -> str:
        """The key prefix of one spider's frontier."""
        return f"{self.key_prefix}:{spider_name}"

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> Self:
        """Read and validate the ``DISTRIBUTED_*`` family.

        Raises:
            DistributedSettingsError: a value is unusable; the message names the setting.
        """
        try:
            config = cls(
                redis_url=_redis_url(settings.get("DISTRIBUTED_REDIS_URL") or cls.redis_url),
                worker_id=str(settings.get("DISTRIBUTED_WORKER_ID") or cls.worker_id).strip() or default_worker_id(),
                key_prefix=str(settings.get("DISTRIBUTED_KEY_PREFIX") or cls.key_prefix),
                heartbeat_interval=read_float(settings, "DISTRIBUTED_HEARTBEAT_INTERVAL", cls.heartbeat_interval),
                heartbeat_ttl=read_float(settings, "DISTRIBUTED_HEARTBEAT_TTL", cls.heartbeat_ttl),
                seed_timeout=read_float(settings, "DISTRIBUTED_SEED_TIMEOUT", cls.seed_timeout),
                start_batch=read_int(settings, "DISTRIBUTED_START_BATCH", cls.start_batch),
            )
        except SettingsError as exc:
            if isinstance(exc, DistributedSettingsError):
                raise
            raise DistributedSettingsError(str(exc)) from exc
        config.validate()
        return config

    def validate(self) -> None:
        """Reject values that would lose requests or name files badly, naming the setting."""
        _redis_url(self.redis_url)
        if self.worker_id and not _WORKER_ID_RE.match(self.worker_id):
            raise DistributedSettingsError(
                "DISTRIBUTED_WORKER_ID must be 1-64 letters, digits, '.' or '-' (it goes into WARC file names "
                f"and Redis keys), got {self.worker_id!r}"
            )
        if not _PREFIX_RE.match(self.key_prefix):
            raise DistributedSettingsError(
                f"DISTRIBUTED_KEY_PREFIX must be 1-128 letters, digits, ':', '.', '_' or '-', got {self.key_prefix!r}"
            )
        if self.heartbeat_interval <= 0:
            raise DistributedSettingsError(
                f"DISTRIBUTED_HEARTBEAT_INTERVAL must be > 0 seconds, got {self.heartbeat_interval}"
            )
        if self.heartbeat_ttl < 2 * self.heartbeat_interval:
            raise DistributedSettingsError(
                "DISTRIBUTED_HEARTBEAT_TTL must be at least twice DISTRIBUTED_HEARTBEAT_INTERVAL (a live worker "
                f"would be taken for dead), got {self.heartbeat_ttl} and {self.heartbeat_interval}"
            )
        if self.seed_timeout < 0:
            raise DistributedSettingsError(f"DISTRIBUTED_SEED_TIMEOUT must be >= 0 seconds, got {self.seed_timeout}")
        if self.start_batch < 1:
            raise DistributedSettingsError(f"DISTRIBUTED_START_BATCH must be >= 1, got {self.start_batch}")

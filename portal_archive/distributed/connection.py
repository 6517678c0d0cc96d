"""The Redis client of a distributed crawl, and a first contact that fails clearly."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from portal_archive.distributed.config import DistributedConfig, redact_url

if TYPE_CHECKING:
    from redis import Redis
    from scrapy.settings import BaseSettings


class DistributedConnectionError(RuntimeError):
    """The frontier's Redis server cannot be reached; the message names the setting."""


def redis_client(config: DistributedConfig, settings: BaseSettings | None = None) -> Redis:
    """A client for ``DISTRIBUTED_REDIS_URL``, with scrapy-redis's timeouts (``REDIS_PARAMS`` on top)."""
    from scrapy_redis import defaults
    from scrapy_redis.connection import get_redis

    params: dict[str, Any] = dict(defaults.REDIS_PARAMS)
    if settings is not None:
        params.update(settings.getdict("REDIS_PARAMS"))
    client: Redis = get_redis(url=config.redis_url, **params)
    return client


def check_reachable(client: Redis, config: DistributedConfig, setting: str = "DISTRIBUTED_REDIS_URL") -> None:
    """Ping the server.

    Raises:
        DistributedConnectionError: no answer, or a refused password; the URL is shown without it.
    """
    from redis.exceptions import RedisError

    try:
        client.ping()
    except RedisError as exc:
        raise DistributedConnectionError(f"cannot use {setting}={redact_url(config.redis_url)}: {exc}") from exc

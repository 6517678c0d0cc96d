"""How requests are stored in Redis: pickled dicts without their default values (``SCHEDULER_SERIALIZER``).

Redis memory is the frontier's cost: most of a queued request's bytes are its serialized form,
and most of ``Request.to_dict()`` is default values (empty headers, body, cookies, flags …).
Dropping them halves a portal request (``bench/dist.py``). The format stays scrapy-redis's:
``loads`` gives back a dict for ``request_from_dict``, which fills the defaults in again.

Pickle, as in scrapy-redis: whoever can write to the Redis server can run code on the workers,
so the server must be private (``docs/distributed.md``).

Start URLs pushed by people (``BASE:start_urls``) are not pickles: a pickle (protocol 2 or later)
starts with ``0x80``, anything else is start-URL data (``is_pickle``).
"""

from __future__ import annotations

import pickle
from typing import Any, Final

_DEFAULTS: Final[dict[str, Any]] = {
    "method": "GET",
    "headers": {},
    "body": b"",
    "cookies": {},
    "meta": {},
    "encoding": "utf-8",
    "priority": 0,
    "dont_filter": False,
    "flags": [],
    "cb_kwargs": {},
    "callback": None,
    "errback": None,
}


def dumps(obj: dict[str, Any]) -> bytes:
    """A request dict as bytes, default values left out."""
    compact = {key: value for key, value in obj.items() if key not in _DEFAULTS or value != _DEFAULTS[key]}
    return pickle.dumps(compact, protocol=pickle.HIGHEST_PROTOCOL)


def loads(data: bytes) -> dict[str, Any]:
    """The request dict ``dumps`` stored (missing keys take ``Request``'s defaults)."""
    obj = pickle.loads(data)  # noqa: S301 - the frontier's own entries; the server must be private
    if not isinstance(obj, dict):
        raise TypeError(f"a frontier entry must hold a request dict, got {type(obj).__name__}")
    return obj


def is_pickle(data: bytes) -> bool:
    """A serialized request, as opposed to start-URL data (a URL or JSON)."""
    return data[:1] == b"\x80"

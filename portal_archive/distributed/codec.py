"""How requests are stored in Redis: data, never code (``SCHEDULER_SERIALIZER``).

A queued request is its ``Request.to_dict()`` without the default values, packed with msgpack
behind a two-byte marker (``0xc1 0x01``: ``0xc1`` is a byte msgpack never uses and no UTF-8 text
starts with, so it tells a request from start-URL data pushed by people). Callbacks travel by name
and are looked up on the spider (``request_from_dict``); the request class must be one of Scrapy's
own. The few objects a portal spider keeps in ``meta`` (a page waiting for its body from an API, the
item it will become, a browser step) are encoded field by field and rebuilt only from a fixed list
of classes (``_OBJECTS``); anything else is refused when queued, and an entry that is not this data
(a pickle, an unknown class, a callback name that is no public spider method) is refused when taken
(``RefusedEntry``), counted as ``dist/refused`` and dropped.

So whoever can write to the Redis server can at worst corrupt or stop the crawl; they cannot run
code on the workers, as they could while entries were pickles (scrapy-redis's default).

Most of a queued request's Redis bytes are this form, and most of ``Request.to_dict()`` is default
values (empty headers, body, cookies, flags …): they are left out (``bench/dist.py``).
"""

from __future__ import annotations

import dataclasses
import keyword
from collections.abc import Callable
from datetime import datetime
from typing import Any, Final

import msgpack

from portal_archive.crawl.portal_api import AwaitingBody
from portal_archive.extract.article import FetchedPage
from portal_archive.extract.nuxt import ArticleState
from portal_archive.items import ArticleItem, BoilerplateBlock

__all__ = ["MARKER", "RefusedEntry", "dumps", "is_request", "is_text", "loads"]

MARKER: Final = b"\xc1\x01"
"""The first two bytes of every stored request (format 1)."""

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
_REQUEST_CLASSES: Final = frozenset(
    {
        "scrapy.http.request.Request",
        "scrapy.http.Request",
        "scrapy.Request",
        "scrapy.http.request.form.FormRequest",
        "scrapy.http.request.json_request.JsonRequest",
    }
)
"""The request classes an entry may name (``_class``): Scrapy's own, nothing to import at will."""

_TUPLE: Final = 1
_DATETIME: Final = 2
_OBJECT: Final = 3


class RefusedEntry(ValueError):
    """A frontier entry that is not a request this worker will build: refused, never executed."""


def _page_method(fields: dict[str, Any]) -> Any:
    from scrapy_playwright.page import PageMethod

    method = fields.get("method")
    if not isinstance(method, str):  # a browser step by name only: no callable travels
        raise RefusedEntry("a browser step must name its method")
    return PageMethod(method, *fields.get("args", ()), **fields.get("kwargs", {}))


def _dataclass(cls: type) -> tuple[Callable[[Any], dict[str, Any]], Callable[[dict[str, Any]], Any]]:
    names = frozenset(field.name for field in dataclasses.fields(cls))

    def build(fields: dict[str, Any]) -> Any:
        unknown = set(fields) - names
        if unknown:
            raise RefusedEntry(f"{cls.__name__} has no field {sorted(unknown)[0]!r}")
        return cls(**fields)

    return (lambda obj: {name: getattr(obj, name) for name in names}), build


_OBJECTS: Final[dict[str, tuple[Callable[[Any], dict[str, Any]], Callable[[dict[str, Any]], Any]]]] = {
    "AwaitingBody": _dataclass(AwaitingBody),
    "FetchedPage": _dataclass(FetchedPage),
    "ArticleItem": _dataclass(ArticleItem),
    "BoilerplateBlock": _dataclass(BoilerplateBlock),
    "ArticleState": _dataclass(ArticleState),
    "PageMethod": (lambda step: {"method": step.method, "args": list(step.args), "kwargs": step.kwargs}, _page_method),
}
"""The only objects an entry may hold besides plain data, by class name: what to keep, how to rebuild."""


def _default(obj: Any) -> msgpack.ExtType:
    """Plain data's missing types: tuples, instants and the objects of ``_OBJECTS``."""
    if isinstance(obj, tuple):
        return msgpack.ExtType(_TUPLE, _pack(list(obj)))
    if isinstance(obj, datetime):
        return msgpack.ExtType(_DATETIME, obj.isoformat().encode("ascii"))
    name = type(obj).__name__
    if name in _OBJECTS and type(obj).__module__.startswith(("portal_archive.", "scrapy_playwright.")):
        return msgpack.ExtType(_OBJECT, _pack([name, _OBJECTS[name][0](obj)]))
    raise TypeError(f"a queued request cannot hold a {type(obj).__module__}.{name} (only data is stored)")


def _pack(obj: Any) -> bytes:
    packed: bytes = msgpack.packb(obj, default=_default, use_bin_type=True, strict_types=True)
    return packed


def _ext(code: int, data: bytes) -> Any:
    if code == _TUPLE:
        return tuple(_unpack(data))
    if code == _DATETIME:
        try:
            return datetime.fromisoformat(data.decode("ascii"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise RefusedEntry("an instant that is no ISO 8601 time") from exc
    if code == _OBJECT:
        value = _unpack(data)
        if not (isinstance(value, list) and len(value) == 2 and isinstance(value[1], dict)):
            raise RefusedEntry("a malformed object")
        name, fields = value
        if name not in _OBJECTS:
            raise RefusedEntry(f"an object of a class a request never holds: {name!r}")
        try:
            return _OBJECTS[name][1](fields)
        except TypeError as exc:
            raise RefusedEntry(f"a {name} that cannot be built: {exc}") from exc
    raise RefusedEntry(f"an unknown extension type {code}")


def _unpack(data: bytes) -> Any:
    return msgpack.unpackb(data, raw=False, ext_hook=_ext, strict_map_key=False)


def dumps(obj: dict[str, Any]) -> bytes:
    """A request dict as bytes, default values left out.

    Raises:
        TypeError: the request holds an object that is not data (in ``meta`` or ``cb_kwargs``).
    """
    compact = {key: value for key, value in obj.items() if key not in _DEFAULTS or value != _DEFAULTS[key]}
    return MARKER + _pack(compact)


def _method_name(value: object, key: str) -> None:
    if value is None:
        return
    if not isinstance(value, str) or not value.isidentifier() or keyword.iskeyword(value) or value.startswith("_"):
        raise RefusedEntry(f"{key} {value!r} is no public method name")


def loads(data: bytes) -> dict[str, Any]:
    """The request dict ``dumps`` stored (missing keys take ``Request``'s defaults).

    Raises:
        RefusedEntry: the entry is not a request in this format (a pickle, another class, a
            callback that is no public method name, an object no request holds).
    """
    if not data.startswith(MARKER):
        kind = "a pickle" if data[:1] == b"\x80" else "not a stored request"
        raise RefusedEntry(f"{kind}: frontier entries are data (portal_archive.distributed.codec)")
    try:
        obj = _unpack(data[len(MARKER) :])
    except RefusedEntry:
        raise
    except (ValueError, TypeError, msgpack.UnpackException) as exc:
        raise RefusedEntry(f"unreadable entry: {exc}") from exc
    if not isinstance(obj, dict) or not isinstance(obj.get("url"), str):
        raise RefusedEntry("a frontier entry must hold a request dict with a URL")
    request_class = obj.get("_class")
    if request_class is not None and request_class not in _REQUEST_CLASSES:
        raise RefusedEntry(f"request class {request_class!r} is not one of Scrapy's")
    _method_name(obj.get("callback"), "callback")
    _method_name(obj.get("errback"), "errback")
    return obj


def is_request(data: bytes) -> bool:
    """A stored request, as opposed to start-URL data (a URL or JSON)."""
    return data.startswith(MARKER)


def is_text(data: bytes) -> bool:
    """UTF-8 text, as start-URL data is (a pickle or other binary is not: ``loads`` refuses it)."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True

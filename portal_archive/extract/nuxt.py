"""Nuxt 3 ``__NUXT_DATA__`` payloads: devalue's flat, index-referencing JSON array, decoded.

InfoQ (and any Nuxt 3 site) ships the page's data as one JSON array in which every object and
array refers to its members by index. Extractors need the object graph back, so this module
dereferences the indexes; the demo portal's encoder shares the special-value constants.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from portal_archive.timestamps import parse_iso

UNDEFINED: Final = -1
HOLE: Final = -2
NOT_A_NUMBER: Final = -3
POSITIVE_INFINITY: Final = -4
NEGATIVE_INFINITY: Final = -5
NEGATIVE_ZERO: Final = -6
_SPECIAL_VALUES: Final[dict[int, Any]] = {
    UNDEFINED: None,
    HOLE: None,
    NOT_A_NUMBER: math.nan,
    POSITIVE_INFINITY: math.inf,
    NEGATIVE_INFINITY: -math.inf,
    NEGATIVE_ZERO: -0.0,
}
# Nuxt revivers that only wrap their payload in Vue reactivity.
_TRANSPARENT_TAGS: Final = frozenset({"Reactive", "ShallowReactive", "Ref", "ShallowRef", "NuxtError", "Island"})
_EMPTY_REF_TAGS: Final = frozenset({"EmptyRef", "EmptyShallowRef"})
_NUXT_SCRIPT: Final = re.compile(
    r"<script[^>]*\bid=[\"']__NUXT_DATA__[\"'][^>]*>(.*?)</script>", re.DOTALL | re.IGNORECASE
)


@dataclass(frozen=True)
class Tagged:
    """A devalue special form such as ["ShallowReactive", 1] or ["Set", 4, 5]."""

    tag: str
    items: tuple[Any, ...]


def _payload_text(text: str) -> str:
    if text.lstrip().startswith("<"):
        match = _NUXT_SCRIPT.search(text)
        if match is None:
            raise ValueError('no <script id="__NUXT_DATA__"> in this HTML')
        return match.group(1)
    return text


def decode_nuxt_data(text: str) -> Any:
    """Rebuild the object graph of a ``__NUXT_DATA__`` payload (or of a whole HTML page holding one).

    Reactivity wrappers (Reactive, ShallowReactive, Ref, ...) are dropped, Date becomes
    datetime, Set a list, Map a dict, undefined and holes None.

    Raises:
        ValueError: the text is not a Nuxt payload (``json.JSONDecodeError`` is a ``ValueError``).
    """
    parsed = json.loads(_payload_text(text))
    if isinstance(parsed, int) and not isinstance(parsed, bool):
        return _SPECIAL_VALUES.get(parsed)
    if not isinstance(parsed, list) or not parsed:
        raise ValueError("a Nuxt payload is a non-empty JSON array")
    values: list[Any] = parsed
    hydrated: dict[int, Any] = {}

    def hydrate(index: Any) -> Any:
        if not isinstance(index, int) or isinstance(index, bool) or index >= len(values):
            raise ValueError(f"bad payload reference {index!r}")
        if index < 0:
            return _SPECIAL_VALUES.get(index)
        if index in hydrated:
            return hydrated[index]
        value = values[index]
        if isinstance(value, list) and value and isinstance(value[0], str):
            hydrated[index] = _revive(value, hydrate)
        elif isinstance(value, list):
            array: list[Any] = []
            hydrated[index] = array
            array.extend(None if item == HOLE else hydrate(item) for item in value)
        elif isinstance(value, dict):
            mapping: dict[str, Any] = {}
            hydrated[index] = mapping
            for key, item in value.items():
                mapping[key] = hydrate(item)
        else:
            hydrated[index] = value
        return hydrated[index]

    return hydrate(0)


def _revive(form: list[Any], hydrate: Callable[[Any], Any]) -> Any:
    tag, arguments = form[0], form[1:]
    if tag in _TRANSPARENT_TAGS:
        return hydrate(arguments[0]) if arguments else None
    if tag in _EMPTY_REF_TAGS:
        raw = hydrate(arguments[0]) if arguments else "_"
        try:
            return None if raw == "_" else json.loads(raw)
        except (TypeError, json.JSONDecodeError):
            return raw
    if tag == "Date":
        moment = parse_iso(str(arguments[0]))
        if moment is None:
            raise ValueError(f"bad Date in payload: {arguments[0]!r}")
        return moment
    if tag == "Set":
        return [hydrate(item) for item in arguments]
    if tag in ("Map", "null"):
        pairs = [
            (hydrate(arguments[i]) if tag == "Map" else arguments[i], hydrate(arguments[i + 1]))
            for i in range(0, len(arguments) - 1, 2)
        ]
        return dict(pairs)
    if tag == "BigInt":
        return int(arguments[0])
    if tag in ("RegExp", "Object"):
        return arguments[0]
    # Unknown Nuxt revivers (plugins) wrap a single payload value.
    return hydrate(arguments[0]) if len(arguments) == 1 else [hydrate(item) for item in arguments]


def find_nuxt_article(payload: Any) -> dict[str, Any] | None:
    """The first object in a decoded payload that has an ``article_title`` key (breadth first)."""
    pending: list[Any] = [payload]
    seen: set[int] = set()
    while pending:
        node = pending.pop(0)
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, dict):
            if "article_title" in node:
                return node
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return None


@dataclass(frozen=True)
class ArticleState:
    """An article record a page carries in its scripts (a Nuxt payload in InfoQ's field names, or WeChat's
    script variables), reduced to what items carry."""

    title: str
    authors: tuple[str, ...]
    publish_time: object
    """Epoch milliseconds as the payload has it (validated by the caller)."""
    tags: tuple[str, ...]
    content: str
    """Body HTML when the payload carries it (empty for script-rendered articles)."""
    source: str = ""
    """The publishing account, when the state names one (WeChat's ``nickname``)."""
    content_url: str = ""
    """Where the body is fetched from when the record carries none (InfoQ's ``content_url``)."""


def _names(values: Any, key: str) -> tuple[str, ...]:
    if not isinstance(values, list):
        return ()
    names = (item.get(key) for item in values if isinstance(item, dict))
    return tuple(dict.fromkeys(name.strip() for name in names if isinstance(name, str) and name.strip()))


def read_article_state(page: str) -> ArticleState | None:
    """The article record of the ``__NUXT_DATA__`` payload in ``page``; ``None`` if there is none.

    Never raises on page content: a missing, truncated or malformed payload gives ``None``.
    """
    try:
        record = find_nuxt_article(decode_nuxt_data(page))
    except (ValueError, IndexError, TypeError, RecursionError):
        return None
    return article_state_of(record) if record is not None else None


def read_detail_answer(body: bytes) -> ArticleState | None:
    """The article record of a JSON API answer in the same field names (InfoQ's ``getDetail``:
    ``{"code": 0, "data": {...}}``); ``None`` for an error answer, malformed JSON or no record."""
    try:
        answer = json.loads(body)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None
    record = find_nuxt_article(answer)
    return article_state_of(record) if record is not None else None


def article_state_of(record: dict[str, Any]) -> ArticleState:
    """An article record in InfoQ's field names (``article_title``, ``author[].nickname``,
    ``publish_time``, ``topic[].name``, ``content`` or ``content_url``), as the page state and the
    detail API both carry it."""
    title = record.get("article_title")
    content = record.get("content")
    content_url = record.get("content_url")
    authors = _names(record.get("author"), "nickname")
    no_author = record.get("no_author")
    if not authors and isinstance(no_author, str) and no_author.strip():
        authors = (no_author.strip(),)
    return ArticleState(
        title=title.strip() if isinstance(title, str) else "",
        authors=authors,
        publish_time=record.get("publish_time"),
        tags=tuple(dict.fromkeys(_names(record.get("topic"), "name") + _names(record.get("label"), "name"))),
        content=content if isinstance(content, str) else "",
        content_url=content_url.strip() if isinstance(content_url, str) else "",
    )

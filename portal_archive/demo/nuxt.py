"""Nuxt 3 `__NUXT_DATA__` payloads: devalue's flat, index-referencing JSON array.

InfoQ pages carry their article data this way; extractors need to dereference the
indexes, so the decoder lives here next to the encoder that produces the demo pages.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

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


class _Flattener:
    """devalue's `stringify`: parents get their slot before their children, primitives are shared."""

    def __init__(self) -> None:
        self.values: list[Any] = []
        self.primitive_slots: dict[tuple[str, Any], int] = {}

    def _reserve(self) -> int:
        self.values.append(None)
        return len(self.values) - 1

    def add(self, value: Any) -> int:
        if isinstance(value, float) and math.isnan(value):
            return NOT_A_NUMBER
        if isinstance(value, (str, int, float, bool)) or value is None:
            key = (type(value).__name__, value)
            if key not in self.primitive_slots:
                self.primitive_slots[key] = self._reserve()
                self.values[self.primitive_slots[key]] = value
            return self.primitive_slots[key]
        slot = self._reserve()
        if isinstance(value, Tagged):
            self.values[slot] = [value.tag, *(self.add(item) for item in value.items)]
        elif isinstance(value, datetime):
            self.values[slot] = ["Date", value.isoformat().replace("+00:00", "Z")]
        elif isinstance(value, dict):
            self.values[slot] = {str(key): self.add(item) for key, item in value.items()}
        elif isinstance(value, (list, tuple)):
            self.values[slot] = [self.add(item) for item in value]
        else:
            raise TypeError(f"cannot serialise {type(value).__name__} into a Nuxt payload")
        return slot


def encode_nuxt_data(value: Any) -> str:
    """Serialise `value` the way Nuxt 3 writes `__NUXT_DATA__` (compact JSON, root at index 0).

    `<` is escaped as in devalue, so HTML inside strings cannot close the script element.
    """
    flattener = _Flattener()
    flattener.add(value)
    text = json.dumps(flattener.values, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003C").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _payload_text(text: str) -> str:
    if text.lstrip().startswith("<"):
        match = _NUXT_SCRIPT.search(text)
        if match is None:
            raise ValueError('no <script id="__NUXT_DATA__"> in this HTML')
        return match.group(1)
    return text


def decode_nuxt_data(text: str) -> Any:
    """Rebuild the object graph of a `__NUXT_DATA__` payload (or of a whole HTML page holding one).

    Reactivity wrappers (Reactive, ShallowReactive, Ref, ...) are dropped, Date becomes
    datetime, Set a list, Map a dict, undefined and holes None.
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


def _revive(form: list[Any], hydrate: Any) -> Any:
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
        return datetime.fromisoformat(str(arguments[0]).replace("Z", "+00:00"))
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
    """The first object in a decoded payload that has an `article_title` key."""
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

"""Nuxt 3 `__NUXT_DATA__` payloads: devalue's flat, index-referencing JSON array.

InfoQ pages carry their article data this way. The encoder that produces the demo pages lives
here; the decoder crawlers use lives in `portal_archive.extract.nuxt` and is re-exported for the demo.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

from portal_archive.extract.nuxt import NOT_A_NUMBER, Tagged, decode_nuxt_data, find_nuxt_article

__all__ = ["Tagged", "decode_nuxt_data", "encode_nuxt_data", "find_nuxt_article"]


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

"""The compiled loops (``kernels``), imported when first called.

numba takes 0.4 s to import, and a report that reads an index never needs it, so ``kernels`` is not
imported with the engine. An import statement inside the functions that call it cost 1.8 µs a call,
seven calls per document; here the first use of each loop imports the module and keeps the loop,
and later uses are an attribute look-up. Type checkers see the module itself.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = ["kernels"]


class _Deferred:
    """A module's attributes, the module imported at the first one asked for."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        # Called only for what this object does not hold yet: afterwards the loop is an attribute.
        value = getattr(importlib.import_module(self._name), attribute)
        setattr(self, attribute, value)
        return value


if TYPE_CHECKING:
    import portal_archive.dedup.kernels as kernels
else:
    kernels = _Deferred("portal_archive.dedup.kernels")

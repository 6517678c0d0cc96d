"""The band keys of a SQLite index, held in memory for lookups whose cost does not grow with the index.

A B-tree of (band key, document) rows makes every lookup and every insert a random page access:
at 100,000 documents the engine spent most of its time in SQLite, and each commit rewrote one
page per band key. Here the file only appends (one row of a document's keys, in id order), and
lookups run against this table, built from those rows when the index is first searched and kept
current by reading the rows added since (by this process or another).

Layout: every entry is one ``uint64``, the unsigned band key in the high 32 bits and the document
id in the low 32, in sorted arrays: ``base`` (most of the index) and ``middle`` (recent merges),
plus a dict for the newest entries. Each array has a directory of where each range of keys starts,
so a key is looked for in a bucket of about eight entries (a compiled loop, ``kernels.holders``):
a binary search over 32 million entries missed the cache at each of its 25 steps. A merge of two
sorted arrays is a stable sort of their concatenation, which numpy's timsort does in linear time;
``middle`` joins ``base`` when it reaches an eighth of it, so every entry is copied a bounded number
of times on average. Memory: 8 bytes per band key (256 bytes per document with 32 bands) and half a
byte per key of directory; a merge briefly needs about twice the largest array.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import repeat
from typing import Final

import numpy as np
import numpy.typing as npt

from portal_archive.dedup.deferred import kernels

__all__ = ["BandTable"]

_RECENT_ENTRIES: Final = 1 << 16
"""Entries kept in the dict before they are sorted into ``middle``."""
_MIDDLE_SHARE: Final = 8
"""``middle`` joins ``base`` once it holds ``1 / _MIDDLE_SHARE`` as many entries."""
_BUCKET_ENTRIES: Final = 8
_MAX_DIRECTORY_BITS: Final = 28
_SHIFT: Final = np.uint64(32)
_EMPTY: Final = np.zeros(0, dtype=np.uint64)


class BandTable:
    """Band key to document ids, for the documents of one index (unsigned packed keys)."""

    def __init__(self) -> None:
        self._base = _Run(_EMPTY)
        self._middle = _Run(_EMPTY)
        self._recent: dict[int, int] = {}
        """The newest entries, key to document, for keys held by one document only."""
        self._recent_shared: dict[int, list[int]] = {}
        """The newest entries of keys held by several documents (rare: mostly near-copies)."""
        self._recent_entries = 0
        self.last_id = 0
        """The highest document id the table holds (rows above it are read by the next ``extend``)."""

    def __len__(self) -> int:
        return int(self._base.entries.size + self._middle.entries.size) + self._recent_entries

    def extend(self, chunks: Iterable[tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint32]]]) -> int:
        """Add many documents' keys at once (loading the index, or catching up with other writers).

        Args:
            chunks: ``(ids, keys)`` pairs: document ids, ascending, and their keys, one row each.

        Returns:
            The number of documents added.
        """
        loaded = [(ids, keys) for ids, keys in chunks if ids.size]
        added = sum(int(ids.size) for ids, _ in loaded)
        if added * (loaded[0][1].shape[1] if loaded else 0) < _RECENT_ENTRIES:
            for ids, keys in loaded:
                for doc_id, row in zip(ids.tolist(), keys, strict=True):
                    self.add(doc_id, row)
            return added
        packed = np.concatenate(
            [(keys.reshape(-1).astype(np.uint64) << _SHIFT) | np.repeat(ids.astype(np.uint64), keys.shape[1])
             for ids, keys in loaded]
        )  # fmt: skip
        self.last_id = max(self.last_id, int(loaded[-1][0][-1]))
        packed.sort()
        self._middle = _Run(_merge(self._middle.entries, packed))
        self._settle()
        return added

    def add(self, doc_id: int, keys: npt.NDArray[np.uint32]) -> None:
        """Add one document's keys (ids come in ascending order)."""
        self._hold(keys.tolist(), doc_id)
        self._recent_entries += int(keys.size)
        self.last_id = max(self.last_id, doc_id)
        if self._recent_entries >= _RECENT_ENTRIES:
            self._sort_recent()

    def lookup(self, keys: npt.NDArray[np.uint32]) -> dict[int, int]:
        """Documents holding any of ``keys``, with how many of them each holds."""
        shared: dict[int, int] = {}
        for run in (self._base, self._middle):
            if run.entries.size:
                for doc in run.holders(keys).tolist():
                    shared[doc] = shared.get(doc, 0) + 1
        wanted = keys.tolist()
        recent = self._recent
        for key in recent.keys() & wanted:
            doc = recent[key]
            shared[doc] = shared.get(doc, 0) + 1
        for key in self._recent_shared.keys() & wanted:
            for doc in self._recent_shared[key]:
                shared[doc] = shared.get(doc, 0) + 1
        return shared

    def _hold(self, keys: list[int], doc_id: int) -> None:
        """Put one document's keys in the newest entries (distinct keys: each carries its band)."""
        recent, multiple = self._recent, self._recent_shared
        taken = recent.keys() & keys
        held = multiple.keys() & keys
        if not taken and not held:
            recent.update(zip(keys, repeat(doc_id)))
            return
        for key in keys:
            if key in held:
                multiple[key].append(doc_id)
            elif key in taken:
                multiple[key] = [recent.pop(key), doc_id]
            else:
                recent[key] = doc_id

    def _sort_recent(self) -> None:
        entries = [(key << 32) | doc for key, doc in self._recent.items()]
        entries += [(key << 32) | doc for key, holders in self._recent_shared.items() for doc in holders]
        packed = np.array(entries, dtype=np.uint64)
        packed.sort()
        self._recent.clear()
        self._recent_shared.clear()
        self._recent_entries = 0
        self._middle = _Run(_merge(self._middle.entries, packed))
        self._settle()

    def _settle(self) -> None:
        if self._middle.entries.size * _MIDDLE_SHARE >= self._base.entries.size:
            self._base = _Run(_merge(self._base.entries, self._middle.entries))
            self._middle = _Run(_EMPTY)


class _Run:
    """Sorted entries with a directory of where each range of keys starts: a lookup reads one
    bucket of about ``_BUCKET_ENTRIES`` entries instead of binary-searching the whole array (whose
    25 steps each missed the cache at a million documents)."""

    __slots__ = ("entries", "offsets", "shift")

    def __init__(self, entries: npt.NDArray[np.uint64]) -> None:
        self.entries = entries
        bits = max(1, min(_MAX_DIRECTORY_BITS, (int(entries.size) // _BUCKET_ENTRIES).bit_length()))
        self.shift = 64 - bits
        counts = np.bincount((entries >> np.uint64(self.shift)).astype(np.intp), minlength=1 << bits)
        self.offsets = np.zeros((1 << bits) + 1, dtype=np.uint32)
        np.cumsum(counts, out=self.offsets[1:])

    def holders(self, keys: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint32]:
        return kernels.holders(self.entries, self.offsets, self.shift, keys)


def _merge(first: npt.NDArray[np.uint64], second: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """Two sorted arrays as one: timsort finds the two runs and merges them in linear time."""
    if not first.size:
        return second
    if not second.size:
        return first
    merged = np.concatenate((first, second))
    merged.sort(kind="stable")
    return merged

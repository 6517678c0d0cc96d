"""Compiled loops of the near-duplicate engine (numba): the same values as the numpy definitions, in
one pass over the data instead of one pass per permutation.

numpy applies each of the 96 permutations of a signature to every shingle hash as three passes
(multiply, add, per-document minimum) over the whole batch: about 100 µs per 3,000-character text.
Here each hash is permuted 96 ways in registers, and the minimum kept as it goes: about 30 µs. The
values are those of ``affine32`` (arithmetic modulo 2**32), which the tests hold equal to
datasketch's ``MinHash`` bit for bit.

numba is imported the first time a batch is signed (0.4 s), and the compiled code is cached beside
this module (``cache=True``), so only the first process after an install compiles it (about 1 s).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from numba import njit, uint32

__all__ = ["holders", "min_permuted"]


@njit(cache=True, nogil=True)
def _min_permuted(
    hashes: Any, starts: Any, rows: Any, a: Any, b: Any, result: Any
) -> None:  # pragma: no cover - compiled; tested through min_permuted
    mins = np.empty(a.size, dtype=np.uint32)
    for document in range(rows.size):
        mins[:] = np.uint32(0xFFFFFFFF)
        for position in range(starts[document], starts[document + 1]):
            value = hashes[position]
            for k in range(a.size):
                permuted = uint32(uint32(a[k] * value) + b[k])
                if permuted < mins[k]:
                    mins[k] = permuted
        result[rows[document], :] = mins


def min_permuted(
    hashes: npt.NDArray[np.uint32],
    starts: npt.NDArray[np.intp],
    rows: npt.NDArray[np.intp],
    a: npt.NDArray[np.uint32],
    b: npt.NDArray[np.uint32],
    result: npt.NDArray[np.uint32],
) -> None:
    """For each document ``d``: ``result[rows[d], k] = min(a[k] * h + b[k] mod 2**32)`` over its
    hashes ``h = hashes[starts[d]:starts[d + 1]]`` (``starts`` has one more entry than ``rows``)."""
    _min_permuted(hashes, starts, rows, a, b, result)


@njit(cache=True, nogil=True)
def _holders(entries: Any, offsets: Any, shift: Any, keys: Any) -> Any:  # pragma: no cover - compiled
    found = 0
    for twice in range(2):
        if twice:
            result = np.empty(found, dtype=np.uint32)
            found = 0
        for key in keys:
            wide = np.uint64(key) << np.uint64(32)
            bucket = wide >> shift
            for position in range(offsets[bucket], offsets[bucket + 1]):
                entry = entries[position]
                held = entry >> np.uint64(32)
                if held == key:
                    if twice:
                        result[found] = np.uint32(entry & np.uint64(0xFFFFFFFF))
                    found += 1
                elif held > key:
                    break
    return result


def holders(
    entries: npt.NDArray[np.uint64], offsets: npt.NDArray[np.uint32], shift: int, keys: npt.NDArray[np.uint32]
) -> npt.NDArray[np.uint32]:
    """The documents of the entries (``key << 32 | document``, sorted) whose key is one of ``keys``,
    once per key they hold; ``offsets[b]`` is the first entry whose top bits (``entry >> shift``) are
    ``b``, so each key is looked for in its bucket only (a few entries, one cache line)."""
    found: npt.NDArray[np.uint32] = _holders(entries, offsets, np.uint64(shift), keys)
    return found

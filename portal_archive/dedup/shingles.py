"""Character n-gram shingles of a normalised text, hashed to 32 bits all at once with numpy.

A shingle's hash is a 64-bit polynomial hash of its code points (wrapping modulo 2**64), mixed
with the MurmurHash3 64-bit finaliser, of which the top 32 bits are kept. ``shingle_hashes`` computes
it for every window of a text in one compiled loop (``kernels.window_hashes``); ``shingle_hash``
computes the same value for one shingle in plain Python, so it can be handed to
``datasketch.MinHash(hashfunc=...)`` and the two paths compared bit for bit.

Hashes are 32-bit because datasketch's ``affine32`` scheme permutes 32-bit values; two distinct
shingles of one document collide with probability about n**2 / 2**33 (≈ 0.1 % for 3,000 shingles).
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from portal_archive.dedup.deferred import kernels

__all__ = ["HASH_NAME", "shingle_hash", "shingle_hashes", "shingles"]

HASH_NAME: Final = "poly64-fmix64-hi32"
"""Name of the shingle hash, stored with every index so that a change is detected."""

_MASK64: Final = (1 << 64) - 1
_POLY: Final = 0x9E3779B97F4A7C15
"""Odd multiplier of the rolling hash (the 64-bit golden ratio)."""
_FMIX64_1: Final = 0xFF51AFD7ED558CCD
_FMIX64_2: Final = 0xC4CEB9FE1A85EC53


def fmix64(values: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """MurmurHash3's 64-bit finaliser, element-wise (a bijection that spreads every input bit)."""
    shift = np.uint64(33)
    mixed = values ^ (values >> shift)
    scratch = np.empty_like(mixed)
    mixed *= np.uint64(_FMIX64_1)
    np.right_shift(mixed, shift, out=scratch)
    mixed ^= scratch
    mixed *= np.uint64(_FMIX64_2)
    np.right_shift(mixed, shift, out=scratch)
    mixed ^= scratch
    return mixed


def _fmix64_int(value: int) -> int:
    value ^= value >> 33
    value = (value * _FMIX64_1) & _MASK64
    value ^= value >> 33
    value = (value * _FMIX64_2) & _MASK64
    return value ^ (value >> 33)


def shingle_hash(shingle: str) -> int:
    """The 32-bit hash of one shingle, equal to what ``shingle_hashes`` computes for it.

    Suitable as ``datasketch.MinHash(hashfunc=shingle_hash)`` with ``update(shingle)`` on ``str``
    shingles.
    """
    value = 0
    for char in shingle:
        value = (value * _POLY + ord(char)) & _MASK64
    return _fmix64_int(value) >> 32


def shingles(normalized: str, size: int = 5) -> list[str]:
    """Every character ``size``-gram of a normalised text, in order, repeats included.

    A text shorter than ``size`` is one shingle; an empty text has none. The slow, readable
    definition, for tests and for feeding datasketch.
    """
    if not normalized:
        return []
    if len(normalized) <= size:
        return [normalized]
    return [normalized[i : i + size] for i in range(len(normalized) - size + 1)]


def shingle_hashes(codepoints: npt.NDArray[np.uint32], size: int = 5) -> npt.NDArray[np.uint32]:
    """The set of shingle hashes of a normalised text, as a sorted array of unique ``uint32``.

    Args:
        codepoints: The normalised text as code points (``normalized_codepoints``).
        size: Characters per shingle.

    Returns:
        ``{shingle_hash(s) for s in shingles(text, size)}`` as a sorted ``uint32`` array.
    """
    if size < 1:
        raise ValueError(f"shingle size must be at least 1, got {size}")
    count = int(codepoints.size)
    if count == 0:
        return np.zeros(0, dtype=np.uint32)
    return kernels.distinct(np.sort(kernels.window_hashes(codepoints, min(size, count), _POLY, _FMIX64_1, _FMIX64_2)))

"""Compiled loops of the near-duplicate engine (numba): the values of the numpy definitions (kept in
tests/dedup/test_kernels.py), in one pass over the data instead of one numpy pass per step.

- ``min_permuted``: numpy applied each of the 96 permutations of a signature to every shingle hash
  as three passes (multiply, add, per-document minimum): about 100 µs per 3,000-character text.
  Here the hashes are mixed once, then each permutation is a minimum reduction over them in
  vector registers: about 20 µs. The values are ``affine32``'s (arithmetic modulo 2**32), tested
  equal to datasketch's ``MinHash``.
- ``window_hashes`` and ``distinct`` (shingle hashes, 47 µs to 23 with the sort numpy still does
  between them: a rolling hash, repeats dropped without a branch) and ``smallest_codes`` (the
  one-permutation sketch, 23 µs to 5).
- ``mapped_codepoints``: text normalisation's table look-up, zeros dropped and flags noted in the
  same pass (three numpy passes took 22 µs per 3,000 characters, this one 6).
- ``holders``: the band table's look-up, one bucket per key.

numba is imported the first time a batch is signed (0.4 s), and the compiled code is cached beside
this module (``cache=True``), so only the first process after an install compiles it (a few seconds).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from numba import njit, uint32

__all__ = [
    "code_counts",
    "distinct",
    "holders",
    "mapped_codepoints",
    "min_permuted",
    "smallest_codes",
    "warm_up",
    "window_hashes",
]


def _compiled(function: Any) -> Any:
    """``function`` compiled, with its machine code cached beside this module; where there is no
    file to cache beside (the project deployed as a zipped egg, as scrapyd runs it), compiled in
    memory by each process that uses it."""
    try:
        return njit(cache=True, nogil=True)(function)
    except RuntimeError:  # numba: "cannot cache function …: no locator available for file …"
        return njit(cache=False, nogil=True)(function)


@_compiled
def _min_permuted(
    hashes: Any, starts: Any, rows: Any, a: Any, b: Any, result: Any
) -> None:  # pragma: no cover - compiled; tested through min_permuted
    longest = 0
    for document in range(rows.size):
        longest = max(longest, starts[document + 1] - starts[document])
    mixed = np.empty(longest, dtype=np.uint32)
    for document in range(rows.size):
        first, count = starts[document], starts[document + 1] - starts[document]
        for position in range(count):
            value = hashes[first + position]  # MurmurHash3's 32-bit finaliser first, as datasketch pre-mixes
            value ^= value >> uint32(16)
            value = uint32(value * uint32(0x85EBCA6B))
            value ^= value >> uint32(13)
            value = uint32(value * uint32(0xC2B2AE35))
            value ^= value >> uint32(16)
            mixed[position] = value
        # One permutation at a time over all the hashes: a minimum reduction, which the compiler
        # turns into vector instructions (the permutations in the inner loop did not: 30 µs, now 20).
        for k in range(a.size):
            multiplier, offset = a[k], b[k]
            smallest = uint32(0xFFFFFFFF)
            for position in range(count):
                smallest = min(smallest, uint32(uint32(multiplier * mixed[position]) + offset))
            result[rows[document], k] = smallest


def min_permuted(
    hashes: npt.NDArray[np.uint32],
    starts: npt.NDArray[np.intp],
    rows: npt.NDArray[np.intp],
    a: npt.NDArray[np.uint32],
    b: npt.NDArray[np.uint32],
    result: npt.NDArray[np.uint32],
) -> None:
    """For each document ``d``: ``result[rows[d], k] = min(a[k] * fmix32(h) + b[k] mod 2**32)`` over
    its hashes ``h = hashes[starts[d]:starts[d + 1]]`` (``starts`` has one more entry than ``rows``;
    ``fmix32`` is ``minhash.fmix32``, applied here in the same pass)."""
    _min_permuted(hashes, starts, rows, a, b, result)


@_compiled
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


@_compiled
def _mapped_codepoints(codepoints: Any, table: Any) -> Any:  # pragma: no cover - compiled
    kept = np.empty(codepoints.size, dtype=np.uint32)
    count = 0
    seen = uint32(0)
    for position in range(codepoints.size):
        mapped = table[codepoints[position]]
        seen |= mapped
        kept[count] = mapped  # written always, counted when not 0: no branch to mispredict
        count += mapped != 0
    return kept[:count], seen


def mapped_codepoints(
    codepoints: npt.NDArray[np.uint32], table: npt.NDArray[np.uint32]
) -> tuple[npt.NDArray[np.uint32], int]:
    """``table[codepoints]`` without its zeros, and the bitwise or of every value looked up (so that
    a caller sees at once whether a flag bit was among them)."""
    kept, seen = _mapped_codepoints(codepoints, table)
    return kept, int(seen)


@_compiled
def _window_hashes(codepoints: Any, width: int, poly: Any, mix1: Any, mix2: Any) -> Any:  # pragma: no cover - compiled
    windows = codepoints.size - width + 1
    hashes = np.empty(windows, dtype=np.uint32)
    shift = np.uint64(33)
    leading = np.uint64(1)  # poly ** (width - 1): the weight of a window's first character
    value = np.uint64(0)
    for offset in range(width - 1):
        leading *= poly
        value = value * poly + np.uint64(codepoints[offset])
    for start in range(windows):  # rolling: add the next character, hash, take the first one out
        value = value * poly + np.uint64(codepoints[start + width - 1])
        mixed = value ^ (value >> shift)
        mixed *= mix1
        mixed ^= mixed >> shift
        mixed *= mix2
        mixed ^= mixed >> shift
        hashes[start] = np.uint32(mixed >> np.uint64(32))
        value -= np.uint64(codepoints[start]) * leading
    return hashes


def window_hashes(
    codepoints: npt.NDArray[np.uint32], width: int, poly: int, mix1: int, mix2: int
) -> npt.NDArray[np.uint32]:
    """The hash of every ``width``-character window: a polynomial hash modulo 2**64 with multiplier
    ``poly``, then MurmurHash3's 64-bit finaliser (multipliers ``mix1``, ``mix2``), top 32 bits; in
    window order, repeats included (``shingles.shingle_hashes`` sorts them)."""
    found: npt.NDArray[np.uint32] = _window_hashes(codepoints, width, np.uint64(poly), np.uint64(mix1), np.uint64(mix2))
    return found


@_compiled
def _distinct(hashes: Any) -> Any:  # pragma: no cover - compiled
    kept = np.empty(hashes.size, dtype=np.uint32)
    if hashes.size == 0:
        return kept
    previous = hashes[0]
    kept[0] = previous
    count = 1
    for position in range(1, hashes.size):
        value = hashes[position]
        kept[count] = value  # written always, counted when new: no branch to mispredict
        count += value != previous
        previous = value
    return kept[:count]


def distinct(hashes: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint32]:
    """Sorted ``hashes`` without repeats."""
    kept: npt.NDArray[np.uint32] = _distinct(hashes)
    return kept


@_compiled
def _codes_of_smallest(hashes: Any, codes: Any, shift: Any, modulus: Any) -> None:  # pragma: no cover - compiled
    # Backwards, writing every hash's code: the last write to a range is its smallest hash's, and
    # no branch depends on where ranges change (half of them mispredicted going forwards).
    for position in range(hashes.size - 1, -1, -1):
        value = hashes[position]
        codes[value >> shift] = np.uint8(value % modulus + np.uint32(1))


@_compiled
def _smallest_codes(hashes: Any, bins: int, shift: Any, modulus: Any) -> Any:  # pragma: no cover - compiled
    codes = np.zeros(bins, dtype=np.uint8)
    if modulus == 15:  # the default 4 bits: a constant divisor compiles to a multiplication
        _codes_of_smallest(hashes, codes, shift, np.uint32(15))
    else:
        _codes_of_smallest(hashes, codes, shift, modulus)
    return codes


def smallest_codes(hashes: npt.NDArray[np.uint32], bins: int, shift: int, modulus: int) -> npt.NDArray[np.uint8]:
    """Per range of the hash space (``hash >> shift``), the smallest hash's code ``hash % modulus + 1``
    (0: no hash in the range), from sorted hashes: a one-permutation sketch in one pass."""
    codes: npt.NDArray[np.uint8] = _smallest_codes(hashes, bins, np.uint32(shift), np.uint32(modulus))
    return codes


@_compiled
def _code_counts(codes: Any, packed: Any, bits: int) -> Any:  # pragma: no cover - compiled
    per_byte = 8 // bits
    mask = (1 << bits) - 1
    width = codes.size // per_byte
    rows = packed.size // width
    counts = np.zeros((rows, 3), dtype=np.int64)
    for row in range(rows):
        union = both = agreeing = 0
        for position in range(width):
            byte = packed[row * width + position]
            for slot in range(per_byte):
                mine = codes[position * per_byte + slot]
                theirs = (byte >> (slot * bits)) & mask
                if mine or theirs:
                    union += 1
                    if mine and theirs:
                        both += 1
                        if mine == theirs:
                            agreeing += 1
        counts[row, 0] = union
        counts[row, 1] = both
        counts[row, 2] = agreeing
    return counts


def code_counts(codes: npt.NDArray[np.uint8], packed: npt.NDArray[np.uint8], bits: int) -> npt.NDArray[np.int64]:
    """For each stored one-permutation sketch in ``packed`` (``bits``-bit codes, lowest bits first,
    one sketch after another), against ``codes``: ranges where either has a code, where both have
    one, and where both have the same one."""
    counts: npt.NDArray[np.int64] = _code_counts(codes, packed, bits)
    return counts


def warm_up() -> None:
    """Load every compiled loop now (numba's import and its cache: about a second; compiling them,
    the first time after an install: a few seconds), not at the first document, where it would stall
    a crawl's event loop."""
    hashes = np.arange(1, 9, dtype=np.uint32)
    codes = smallest_codes(hashes, 8, 29, 3)
    code_counts(codes, np.frombuffer(bytes(2), dtype=np.uint8), 8)  # read-only, as stored sketches come
    window_hashes(hashes, 5, 3, 5, 7)
    distinct(hashes)
    mapped_codepoints(np.frombuffer(hashes.tobytes(), dtype="<u4"), hashes)  # read-only, as a text's come
    result = np.zeros((1, 2), dtype=np.uint32)
    one = np.ones(2, dtype=np.uint32)
    min_permuted(hashes, np.asarray([0, 8], dtype=np.intp), np.zeros(1, dtype=np.intp), one, one, result)
    holders(np.zeros(1, dtype=np.uint64), np.zeros(3, dtype=np.uint32), 63, hashes)

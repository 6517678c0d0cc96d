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
- ``packed_codes`` and ``code_counts``: storing a one-permutation sketch, and comparing a
  document's with its candidates' 64 bits at a time (a loop over each code took 5 µs per
  candidate of 256 bytes, this about 0.1).

numba is imported the first time a batch is signed (0.4 s), and the compiled code is cached beside
this module (``cache=True``), so only the first process after an install compiles it (a few seconds).
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import numpy.typing as npt
from numba import njit, uint32

__all__ = [
    "code_counts",
    "distinct",
    "holders",
    "mapped_codepoints",
    "min_permuted",
    "packed_codes",
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


_LOW_BITS: Final = {2: 0x5555_5555_5555_5555, 4: 0x1111_1111_1111_1111, 8: 0x0101_0101_0101_0101}
"""The lowest bit of every ``bits``-bit code in a 64-bit word."""


@_compiled
def _packed_codes(codes: Any, bits: int) -> Any:  # pragma: no cover - compiled; tested through packed_codes
    packed = np.zeros(codes.size * bits // 8, dtype=np.uint8)
    if bits == 2:  # the default, with constant shifts
        for position in range(packed.size):
            first = 4 * position
            packed[position] = (
                codes[first] | (codes[first + 1] << 2) | (codes[first + 2] << 4) | (codes[first + 3] << 6)
            )
    elif bits == 4:
        for position in range(packed.size):
            packed[position] = codes[2 * position] | (codes[2 * position + 1] << 4)
    else:
        packed[:] = codes
    return packed


def packed_codes(codes: npt.NDArray[np.uint8], bits: int) -> npt.NDArray[np.uint8]:
    """``bits``-bit codes (2, 4 or 8) packed lowest bits first, ``8 // bits`` to a byte: a
    one-permutation sketch as stored (numpy's reshape, shift and OR per column took 11 µs per
    1,024 codes)."""
    packed: npt.NDArray[np.uint8] = _packed_codes(_writable(codes), bits)
    return packed


def _writable(array: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """``array``, or a copy of it where it is read-only or not contiguous: each compiled loop then
    has one variant (``np.require`` costs 2 µs a call; the checks here, a fifth of that)."""
    flags = array.flags
    return array if flags.writeable and flags.c_contiguous else np.array(array, order="C")


@_compiled
def _ones(word: Any) -> Any:  # pragma: no cover - compiled
    """Set bits of a ``uint64`` (the usual halving sums)."""
    word = word - ((word >> np.uint64(1)) & np.uint64(0x5555_5555_5555_5555))
    word = (word & np.uint64(0x3333_3333_3333_3333)) + ((word >> np.uint64(2)) & np.uint64(0x3333_3333_3333_3333))
    word = (word + (word >> np.uint64(4))) & np.uint64(0x0F0F_0F0F_0F0F_0F0F)
    return (word * np.uint64(0x0101_0101_0101_0101)) >> np.uint64(56)


@_compiled
def _code_counts(mine: Any, stored: Any, words: int, bits: int, low: Any) -> Any:  # pragma: no cover - compiled
    rows = stored.size // words
    stride = 0 if mine.size == words else words  # one sketch against every row, or one per row
    counts = np.zeros((rows, 3), dtype=np.int64)
    one = np.uint64(1)
    for row in range(rows):
        union = both = agreeing = 0
        base = row * words
        own = row * stride
        for position in range(words):
            a = mine[own + position]
            b = stored[base + position]
            same = ~(a ^ b)
            if bits == 2:  # the default: no loop
                coded_a = (a | (a >> one)) & low
                coded_b = (b | (b >> one)) & low
                equal = same & (same >> one)
            else:
                coded_a, coded_b, equal = a, b, same
                for shift in range(1, bits):
                    step = np.uint64(shift)
                    coded_a |= a >> step
                    coded_b |= b >> step
                    equal &= same >> step
                coded_a &= low
                coded_b &= low
            union += int(_ones(coded_a | coded_b))
            both += int(_ones(coded_a & coded_b))
            agreeing += int(_ones(equal & coded_a))
        counts[row, 0] = union
        counts[row, 1] = both
        counts[row, 2] = agreeing
    return counts


def code_counts(mine: npt.NDArray[np.uint8], stored: npt.NDArray[np.uint8], bits: int) -> npt.NDArray[np.int64]:
    """For each stored one-permutation sketch in ``stored`` (packed as ``packed_codes`` packs them,
    one after another), against the packed sketch ``mine``, or against its own row of ``mine`` when
    ``mine`` has one per stored sketch (pairs): ranges where either has a code, where both have one,
    and where both have the same one. Sixty-four bits at a time: a code is present when one of its
    bits is set (folded onto its lowest bit), and two codes are equal when their XOR is zero (a loop
    over every code took 5 µs per 256-byte candidate, this about 0.1).

    Raises:
        ValueError: ``mine`` has several rows, but not one per stored sketch.
    """
    width = mine.shape[-1] if mine.ndim else 0
    if not width:
        return np.zeros((0, 3), dtype=np.int64)
    rows = stored.reshape(-1, width)
    firsts = mine.reshape(-1, width)
    if firsts.shape[0] not in (1, rows.shape[0]):
        raise ValueError(f"{firsts.shape[0]} sketches to compare with {rows.shape[0]}: one, or one each")
    words = (width + 7) // 8
    # Zero bytes hold no code: padded to whole 64-bit words, they count nowhere.
    counts: npt.NDArray[np.int64] = _code_counts(
        _words(firsts, words), _words(rows, words), words, bits, np.uint64(_LOW_BITS[bits])
    )
    return counts


def _words(rows: npt.NDArray[np.uint8], words: int) -> npt.NDArray[np.uint64]:
    """Rows of packed codes as one run of 64-bit words, each row zero-padded to ``words`` words."""
    padded = words * 8 - rows.shape[1]
    if padded:
        rows = np.concatenate([rows, np.zeros((rows.shape[0], padded), dtype=np.uint8)], axis=1)
    flat: npt.NDArray[np.uint64] = _writable(rows).reshape(-1).view(np.uint64)
    return flat


def warm_up() -> None:
    """Load every compiled loop now (numba's import and its cache: about a second; compiling them,
    the first time after an install: a few seconds), not at the first document, where it would stall
    a crawl's event loop."""
    hashes = np.arange(1, 9, dtype=np.uint32)
    codes = smallest_codes(hashes, 8, 29, 3)
    code_counts(packed_codes(codes, 2), np.frombuffer(bytes(4), dtype=np.uint8), 2)  # read-only, as stored
    window_hashes(hashes, 5, 3, 5, 7)
    distinct(hashes)
    mapped_codepoints(np.frombuffer(hashes.tobytes(), dtype="<u4"), hashes)  # read-only, as a text's come
    result = np.zeros((1, 2), dtype=np.uint32)
    one = np.ones(2, dtype=np.uint32)
    min_permuted(hashes, np.asarray([0, 8], dtype=np.intp), np.zeros(1, dtype=np.intp), one, one, result)
    holders(np.zeros(1, dtype=np.uint64), np.zeros(3, dtype=np.uint32), 63, hashes)

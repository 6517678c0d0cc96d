"""What the index stores to verify a candidate pair: the exact shingle set, or a compact sketch.

``exact`` keeps every 32-bit shingle hash (sorted, delta-coded, zlib): Jaccard and containment are
exact, but a 3,000-character text costs about 10 KB in the index.

``oph`` keeps a b-bit one-permutation-hashing sketch: the hash space is cut into ``bins`` equal
ranges, and each range keeps only ``bits`` bits of its smallest hash (0 = no shingle in that range).
Two documents agree on a range when their union's smallest hash there is shared, which happens with
probability J; a ``bits``-bit code also agrees by chance with probability 1 / (2**bits - 1), which
the estimator subtracts. A text shorter than ``bins`` shingles has about one shingle per range, so
the estimate is then close to exact.

Estimates are approximate. Measured on the bench's candidate pairs (3,000-character texts, 707 pairs
with J > 0.2 or containment > 0.5, 8 re-hashings), the root-mean-square error of Jaccard is 0.009
with 2,048 bins of 2 bits (512 bytes), 0.011 with 1,024 x 4 bits (also 512 bytes), 0.015 with the
default 1,024 bins of 2 bits (256 bytes), 0.017 with 512 x 4 bits and 0.022 with 512 x 2 bits (128
bytes). Against the exact copy rule, 1,024 x 2 bits lost 2.6 of 624 true pairs on average (2,048 x 2:
1.6) and accepted 1.0 false pair (0.6): both stay within 0.5 % of exact verification, for half the
bytes. Codes of 1 bit with densified empty bins did worse at equal size (2,048 x 1: recall 0.990,
precision 0.995), and so did the MinHash signature itself (128 values, standard error 0.04; recall
0.978, precision 0.989). The bench (``bench/dedup.py``) measures precision and recall end to end.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Protocol, TypeAlias

import numpy as np
import numpy.typing as npt

from portal_archive.dedup.deferred import kernels

__all__ = ["SKETCHES", "Comparable", "ExactShingleSet", "OnePermutationSketch", "VerificationSketch", "make_sketch"]

Comparable: TypeAlias = npt.NDArray[np.uint32] | npt.NDArray[np.uint8]
"""What ``load`` and ``decode`` return: the form two sketches are compared in."""
StoredSketches: TypeAlias = Sequence[bytes] | npt.NDArray[np.uint8]
"""Stored sketches: blobs, or the rows of a 2-D array (fixed-size sketches held in memory)."""
Sizes: TypeAlias = Sequence[int] | npt.NDArray[np.int64]


class VerificationSketch(Protocol):
    """Encodes a shingle-hash set for storage, and estimates intersections between two of them."""

    @property
    def name(self) -> str:
        """The ``DEDUP_VERIFY`` value that selects this backend."""
        ...

    @property
    def exact(self) -> bool:
        """Whether ``intersection`` is exact rather than estimated."""
        ...

    def parameters(self) -> dict[str, int | str]:
        """What must match for two stored sketches to be comparable."""
        ...

    def load(self, hashes: npt.NDArray[np.uint32]) -> Comparable:
        """The comparable form of a sorted unique shingle-hash set."""
        ...

    def encode(self, loaded: Comparable) -> bytes:
        """The stored form of what ``load`` returned."""
        ...

    def decode(self, blob: bytes) -> Comparable:
        """The comparable form of a stored blob (what ``load`` returns for the same set)."""
        ...

    def intersection(self, first: Comparable, first_size: int, second: Comparable, second_size: int) -> float:
        """``|A ∩ B|`` (estimated unless ``exact``) from comparable forms and exact set sizes."""
        ...

    def intersections(
        self, firsts: StoredSketches, first_sizes: Sizes, seconds: StoredSketches, second_sizes: Sizes
    ) -> npt.NDArray[np.float64]:
        """``intersection`` of each pair of stored sketches (the i-th of ``firsts`` with the i-th of
        ``seconds``, blobs or rows, and their set sizes): the same values, computed together (the
        candidates of a batch of documents).

        Raises:
            ValueError: The two sides differ in length, or a stored sketch has the wrong size.
        """
        ...


@dataclass(frozen=True)
class ExactShingleSet:
    """The whole set, sorted ``uint32`` hashes stored as zlib-compressed deltas."""

    name: str = "exact"
    exact: bool = True

    def parameters(self) -> dict[str, int | str]:
        return {"verify": self.name}

    def load(self, hashes: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint32]:
        return hashes

    def encode(self, loaded: Comparable) -> bytes:
        deltas = np.diff(loaded, prepend=np.uint32(0)).astype("<u4")
        return zlib.compress(deltas.tobytes(), 6)

    def decode(self, blob: bytes) -> npt.NDArray[np.uint32]:
        deltas = np.frombuffer(zlib.decompress(blob), dtype="<u4")
        return np.cumsum(deltas, dtype=np.uint32)

    def intersections(
        self, firsts: StoredSketches, first_sizes: Sizes, seconds: StoredSketches, second_sizes: Sizes
    ) -> npt.NDArray[np.float64]:
        pairs = zip(_blobs(firsts), first_sizes, _blobs(seconds), second_sizes, strict=True)
        return np.asarray(
            [self.intersection(self.decode(a), int(m), self.decode(b), int(n)) for a, m, b, n in pairs],
            dtype=np.float64,
        )

    def intersection(self, first: Comparable, first_size: int, second: Comparable, second_size: int) -> float:
        small, large = (first, second) if first.size <= second.size else (second, first)
        if small.size == 0 or large.size == 0:
            return 0.0
        positions = np.searchsorted(large, small)
        np.minimum(positions, large.size - 1, out=positions)
        return float(np.count_nonzero(large[positions] == small))


_SUPPORTED_BITS: Final = (2, 4, 8)


@dataclass(frozen=True)
class OnePermutationSketch:
    """b-bit one-permutation hashing: ``bins`` ranges of the hash space, ``bits`` bits per range.

    Args:
        bins: Number of ranges, a power of two (stored size is ``bins * bits / 8`` bytes).
        bits: Bits kept per range: 2, 4 or 8 (code 0 marks an empty range).

    Raises:
        ValueError: ``bins`` is not a power of two between 8 and 2**16, or ``bits`` unsupported.
    """

    bins: int = 1024
    bits: int = 4
    name: str = "oph"
    exact: bool = False

    def __post_init__(self) -> None:
        if self.bins < 8 or self.bins > 1 << 16 or self.bins & (self.bins - 1):
            raise ValueError(f"sketch bins must be a power of two in 8..65536, got {self.bins}")
        if self.bits not in _SUPPORTED_BITS:
            raise ValueError(f"sketch bits must be one of {_SUPPORTED_BITS}, got {self.bits}")

    def parameters(self) -> dict[str, int | str]:
        return {"verify": self.name, "sketch_bins": self.bins, "sketch_bits": self.bits}

    @property
    def _chance(self) -> float:
        """Probability that two different smallest hashes get the same non-zero code."""
        return 1.0 / float((1 << self.bits) - 1)

    def load(self, hashes: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint8]:
        if hashes.size == 0:
            return np.zeros(self.bins, dtype=np.uint8)
        # Hashes are sorted: the first of each range is its smallest.
        return kernels.smallest_codes(hashes, self.bins, 32 - self.bins.bit_length() + 1, (1 << self.bits) - 1)

    def encode(self, loaded: Comparable) -> bytes:
        return kernels.packed_codes(loaded.astype(np.uint8, copy=False), self.bits).tobytes()

    def decode(self, blob: bytes) -> npt.NDArray[np.uint8]:
        packed = np.frombuffer(blob, dtype=np.uint8)
        if packed.size * 8 != self.bins * self.bits:
            raise ValueError(f"sketch of {packed.size} bytes does not hold {self.bins} bins of {self.bits} bits")
        per_byte = 8 // self.bits
        shifts = np.arange(per_byte, dtype=np.uint8) * np.uint8(self.bits)
        mask = np.uint8((1 << self.bits) - 1)
        return ((packed[:, None] >> shifts) & mask).reshape(-1)

    def intersection(self, first: Comparable, first_size: int, second: Comparable, second_size: int) -> float:
        # numpy only: a report reading an index compares cluster members and never loads numba.
        present_first = first != 0
        present_second = second != 0
        counts = np.asarray(
            [
                [
                    np.count_nonzero(present_first | present_second),
                    np.count_nonzero(present_first & present_second),
                    np.count_nonzero((first == second) & present_first),
                ]
            ],
            dtype=np.int64,
        )
        return float(self._estimates(first_size, counts, np.asarray([second_size], dtype=np.int64))[0])

    def intersections(
        self, firsts: StoredSketches, first_sizes: Sizes, seconds: StoredSketches, second_sizes: Sizes
    ) -> npt.NDArray[np.float64]:
        count = len(seconds)
        if len(firsts) != count:
            raise ValueError(f"{len(firsts)} sketches to compare with {count}: one each")
        if not count:
            return np.zeros(0, dtype=np.float64)
        counts = kernels.code_counts(self._rows(firsts, count), self._rows(seconds, count), self.bits)
        sizes = np.asarray(second_sizes, dtype=np.int64)
        return self._estimates(np.asarray(first_sizes, dtype=np.int64), counts, sizes)

    def _rows(self, stored: StoredSketches, count: int) -> npt.NDArray[np.uint8]:
        """``count`` stored sketches as the rows of one array."""
        rows = stored if isinstance(stored, np.ndarray) else np.frombuffer(b"".join(stored), dtype=np.uint8)
        if rows.size * 8 != count * self.bins * self.bits:
            raise ValueError(f"sketches of {rows.size} bytes do not hold {count} of {self.bins} bins")
        return rows.reshape(count, -1)

    def _estimates(
        self, first_size: int | npt.NDArray[np.int64], counts: npt.NDArray[np.int64], sizes: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.float64]:
        """``|A ∩ B|`` from each pair's range counts (either coded, both coded, same code): the
        share of ranges with the same smallest hash, less the codes equal by chance, is Jaccard.
        Each step is the float operation of the one-pair formula, in its order: the same values."""
        if sizes.shape[0] != counts.shape[0]:
            raise ValueError(f"{counts.shape[0]} sketches but {sizes.shape[0]} set sizes")
        chance = self._chance
        union, shared_codes, agreed = counts[:, 0], counts[:, 1], counts[:, 2]
        shared_bins = (agreed - chance * shared_codes) / (1.0 - chance)
        # With no range coded, nothing is shared: 0 / 1 is the formula's 0.
        jaccard = np.minimum(1.0, np.maximum(0.0, shared_bins / np.maximum(union, 1)))
        estimates: npt.NDArray[np.float64] = jaccard * (first_size + sizes) / (1.0 + jaccard)
        return estimates


def _blobs(stored: StoredSketches) -> Sequence[bytes]:
    return [row.tobytes() for row in stored] if isinstance(stored, np.ndarray) else stored


SKETCHES: Final = {"exact": ExactShingleSet, "oph": OnePermutationSketch}
"""Verification backends by name (the ``DEDUP_VERIFY`` setting)."""


def make_sketch(name: str, *, bins: int = 1024, bits: int = 4) -> VerificationSketch:
    """The verification backend called ``name`` (``exact`` or ``oph``).

    Raises:
        ValueError: Unknown name, or bad ``bins``/``bits`` for ``oph``.
    """
    if name == "exact":
        return ExactShingleSet()
    if name == "oph":
        return OnePermutationSketch(bins=bins, bits=bits)
    raise ValueError(f"unknown verification sketch {name!r}: expected one of {sorted(SKETCHES)}")

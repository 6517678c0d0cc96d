"""Banding of MinHash signatures (locality-sensitive hashing) into keys an index can look up.

A signature of ``bands * rows`` values is cut into ``bands`` bands of ``rows`` values; two documents
become candidates when any band is equal, which happens with probability
``1 - (1 - J**rows)**bands`` for Jaccard similarity J. Each band is stored as a 32-bit key (a hash
of its ``rows`` values): datasketch's ``MinHashLSH`` keys on the raw bytes instead, which gives the
same candidates except for key collisions (probability 2**-32 per band and pair; the index keeps
``32 - ceil(log2(bands))`` bits of a key beside the band number, 2**-27 with 32 bands), which
verification removes anyway.

Banding is tuned for recall, since every candidate is verified afterwards. datasketch's "optimal"
(14, 9) for t = 0.7 finds only 44 % of pairs at J = 0.7. The (32, 4) of notes/dedup.md finds all of
them, but an excerpt has low Jaccard and high containment (a 45 % excerpt has J ~ 0.4), and (32, 4)
finds a pair at J = 0.4 with probability 0.56: on the bench it missed 2.6 % of true pairs. Three
rows per band find it with probability 0.88 (32 bands) or 0.93 (40 bands). Measured on the bench
(624 true pairs, 10,000 texts), candidate recall was 0.9984 for 32 to 40 bands of 3 (one pair
missed: an excerpt at J 0.40), 0.9968 for 28 and 0.9904 for 24; summed over the true pairs'
Jaccard, the S-curve expects 1.4 misses with 40 bands, 2.5 with 32 and 4.9 with 24. The default
(32, 3) (96 of 128 values) keeps 8 index rows per document fewer than (40, 3), about 100 bytes of
the 1 KB a document may take. Two rows per band would find even more, but unrelated texts
(J ~ 0.01) would become candidates a hundred times as often, a cost that grows with the square of
the index size.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from portal_archive.dedup.shingles import fmix64

__all__ = ["band_keys", "candidate_probability", "check_banding"]

_POLY: Final = np.uint64(0x9E3779B97F4A7C15)


def check_banding(num_perm: int, bands: int, rows: int) -> None:
    """Raise ``ValueError`` unless ``bands`` bands of ``rows`` values fit in ``num_perm``."""
    if bands < 1 or rows < 1:
        raise ValueError(f"bands and rows must be positive, got bands={bands}, rows={rows}")
    if bands * rows > num_perm:
        raise ValueError(
            f"bands * rows = {bands} * {rows} = {bands * rows} exceeds num_perm = {num_perm}: "
            "use fewer bands or rows, or more permutations"
        )


def candidate_probability(jaccard: float, bands: int, rows: int) -> float:
    """Probability that two documents of Jaccard similarity ``jaccard`` share at least one band."""
    return float(1.0 - (1.0 - jaccard**rows) ** bands)


def band_keys(signatures: npt.NDArray[np.uint32], bands: int, rows: int) -> npt.NDArray[np.int32]:
    """The band keys of signatures: band ``i`` of a row hashed to a signed 32-bit integer.

    Args:
        signatures: ``(n, num_perm)`` ``uint32`` array, or one signature of shape ``(num_perm,)``.
        bands: Number of bands.
        rows: Signature values per band.

    Returns:
        ``(n, bands)`` ``int32`` keys (signed, so that SQLite stores each in 4 bytes); ``(bands,)``
        for a single signature.

    Raises:
        ValueError: ``bands * rows`` exceeds the signature length.
    """
    single = signatures.ndim == 1
    matrix = signatures.reshape(1, -1) if single else signatures
    check_banding(int(matrix.shape[1]), bands, rows)
    values = matrix[:, : bands * rows].reshape(matrix.shape[0], bands, rows).astype(np.uint64)
    keys = values[:, :, 0].copy()
    for column in range(1, rows):
        keys *= _POLY  # wraps modulo 2**64, as intended
        keys += values[:, :, column]
    result = (fmix64(keys) >> np.uint64(32)).astype(np.uint32).view(np.int32)
    return result[0] if single else result

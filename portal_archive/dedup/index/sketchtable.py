"""The fixed-size verification sketches of a SQLite index, held in memory beside its band table.

Candidates come from the band table in memory; verifying each one read its sketch, lengths and URL
from the file. That was cheap while candidates were few, but texts that share a sentence or a
boilerplate paragraph share a band now and then, so a text's candidates grow with the index: one
at 100,000 documents of the scale bench, seven at a million, each a join of two B-tree rows. Here a
candidate costs a row of an array, and the URL is read only for the few that match.

Layout: row ``id`` of three arrays (sketch bytes, shingle-set size, normalised length), grown in
place as ids grow (``ndarray.resize``: no view of them is ever handed out, so the memory can move).
A row whose length is 0 holds no document (ids a restored index skipped). Memory: the sketch's
bytes plus 8 per document (264 bytes with the default 256-byte sketch).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
import numpy.typing as npt

from portal_archive.dedup.index.base import CandidateSketches

__all__ = ["SketchTable"]

_GROWTH: Final = 1.5
"""Rows added when an id falls past the end, as a share of the rows already there."""
_MIN_ROWS: Final = 1 << 12


class SketchTable:
    """Document id to its sketch, shingle-set size and normalised length.

    Args:
        width: Bytes of every sketch.
    """

    def __init__(self, width: int) -> None:
        if width <= 0:
            raise ValueError(f"a sketch table holds sketches of a fixed size, got {width} bytes")
        self.width = width
        self._sketches = np.zeros((0, width), dtype=np.uint8)
        self._sizes = np.zeros((0, 2), dtype=np.int64)
        """Per row: shingle-set size, normalised length (0: no document)."""

    def __len__(self) -> int:
        return int(np.count_nonzero(self._sizes[:, 1]))

    def add(self, doc_id: int, sketch: bytes, shingles: int, chars: int) -> None:
        """Hold one document (its id may be any not held yet).

        Raises:
            ValueError: The sketch is not ``width`` bytes, or ``chars`` is not positive.
        """
        if len(sketch) != self.width:
            raise ValueError(f"expected a {self.width}-byte sketch, got {len(sketch)} bytes")
        if chars <= 0:
            raise ValueError(f"a held document has a positive length, got {chars}")
        self._reserve(doc_id)
        self._sketches[doc_id] = np.frombuffer(sketch, dtype=np.uint8)
        self._sizes[doc_id] = (shingles, chars)

    def extend(
        self,
        ids: npt.NDArray[np.int64],
        sketches: npt.NDArray[np.uint8],
        shingles: npt.NDArray[np.int64],
        chars: npt.NDArray[np.int64],
    ) -> None:
        """Hold many documents at once (loading the index, or catching up with other writers).

        Args:
            ids: Document ids.
            sketches: One row of ``width`` bytes per id.
            shingles: Shingle-set size per id.
            chars: Normalised length per id (positive).
        """
        if not ids.size:
            return
        if sketches.shape != (ids.size, self.width):
            raise ValueError(f"expected {ids.size} sketches of {self.width} bytes, got an array of {sketches.shape}")
        self._reserve(int(ids.max()))
        self._sketches[ids] = sketches
        self._sizes[ids, 0] = shingles
        self._sizes[ids, 1] = chars

    def take(self, ids: Sequence[int]) -> CandidateSketches:
        """The held documents among ``ids``, in their order (the others are skipped, as ``sketches``
        skips ids that are not in the index)."""
        rows = self._sizes.shape[0]
        if all(0 <= doc_id < rows for doc_id in ids):
            wanted = np.fromiter(ids, dtype=np.int64, count=len(ids))
        else:
            wanted = np.fromiter((doc_id for doc_id in ids if 0 <= doc_id < rows), dtype=np.int64)
        sizes = self._sizes[wanted]
        if not sizes[:, 1].all():
            held = sizes[:, 1] > 0
            wanted, sizes = wanted[held], sizes[held]
        return CandidateSketches(ids=wanted, sketches=self._sketches[wanted], shingles=sizes[:, 0], chars=sizes[:, 1])

    def _reserve(self, doc_id: int) -> None:
        """Room for row ``doc_id``, grown in place (new rows are zero: no document)."""
        rows = self._sizes.shape[0]
        if doc_id < rows:
            return
        wanted = max(doc_id + 1, int(rows * _GROWTH), _MIN_ROWS)
        # In place: realloc moves large blocks by remapping pages, so the table is never held twice.
        self._sketches.resize((wanted, self.width), refcheck=False)
        self._sizes.resize((wanted, 2), refcheck=False)

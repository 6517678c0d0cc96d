"""The sketch table a SQLite index holds in memory: rows by id, grown in place, absent ids skipped."""

from __future__ import annotations

import numpy as np
import pytest

from portal_archive.dedup.index.sketchtable import SketchTable


def _sketch(doc: int, width: int = 16) -> bytes:
    return bytes((doc * 7 + position) % 256 for position in range(width))


def test_rows_come_back_in_the_order_asked_and_unknown_ids_are_skipped() -> None:
    table = SketchTable(16)
    for doc in (1, 2, 5):
        table.add(doc, _sketch(doc), shingles=doc * 10, chars=doc * 100)
    found = table.take([5, 3, 1, 99_999, -1, 2])
    assert found.ids.tolist() == [5, 1, 2]
    assert [row.tobytes() for row in found.sketches] == [_sketch(5), _sketch(1), _sketch(2)]
    assert found.shingles.tolist() == [50, 10, 20]
    assert found.chars.tolist() == [500, 100, 200]
    assert found.urls is None
    assert len(table) == 3
    assert len(table.take([])) == 0


def test_growing_past_many_sizes_keeps_every_row_and_what_was_taken_stays_as_it_was() -> None:
    table = SketchTable(8)
    taken = []
    for doc in range(1, 30_000, 7):
        table.add(doc, _sketch(doc, 8), shingles=doc, chars=doc + 1)
        if doc % 700 == 1:
            taken.append((doc, table.take([doc])))
    everything = list(range(1, 30_000, 7))
    found = table.take(everything)
    assert found.ids.tolist() == everything
    assert all(row.tobytes() == _sketch(doc, 8) for doc, row in zip(everything, found.sketches, strict=True))
    assert found.chars.tolist() == [doc + 1 for doc in everything]
    # Rows handed out earlier are copies: growing the table in place did not change them.
    assert all(earlier.sketches[0].tobytes() == _sketch(doc, 8) for doc, earlier in taken)


def test_a_bulk_load_equals_adding_one_by_one() -> None:
    rng = np.random.default_rng(2)
    ids = np.arange(3, 5_003, dtype=np.int64)
    sketches = rng.integers(0, 256, (ids.size, 32), dtype=np.uint8)
    shingles = rng.integers(1, 4_000, ids.size)
    chars = rng.integers(50, 9_000, ids.size)
    bulk, single = SketchTable(32), SketchTable(32)
    bulk.extend(ids, sketches, shingles, chars)
    for position, doc in enumerate(ids.tolist()):
        single.add(doc, sketches[position].tobytes(), int(shingles[position]), int(chars[position]))
    asked = rng.permutation(ids).tolist()[:700]
    first, second = bulk.take(asked), single.take(asked)
    assert first.ids.tolist() == second.ids.tolist() == asked
    assert np.array_equal(first.sketches, second.sketches)
    assert first.shingles.tolist() == second.shingles.tolist()
    assert first.chars.tolist() == second.chars.tolist()


def test_bad_rows_are_refused() -> None:
    with pytest.raises(ValueError, match="fixed size"):
        SketchTable(0)
    table = SketchTable(16)
    with pytest.raises(ValueError, match="16-byte sketch"):
        table.add(1, bytes(15), shingles=1, chars=1)
    with pytest.raises(ValueError, match="positive length"):
        table.add(1, bytes(16), shingles=1, chars=0)
    with pytest.raises(ValueError, match="sketches of 16 bytes"):
        table.extend(np.arange(2, dtype=np.int64), np.zeros((2, 8), dtype=np.uint8), np.ones(2), np.ones(2))

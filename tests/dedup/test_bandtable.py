"""The in-memory band table: the same answers as a plain dict of sets, whether its entries sit in
the newest dict, the sorted middle array or the base, and after bulk loads of any size."""

from __future__ import annotations

import random
from collections import Counter

import numpy as np

from portal_archive.dedup.index.bandtable import BandTable

BANDS = 32


def _keys(rng: random.Random, shared_from: list[int] | None = None) -> np.ndarray:
    """A document's keys: band number in the top 5 bits; a near-copy reuses some of another's."""
    keys = [(band << 27) | rng.getrandbits(27) for band in range(BANDS)]
    if shared_from is not None:
        for band in rng.sample(range(BANDS), rng.randint(1, 8)):
            keys[band] = shared_from[band]
    return np.asarray(keys, dtype=np.uint32)


def _expected(truth: dict[int, set[int]], keys: np.ndarray) -> dict[int, int]:
    shared: Counter[int] = Counter()
    for key in keys.tolist():
        shared.update(truth.get(key, ()))
    return dict(shared)


def test_lookups_agree_with_a_dict_through_every_level() -> None:
    rng = random.Random(7)
    table, truth, documents = BandTable(), {}, {}
    # 9,000 documents of 32 keys: entries go through the newest dict (65,536), the middle array
    # and the base several times over.
    for doc_id in range(1, 9_001):
        source = documents[rng.randrange(1, doc_id)] if doc_id > 1 and rng.random() < 0.1 else None
        keys = _keys(rng, source)
        documents[doc_id] = keys.tolist()
        for key in documents[doc_id]:
            truth.setdefault(key, set()).add(doc_id)
        if doc_id % 997 == 0 or doc_id < 50:
            probe = _keys(rng, documents[rng.randrange(1, doc_id + 1)])
            assert table.lookup(probe) == _expected({k: v - {doc_id} for k, v in truth.items()}, probe)
        table.add(doc_id, keys)
    assert len(table) == 9_000 * BANDS and table.last_id == 9_000
    for doc_id in rng.sample(range(1, 9_001), 200):
        keys = np.asarray(documents[doc_id], dtype=np.uint32)
        found = table.lookup(keys)
        assert found == _expected(truth, keys)
        assert found[doc_id] == BANDS


def test_a_bulk_load_equals_adding_one_by_one_and_later_adds_are_found() -> None:
    rng = random.Random(11)
    rows = {doc_id: _keys(rng) for doc_id in range(1, 5_001)}
    ids = np.arange(1, 5_001, dtype=np.uint32)
    keys = np.stack([rows[i] for i in range(1, 5_001)])
    one_by_one, bulk = BandTable(), BandTable()
    for doc_id, row in rows.items():
        one_by_one.add(doc_id, row)
    assert bulk.extend([(ids[:2_000], keys[:2_000]), (ids[2_000:], keys[2_000:])]) == 5_000
    assert bulk.last_id == 5_000 and len(bulk) == len(one_by_one)
    small = BandTable()
    assert small.extend([(ids[:3], keys[:3])]) == 3  # a few rows go to the newest entries
    assert small.lookup(keys[2]) == {3: BANDS}
    copy = rows[4_321].copy()
    copy[:5] = _keys(rng)[:5]
    bulk.add(5_001, copy)
    for table in (one_by_one, bulk):
        assert table.lookup(rows[17]) == {17: BANDS}
    assert bulk.lookup(rows[4_321]) == {4_321: BANDS, 5_001: BANDS - 5}
    assert bulk.extend([]) == 0


def test_keys_at_the_ends_of_the_range_are_kept_apart_from_their_neighbours() -> None:
    table = BandTable()
    edges = np.asarray([0, 1, 0xFFFFFFFE, 0xFFFFFFFF], dtype=np.uint32)
    big = np.arange(100_000, dtype=np.uint32).reshape(-1, 4) + np.uint32(2)  # sorted arrays, not the dict
    table.extend([(np.arange(1, big.shape[0] + 1, dtype=np.uint32), big)])
    table.add(0xFFFFFFF0, edges)
    assert table.lookup(edges) == {0xFFFFFFF0: 4}
    assert table.lookup(np.asarray([2, 3], dtype=np.uint32)) == {1: 2}

"""Banding: the same candidates as datasketch's MinHashLSH, and the recall the S-curve promises."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest
from datasketch import MinHashLSH

from portal_archive.dedup import MinHasher, band_keys, candidate_probability
from portal_archive.dedup.lsh import check_banding

RNG_SEED = 11


def random_set(rng: np.random.Generator, size: int) -> np.ndarray:
    return np.unique(rng.integers(0, 2**32, size, dtype=np.uint64).astype(np.uint32))


def pair_at(rng: np.random.Generator, jaccard: float, size: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """Two sets of ``size`` elements whose Jaccard similarity is ``jaccard`` (to 1/size)."""
    shared = round(2 * size * jaccard / (1 + jaccard))
    pool = random_set(rng, 2 * size * 2)[: 2 * size - shared]
    rng.shuffle(pool)
    common, rest = pool[:shared], pool[shared:]
    first = np.sort(np.concatenate([common, rest[: size - shared]]))
    second = np.sort(np.concatenate([common, rest[size - shared :]]))
    return first, second


def share_a_band(keys: np.ndarray) -> bool:
    return bool(np.any(keys[0] == keys[1]))


def recall_at(jaccard: float, bands: int, rows: int, pairs: int = 400) -> float:
    rng = np.random.default_rng(RNG_SEED)
    sets = [s for _ in range(pairs) for s in pair_at(rng, jaccard)]
    keys = band_keys(MinHasher().signatures(sets), bands, rows)
    return sum(share_a_band(keys[2 * i : 2 * i + 2]) for i in range(pairs)) / pairs


def test_pairs_at_the_threshold_are_all_candidates() -> None:
    assert recall_at(0.7, 32, 3) == 1.0
    assert recall_at(0.6, 32, 3) >= 0.99


@pytest.mark.parametrize("bands", [32, 40])
def test_low_jaccard_excerpts_are_mostly_candidates_with_bands_of_3(bands: int) -> None:
    # An excerpt of 45 % of a text has J ~ 0.4 yet containment ~ 1: three rows per band find it
    # where the (32, 4) of notes/dedup.md often does not.
    assert recall_at(0.5, bands, 3) >= 0.97
    at_04 = recall_at(0.4, bands, 3)
    assert abs(at_04 - candidate_probability(0.4, bands, 3)) < 0.05
    assert at_04 > recall_at(0.4, 32, 4) + 0.2


def test_unrelated_texts_are_rarely_candidates() -> None:
    rng = np.random.default_rng(RNG_SEED)
    sets = [random_set(rng, 1000) for _ in range(400)]
    keys = band_keys(MinHasher().signatures(sets), 32, 3)
    colliding = sum(share_a_band(keys[i : i + 2]) for i in range(0, 400, 2))
    assert colliding == 0


def test_candidate_probability_is_the_s_curve() -> None:
    assert candidate_probability(0.7, 40, 3) == pytest.approx(1 - (1 - 0.7**3) ** 40)
    assert candidate_probability(0.0, 40, 3) == 0.0
    assert candidate_probability(1.0, 40, 3) == 1.0
    assert candidate_probability(0.7, 14, 9) < 0.5  # datasketch's "optimal" (b, r) for t = 0.7


def test_same_candidates_as_datasketch_minhashlsh() -> None:
    rng = np.random.default_rng(RNG_SEED)
    sets: list[np.ndarray] = []
    for jaccard in (0.3, 0.45, 0.6, 0.8, 0.95):
        for _ in range(6):
            sets.extend(pair_at(rng, jaccard, size=400))
    sets.extend(random_set(rng, 400) for _ in range(20))
    hasher = MinHasher()
    signatures = hasher.signatures(sets)
    keys = band_keys(signatures, 40, 3)
    buckets: defaultdict[tuple[int, int], set[int]] = defaultdict(set)
    for doc, row in enumerate(keys.tolist()):
        for band, key in enumerate(row):
            buckets[(band, key)].add(doc)
    lsh = MinHashLSH(num_perm=128, params=(40, 3))
    for doc, signature in enumerate(signatures):
        lsh.insert(doc, hasher.lean_minhash(signature))
    for doc, signature in enumerate(signatures):
        ours = set().union(*(buckets[(band, key)] for band, key in enumerate(keys[doc].tolist())))
        assert ours == set(lsh.query(hasher.lean_minhash(signature))), doc


def test_band_keys_shape_and_type() -> None:
    signatures = MinHasher().signatures([random_set(np.random.default_rng(1), 50) for _ in range(3)])
    assert band_keys(signatures, 40, 3).shape == (3, 40)
    assert band_keys(signatures, 40, 3).dtype == np.int32
    assert band_keys(signatures[0], 32, 4).shape == (32,)


@pytest.mark.parametrize(("bands", "rows"), [(43, 3), (0, 3), (40, 0)])
def test_banding_must_fit_the_signature(bands: int, rows: int) -> None:
    with pytest.raises(ValueError, match="bands"):
        check_banding(128, bands, rows)

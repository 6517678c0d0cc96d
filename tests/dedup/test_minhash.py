"""Shingle hashes and MinHash signatures equal datasketch's, bit for bit, for the same shingles and seed."""

from __future__ import annotations

import numpy as np
import pytest
from datasketch import LeanMinHash, MinHash

from portal_archive.dedup import (
    MinHasher,
    estimate_jaccard,
    normalized_codepoints,
    prepare_text,
    shingle_hash,
    shingle_hashes,
    shingles,
)
from portal_archive.dedup.minhash import EMPTY_VALUE, SCHEME
from tests.dedup.test_texts import ASTRONOMY, LIBRARY, TEMPLATE_A, library_copy


def normalized(text: str) -> str:
    return prepare_text(text).normalized


@pytest.mark.parametrize("size", [1, 3, 5, 7])
def test_vector_shingle_hashes_equal_the_scalar_hash(size: int) -> None:
    text = normalized(LIBRARY)
    expected = sorted({shingle_hash(gram) for gram in shingles(text, size)})
    assert shingle_hashes(normalized_codepoints(text), size).tolist() == expected


def test_short_text_is_one_shingle_and_empty_text_none() -> None:
    assert shingles("图书馆", 5) == ["图书馆"]
    assert shingle_hashes(normalized_codepoints("图书馆"), 5).tolist() == [shingle_hash("图书馆")]
    assert shingle_hashes(normalized_codepoints(""), 5).size == 0
    with pytest.raises(ValueError, match="at least 1"):
        shingle_hashes(normalized_codepoints("abc"), 0)


@pytest.mark.parametrize(("num_perm", "seed"), [(128, 1), (128, 42), (64, 7), (256, 1)])
def test_signatures_equal_datasketch_update(num_perm: int, seed: int) -> None:
    hasher = MinHasher(num_perm=num_perm, seed=seed)
    for text in (LIBRARY, ASTRONOMY, library_copy(), TEMPLATE_A):
        grams = shingles(normalized(text), 5)
        reference = MinHash(num_perm=num_perm, seed=seed, hashfunc=shingle_hash)
        for gram in grams:
            reference.update(gram)
        ours = hasher.signature(shingle_hashes(normalized_codepoints(normalized(text)), 5))
        assert ours.dtype == np.uint32
        assert np.array_equal(ours, reference.digest())


def test_batched_signatures_equal_datasketch_update_batch_and_single_signatures() -> None:
    texts = [LIBRARY, ASTRONOMY, library_copy(), TEMPLATE_A, ""]
    sets = [shingle_hashes(prepare_text(text).codepoints, 5) for text in texts]
    hasher = MinHasher()
    batch = hasher.signatures(sets)
    for row, text in enumerate(texts):
        reference = MinHash(num_perm=128, seed=1, hashfunc=shingle_hash)
        reference.update_batch(shingles(normalized(text), 5))
        assert np.array_equal(batch[row], reference.digest())
        assert np.array_equal(batch[row], hasher.signature(sets[row]))


def test_empty_set_signature_is_datasketchs_empty_minhash() -> None:
    signature = MinHasher().signature(np.zeros(0, dtype=np.uint32))
    assert np.all(signature == EMPTY_VALUE)
    assert MinHash(num_perm=128, hashvalues=signature, scheme=SCHEME).is_empty()


def test_signatures_work_with_datasketch_objects() -> None:
    hasher = MinHasher()
    first = hasher.lean_minhash(hasher.signature(shingle_hashes(prepare_text(LIBRARY).codepoints)))
    second = hasher.lean_minhash(hasher.signature(shingle_hashes(prepare_text(library_copy()).codepoints)))
    assert isinstance(first, LeanMinHash)
    assert first.scheme == "affine32"
    assert first.jaccard(second) == estimate_jaccard(first.hashvalues, second.hashvalues)
    assert 0.7 < first.jaccard(second) <= 1.0
    with pytest.raises(ValueError, match="128 values"):
        hasher.lean_minhash(np.zeros(5, dtype=np.uint32))


def test_estimate_is_close_to_exact_jaccard() -> None:
    rng = np.random.default_rng(3)
    shared = rng.integers(0, 2**32, 1400, dtype=np.uint64).astype(np.uint32)
    first = np.unique(np.concatenate([shared, rng.integers(0, 2**32, 300, dtype=np.uint64).astype(np.uint32)]))
    second = np.unique(np.concatenate([shared, rng.integers(0, 2**32, 300, dtype=np.uint64).astype(np.uint32)]))
    exact = np.intersect1d(first, second).size / np.union1d(first, second).size
    signatures = MinHasher().signatures([first, second])
    # Standard error sqrt(J(1-J)/128) ~ 0.04: allow three of them.
    assert abs(estimate_jaccard(signatures[0], signatures[1]) - exact) < 0.12
    with pytest.raises(ValueError, match="differ in length"):
        estimate_jaccard(signatures[0], signatures[1][:64])


def test_num_perm_must_be_positive() -> None:
    with pytest.raises(ValueError, match="num_perm"):
        MinHasher(num_perm=0)


def test_a_narrow_signature_is_the_first_columns_of_the_full_one() -> None:
    """The engine computes only the banded values; they must equal the full signature's."""
    hasher = MinHasher(num_perm=128, seed=1)
    rng = np.random.default_rng(3)
    small = [np.unique(rng.integers(0, 2**32, size=n, dtype=np.uint32)) for n in (0, 1, 7, 300)]
    large = [np.unique(rng.integers(0, 2**32, size=40_000, dtype=np.uint32)) for _ in range(3)]
    for sets in (small, large, small + large):
        full = hasher.signatures(sets)
        for width in (1, 5, 96, 128):
            assert np.array_equal(hasher.signatures(sets, width), full[:, :width])
    with pytest.raises(ValueError, match="width"):
        hasher.signatures(small, 0)
    with pytest.raises(ValueError, match="width"):
        hasher.signatures(small, 129)

"""The copy rule (Jaccard, containment for excerpts, short-text strictness, minimum length) and the
verification sketches that feed it."""

from __future__ import annotations

import numpy as np
import pytest

from portal_archive.dedup import CopyRule, Similarity, make_sketch, prepare_text, shingle_hashes
from portal_archive.dedup.sketch import ExactShingleSet, OnePermutationSketch, VerificationSketch
from tests.dedup.test_texts import ASTRONOMY, LIBRARY, TEMPLATE_A, TEMPLATE_B, library_copy, library_excerpt

RULE = CopyRule()


@pytest.mark.parametrize(
    ("jaccard", "containment", "first", "second", "expected"),
    [
        (0.70, 0.82, 3000, 3000, "copy"),  # Jaccard reaches the threshold
        (0.69, 0.79, 3000, 3000, None),
        (0.45, 0.95, 1400, 3000, "excerpt"),  # shorter text mostly inside the longer
        (0.45, 0.79, 1400, 3000, None),
        (0.30, 0.80, 300, 3000, "excerpt"),  # 300 normalised characters is enough for containment
        (0.30, 0.99, 299, 3000, None),  # under 300 only Jaccard counts...
        (0.80, 0.99, 299, 320, None),  # ...and it must reach 0.85
        (0.85, 0.99, 120, 130, "copy"),
        (0.99, 1.00, 49, 49, None),  # under the minimum length nothing is a copy
    ],
)
def test_copy_rule(jaccard: float, containment: float, first: int, second: int, expected: str | None) -> None:
    assert RULE.judge(jaccard, containment, first, second) == expected
    assert RULE.judge(jaccard, containment, second, first) == expected


def test_thresholds_are_parameters() -> None:
    strict = CopyRule(threshold=0.9, containment=0.95, containment_min_chars=500, short_threshold=0.95, min_chars=10)
    assert strict.judge(0.85, 0.9, 3000, 3000) is None
    assert strict.judge(0.5, 0.96, 600, 3000) == "excerpt"
    assert strict.judge(0.5, 0.96, 400, 3000) is None
    assert strict.judge(0.96, 0.99, 20, 20) == "copy"
    assert strict.indexable(10) and not strict.indexable(9)


@pytest.mark.parametrize("field", ["threshold", "containment", "short_threshold"])
def test_thresholds_must_be_shares(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        CopyRule(**{field: 1.5})  # type: ignore[arg-type]


def test_similarity_from_intersection() -> None:
    similarity = Similarity.from_intersection(600, 1000, 700, exact=True)
    assert similarity.jaccard == pytest.approx(600 / 1100)
    assert similarity.containment == pytest.approx(600 / 700)
    assert Similarity.from_intersection(0, 0, 0, exact=True).jaccard == 0.0


def hashes(text: str) -> np.ndarray:
    return shingle_hashes(prepare_text(text).codepoints)


def exact_similarity(first: np.ndarray, second: np.ndarray) -> Similarity:
    shared = np.intersect1d(first, second).size
    return Similarity.from_intersection(shared, first.size, second.size, exact=True)


def test_exact_sketch_round_trips_and_counts_exactly() -> None:
    sketch = make_sketch("exact")
    original, copy = hashes(LIBRARY), hashes(library_copy())
    assert np.array_equal(sketch.decode(sketch.encode(sketch.load(original))), original)
    shared = sketch.intersection(sketch.load(original), original.size, sketch.decode(sketch.encode(copy)), copy.size)
    assert shared == np.intersect1d(original, copy).size


@pytest.mark.parametrize(("bins", "bits"), [(2048, 2), (1024, 4), (512, 8)])
def test_one_permutation_sketch_estimates_within_a_few_points(bins: int, bits: int) -> None:
    sketch = OnePermutationSketch(bins=bins, bits=bits)
    assert len(sketch.encode(sketch.load(hashes(LIBRARY)))) == bins * bits // 8
    for first_text, second_text in [
        (LIBRARY, library_copy()),
        (LIBRARY, library_excerpt()),
        (LIBRARY, ASTRONOMY),
        (TEMPLATE_A, TEMPLATE_B),
    ]:
        first, second = hashes(first_text), hashes(second_text)
        stored = sketch.decode(sketch.encode(sketch.load(second)))
        estimate = Similarity.from_intersection(
            sketch.intersection(sketch.load(first), first.size, stored, second.size),
            first.size,
            second.size,
            exact=False,
        )
        truth = exact_similarity(first, second)
        assert abs(estimate.jaccard - truth.jaccard) < 0.05, (first_text[:10], second_text[:10])
        assert abs(estimate.containment - truth.containment) < 0.05


def test_fixture_pairs_are_judged_as_expected() -> None:
    library = hashes(LIBRARY)
    copy, excerpt = (
        exact_similarity(library, hashes(library_copy())),
        exact_similarity(library, hashes(library_excerpt())),
    )
    chars = prepare_text(LIBRARY).length
    assert RULE.judge(copy.jaccard, copy.containment, chars, prepare_text(library_copy()).length) == "copy"
    assert excerpt.jaccard < 0.7
    assert RULE.judge(excerpt.jaccard, excerpt.containment, chars, prepare_text(library_excerpt()).length) == "excerpt"
    template = exact_similarity(hashes(TEMPLATE_A), hashes(TEMPLATE_B))
    assert 0.7 <= template.jaccard < 0.85  # much shared wording, different stories
    short = prepare_text(TEMPLATE_A).length
    assert RULE.judge(template.jaccard, template.containment, short, short) is None


def test_sketch_parameters_are_validated() -> None:
    with pytest.raises(ValueError, match="power of two"):
        OnePermutationSketch(bins=1000)
    with pytest.raises(ValueError, match="bits"):
        OnePermutationSketch(bits=3)
    with pytest.raises(ValueError, match="unknown verification sketch"):
        make_sketch("bloom")
    with pytest.raises(ValueError, match="does not hold"):
        OnePermutationSketch().decode(b"\x00" * 10)
    with pytest.raises(ValueError, match="does not hold"):
        OnePermutationSketch().decode(bytes(1024))  # two sketches' worth is not one sketch
    with pytest.raises(ValueError, match="do not hold"):
        OnePermutationSketch().intersections([bytes(256), bytes(256)], [10, 10], [bytes(256), bytes(255)], [1, 1])
    with pytest.raises(ValueError, match="one each"):
        OnePermutationSketch().intersections([bytes(256)], [10], [bytes(256), bytes(256)], [1, 1])
    assert ExactShingleSet().parameters() == {"verify": "exact"}


@pytest.mark.parametrize("sketch", [OnePermutationSketch(), OnePermutationSketch(bins=512, bits=4), ExactShingleSet()])
def test_intersections_of_many_pairs_equal_each_pair_s(sketch: VerificationSketch) -> None:
    rng = np.random.default_rng(5)
    base = np.unique(rng.integers(0, 2**32, 3000, dtype=np.uint64).astype(np.uint32))
    others = [
        np.unique(
            np.concatenate([base[: int(base.size * share)], rng.integers(0, 2**32, 900, dtype=np.uint64)]).astype(
                np.uint32
            )
        )
        for share in (0.0, 0.3, 0.8, 1.0)
    ] + [np.zeros(0, dtype=np.uint32)]
    loaded = sketch.load(base)
    mine = sketch.encode(loaded)
    blobs = [sketch.encode(sketch.load(other)) for other in others]
    sizes = [int(other.size) for other in others]
    expected = [sketch.intersection(loaded, base.size, sketch.decode(b), n) for b, n in zip(blobs, sizes, strict=True)]
    count = len(blobs)
    assert sketch.intersections([mine] * count, [base.size] * count, blobs, sizes).tolist() == expected
    # Fixed-size sketches held in memory come as the rows of one array: the same values.
    rows = np.stack([np.frombuffer(blob, dtype=np.uint8) for blob in blobs]) if not sketch.exact else blobs
    assert sketch.intersections([mine] * count, np.full(count, base.size), rows, np.asarray(sizes)).tolist() == expected
    assert sketch.intersections([], [], [], []).tolist() == []
    assert expected[0] < expected[1] < expected[2] < expected[3]
    # Pairs of different documents: each pair's value, in its place.
    firsts, seconds = [*blobs[:4], mine, blobs[2]], [mine] * 4 + [blobs[3], blobs[1]]
    first_sizes, second_sizes = [*sizes[:4], base.size, sizes[2]], [base.size] * 4 + [sizes[3], sizes[1]]
    swapped = [
        sketch.intersection(sketch.decode(a), m, sketch.decode(b), n)
        for a, m, b, n in zip(firsts, first_sizes, seconds, second_sizes, strict=True)
    ]
    assert sketch.intersections(firsts, first_sizes, seconds, second_sizes).tolist() == swapped
    assert swapped[:5] == [*expected[:4], expected[3]]  # either way round: the same value


def test_estimates_are_the_one_pair_formula_bit_for_bit() -> None:
    """Verdicts compare estimates with thresholds: each must be the float the one-pair formula
    (Python floats, one rounding per operation) gives, or a pair at the edge could be judged
    differently by another path."""
    sketch = OnePermutationSketch(bits=2)  # the default of the settings
    chance = 1.0 / 3.0
    assert sketch._chance == chance

    def formula(first_size: int, union: int, shared_codes: int, agreed: int, second_size: int) -> float:
        if union == 0:
            return 0.0
        shared_bins = (agreed - chance * shared_codes) / (1.0 - chance)
        jaccard = min(1.0, max(0.0, shared_bins / union))
        return jaccard * (first_size + second_size) / (1.0 + jaccard)

    rng = np.random.default_rng(11)
    union = rng.integers(0, 1025, 20_000)
    shared_codes = (union * rng.random(20_000)).astype(np.int64)
    agreed = (shared_codes * rng.random(20_000)).astype(np.int64)
    sizes = rng.integers(0, 20_000, 20_000)
    counts = np.stack([union, shared_codes, agreed], axis=1)
    got = sketch._estimates(2_987, counts, sizes).tolist()
    assert got == [formula(2_987, *map(int, row), int(size)) for row, size in zip(counts, sizes, strict=True)]
    with pytest.raises(ValueError, match="set sizes"):
        sketch._estimates(2_987, counts, sizes[:3])


def test_similarities_on_arrays_are_those_of_one_pair_bit_for_bit() -> None:
    rng = np.random.default_rng(11)
    sizes = rng.integers(0, 20_000, 5000)
    shared = np.minimum(sizes, 2_987) * rng.random(5000)
    jaccard, containment = Similarity.of_many(shared, 2_987, sizes)
    pairs = [
        Similarity.from_intersection(float(value), 2_987, int(size), exact=False)
        for value, size in zip(shared, sizes, strict=True)
    ]
    assert jaccard.tolist() == [pair.jaccard for pair in pairs]
    assert containment.tolist() == [pair.containment for pair in pairs]


def test_may_match_keeps_every_pair_the_rule_accepts() -> None:
    rng = np.random.default_rng(3)
    rule = CopyRule()
    jaccard, containment = rng.random(20_000), rng.random(20_000)
    lengths = rng.integers(0, 2_000, (20_000, 2))
    kept = rule.may_match(jaccard, containment)
    accepted = [
        rule.judge(float(j), float(c), int(a), int(b)) is not None
        for j, c, (a, b) in zip(jaccard, containment, lengths, strict=True)
    ]
    assert all(kept[accepted])
    assert 0 < sum(accepted) < kept.sum() < kept.size  # a superset, and still a filter

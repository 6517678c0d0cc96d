"""The compiled loops give the values of their numpy definitions (the ones they replaced), on texts
of every length, extreme code points and hash values included."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from portal_archive.dedup.kernels import (
    code_counts,
    distinct,
    holders,
    mapped_codepoints,
    min_permuted,
    packed_codes,
    smallest_codes,
    window_hashes,
)
from portal_archive.dedup.minhash import affine32_permutations, fmix32
from portal_archive.dedup.shingles import _FMIX64_1, _FMIX64_2, _POLY, fmix64, shingle_hash


def numpy_window_hashes(codepoints: npt.NDArray[np.uint32], width: int) -> npt.NDArray[np.uint32]:
    windows = codepoints.size - width + 1
    points = codepoints.astype(np.uint64)
    rolling = points[:windows].copy()
    for offset in range(1, width):
        rolling *= np.uint64(_POLY)
        rolling += points[offset : offset + windows]
    return (fmix64(rolling) >> np.uint64(32)).astype(np.uint32)


def numpy_smallest_codes(hashes: npt.NDArray[np.uint32], bins: int, bits: int) -> npt.NDArray[np.uint8]:
    codes = np.zeros(bins, dtype=np.uint8)
    shift = np.uint32(32 - bins.bit_length() + 1)
    ranges = hashes >> shift
    first = np.concatenate([[True], ranges[1:] != ranges[:-1]])
    smallest = hashes[first]
    codes[smallest >> shift] = (smallest % np.uint32((1 << bits) - 1)).astype(np.uint8) + np.uint8(1)
    return codes


@pytest.mark.parametrize("length", [1, 4, 5, 6, 300, 5000])
def test_window_hashes_are_the_polynomial_hash_of_every_window(length: int) -> None:
    rng = np.random.default_rng(length)
    codepoints = rng.integers(0, 0x110000, length).astype(np.uint32)
    codepoints[:2] = [0, 0x10FFFF][: min(2, length)]
    width = min(5, length)
    found = window_hashes(codepoints, width, _POLY, _FMIX64_1, _FMIX64_2)
    assert np.array_equal(found, numpy_window_hashes(codepoints, width))
    text = codepoints.astype("<u4").tobytes().decode("utf-32-le", "surrogatepass")
    assert int(found[-1]) == shingle_hash(text[-width:])


@pytest.mark.parametrize("size", [0, 1, 2, 3000])
def test_distinct_is_numpys_unique_of_sorted_hashes(size: int) -> None:
    rng = np.random.default_rng(size)
    hashes = np.sort(rng.integers(0, 40, size).astype(np.uint32) * np.uint32(100_000_000))
    assert np.array_equal(distinct(hashes), np.unique(hashes))


@pytest.mark.parametrize(("bins", "bits"), [(1024, 2), (512, 4), (1024, 4), (8, 8)])
def test_smallest_codes_are_the_one_permutation_sketch(bins: int, bits: int) -> None:
    rng = np.random.default_rng(bins)
    for size in (1, 10, 3000):
        hashes = np.unique(rng.integers(0, 2**32, size).astype(np.uint32))
        hashes[-1] = 0xFFFFFFFF
        found = smallest_codes(hashes, bins, 32 - bins.bit_length() + 1, (1 << bits) - 1)
        assert np.array_equal(found, numpy_smallest_codes(hashes, bins, bits))


def numpy_packed_codes(codes: npt.NDArray[np.uint8], bits: int) -> npt.NDArray[np.uint8]:
    columns = codes.reshape(-1, 8 // bits)
    packed = columns[:, 0].copy()
    for column in range(1, 8 // bits):
        packed |= columns[:, column] << np.uint8(column * bits)
    return packed


def numpy_code_counts(mine: npt.NDArray[np.uint8], stored: npt.NDArray[np.uint8], bits: int) -> list[list[int]]:
    def unpacked(packed: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        shifts = np.arange(8 // bits, dtype=np.uint8) * np.uint8(bits)
        return ((packed[:, None] >> shifts) & np.uint8((1 << bits) - 1)).reshape(-1)

    first = unpacked(mine)
    counts = []
    for row in stored.reshape(-1, mine.size):
        second = unpacked(row)
        present_first, present_second = first != 0, second != 0
        counts.append(
            [
                int(np.count_nonzero(present_first | present_second)),
                int(np.count_nonzero(present_first & present_second)),
                int(np.count_nonzero((first == second) & present_first)),
            ]
        )
    return counts


@pytest.mark.parametrize(("bins", "bits"), [(1024, 2), (512, 4), (64, 8), (8, 2), (24, 4), (8, 8)])
def test_code_counts_and_packing_are_their_numpy_definitions(bins: int, bits: int) -> None:
    rng = np.random.default_rng(bins + bits)
    first = rng.integers(0, 1 << bits, bins).astype(np.uint8)
    first[rng.random(bins) < 0.3] = 0
    others = [rng.integers(0, 1 << bits, bins).astype(np.uint8) for _ in range(7)]
    others[0][:] = 0  # empty
    others[1] = first.copy()  # the same
    others[2][rng.random(bins) < 0.6] = 0
    others[3][:] = (1 << bits) - 1  # every bit set
    mine = packed_codes(first, bits)
    assert np.array_equal(mine, numpy_packed_codes(first, bits))
    stored = np.concatenate([packed_codes(other, bits) for other in others])
    readonly = np.frombuffer(stored.tobytes(), dtype=np.uint8)  # as blobs come from the index
    assert code_counts(mine, readonly, bits).tolist() == numpy_code_counts(mine, stored, bits)
    assert code_counts(mine, stored.reshape(len(others), -1), bits).tolist() == numpy_code_counts(mine, stored, bits)
    # One sketch per stored one (pairs): each row against its own.
    firsts = np.stack([packed_codes(other, bits) for other in reversed(others)])
    pairs = zip(firsts, stored.reshape(len(others), -1), strict=True)
    expected = [numpy_code_counts(first, row, bits)[0] for first, row in pairs]
    assert code_counts(firsts, readonly, bits).tolist() == expected
    with pytest.raises(ValueError, match="one each"):
        code_counts(firsts[:2], readonly, bits)


def test_min_permuted_is_the_minimum_of_each_affine_permutation_of_the_mixed_hashes() -> None:
    a, b = affine32_permutations(96, 1)
    rng = np.random.default_rng(3)
    sets = [rng.integers(0, 2**32, size).astype(np.uint32) for size in (1, 7, 3000)]
    starts = np.cumsum([0, *(s.size for s in sets)]).astype(np.intp)
    result = np.full((4, 96), 0xFFFFFFFF, dtype=np.uint32)
    min_permuted(np.concatenate(sets), starts, np.asarray([0, 2, 3], dtype=np.intp), a, b, result)
    for row, hashes in zip((0, 2, 3), sets, strict=True):
        expected = ((fmix32(hashes)[:, None].astype(np.uint64) * a + b) & 0xFFFFFFFF).min(axis=0)
        assert np.array_equal(result[row], expected.astype(np.uint32))
    assert (result[1] == 0xFFFFFFFF).all()  # a row not asked for is left alone


@pytest.mark.parametrize("length", [1, 2, 3000])
def test_mapped_codepoints_are_the_table_look_up_without_zeros_and_with_every_flag_seen(length: int) -> None:
    rng = np.random.default_rng(length)
    table = rng.integers(0, 0x110000, 0x110000).astype(np.uint32)
    table[rng.integers(0, 0x110000, 0x40000)] = 0
    codepoints = rng.integers(0, 0x110000, length).astype(np.uint32)
    codepoints[:2] = [0x10FFFF, 0][: min(2, length)]
    table[0x10FFFF] = 1 << 30
    for flag in (0, 1 << 31):
        table[codepoints[-1]] |= flag
        readonly = np.frombuffer(codepoints.tobytes(), dtype="<u4")  # as a text's come
        kept, seen = mapped_codepoints(readonly, table)
        looked_up = table.take(codepoints)
        assert np.array_equal(kept, looked_up[looked_up != 0])
        assert seen == int(np.bitwise_or.reduce(looked_up))
        assert seen & flag == flag and seen & (1 << 30)


def test_holders_reads_the_bucket_of_each_key() -> None:
    keys = np.asarray([5, 5, 9, 0xFFFFFFFF], dtype=np.uint64)
    entries = np.sort((keys << np.uint64(32)) | np.asarray([1, 2, 3, 4], dtype=np.uint64))
    shift = 64 - 2
    offsets = np.zeros(5, dtype=np.uint32)
    np.cumsum(np.bincount((entries >> np.uint64(shift)).astype(np.intp), minlength=4), out=offsets[1:])
    assert sorted(holders(entries, offsets, shift, np.asarray([5, 0xFFFFFFFF, 6], dtype=np.uint32))) == [1, 2, 4]
    assert holders(entries, offsets, shift, np.asarray([7], dtype=np.uint32)).size == 0


def test_warm_up_compiles_every_loop_for_the_arguments_the_engine_gives(tmp_path: Path) -> None:
    from portal_archive.dedup import DedupConfig, DedupEngine, kernels
    from tests.dedup_redis_corpus import corpus

    compiled = [kernels._min_permuted, kernels._holders, kernels._window_hashes, kernels._smallest_codes,
                kernels._code_counts, kernels._mapped_codepoints, kernels._distinct, kernels._packed_codes]  # fmt: skip
    with DedupEngine.open(DedupConfig(index_path=tmp_path / "dedup.sqlite")) as engine:
        engine.warm_up()
        before = [len(function.signatures) for function in compiled]
        verdicts = engine.add_many(corpus(40), commit=True)
        engine.add_many(corpus(40)[:4], commit=True)
    assert any(verdict.matches for verdict in verdicts)  # candidates were compared, not only signed
    assert [len(function.signatures) for function in compiled] == before  # nothing left to compile mid-crawl

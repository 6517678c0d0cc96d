"""Content codings of archived bodies: every coding a browser sends decoded, in bounded steps, or said."""

from __future__ import annotations

import gzip
import io
import random
import zlib

import brotli
import pytest

from portal_archive.warc.codings import CodingError, content_codings, decoding_stream

try:
    from compression import zstd  # type: ignore[import-not-found, unused-ignore]
except ImportError:
    from backports import zstd  # type: ignore[no-redef, unused-ignore]

TEXT = "".join(random.Random(7).choices("城中村快递驿站夫妻连轴转腊月包裹堆成山，。", k=20_000)).encode("utf-8")
"""60 KB that compresses to some 10 KB: large enough to be cut and broken in the middle."""


def decoded(body: bytes, header: str) -> bytes:
    return decoding_stream(io.BytesIO(body), header).read()


def raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


@pytest.mark.parametrize(
    ("header", "encode"),
    [
        ("gzip", lambda d: gzip.compress(d, mtime=0)),
        ("x-gzip", lambda d: gzip.compress(d, mtime=0)),
        ("GZIP", lambda d: gzip.compress(d, mtime=0)),
        ("deflate", zlib.compress),
        ("deflate", raw_deflate),
        ("br", brotli.compress),
        ("zstd", lambda d: zstd.compress(d)),
        ("identity", lambda d: d),
        ("", lambda d: d),
    ],
)
def test_every_coding_a_browser_sends_is_decoded(header: str, encode: object) -> None:
    assert callable(encode)
    assert decoded(encode(TEXT), header) == TEXT


def test_codings_are_removed_last_applied_first() -> None:
    body = brotli.compress(gzip.compress(TEXT, mtime=0))
    assert content_codings("gzip, br") == ["gzip", "br"]
    assert decoded(body, "gzip, br") == TEXT


def test_gzip_of_several_members_is_read_to_the_end() -> None:
    body = gzip.compress(TEXT[:5000], mtime=0) + gzip.compress(TEXT[5000:], mtime=0)
    assert decoded(body, "gzip") == TEXT


def test_a_body_stored_decoded_under_its_coding_header_reads_as_stored() -> None:
    stream = decoding_stream(io.BytesIO(TEXT), "gzip")
    assert stream.read() == TEXT


def test_an_unknown_coding_is_said_not_guessed() -> None:
    with pytest.raises(CodingError, match=r"'compress' is not decoded"):
        decoding_stream(io.BytesIO(TEXT), "compress")


def test_a_coding_broken_after_its_first_bytes_is_an_error_with_the_reason() -> None:
    body = gzip.compress(TEXT, mtime=0)
    broken = body[:2000] + bytes(b ^ 0xFF for b in body[2000:4000]) + body[4000:]
    with pytest.raises(CodingError, match=r"gzip data broken after \d+ decoded bytes"):
        decoded(broken, "gzip")


def _bomb(header: str) -> bytes:
    """256 MiB of zeros in ``header``'s coding: a few hundred KB stored."""
    zeros = bytes(256 * 1024 * 1024)
    if header == "gzip":
        return gzip.compress(zeros, 9, mtime=0)
    if header == "br":
        return bytes(brotli.compress(zeros))
    return bytes(zstd.compress(zeros))


@pytest.mark.parametrize("header", ["gzip", "br", "zstd"])
def test_a_compression_bomb_is_read_in_bounded_steps(header: str) -> None:
    body = _bomb(header)
    assert len(body) < 256 * 1024 * 1024 // 500
    stream = decoding_stream(io.BytesIO(body), header)
    assert stream.read(100_000) == bytes(100_000)
    assert len(stream.raw._output) <= 64 * 1024  # type: ignore[attr-defined]  # one step, not the whole body

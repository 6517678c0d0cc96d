"""Property tests for the archive: the checker reads any bytes without raising, and whatever a site
sends (header bytes, codings, lengths, cut bodies) the writer turns into records the checker passes."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal_archive.warc.check import WarcChecker
from portal_archive.warc.records import HttpExchange
from portal_archive.warc.writer import RotatingWarcWriter
from tests.conftest import counting_ids, fixed_clock

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
GBK = "<html><body><p>人民日报 GBK</p></body></html>".encode("gbk")


def write_exchanges(path: Path, exchanges: list[HttpExchange], *, gzip_level: int) -> Path:
    writer = RotatingWarcWriter(
        directory=path, prefix="prop", gzip_level=gzip_level, warcinfo=[("software", "property-test")],
        host="test", clock=fixed_clock(), new_id=counting_ids(),
    )  # fmt: skip
    for exchange in exchanges:
        writer.write_exchange(exchange)
    final = writer.close()
    assert final is not None
    return final


SAMPLE = [
    HttpExchange(url="http://e.test/", status=200, response_headers=[(b"Content-Type", b"text/html")], body=b"<p/>"),
    HttpExchange(url="http://e.test/gbk", status=200, response_headers=[(b"X-Source", "新华".encode("gbk"))], body=GBK),
    HttpExchange(url="http://e.test/old", status=301, response_headers=[(b"Location", b"/")]),
    HttpExchange(url="http://e.test/cut", status=200, response_headers=[(b"Content-Length", b"999")], body=b"<p>cu",
                 truncated="disconnect"),
]  # fmt: skip


@pytest.fixture(scope="module")
def valid_files() -> Iterator[dict[str, bytes]]:
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        for level, name in ((6, "gz"), (0, "plain")):
            path = write_exchanges(Path(tmp) / name, SAMPLE, gzip_level=level)
            assert WarcChecker(path).run() == []
            files[path.name] = path.read_bytes()
        yield files


def check_bytes(data: bytes, name: str) -> list[object]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        checker = WarcChecker(path)
        problems = checker.run()
    assert isinstance(problems, list)
    return list(problems)


@FAST
@given(st.binary(max_size=2048), st.sampled_from(["x.warc.gz", "x.warc"]))
def test_random_bytes_are_reported_not_raised(data: bytes, name: str) -> None:
    assert check_bytes(data, name)  # never a valid WARC, so always at least one problem


@FAST
@given(
    st.data(),
    st.lists(st.tuples(st.integers(min_value=0), st.integers(min_value=0, max_value=255)), max_size=8),
    st.one_of(st.none(), st.integers(min_value=0)),
)
def test_mutated_archives_are_reported_not_raised(
    valid_files: dict[str, bytes], data: st.DataObject, flips: list[tuple[int, int]], cut: int | None
) -> None:
    name = data.draw(st.sampled_from(sorted(valid_files)))
    mutated = bytearray(valid_files[name])
    for position, value in flips:
        mutated[position % len(mutated)] = value
    if cut is not None:
        del mutated[cut % len(mutated) :]
    check_bytes(bytes(mutated), name)


@FAST
@given(st.data())
def test_mutated_plain_record_headers_are_reported_not_raised(
    valid_files: dict[str, bytes], data: st.DataObject
) -> None:
    """Edit the text of an uncompressed file's header lines: lengths, dates, ids, versions."""
    name = next(n for n in valid_files if not n.endswith(".gz"))
    text = valid_files[name]
    needle = data.draw(st.sampled_from([b"Content-Length: ", b"WARC-Date: ", b"WARC/1.1", b"WARC-Type: ", b"HTTP/1.1 ",
                                        b"WARC-Block-Digest: sha1:", b"\r\n\r\n"]))  # fmt: skip
    replacement = data.draw(st.sampled_from([b"", b"-1", b"99999999999999999999", b"\xff\xfe", b"\r\n", b"abc", b"0"]))
    check_bytes(text.replace(needle, needle + replacement, data.draw(st.integers(min_value=1, max_value=3))), name)


token = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=12)
header_value = st.binary(max_size=40).map(lambda b: bytes(c for c in b if c not in (10, 13)))


@st.composite
def received_exchanges(draw: st.DrawFn) -> HttpExchange:
    """What Twisted can hand over: de-chunked entity, any header bytes but CR/LF, codings that may lie."""
    body = draw(st.one_of(st.binary(max_size=300), st.just(b"0\r\n\r\n"), st.just(b"\x1f\x8b\x08\x00junk")))
    headers = [(draw(token).encode(), draw(header_value)) for _ in range(draw(st.integers(0, 4)))]
    truncated = draw(st.sampled_from([None, "disconnect", "length"]))
    if draw(st.booleans()):
        headers.append((b"Content-Encoding", draw(st.sampled_from([b"gzip", b"x-gzip", b"br", b"identity", b"zstd"]))))
    if draw(st.booleans()):
        headers.append((b"Transfer-Encoding", b"chunked"))
    elif truncated:
        headers.append((b"Content-Length", str(len(body) + draw(st.integers(1, 10_000))).encode()))
    elif draw(st.booleans()):
        headers.append((b"Content-Length", str(len(body)).encode()))
    path = draw(st.text(max_size=12))
    return HttpExchange(
        url=f"http://{draw(st.sampled_from(['e.test', '新闻.test', 'e.test:8080']))}/{path}",
        status=draw(st.sampled_from([200, 206, 301, 404, 429, 500, 599, 999])),
        response_headers=headers,
        body=body,
        truncated=truncated,
    )


@FAST
@given(st.lists(received_exchanges(), min_size=1, max_size=4), st.sampled_from([0, 6]))
def test_whatever_a_site_sends_is_archived_conformantly(exchanges: list[HttpExchange], gzip_level: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = write_exchanges(Path(tmp), exchanges, gzip_level=gzip_level)
        assert [str(p) for p in WarcChecker(path).run()] == []

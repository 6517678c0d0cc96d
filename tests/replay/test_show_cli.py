"""``portal-archive show``: bytes exactly as archived, closest capture, text and metadata views."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from portal_archive.cli import main
from portal_archive.timestamps import parse_timestamp_prefix
from tests.replay_samples import (
    FLAKY_HTML,
    FLAKY_URL,
    GBK_HTML,
    GBK_PARAGRAPHS,
    GBK_TITLE,
    GBK_URL,
    GZIP_PLAIN,
    GZIP_TITLE,
    GZIP_URL,
    LIST_URL,
    write_sample_archive,
)


@pytest.fixture
def sample(tmp_path: Path) -> Any:
    return write_sample_archive(tmp_path / "archive")


def show(capsysbinary: pytest.CaptureFixture[bytes], *args: str) -> tuple[int, bytes, bytes]:
    code = main(["show", *args])
    captured = capsysbinary.readouterr()
    return code, captured.out, captured.err


def test_raw_gbk_page_is_returned_byte_for_byte(sample: Any, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    code, out, _ = show(capsysbinary, GBK_URL, "--raw", "--archive", str(sample.directory))
    assert code == 0
    assert out == GBK_HTML
    assert GBK_TITLE.encode("gbk") in out


def test_gzip_stays_gzip_unless_decoded(sample: Any, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    code, out, _ = show(capsysbinary, GZIP_URL, "--raw", "--archive", str(sample.directory))
    assert code == 0 and out.startswith(b"\x1f\x8b")
    code, out, _ = show(capsysbinary, GZIP_URL, "--raw", "--decode", "--archive", str(sample.directory))
    assert code == 0 and out == GZIP_PLAIN


def test_headers_keep_non_ascii_bytes(sample: Any, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    code, out, _ = show(capsysbinary, GBK_URL, "--headers", "--archive", str(sample.directory))
    assert code == 0
    assert out.startswith(b"HTTP/1.1 200 OK\r\n") and out.endswith(b"\r\n\r\n")
    assert b"X-Editor: " + "编辑".encode("gbk") + b"\r\n" in out


def test_revisit_prints_its_original_payload_and_at_picks_the_closest(
    sample: Any, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    first, second = sample.timestamp(FLAKY_URL, 0), sample.timestamp(FLAKY_URL, 1)
    code, out, _ = show(capsysbinary, FLAKY_URL, "--archive", str(sample.directory))
    lines = out.decode().splitlines()
    assert code == 0 and len(lines) == 2
    assert lines[0].startswith(f"  {first} 500 response") and lines[1].startswith(f"* {second} 500 revisit")
    code, out, _ = show(capsysbinary, FLAKY_URL, "--at", first, "--archive", str(sample.directory))
    assert out.decode().splitlines()[0].startswith("*")
    for at in (first, second, "2030"):
        code, out, _ = show(capsysbinary, FLAKY_URL, "--raw", "--at", at, "--archive", str(sample.directory))
        assert (code, out) == (0, FLAKY_HTML)


def test_text_comes_from_the_metadata_record_or_is_extracted(
    sample: Any, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    code, out, _ = show(capsysbinary, GBK_URL, "--text", "--archive", str(sample.directory))
    assert code == 0
    assert out.decode("utf-8") == GBK_TITLE + "\n\n" + "\n".join(GBK_PARAGRAPHS) + "\n"
    code, out, _ = show(capsysbinary, GZIP_URL, "--text", "--archive", str(sample.directory))
    assert code == 0
    assert out.decode("utf-8").startswith(GZIP_TITLE + "\n\n芯澜微电子")


def test_json_prints_the_stored_record(sample: Any, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    code, out, _ = show(capsysbinary, GBK_URL, "--json", "--archive", str(sample.directory))
    assert code == 0
    document = json.loads(out)
    assert document["capture"]["record_id"] == sample.record_ids[GBK_URL][0]
    assert document["article"]["title"] == GBK_TITLE
    code, out, err = show(capsysbinary, LIST_URL, "--json", "--archive", str(sample.directory))
    assert (code, out) == (1, b"")
    assert b"no article metadata record" in err


def test_not_archived_and_bad_input_exit_1_usage_exits_2(
    sample: Any, tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    code, out, err = show(capsysbinary, "http://news.example.cn/never", "--raw", "--archive", str(sample.directory))
    assert (code, out) == (1, b"")
    assert b"is not archived" in err
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = show(capsysbinary, GBK_URL, "--archive", str(empty))
    assert code == 1 and b"no WARC files" in err
    code, _, err = show(capsysbinary, GBK_URL, "--text", "--decode", "--archive", str(sample.directory))
    assert code == 2
    with pytest.raises(SystemExit) as usage:
        main(["show", GBK_URL, "--at", "yesterday"])
    assert usage.value.code == 2
    with pytest.raises(SystemExit) as both:
        main(["show", GBK_URL, "--raw", "--json"])
    assert both.value.code == 2


def test_url_variants_fall_back_to_the_canonical_key(sample: Any, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    code, out, _ = show(
        capsysbinary, GBK_URL.replace("http://", "https://www."), "--raw", "--archive", str(sample.directory)
    )
    assert (code, out) == (0, GBK_HTML)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024", "20240101000000"),
        ("202404", "20240401000000"),
        ("20240401023000", "20240401023000"),
        ("2024-04-01T02:30:00Z", "20240401023000"),
        ("2024-04-01", "20240401000000"),
    ],
)
def test_timestamps(text: str, expected: str) -> None:
    assert parse_timestamp_prefix(text) == expected


@pytest.mark.parametrize("text", ["20241", "2024-02-30", "yesterday", "202404010230001"])
def test_bad_timestamps(text: str) -> None:
    with pytest.raises(ValueError, match="not a timestamp"):
        parse_timestamp_prefix(text)


def test_a_revisit_with_an_empty_block_shows_its_originals_head_and_body(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    """pywb and WARC/0.18-era tools write revisits without an HTTP head: the original's stands for it."""
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello"

    def record(fields: list[bytes], block: bytes) -> bytes:
        return (
            b"\r\n".join([b"WARC/1.0", *fields, b"Content-Length: %d" % len(block)]) + b"\r\n\r\n" + block + b"\r\n\r\n"
        )

    response = record([b"WARC-Type: response", b"WARC-Record-ID: <urn:uuid:1>", b"WARC-Date: 2014-01-03T03:03:21Z",
                       b"WARC-Target-URI: http://e.test/a", b"Content-Type: application/http; msgtype=response",
                       b"WARC-Payload-Digest: sha1:AAAA"], http)  # fmt: skip
    revisit = record([b"WARC-Type: revisit", b"WARC-Record-ID: <urn:uuid:2>", b"WARC-Date: 2014-06-03T03:03:41Z",
                      b"WARC-Target-URI: http://e.test/a", b"WARC-Payload-Digest: sha1:AAAA",
                      b"WARC-Profile: http://netpreserve.org/warc/1.0/revisit/identical-payload-digest"],
                     b"")  # fmt: skip
    folder = tmp_path / "archive"
    folder.mkdir()
    (folder / "x.warc").write_bytes(response + revisit)
    code, out, err = show(capsysbinary, "http://e.test/a", "--headers", "--archive", str(folder))
    assert (code, out) == (0, http[: http.index(b"hello")]), err
    code, out, err = show(capsysbinary, "http://e.test/a", "--raw", "--at", "20140603", "--archive", str(folder))
    assert (code, out) == (0, b"hello"), err

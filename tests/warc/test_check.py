"""``portal-archive check`` finds what breaks replay, one line per problem, exit 1."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
from pathlib import Path
from typing import Final

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from portal_archive.cli import main
from portal_archive.warc.check import WarcChecker, digest_matches
from portal_archive.warc.records import HttpExchange
from tests.warc.test_writer import gbk_exchange, make_writer

HTML = b"<html><body><p>hello</p></body></html>"


def warcio_file(
    path: Path,
    records: list[tuple[str, str, list[tuple[str, str]], bytes]],
    warcinfo: bool = True,
    gzip_records: bool = True,
    extra: dict[str, str] | None = None,
) -> Path:
    """Write a WARC with warcio (a third-party writer) so each defect is planted on purpose."""
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=gzip_records, warc_version="1.1")
        if warcinfo:
            writer.write_record(writer.create_warcinfo_record(path.name, {"software": "test"}))
        for url, status, headers, body in records:
            record = writer.create_warc_record(
                url,
                "response",
                payload=io.BytesIO(body),
                http_headers=StatusAndHeaders(status, headers, protocol="HTTP/1.1"),
                warc_headers_dict=extra or {},
            )
            writer.write_record(record)
    return path


def problems_of(path: Path) -> list[str]:
    return [p.message for p in WarcChecker(path).run()]


def severities_of(path: Path) -> dict[str, str]:
    return {p.cause: p.severity for p in WarcChecker(path).run()}


def test_our_writer_output_is_clean(tmp_path: Path) -> None:
    writer = make_writer(tmp_path)
    writer.write_exchange(gbk_exchange())
    writer.write_exchange(HttpExchange(url="http://e.test/copy", status=200, body=gbk_exchange().body))
    path = writer.close()
    assert path is not None
    assert problems_of(path) == []


def test_gzip_header_over_plain_body(tmp_path: Path) -> None:
    path = warcio_file(
        tmp_path / "a.warc.gz",
        [("http://e.test/", "200 OK", [("Content-Encoding", "gzip"), ("Content-Length", str(len(HTML)))], HTML)],
    )
    assert "Content-Encoding: gzip but the stored body is not gzip" in problems_of(path)


def test_stale_content_length(tmp_path: Path) -> None:
    path = warcio_file(tmp_path / "a.warc.gz", [("http://e.test/", "200 OK", [("Content-Length", "5")], HTML)])
    assert f"HTTP Content-Length 5 != stored entity length {len(HTML)}" in problems_of(path)


def test_chunked_header_over_dechunked_body(tmp_path: Path) -> None:
    path = warcio_file(tmp_path / "a.warc.gz", [("http://e.test/", "200 OK", [("Transfer-Encoding", "chunked")], HTML)])
    assert "Transfer-Encoding: chunked but the stored body is not chunked" in problems_of(path)


def test_an_empty_reason_phrase_is_allowed_and_a_missing_warcinfo_is_only_a_note(tmp_path: Path) -> None:
    gz = gzip.compress(HTML, mtime=0)
    path = warcio_file(
        tmp_path / "a.warc.gz",
        [("http://e.test/", "200", [("Content-Encoding", "gzip"), ("Content-Length", str(len(gz)))], gz)],
        warcinfo=False,
    )
    assert severities_of(path) == {
        "first record is not warcinfo (optional; a file cut from a larger one has none)": "info"
    }  # RFC 9112 allows an empty reason phrase; WARC 1.1 §6.2 makes warcinfo optional
    assert main(["check", "--strict", "-q", str(path)]) == 0


def test_a_status_line_without_a_code_is_a_warning(tmp_path: Path) -> None:
    path = warcio_file(tmp_path / "a.warc.gz", [("http://e.test/", "OK", [("Content-Length", str(len(HTML)))], HTML)])
    found = severities_of(path)
    assert [severity for cause, severity in found.items() if cause.startswith("HTTP status line without")] == [
        "warning"
    ]


def plain_warc(path: Path, version: str, records: list[tuple[list[tuple[str, str]], bytes]]) -> Path:
    """A WARC written byte by byte, so a record holds exactly the fields a test plants."""
    out = bytearray()
    for number, (fields, block) in enumerate(records, 1):
        lines = [f"WARC/{version}", f"WARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-{number:012d}>"]
        lines += ["WARC-Date: 2024-01-01T00:00:00Z", *(f"{name}: {value}" for name, value in fields)]
        lines.append(f"Content-Length: {len(block)}")
        out += ("\r\n".join(lines) + "\r\n\r\n").encode() + block + b"\r\n\r\n"
    path.write_bytes(bytes(out))
    return path


WARCINFO: Final = ([("WARC-Type", "warcinfo"), ("Content-Type", "application/warc-fields")], b"software: test\r\n")
REVISIT_HEAD = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(HTML)


def revisit(version: str, *extra: tuple[str, str], block: bytes = REVISIT_HEAD) -> list[tuple[str, str]]:
    return [
        ("WARC-Type", "revisit"),
        ("WARC-Target-URI", "http://e.test/"),
        ("Content-Type", "application/http;msgtype=response"),
        ("WARC-Profile", f"http://netpreserve.org/warc/{version}/revisit/identical-payload-digest"),
        ("WARC-Payload-Digest", "sha1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        *extra,
    ]


def test_revisit_target_fields_are_recommended_in_1_1_and_unknown_in_1_0(tmp_path: Path) -> None:
    target = (("WARC-Refers-To-Target-URI", "http://e.test/"), ("WARC-Refers-To-Date", "2023-01-01T00:00:00Z"))
    bare = plain_warc(tmp_path / "r11.warc", "1.1", [WARCINFO, (revisit("1.1"), REVISIT_HEAD)])
    assert severities_of(bare) == {
        "revisit without WARC-Refers-To-Target-URI (recommended in WARC/1.1)": "warning",
        "revisit without WARC-Refers-To-Date (recommended in WARC/1.1)": "warning",
    }
    full = plain_warc(tmp_path / "r11ok.warc", "1.1", [WARCINFO, (revisit("1.1", *target), REVISIT_HEAD)])
    assert severities_of(full) == {}
    old = plain_warc(tmp_path / "r10.warc", "1.0", [WARCINFO, (revisit("1.0"), REVISIT_HEAD)])
    assert severities_of(old) == {}  # the fields do not exist in WARC/1.0


def test_a_revisit_carrying_a_payload_without_warc_truncated_is_a_warning(tmp_path: Path) -> None:
    path = plain_warc(tmp_path / "r.warc", "1.0", [WARCINFO, (revisit("1.0"), REVISIT_HEAD + HTML)])
    assert severities_of(path) == {"revisit with a payload in its block but no WARC-Truncated": "warning"}
    marked = plain_warc(
        tmp_path / "t.warc", "1.0", [WARCINFO, (revisit("1.0", ("WARC-Truncated", "length")), REVISIT_HEAD + HTML)]
    )
    assert severities_of(marked) == {}


def test_a_payload_digest_over_the_chunked_bytes_is_named_as_such(tmp_path: Path) -> None:
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(HTML), HTML)
    block = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked
    over_chunks = "sha1:" + base64.b32encode(hashlib.sha1(chunked).digest()).decode()  # noqa: S324 - WARC digest
    response = [
        ("WARC-Type", "response"),
        ("WARC-Target-URI", "http://e.test/"),
        ("Content-Type", "application/http;msgtype=response"),
        ("WARC-Payload-Digest", over_chunks),
    ]
    found = severities_of(plain_warc(tmp_path / "wget.warc", "1.0", [WARCINFO, (response, block)]))
    cause = "WARC-Payload-Digest computed over the chunked bytes, not the payload (wget 1.14, warcprox 1.4 do so)"
    assert found == {cause: "warning"}


def test_heritrix_0_17_records_are_known(tmp_path: Path) -> None:
    response = [("WARC-Type", "response"), ("WARC-Target-URI", "dns:example.com"), ("Content-Type", "text/dns")]
    path = plain_warc(tmp_path / "h.warc", "0.17", [WARCINFO, (response, b"20080430204826\r\nexample.com.\r\n")])
    assert severities_of(path) == {}


def test_one_line_per_cause_and_file(tmp_path: Path) -> None:
    records = [(f"http://e.test/{n}", "200 OK", [("Content-Length", "5")], HTML) for n in range(4)]
    path = warcio_file(tmp_path / "a.warc.gz", records)
    (problem,) = WarcChecker(path).run()
    assert problem.count == 4 and str(problem).endswith("(and 3 more record(s))")
    assert problem.where == "#2 response http://e.test/0" and problem.offset is not None and problem.record_id
    assert len(WarcChecker(path, group=False).run()) == 4


def test_corrupted_payload_digest(tmp_path: Path) -> None:
    writer = make_writer(tmp_path)
    writer.write_exchange(gbk_exchange())
    path = writer.close()
    assert path is not None
    raw = gzip.decompress(path.read_bytes()).replace("中文正文".encode("gbk"), "中文正午".encode("gbk"))
    broken = tmp_path / "broken.warc"
    broken.write_bytes(raw)
    found = problems_of(broken)
    assert "WARC-Block-Digest does not match the block" in found
    assert "WARC-Payload-Digest does not match the entity body" in found


def test_whole_file_gzip_is_not_per_record(tmp_path: Path) -> None:
    plain = warcio_file(tmp_path / "a.warc", [("http://e.test/", "200 OK", [], HTML)], gzip_records=False)
    whole = tmp_path / "whole.warc.gz"
    whole.write_bytes(gzip.compress(plain.read_bytes()))
    assert any("not one member per record" in m for m in problems_of(whole))


def test_garbage_and_truncated_files_are_reported_not_raised(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.warc.gz"
    garbage.write_bytes(b"this is not a warc file at all\n" * 10)
    assert problems_of(garbage)
    writer = make_writer(tmp_path / "w")
    writer.write_exchange(gbk_exchange())
    path = writer.close()
    assert path is not None
    cut = tmp_path / "cut.warc.gz"
    cut.write_bytes(path.read_bytes()[:-40])
    assert problems_of(cut)
    empty = tmp_path / "empty.warc.gz"
    empty.write_bytes(b"")
    assert severities_of(empty) == {"empty file": "error"}  # the reader's words, as every command says it
    assert severities_of(garbage) == {"not a WARC file": "error"}
    cut_causes = severities_of(cut)
    assert cut_causes and all(severity == "error" for severity in cut_causes.values())
    assert not any("Digest" in cause for cause in cut_causes)  # a cut record is not judged by its cut bytes


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("sha1:GADFZKSA5MTG3MOKF2JHACULVAW6474A", True),
        ("sha1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", False),
        ("md5:00", False),
        ("crc32:1234", None),
    ],
)
def test_digest_labels(label: str, expected: bool | None) -> None:
    assert digest_matches(label, gbk_exchange().body) is expected


def test_cli_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    writer = make_writer(tmp_path / "ok")
    writer.write_exchange(gbk_exchange())
    good = writer.close()
    bad = warcio_file(tmp_path / "bad.warc.gz", [("http://e.test/", "200 OK", [("Content-Length", "5")], HTML)])
    assert main(["check", "--strict", str(good)]) == 0
    assert main(["check", str(good), str(bad)]) == 0  # a warning fails only --strict
    assert main(["check", "--strict", str(good), str(bad)]) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 2 and out[0] == out[1]
    assert out[0].startswith(f"{bad}: warning: #2 response http://e.test/ at offset ")
    assert out[0].endswith(f": HTTP Content-Length 5 != stored entity length {len(HTML)}")
    assert main(["check", "--format", "json", "-q", str(bad)]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["counts"] == {"error": 0, "warning": 1, "info": 0}
    assert document["problems"][0]["severity"] == "warning" and document["problems"][0]["file"] == str(bad)
    assert main(["check", str(tmp_path / "missing.warc.gz")]) == 1
    with pytest.raises(SystemExit) as usage:
        main(["check"])
    assert usage.value.code == 2


def test_output_cut_off_by_its_reader_ends_quietly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``portal-archive check … | head -1``: no traceback when the pipe closes."""
    from portal_archive.cli import main

    class ClosedPipe(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    path = tmp_path / "x.warc"
    path.write_bytes(b"not a warc at all\r\n\r\n")
    monkeypatch.setattr("sys.stdout", ClosedPipe())
    assert main(["check", str(path)]) == 141

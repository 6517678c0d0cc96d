"""A report on archived exchanges reads a client-rendered page with its archived API answer.

The pages and answers are the demo portal's (``tests/resources/spiders``): an InfoQ-like shell whose
body its script fetches from getDetail, directly or through a ``content_url``. The WARC files are
written here in the orders a crawler (page, then the API) and a browser (the API answer first, the
request body spaced as ``JSON.stringify`` spaces it) archive them.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from portal_archive.archive import sources
from portal_archive.archive.pages import PageReader
from portal_archive.archive.sources import WarcSource

RESOURCES = Path(__file__).resolve().parents[1] / "resources" / "spiders"
EXPECTED: dict[str, Any] = json.loads((RESOURCES / "expected.json").read_text(encoding="utf-8"))
API = "http://infoq.test/public/v1/article/getDetail"


def record(warc_type: str, number: int, uri: str, block: bytes, extra: bytes = b"") -> bytes:
    head = (
        b"WARC/1.1\r\nWARC-Type: %s\r\nWARC-Record-ID: <urn:uuid:%08d-0000-4000-8000-000000000000>\r\n"
        b"WARC-Date: 2024-10-18T07:42:%02dZ\r\nWARC-Target-URI: %s\r\n%s"
        b"Content-Type: application/http;msgtype=%s\r\nContent-Length: %d\r\n\r\n"
        % (warc_type.encode(), number, number % 60, uri.encode(), extra, warc_type.encode(), len(block))
    )
    return gzip.compress(head + block + b"\r\n\r\n")


def response(number: int, name: str) -> bytes:
    page = EXPECTED["pages"][name]
    body = (RESOURCES / name).read_bytes()
    http = b"HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n" % (
        page["content_type"].encode(),
        len(body),
    )
    return record("response", number, page["url"], http + body)


def post(number: int, answer: str, body: bytes) -> list[bytes]:
    """The API's answer and, right after it, the request record that asked for it."""
    request = b"POST /public/v1/article/getDetail HTTP/1.1\r\nHost: infoq.test\r\nContent-Type: application/json\r\n"
    request += b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
    concurrent = b"WARC-Concurrent-To: <urn:uuid:%08d-0000-4000-8000-000000000000>\r\n" % number
    return [response(number, answer), record("request", number + 1, API, request, concurrent)]


def article_id(name: str) -> str:
    return str(EXPECTED["pages"][name]["url"]).rsplit("/", 1)[1]


def documents(tmp_path: Path, members: list[bytes], jobs: int = 1) -> tuple[dict[str, str], WarcSource]:
    path = tmp_path / "capture.warc.gz"
    path.write_bytes(b"".join(members))
    source = WarcSource([path], PageReader(), jobs=jobs)
    return {found.document.url: found.document.text for found in source.documents()}, source


JOBS = pytest.mark.parametrize("jobs", [1, 2], ids=["here", "extracted-elsewhere"])
"""Pages extracted in other processes are joined to their answers as pages extracted here are."""


def body_of(name: str) -> str:
    return " ".join(str(EXPECTED["pages"][name]["manifest"]["body_text"]).split())


@JOBS
def test_a_page_archived_before_its_answer_gets_the_answers_body(tmp_path: Path, jobs: int) -> None:
    shell = "infoq_shell_api.html"
    asked = json.dumps({"uuid": article_id(shell)}).encode()  # as the crawler asks
    found, source = documents(tmp_path, [response(1, shell), *post(2, "infoq_detail_api.json", asked)], jobs)
    assert " ".join(found[EXPECTED["pages"][shell]["url"]].split()) == body_of(shell)
    assert source.inputs[0].reextracted == 1


@JOBS
def test_an_answer_archived_before_its_page_and_a_content_url(tmp_path: Path, jobs: int) -> None:
    shell = "infoq_shell_content_url.html"
    asked = b'{"uuid":"%s"}' % article_id(shell).encode()  # JSON.stringify's spacing, as a browser asks
    members = [*post(1, "infoq_detail_content_url.json", asked), response(3, shell), response(4, "infoq_content.json")]
    found, _ = documents(tmp_path, members, jobs)
    assert " ".join(found[EXPECTED["pages"][shell]["url"]].split()) == body_of(shell)


@JOBS
def test_a_page_whose_answer_is_not_archived_is_set_aside_saying_why(tmp_path: Path, jobs: int) -> None:
    shell = "infoq_shell_api.html"
    other = json.dumps({"uuid": "x" * 20}).encode()  # an answer to another article
    found, source = documents(tmp_path, [response(1, shell), *post(2, "infoq_detail_api.json", other)], jobs)
    assert found == {}
    assert source.inputs[0].set_aside["body fetched by script, answer not archived"] == 1


@JOBS
def test_a_page_whose_extraction_fails_is_counted_and_the_next_one_read(
    tmp_path: Path, jobs: int, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    shell, other = "infoq_shell_api.html", "infoq_shell_content_url.html"
    broken = EXPECTED["pages"][shell]["url"]
    original = PageReader.page_verdict

    def page_verdict(self: PageReader, url: str, *args: Any) -> Any:
        if url == broken:
            raise ValueError("a hostile page")
        return original(self, url, *args)

    monkeypatch.setattr(PageReader, "page_verdict", page_verdict)
    monkeypatch.setattr(sources, "_start_method", lambda: "fork")  # so that the helper inherits it
    asked = b'{"uuid":"%s"}' % article_id(other).encode()
    members = [response(1, shell), *post(2, "infoq_detail_content_url.json", asked), response(4, other),
               response(5, "infoq_content.json")]  # fmt: skip
    found, source = documents(tmp_path, members, jobs)
    assert list(found) == [EXPECTED["pages"][other]["url"]]
    assert source.unextractable == 1
    assert "Extraction failed for " + broken in caplog.text and "a hostile page" in caplog.text

"""Answers to POST requests are indexed under the key replay looks them up by (request body as query).

A page whose script POSTs to an API (InfoQ's getDetail) replays only when the index files each
answer under its URL plus ``__wb_method=post&<body as query>``, as pywb computes at lookup and
cdxj-indexer writes with ``--post-append``. The lines are compared with cdxj-indexer's own.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from portal_archive.archive.indexing import index_warc
from portal_archive.archive.postquery import MAX_QUERY_LENGTH, method_url, request_query
from portal_archive.warc import runs

API = "http://infoq.test/public/v1/article/getDetail"


def record(warc_type: str, n: int, uri: str, block: bytes, *, extra: bytes = b"") -> bytes:
    msgtype = b"response" if warc_type == "response" else b"request"
    head = (
        b"WARC/1.1\r\nWARC-Type: %s\r\nWARC-Record-ID: <urn:uuid:%08d-0000-4000-8000-%012d>\r\n"
        b"WARC-Date: 2024-04-01T02:30:%02dZ\r\nWARC-Target-URI: %s\r\n%s"
        b"Content-Type: application/http;msgtype=%s\r\nContent-Length: %d\r\n\r\n"
        % (warc_type.encode(), n, 1 if warc_type == "request" else 0, n % 60, uri.encode(), extra, msgtype, len(block))
    )
    return gzip.compress(head + block + b"\r\n\r\n")


def exchange(n: int, method: str, uri: str, body: bytes = b"", content_type: str = "application/json") -> list[bytes]:
    """A response record and, right after it, its request record (as warcio and our writer order them)."""
    answer = b'{"code":0,"data":{"n":%d}}' % n
    # With the payload digest written, as every producer writes it (cdxj-indexer --post-append
    # computes an empty payload's digest for records without one).
    digest = b"sha1:" + base64.b32encode(hashlib.sha1(answer, usedforsecurity=False).digest())
    response = record(
        "response", n, uri,
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(answer), answer),
        extra=b"WARC-Payload-Digest: %s\r\n" % digest,
    )  # fmt: skip
    path = uri.split("/", 3)[3]
    request_head = b"%s /%s HTTP/1.1\r\nHost: infoq.test\r\n" % (method.encode(), path.encode())
    if body:
        request_head += b"Content-Type: %s\r\nContent-Length: %d\r\n" % (content_type.encode(), len(body))
    concurrent = b"WARC-Concurrent-To: <urn:uuid:%08d-0000-4000-8000-000000000000>\r\n" % n
    return [response, record("request", n, uri, request_head + b"\r\n" + body, extra=concurrent)]


def archive(path: Path) -> Path:
    members: list[bytes] = []
    for n in range(40):
        if n % 4 == 0:
            members += exchange(n, "POST", API, json.dumps({"uuid": f"article-{n}"}).encode())
        elif n % 4 == 1:
            members += exchange(n, "POST", f"{API}?v=2", b"uuid=a%20b&size=20", "application/x-www-form-urlencoded")
        elif n % 4 == 2:
            members += exchange(n, "PUT", API, bytes(range(40)), "application/octet-stream")
        else:
            members += exchange(n, "GET", f"http://infoq.test/article/{n}")
    path.write_bytes(b"".join(members))
    return path


def ours(path: Path, jobs: int = 1) -> list[str]:
    out = io.BytesIO()
    index_warc(path, out, jobs=jobs)
    return out.getvalue().decode("utf-8").splitlines()


def test_post_answers_are_filed_as_cdxj_indexer_post_append_files_them(tmp_path: Path) -> None:
    path = archive(tmp_path / "api.warc.gz")
    lines = ours(path)
    peer = subprocess.run(
        [str(Path(sys.executable).parent / "cdxj-indexer"), "--post-append", str(path)],
        capture_output=True, text=True, check=True,
    ).stdout.splitlines()  # fmt: skip
    assert lines == sorted(line for line in peer if not line.startswith("!"))
    keyed = {json.loads(line.split(" ", 2)[2])["url"] + " " + line.split(" ", 1)[0] for line in lines}
    assert f"{API} test,infoq)/public/v1/article/getdetail?__wb_method=post&uuid=article-0" in keyed
    post = json.loads(next(line for line in lines if "uuid=article-0" in line).split(" ", 2)[2])
    assert (post["method"], post["requestBody"]) == ("POST", "uuid=article-0")
    get = json.loads(next(line for line in lines if "/article/3 " in line + " ").split(" ", 2)[2])
    assert "method" not in get and "requestBody" not in get  # a GET is filed as before


@pytest.mark.parametrize("jobs", [2, 3])
def test_parallel_runs_join_an_answer_to_the_request_that_opens_the_next_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int
) -> None:
    path = archive(tmp_path / "api.warc.gz")
    one = ours(path)
    monkeypatch.setattr(runs, "PARALLEL_BYTES", 1)
    monkeypatch.setattr(runs, "RUN_BYTES", 1)  # a run per record or two: many runs open with a request
    assert ours(path, jobs) == one
    assert sum("__wb_method=post" in line for line in one) == 20
    assert sum("__wb_method=put" in line for line in one) == 10


def test_request_bodies_become_queries_as_replay_computes_them() -> None:
    body = json.dumps({"a": True, "b": None, "c": 2.0, "d": [1, {"a": "x"}], "e": {"f": "g h"}}).encode()
    assert request_query("POST", "application/json; charset=utf-8", body) == "a=true&b=null&c=2&d=1&a.2_=x&f=g+h"
    assert request_query("POST", "application/json", b"{not json") == ""
    assert request_query("POST", "text/plain", b'{"q": 1}') == "q=1"
    assert request_query("POST", "text/plain", b"raw") == "__wb_post_data=cmF3"
    assert request_query("POST", "application/x-www-form-urlencoded", b"q=a+b%21") == "q=a b!"
    assert request_query("POST", "application/x-www-form-urlencoded", b"\xff") == "__wb_post_data=/w=="
    assert request_query("GET", "application/json", b'{"q": 1}') == ""
    assert len(request_query("POST", "application/octet-stream", bytes(10_000))) == MAX_QUERY_LENGTH
    assert method_url("http://x/api", "post", "q=1") == "http://x/api?__wb_method=POST&q=1"
    assert method_url("http://x/api?v=1", "POST", "") == "http://x/api?v=1&__wb_method=POST"


def test_a_lookup_by_url_finds_the_answers_filed_under_their_request_bodies(tmp_path: Path) -> None:
    from portal_archive.archive.cdxj import lookup

    path = archive(tmp_path / "api.warc.gz")
    index = tmp_path / "index.cdxj"
    with index.open("wb") as out:
        index_warc(path, out)
    asked = lookup(index, API)
    assert sorted(entry.fields["method"] for entry in asked) == ["POST"] * 10 + ["PUT"] * 10
    assert all(entry.url == API for entry in asked)
    assert [e.timestamp for e in asked] == sorted(e.timestamp for e in asked)
    assert len(lookup(index, f"{API}?v=2")) == 10  # a URL with a query of its own
    assert len(lookup(index, "http://infoq.test/article/3")) == 1

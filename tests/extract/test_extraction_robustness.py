"""Bad input never raises: empty, binary, truncated, deeply nested and random bytes; the CLI."""

from __future__ import annotations

import io
import json
import random
import sys
import time
from pathlib import Path

import pytest

from portal_archive.cli import main
from portal_archive.extract import Article, decode_html, extract_article

RESOURCES = Path(__file__).resolve().parents[1] / "resources" / "extraction"
PARAGRAPH = "市政府今天召开新闻发布会，介绍了今年冬季供暖的准备情况，并回答了记者的提问。"
PAGE = (
    f"<html><head><title>供暖</title></head><body><h1>供暖</h1><div><p>{PARAGRAPH}</p>"
    + "".join(f"<p>{PARAGRAPH}第{i}段。</p>" for i in range(6))
    + "</div></body></html>"
)


def _check(article: Article) -> None:
    """The invariants every result keeps, whatever the input."""
    assert isinstance(article, Article)
    assert isinstance(article.body_text, str)
    assert bool(article.body_text) != bool(article.empty_reason)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty document"),
        (b"   \n\t  ", "empty document"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "binary content"),
        (b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"\x00" * 64, "binary content"),
        (b"<html><body></body></html>", "no body found"),
        (b"<!-- only a comment -->", "not parseable as HTML"),
    ],
)
def test_empty_and_binary_input_give_a_reason(data: bytes, reason: str) -> None:
    article = extract_article(data, url="x")
    assert article.body_text == ""
    assert article.empty_reason == reason


@pytest.mark.parametrize("cut", [0.3, 0.5, 0.8, 0.95])
def test_truncated_page_keeps_what_arrived(cut: int) -> None:
    data = PAGE.encode("utf-8")
    article = extract_article(data[: int(len(data) * cut)], url="x")
    _check(article)
    if cut >= 0.5:
        assert PARAGRAPH in article.body_text


def test_truncated_in_the_middle_of_a_character() -> None:
    data = PAGE.encode("utf-8")
    cut = data.index("第3段".encode()) + 1
    article = extract_article(data[:cut], url="x")
    _check(article)
    assert article.encoding == "utf-8"


def test_huge_nesting_neither_recurses_nor_hangs() -> None:
    depth = 50_000
    data = ("<div>" * depth + f"<p>{PARAGRAPH}</p>" + "</div>" * depth).encode("utf-8")
    started = time.perf_counter()
    article = extract_article(data, url="x")
    assert time.perf_counter() - started < 20
    _check(article)


def test_unclosed_tags_and_stray_markup() -> None:
    data = f"<html><body><div><p>{PARAGRAPH}<p>{PARAGRAPH}<table><tr><td><b><i>{PARAGRAPH}</div></span></td>".encode()
    article = extract_article(data, url="x")
    _check(article)
    assert article.body_text.count(PARAGRAPH) == 3


def test_xml_declaration_and_nul_bytes_in_text() -> None:
    data = b'<?xml version="1.0" encoding="utf-8"?>' + PAGE.encode("utf-8").replace(b"<h1>", b"<h1>\x00")
    _check(extract_article(data, url="x"))


def test_random_bytes_never_raise() -> None:
    rng = random.Random(20240401)
    for _ in range(300):
        size = rng.choice([1, 2, 7, 64, 512, 4096])
        _check(
            extract_article(
                rng.randbytes(size), url="x", content_type=rng.choice([None, "text/html; charset=gbk", b"\xff"])
            )
        )


def test_random_markup_soup_never_raises() -> None:
    rng = random.Random(7)
    pieces = [
        "<div>", "</div>", "<p>", "</p>", "<a href='/x'>", "</a>", "<br>", "<li>", "<ul>", "</ul>", "<script>",
        "</script>", "<!--", "-->", "<![CDATA[", "]]>", "&amp;", "&#0;", "&#xD800;", "<h1>", "</h1>", "<table>",
        "<td>", "\x00", "\ufffd", "相关新闻", "来源：", "今日好文推荐", PARAGRAPH, "。", "，", "<meta charset=gbk>",
        "<?xml version='1.0' encoding='utf-8'?>", "<svg><p>", "<style>p{}</style>", "<form>", "<noscript>",
    ]  # fmt: skip
    for _ in range(300):
        soup = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 120)))
        encoding = rng.choice(["utf-8", "gb18030", "utf-16"])
        _check(extract_article(soup.encode(encoding, errors="replace"), url="x"))


def test_random_bytes_always_decode() -> None:
    rng = random.Random(3)
    for _ in range(200):
        text, charset = decode_html(rng.randbytes(rng.randint(0, 2048)), rng.choice([None, "text/html; charset=utf-8"]))
        assert isinstance(text, str) and charset


# --- the command line ---------------------------------------------------------------------------------


SEED = RESOURCES / "seed_bendi_article.html"


def test_cli_prints_the_body(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["extract", str(SEED)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("风雨飘摇中的 Stability AI 还能走多远?\n")
    assert "今日好文推荐" not in out


def test_cli_json_from_stdin(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    stdin = io.TextIOWrapper(io.BytesIO(SEED.read_bytes()), encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", stdin)
    assert main(["extract", "-", "--format", "json", "--url", "https://bendi.news/wxnews/c1"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["url"] == "https://bendi.news/wxnews/c1"
    assert data["source"] == "InfoQ"
    assert {block["kind"] for block in data["boilerplate"]} >= {"related_links", "recommendations"}


def test_cli_reports_an_empty_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.html"
    empty.write_bytes(b"")
    assert main(["extract", str(empty), "--format", "json"]) == 1
    captured = capsys.readouterr()
    assert json.loads(captured.out)["empty_reason"] == "empty document"
    assert "empty document" in captured.err


def test_cli_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["extract", str(tmp_path / "missing.html")]) == 1
    assert "cannot read" in capsys.readouterr().err


def test_cli_gbk_with_content_type(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = tmp_path / "gbk.html"
    page.write_bytes(PAGE.encode("gbk"))
    assert main(["extract", str(page), "--content-type", "text/html; charset=gbk"]) == 0
    assert PARAGRAPH in capsys.readouterr().out

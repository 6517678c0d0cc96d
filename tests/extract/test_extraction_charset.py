"""Charset: header, ``<meta>``, BOM, detection; legacy Chinese codecs widened; mojibake undone."""

from __future__ import annotations

import codecs

import pytest

from portal_archive.extract import decode_html, detect_charset, extract_article

PARAGRAPHS = (
    "镕基同志当年主持的改革，为后来的发展打下了基础，这是许多经济学家的共同看法。",
    "记者在现场看到，志愿者们正在为参加活动的市民发放热饮和宣传资料，秩序井然。",
    "有关部门表示，将继续加强监管，确保各项措施落到实处，切实保障群众的合法权益。",
)


def _html(meta: str = "", paragraphs: tuple[str, ...] = PARAGRAPHS, title: str = "测试页面") -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return f"<html><head>{meta}<title>{title}</title></head><body><div>{body}</div></body></html>"


def _read_as_latin(data: bytes, codec: str) -> str:
    """What a Latin-reading tool makes of the bytes: unmapped bytes stay as C1 controls."""
    return "".join(bytes([byte]).decode(codec, errors="ignore") or chr(byte) for byte in data)


def _body(data: bytes, content_type: str | bytes | None = None) -> str:
    return extract_article(data, url="http://example.cn/", content_type=content_type).body_text


def test_gbk_page_declared_only_in_the_http_header() -> None:
    data = _html().encode("gbk")
    assert detect_charset(data, "text/html; charset=GBK") == "gb18030"
    assert _body(data, b"text/html; charset=gbk").splitlines() == list(PARAGRAPHS)


def test_gbk_page_declared_only_in_meta() -> None:
    data = _html('<meta http-equiv="Content-Type" content="text/html; charset=gb2312">').encode("gbk")
    assert detect_charset(data, "text/html") == "gb18030"
    assert _body(data, "text/html").splitlines() == list(PARAGRAPHS)


def test_gb2312_label_reads_characters_beyond_gb2312() -> None:
    """镕 is outside GB2312 and 𠀀 needs GB18030's four-byte form; the superset reads both."""
    text = ("镕𠀀" + PARAGRAPHS[1],)
    data = _html('<meta charset="gb2312">', text).encode("gb18030")
    assert _body(data) == text[0]


def test_big5_meta() -> None:
    traditional = ("衛生署表示，這次調查的結果顯示，民眾的健康意識已經明顯提高。",)
    data = _html('<meta charset="big5">', traditional, title="測試頁面").encode("big5")
    assert detect_charset(data) == "big5hkscs"
    assert _body(data) == traditional[0]


def test_header_wins_over_meta() -> None:
    data = _html('<meta charset="big5">').encode("gbk")
    assert detect_charset(data, "text/html; charset=GBK") == "gb18030"


def test_bom_wins_over_declarations() -> None:
    data = codecs.BOM_UTF8 + _html('<meta charset="gbk">').encode("utf-8")
    assert detect_charset(data, "text/html; charset=gbk") == "utf-8"
    text, charset = decode_html(data)
    assert charset == "utf-8" and not text.startswith("\ufeff")


def test_utf16_bom() -> None:
    data = codecs.BOM_UTF16_LE + _html().encode("utf-16-le")
    assert _body(data).splitlines() == list(PARAGRAPHS)


def test_undeclared_gbk_is_detected() -> None:
    assert detect_charset(_html().encode("gbk")) == "gb18030"
    assert _body(_html().encode("gbk")).splitlines() == list(PARAGRAPHS)


def test_undeclared_big5_is_detected() -> None:
    traditional = ("這是一個關於臺灣經濟發展的報導，記者訪問了多位專家。",) * 3
    assert detect_charset(_html(paragraphs=traditional, title="測試頁面").encode("big5")) == "big5hkscs"


def test_stale_legacy_meta_on_utf8_bytes_loses_to_utf8() -> None:
    data = _html('<meta charset="gbk">').encode("utf-8")
    assert detect_charset(data) == "utf-8"
    assert _body(data).splitlines() == list(PARAGRAPHS)


def test_utf8_header_on_gbk_bytes_falls_back_to_detection() -> None:
    data = _html().encode("gbk")
    assert detect_charset(data, "text/html; charset=utf-8") == "gb18030"


def test_latin1_label_means_windows_1252() -> None:
    assert detect_charset(b"<p>caf\xe9</p>", "text/html; charset=ISO-8859-1") == "cp1252"


def test_unknown_label_is_ignored() -> None:
    assert detect_charset(_html('<meta charset="x-no-such-charset">').encode("utf-8")) == "utf-8"


@pytest.mark.parametrize("wrong", ["cp1252", "iso8859-15"])
def test_mojibake_from_a_latin_reading_is_repaired(wrong: str) -> None:
    """GBK bytes once read as a Latin charset and saved as UTF-8 come back as Chinese."""
    garbled = _read_as_latin(_html().encode("gbk"), wrong).encode("utf-8")
    assert _body(garbled).splitlines() == list(PARAGRAPHS)


def test_double_encoded_utf8_is_repaired() -> None:
    garbled = _read_as_latin(_html().encode("utf-8"), "cp1252").encode("utf-8")
    assert _body(garbled).splitlines() == list(PARAGRAPHS)


def test_western_page_is_left_alone() -> None:
    text = "<p>" + "Le café de la gare a fermé ses portes après quarante années de service. " * 5 + "</p>"
    decoded, charset = decode_html(text.encode("utf-8"))
    assert charset == "utf-8" and "café" in decoded


def test_bad_bytes_become_replacement_characters() -> None:
    data = _html().encode("utf-8") + b"\xff\xfe\xfa trailing"
    text, _ = decode_html(data, "text/html; charset=utf-8")
    assert PARAGRAPHS[0] in text

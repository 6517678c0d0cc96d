"""From page bytes to text: declared charset, byte-order mark, then detection.

A BOM wins over any declaration, as in the WHATWG encoding sniffing rules: a file that starts
with one was written in that encoding whatever its header says. Then the HTTP header, then
``<meta>``. GBK and GB2312 are read as their superset GB18030 and Big5 as Big5-HKSCS, so rare
characters survive. A legacy declaration on bytes that are valid, clearly non-ASCII UTF-8 loses to
UTF-8: re-encoded copies of Chinese pages keep their old ``<meta>`` far more often than GBK text
happens to be valid UTF-8. Decoding never raises: bad bytes become U+FFFD.
"""

from __future__ import annotations

import codecs
import re
from typing import Final

_META_CHARSET_RE: Final = re.compile(
    rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""",
    re.IGNORECASE,
)
_HEADER_CHARSET_RE: Final = re.compile(r"charset\s*=\s*[\"']?\s*([A-Za-z0-9._:-]+)", re.IGNORECASE)
_SUPERSETS: Final = {
    "gbk": "gb18030",
    "gb2312": "gb18030",
    "x-gbk": "gb18030",
    "gb_2312-80": "gb18030",
    "gb_2312": "gb18030",
    "euc-cn": "gb18030",
    "hz-gb-2312": "gb18030",
    "cp936": "gb18030",
    "big5": "big5hkscs",
    "x-x-big5": "big5hkscs",
    "cp950": "big5hkscs",
    # WHATWG: these labels mean windows-1252, which is a superset of both.
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
}
_BOMS: Final = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_SNIFF_BYTES: Final = 8192
_CJK_RE: Final = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_MIN_NON_ASCII_FOR_UTF8: Final = 16
# Frequent in any Chinese text, simplified or traditional: a right guess between GB18030 and
# Big5 decodes many of them; a wrong guess yields rare characters and replacement marks.
_COMMON_HANZI: Final = frozenset(
    "的一是不了在人有我他这中大来上个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长知民样现分将外但身些与高意进把法此实回二理美点月明其种声全工己话儿者向情部正名定女问力机给等几很业最间新什打便位因重被走电四第门相次东政海口使教西再平真听世气信北少关并内加化由却代军产入先山五太水万市眼体别处总才场师书比住员九笑性通目华报立马命张活难神数件安表原车白应路期叫死常提感金何更反合放做系计或司利受光王果亲界及今京务制解各任至清物台象记边共风战干接它许八特觉望直服毛林题建南度统色字请交爱让认算论百吃义科怎元社术结六功指思非流每青管夫连远资队跟带花快条院变联言权往展该领传近留红治决周保达办运武半候七必城父强步完革深区即求品士转量空甚众技轻程告江语英基派满式李息写呢识极令黄德收脸钱党倒未持取设始版双历越史商千片容研像找友孩站广改议形委早房音火际则首单据导影失拿网香似斯专石若兵弟谁校读志飞观争究包组造落视济喜离虽坏兴福啊属试布装演级國們這來個說時會為對後學們裡與實開長發問動經過進種現業"
)
_SNIFF_CHARS: Final = 20000
_MIN_MOJIBAKE_CHARS: Final = 40
_LATIN_MOJIBAKE_RE: Final = re.compile("[\u00c0-\u00ff\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u20ac]")
_LATIN_REVERSE_TABLES: Final = tuple(
    {ord(bytes([byte]).decode(codec)): byte for byte in range(0x80, 0x100) if bytes([byte]).decode(codec, "ignore")}
    for codec in ("cp1252", "iso8859-15")
)
# Mojibake only survives in encodings that can hold any Latin-1 character.
_MOJIBAKE_CARRIERS: Final = frozenset({"utf-8", "cp1252", "iso8859-1"})
_UTF8_SURE: Final = re.compile(rb"[\xc2-\xf4]")


def codec_name(label: str | bytes | None) -> str | None:
    """The Python codec for a charset label, widened to its superset; ``None`` if unknown."""
    if not label:
        return None
    text = label.decode("ascii", "ignore") if isinstance(label, bytes) else label
    text = text.strip().strip("\"'").lower()
    text = _SUPERSETS.get(text, text)
    try:
        name = codecs.lookup(text).name
    except LookupError:
        return None
    # A page can't be UTF-16 if its declaration was readable as ASCII (WHATWG rule).
    return "utf-8" if name.startswith("utf-16") or name.startswith("utf-32") else name


def _bom_codec(data: bytes) -> str | None:
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    return None


def _header_codec(content_type: str | bytes | None) -> str | None:
    if not content_type:
        return None
    header = content_type.decode("latin-1") if isinstance(content_type, bytes) else content_type
    match = _HEADER_CHARSET_RE.search(header)
    return codec_name(match.group(1)) if match else None


def _meta_codec(data: bytes) -> str | None:
    match = _META_CHARSET_RE.search(data[:_SNIFF_BYTES])
    return codec_name(match.group(1)) if match else None


def _is_clear_utf8(data: bytes) -> bool:
    """Valid UTF-8 with enough multi-byte sequences that chance can't explain it."""
    if len(_UTF8_SURE.findall(data[:65536])) < _MIN_NON_ASCII_FOR_UTF8:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        # A page cut mid-character still counts: check all but the last few bytes.
        try:
            data[:-4].decode("utf-8")
        except UnicodeDecodeError:
            return False
        return True
    return True


def _cjk_total(text: str) -> int:
    return len(_CJK_RE.findall(text))


def _fit(text: str) -> float:
    """How natural a decoding reads: common hanzi count, rare CJK and replacement marks cost.

    A wrong CJK guess turns byte pairs into rare ideographs, so they count against it; a Western
    page read as Windows-1252 scores about zero, which beats any garbled reading.
    """
    common = rare = 0
    for ch in text:
        if ch in _COMMON_HANZI:
            common += 1
        elif "\u3400" <= ch <= "\u9fff" or "\uac00" <= ch <= "\ud7af":
            rare += 1
    return common - 0.1 * rare - 4 * text.count("\ufffd")


def _guess_codec(data: bytes) -> str:
    """Trial decoding for undeclared or mis-declared pages: the codec whose text reads best."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        # Truncated in the middle of a character: still UTF-8.
        if error.start >= len(data) - 3 and error.reason == "unexpected end of data":
            return "utf-8"
    else:
        return "utf-8"
    sample = data[:32768]
    best, best_fit = "utf-8", float("-inf")
    for name in ("utf-8", "gb18030", "big5hkscs", "cp1252"):
        fit = _fit(sample.decode(name, errors="replace"))
        if fit > best_fit:
            best, best_fit = name, fit
    return best


def declared_charset(content_type: str | bytes | None, data: bytes = b"") -> str | None:
    """The codec the page claims (HTTP header first, then ``<meta>``), widened like ``codec_name``.

    Compared with what ``detect_charset`` chose, it tells a page that lies about its encoding.
    """
    return _header_codec(content_type) or _meta_codec(data)


def detect_charset(data: bytes, content_type: str | bytes | None = None) -> str:
    """The codec to read ``data`` with: BOM, HTTP header, ``<meta>``, then trial decoding."""
    if bom := _bom_codec(data):
        return bom
    declared = _header_codec(content_type) or _meta_codec(data)
    if declared:
        if declared != "utf-8" and _is_clear_utf8(data):
            return "utf-8"
        if declared == "utf-8" and not _decodes(data, "utf-8"):
            return _guess_codec(data)
        return declared
    return _guess_codec(data)


def _decodes(data: bytes, codec: str) -> bool:
    try:
        data[:-4].decode(codec)
    except UnicodeDecodeError:
        return False
    return True


def repair_mojibake(text: str) -> str | None:
    """Undo a page that was decoded as a Latin charset and saved again (once or twice).

    Archived Chinese pages are often stored that way: GBK or UTF-8 bytes read as
    Windows-1252 or ISO-8859-15, then written as UTF-8, which turns 新闻 into ``ÐÂÎÅ``.
    Reversing is exact when the page holds Latin-1-range letters and almost no hanzi; a repair
    is kept only when its bytes are clean UTF-8 (one layer peeled off) or read as Chinese much
    better than before. Returns ``None`` when there is nothing to repair.
    """
    current = text
    repaired = False
    for _ in range(3):
        sample = current[:_SNIFF_CHARS]
        latin = len(_LATIN_MOJIBAKE_RE.findall(sample))
        if latin < _MIN_MOJIBAKE_CHARS or _cjk_total(sample) * 4 > latin:
            break
        floor = _fit(sample) + _MIN_MOJIBAKE_CHARS
        best, best_fit = None, floor
        for table in _LATIN_REVERSE_TABLES:
            raw = current.translate(table).encode("latin-1", errors="replace")
            peeled = raw.decode("utf-8", errors="replace")
            if peeled.count("\ufffd") <= current.count("\ufffd") + latin // 100:
                best = peeled
                break
            for codec in ("gb18030", "big5hkscs"):
                candidate = raw.decode(codec, errors="replace")
                fit = _fit(candidate[:_SNIFF_CHARS])
                if fit > best_fit:
                    best, best_fit = candidate, fit
        if best is None:
            break
        current, repaired = best, True
    return current if repaired else None


def decode_html(data: bytes, content_type: str | bytes | None = None) -> tuple[str, str]:
    """Decode page bytes; undecodable bytes become U+FFFD instead of raising."""
    charset = detect_charset(data, content_type)
    text = data.decode(charset, errors="replace").removeprefix("\ufeff")
    if charset in _MOJIBAKE_CARRIERS and (repaired := repair_mojibake(text)) is not None:
        return repaired, charset
    return text, charset

"""Text preparation for near-duplicate detection: strip attribution and boilerplate lines, normalise.

Republished copies differ from their original mostly in the lines a portal adds around the body (a
byline, ``来源：InfoQ``, ``原标题：…``, a ``相关阅读`` list of titles, a disclaimer). Those lines are
removed before shingling, so that they do not lower the similarity of a copy, and returned as
``RemovedLine`` records, because they are the best evidence of which member of a cluster is the
original.

Normalisation is NFKC, then lower case, then every character that is not a letter or digit is
dropped (punctuation, whitespace, ``_``): ``normalize_text`` is the reference definition and
``normalized_codepoints`` a table-driven equivalent about ten times faster, which falls back to the
reference whenever a character could interact with its neighbours under NFKC (combining marks,
Hangul jamo, final sigma).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Final, Literal

import numpy as np
import numpy.typing as npt

from portal_archive.dedup.deferred import kernels

__all__ = [
    "NORMALIZATION",
    "PreparedText",
    "RemovedLine",
    "RemovedLineKind",
    "normalize_text",
    "normalized_codepoints",
    "prepare_text",
    "strip_attribution",
]

RemovedLineKind = Literal[
    "byline",
    "editor",
    "source",
    "original_title",
    "reprint",
    "editor_note",
    "read_original",
    "disclaimer",
    "share",
    "end_mark",
    "references",
    "link",
    "related",
]

NORMALIZATION: Final = "strip-attribution-v1+nfkc-lower-alnum"
"""Name of this text preparation, stored with every index: changing the rules changes shingles."""

_MAX_ATTRIBUTION_LINE: Final = 120
"""Attribution lines are short; a longer line starting with ``作者`` is body text."""
_MAX_DISCLAIMER_LINE: Final = 400
_LONG_LINE_KINDS: Final[dict[str, int]] = {"disclaimer": _MAX_DISCLAIMER_LINE, "editor_note": _MAX_DISCLAIMER_LINE}
"""Kinds whose lines may be a whole paragraph."""
_MAX_TITLE_LINE: Final = 64
"""Longest line still read as a headline inside a ``相关阅读`` block."""
_BLOB_CHARS_PER_SENTENCE: Final = 150
"""A long line after a related-links heading with fewer sentence ends than one per this many
characters is a run of concatenated headlines, not a paragraph."""

_SEP = r"\s*[|｜丨:：/]\s*"
_LINE_PATTERNS: Final[tuple[tuple[RemovedLineKind, re.Pattern[str]], ...]] = (
    (
        "editor",
        re.compile(r"^[\[【(（]?(?:责任编辑|责编|本文编辑|值班编辑)\s*[|｜丨:：]?\s*(?P<value>[^】\])）]*)[】\])）]?$"),
    ),
    (
        "byline",
        re.compile(
            r"^[\[【(（]?(?:整理|作者|撰文|撰稿|文|编辑|编译|策划|译者|翻译|审校|校对|记者|出品|监制|摄影|图|采写|口述|主编)"
            + _SEP
            + r"(?P<value>[^】\])）]+)[】\])）]?$"
        ),
    ),
    (
        "source",
        re.compile(
            r"^[\[【(（]?(?:来源|本文来源|文章来源|消息来源|稿件来源|信息来源|内容来源|来源于)"
            r"\s*[|｜丨:：]\s*(?P<value>.+)$"
        ),
    ),
    ("original_title", re.compile(r"^[\[【(（]?原标题\s*[:：]\s*(?P<value>.+?)[】\])）]?$")),
    (
        "reprint",
        re.compile(
            r"^(?:(?:本文|文章|此文)(?:转载自|转自|转载于|摘自|选自|来自|来源于|首发于|原载于|原发于)|转载自|转自|摘自|选自)"
            r"\s*(?:微信)?(?:公众号|公号)?\s*[:：]?\s*(?P<value>.+)$"
        ),
    ),
    ("editor_note", re.compile(r"^[\[【]?编者按[】\]]?\s*[:：]?\s*(?P<value>.*)$")),
    (
        "read_original",
        re.compile(
            r"^(?:(?:点击|戳|轻触)\s*(?:左下角|下方|文末)?\s*[“\"「『]?(?:阅读原文|查看原文)[”\"」』]?.*"
            r"|[“\"「『]?(?:阅读原文|查看原文)[”\"」』]?(?:\s*[:：]\s*(?P<link>\S+))?"
            r"|(?:原文链接|原文地址|原文网址|原文)\s*[:：]\s*(?P<value>\S+))$"
        ),
    ),
    ("disclaimer", re.compile(r"^[\[【]?(?:声明|免责声明|版权声明|特别声明|版权说明)[】\]]?\s*[:：]")),
    (
        "disclaimer",
        re.compile(
            r"版权归原作者所有|如有侵权|如涉及侵权|如涉侵权|如发现稿件侵权|不代表本(?:网|站|平台|号|刊|报)|"
            r"刊载任何文章|未经(?:授权|许可).{0,12}(?:转载|使用)|转载请(?:注明|联系)"
        ),
    ),  # every alternative holds one of _DISCLAIMER_NEEDLES
    (
        "share",
        re.compile(
            r"^(?:微信扫码|扫码关注|扫描二维码|长按(?:识别)?二维码|长按关注|关注(?:我们|公众号)|点击(?:上方|下方|关注|蓝字)|"
            r"点个?(?:赞|在看)|分享到|戳这里)"
        ),
    ),
    ("end_mark", re.compile(r"^(?:[（(【\[]\s*(?:完|全文完|本文完|end)\s*[)）】\]]|-*\s*end\s*-*)$", re.IGNORECASE)),
    ("link", re.compile(r"^(?:https?://|www\.)\S+$", re.IGNORECASE)),
)
_UNANCHORED_PATTERNS: Final = tuple(
    (kind, pattern) for kind, pattern in _LINE_PATTERNS if not pattern.pattern.startswith("^")
)
"""The patterns that may match away from the start of a line (disclaimers)."""
_DISCLAIMER_NEEDLES: Final = ("侵权", "不代表本", "版权归", "刊载任何", "未经", "转载请")
"""A substring of every match of the unanchored disclaimer pattern: a line with none of them skips
the search (most body lines at a text's edges; substring tests cost a tenth of the search)."""
_REFERENCES_HEADING: Final = re.compile(
    r"^[\[【]?(?:参考链接|参考资料|参考文献|参考来源|相关链接|资料来源)[】\]]?\s*[:：]?\s*$"
)
_RELATED_HEADING: Final = re.compile(
    r"^[\[【▼▶■●—\-\s]*(?P<head>今日好文推荐|好文推荐|推荐阅读|相关阅读|相关新闻|相关推荐|延伸阅读|热门文章|热门推荐|往期推荐|往期回顾|"
    r"往期精选|精彩推荐|精彩回顾|相关文章|猜你喜欢|更多阅读|扩展阅读|热文推荐|今日推荐|相关报道)[】\]▼\s]*[:：]?\s*(?P<value>.*)$"
)
_URL_IN_LINE: Final = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_LEAD_CHARS: Final = frozenset(
    "责整作撰文编策译翻审校记出监摄图采口主来本消稿信内原此转摘选点戳轻阅查声免版特微扫长关分参相资今好推延热往精猜更扩完全eEhHwW"
)
"""First characters (after an opening bracket) of every anchored pattern: other lines skip them."""
_OPENERS: Final = "[【(（▼▶■●—-"
_EDGE_LINES: Final = (2, 6)
"""Disclaimers that do not start with 声明 are looked for in the first 2 and last 6 lines only: that is
where portals put them, and scanning every paragraph for 版权/转载 costs more than the rest."""
_QUOTED_NAME: Final = re.compile(r"[“\"「『《]([^”\"」』》]{1,40})[”\"」』》]")
_OUTLET_TAIL: Final = re.compile(
    r"\s*(?:[（(](?:ID|微信号|微信ID|公众号)\s*[:：]?.*|[，,;；|｜].*|\s+(?:作者|编辑|记者|原标题)\s*[:：|｜].*)$",
    re.IGNORECASE,
)
_SPACES: Final = " \t\r\n\u3000\u00a0\u200b\ufeff"
_WORD_FILTER: Final = re.compile(r"[\W_]+")


@dataclass(frozen=True, slots=True)
class RemovedLine:
    """A line removed before shingling, kept because it says where the text comes from."""

    kind: RemovedLineKind
    text: str
    """The line as it appeared (whitespace-trimmed)."""
    value: str = ""
    """What the line names: the outlet of ``来源：…``, the title of ``原标题：…``, a URL…"""


@dataclass(frozen=True, slots=True)
class PreparedText:
    """A body ready for shingling, and the lines removed from it."""

    body: str
    """The kept lines, joined with ``\\n``, before normalisation."""
    codepoints: npt.NDArray[np.uint32] = field(repr=False)
    """The normalised text as Unicode code points (see ``normalize_text``)."""
    removed: tuple[RemovedLine, ...] = ()

    @property
    def length(self) -> int:
        """Normalised length in characters: what the length thresholds of the copy rule use."""
        return int(self.codepoints.size)

    @property
    def normalized(self) -> str:
        """The normalised text as a string (built on demand; the fast path never needs it)."""
        return self.codepoints.astype("<u4").tobytes().decode("utf-32-le", "surrogatepass")

    def values(self, *kinds: RemovedLineKind) -> tuple[str, ...]:
        """Non-empty values of the removed lines of the given kinds, in order of appearance."""
        return tuple(line.value for line in self.removed if line.kind in kinds and line.value)

    @property
    def attributions(self) -> tuple[str, ...]:
        """Outlets named as the source (``来源：``, ``转载自``, ``本文来自微信公众号“…”``)."""
        return self.values("source", "reprint")

    @property
    def original_titles(self) -> tuple[str, ...]:
        """Titles given by ``原标题：`` lines."""
        return self.values("original_title")

    @property
    def read_original_urls(self) -> tuple[str, ...]:
        """URLs of ``阅读原文`` / ``原文链接：`` lines."""
        return tuple(v for v in self.values("read_original") if _URL_IN_LINE.match(v))

    @property
    def related_titles(self) -> tuple[str, ...]:
        """Headlines of ``相关阅读`` / ``推荐阅读`` / ``今日好文推荐`` blocks."""
        return self.values("related")


def _clean_outlet(value: str) -> str:
    """``微信公众号“InfoQ”（ID：infoqchina），作者：…`` → ``InfoQ``."""
    quoted = _QUOTED_NAME.search(value)
    if quoted:
        return quoted.group(1).strip()
    return _OUTLET_TAIL.sub("", value).strip(_SPACES + '“”"「」【】[]（）()')


def _classify(line: str, anchored: bool = True) -> RemovedLine | None:
    """The kind of a single attribution/boilerplate line, or None for body text.

    Lines that are not ``anchored`` can only be disclaimers matched away from their start.
    """
    if not anchored and not any(needle in line for needle in _DISCLAIMER_NEEDLES):
        return None
    for kind, pattern in _LINE_PATTERNS if anchored else _UNANCHORED_PATTERNS:
        if len(line) > _LONG_LINE_KINDS.get(kind, _MAX_ATTRIBUTION_LINE):
            continue
        match = pattern.search(line) if kind == "disclaimer" else pattern.match(line)
        if match is None:
            continue
        groups = match.groupdict()
        value = (groups.get("value") or groups.get("link") or "").strip(_SPACES)
        if kind == "link":
            value = line
        elif kind in ("source", "reprint"):
            value = _clean_outlet(value)
        return RemovedLine(kind, line, value)
    return None


def _is_title_like(line: str) -> bool:
    """A headline in a list of related stories: short and not a finished sentence, or a run of them."""
    if len(line) <= _MAX_TITLE_LINE:
        return not line.endswith(("。", "；", ";", "：", ":"))
    return line.count("。") * _BLOB_CHARS_PER_SENTENCE < len(line)


def strip_attribution(text: str) -> tuple[str, tuple[RemovedLine, ...]]:
    """Remove attribution lines and related-story blocks; return the kept body and what was removed.

    Line patterns: bylines (``整理 | …``, ``作者：…``), ``来源：…``, ``原标题：…``, ``本文转载自…``,
    ``本文来自微信公众号“…”``, ``编者按…``, ``责任编辑：…``, ``点击“阅读原文”`` / ``原文链接：URL``,
    disclaimers, share prompts, end marks and bare URLs. Blocks: a ``参考链接`` heading with its URL
    lines, and a ``今日好文推荐`` / ``推荐阅读`` / ``相关阅读`` / ``相关新闻``… heading with the
    headlines that follow it (short lines that are not finished sentences).

    Args:
        text: A body text, one paragraph per line.

    Returns:
        The kept lines joined with ``\\n``, and the removed lines in order of appearance.
    """
    kept: list[str] = []
    removed: list[RemovedLine] = []
    block: Literal["", "related", "references"] = ""
    lines = text.splitlines()
    head, tail = _EDGE_LINES[0], len(lines) - _EDGE_LINES[1]
    for number, raw_line in enumerate(lines):
        line = raw_line.strip(_SPACES)
        if not line:
            continue
        anchored = line.lstrip(_OPENERS)[:1] in _LEAD_CHARS
        edge = (number < head or number >= tail) and len(line) <= _MAX_DISCLAIMER_LINE
        if block == "related":
            if _is_title_like(line) and not ((anchored or edge) and _classify(line, anchored)):
                removed.append(RemovedLine("related", line, line))
                continue
            block = ""
        elif block == "references":
            if _URL_IN_LINE.search(line) and len(line) <= _MAX_DISCLAIMER_LINE:
                url = _URL_IN_LINE.search(line)
                removed.append(RemovedLine("references", line, url.group(0) if url else ""))
                continue
            block = ""
        if not anchored:
            disclaimer = _classify(line, anchored=False) if edge else None
            if disclaimer is not None:
                removed.append(disclaimer)
            else:
                kept.append(line)
            continue
        heading = _RELATED_HEADING.match(line)
        if heading is not None and (len(line) <= _MAX_ATTRIBUTION_LINE or _is_title_like(line)):
            removed.append(RemovedLine("related", line, ""))
            inline = heading.group("value").strip(_SPACES)
            if inline:
                removed.append(RemovedLine("related", inline, inline))
            block = "related"
            continue
        if heading is None and line[:1] in "参相资[【" and _REFERENCES_HEADING.match(line):
            removed.append(RemovedLine("references", line, ""))
            block = "references"
            continue
        classified = _classify(line)
        if classified is not None:
            removed.append(classified)
            continue
        kept.append(line)
    return "\n".join(kept), tuple(removed)


def normalize_text(text: str) -> str:
    """The reference normalisation: NFKC, lower case, then keep letters and digits only.

    ``_`` and every character outside Unicode's letter and digit classes (punctuation, symbols,
    whitespace, combining marks left after composition) are dropped, so ``“Stable Diffusion 3”，``
    becomes ``stablediffusion3``. Digits stay: they tell template news apart.
    """
    return _WORD_FILTER.sub("", unicodedata.normalize("NFKC", text).lower())


_TABLE_LIMIT: Final = 0x30000
"""Code points below this (BMP, SMP, SIP: all CJK up to extension F) are tabulated."""
_EXPANDS: Final = 1 << 30
"""Flag of a table entry: the character normalises to several characters (``㎡`` → ``m2``)."""
_CONTEXTUAL: Final = 1 << 31
"""Flag of a table entry: the character's normalisation depends on its neighbours."""


_TABLE_BLOCK: Final = 4096
"""Code points normalised per pass while the tables are built."""


@dataclass(frozen=True, slots=True)
class _Tables:
    mapped: npt.NDArray[np.uint32]
    """Per code point: the code point it normalises to (0 = dropped), or a flag."""
    expansions: dict[int, npt.NDArray[np.uint32]]


def _composition_seconds() -> set[int]:
    """Characters that canonical composition can merge into the character before them."""
    seconds: set[int] = set(range(0x1161, 0x1176)) | set(range(0x11A8, 0x11C3))  # Hangul V and T jamo
    for cp in range(_TABLE_LIMIT):
        decomposition = unicodedata.decomposition(chr(cp))
        if decomposition and not decomposition.startswith("<"):
            parts = decomposition.split()
            if len(parts) == 2:
                seconds.add(int(parts[1], 16))
    return seconds


@functools.cache
def _tables() -> _Tables:
    """Per-character NFKC → lower → filter results (~0.2 s, once per process).

    NFKC of a string is the concatenation of the NFKC of its characters unless a character's
    decomposition starts with a combining mark or a character that composes with its predecessor;
    those, the context-sensitive capital sigma, surrogates and code points from U+30000 are marked
    ``_CONTEXTUAL`` and sent to the reference implementation.
    """
    seconds = _composition_seconds()
    mapped = np.full(0x110000, _CONTEXTUAL, dtype=np.uint32)
    mapped[0] = 0  # NUL is dropped like any control character
    expansions: dict[int, npt.NDArray[np.uint32]] = {}
    # Block by block: the whole range at once held ~20 MB of short strings that the allocator kept
    # as resident memory for the rest of the crawl.
    for start in range(1, _TABLE_LIMIT, _TABLE_BLOCK):
        codepoints = np.arange(start, min(start + _TABLE_BLOCK, _TABLE_LIMIT), dtype=np.uint32)
        codepoints = codepoints[(codepoints < 0xD800) | (codepoints > 0xDFFF)]
        if codepoints.size == 0:
            continue
        chars = codepoints.astype("<u4").tobytes().decode("utf-32-le")
        # NUL is a starter that composes with nothing, so it keeps each character's normalisation apart.
        nfkc = unicodedata.normalize("NFKC", "\x00".join(chars)).split("\x00")
        nfkd_first = [part[:1] for part in unicodedata.normalize("NFKD", "\x00".join(chars)).split("\x00")]
        filtered = re.sub(r"[^\w\x00]|_", "", "\x00".join(nfkc).lower()).split("\x00")
        for cp, normalized, result, first in zip(codepoints.tolist(), nfkc, filtered, nfkd_first, strict=True):
            if "\u03a3" in normalized or (first and (unicodedata.combining(first) or ord(first) in seconds)):
                continue
            if len(result) <= 1:
                mapped[cp] = ord(result) if result else 0
            else:
                mapped[cp] = _EXPANDS
                expansions[cp] = np.frombuffer(result.encode("utf-32-le"), dtype=np.uint32).copy()
    return _Tables(mapped=mapped, expansions=expansions)


def _reference_codepoints(text: str) -> npt.NDArray[np.uint32]:
    return np.frombuffer(normalize_text(text).encode("utf-32-le", "surrogatepass"), dtype="<u4").astype(np.uint32)


def normalized_codepoints(text: str) -> npt.NDArray[np.uint32]:
    """``normalize_text(text)`` as an array of code points, computed through a lookup table.

    Equal to the reference for every input; texts with combining marks, Hangul jamo, a capital
    sigma or characters from U+30000 take the reference path.
    """
    raw = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    if raw.size == 0:
        return np.zeros(0, dtype=np.uint32)
    tables = _tables()
    kept, flags = kernels.mapped_codepoints(raw, tables.mapped)  # one pass: look up, drop zeros, note flags
    if flags & _CONTEXTUAL:
        return _reference_codepoints(text)
    if not flags & _EXPANDS:
        return kept
    mapped: npt.NDArray[np.uint32] = tables.mapped.take(raw)
    pieces: list[npt.NDArray[np.uint32]] = []
    start = 0
    for position in np.flatnonzero(mapped == _EXPANDS).tolist():
        pieces.append(mapped[start:position])
        pieces.append(tables.expansions[int(raw[position])])
        start = position + 1
    pieces.append(mapped[start:])
    mapped = np.concatenate(pieces)
    expanded: npt.NDArray[np.uint32] = np.compress(mapped != 0, mapped)
    return expanded


def prepare_text(text: str) -> PreparedText:
    """Strip attribution lines and related-story blocks, then normalise what is left.

    Example:
        >>> prepared = prepare_text("整理 | 凌敏\\n近期，AI 公司发生变动。\\n来源：InfoQ")
        >>> prepared.normalized, prepared.attributions
        ('近期ai公司发生变动', ('InfoQ',))
    """
    body, removed = strip_attribution(text)
    return PreparedText(body=body, codepoints=normalized_codepoints(body), removed=removed)

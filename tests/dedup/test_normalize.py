"""Text preparation: attribution and related-story lines are stripped and kept; normalisation is NFKC,
lower case, letters and digits only, and the table-driven path equals the reference."""

from __future__ import annotations

import random
import unicodedata
from pathlib import Path

import numpy as np
import pytest

from portal_archive.dedup import normalize_text, normalized_codepoints, prepare_text, strip_attribution
from tests.dedup.test_texts import LIBRARY, library_copy, library_excerpt

SEED_PAGE = Path(__file__).resolve().parents[3] / "shared" / "seeds" / "bendi-news-infoq-article.txt"


def as_text(codepoints: np.ndarray) -> str:
    return "".join(map(chr, codepoints.tolist()))


def test_normalisation_is_nfkc_lower_and_drops_punctuation_but_keeps_digits() -> None:
    assert normalize_text("“Stable Diffusion 3”，估值１０亿美元！") == "stablediffusion3估值10亿美元"
    assert normalize_text("ＡＩ　前线：２０２４年") == "ai前线2024年"
    assert normalize_text("snake_case, 1/2 ½") == "snakecase1212"
    assert normalize_text("  \n\t。，、") == ""


@pytest.mark.parametrize(
    "text",
    [
        LIBRARY,
        "café and cafe\u0301 side by side",  # precomposed and combining accents
        "ΣΊΣΥΦΟΣ ΣΑΣ Σ",  # final sigma depends on the next character
        "한국어 ᄒᆞᆫ글 jamo 가\u11a8",  # Hangul syllables and conjoining jamo
        "ﬁnance ㎡ ℃ ㈱ ⑴ №",  # compatibility characters that expand
        "İstanbul ǅemal",  # lower-casing that expands
        "𠀀𠀁 ext-B, 𰀀 ext-G, 🙂 emoji",
        "lone \ud800 surrogate",
        "",
    ],
)
def test_fast_path_equals_reference(text: str) -> None:
    assert as_text(normalized_codepoints(text)) == normalize_text(text)


def test_fast_path_equals_reference_on_random_text() -> None:
    pools = [
        range(0x20, 0x7F),
        range(0x3000, 0x3040),
        range(0x4E00, 0x4E80),
        range(0xFF00, 0xFF70),
        range(0x0300, 0x0370),
        range(0xFB00, 0xFB07),
        range(0x3380, 0x33E0),
        range(0x1100, 0x1200),
        range(0xAC00, 0xAC40),
        range(0x0391, 0x03CA),
        range(0x2460, 0x24F0),
        range(0x1D400, 0x1D440),
        range(0x20000, 0x20010),
    ]
    rng = random.Random(7)
    for _ in range(400):
        text = "".join(chr(rng.choice(rng.choice(pools))) for _ in range(rng.randint(0, 60)))
        assert as_text(normalized_codepoints(text)) == normalize_text(text), ascii(text)


def test_fast_path_on_common_text_needs_no_fallback() -> None:
    # Full-width punctuation and digits are tabulated: Chinese news never reaches unicodedata.
    assert unicodedata.is_normalized("NFKC", LIBRARY) is False
    assert as_text(normalized_codepoints(LIBRARY)) == normalize_text(LIBRARY)


@pytest.mark.parametrize(
    ("line", "kind", "value"),
    [
        ("整理 | 凌敏、核子可乐", "byline", "凌敏、核子可乐"),
        ("作者：张三", "byline", "张三"),
        ("来源：InfoQ", "source", "InfoQ"),
        ("来源:InfoQ（ID：infoqchina）", "source", "InfoQ"),
        ("【来源：新华社】", "source", "新华社"),
        ("原标题：大模型创业淘汰潮开始了", "original_title", "大模型创业淘汰潮开始了"),
        ("本文转载自微信公众号“AI前线”", "reprint", "AI前线"),
        ("本文来自微信公众号“极客邦科技”（ID：geekbang），作者：某某", "reprint", "极客邦科技"),
        ("编者按：本文讨论了……", "editor_note", "本文讨论了……"),
        ("责任编辑：张三 SN123", "editor", "张三 SN123"),
        ("点击“阅读原文”查看更多", "read_original", ""),
        ("原文链接：https://www.infoq.cn/article/abc", "read_original", "https://www.infoq.cn/article/abc"),
        ("声明：本文仅代表作者观点", "disclaimer", ""),
        ("微信扫码关注该文公众号作者", "share", ""),
        ("（完）", "end_mark", ""),
        ("https://www.example.com/a/b", "link", "https://www.example.com/a/b"),
    ],
)
def test_attribution_lines_are_removed_and_kept(line: str, kind: str, value: str) -> None:
    body, removed = strip_attribution(f"第一段正文内容在这里。\n{line}\n第二段正文内容在这里。")
    assert body == "第一段正文内容在这里。\n第二段正文内容在这里。"
    assert [(r.kind, r.value) for r in removed] == [(kind, value)]


@pytest.mark.parametrize(
    "line",
    [
        "来自北京的消息称，图书馆将延长开放时间。",  # starts like a reprint line, but is a sentence
        "作者认为这一做法值得推广。",  # 作者 without a separator
        "本文介绍了图书馆的新规定。",
        "原标题没有变化，但内容作了大幅修改，读者可以对照阅读。" * 5,  # too long for an attribution
    ],
)
def test_body_sentences_are_kept(line: str) -> None:
    body, removed = strip_attribution(line)
    assert body == line
    assert removed == ()


def test_related_block_is_removed_with_its_headlines_until_the_body_resumes() -> None:
    text = "\n".join(
        [
            "正文第一段。",
            "相关阅读：",
            "全市新增三座社区书房",
            "地铁末班车延时方案公布",
            "",
            "正文在相关阅读之后继续，这是一个完整的句子。",
        ]
    )
    body, removed = strip_attribution(text)
    assert body == "正文第一段。\n正文在相关阅读之后继续，这是一个完整的句子。"
    assert [r.value for r in removed if r.kind == "related" and r.value] == [
        "全市新增三座社区书房",
        "地铁末班车延时方案公布",
    ]


def test_inline_related_titles_after_the_heading_are_kept_as_metadata() -> None:
    prepared = prepare_text("正文。\n推荐阅读：图书馆夜间开放试行三个月")
    assert prepared.related_titles == ("图书馆夜间开放试行三个月",)
    assert prepared.normalized == "正文"


def test_copy_normalises_close_to_the_original_and_keeps_its_attribution() -> None:
    copy = prepare_text(library_copy())
    assert copy.attributions == ("城市晚报",)
    assert copy.values("byline") == ("王小编",)
    assert copy.related_titles == ("全市新增三座社区书房", "地铁末班车延时方案公布", "暑期少儿阅读计划启动")
    assert "责任编辑" not in copy.body and "相关阅读" not in copy.body
    assert copy.normalized.startswith(normalize_text(LIBRARY)[:40])


def test_read_original_prompt_is_metadata() -> None:
    excerpt = prepare_text(library_excerpt())
    assert [r.kind for r in excerpt.removed] == ["read_original"]
    assert "阅读原文" not in excerpt.normalized


@pytest.mark.parametrize(
    "garbage", ["", "   \n\n", "。。。！！！", "https://a.example/x\nhttps://b.example/y", "\x00\x01"]
)
def test_garbage_normalises_to_nothing(garbage: str) -> None:
    assert prepare_text(garbage).length == 0


@pytest.mark.skipif(not SEED_PAGE.is_file(), reason="the shared seed page is not beside this clone")
def test_seed_page_loses_its_portal_boilerplate() -> None:
    prepared = prepare_text(SEED_PAGE.read_text(encoding="utf-8"))
    kinds = {line.kind for line in prepared.removed}
    assert {"byline", "references", "related", "share", "source", "disclaimer"} <= kinds
    assert prepared.attributions == ("InfoQ",)
    assert "今日好文推荐" not in prepared.body and "相关新闻" not in prepared.body
    assert "Bendi.news刊载任何文章" not in prepared.body
    assert prepared.body.rstrip().endswith("我们期待着一位救世骑士的出现。”")


def test_fast_path_equals_reference_for_every_single_character() -> None:
    """The lookup table (built block by block) agrees with the reference on each code point alone."""
    wrong = [
        cp
        for cp in range(1, 0x30000)
        if not 0xD800 <= cp <= 0xDFFF and as_text(normalized_codepoints(chr(cp))) != normalize_text(chr(cp))
    ]
    assert wrong == []


def test_every_unanchored_disclaimer_holds_one_of_the_needles_that_let_a_line_skip_the_search() -> None:
    from portal_archive.dedup.normalize import _DISCLAIMER_NEEDLES, _UNANCHORED_PATTERNS, _classify

    ((_, pattern),) = _UNANCHORED_PATTERNS
    examples = [
        "文章版权归原作者所有", "如有侵权请联系删除", "如涉及侵权，请联系", "如涉侵权请告知", "如发现稿件侵权请联系",
        "仅代表作者观点，不代表本网立场", "不代表本报观点", "本站刊载任何文章", "未经授权不得转载",
        "未经许可，禁止任何形式的使用", "转载请注明出处", "转载请联系作者",
    ]  # fmt: skip
    for line in examples:
        match = pattern.search(line)
        assert match is not None, line
        assert any(needle in match.group(0) for needle in _DISCLAIMER_NEEDLES), line
        classified = _classify(line, anchored=False)
        assert classified is not None and classified.kind == "disclaimer"
    assert _classify("本报记者从会上获悉，今年全市新增就业岗位。", anchored=False) is None

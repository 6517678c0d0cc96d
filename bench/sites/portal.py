"""A static Chinese news portal for crawl benchmarks, written to a folder.

Layout (every page is plain UTF-8 HTML, 2-4 KB for articles)::

    /robots.txt
    /index.html                      home: the newest PER_LIST articles, pager
    /list/N.html                     list pages 2..L (PER_LIST articles each, pager with a window of pages)
    /news/YYYYMMDD/ID.html           article pages: nav, h1, date + source line, body, related links, footer

Article text is made of sentences from the demo corpus (``portal_archive/demo/corpus/*.json``)
drawn at random, so two articles rarely share more than a sentence. About one article in ten is a
syndicated near-copy of an earlier one, the way portals republish: an attribution line
(``来源：…`` / ``本文转载自…``), an editor's note, a sentence or two dropped or added, another title
and other related links. The manifest lists the planted pairs so a bench can check that the
near-duplicate index found them.

    .venv/bin/python bench/sites/portal.py OUT_DIR [--articles 2000]   # write a site by hand
"""

from __future__ import annotations

import argparse
import html
import json
import random
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[2] / "portal_archive" / "demo" / "corpus"
SITE_NAME = "本地新闻网"
PER_LIST = 20
ARTICLE_RE = r"^/news/\d{8}/\d+\.html$"
OUTLETS = ("新华社", "人民网", "澎湃新闻", "InfoQ", "36氪", "界面新闻", "中国新闻网", "财新网", "南方都市报", "光明网")
SECTIONS = ("要闻", "科技", "财经", "社会", "文化", "体育")
_SENTENCE_RE = re.compile(r"[^。！？]+[。！？”」]*")


@dataclass
class Article:
    number: int
    path: str
    title: str
    published: datetime
    source: str
    sentences: list[str]
    copy_of: int | None = None
    intro: str = ""
    outro: str = ""


@dataclass
class SiteManifest:
    """What was generated: counts, sizes and the planted near-copies (copy path, original path)."""

    root: str
    articles: int
    list_pages: int
    pages: int
    """Every URL a full crawl fetches: robots.txt, home, list pages and articles."""
    bytes: int
    article_bytes_min: int
    article_bytes_max: int
    copies: list[tuple[str, str]] = field(default_factory=list)


def corpus_sentences() -> tuple[list[str], list[str]]:
    """Sentences and titles of the demo corpus (deduplicated, in a stable order)."""
    sentences: dict[str, None] = {}
    titles: list[str] = []
    for path in sorted(CORPUS.glob("*.json")):
        for article in json.loads(path.read_text("utf-8")):
            titles.append(article["title"])
            for paragraph in article["paragraphs"]:
                for sentence in _SENTENCE_RE.findall(paragraph):
                    sentence = sentence.strip()
                    if len(sentence) >= 8:
                        sentences[sentence] = None
    return list(sentences), titles


def _paragraphs(sentences: list[str], rng: random.Random) -> list[str]:
    paragraphs, current = [], []
    for sentence in sentences:
        current.append(sentence)
        if len(current) >= rng.randint(2, 4):
            paragraphs.append("".join(current))
            current = []
    if current:
        paragraphs.append("".join(current))
    return paragraphs


def _article_html(article: Article, related: list[Article], rng: random.Random, list_pages: int) -> str:
    esc = html.escape
    nav = " ".join(
        f'<a href="/list/{n}.html">{section}</a>'
        for n, section in zip(range(2, list_pages + 1), SECTIONS, strict=False)
    )
    body = []
    if article.intro:
        body.append(f'<p class="note">{esc(article.intro)}</p>')
    body.extend(f"<p>{esc(p)}</p>" for p in _paragraphs(article.sentences, rng))
    if article.outro:
        body.append(f"<p>{esc(article.outro)}</p>")
    links = "".join(f'<li><a href="{r.path}">{esc(r.title)}</a></li>' for r in related)
    stamp = article.published.strftime("%Y-%m-%d %H:%M")
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{esc(article.title)} - {SITE_NAME}</title>"
        f'<meta name="description" content="{esc(article.sentences[0][:60])}"></head>\n<body>\n'
        f'<div class="nav"><a href="/">首页</a> {nav}</div>\n'
        f'<div class="breadcrumb"><a href="/">{SITE_NAME}</a> &gt; 正文</div>\n'
        f'<h1 class="title">{esc(article.title)}</h1>\n'
        f'<div class="meta"><span class="time">{stamp}</span> '
        f'<span class="source">来源：{esc(article.source)}</span></div>\n'
        f'<div class="article-body">\n{chr(10).join(body)}\n</div>\n'
        f'<div class="related"><h3>相关新闻</h3><ul>{links}</ul></div>\n'
        f'<div class="footer">关于我们 | 联系方式 | 违法和不良信息举报 © 2024 {SITE_NAME}</div>\n'
        "</body></html>\n"
    )


def _list_html(page: int, pages: int, items: list[Article]) -> str:
    esc = html.escape

    def href(n: int) -> str:
        return "/" if n == 1 else f"/list/{n}.html"

    entries = "\n".join(
        f'<li><a href="{a.path}">{esc(a.title)}</a> <span class="time">{a.published:%m-%d %H:%M}</span></li>'
        for a in items
    )
    window = [n for n in range(max(1, page - 4), min(pages, page + 4) + 1)]
    pager = [f'<a href="{href(1)}">首页</a>']
    pager += [f'<a href="{href(n)}">{n}</a>' if n != page else f"<b>{n}</b>" for n in window]
    if page < pages:
        pager.append(f'<a class="next" href="{href(page + 1)}">下一页</a>')
    pager.append(f'<a href="{href(pages)}">末页</a>')
    title = SITE_NAME if page == 1 else f"新闻列表 第{page}页 - {SITE_NAME}"
    return (
        f'<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8"><title>{title}</title></head>\n<body>\n'
        f'<div class="nav"><a href="/">首页</a></div>\n<h1>{title}</h1>\n'
        f'<ul class="list">\n{entries}\n</ul>\n<div class="pager">{" ".join(pager)}</div>\n'
        f'<div class="footer">© 2024 {SITE_NAME}</div>\n</body></html>\n'
    )


def _syndicate(original: Article, number: int, rng: random.Random, pool: list[str]) -> Article:
    sentences = list(original.sentences)
    for _ in range(rng.randint(0, 2)):  # a sentence or two dropped
        if len(sentences) > 6:
            sentences.pop(rng.randrange(1, len(sentences)))
    for _ in range(rng.randint(0, 1)):  # or one added
        sentences.insert(rng.randrange(len(sentences)), rng.choice(pool))
    intro = rng.choice(("", f"本文转载自{original.source}，原标题：{original.title}", f"编者按：{rng.choice(pool)}"))
    return Article(
        number=number,
        path="",
        title=rng.choice(("转载｜", "深度｜", "")) + original.title + rng.choice(("", "（附全文）", "")),
        published=original.published + timedelta(hours=rng.randint(1, 48)),
        source=original.source,
        sentences=sentences,
        copy_of=original.number,
        intro=intro,
        outro=rng.choice(("", "（责任编辑：王芳）", "更多精彩内容，请关注本站。")),
    )


def build_articles(count: int, rng: random.Random, copy_share: float = 0.1) -> list[Article]:
    """``count`` articles, newest first once sorted by the caller; about ``copy_share`` are near-copies."""
    pool, titles = corpus_sentences()
    start = datetime(2024, 1, 1, tzinfo=UTC)
    articles: list[Article] = []
    for number in range(count):
        if articles and rng.random() < copy_share:
            candidates = [a for a in articles[-200:] if a.copy_of is None]
            if candidates:
                article = _syndicate(rng.choice(candidates), number, rng, pool)
                articles.append(article)
                continue
        target_chars = rng.randint(290, 780)  # pages of 2-4 KB with the markup around them
        sentences: list[str] = []
        while sum(map(len, sentences)) < target_chars:
            sentences.append(rng.choice(pool))
        articles.append(
            Article(
                number=number,
                path="",
                title=f"{rng.choice(titles)[:18]}（{number}）",
                published=start + timedelta(minutes=7 * number + rng.randint(0, 6)),
                source=rng.choice(OUTLETS),
                sentences=sentences,
            )
        )
    for article in articles:
        article.path = f"/news/{article.published:%Y%m%d}/{100000 + article.number}.html"
    return articles


def build_site(root: Path, articles: int = 2000, *, seed: int = 11, copy_share: float = 0.1) -> SiteManifest:
    """Write the portal into ``root`` (created) and return its manifest (also ``root/manifest.json``)."""
    rng = random.Random(seed)
    items = build_articles(articles, rng, copy_share)
    newest_first = sorted(items, key=lambda a: a.published, reverse=True)
    list_pages = max(1, -(-len(items) // PER_LIST))
    root.mkdir(parents=True, exist_ok=True)
    (root / "robots.txt").write_text("User-agent: *\nDisallow: /admin/\n", "utf-8")
    total = 0
    sizes: list[int] = []
    for article in items:
        related = rng.sample(items, k=min(4, len(items)))
        data = _article_html(article, [r for r in related if r is not article], rng, list_pages).encode("utf-8")
        target = root / article.path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        sizes.append(len(data))
        total += len(data)
    for page in range(1, list_pages + 1):
        chunk = newest_first[(page - 1) * PER_LIST : page * PER_LIST]
        data = _list_html(page, list_pages, chunk).encode("utf-8")
        target = root / ("index.html" if page == 1 else f"list/{page}.html")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        total += len(data)
    by_number = {a.number: a for a in items}
    manifest = SiteManifest(
        root=str(root),
        articles=len(items),
        list_pages=list_pages,
        pages=1 + list_pages + len(items),
        bytes=total,
        article_bytes_min=min(sizes),
        article_bytes_max=max(sizes),
        copies=[(a.path, by_number[a.copy_of].path) for a in items if a.copy_of is not None],
    )
    (root / "manifest.json").write_text(json.dumps(asdict(manifest), ensure_ascii=False), "utf-8")
    return manifest


def write_profile(path: Path, base_url: str) -> Path:
    """The ``scrapy crawl portal -a profile=…`` profile of the generated portal."""
    path.write_text(
        f"""# The generated bench portal (bench/sites/portal.py).
name = "benchportal"
base_url = "{base_url}"
domain = "bench-portal.example.cn"
role = "publisher"
language = "zh"
start_paths = ["/"]
delay = 0

[links]
article = ['{ARTICLE_RE}']
follow = ['^/$', '^/list/']
pagination = ["a.next"]
from_articles = true

[selectors]
title = "h1.title"
body = ".article-body"
date = ".meta .time"
source = ".meta .source"

[selectors.boilerplate]
nav = [".nav", ".breadcrumb"]
related_links = [".related"]
footer = [".footer"]
""",
        "utf-8",
    )
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    manifest = build_site(args.out, args.articles, seed=args.seed)
    print(
        f"{manifest.pages} pages ({manifest.articles} articles, {manifest.list_pages} lists, "
        f"{len(manifest.copies)} near-copies), {manifest.bytes / 1e6:.1f} MB, articles "
        f"{manifest.article_bytes_min}-{manifest.article_bytes_max} B in {args.out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

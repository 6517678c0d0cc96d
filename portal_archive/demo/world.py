"""Planning the demo world: which site publishes what, under which URL, with which quirks.

Everything here is decided from the seed before any page is rendered, so the pages,
the routes and the manifest all describe the same world. Each decision draws from
its own derived RNG, so adding a corpus file reshuffles as little as possible.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Final, Literal
from urllib.parse import urlsplit

from .articles import Article
from .blocks import Block
from .identifiers import make_cuid, make_cuid_fingerprint, make_infoq_id, make_wechat_id
from .seed_page import SEED_SLUG, SeedPage
from .syndication import CopyPlan, CopyRelation, plan_copy

StoryRelation = Literal["copy", "excerpt", "aggregator-only"]
Encoding = Literal["utf-8", "gbk"]


@dataclass(frozen=True)
class Category:
    """An aggregator section: URL slug and the label in the navigation bar."""

    slug: str
    label: str


CATEGORIES: Final = (
    Category("tech", "科技"),
    Category("finance", "财经"),
    Category("local", "本地"),
    Category("society", "社会"),
    Category("life", "生活"),
    Category("sports", "文体"),
)
GBK_CATEGORY: Final = "local"
BENDI_CATEGORY_SLUGS: Final = {"本地": "local", "社会": "society", "生活": "life", "文体": "sports"}
ACCOUNT_CATEGORY_SLUGS: Final = {"硅谷观察笔记": "tech", "财经深一度": "finance", "科学小站": "tech"}
ACCOUNT_SLUGS: Final = {"硅谷观察笔记": "sv-notes", "财经深一度": "caijing-deep", "科学小站": "science-station"}
LOCAL_SOURCES: Final = ("Bendi新闻", "新民晚报", "扬子晚报", "钱江晚报", "南方都市报")
INFOQ_SOURCE: Final = "InfoQ"
SYNDICATED_SHARE: Final = 1 / 3
EXCERPT_COUNT: Final = (3, 4)
INGEST_DELAY_MS: Final = (5 * 60 * 1000, 18 * 3600 * 1000)
RELATED_COUNT: Final = (20, 30)
LEGACY_INFOQ_COUNT: Final = 2


@dataclass(frozen=True)
class SiteUrls:
    """Base URLs ("http://host:port", no trailing slash) of the three portals and the two cited sites."""

    bendi: str
    infoq: str
    wechat: str
    forbes: str = ""
    """The forbes-like site articles cite (empty: references keep their real hosts)."""
    verge: str = ""
    """The verge-like site articles cite."""

    def local_reference(self, url: str) -> str:
        """A cited URL on the host the demo serves it from: forbes- and verge-like pages on their
        sites, an infoq.cn page on the InfoQ-like portal; any other URL as it is."""
        parts = urlsplit(url)
        host = (parts.hostname or "").removeprefix("www.")
        base = {"forbes.com": self.forbes, "theverge.com": self.verge, "infoq.cn": self.infoq}.get(host, "")
        if not base:
            return url
        return base + (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


CITED_PAGES: Final = 6
"""InfoQ originals that cite pages of the two cited sites, besides the seed article."""


Delivery = Literal["html", "api", "prosemirror", "content_url", "script"]
"""How an InfoQ-like article page gets its body: in the served HTML; by script from the getDetail
API as HTML, as a ProseMirror document, or from the ``content_url`` the API names; or by script
from data only the page holds (neither the HTML nor the API: a browser is needed)."""
CLIENT_DELIVERIES: Final[tuple[Delivery, ...]] = ("api", "prosemirror", "content_url")
CLIENT_SHARE: Final = 0.6
"""Share of the ordinary InfoQ articles whose page is an empty shell filled from the API."""


@dataclass(frozen=True)
class InfoqPost:
    """An original on the InfoQ-like site."""

    article: Article
    post_id: str
    url: str
    delivery: Delivery
    legacy_path: str | None
    modified: datetime | None = None
    """When the publisher last edited the article (None: never since publication)."""

    @property
    def path(self) -> str:
        return f"/article/{self.post_id}"

    @property
    def js_only(self) -> bool:
        """The served HTML lacks the body: a script fills it in."""
        return self.delivery != "html"

    @property
    def content_path(self) -> str:
        """Where the API's ``content_url`` points for a ``content_url`` article."""
        return f"/resource/article/{self.post_id}.json"


@dataclass(frozen=True)
class WechatPost:
    """An original on the WeChat-like site; `read_more_url` is its 阅读原文 target."""

    article: Article
    post_id: str
    url: str
    account_slug: str
    read_more_url: str

    @property
    def path(self) -> str:
        return f"/s/{self.post_id}"


@dataclass(frozen=True)
class Story:
    """One aggregator article page: a republished original or an aggregator-only story."""

    cuid: str
    url: str
    ingest: datetime
    category: str
    article: Article
    relation: StoryRelation
    title: str
    blocks: tuple[Block, ...]
    source: str
    original_url: str | None
    references: tuple[str, ...]
    byline: str | None
    attribution: str | None
    recommendations_heading: str | None
    recommendations: tuple[str, ...]
    encoding: Encoding
    charset_in_header: bool
    edits: tuple[str, ...]
    related: tuple[tuple[str, str], ...] = ()

    @property
    def path(self) -> str:
        return f"/wxnews/{self.cuid}"

    @property
    def from_wechat_account(self) -> bool:
        """Syndicated stories come from WeChat public accounts (InfoQ's included)."""
        return self.relation != "aggregator-only"


@dataclass(frozen=True)
class World:
    """The whole planned world; site builders only render what is decided here."""

    urls: SiteUrls
    seed_page: SeedPage
    infoq_posts: tuple[InfoqPost, ...]
    wechat_posts: tuple[WechatPost, ...]
    stories: tuple[Story, ...]
    legacy_story: Story
    missing_cuid: str
    missing_category: str
    visitor_id: str

    def stories_in(self, category: str) -> tuple[Story, ...]:
        return tuple(story for story in self.stories if story.category == category)


def derive_rng(seed: int, purpose: str) -> random.Random:
    """An independent, reproducible stream per decision (string seeds hash with SHA-512)."""
    return random.Random(f"{seed}:{purpose}")  # noqa: S311 - reproducible test data, not secrets


def _newest_first(article: Article) -> tuple[float, str]:
    return (-article.published.timestamp(), article.slug)


def _unique(make: Callable[[random.Random], str], rng: random.Random, taken: set[str]) -> str:
    while True:
        candidate = make(rng)
        if candidate not in taken:
            taken.add(candidate)
            return candidate


def _plan_infoq(articles: list[Article], seed: int, base: str) -> list[InfoqPost]:
    rng = derive_rng(seed, "infoq")
    ordered = sorted(articles, key=lambda article: (article.published, article.slug))
    taken: set[str] = set()
    ids = {article.slug: _unique(make_infoq_id, rng, taken) for article in ordered}
    ordinary = [article.slug for article in ordered if article.slug != SEED_SLUG]
    script_only = rng.choice(ordinary) if ordinary else None
    legacy = set(rng.sample(ordinary, min(LEGACY_INFOQ_COUNT, len(ordinary))))
    deliveries: dict[str, Delivery] = {slug: "html" for slug in ids}
    if script_only is not None:
        deliveries[script_only] = "script"
    rest = [slug for slug in ordinary if slug != script_only]
    client = set(derive_rng(seed, "infoq-delivery").sample(rest, round(CLIENT_SHARE * len(rest))))
    for number, slug in enumerate(slug for slug in rest if slug in client):
        deliveries[slug] = CLIENT_DELIVERIES[number % len(CLIENT_DELIVERIES)]
    return [
        InfoqPost(
            article=article,
            post_id=ids[article.slug],
            url=f"{base}/article/{ids[article.slug]}",
            delivery=deliveries[article.slug],
            legacy_path=f"/news/{article.slug}" if article.slug in legacy else None,
        )
        for article in sorted(articles, key=_newest_first)
    ]


def _plan_wechat(articles: list[Article], seed: int, base: str, infoq: list[InfoqPost]) -> list[WechatPost]:
    rng = derive_rng(seed, "wechat")
    ordered = sorted(articles, key=lambda article: (article.published, article.slug))
    taken: set[str] = set()
    posts: list[WechatPost] = []
    for article in ordered:
        post_id = _unique(make_wechat_id, rng, taken)
        overlap = max((len(set(post.article.tags) & set(article.tags)) for post in infoq), default=0)
        best = [post for post in infoq if len(set(post.article.tags) & set(article.tags)) == overlap]
        read_more = rng.choice(best).url if best else base
        account_slug = ACCOUNT_SLUGS[article.account or ""]
        posts.append(WechatPost(article, post_id, f"{base}/s/{post_id}", account_slug, read_more))
    return sorted(posts, key=lambda post: _newest_first(post.article))


def _choose_syndicated(infoq: Iterable[str], wechat: Iterable[str], seed: int) -> dict[str, CopyRelation]:
    """About a third of the originals (slugs of InfoQ and WeChat articles; plus the seed article,
    always), 3-4 of them as excerpts."""
    rng = derive_rng(seed, "syndication")
    pool = sorted([slug for slug in infoq if slug != SEED_SLUG] + list(wechat))
    chosen = rng.sample(pool, round(len(pool) * SYNDICATED_SHARE))
    excerpts = set(rng.sample(chosen, min(rng.randint(*EXCERPT_COUNT), len(chosen))))
    relations: dict[str, CopyRelation] = {slug: "excerpt" if slug in excerpts else "copy" for slug in chosen}
    relations[SEED_SLUG] = "copy"
    return relations


def _copy_story(article: Article, original_url: str, relation: CopyRelation, copy_plan: CopyPlan) -> Story:
    """An aggregator draft (no CUID yet) of a republished original."""
    if article.origin == "infoq":
        category, source = "tech", INFOQ_SOURCE
    else:
        category, source = ACCOUNT_CATEGORY_SLUGS[article.account or ""], article.account or ""
    return Story(
        cuid="",
        url="",
        ingest=article.published,
        category=category,
        article=article,
        relation=relation,
        title=copy_plan.title,
        blocks=copy_plan.blocks,
        source=source,
        original_url=original_url,
        references=article.references or (original_url,),
        byline=copy_plan.byline,
        attribution=copy_plan.attribution,
        recommendations_heading=copy_plan.recommendations_heading,
        recommendations=copy_plan.recommendations,
        encoding="utf-8",
        charset_in_header=True,
        edits=copy_plan.edits,
    )


def _edit_citations(story: Story, urls: SiteUrls) -> Story:
    """A copy of an original citing two or more sources replaces the last source (a page of a cited
    site) by a follow-up page of the same site: one citation dropped, one added."""
    references = story.references
    last = references[-1] if len(references) >= 2 else ""
    base = next((base for base in (urls.forbes, urls.verge) if base and last.startswith(base + "/")), "")
    if story.relation != "copy" or story.article.slug == SEED_SLUG or not base:
        return story
    return replace(
        story,
        references=(*references[:-1], f"{base}/updates/{story.article.slug}"),
        edits=(*story.edits, "citation dropped", "citation added"),
    )


def _plan_copies(
    infoq: list[InfoqPost], wechat: list[WechatPost], seed: int, relations: Mapping[str, CopyRelation], urls: SiteUrls
) -> list[Story]:
    """Drafts of every republication, ingested minutes to hours after the original."""
    rng = derive_rng(seed, "copies")
    originals = [(post.article, post.url) for post in reversed(infoq)]
    originals += [(post.article, post.url) for post in reversed(wechat)]
    drafts: list[Story] = []
    for article, original_url in originals:
        relation = relations.get(article.slug)
        if relation is None:
            continue
        pool = tuple(
            other.title
            for other, _url in originals
            if other.origin == article.origin and other.account == article.account and other.slug != article.slug
        )
        copy_plan = plan_copy(
            article, rng, relation=relation, faithful=article.slug == SEED_SLUG, recommendation_pool=pool
        )
        ingest = article.published + timedelta(milliseconds=rng.randint(*INGEST_DELAY_MS))
        story = _edit_citations(_copy_story(article, original_url, relation, copy_plan), urls)
        drafts.append(replace(story, ingest=ingest))
    return drafts


def _aggregator_only_story(article: Article, source: str) -> Story:
    """An aggregator draft of a story that exists nowhere else; `local` pages are GBK."""
    category = BENDI_CATEGORY_SLUGS[article.category or ""]
    return Story(
        cuid="",
        url="",
        ingest=article.published,
        category=category,
        article=article,
        relation="aggregator-only",
        title=article.title,
        blocks=article.blocks,
        source=source,
        original_url=None,
        references=article.references,
        byline=None,
        attribution=None,
        recommendations_heading=None,
        recommendations=(),
        encoding="gbk" if category == GBK_CATEGORY else "utf-8",
        charset_in_header=True,
        edits=(),
    )


def _plan_stories(
    articles: tuple[Article, ...],
    infoq: list[InfoqPost],
    wechat: list[WechatPost],
    seed: int,
    relations: Mapping[str, CopyRelation],
    urls: SiteUrls,
) -> list[Story]:
    rng = derive_rng(seed, "stories")
    drafts = _plan_copies(infoq, wechat, seed, relations, urls)
    for article in sorted((a for a in articles if a.origin == "bendi"), key=lambda a: (a.published, a.slug)):
        drafts.append(_aggregator_only_story(article, rng.choice(LOCAL_SOURCES)))
    return _assign_cuids_and_links(drafts, rng, urls.bendi)


def place_stories(
    drafts: list[Story], base: str, *, counter: int, fingerprint: str, taken: set[str], rng: random.Random
) -> list[Story]:
    """Give drafts their CUIDs and aggregator URLs in ingest order (the counter only grows).

    ``taken`` holds CUIDs already in use and receives the new ones.
    """
    stories: list[Story] = []
    for draft in sorted(drafts, key=lambda story: (story.ingest, story.article.slug)):
        cuid = make_cuid(draft.ingest, counter, fingerprint, rng)
        while cuid in taken:
            cuid = make_cuid(draft.ingest, counter, fingerprint, rng)
        taken.add(cuid)
        counter += rng.randint(1, 40)
        stories.append(replace(draft, cuid=cuid, url=f"{base}/wxnews/{cuid}"))
    return stories


def _assign_cuids_and_links(drafts: list[Story], rng: random.Random, base: str) -> list[Story]:
    """CUIDs in ingest order (the counter only grows), then the meta-only GBK page and related links."""
    fingerprint = make_cuid_fingerprint(rng)
    counter = rng.randint(0, 2000)
    stories = place_stories(drafts, base, counter=counter, fingerprint=fingerprint, taken=set(), rng=rng)
    meta_only_candidates = [
        index
        for index, story in enumerate(stories)
        if story.relation == "aggregator-only" and story.category != GBK_CATEGORY
    ]
    if meta_only_candidates:
        chosen = rng.choice(meta_only_candidates)
        stories[chosen] = replace(stories[chosen], encoding="gbk", charset_in_header=False)
    linked: list[Story] = []
    for story in stories:
        others = [(other.path, other.title) for other in stories if other.cuid != story.cuid]
        count = min(rng.randint(*RELATED_COUNT), len(others))
        linked.append(replace(story, related=tuple(rng.sample(others, count))))
    return sorted(linked, key=lambda story: (-story.ingest.timestamp(), story.cuid))


def _with_citations(
    articles: tuple[Article, ...], seed: int, urls: SiteUrls, relations: Mapping[str, CopyRelation]
) -> tuple[Article, ...]:
    """References served by the demo's cited sites: the corpus's own, moved to the local hosts, and,
    for a few InfoQ originals, pages of both cited sites, one of them a PDF and one a page the
    verge-like site's robots.txt disallows; and for one more, republished, a page of each (its copy
    changes one: ``_edit_citations``)."""
    if not (urls.forbes and urls.verge):
        return articles
    rng = derive_rng(seed, "citations")
    ordinary = sorted(a.slug for a in articles if a.origin == "infoq" and not a.references and a.slug != SEED_SLUG)
    citing = rng.sample(ordinary, min(CITED_PAGES, len(ordinary)))
    extra: dict[str, tuple[str, ...]] = {}
    for number, slug in enumerate(citing):
        forbes = f"{urls.forbes}/reports/{slug}.pdf" if number == 0 else f"{urls.forbes}/sites/tech/{slug}/"
        verge = f"{urls.verge}/private/{slug}" if number == 1 else f"{urls.verge}/2024/{number}/{slug}"
        extra[slug] = (forbes, verge)
    if len(citing) > 2:  # two articles cite the same page: it is fetched once
        extra[citing[2]] = (*extra[citing[2]], extra[citing[3 % len(citing)]][0])
    copied = next((slug for slug in ordinary if relations.get(slug) == "copy" and slug not in extra), None)
    if copied is not None:
        extra[copied] = (f"{urls.forbes}/sites/tech/{copied}/", f"{urls.verge}/2024/{len(citing)}/{copied}")
    return tuple(
        replace(
            article,
            references=tuple(urls.local_reference(url) for url in article.references) + extra.get(article.slug, ()),
        )
        for article in articles
    )


def plan_world(articles: tuple[Article, ...], seed_page: SeedPage, seed: int, urls: SiteUrls) -> World:
    """Decide every URL, copy, edit and quirk of the world for `seed`."""
    relations = _choose_syndicated(
        [a.slug for a in articles if a.origin == "infoq"], [a.slug for a in articles if a.origin == "wechat"], seed
    )
    articles = _with_citations(articles, seed, urls, relations)
    infoq = _plan_infoq([a for a in articles if a.origin == "infoq"], seed, urls.infoq)
    wechat = _plan_wechat([a for a in articles if a.origin == "wechat"], seed, urls.wechat, infoq)
    stories = _plan_stories(articles, infoq, wechat, seed, relations, urls)
    rng = derive_rng(seed, "bendi-extras")
    taken = {story.cuid for story in stories}
    fingerprint, newest = stories[0].cuid[13:17], stories[0].ingest
    missing = make_cuid(newest - timedelta(hours=rng.randint(1, 48)), rng.randrange(36**4), fingerprint, rng)
    while missing in taken:
        missing = make_cuid(newest, rng.randrange(36**4), fingerprint, rng)
    return World(
        urls=urls,
        seed_page=seed_page,
        infoq_posts=tuple(infoq),
        wechat_posts=tuple(wechat),
        stories=tuple(stories),
        legacy_story=rng.choice(stories),
        missing_cuid=missing,
        missing_category=rng.choice(sorted({story.category for story in stories})),
        visitor_id=f"{rng.getrandbits(128):032x}",
    )

"""The demo world's second state, "the next day": what a scheduled re-crawl should find.

State 2 extends state 1 without disturbing it. Every state-1 URL still answers, and every
state-1 article page but one is served exactly as before, with the same validators, so a
crawler that remembers ETag / Last-Modified gets 304 Not Modified for it. New in state 2:

- one new original on each publisher site (InfoQ-like and WeChat-like) and one new
  aggregator-only story, from ``corpus/nextday/``;
- aggregator copies of state-1 originals that were not syndicated the day before, and a copy of
  the new InfoQ original: each belongs in its original's near-duplicate cluster;
- one edited InfoQ article (an update note appended; new ETag and Last-Modified);
- one edited InfoQ article whose body its page's script fetches from the article API: the API
  answers with the update note, the page itself is served as before (304 to a conditional request);
- home, list, feed, sitemap and profile pages that list all of it.

The manifest's ``changes`` names the new URLs and the edited article.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final

from .articles import Article
from .assembly import DEFAULT_SEED, PREVIEW_URLS, AssembledWorld, assemble_world
from .corpus_loader import CorpusError, parse_corpus_file
from .identifiers import make_infoq_id, make_wechat_id
from .manifest import Manifest, ManifestChanges
from .seed_page import PACKAGE_CORPUS_DIR, SEED_SLUG
from .sites import SiteBuild, build_bendi_site, build_cited_sites, build_infoq_site, build_wechat_site
from .sites.bendi import SITE_NAME
from .syndication import plan_copy
from .world import (
    ACCOUNT_SLUGS,
    RELATED_COUNT,
    InfoqPost,
    SiteUrls,
    Story,
    WechatPost,
    World,
    _aggregator_only_story,  # one definition of how a draft story looks, shared with state 1
    _copy_story,
    derive_rng,
    place_stories,
)

NEXT_DAY_DIR: Final = "nextday"
NEW_COPIES_OF_OLD_ORIGINALS: Final = 3
COPY_DELAY_MINUTES: Final = (20, 600)
EDIT_DELAY: Final = timedelta(hours=3)
UPDATE_NOTE: Final = (
    "更新：文章发布后，有读者指出文中一处数据的口径有误，编辑部已核实并更正；文末补充了项目负责人对后续开源计划的回应。"
)


@dataclass(frozen=True)
class NextDayPlan:
    """What state 2 adds to a state-1 world, decided from the seed."""

    world: World
    edited_url: str
    api_edited_url: str | None = None
    """The article edited only in its API's answer (its page unchanged), when the world has one."""


def next_day_corpus_dir(corpus_dir: Path | None) -> Path:
    """``corpus_dir/nextday`` when a custom corpus has one, else the packaged next-day corpus."""
    if corpus_dir is not None and (Path(corpus_dir) / NEXT_DAY_DIR).is_dir():
        return Path(corpus_dir) / NEXT_DAY_DIR
    return PACKAGE_CORPUS_DIR / NEXT_DAY_DIR


def load_next_day_articles(corpus_dir: Path | None = None) -> tuple[Article, ...]:
    """The articles first published on the next day; slugs must not clash with state 1's."""
    directory = next_day_corpus_dir(corpus_dir)
    articles = tuple(article for path in sorted(directory.glob("*.json")) for article in parse_corpus_file(path))
    if not articles:
        raise CorpusError(f"no next-day articles in {directory}")
    return articles


def _newest_first(article: Article) -> tuple[float, str]:
    return (-article.published.timestamp(), article.slug)


def _new_infoq_post(article: Article, world: World, taken: set[str], seed: int) -> InfoqPost:
    rng = derive_rng(seed, f"nextday:infoq:{article.slug}")
    post_id = make_infoq_id(rng)
    while post_id in taken:
        post_id = make_infoq_id(rng)
    taken.add(post_id)
    return InfoqPost(article, post_id, f"{world.urls.infoq}/article/{post_id}", delivery="html", legacy_path=None)


def _new_wechat_post(article: Article, world: World, infoq: list[InfoqPost], taken: set[str], seed: int) -> WechatPost:
    rng = derive_rng(seed, f"nextday:wechat:{article.slug}")
    post_id = make_wechat_id(rng)
    while post_id in taken:
        post_id = make_wechat_id(rng)
    taken.add(post_id)
    overlap = max((len(set(post.article.tags) & set(article.tags)) for post in infoq), default=0)
    best = sorted(post.url for post in infoq if len(set(post.article.tags) & set(article.tags)) == overlap)
    read_more = rng.choice(best) if best else world.urls.wechat
    account_slug = ACCOUNT_SLUGS[article.account or ""]
    return WechatPost(article, post_id, f"{world.urls.wechat}/s/{post_id}", account_slug, read_more)


def _edit(post: InfoqPost, moment: datetime) -> InfoqPost:
    """The publisher's correction: an update note at the end of the body, and a new modification time."""
    edited = replace(post.article, paragraphs=(*post.article.paragraphs, UPDATE_NOTE))
    return replace(post, article=edited, modified=moment)


def plan_next_day(day1: World, articles: tuple[Article, ...], seed: int) -> NextDayPlan:
    """Extend ``day1`` with the next day's articles, copies and the one edit; state-1 URLs stay put."""
    rng = derive_rng(seed, "nextday")
    new_infoq_ids = {post.post_id for post in day1.infoq_posts}
    new_wechat_ids = {post.post_id for post in day1.wechat_posts}
    infoq = list(day1.infoq_posts)
    added_infoq = [_new_infoq_post(a, day1, new_infoq_ids, seed) for a in articles if a.origin == "infoq"]
    added_wechat = [
        _new_wechat_post(a, day1, infoq + added_infoq, new_wechat_ids, seed) for a in articles if a.origin == "wechat"
    ]
    day_start = min(article.published for article in articles)

    syndicated = {story.original_url for story in day1.stories}
    candidates = sorted(
        (post for post in day1.infoq_posts if post.delivery != "script" and post.article.slug != SEED_SLUG),
        key=lambda post: post.article.slug,
    )
    edited_post = rng.choice([post for post in candidates if post.url not in syndicated] or candidates)
    by_api = [post for post in candidates if post.delivery == "api" and post.url not in syndicated]
    api_edited = next((post for post in by_api if post is not edited_post), None)
    originals = [(post.article, post.url) for post in day1.infoq_posts if post is not edited_post]
    originals += [(post.article, post.url) for post in day1.wechat_posts]
    unsyndicated = sorted(
        (pair for pair in originals if pair[1] not in syndicated and pair[0].slug != SEED_SLUG),
        key=lambda pair: pair[0].slug,
    )
    to_copy = rng.sample(unsyndicated, min(NEW_COPIES_OF_OLD_ORIGINALS, len(unsyndicated)))
    to_copy += [(post.article, post.url) for post in added_infoq]

    drafts: list[Story] = []
    everyone = originals + [(p.article, p.url) for p in added_infoq] + [(p.article, p.url) for p in added_wechat]
    for article, original_url in to_copy:
        pool = tuple(
            other.title
            for other, _url in everyone
            if other.origin == article.origin and other.account == article.account and other.slug != article.slug
        )
        copy_plan = plan_copy(article, rng, relation="copy", recommendation_pool=pool)
        ingest = max(article.published, day_start) + timedelta(minutes=rng.randint(*COPY_DELAY_MINUTES))
        drafts.append(replace(_copy_story(article, original_url, "copy", copy_plan), ingest=ingest))
    for article in (a for a in articles if a.origin == "bendi"):
        drafts.append(_aggregator_only_story(article, SITE_NAME))

    fingerprint = day1.stories[0].cuid[13:17]
    taken = {story.cuid for story in day1.stories} | {day1.missing_cuid}
    counter = rng.randint(3000, 4000)
    added_stories = place_stories(
        drafts, day1.urls.bendi, counter=counter, fingerprint=fingerprint, taken=taken, rng=rng
    )
    all_stories = list(day1.stories) + added_stories
    linked = []
    for story in added_stories:
        others = [(other.path, other.title) for other in all_stories if other.cuid != story.cuid]
        linked.append(replace(story, related=tuple(rng.sample(others, min(rng.randint(*RELATED_COUNT), len(others))))))

    edited = _edit(edited_post, day_start + EDIT_DELAY)
    edits = {edited_post.url: edited}
    if api_edited is not None:
        edits[api_edited.url] = _edit(api_edited, day_start + EDIT_DELAY)
    infoq = [edits.get(post.url, post) for post in infoq] + added_infoq
    wechat = list(day1.wechat_posts) + added_wechat
    world = replace(
        day1,
        infoq_posts=tuple(sorted(infoq, key=lambda post: _newest_first(post.article))),
        wechat_posts=tuple(sorted(wechat, key=lambda post: _newest_first(post.article))),
        stories=tuple(sorted(list(day1.stories) + linked, key=lambda story: (-story.ingest.timestamp(), story.cuid))),
    )
    return NextDayPlan(world, edited.url, api_edited.url if api_edited is not None else None)


def _keep_day1_articles(day1: SiteBuild, day2: SiteBuild, keep: set[str]) -> SiteBuild:
    """Day-2 routes, except that state-1 article pages are served as they were (a page, once out, stays put)."""
    routes = dict(day2.routes.routes)
    for path in keep:
        if path in day1.routes.routes:
            routes[path] = day1.routes.routes[path]
    return SiteBuild(replace(day2.routes, routes=routes), day2.entries)


def assemble_next_day(day1: AssembledWorld, seed: int, corpus_dir: Path | None = None) -> AssembledWorld:
    """State 2 of the world ``day1`` was assembled as (same seed, same base URLs); the page of the
    article edited in its API's answer is kept as it was, like every unchanged page."""
    plan = plan_next_day(day1.world, load_next_day_articles(corpus_dir), seed)
    world = plan.world
    old = day1.world
    edited_path = "/article/" + plan.edited_url.rsplit("/", 1)[1]
    unchanged = {
        "bendi": {story.path for story in old.stories},
        "infoq": {post.path for post in old.infoq_posts} - {edited_path},
        "wechat": {post.path for post in old.wechat_posts},
    }
    fresh = {"bendi": build_bendi_site(world), "infoq": build_infoq_site(world), "wechat": build_wechat_site(world)}
    sites = {key: _keep_day1_articles(day1.sites[key], build, unchanged[key]) for key, build in fresh.items()}
    if "forbes" in day1.sites:  # the cited sites serve what both days' articles cite
        sites.update(build_cited_sites(world))
    entries = tuple(entry for build in sites.values() for entry in build.entries)
    known = {entry.url for entry in day1.manifest}
    changes = ManifestChanges(
        state=2,
        new=tuple(entry.url for entry in entries if entry.url not in known),
        changed=(plan.edited_url, *([plan.api_edited_url] if plan.api_edited_url else [])),
    )
    return AssembledWorld(world, sites, Manifest(entries, changes))


def preview_manifest(
    seed: int = DEFAULT_SEED, corpus_dir: Path | None = None, urls: SiteUrls = PREVIEW_URLS, state: int = 1
) -> Manifest:
    """The manifest a portal with this seed would serve in ``state`` (1, or 2: the next day)."""
    assembled = assemble_world(seed, urls, corpus_dir=corpus_dir)
    if state == 1:
        return assembled.manifest
    return assemble_next_day(assembled, seed, corpus_dir).manifest

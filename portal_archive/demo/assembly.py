"""Putting a world together: corpus + seed + base URLs -> routes of every site and the manifest.

Kept apart from the servers so the manifest of a seed can be computed, and
compared, without binding a socket.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from .articles import Article
from .corpus_loader import load_corpus
from .manifest import Manifest
from .seed_page import SeedPage, load_seed_page
from .sites import SiteBuild, build_bendi_site, build_cited_sites, build_infoq_site, build_wechat_site
from .world import SiteUrls, World, plan_world

DEFAULT_SEED: Final = 20240401
PREVIEW_URLS: Final = SiteUrls(
    bendi="http://bendi.test",
    infoq="http://infoq.test",
    wechat="http://wechat.test",
    forbes="http://forbes.test",
    verge="http://verge.test",
)


@dataclass(frozen=True)
class AssembledWorld:
    """A planned world, its per-site routes (keyed "bendi", "infoq", "wechat", and "forbes", "verge"
    when the world has the cited sites) and its manifest."""

    world: World
    sites: dict[str, SiteBuild]
    manifest: Manifest


def assemble_world(
    seed: int,
    urls: SiteUrls,
    articles: tuple[Article, ...] | None = None,
    seed_page: SeedPage | None = None,
    corpus_dir: Path | None = None,
) -> AssembledWorld:
    """Build everything for `seed`; the corpus is loaded from `corpus_dir` unless given."""
    if articles is None:
        articles = load_corpus(corpus_dir)
    if seed_page is None:
        seed_page = load_seed_page(corpus_dir)
    world = plan_world(articles, seed_page, seed, urls)
    sites = {"bendi": build_bendi_site(world), "infoq": build_infoq_site(world), "wechat": build_wechat_site(world)}
    if urls.forbes and urls.verge:
        sites.update(build_cited_sites(world))
    entries = tuple(entry for build in sites.values() for entry in build.entries)
    return AssembledWorld(world, sites, Manifest(entries))

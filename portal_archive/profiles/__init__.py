"""Portal profiles: everything that differs between portals, as TOML data.

A profile names a portal's entry points (start paths, sitemaps, feeds), which links are articles,
lists and pagination, the CSS selectors of its article pages, whether pages need a browser, how
fast to crawl it, and which source names stand for which domain. Adding a portal means adding a
profile: ``scrapy crawl portal -a profile=NAME_OR_PATH``. Bundled profiles live in
``portal_archive/profiles/portals/*.toml``.

Profiles are data only: no expressions are evaluated and nothing is imported from them. Every
key is checked (type, allowed values, regex and CSS syntax) and unknown keys are refused, so a
typo fails at start-up with a ``ProfileError`` naming the file and the key.

Schema (only ``name``, ``base_url`` and ``links.article`` are required)::

    name = "bendi"                    # [a-z][a-z0-9_-]*; the items' ``site``
    base_url = "https://bendi.news"   # the live origin; ``-a base_url=`` overrides it
    domain = "bendi.news"             # default: base_url's host without "www."
    role = "aggregator"               # or "publisher" (default)
    language = "zh"
    start_paths = ["/"]               # list pages to start from
    sitemaps = ["/sitemap.xml"]       # sitemap indexes or url sets
    feeds = ["/feed"]                 # RSS or Atom
    js = false                        # render pages whose body is missing from the HTML
    js_wait_for = "article p"         # required with js = true
    delay = 2.0                       # seconds between requests (0 for loopback base_urls)
    drop_params = ["ref"]             # extra tracking parameters to strip
    embedded_state = "nuxt"           # read __NUXT_DATA__ (title, authors, publish time, tags); "wechat":
                                      # var msg_title, nickname, ct (title, account, publish time)
    ingest_id = '^/wxnews/(c[0-9a-z]{24})$'   # group 1: a CUID v1 (ingest time) in the path
    cite_body_links = false           # archive the body's links as sources too (not only 参考链接)

    [links]
    article = ['^/wxnews/c[0-9a-z]{24}$']     # regexes over the URL path
    follow = ['^/category/']          # pages crawled for links (path + query); empty: all
    deny = ['^/admin/']
    pagination = ["a.page-next"]      # CSS; followed from list pages
    from_articles = true              # follow related-story links on article pages
    max_pages = 1000                  # pages one pagination chain may reach (0: no limit)
    max_depth = 20                    # link hops from a start page to a list page (0: no limit)

    [selectors]                       # CSS, see ``ArticleSelectors``
    title = "h1"
    body = "#content"
    byline = ".byline"
    date = ".time"
    source = ".source"
    references = ".refs a"

    [selectors.boilerplate]           # kind = selector or [selectors]; kinds: BOILERPLATE_KINDS
    related_links = [".related"]

    [api]                             # a JSON API the article pages' script fills the body from
    detail = "/public/v1/article/getDetail"   # POSTed when the HTML lacks the body
    detail_body = '{"uuid": "{id}"}'  # JSON body; {id} is group 1 of id over the article path
    id = '^/article/([A-Za-z0-9]{20})$'
    lists = [                         # JSON lists of articles, POSTed from the start; {topic}: once per
      { path = "/api/recommend", body = '{"size": 20}' },            # topic an item names
      { path = "/api/list", body = '{"id": {topic}, "size": 20}' },
    ]
    page_key = "score"                # the next page's body carries the last item's value of this field
    article = "/article/{uuid}"       # an item's article, from its fields
    max_list_pages = 50

    [sources]
    name = "InfoQ"                    # attribution of articles that name none
    aliases = { "InfoQ中文站" = "infoq.cn" }  # source names → domain
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Final, Literal
from urllib.parse import urlsplit

from cssselect import GenericTranslator
from cssselect import SelectorError as CssSelectorError

from portal_archive.urls import hostname_of, site_domain

Role = Literal["aggregator", "publisher"]
EmbeddedState = Literal["", "nuxt", "wechat"]

ROLES: Final[tuple[Role, ...]] = ("aggregator", "publisher")
EMBEDDED_STATES: Final[tuple[EmbeddedState, ...]] = ("", "nuxt", "wechat")
BOILERPLATE_KINDS: Final = frozenset(
    {"nav", "related_links", "recommendations", "share", "footer", "disclaimer", "attribution", "comments"}
)
"""Labels a profile may give removed blocks (``attribution``: a "以下文章来源于…" line of a repost)."""
PROFILE_DIR: Final = "portals"
DEFAULT_MAX_PAGES: Final = 1000
DEFAULT_MAX_DEPTH: Final = 20
_NAME_RE: Final = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
_CSS: Final = GenericTranslator()


class ProfileError(ValueError):
    """A profile that cannot be used; the message names the file and the key."""

    def __init__(self, source: str, key: str, problem: str) -> None:
        self.source = source
        self.key = key
        self.problem = problem
        where = f"{source}: {key}" if key else source
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True, kw_only=True)
class ArticleSelectors:
    """CSS selectors for one portal's article pages; empty means "use the generic algorithm"."""

    title: str = "h1"
    body: str = ""
    byline: str = ""
    date: str = ""
    source: str = ""
    references: str = ""
    boilerplate: tuple[tuple[str, str], ...] = ()
    """``(kind, selector)`` pairs removed from the page and kept as labelled blocks."""


@dataclass(frozen=True, kw_only=True)
class LinkRules:
    """Which links a crawl follows, and what they lead to."""

    article: tuple[re.Pattern[str], ...]
    """Article pages, matched against the URL path."""
    follow: tuple[re.Pattern[str], ...] = ()
    """Non-article pages worth crawling for links (path + query); empty means every in-scope page."""
    deny: tuple[re.Pattern[str], ...] = ()
    """Never requested (path + query)."""
    pagination: tuple[str, ...] = ()
    """CSS selectors of next-page links on list pages; followed even when ``follow`` would not match."""
    from_articles: bool = True
    """Follow links found on article pages (related stories)."""
    max_pages: int = DEFAULT_MAX_PAGES
    """Pages one pagination chain may reach (page 1 included); 0 means no limit. Bounds endless "next" links."""
    max_depth: int = DEFAULT_MAX_DEPTH
    """Link hops from a start page to a list page (pagination hops not counted); 0 means no limit.
    Bounds calendar traps, where every day links the next."""


@dataclass(frozen=True, kw_only=True)
class DetailApi:
    """The JSON API an article page's script fills its body from (InfoQ's ``getDetail``).

    The answer is read as an article record in InfoQ's field names (``article_title``, ``author``,
    ``publish_time``, ``content`` or ``content_url``): ``portal_archive.extract.nuxt``.
    """

    path: str
    """Same-origin path the article's id is POSTed to, as JSON."""
    body: str
    """The JSON request body, with ``{id}`` standing for the article's id."""
    id: re.Pattern[str]
    """Regex over the article URL's path; group 1 is the id."""

    def request_body(self, article_path: str) -> bytes | None:
        """The POST body for the article at ``article_path``; None when the path carries no id."""
        match = self.id.search(article_path)
        if match is None:
            return None
        return self.body.replace("{id}", json.dumps(match.group(1))[1:-1]).encode("utf-8")


_ITEM_FIELD_RE: Final = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_SAFE_ID_RE: Final = re.compile(r"^[A-Za-z0-9*_~-]{1,128}$")
DEFAULT_MAX_LIST_PAGES: Final = 50


@dataclass(frozen=True, kw_only=True)
class ListApi:
    """A JSON API listing a portal's articles newest first (InfoQ's ``recommond``, or per topic its
    ``getList``), paged by the last item's value of ``ListApis.page_key``."""

    path: str
    body: str
    """The first page's JSON body; ``{topic}`` stands for a topic id (a list asked once per topic)."""

    @property
    def per_topic(self) -> bool:
        return "{topic}" in self.body

    def request_body(self, *, topic: object = None, after: object = None, page_key: str = "") -> bytes:
        """The body of one page: the topic filled in, and the last item's ``page_key`` value after page 1."""
        data = json.loads(self.body.replace("{topic}", json.dumps(topic)) if self.per_topic else self.body)
        if after is not None and page_key:
            data[page_key] = after
        return json.dumps(data, ensure_ascii=False).encode("utf-8")


@dataclass(frozen=True, kw_only=True)
class ListApis:
    """How a portal's list APIs are read: which lists, how they page, where an item's article is."""

    lists: tuple[ListApi, ...]
    page_key: str
    """The item field whose last value the next page's body carries (InfoQ: ``score``)."""
    article: str
    """The article's path from an item's fields, e.g. ``/article/{uuid}``."""
    topics: str = "topic"
    """The item field listing the topics (objects with an ``id``) per-topic lists are asked for."""
    max_pages: int = DEFAULT_MAX_LIST_PAGES
    """Pages read of one list at most."""

    def article_path(self, item: Mapping[str, Any]) -> str | None:
        """The path of an item's article; None when a field is missing or not a plain id."""
        values: dict[str, str] = {}
        for name in _ITEM_FIELD_RE.findall(self.article):
            value = item.get(name)
            if not isinstance(value, str | int) or isinstance(value, bool) or not _SAFE_ID_RE.match(str(value)):
                return None
            values[name] = str(value)
        return _ITEM_FIELD_RE.sub(lambda match: values[match.group(1)], self.article)


@dataclass(frozen=True, kw_only=True)
class Profile:
    """One portal, parsed and validated; build with ``load_profile`` or ``parse_profile``."""

    name: str
    source_file: str
    base_url: str
    """The live site; ``-a base_url=…`` points a crawl elsewhere (the demo portal, a mirror)."""
    domain: str
    """The domain the portal is known by, e.g. ``infoq.cn``: the ``source_domain`` of its own articles."""
    role: Role = "publisher"
    language: str = "zh"
    start_paths: tuple[str, ...] = ("/",)
    sitemaps: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()
    js: bool = False
    """Render article pages whose body is missing from the HTML with a browser."""
    js_wait_for: str = ""
    """CSS selector the browser waits for before the rendered page is taken."""
    delay: float = 2.0
    """Seconds between requests to the portal (a floor: robots.txt ``Crawl-delay`` may raise it)."""
    drop_params: tuple[str, ...] = ()
    """Query parameters to drop besides the usual tracking ones."""
    links: LinkRules
    selectors: ArticleSelectors = field(default_factory=ArticleSelectors)
    embedded_state: EmbeddedState = ""
    """``nuxt``: read title, authors, publish time and tags from ``__NUXT_DATA__``."""
    ingest_id: re.Pattern[str] | None = None
    """Regex over the URL path whose group 1 is a CUID v1: when the page entered the portal."""
    source_name: str = ""
    """The attribution of articles that name none (a publisher's own articles)."""
    source_aliases: tuple[tuple[str, str], ...] = ()
    """``(name, domain)``: source names (as 来源 lines print them) and the domain they stand for."""
    detail_api: DetailApi | None = None
    """Where a page whose HTML lacks the body gets it from, without a browser (``[api]``)."""
    list_apis: ListApis | None = None
    """JSON lists of the portal's articles, read besides feeds and sitemaps (``[api]``)."""
    cite_body_links: bool = False
    """Archive the links inside an article's body as its sources too, not only its references."""

    @property
    def aliases(self) -> dict[str, str]:
        """``source_aliases`` as a mapping, plus the portal's own source name."""
        known = dict(self.source_aliases)
        if self.source_name:
            known.setdefault(self.source_name, self.domain)
        return known


# -- reading -----------------------------------------------------------------------------------


class _Reader:
    """Typed access to one TOML table that records which keys were used."""

    def __init__(self, source: str, table: Mapping[str, Any], prefix: str = "") -> None:
        self.source = source
        self.table = table
        self.prefix = prefix
        self.used: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def error(self, name: str, problem: str) -> ProfileError:
        return ProfileError(self.source, self.key(name), problem)

    def _get(self, name: str) -> Any:
        self.used.add(name)
        return self.table.get(name)

    def raw(self, name: str) -> Any:
        """The value as TOML gave it, for a shape the typed readers do not cover (a list of tables)."""
        return self._get(name)

    def string(self, name: str, default: str = "", *, required: bool = False) -> str:
        value = self._get(name)
        if value is None:
            if required:
                raise self.error(name, "is required")
            return default
        if not isinstance(value, str):
            raise self.error(name, f"must be a string, not {type(value).__name__}")
        return value.strip()

    def boolean(self, name: str, default: bool) -> bool:
        value = self._get(name)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.error(name, "must be true or false")
        return value

    def number(self, name: str, default: float) -> float:
        value = self._get(name)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(name, "must be a number")
        if value < 0:
            raise self.error(name, "must not be negative")
        return float(value)

    def integer(self, name: str, default: int) -> int:
        value = self._get(name)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(name, "must be a whole number")
        if value < 0:
            raise self.error(name, "must not be negative")
        return value

    def strings(self, name: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        value = self._get(name)
        if value is None:
            return default
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.error(name, "must be a string or a list of strings")
        return tuple(item.strip() for item in value if item.strip())

    def table_of(self, name: str) -> _Reader:
        value = self._get(name)
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise self.error(name, "must be a table")
        return _Reader(self.source, value, prefix=f"{self.key(name)}.")

    def patterns(self, name: str) -> tuple[re.Pattern[str], ...]:
        compiled = []
        for index, text in enumerate(self.strings(name)):
            try:
                compiled.append(re.compile(text))
            except re.error as exc:
                raise self.error(f"{name}[{index}]", f"bad regular expression {text!r}: {exc}") from exc
        return tuple(compiled)

    def css(self, name: str, default: str = "") -> str:
        text = self.string(name, default)
        _check_css(self, name, text)
        return text

    def reject_unknown(self) -> None:
        unknown = sorted(set(self.table) - self.used)
        if unknown:
            raise self.error(unknown[0], "unknown key" + (f" (also: {', '.join(unknown[1:])})" if unknown[1:] else ""))


def _check_css(reader: _Reader, name: str, text: str) -> None:
    if not text:
        return
    try:
        _CSS.css_to_xpath(text)
    except CssSelectorError as exc:
        raise reader.error(name, f"bad CSS selector {text!r}: {exc}") from exc


def _paths(reader: _Reader, name: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
    paths = reader.strings(name, default)
    for index, path in enumerate(paths):
        if not path.startswith("/"):
            raise reader.error(f"{name}[{index}]", f"must be a path starting with '/', got {path!r}")
    return paths


def _selectors(reader: _Reader) -> ArticleSelectors:
    values = {name: reader.css(name) for name in ("body", "byline", "date", "source", "references")}
    title = reader.css("title", "h1")
    boilerplate_table = reader.table_of("boilerplate")
    pairs: list[tuple[str, str]] = []
    for kind in boilerplate_table.table:
        if kind not in BOILERPLATE_KINDS:
            raise boilerplate_table.error(
                kind, f"unknown boilerplate kind; use one of {', '.join(sorted(BOILERPLATE_KINDS))}"
            )
        for index, selector in enumerate(boilerplate_table.strings(kind)):
            _check_css(boilerplate_table, f"{kind}[{index}]", selector)
            pairs.append((kind, selector))
    reader.reject_unknown()
    return ArticleSelectors(title=title, boilerplate=tuple(pairs), **values)


def _links(reader: _Reader) -> LinkRules:
    article = reader.patterns("article")
    if not article:
        raise reader.error("article", "is required: at least one regular expression for article URL paths")
    pagination = reader.strings("pagination")
    for index, selector in enumerate(pagination):
        _check_css(reader, f"pagination[{index}]", selector)
    rules = LinkRules(
        article=article,
        follow=reader.patterns("follow"),
        deny=reader.patterns("deny"),
        pagination=pagination,
        from_articles=reader.boolean("from_articles", True),
        max_pages=reader.integer("max_pages", DEFAULT_MAX_PAGES),
        max_depth=reader.integer("max_depth", DEFAULT_MAX_DEPTH),
    )
    reader.reject_unknown()
    return rules


def _sources(reader: _Reader) -> tuple[str, tuple[tuple[str, str], ...]]:
    name = reader.string("name")
    aliases_table = reader.table_of("aliases")
    aliases = []
    for alias in aliases_table.table:
        domain = aliases_table.string(alias)
        if not domain or "/" in domain or " " in domain:
            raise aliases_table.error(alias, f"must be a domain such as 'infoq.cn', got {domain!r}")
        aliases.append((alias.strip(), domain.lower()))
    reader.reject_unknown()
    return name, tuple(aliases)


def _list_apis(reader: _Reader) -> ListApis | None:
    raw = reader.raw("lists")
    page_key = reader.string("page_key")
    article = reader.string("article")
    max_pages = reader.integer("max_list_pages", DEFAULT_MAX_LIST_PAGES)
    if raw is None:
        if page_key or article:
            raise reader.error("lists", "is required with page_key and article: the list APIs to read")
        return None
    if not isinstance(raw, list) or not raw:
        raise reader.error("lists", "must be a list of tables such as { path = '/api/list', body = '{\"size\": 20}' }")
    lists = []
    for index, table in enumerate(raw):
        if not isinstance(table, dict):
            raise reader.error(f"lists[{index}]", "must be a table with path and body")
        entry = _Reader(reader.source, table, prefix=f"{reader.key('lists')}[{index}].")
        path, body = entry.string("path", required=True), entry.string("body", required=True)
        entry.reject_unknown()
        if not path.startswith("/"):
            raise entry.error("path", f"must be a path starting with '/', got {path!r}")
        try:
            parsed = json.loads(body.replace("{topic}", "1"))
        except ValueError as exc:
            raise entry.error("body", f"is not JSON (with {{topic}} filled in): {exc}") from exc
        if not isinstance(parsed, dict):
            raise entry.error("body", "must be a JSON object")
        lists.append(ListApi(path=path, body=body))
    if not page_key:
        raise reader.error("page_key", "is required with lists: the item field the next page starts after")
    if not _ITEM_FIELD_RE.search(article) or not article.startswith("/"):
        raise reader.error("article", f"must be a path naming an item field, e.g. '/article/{{uuid}}', got {article!r}")
    return ListApis(lists=tuple(lists), page_key=page_key, article=article, max_pages=max_pages)


def _detail_api(reader: _Reader) -> DetailApi | None:
    path = reader.string("detail")
    body = reader.string("detail_body")
    ids = reader.patterns("id")
    reader.reject_unknown()  # every [api] key is read by now (the list keys first): a typo is named first
    if not path:
        if body or ids:
            raise reader.error("detail", "is required with detail_body and id: the API's path")
        return None
    if not path.startswith("/"):
        raise reader.error("detail", f"must be a path starting with '/', got {path!r}")
    if len(ids) != 1 or ids[0].groups < 1:
        raise reader.error("id", "needs one regular expression whose group 1 is the article's id")
    if "{id}" not in body:
        raise reader.error("detail_body", 'must contain {id}, e.g. \'{"uuid": "{id}"}\'')
    try:
        json.loads(body.replace("{id}", "x"))
    except ValueError as exc:
        raise reader.error("detail_body", f"is not JSON once {{id}} is filled in: {exc}") from exc
    return DetailApi(path=path, body=body, id=ids[0])


def parse_profile(data: Mapping[str, Any], source: str) -> Profile:
    """Validate a parsed TOML document; ``source`` names it in errors.

    Raises:
        ProfileError: a key is missing, mistyped, malformed or unknown.
    """
    top = _Reader(source, data)
    name = top.string("name", required=True)
    if not _NAME_RE.match(name):
        raise top.error("name", f"must be lower-case letters, digits, '-' or '_', got {name!r}")
    base_url = top.string("base_url", required=True).rstrip("/")
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query:
        raise top.error(
            "base_url", f"must be an absolute http(s) origin such as 'https://example.com', got {base_url!r}"
        )
    role = top.string("role", "publisher")
    if role not in ROLES:
        raise top.error("role", f"must be one of {', '.join(ROLES)}, got {role!r}")
    embedded_state = top.string("embedded_state")
    if embedded_state not in EMBEDDED_STATES:
        raise top.error("embedded_state", f"must be 'nuxt', 'wechat' or empty, got {embedded_state!r}")
    ingest_patterns = top.patterns("ingest_id")
    if len(ingest_patterns) > 1:
        raise top.error("ingest_id", "must be a single regular expression")
    ingest_id = ingest_patterns[0] if ingest_patterns else None
    if ingest_id is not None and ingest_id.groups < 1:
        raise top.error("ingest_id", "needs a group capturing the CUID, e.g. '/wxnews/(c[0-9a-z]{24})'")
    links = _links(top.table_of("links"))
    selectors = _selectors(top.table_of("selectors"))
    source_name, aliases = _sources(top.table_of("sources"))
    api_table = top.table_of("api")
    list_apis = _list_apis(api_table)
    detail_api = _detail_api(api_table)
    profile = Profile(
        name=name,
        source_file=source,
        base_url=base_url,
        domain=(top.string("domain") or site_domain(hostname_of(base_url))).lower(),
        role=role,
        language=top.string("language", "zh"),
        start_paths=_paths(top, "start_paths", ("/",)),
        sitemaps=_paths(top, "sitemaps"),
        feeds=_paths(top, "feeds"),
        js=top.boolean("js", False),
        js_wait_for=top.css("js_wait_for"),
        delay=top.number("delay", 2.0),
        drop_params=top.strings("drop_params"),
        links=links,
        selectors=selectors,
        embedded_state=embedded_state,
        ingest_id=ingest_id,
        source_name=source_name,
        source_aliases=aliases,
        detail_api=detail_api,
        list_apis=list_apis,
        cite_body_links=top.boolean("cite_body_links", False),
    )
    top.reject_unknown()
    if profile.js and not profile.js_wait_for:
        raise top.error("js_wait_for", "is required when js = true: the CSS selector of the rendered body text")
    return profile


def read_profile_file(path: Path) -> Profile:
    """Load and validate one TOML file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProfileError(str(path), "", f"cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise ProfileError(str(path), "", "is not UTF-8 text") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(str(path), "", f"is not valid TOML: {exc}") from exc
    return parse_profile(data, str(path))


def bundled_profile_names() -> list[str]:
    """Names of the profiles shipped in ``portal_archive/profiles/portals``."""
    folder = resources.files("portal_archive.profiles") / PROFILE_DIR
    return sorted(entry.name[: -len(".toml")] for entry in folder.iterdir() if entry.name.endswith(".toml"))


def load_profile(name_or_path: str) -> Profile:
    """A bundled profile by name (``bendi``) or a profile file by path (``/etc/portals/x.toml``).

    Raises:
        ProfileError: unknown name, unreadable file or invalid content.
    """
    text = name_or_path.strip()
    if not text:
        raise ProfileError("profile", "", "no profile given: pass -a profile=NAME_OR_PATH")
    if "/" in text or "\\" in text or text.endswith(".toml"):
        return read_profile_file(Path(text).expanduser())
    if not _NAME_RE.match(text) or text not in bundled_profile_names():
        known = ", ".join(bundled_profile_names())
        raise ProfileError(text, "", f"no such bundled profile (bundled: {known}); or pass a path to a .toml file")
    resource = resources.files("portal_archive.profiles") / PROFILE_DIR / f"{text}.toml"
    with resources.as_file(resource) as path:
        return read_profile_file(path)


def load_bundled_profiles() -> list[Profile]:
    """Every bundled profile (a broken one raises: they ship with the code and are tested)."""
    return [load_profile(name) for name in bundled_profile_names()]


class SourceDirectory:
    """Resolves a source name as pages print it (``InfoQ``, ``来源:InfoQ``) to a domain."""

    def __init__(self, aliases: Mapping[str, str]) -> None:
        self._exact = dict(aliases)
        self._folded = {_fold(name): domain for name, domain in aliases.items()}

    @classmethod
    def for_profile(cls, profile: Profile, others: list[Profile] | None = None) -> SourceDirectory:
        """The profile's own aliases first, then every other known profile's name and aliases."""
        merged: dict[str, str] = {}
        for other in others if others is not None else load_bundled_profiles():
            for alias, domain in other.aliases.items():
                merged.setdefault(alias, domain)
        merged.update(profile.aliases)
        return cls(merged)

    def resolve(self, name: str) -> str:
        """The domain for ``name``, or ``""`` when no profile knows it."""
        if not name:
            return ""
        if name in self._exact:
            return self._exact[name]
        folded = _fold(name)
        if folded in self._folded:
            return self._folded[folded]
        host = (
            hostname_of(name if "://" in name else f"http://{name}")
            if re.fullmatch(r"[\w.-]+\.[a-z]{2,}(/\S*)?", name)
            else ""
        )
        return site_domain(host) if host else ""


def _fold(name: str) -> str:
    return re.sub(r"\s+", "", name).casefold()

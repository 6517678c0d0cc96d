"""A portal's JSON APIs, as its own clients read them: article bodies and article lists.

``PortalApiMixin`` is the part of ``PortalSpider`` that talks to a profile's ``[api]``
(``portal_archive.profiles.DetailApi`` and ``ListApis``):

- an article page whose HTML lacks the body asks the detail API (a POST of the article's id, the
  page as ``Referer``); the answer's ``content`` (HTML, or a ProseMirror document) or the
  ``content_url`` it names is put into the page where its script puts it, and the page is extracted
  like a served one (``ArticleAssembler.assemble_filled``); a browser is the last resort;
- the list APIs (InfoQ's recommendations, and each topic's list) lead to articles, page after page
  by the last item's ``page_key``, each topic an item names asked once.

An edit of such an article changes the API's answer, not the page: in an incremental crawl a page
that answers 304 Not Modified, and whose body an earlier crawl read through the API (the crawl state
remembers the answer), has the API asked again; an answer that changed has the page fetched again
(unconditionally) and read through the API as the first time, its item flagged ``changed``.

Stats: ``spider/api/requested``, ``spider/api/read``, ``spider/api/content_url``,
``spider/api/no_body``, ``spider/api/no_container``, ``spider/api/failed``,
``spider/api/list_pages``, ``spider/api/list_articles``, ``spider/api/list_unreadable``,
``spider/api/rechecked``, ``spider/api/unchanged``, ``spider/api/changed``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy.http import Response, TextResponse

from portal_archive.capture.meta import RECORD_ID_META
from portal_archive.capture.state import CrawlState
from portal_archive.crawl.incremental import BODY_CHANGED_META, OPT_IN_META, STATUS_META, NotModified, state_key
from portal_archive.crawl.render import RenderConfig
from portal_archive.extract.article import ArticleAssembler, FetchedPage
from portal_archive.extract.nuxt import ArticleState, read_detail_answer
from portal_archive.items import ArticleItem
from portal_archive.profiles import Profile

if TYPE_CHECKING:
    from twisted.python.failure import Failure

logger = logging.getLogger(__name__)

AWAITING_BODY_META = "awaiting_body"
"""An article page whose HTML lacks the body, carried by the requests that fetch it from the API."""


@dataclass(frozen=True, slots=True)
class AwaitingBody:
    """An article page waiting for its body from the portal's article API (``[api]`` in the profile)."""

    page: FetchedPage
    """The page as fetched: the body is filled into it and it is extracted like any served page."""
    unfilled: ArticleItem
    """The page's item without a body: what comes out if neither the API nor a browser gives one."""
    api_records: tuple[str, ...] = ()
    """WARC record ids of the API exchanges read so far (the detail answer, the content URL's)."""


RECHECK_META = "recheck_body_of"
"""The article page (URL) whose body an API request asks again after the page answered 304."""
ANSWERED_META = "api_answer"
"""On a page fetched again because its API answer changed: that answer (JSON values: the answer as
text, its URL, status and record id), read instead of asking the API once more."""

LIST_API_META = "list_api_page"
"""The list API page a response answers (``ListPage``)."""


@dataclass(frozen=True, slots=True)
class ListPage:
    """One page of a portal's list API: which list, the body asked, the topic, its place in the list.

    It travels in ``meta`` as plain JSON values (``as_meta``): a distributed crawl seeds list pages
    through Redis as JSON.
    """

    path: str
    body: bytes
    topic: int | str | None = None
    number: int = 1

    def as_meta(self) -> dict[str, Any]:
        return {"path": self.path, "body": self.body.decode("utf-8"), "topic": self.topic, "number": self.number}

    @classmethod
    def from_meta(cls, value: dict[str, Any]) -> ListPage:
        return cls(str(value["path"]), str(value["body"]).encode("utf-8"), value.get("topic"), int(value["number"]))


def list_items(answer: bytes) -> list[dict[str, Any]] | None:
    """The items of a list API's answer: ``data`` when it is a list, else ``data.list``; None when the
    answer is no JSON or holds no list (an error answer)."""
    try:
        parsed = json.loads(answer)
    except (ValueError, RecursionError):
        return None
    data = parsed.get("data") if isinstance(parsed, dict) else None
    if isinstance(data, dict):
        data = data.get("list")
    if not isinstance(data, list):
        return None
    return [item for item in data if isinstance(item, dict)]


class PortalApiMixin:
    """Article bodies and article lists from a portal's JSON APIs (mixed into ``PortalSpider``)."""

    profile: Profile
    base_url: str
    assembler: ArticleAssembler
    render: RenderConfig
    _body_pending: set[str]
    _requested_lists: set[tuple[str, bytes]]
    _topics: set[int | str]
    _listed: dict[tuple[str, int | str | None], set[str]]

    if TYPE_CHECKING:  # provided by PortalSpider

        def count(self, key: str, amount: int = 1) -> None: ...
        def _stable(self, method: Any) -> Any: ...
        def route(
            self, url: str, *, pagination: bool = False, source: Response | None = None
        ) -> scrapy.Request | None: ...
        def fetch_failed(self, failure: Failure) -> None: ...
        def emit(self, item: ArticleItem) -> Iterator[ArticleItem | scrapy.Request]: ...
        def render_or_give_up(self, awaiting: AwaitingBody) -> Iterator[ArticleItem | scrapy.Request]: ...
        def _crawl_state(self) -> CrawlState | None: ...
        def parse_article(self, response: Response) -> Iterator[ArticleItem | scrapy.Request]: ...

    # -- list APIs ---------------------------------------------------------------------------

    def list_request(self, page: ListPage) -> scrapy.Request:
        """One page of a list API (POST JSON, as the portal's own pages ask it)."""
        self._requested_lists.add((page.path, page.body))
        return self._api_post(
            page.path, page.body, referer=self.base_url + "/", callback=self.parse_list_api,
            errback=self.fetch_failed, meta={LIST_API_META: page.as_meta()},
        )  # fmt: skip

    def _api_post(
        self, path: str, body: bytes, *, referer: str, callback: Any, errback: Any, meta: dict[str, Any],
        priority: int = 0,
    ) -> scrapy.Request:  # fmt: skip
        """A POST of JSON to one of the portal's APIs, as the portal's own pages send it."""
        return scrapy.Request(
            self.base_url + path,
            method="POST",
            body=body,
            headers={"Content-Type": "application/json", "Accept": "application/json", "Referer": referer},
            callback=self._stable(callback),
            errback=self._stable(errback),
            priority=priority,
            meta=meta,
        )

    def parse_list_api(self, response: Response) -> Iterator[scrapy.Request]:
        """A page of a list API: its articles, the topic lists its items name, and the next page."""
        apis = self.profile.list_apis
        page = ListPage.from_meta(response.meta[LIST_API_META])
        items = list_items(response.body)
        if apis is None or items is None:
            self.count("spider/api/list_unreadable")
            logger.info("Not a list answer: %(url)s", {"url": response.url})
            return
        self.count("spider/api/list_pages")
        listed = self._listed.setdefault((page.path, page.topic), set())
        new = 0
        for item in items:
            path = apis.article_path(item)
            if path is None:
                continue
            if path not in listed:
                listed.add(path)
                new += 1
            request = self.route(self.base_url + path)
            if request is not None:
                self.count("spider/api/list_articles")
                yield request
            yield from self._topic_lists(item)
        last = items[-1].get(apis.page_key) if items else None
        api = next((api for api in apis.lists if api.path == page.path), None)
        if api is None or last is None or not new or page.number >= apis.max_pages:
            return  # the list's end, a page this list gave before (a server ignoring the cursor), or the cap
        body = api.request_body(topic=page.topic, after=last, page_key=apis.page_key)
        if (page.path, body) not in self._requested_lists:
            yield self.list_request(ListPage(page.path, body, page.topic, page.number + 1))

    def _topic_lists(self, item: dict[str, Any]) -> Iterator[scrapy.Request]:
        """The first page of each per-topic list for every topic an item names, once per crawl."""
        apis = self.profile.list_apis
        topics = item.get(apis.topics) if apis is not None else None
        for topic in topics if isinstance(topics, list) else ():
            topic_id = topic.get("id") if isinstance(topic, dict) else None
            if not isinstance(topic_id, int | str) or isinstance(topic_id, bool) or topic_id in self._topics:
                continue
            self._topics.add(topic_id)
            for api in apis.lists if apis is not None else ():
                if api.per_topic:
                    yield self.list_request(ListPage(api.path, api.request_body(topic=topic_id), topic_id))

    # -- bodies the HTML lacks ------------------------------------------------------------------

    def body_elsewhere(
        self, awaiting: AwaitingBody, answered: dict[str, Any] | None = None
    ) -> Iterator[ArticleItem | scrapy.Request]:
        """A page whose HTML lacks the body: ask the portal's article API, else a browser, else give
        the item without a body, saying why. ``answered``: the API's answer, already read
        (``ANSWERED_META``: a page fetched again because that answer changed)."""
        if answered is not None:
            record = str(answered.get("record_id") or "")
            awaiting = AwaitingBody(awaiting.page, awaiting.unfilled, (record,) if record else ())
            self._body_pending.add(awaiting.page.url)
            answer = str(answered["answer"]).encode("utf-8")
            yield from self._read_answer(awaiting, answer, str(answered["url"]), int(answered["status"]))
            return
        request = self._detail_request(
            awaiting.page.url, callback=self.parse_detail, errback=self.detail_failed,
            meta={AWAITING_BODY_META: awaiting},
        )  # fmt: skip
        if request is not None:
            self.count("spider/api/requested")
            self._body_pending.add(awaiting.page.url)
            yield request
        else:
            yield from self.render_or_give_up(awaiting)

    def _detail_request(
        self, page_url: str, *, callback: Any, errback: Any, meta: dict[str, Any]
    ) -> scrapy.Request | None:
        """The article API's request for one page (None without a detail API or an id in the URL).
        Its answer takes part in incremental crawls: it is how an edit shows."""
        api = self.profile.detail_api
        body = api.request_body(urlsplit(page_url).path) if api is not None else None
        if api is None or body is None:
            return None
        return self._api_post(
            api.path, body, referer=page_url, callback=callback, errback=errback, meta={**meta, OPT_IN_META: True},
            priority=1,  # the page is half read: finish it before starting new ones
        )  # fmt: skip

    def article_failed(self, failure: Failure) -> Iterator[scrapy.Request]:
        """Errback of article pages: counted like any failure; a page unchanged (304) whose body an
        earlier crawl read through the article API has the API asked again."""
        self.fetch_failed(failure)
        request = getattr(failure, "request", None)
        if request is None or not isinstance(failure.value, NotModified):
            return
        recheck = self._detail_request(
            request.url, callback=self.parse_recheck, errback=self.fetch_failed, meta={RECHECK_META: request.url}
        )
        state = self._crawl_state()
        if recheck is None or state is None or state.page(state_key(recheck)) is None:
            return  # the body is in the page's own HTML: unchanged with it
        self.count("spider/api/rechecked")
        # Not filtered: the same request reads the body if the page is fetched again.
        yield recheck.replace(dont_filter=True)

    def parse_recheck(self, response: Response) -> Iterator[scrapy.Request]:
        """The article API's answer for a page that answered 304: unchanged, or fetch the page again."""
        status = response.meta.get(STATUS_META)
        page_url = str(response.meta[RECHECK_META])
        if isinstance(status, dict) and status.get("status") == "unchanged":
            self.count("spider/api/unchanged")
            return
        self.count("spider/api/changed")
        logger.info("Body changed at the article API, the page did not: reading %(url)s again", {"url": page_url})
        answered = {
            "answer": response.body.decode("utf-8", "replace"), "url": response.url, "status": response.status,
            "record_id": str(response.meta.get(RECORD_ID_META) or ""),
        }  # fmt: skip
        yield scrapy.Request(
            page_url, callback=self._stable(self.parse_article), errback=self._stable(self.fetch_failed),
            dont_filter=True, priority=1, meta={BODY_CHANGED_META: True, ANSWERED_META: answered},
        )  # fmt: skip

    def parse_detail(self, response: Response) -> Iterator[ArticleItem | scrapy.Request]:
        """The article API's answer: the body (HTML or an editor document), or where to fetch it."""
        yield from self._read_answer(self._awaiting(response), response.body, response.url, response.status)

    def _read_answer(
        self, awaiting: AwaitingBody, answer: bytes, api_url: str, status: int
    ) -> Iterator[ArticleItem | scrapy.Request]:
        state = read_detail_answer(answer)
        if state is None or not (state.content or state.content_url):
            self.count("spider/api/no_body")
            logger.info(
                "The article API gave no body for %(url)s (HTTP %(status)d): %(next)s",
                {"url": awaiting.page.url, "status": status, "next": self._next_resort()},
            )
            yield from self.render_or_give_up(awaiting)
        elif state.content:
            yield from self.filled(awaiting, state, state.content)
        else:
            self.count("spider/api/content_url")
            yield scrapy.Request(
                urljoin(api_url, state.content_url),
                callback=self._stable(self.parse_content),
                errback=self._stable(self.detail_failed),
                priority=1,
                meta={AWAITING_BODY_META: awaiting, "detail_state": state, "allow_offsite": True},
            )

    def parse_content(self, response: Response) -> Iterator[ArticleItem | scrapy.Request]:
        """A body fetched from the URL the article API named (HTML, or an editor document as JSON)."""
        awaiting = self._awaiting(response)
        state = response.meta["detail_state"]
        text = response.text if isinstance(response, TextResponse) else response.body.decode("utf-8", "replace")
        yield from self.filled(awaiting, state, text)

    def detail_failed(self, failure: Failure) -> Iterator[ArticleItem | scrapy.Request]:
        """The API request failed (refused, HTTP error, timeout): counted, and the next resort taken."""
        self.fetch_failed(failure)
        self.count("spider/api/failed")
        request = getattr(failure, "request", None)
        awaiting = request.meta.get(AWAITING_BODY_META) if request is not None else None
        if isinstance(awaiting, AwaitingBody):
            yield from self.render_or_give_up(awaiting)

    def _awaiting(self, response: Response) -> AwaitingBody:
        """The article page an API response belongs to, with this response's record added."""
        awaiting: AwaitingBody = response.meta[AWAITING_BODY_META]
        record = str(response.meta.get(RECORD_ID_META) or "")
        return AwaitingBody(
            awaiting.page,
            awaiting.unfilled,
            (*awaiting.api_records, record) if record else awaiting.api_records,
        )

    def _next_resort(self) -> str:
        return "rendering it" if self.profile.js and self.render.enabled else "no body"

    def filled(
        self, awaiting: AwaitingBody, state: ArticleState, content: str
    ) -> Iterator[ArticleItem | scrapy.Request]:
        """The page with the API's body put where its script puts it, extracted like a served page."""
        item = self.assembler.assemble_filled(awaiting.page, state, content)
        if item is None or not item.body_text:
            self.count("spider/api/no_body" if item is not None else "spider/api/no_container")
            yield from self.render_or_give_up(awaiting)
            return
        item.extra["api_records"] = list(awaiting.api_records)
        self.count("spider/api/read")
        yield from self.emit(item)

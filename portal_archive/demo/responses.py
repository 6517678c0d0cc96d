"""What a site answers, independent of sockets: the contract between site builders and the server."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final

HTML_UTF8: Final = "text/html; charset=utf-8"
TEXT_UTF8: Final = "text/plain; charset=utf-8"
XML_UTF8: Final = "application/xml; charset=utf-8"
RSS_UTF8: Final = "application/rss+xml; charset=utf-8"
JSON_UTF8: Final = "application/json; charset=utf-8"
READ_METHODS: Final = ("GET", "HEAD")


@dataclass(frozen=True)
class Request:
    """The parts of a request a page may depend on; `now` is the portal clock.

    `if_none_match` and `if_modified_since` are the conditional headers as sent ("" when absent).
    """

    method: str
    target: str
    accept_encoding: str
    body: bytes
    now: datetime
    if_none_match: str = ""
    if_modified_since: str = ""


@dataclass(frozen=True)
class Response:
    """A complete answer; the server adds Date, Server, framing and, if negotiated, gzip.

    `etag` and `last_modified` are the page's validators: the server sends them as headers and
    answers a matching conditional GET with 304 Not Modified.
    """

    status: int
    body: bytes
    content_type: str
    headers: tuple[tuple[str, str], ...] = ()
    gzip_negotiable: bool = False
    chunked: bool = False
    etag: str | None = None
    last_modified: datetime | None = None


Handler = Callable[[Request], Response]


@dataclass(frozen=True)
class Route:
    """A handler and the methods it accepts (others get 405)."""

    handler: Handler
    methods: tuple[str, ...] = READ_METHODS


@dataclass(frozen=True)
class SiteRoutes:
    """Everything a server needs to answer for one site."""

    server_name: str
    routes: Mapping[str, Route]
    not_found: Handler


def fixed(response: Response) -> Route:
    """A route whose answer never changes."""
    return Route(lambda _request: response)


def weak_etag(content: bytes) -> str:
    """A weak entity tag for a page version: equal content, equal tag, whatever the content coding."""
    return 'W/"' + hashlib.sha1(content, usedforsecurity=False).hexdigest()[:20] + '"'


def text_response(
    status: int,
    text: str,
    content_type: str = HTML_UTF8,
    *,
    encoding: str = "utf-8",
    headers: tuple[tuple[str, str], ...] = (),
    gzip_negotiable: bool = False,
    chunked: bool = False,
    etag: str | None = None,
    last_modified: datetime | None = None,
) -> Response:
    """A textual response; `encoding` makes the bytes, `content_type` is what the header claims.

    Characters the encoding lacks become numeric references, as CMSs serving GBK do.
    """
    return Response(
        status=status,
        body=text.encode(encoding, errors="xmlcharrefreplace"),
        content_type=content_type,
        headers=headers,
        gzip_negotiable=gzip_negotiable,
        chunked=chunked,
        etag=etag,
        last_modified=last_modified,
    )

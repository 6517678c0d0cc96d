"""What a site answers, independent of sockets: the contract between site builders and the server."""

from __future__ import annotations

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
    """The parts of a request a page may depend on; `now` is the portal clock."""

    method: str
    target: str
    accept_encoding: str
    body: bytes
    now: datetime


@dataclass(frozen=True)
class Response:
    """A complete answer; the server adds Date, Server, framing and, if negotiated, gzip."""

    status: int
    body: bytes
    content_type: str
    headers: tuple[tuple[str, str], ...] = ()
    gzip_negotiable: bool = False
    chunked: bool = False


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


def text_response(
    status: int,
    text: str,
    content_type: str = HTML_UTF8,
    *,
    encoding: str = "utf-8",
    headers: tuple[tuple[str, str], ...] = (),
    gzip_negotiable: bool = False,
    chunked: bool = False,
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
    )

"""The lookup key of a POST (or PUT) exchange: its URL with the request body made into a query.

Replay tools find an archived answer to a request by URL; for a POST they first turn the request
body into query arguments and append them, with the method, to the URL (Webrecorder's "request
body canonicalization", what pywb does at lookup and cdxj-indexer's ``--post-append`` at indexing):
``https://x/api?__wb_method=post&uuid=abc``. A page whose script POSTs to an API (an article body
filled from ``getDetail``) replays only if its index files the answer under that key.

The body becomes a query by its ``Content-Type``: a form as it is (decoded); JSON as
``name=value`` for every scalar (``true``/``false``/``null`` as JavaScript writes them, a repeated
name numbered ``name.2_``); ``text/plain`` as JSON when it parses, else as binary; anything else
(and undecodable forms) as ``__wb_post_data=<base64>``. The query is cut at 4,096 characters, as
pywb cuts it. Multipart forms are taken as binary here (pywb parses them; none of our portals posts
one), so their key differs from pywb's.
"""

from __future__ import annotations

import base64
import json
import math
from typing import Any, Final
from urllib.parse import unquote_plus, urlencode

__all__ = ["MAX_QUERY_LENGTH", "REQUEST_BODY_READ", "method_url", "request_query"]

MAX_QUERY_LENGTH: Final = 4096
REQUEST_BODY_READ: Final = 1 << 20
"""Bytes of a request body read to make its query (what replay keys on is cut at ``MAX_QUERY_LENGTH``)."""
_WITH_BODY: Final = frozenset({"POST", "PUT"})


def _binary(body: bytes) -> str:
    return "__wb_post_data=" + base64.b64encode(body).decode("ascii")


def _json_query(body: bytes) -> str:
    """JSON as pywb flattens it: every scalar under its nearest name, in document order."""
    data: dict[str, str] = {}
    repeats: dict[str, int] = {}

    def key(name: str) -> str:
        if name not in data:
            return name
        repeats[name] = repeats.get(name, 1) + 1
        return f"{name}.{repeats[name]}_"

    pending: list[tuple[Any, str]] = [(json.loads(body), "")]
    while pending:
        value, name = pending.pop()
        if isinstance(value, dict):
            pending.extend(reversed([(child, str(child_name)) for child_name, child in value.items()]))
        elif isinstance(value, list):
            pending.extend(reversed([(child, name) for child in value]))
        elif name:
            data[key(name)] = _scalar(value)
    return urlencode(data)


def _scalar(value: object) -> str:
    """A JSON scalar as JavaScript's ``String()`` writes it."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, float) and math.isfinite(value) and math.modf(value)[0] == 0.0:
        return str(int(value))
    return str(value)


def request_query(method: str, content_type: str, body: bytes) -> str:
    """The query a request body stands for in the lookup key ("" for methods without a body)."""
    if method.upper() not in _WITH_BODY or not body:
        return ""
    mime = content_type.strip().lower()
    if mime.startswith("application/x-www-form-urlencoded"):
        try:
            query = unquote_plus(body.decode("utf-8"))
        except UnicodeDecodeError:
            query = _binary(body)
    elif mime.startswith("application/json"):
        try:
            query = _json_query(body)
        except (ValueError, RecursionError):
            query = ""  # pywb ignores a body it cannot parse as the JSON it says it is
    elif mime.startswith("text/plain"):
        try:
            query = _json_query(body)
        except (ValueError, RecursionError):
            query = _binary(body)
    else:
        query = _binary(body)
    return query[:MAX_QUERY_LENGTH]


def method_url(url: str, method: str, query: str) -> str:
    """``url`` with the method and the body's query appended, as replay tools look it up."""
    appended = f"__wb_method={method.upper()}" + (f"&{query}" if query else "")
    return url + ("&" if "?" in url else "?") + appended

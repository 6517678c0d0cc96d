"""URL canonicalisation: one article, one URL.

Shared and tracked links differ only by parameters that never change the page (``utm_*``,
``spm``, ``from``, ``share_token``, WeChat's ``scene``/``chksm``…) and by fragments. Dropping
exactly those, and nothing else, keeps two links to one article equal without merging pages that
differ (parameter order and every other parameter are kept as they are: sorting would turn
``?page=2&sort=new`` and ``?sort=new&page=2`` into one URL, which some sites treat differently).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final
from urllib.parse import unquote_plus, urlsplit, urlunsplit

TRACKING_PARAMS: Final = frozenset(
    {
        "spm", "spm_id_from", "from", "from_source", "share_token", "share_source", "share_medium",
        "share_from", "share_plat", "share_tag", "sharer_sharetime", "sharer_shareid", "sharer_sharedata",
        "isappinstalled", "scene", "subscene", "ascene", "clicktime", "enterid", "sessionid", "chksm",
        "devicetype", "nettype", "pass_ticket", "wx_header", "exportkey", "fbclid", "gclid", "yclid",
        "msclkid", "mc_cid", "mc_eid", "_hsenc", "_hsmi", "vd_source", "tt_from",
    }
)  # fmt: skip
"""Parameter names (lower case) that only say where a click came from."""
TRACKING_PREFIXES: Final = ("utm_",)
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}
_HOST_RE: Final = re.compile(r"^[a-z0-9.-]+$")


def is_tracking_param(name: str, extra: Iterable[str] = ()) -> bool:
    """Whether a query parameter only tracks the click (case-insensitive)."""
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES) or lowered in extra


def canonicalize_url(url: str, extra_tracking: Iterable[str] = ()) -> str:
    """``url`` without tracking parameters, fragment and default port; scheme and host lower-cased.

    Non-http(s) URLs and unparsable ones come back unchanged: this function never raises.

    >>> canonicalize_url("HTTPS://WWW.InfoQ.cn:443/article/abc?utm_source=wx&id=1#top")
    'https://www.infoq.cn/article/abc?id=1'
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return url
    extra = frozenset(name.lower() for name in extra_tracking)
    host = parts.hostname.lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host if port is None or port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    if parts.username or parts.password:
        userinfo = parts.username or ""
        if parts.password:
            userinfo += f":{parts.password}"
        netloc = f"{userinfo}@{netloc}"
    # Filter the raw ``name=value`` segments so whatever is kept keeps its exact encoding.
    segments = [segment for segment in parts.query.split("&") if segment]
    query = "&".join(
        segment for segment in segments if not is_tracking_param(unquote_plus(segment.split("=", 1)[0]), extra)
    )
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))


def hostname_of(url: str) -> str:
    """The lower-cased host of ``url`` (empty when there is none)."""
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def site_domain(host: str) -> str:
    """``www.infoq.cn`` → ``infoq.cn``: the host a source is known by, without a leading ``www.``."""
    host = host.lower().strip(".")
    return host[4:] if host.startswith("www.") and _HOST_RE.match(host) else host

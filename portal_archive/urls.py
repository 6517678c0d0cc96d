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
from urllib.parse import quote, unquote_plus, urlsplit, urlunsplit

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
_ESCAPE_RE: Final = re.compile(r"%[0-9a-fA-F]{2}")
_LONE_PERCENT_RE: Final = re.compile(r"%(?![0-9a-fA-F]{2})")
# RFC 3986 reserved and unreserved characters, and "%" (escapes are normalised separately).
_URI_SAFE: Final = "!#$&'()*+,/:;=?@[]~-._%"
_NOT_URI_RE: Final = re.compile(r'[^\x21-\x7e]|["<>\\^`{|}]')


def is_tracking_param(name: str, extra: Iterable[str] = ()) -> bool:
    """Whether a query parameter only tracks the click (case-insensitive)."""
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES) or lowered in extra


def ascii_host(host: str) -> str:
    """``host`` lower-cased, an internationalised name in its ``xn--`` (punycode) form.

    A name IDNA cannot encode (an empty or over-long label) comes back lower-cased only.
    """
    host = host.lower()
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def escape_uri_component(text: str) -> str:
    """Percent-encode what may not appear in a URI (non-ASCII as UTF-8, spaces, quotes, a lone ``%``).

    Existing escapes are kept, in upper case (``%e6`` and ``%E6`` name the same byte), and no
    reserved character is touched, so the URL keeps its meaning.
    """
    text = _LONE_PERCENT_RE.sub("%25", text)
    text = quote(text, safe=_URI_SAFE)
    return _ESCAPE_RE.sub(lambda match: match.group(0).upper(), text)


def ascii_uri(url: str) -> str:
    """``url`` as pure ASCII, the form a ``WARC-Target-URI`` or a request line needs.

    An IDN host becomes punycode and everything else non-ASCII (or not allowed in a URI, such as
    a space) is percent-encoded as UTF-8; a URL that is already a valid URI comes back unchanged.
    Never raises.
    """
    if not _NOT_URI_RE.search(url):
        return url
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
        port = parts.port
    except ValueError:
        return escape_uri_component(url)
    netloc = parts.netloc
    if hostname and not netloc.isascii():
        host = ascii_host(hostname)
        host = f"[{host}]" if ":" in host else host
        userinfo = netloc.rpartition("@")[0]
        netloc = (escape_uri_component(userinfo) + "@" if userinfo else "") + host
        netloc += f":{port}" if port is not None else ""
    return urlunsplit(
        (
            parts.scheme,
            escape_uri_component(netloc),
            escape_uri_component(parts.path),
            escape_uri_component(parts.query),
            escape_uri_component(parts.fragment),
        )
    )


def canonicalize_url(url: str, extra_tracking: Iterable[str] = ()) -> str:
    """``url`` without tracking parameters, fragment and default port; scheme and host lower-cased.

    The result is ASCII: an IDN host becomes punycode, non-ASCII path and query characters are
    percent-encoded as UTF-8 and escapes are upper-cased, so a link written as ``/新闻``,
    ``/%E6%96%B0%E9%97%BB`` or ``/%e6%96%b0%e9%97%bb`` is one URL. Non-http(s) URLs and unparsable
    ones come back unchanged: this function never raises.

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
    host = ascii_host(parts.hostname)
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
    return urlunsplit(
        (scheme, escape_uri_component(netloc), escape_uri_component(parts.path or "/"), escape_uri_component(query), "")
    )


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

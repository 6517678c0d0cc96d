"""What a WeChat public-account article page says about itself in its scripts.

mp.weixin.qq.com serves the article body in ``#js_content`` but leaves ``#publish_time`` empty: a
script fills it in from ``var ct = "<epoch seconds>"``. The same scripts carry the title
(``var msg_title``) and the account's name (``var nickname``). Read here before extraction cleans
the scripts away, into the record the assembler takes from an embedded state (``nuxt`` for InfoQ).
"""

from __future__ import annotations

import html
import re
from typing import Final

from lxml import etree

from portal_archive.extract.nuxt import ArticleState

__all__ = ["read_wechat_state"]

_INLINE_SCRIPTS: Final = etree.XPath("//script[not(@src)]/text()")
_VAR: Final = re.compile(r"""\bvar\s+(ct|msg_title|nickname|publish_time)\s*=\s*(["'])(.*?)\2""", re.DOTALL)
_MAX_FIELD: Final = 1000


def _script_vars(root: etree._Element) -> dict[str, str]:
    """The first value of each variable of interest, across the page's inline scripts."""
    found: dict[str, str] = {}
    for text in _INLINE_SCRIPTS(root):
        if not isinstance(text, str) or "var " not in text:
            continue
        for match in _VAR.finditer(text):
            name, value = match.group(1), match.group(3)
            if name not in found and len(value) <= _MAX_FIELD:
                found[name] = value
    return found


def read_wechat_state(root: etree._Element) -> ArticleState | None:
    """Title, account and publication time from a WeChat page's scripts; ``None`` when they say nothing.

    ``publish_time`` is epoch milliseconds from ``ct`` (``var publish_time`` holds only a date, which
    the page shows anyway). Never raises on page content.
    """
    found = _script_vars(root)
    ct = found.get("ct", "")
    millis = int(ct) * 1000 if ct.isascii() and ct.isdigit() else None
    title = html.unescape(found.get("msg_title", "")).strip()
    account = html.unescape(found.get("nickname", "")).strip()
    if millis is None and not title and not account:
        return None
    return ArticleState(title=title, authors=(), publish_time=millis, tags=(), content="", source=account)

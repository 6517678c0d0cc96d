"""Single lines that announce boilerplate by their wording: share prompts, footers, disclaimers, breadcrumbs.

Both the scorer (such lines are worth nothing as article text) and the labeller (they are kept as
labelled blocks) ask the same question, so it is answered once, here.
"""

from __future__ import annotations

from typing import Final

from portal_archive.extract.dom import Block
from portal_archive.extract.lexicon import (
    DISCLAIMER_RE,
    FOOTER_RE,
    NAV_RE,
    NAV_SEPARATOR_RE,
    PROMO_RE,
    SHARE_RE,
)

RELATED: Final = "related_links"
RECOMMENDATIONS: Final = "recommendations"
SHARE: Final = "share"
FOOTER: Final = "footer"
DISCLAIMER: Final = "disclaimer"
NAV: Final = "nav"
COMMENTS: Final = "comments"
BOILERPLATE_KINDS: Final = (RELATED, RECOMMENDATIONS, SHARE, FOOTER, DISCLAIMER, NAV, COMMENTS)

_SHORT_LINE_MAX_CHARS: Final = 60
_META_LINE_MAX_CHARS: Final = 80
_FOOTER_MAX_CHARS: Final = 160
_PROMO_MAX_CHARS: Final = 200
_DISCLAIMER_MAX_CHARS: Final = 400
_SHORT_DISCLAIMER_CHARS: Final = 100


def _is_disclaimer(block: Block) -> bool:
    """A disclaimer formula that makes up the block, not a passing "仅供参考" in a paragraph."""
    if block.chars > _DISCLAIMER_MAX_CHARS:
        return False
    words = block.words
    found = DISCLAIMER_RE.findall(words)
    if not found:
        return False
    return len(set(found)) >= 2 or block.chars <= _SHORT_DISCLAIMER_CHARS or DISCLAIMER_RE.match(words) is not None


def line_kind(block: Block) -> str | None:
    """Share prompts, footers, disclaimers and breadcrumbs, recognised by their wording (either script)."""
    text = block.words
    if block.chars <= _SHORT_LINE_MAX_CHARS and SHARE_RE.search(text):
        return SHARE
    if block.chars <= _PROMO_MAX_CHARS and PROMO_RE.search(text):
        return SHARE
    if _is_disclaimer(block):
        return DISCLAIMER
    if (block.chars <= _FOOTER_MAX_CHARS or block.link_density > 0.5) and FOOTER_RE.search(text):
        return FOOTER
    if (
        block.chars <= _META_LINE_MAX_CHARS
        and block.link_chars > 0
        and "。" not in text  # a sentence that ends in a "返回首页>>" link is the article's last paragraph
        and (NAV_RE.search(text) or NAV_SEPARATOR_RE.search(text))
    ):
        return NAV
    return None

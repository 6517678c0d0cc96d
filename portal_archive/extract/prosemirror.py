"""ProseMirror documents as HTML, so an article a site's API returns as an editor document goes
through the same extraction as one it serves as HTML.

Editors built on ProseMirror (InfoQ's among them) store a body as a JSON tree of nodes (``doc``,
``paragraph``, ``heading``, lists, ``codeblock``, ``image``, ``text`` with marks) and render it in the
browser. The node names differ between editors (``bullet_list``, ``bulletList``, ``bulletedlist``),
so each HTML element is found by a folded name; a node nobody names here keeps its children, so no
text is ever lost to an unknown node type.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from typing import Any, Final

__all__ = ["content_html", "is_prosemirror", "prosemirror_html"]

_BLOCKS: Final = {
    "paragraph": "p",
    "blockquote": "blockquote",
    "bulletlist": "ul",
    "bulletedlist": "ul",
    "orderedlist": "ol",
    "numberedlist": "ol",
    "listitem": "li",
    "table": "table",
    "tablerow": "tr",
    "tablecell": "td",
    "tableheader": "th",
}
"""Folded node name (lower case, no ``_``) → element."""
_MARKS: Final = {"bold": "strong", "strong": "strong", "italic": "em", "em": "em", "code": "code", "strike": "s"}
_MAX_DEPTH: Final = 200
"""Deeper nesting is flattened to its text: a hostile document must not exhaust the renderer's stack."""


def _fold(name: object) -> str:
    return str(name).lower().replace("_", "") if isinstance(name, str) else ""


def _attrs(node: Mapping[str, Any]) -> Mapping[str, Any]:
    attrs = node.get("attrs")
    return attrs if isinstance(attrs, Mapping) else {}


def _href(value: object) -> str:
    """A link target fit for an attribute: only web and mail links, escaped."""
    text = value.strip() if isinstance(value, str) else ""
    return html.escape(text, quote=True) if text.lower().startswith(("http:", "https:", "mailto:", "/")) else ""


def _text(node: Mapping[str, Any]) -> str:
    text = html.escape(str(node.get("text") or ""), quote=False)
    marks = node.get("marks")
    for mark in marks if isinstance(marks, list) else ():
        if not isinstance(mark, Mapping):
            continue
        kind = _fold(mark.get("type"))
        if kind == "link" and (href := _href(_attrs(mark).get("href"))):
            text = f'<a href="{href}">{text}</a>'
        elif kind in _MARKS:
            text = f"<{_MARKS[kind]}>{text}</{_MARKS[kind]}>"
    return text


def _render(node: object, out: list[str], depth: int) -> None:
    if not isinstance(node, Mapping):
        return
    kind = _fold(node.get("type"))
    attrs = _attrs(node)
    if kind == "text":
        out.append(_text(node))
        return
    if kind in ("hardbreak", "br"):
        out.append("<br>")
        return
    if kind in ("horizontalrule", "hr"):
        out.append("<hr>")
        return
    if kind == "image":
        src = _href(attrs.get("src"))
        alt = html.escape(str(attrs.get("alt") or ""), quote=True)
        out.append(f'<img src="{src}" alt="{alt}">' if src else "")
        return
    children = node.get("content")
    inner: list[str] = []
    if depth >= _MAX_DEPTH:
        inner.append(html.escape(_flat_text(node), quote=False))
    else:
        for child in children if isinstance(children, list) else ():
            _render(child, inner, depth + 1)
    body = "".join(inner)
    if kind == "heading":
        level = attrs.get("level")
        tag = f"h{level}" if isinstance(level, int) and 1 <= level <= 6 else "h2"
        out.append(f"<{tag}>{body}</{tag}>")
    elif kind in ("codeblock", "code"):
        out.append(f"<pre><code>{body}</code></pre>")
    elif kind == "link":
        # InfoQ's editor makes a link a node around its text, not a mark.
        href = _href(attrs.get("href"))
        out.append(f'<a href="{href}">{body}</a>' if href else body)
    elif kind in _BLOCKS:
        out.append(f"<{_BLOCKS[kind]}>{body}</{_BLOCKS[kind]}>")
    else:
        out.append(body)  # doc, and node types no editor shares: their children, unwrapped


def _flat_text(node: Mapping[str, Any]) -> str:
    """All text under a node, without recursion (for nesting past ``_MAX_DEPTH``)."""
    parts: list[str] = []
    pending: list[object] = [node]
    while pending:
        current = pending.pop()
        if not isinstance(current, Mapping):
            continue
        if _fold(current.get("type")) == "text":
            parts.append(str(current.get("text") or ""))
        children = current.get("content")
        if isinstance(children, list):
            pending.extend(reversed(children))
    return "".join(parts)


def prosemirror_html(document: Mapping[str, Any]) -> str:
    """A ProseMirror document (a ``doc`` node, parsed) as HTML."""
    out: list[str] = []
    _render(document, out, 0)
    return "".join(out)


def is_prosemirror(content: str) -> bool:
    """Whether a body string is a serialised ProseMirror document rather than HTML."""
    head = content.lstrip()[:200]
    return head.startswith("{") and '"type"' in head


def content_html(content: str) -> str:
    """A body as an API returns it (HTML, or a ProseMirror document as a JSON string) as HTML.

    A string that looks like a document but does not parse as one is taken as text, escaped.
    """
    if not is_prosemirror(content):
        return content
    try:
        document = json.loads(content)
    except (json.JSONDecodeError, RecursionError):
        return f"<p>{html.escape(content, quote=False)}</p>"
    return prosemirror_html(document) if isinstance(document, Mapping) else ""

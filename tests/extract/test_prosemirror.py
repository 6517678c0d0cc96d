"""ProseMirror documents (as article APIs return bodies) become HTML the extractor reads like a page."""

from __future__ import annotations

import json
from typing import Any

from portal_archive.extract import extract_from_text
from portal_archive.extract.prosemirror import content_html, is_prosemirror, prosemirror_html


def text(value: str, *marks: dict[str, Any]) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "text", "text": value}
    if marks:
        node["marks"] = list(marks)
    return node


def paragraph(*children: dict[str, Any]) -> dict[str, Any]:
    return {"type": "paragraph", "content": list(children)}


DOC = {
    "type": "doc",
    "content": [
        {"type": "heading", "attrs": {"level": 3}, "content": [text("背景")]},
        paragraph(text("模型 "), text("很强", {"type": "strong"}), text("，但 <脚本> & 符号要转义。")),
        {"type": "bulletedlist", "content": [{"type": "listitem", "content": [paragraph(text("第一点"))]}]},
        {"type": "bullet_list", "content": [{"type": "list_item", "content": [paragraph(text("第二点"))]}]},
        {"type": "orderedList", "content": [{"type": "listItem", "content": [paragraph(text("第三点"))]}]},
        {"type": "codeblock", "attrs": {"lang": "python"}, "content": [text("print('<hi>')")]},
        {"type": "blockquote", "content": [paragraph(text("引用"))]},
        {"type": "image", "attrs": {"src": "https://img.example/a.png", "alt": "图"}},
        paragraph(text("参考链接:")),
        paragraph({"type": "link", "attrs": {"href": "https://www.forbes.com/x"}, "content": [text("forbes")]}),
        paragraph(text("theverge", {"type": "link", "attrs": {"href": "https://www.theverge.com/y"}})),
        paragraph(text("bad", {"type": "link", "attrs": {"href": "javascript:alert(1)"}})),
        {"type": "someVendorWidget", "content": [paragraph(text("未知节点里的字也在"))]},
    ],
}


def test_nodes_and_marks_become_the_html_a_page_would_show() -> None:
    html = prosemirror_html(DOC)
    assert "<h3>背景</h3>" in html
    assert "<p>模型 <strong>很强</strong>，但 &lt;脚本&gt; &amp; 符号要转义。</p>" in html
    assert html.count("<ul>") == 2 and "<ol><li><p>第三点</p></li></ol>" in html
    assert "<pre><code>print('&lt;hi&gt;')</code></pre>" in html
    assert "<blockquote><p>引用</p></blockquote>" in html
    assert '<img src="https://img.example/a.png" alt="图">' in html
    assert '<a href="https://www.forbes.com/x">forbes</a>' in html  # a link node (InfoQ's editor)
    assert '<a href="https://www.theverge.com/y">theverge</a>' in html  # a link mark
    assert "javascript:" not in html and "<p>bad</p>" in html
    assert "<p>未知节点里的字也在</p>" in html  # an unknown node keeps its text


def test_a_document_goes_through_the_same_extraction_as_html() -> None:
    body = [
        "某公司今天发布了新一代开源模型，在多项评测中超过了上一代产品，引起业内广泛关注。",
        "公司表示，新模型将以宽松的许可证开放权重，开发者可以在本地部署并进行二次训练。",
    ]
    doc = {"type": "doc", "content": [paragraph(text(line)) for line in body]}
    doc["content"].append(paragraph(text("参考链接:")))
    doc["content"].append(
        paragraph(
            {
                "type": "link",
                "attrs": {"href": "https://www.forbes.com/x"},
                "content": [text("https://www.forbes.com/x")],
            }
        )
    )
    filled = content_html(json.dumps(doc))
    page = f"<html><head><title>新模型发布</title></head><body><h1>新模型发布</h1><article>{filled}</article></body>"
    article = extract_from_text(page, url="https://news.example/a/1")
    assert article.body_text == "\n".join(body)
    assert article.references == ("https://www.forbes.com/x",)


def test_html_content_passes_through_and_bad_documents_are_text() -> None:
    assert content_html("<p>正文</p>") == "<p>正文</p>"
    assert not is_prosemirror('<p>{"type"}</p>') and is_prosemirror(' {"type": "doc"}')
    assert content_html('{"type": "doc", "content": [') == '<p>{"type": "doc", "content": [</p>'
    assert content_html('{"type": "doc", "content": 3}') == ""
    nested: dict[str, Any] = {"type": "doc"}
    node = nested
    for _ in range(5000):  # hostile nesting: flattened to its text, never a RecursionError
        child: dict[str, Any] = {"type": "blockquote"}
        node["content"] = [child]
        node = child
    node["content"] = [text("深处")]
    assert "深处" in prosemirror_html(nested)

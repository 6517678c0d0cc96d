"""The article metadata record: what extraction and dedup concluded about one archived page.

Schema ``portal-archive/article-metadata/1``, documented in ``docs/metadata-record.md`` (JSON
Schema: ``docs/article-metadata-1.schema.json``). The record's ``WARC-Target-URI`` is
``urn:article:<page URL>``, not the page URL: pywb and cdxj-indexer index ``metadata`` records like
responses, and under the page's own URL the JSON would be replayed in place of the page whenever
it is the closest capture in time.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from portal_archive import __version__
from portal_archive.items import ArticleItem, BoilerplateBlock

SCHEMA = "portal-archive/article-metadata/1"
SCHEMA_FAMILY = "portal-archive/article-metadata/"
CONTENT_TYPE = "application/json"
METADATA_URI_PREFIX = "urn:article:"
DEDUP_KEYS = ("cluster_id", "canonical_url", "role", "similarity", "signature")


class MetadataRecordError(ValueError):
    """A block is not an article metadata record this version can read."""


def metadata_uri(page_url: str) -> str:
    """The ``WARC-Target-URI`` of the metadata record about ``page_url``."""
    return METADATA_URI_PREFIX + page_url


def json_safe(value: Any) -> Any:
    """Plain JSON values from dataclasses, mappings, sequences, dates; anything else as ``str``."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: json_safe(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [json_safe(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def dedup_section(verdict: Any) -> dict[str, Any] | None:
    """The dedup pipeline's verdict, every key kept, with the schema's keys always present."""
    if verdict is None:
        return None
    converted = json_safe(verdict)
    section = converted if isinstance(converted, dict) else {"value": converted}
    for key in DEDUP_KEYS:
        section.setdefault(key, None)
    return section


def body_source(item: ArticleItem) -> str:
    """Where the body was read: ``html`` (the page as served), ``api`` (the portal's article API,
    filled into the page), ``rendered`` (the page after a browser ran its script)."""
    if item.extra.get("body_from") == "api":
        return "api"
    return "rendered" if item.rendered else "html"


def article_metadata(item: ArticleItem) -> dict[str, Any]:
    """The JSON document of schema ``portal-archive/article-metadata/1`` for one article item."""
    return {
        "schema": SCHEMA,
        "url": item.url,
        "canonical_url": item.canonical_url or item.url,
        "site": item.site,
        "language": item.language,
        "capture": {
            "record_id": item.warc_record_id,
            "warc_filename": item.warc_filename,
            "warc_offset": item.warc_offset,
            "fetched_at": item.fetched_at,
            "body_from": body_source(item),
            "api_record_ids": [str(record) for record in item.extra.get("api_records") or ()],
        },
        "article": {
            "title": item.title,
            "byline": item.byline,
            "authors": list(item.authors),
            "published_at": item.published_at,
            "published_text": item.published_text,
            "source": item.source,
            "source_domain": item.source_domain,
            "references": list(item.references),
            "cited": [dict(cited) for cited in item.extra.get("cited") or () if isinstance(cited, Mapping)],
            "body_text": item.body_text,
        },
        "boilerplate": [json_safe(block) for block in item.boilerplate],
        "dedup": dedup_section(item.extra.get("dedup")),
        "producer": f"portal-archive/{__version__}",
    }


def _text(section: Mapping[str, Any], key: str) -> str:
    value = section.get(key)
    return value if isinstance(value, str) else ""


def _texts(section: Mapping[str, Any], key: str) -> list[str]:
    values = section.get(key)
    return [value for value in values if isinstance(value, str)] if isinstance(values, list) else []


def _section(document: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = document.get(key)
    return value if isinstance(value, Mapping) else {}


def item_from_metadata(document: Mapping[str, Any]) -> ArticleItem:
    """The article item a metadata record describes (``decode``'s result): what the crawl extracted.

    The inverse of ``article_metadata`` for every field the record keeps; ``site_domain`` and
    ``body_html`` are not in the record, and ``extra`` holds the crawl's dedup verdict and the
    settled references (``cited``) only.
    """
    capture = _section(document, "capture")
    article = _section(document, "article")
    offset = capture.get("warc_offset")
    published = article.get("published_at")
    boilerplate = [
        BoilerplateBlock(
            kind=_text(block, "kind"),
            text=_text(block, "text"),
            links=[
                {"title": _text(link, "title"), "url": _text(link, "url")}
                for link in block.get("links") or ()
                if isinstance(link, Mapping)
            ],
        )
        for block in document.get("boilerplate") or ()
        if isinstance(block, Mapping)
    ]
    verdict = document.get("dedup")
    return ArticleItem(
        url=_text(document, "url"),
        canonical_url=_text(document, "canonical_url"),
        site=_text(document, "site"),
        language=_text(document, "language") or ArticleItem.language,
        title=_text(article, "title"),
        byline=_text(article, "byline"),
        authors=_texts(article, "authors"),
        published_at=published if isinstance(published, str) and published else None,
        published_text=_text(article, "published_text"),
        source=_text(article, "source"),
        source_domain=_text(article, "source_domain"),
        references=_texts(article, "references"),
        body_text=_text(article, "body_text"),
        boilerplate=boilerplate,
        fetched_at=_text(capture, "fetched_at"),
        warc_record_id=_text(capture, "record_id"),
        warc_filename=_text(capture, "warc_filename"),
        warc_offset=offset if isinstance(offset, int) and not isinstance(offset, bool) else None,
        extra={
            **({"dedup": dict(verdict)} if isinstance(verdict, Mapping) else {}),
            **({"cited": cited} if (cited := cited_sources(document)) else {}),
        },
    )


def cited_sources(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The settled references a record lists (``crawl.references``): url, record_id, status, reason."""
    values = _section(document, "article").get("cited")
    return [dict(value) for value in values if isinstance(value, Mapping)] if isinstance(values, list) else []


def encode(document: Mapping[str, Any]) -> bytes:
    """Compact UTF-8 JSON (Chinese stays readable: no ``\\uXXXX`` escapes)."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def decode(block: bytes) -> dict[str, Any]:
    """Parse a record block; refuse other schemas and unknown major versions with the reason."""
    try:
        document = json.loads(block.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MetadataRecordError(f"not a JSON document: {exc}") from exc
    if not isinstance(document, dict):
        raise MetadataRecordError("not a JSON object")
    schema = str(document.get("schema", ""))
    if not schema.startswith(SCHEMA_FAMILY):
        raise MetadataRecordError(f"not an article metadata record (schema {schema!r})")
    if schema != SCHEMA:
        raise MetadataRecordError(f"schema {schema!r} is newer than this reader ({SCHEMA}): upgrade portal-archive")
    return document

"""The pipeline is built from a crawler, annotates every item, never drops one, and counts stats."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from itemadapter import ItemAdapter
from scrapy.exceptions import NotConfigured
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from pipelines.dedup import NearDuplicatePipeline
from portal_archive.dedup import DedupIndex, DedupIndexMismatch, IndexParameters, document_from_item
from portal_archive.items import ArticleItem
from tests.dedup.test_texts import (
    ASTRONOMY,
    ASTRONOMY_URL,
    COPY_URL,
    EXCERPT_URL,
    LIBRARY,
    ORIGINAL_URL,
    SOURCE_DOMAINS,
    library_copy,
    library_excerpt,
)


def pipeline(tmp_path: Path, **settings: Any) -> NearDuplicatePipeline:
    crawler = get_crawler(
        settings_dict={
            "DEDUP_INDEX_PATH": str(tmp_path / "dedup.sqlite"),
            "DEDUP_SOURCE_DOMAINS": SOURCE_DOMAINS,
            **settings,
        }
    )
    built: NearDuplicatePipeline = build_from_crawler(NearDuplicatePipeline, crawler)
    return built


def items() -> list[ArticleItem]:
    return [
        ArticleItem(
            url=ORIGINAL_URL,
            site="citydaily",
            title="图书馆夜间开放",
            body_text=LIBRARY,
            published_at="2024-04-01T08:00:00+00:00",
            warc_record_id="<urn:uuid:1>",
        ),
        ArticleItem(
            url=COPY_URL,
            site="bendi",
            title="图书馆要开到半夜了",
            body_text=library_copy(),
            source="城市晚报",
            published_at="2024-04-01T10:00:00+00:00",
        ),
        ArticleItem(
            url=EXCERPT_URL, site="sohu", body_text=library_excerpt(), extra={"read_original_url": ORIGINAL_URL}
        ),
        ArticleItem(url=ASTRONOMY_URL, site="citydaily", body_text=ASTRONOMY),
        ArticleItem(url="https://bendi.news/wxnews/empty", site="bendi", body_text=""),
        ArticleItem(url="https://bendi.news/wxnews/noise", site="bendi", body_text="。。。\nhttps://x.example/1"),
    ]


def test_disabled_pipeline_is_not_configured() -> None:
    with pytest.raises(NotConfigured, match="DEDUP_ENABLED is False"):
        build_from_crawler(NearDuplicatePipeline, get_crawler(settings_dict={"DEDUP_ENABLED": False}))


def test_items_are_annotated_never_dropped_and_counted(tmp_path: Path) -> None:
    dedup = pipeline(tmp_path)
    dedup.open_spider()
    given = items()
    returned = [dedup.process_item(item) for item in given]
    dedup.close_spider()

    assert returned == given
    assert all(item is original for item, original in zip(returned, given, strict=True))
    verdicts = [item.extra["dedup"] for item in returned]
    assert [v["status"] for v in verdicts] == ["indexed"] * 4 + ["too_short"] * 2
    assert [v["role"] for v in verdicts] == ["unique", "copy", "excerpt", "unique", None, None]
    assert verdicts[1]["canonical_url"] == ORIGINAL_URL
    assert verdicts[1]["cluster_id"] is not None
    assert verdicts[1]["cluster_id"] == verdicts[2]["cluster_id"]
    assert verdicts[2]["canonical_url"] == ORIGINAL_URL
    assert verdicts[2]["containment"] > 0.9
    assert returned[2].extra["read_original_url"] == ORIGINAL_URL  # other extra keys are kept

    stats = dedup.stats
    assert stats.get_value("dedup/indexed") == 4
    assert stats.get_value("dedup/too_short") == 2
    assert stats.get_value("dedup/unique") == 2
    assert stats.get_value("dedup/copies") == 1
    assert stats.get_value("dedup/excerpts") == 1
    assert stats.get_value("dedup/clusters") == 1
    assert stats.get_value("dedup/index_documents") == 4
    assert stats.get_value("dedup/errors") is None


def test_recrawl_sees_the_persisted_index(tmp_path: Path) -> None:
    first = pipeline(tmp_path)
    first.open_spider()
    first.process_item(items()[0])
    first.close_spider()
    second = pipeline(tmp_path)
    second.open_spider()
    assert second.engine is not None and second.engine.index._bands is not None  # type: ignore[attr-defined]
    assert len(second.engine.index._bands) == 32  # type: ignore[attr-defined]  # read as it opened
    copy = second.process_item(items()[1])
    revisit = second.process_item(items()[0])
    second.close_spider()
    assert copy.extra["dedup"]["role"] == "copy"
    assert revisit.extra["dedup"]["status"] == "revisit"
    assert second.stats.get_value("dedup/revisits") == 1


def test_mismatched_index_stops_the_crawl_at_open(tmp_path: Path) -> None:
    DedupIndex.open(tmp_path / "dedup.sqlite", IndexParameters(num_perm=256)).close()
    dedup = pipeline(tmp_path)
    with pytest.raises(DedupIndexMismatch, match="num_perm=256"):
        dedup.open_spider()


def test_failure_annotates_the_item_instead_of_dropping_it(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    dedup = pipeline(tmp_path)
    dedup.open_spider()
    assert dedup.engine is not None
    dedup.engine.index.close()  # any later SQLite call fails
    item = dedup.process_item(items()[0])
    assert item.extra["dedup"]["status"] == "error"
    assert "ProgrammingError" in item.extra["dedup"]["error"]
    assert dedup.stats.get_value("dedup/errors") == 1
    assert "Near-duplicate check failed" in caplog.text


def test_dict_items_are_annotated_too(tmp_path: Path) -> None:
    dedup = pipeline(tmp_path)
    dedup.open_spider()
    item = dedup.process_item({"url": ORIGINAL_URL, "body_text": LIBRARY})
    dedup.close_spider()
    assert item["extra"]["dedup"]["role"] == "unique"


def test_the_item_to_document_mapping_reads_any_item_the_same() -> None:
    item = ArticleItem(
        url="http://news.example.cn/a/1",
        title="标题",
        body_text="正文第一段。\n正文第二段。",
        site="bendi",
        site_domain="bendi.news",
        published_at="2024-04-01T02:30:00+00:00",
        canonical_url="http://news.example.cn/a/1?from=feed",
        source="InfoQ",
        source_domain="infoq.cn",
        byline="整理 | 凌敏",
        warc_record_id="<urn:uuid:0>",
        warc_filename="a.warc.gz",
        warc_offset=12,
        extra={"read_original_url": "http://infoq.cn/article/1"},
    )
    document = document_from_item(item)
    assert document.url == item.url and document.text == item.body_text and document.warc_offset == 12
    assert document.read_original_url == "http://infoq.cn/article/1" and document.source_domain == "infoq.cn"
    as_dict = dict(ItemAdapter(item).asdict())
    assert document_from_item(ItemAdapter(item)) == document
    assert document_from_item(as_dict) == document
    assert document_from_item({"url": "http://x/", "body_text": 3, "warc_offset": True}).warc_offset is None

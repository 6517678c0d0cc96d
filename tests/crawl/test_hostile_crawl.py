"""The generic portal spider against a hostile portal: every case survives, is archived as received
(or, where Twisted refused the response, counted), and is reported with one log line and a stat.

One crawl (module scope) serves every case; ``tests/hostile/site.py`` describes the cases and
``docs/faults.md`` the stat keys. The expected outcome of each case is its test's docstring.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator

import pytest

from portal_archive.warc.check import check_files
from tests.conftest import LINT_WARC, PROJECT_ROOT, lint_available
from tests.hostile.crawl import (
    DOWNLOAD_MAXSIZE,
    MAX_DEPTH,
    MAX_PAGES,
    REDIRECT_MAX_TIMES,
    RETRY_AFTER_MAX,
    RETRY_TIMES,
    UNICODE_HOST,
    ArchivedRecord,
    HostileCrawl,
    run_hostile_crawl,
)
from tests.hostile.site import (
    CALENDAR_START,
    CASES,
    HOSTILE_TITLE_TEXT,
    HUGE_BODY,
    PARAGRAPH,
    PDF,
    PNG,
    RETRY_AFTER,
    UNICODE_PATH_ENCODED,
    HostileSite,
    article_html,
    bomb_bytes,
)

pytestmark = pytest.mark.slow

FAULTS_DOC = PROJECT_ROOT / "docs" / "faults.md"
FAULT_STAT_PREFIXES = (
    "fetch/", "extract/", "warc/truncated", "warc/non_ascii", "spider/max_", "dates/impossible", "dates/unresolved",
    "robotstxt/forbidden",
)  # fmt: skip


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostileCrawl]:
    with HostileSite(UNICODE_HOST) as site:
        yield run_hostile_crawl(site, tmp_path_factory.mktemp("hostile"))


def only(records: list[ArchivedRecord]) -> ArchivedRecord:
    (record,) = records
    return record


def has_header(record: ArchivedRecord, name: bytes, value: bytes | None = None) -> bool:
    for line in record.header_lines():
        found, _, found_value = line.partition(b":")
        if found.strip().lower() == name.lower() and (value is None or found_value.strip() == value):
            return True
    return False


def fault_lines(crawl: HostileCrawl, stat: str) -> list[str]:
    return [line for line in crawl.log.splitlines() if f"Fetch fault {stat} " in line]


# -- the crawl as a whole ------------------------------------------------------------------------


def test_crawl_finishes_without_errors_or_tracebacks(crawl: HostileCrawl) -> None:
    assert crawl.returncode == 0, crawl.log[-3000:]
    assert crawl.stats["finish_reason"] == "finished"
    assert "Traceback" not in crawl.log
    assert not crawl.stats.get("log_count/ERROR"), [line for line in crawl.log.splitlines() if " ERROR: " in line]
    assert not crawl.stats.get("warc/errors")
    assert not crawl.stats.get("spider_exceptions/count")
    assert not crawl.stats.get("fetch/unexpected")
    assert crawl.stats["item_scraped_count"] == len(crawl.items) == crawl.stats["spider/articles"]


def test_the_hostile_crawl_stays_quick(crawl: HostileCrawl) -> None:
    """Short timeouts and one retry keep the slow cases (timeout, Retry-After) to seconds."""
    assert crawl.elapsed < 45


def test_every_warc_passes_check_and_strict_lint(crawl: HostileCrawl) -> None:
    checked, problems = check_files([crawl.warc_dir])
    assert checked >= 1 and [str(p) for p in problems] == []
    if lint_available():
        files = [str(p) for p in crawl.warc_dir.glob("*.warc.gz")]
        lint = subprocess.run([sys.executable, str(LINT_WARC), "--strict", *files], capture_output=True, text=True)
        assert lint.returncode == 0, lint.stdout
        assert "errors=0 warnings=0" in lint.stdout


def test_every_stat_key_is_documented(crawl: HostileCrawl) -> None:
    documented = FAULTS_DOC.read_text(encoding="utf-8")
    fault_keys = [key for key in crawl.stats if key.startswith(FAULT_STAT_PREFIXES)]
    assert len(fault_keys) >= len(CASES) // 2, fault_keys  # the hostile site provokes most kinds of fault
    for key in fault_keys:
        general = re.sub(r"^(extract/empty_reason|warc/truncated)/.+$", r"\1/<reason>", key)
        assert f"`{general}`" in documented, key


def test_every_case_has_a_test() -> None:
    numbers = {int(name.split("_")[2]) for name in globals() if name.startswith("test_case_")}
    assert numbers == {case.number for case in CASES}


# -- security --------------------------------------------------------------------------------------


def test_no_code_execution_endpoint_and_no_open_port(crawl: HostileCrawl) -> None:
    enabled = crawl.log.split("Enabled extensions:", 1)[1].split("]", 1)[0]
    assert "TelnetConsole" not in enabled and "RemoteControl" not in enabled
    assert "listening on" not in crawl.log
    assert crawl.listening_ports == set()


def test_the_spider_never_leaves_its_origin(crawl: HostileCrawl) -> None:
    """Case 10 from the server's side: neither the decoy port nor another host name was contacted."""
    assert crawl.decoy_hits == []
    ascii_host = UNICODE_HOST.encode("idna").decode()
    assert {hit.host.rsplit(":", 1)[0] for hit in crawl.hits} == {ascii_host}


# -- the 24 cases ------------------------------------------------------------------------------------


def test_case_01_wrong_charset_is_detected_and_bytes_kept(crawl: HostileCrawl) -> None:
    """UTF-8 declared, GBK sent: archived byte for byte, extracted as GBK, counted."""
    record = only(crawl.records_for("/a/wrong-charset"))
    assert record.payload == article_html("错误的字符集声明").encode("gbk")
    assert has_header(record, b"Content-Type", b"text/html; charset=utf-8")
    item = crawl.item("/a/wrong-charset")
    assert item["title"] == "错误的字符集声明" and PARAGRAPH in item["body_text"]
    assert crawl.stats["extract/charset_mismatch"] == 1
    assert "declares utf-8 but reads as gb18030" in crawl.log


def test_case_02_gbk_header_bytes_are_archived_as_sent(crawl: HostileCrawl) -> None:
    record = only(crawl.records_for("/a/gbk-header"))
    assert b"\r\nX-Source: " + "人民日报".encode("gbk") + b"\r\n" in record.head
    assert b"\r\nSet-Cookie: name=" + "张三".encode("gbk") + b"; Path=/" in record.head
    assert crawl.item("/a/gbk-header")["title"] == "头部含GBK字节"
    assert crawl.stats["warc/non_ascii_headers"] >= 1


def test_case_03_invalid_gzip_is_archived_raw_and_counted(crawl: HostileCrawl) -> None:
    """Not gzip at all: Content-Encoding renamed X-Orig-; gzip magic then garbage: kept (the bytes are gzip)."""
    plain = only(crawl.records_for("/a/bad-gzip"))
    assert plain.payload == b"this is definitely not gzip data"
    assert has_header(plain, b"X-Orig-Content-Encoding", b"gzip") and not has_header(plain, b"Content-Encoding")
    magic = only(crawl.records_for("/a/bad-gzip-magic"))
    assert magic.payload.startswith(b"\x1f\x8b") and has_header(magic, b"Content-Encoding", b"gzip")
    assert crawl.stats["fetch/decode_error"] == 2 and len(fault_lines(crawl, "fetch/decode_error")) == 2
    assert crawl.items_for("/a/bad-gzip") == crawl.items_for("/a/bad-gzip-magic") == []


def _cut_case(crawl: HostileCrawl, target: str) -> None:
    record = only(crawl.records_for(target))
    page = article_html("被截断的正文", paragraphs=30).encode("utf-8")
    assert record.warc_fields["WARC-Truncated"] == "disconnect"
    assert record.payload == page[: len(page) // 3]
    assert has_header(record, b"X-Orig-Content-Length", str(len(page)).encode()) and not has_header(
        record, b"Content-Length"
    )
    item = crawl.item(target)
    assert item["extra"]["truncated"] == "disconnect" and PARAGRAPH in item["body_text"]


def test_case_04_short_body_is_archived_truncated(crawl: HostileCrawl) -> None:
    """Content-Length larger than what was sent, then a clean close."""
    _cut_case(crawl, "/a/short-body")
    assert crawl.stats["warc/truncated/disconnect"] == 3  # cases 4 and 5 (twice)
    assert crawl.stats["extract/partial_body"] == 4  # cases 4, 5 (twice) and 7


def test_case_05_reset_mid_body_is_archived_truncated(crawl: HostileCrawl) -> None:
    """A TCP reset (SO_LINGER 0) after part of the body: what arrived is archived.

    Right after the head: an empty, truncated record and an empty item. Without Content-Length the
    body ends with the connection, so a reset cannot be told from the end: archived as received.
    """
    _cut_case(crawl, "/a/reset")
    assert "Archived " + crawl.ascii_base_url + "/a/reset as truncated (disconnect)" in crawl.log
    after_head = only(crawl.records_for("/a/reset-after-head"))
    assert after_head.warc_fields["WARC-Truncated"] == "disconnect" and after_head.payload == b""
    item = crawl.item("/a/reset-after-head")
    assert (item["extra"]["empty_reason"], item["extra"]["truncated"]) == ("empty document", "disconnect")
    unannounced = only(crawl.records_for("/a/reset-unannounced"))
    page = article_html("没有长度的重置", paragraphs=30).encode("utf-8")
    assert unannounced.payload == page[: len(page) // 3] and "WARC-Truncated" not in unannounced.warc_fields


def test_case_06_timeout_is_retried_then_counted(crawl: HostileCrawl) -> None:
    """Nothing arrives within DOWNLOAD_TIMEOUT: nothing to archive; one retry, then fetch/timeout."""
    assert len(crawl.hits_for("/a/slow")) == RETRY_TIMES + 1
    assert crawl.records_for("/a/slow") == [] and crawl.items_for("/a/slow") == []
    assert crawl.stats["fetch/timeout"] == 1
    (line,) = fault_lines(crawl, "fetch/timeout")
    assert " WARNING: " in line and "/a/slow" in line


def test_case_07_oversize_page_is_cut_at_the_limit(crawl: HostileCrawl) -> None:
    record = only(crawl.records_for("/a/huge"))
    assert record.warc_fields["WARC-Truncated"] == "length"
    assert DOWNLOAD_MAXSIZE <= len(record.payload) < HUGE_BODY
    assert crawl.stats["fetch/oversize"] == 1 and crawl.stats["warc/truncated/length"] == 1
    assert crawl.item("/a/huge")["extra"]["truncated"] == "length"


def test_case_08_gzip_bomb_is_archived_compressed_and_not_inflated(crawl: HostileCrawl) -> None:
    record = only(crawl.records_for("/a/gzip-bomb"))
    assert record.payload == bomb_bytes() and has_header(record, b"Content-Encoding", b"gzip")
    assert "WARC-Truncated" not in record.warc_fields
    assert crawl.stats["fetch/decompressed_oversize"] == 1
    assert crawl.items_for("/a/gzip-bomb") == []


def test_case_09_redirect_loops_stop_with_every_hop_archived(crawl: HostileCrawl) -> None:
    """An endless chain stops at REDIRECT_MAX_TIMES; a cycle stops when it comes round."""
    chain = [f"/a/loop?n={n}" for n in range(REDIRECT_MAX_TIMES + 1)]
    assert [only(crawl.records_for(target)).status for target in chain] == [302] * len(chain)
    assert [hit.target for hit in crawl.hits if hit.path == "/a/loop"] == chain
    assert only(crawl.records_for("/a/cycle-a")).status == only(crawl.records_for("/a/cycle-b")).status == 302
    assert len(crawl.hits_for("/a/cycle-a")) == 1
    assert crawl.stats["fetch/redirect_loop"] == 2 and len(fault_lines(crawl, "fetch/redirect_loop")) == 2


def test_case_10_offsite_redirects_are_archived_not_followed(crawl: HostileCrawl) -> None:
    """Same host on another port (Scrapy alone would follow it) and another host name."""
    for target in ("/a/away-port", "/a/away-host"):
        assert only(crawl.records_for(target)).status == 302
    assert crawl.decoy_hits == [] and crawl.hits_for("/a/decoy") == []
    assert crawl.stats["fetch/offsite"] == 2
    assert all(" INFO: " in line for line in fault_lines(crawl, "fetch/offsite"))


def test_case_11_pagination_and_calendar_traps_are_bounded(crawl: HostileCrawl) -> None:
    pages = sorted(int(hit.query.removeprefix("page=")) for hit in crawl.hits if hit.path == "/list")
    assert pages == list(range(1, MAX_PAGES + 1))
    days = {int(hit.path.rsplit("/", 1)[1]) for hit in crawl.hits if hit.path.startswith("/cal/")}
    reach = MAX_DEPTH - 1  # the first calendar page is one hop from the start page
    assert days == set(range(CALENDAR_START - reach, CALENDAR_START + reach + 1))
    assert crawl.stats["spider/max_pages_reached"] >= 1 and crawl.stats["spider/max_depth_reached"] >= 1
    assert "beyond the profile's links.max_pages" in crawl.log and "beyond the profile's links.max_depth" in crawl.log


def test_case_12_tracking_variants_collapse_to_one_fetch(crawl: HostileCrawl) -> None:
    assert [hit.target for hit in crawl.hits_for("/a/tracked")] == ["/a/tracked"]
    assert len(crawl.items_for("/a/tracked")) == 1
    assert crawl.stats["urls/canonicalized"] >= 3


def test_case_13_server_error_then_success_archives_both(crawl: HostileCrawl) -> None:
    assert [record.status for record in crawl.records_for("/a/flaky")] == [500, 200]
    assert crawl.item("/a/flaky")["title"] == "重试后成功"
    assert crawl.stats["retry/reason_count/500 Internal Server Error"] == 1


def test_case_14_retry_after_is_honoured_and_capped(crawl: HostileCrawl) -> None:
    first, second = crawl.hits_for("/a/throttled")
    assert second.at - first.at >= RETRY_AFTER
    first, second = crawl.hits_for("/a/throttled-long")
    assert RETRY_AFTER_MAX <= second.at - first.at < RETRY_AFTER_MAX + 5  # 3600 s asked, capped
    for target, title in (("/a/throttled", "限流之后"), ("/a/throttled-long", "长限流之后")):
        assert [record.status for record in crawl.records_for(target)] == [429, 200]
        assert crawl.item(target)["title"] == title
    assert crawl.stats["fetch/retry_after"] == 2 and crawl.stats["fetch/retry_after_capped"] == 1


def test_case_15_pdf_and_image_are_archived_not_extracted(crawl: HostileCrawl) -> None:
    assert only(crawl.records_for("/a/report")).payload == PDF
    assert only(crawl.records_for("/a/photo")).payload == PNG
    assert crawl.items_for("/a/report") == crawl.items_for("/a/photo") == []
    assert crawl.stats["extract/not_html"] == 2
    assert "/a/report is application/pdf, not HTML" in crawl.log


def test_case_16_malformed_html_still_gives_the_article(crawl: HostileCrawl) -> None:
    item = crawl.item("/a/malformed")
    assert item["title"] == "残缺的标记" and PARAGRAPH in item["body_text"]


def test_case_17_empty_body_gives_an_item_saying_why(crawl: HostileCrawl) -> None:
    """Decision: an item with an empty body and ``extra.empty_reason``, so the page's capture is cited."""
    assert only(crawl.records_for("/a/empty")).payload == b""
    item = crawl.item("/a/empty")
    assert item["body_text"] == "" and item["extra"]["empty_reason"] == "empty document"
    assert item["warc_record_id"].startswith("<urn:uuid:")
    assert crawl.stats["extract/empty_reason/empty_document"] == 2  # cases 5 (reset after the head) and 17
    assert crawl.stats["extract/empty_body"] == 3  # cases 5 (reset after the head), 17 and 18


def test_case_18_binary_garbage_as_html_gives_an_empty_item(crawl: HostileCrawl) -> None:
    record = only(crawl.records_for("/a/garbage"))
    assert len(record.payload) == 8192
    item = crawl.item("/a/garbage")
    assert item["body_text"] == "" and item["extra"]["empty_reason"] == "binary content"
    assert crawl.stats["extract/empty_reason/binary_content"] == 1


def test_case_19_robots_disallowed_section_is_never_requested(crawl: HostileCrawl) -> None:
    assert [hit for hit in crawl.hits if hit.path.startswith("/a/private/")] == []
    assert crawl.stats["robotstxt/forbidden"] == 1
    (line,) = [line for line in crawl.log.splitlines() if "Fetch fault robotstxt/forbidden" in line]
    assert "/a/private/secret" in line


def test_case_20_many_headers_are_archived_a_huge_one_is_refused(crawl: HostileCrawl) -> None:
    """10,000 headers: archived. A 1 MB header line: Twisted drops the connection, nothing to archive."""
    many = only(crawl.records_for("/a/many-headers"))
    assert sum(1 for line in many.header_lines() if line.startswith(b"X-Filler-")) == 10_000
    assert crawl.item("/a/many-headers")["title"] == "一万个头部"
    assert crawl.records_for("/a/huge-header") == [] and len(crawl.hits_for("/a/huge-header")) == RETRY_TIMES + 1
    assert any("/a/huge-header" in line for line in fault_lines(crawl, "fetch/bad_response"))


def test_case_21_idn_and_unicode_urls_are_fetched_once_as_ascii(crawl: HostileCrawl) -> None:
    ascii_host = UNICODE_HOST.encode("idna").decode()
    assert [hit.target for hit in crawl.hits_for(UNICODE_PATH_ENCODED)] == [UNICODE_PATH_ENCODED]
    assert len(crawl.hits_for("/a/%E6%96%B0%E9%97%BB/%E4%BA%8C")) == 1  # linked with the Unicode host name
    assert only(crawl.records_for("/a/idn-redirect")).status == 302
    assert len(crawl.hits_for("/a/%E6%96%B0%E9%97%BB/%E4%B8%89")) == 1  # a raw UTF-8 Location header
    for record in crawl.records:
        assert record.uri.isascii() and record.uri.startswith(f"http://{ascii_host}:"), record.uri
    host_line = re.compile(rb"Host: " + re.escape(ascii_host.encode()) + rb":\d+")
    assert crawl.request_hosts and all(host_line.fullmatch(host) for host in crawl.request_hosts)
    assert crawl.item(UNICODE_PATH_ENCODED)["title"] == "中文路径"


def test_case_22_impossible_dates_give_no_publication_time(crawl: HostileCrawl) -> None:
    for target, text in (("/a/bad-month", "13月前"), ("/a/bad-day", "2024-02-30 10:00")):
        item = crawl.item(target)
        assert item["published_at"] is None and item["published_text"] == text
    assert crawl.stats["dates/impossible"] == 2
    assert "Impossible date '13月前'" in crawl.log


def test_case_23_script_in_the_title_stays_text(crawl: HostileCrawl) -> None:
    item = crawl.item("/a/script-title")
    assert item["title"] == HOSTILE_TITLE_TEXT  # entities decoded once: "&amp;amp;" is "&amp;"
    assert "注入" not in item["body_text"] and "<script" not in item["body_html"]


def test_case_24_duplicate_content_length_is_refused_and_counted(crawl: HostileCrawl) -> None:
    """Twisted refuses conflicting Content-Length values: nothing reached Scrapy, nothing to archive."""
    assert crawl.records_for("/a/dup-length") == [] and len(crawl.hits_for("/a/dup-length")) == RETRY_TIMES + 1
    (line,) = [line for line in fault_lines(crawl, "fetch/bad_response") if "/a/dup-length" in line]
    assert "conflicting Content-Length" in line
    assert crawl.stats["fetch/bad_response"] == 2  # cases 20 and 24
    equal = only(crawl.records_for("/a/dup-length-equal"))  # equal values: Twisted keeps one header
    assert [line for line in equal.header_lines() if line.lower().startswith(b"content-length:")] == [
        b"Content-Length: %d" % len(equal.payload)
    ]
    assert crawl.item("/a/dup-length-equal")["title"] == "重复但相同的长度"

"""Scrapy settings for portal-archive: project-wide overrides, grouped by component prefix.

Component defaults live with their config dataclasses (``WarcConfig`` …); only what differs from
Scrapy's defaults, or what a user is expected to change, is spelled out here.
"""

from __future__ import annotations

import os

from portal_archive import __version__
from portal_archive.crawl.offline import use_bundled_public_suffix_list

# Scrapy's cookie middleware would fetch the public suffix list over the network on first use: an
# archiving crawler must not depend on a third-party download, so the list shipped with tldextract
# is used instead.
use_bundled_public_suffix_list()

BOT_NAME = "portal_archive"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"

# --- Security: both open code-execution endpoints on the crawl host. ---------------------------
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False

# --- Politeness ----------------------------------------------------------------------------------
PORTAL_ARCHIVE_CONTACT = os.environ.get("PORTAL_ARCHIVE_CONTACT", "https://github.com/portal-archive")
USER_AGENT = f"portal-archive/{__version__} (+{PORTAL_ARCHIVE_CONTACT})"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 8
DOWNLOAD_TIMEOUT = 30
COOKIES_ENABLED = True
# A portal profile's ``delay`` replaces DOWNLOAD_DELAY (AutoThrottle's floor) at spider priority;
# crawls of a loopback base_url run without delay; ``-s DOWNLOAD_DELAY=…`` wins over both.
DOWNLOAD_DELAY = 2.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 3.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
# robots.txt Crawl-delay (portal_archive.crawl.politeness.CrawlDelayExtension); Scrapy alone ignores it.
CRAWL_DELAY_ENABLED = True
CRAWL_DELAY_MAX = 60.0

# --- Runtime -------------------------------------------------------------------------------------
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"
EXTENSIONS = {
    "portal_archive.capture.extension.WarcCaptureExtension": 0,
    "portal_archive.crawl.runstats.RunStatsExtension": 10,
    "portal_archive.crawl.fetchguard.ResponseSizeGuard": 5,
    "portal_archive.crawl.politeness.CrawlDelayExtension": 500,
    # After capture has closed the WARC files: rebuilds WARC_DIR/indexes/index.cdxj at engine_stopped.
    "portal_archive.archive.cdxj.CdxjIndexExtension": 20,
    # When the spider opens: closes .open files of dead crawls in WARC_DIR (portal_archive.capture.recover).
    "portal_archive.capture.recover.OrphanRecoveryExtension": 1,
}

# --- WARC_*: capture (portal_archive.capture.config.WarcConfig) -----------------------------------
WARC_ENABLED = True
WARC_DIR = "archive"
WARC_MAX_SIZE = 1_000_000_000
WARC_GZIP_LEVEL = 6
WARC_OPERATOR = os.environ.get("PORTAL_ARCHIVE_OPERATOR", "")
# Sorted CDXJ index of WARC_DIR at the end of every crawl (portal_archive.archive.cdxj).
WARC_CDXJ_ENABLED = True
# One ``metadata`` record per article: extraction result + dedup verdict (pipelines.archive).
WARC_METADATA_ENABLED = True

# --- Item pipelines ------------------------------------------------------------------------------
# The metadata record is written last, after the dedup verdict is known.
ITEM_PIPELINES = {
    # dedup annotates each article (never drops it); the metadata record then carries the verdict.
    "pipelines.dedup.NearDuplicatePipeline": 200,
    "pipelines.archive.ArticleRecordPipeline": 300,
}

# --- DEDUP_*: near-duplicate index (portal_archive.dedup.config.DedupConfig) ---------------------
# Defaults live in DedupConfig (5-gram shingles, 128 permutations, seed 1, 32x3 bands, J >= 0.7 or
# containment >= 0.8 for texts >= 300 chars, J >= 0.85 below that, minimum 50 chars).
DEDUP_ENABLED = True
DEDUP_INDEX_PATH = ""  # empty: WARC_DIR/dedup.sqlite
# Empty: the SQLite file above. A redis://, rediss:// or unix:// URL: one index shared by crawl
# workers on several machines (docs/dedup-redis.md); when empty, DISTRIBUTED_REDIS_URL's server is.
DEDUP_INDEX_URL = ""
DEDUP_REDIS_PREFIX = "portal-archive:dedup:"  # several indexes can share a server
# One transaction per article: crawls running side by side share the index and see each other's
# articles at once, and an article counts as known to the next run only once its transaction has
# committed, so a killed crawl loses no indexed article. (Batching, DEDUP_COMMIT_EVERY=200 with
# DEDUP_COMMIT_INTERVAL=1.0, saves about 10 % of a crawl's CPU in bench/crawl.py.)
DEDUP_COMMIT_EVERY = 1
# SQLite page cache of the index: a crawl's memory grows until it is full (8 MiB: flat memory from a
# few thousand articles on; indexes of 100,000 articles and more run about 10 % faster with 64).
DEDUP_CACHE_MIB = 8

# --- DISTRIBUTED_*: workers sharing one frontier on Redis (portal_archive.distributed) -----------
# Empty: one machine, Scrapy's own scheduler. A redis:// URL puts any portal spider on the shared
# frontier (scrapy-redis with a queue that loses nothing when a worker dies; docs/distributed.md),
# turns incremental crawling off, and shares the near-duplicate index there too.
DISTRIBUTED_REDIS_URL = ""
ADDONS = {"portal_archive.distributed.addon.DistributedAddon": 0}

# --- Run summary (portal_archive.crawl.runstats) -------------------------------------------------------
RUN_STATS_FILE = ""

# --- INCREMENTAL_*: scheduled re-crawls (portal_archive.crawl.incremental, docs/scheduling.md) ----------
# Known articles are revalidated (If-None-Match / If-Modified-Since); a 304 becomes a
# server-not-modified revisit, an identical payload an identical-payload revisit, across runs.
INCREMENTAL_ENABLED = True
INCREMENTAL_STATE_PATH = ""  # empty: WARC_DIR/crawlstate.sqlite
SPIDER_MIDDLEWARES = {
    # Flags items of new and changed pages; skips items of known, unchanged ones.
    "portal_archive.crawl.incremental.IncrementalSpiderMiddleware": 950,
    # Distributed crawls start from the shared frontier, not from each worker's start requests.
    "portal_archive.distributed.start.DistributedStartMiddleware": 960,
}
# Orphan .open files of crawls that died are recovered when the next crawl opens.
RECOVER_ENABLED = True

# --- Fetch faults (docs/faults.md) --------------------------------------------------------------
# Each expected fault of a hostile site becomes one WARNING/INFO line and a fetch/* stat.
DOWNLOADER_MIDDLEWARES = {
    # Before RedirectMiddleware (600): stops offsite (any port), circular and endless redirects.
    "portal_archive.crawl.redirects.RedirectGuardMiddleware": 610,
    # Before RetryMiddleware (550): a 429/503 with Retry-After waits that long before the retry.
    "portal_archive.crawl.retryafter.RetryAfterMiddleware": 560,
    # After RetryMiddleware gave up: a download failure becomes a counted FetchFault.
    "portal_archive.crawl.faults.FetchFaultMiddleware": 540,
    # Conditional requests for known articles; a 304 ends there (docs/scheduling.md).
    "portal_archive.crawl.incremental.IncrementalDownloaderMiddleware": 580,
}
RETRY_AFTER_MAX = 60.0

# --- Retries -------------------------------------------------------------------------------------
# A server that keeps answering 5xx is a fact about the site, archived like any response and
# counted as retry/max_reached; it is not a failure of the crawl, so it is not logged as an error.
RETRY_GIVE_UP_LOG_LEVEL = "WARNING"

# --- Partial downloads ---------------------------------------------------------------------------
# A body cut short by the server is still what was received: hand it on (flagged "dataloss") so it
# is archived with WARC-Truncated instead of being dropped. Oversized bodies are cut at
# DOWNLOAD_MAXSIZE by portal_archive.crawl.fetchguard and archived the same way.
DOWNLOAD_FAIL_ON_DATALOSS = False
DOWNLOAD_MAXSIZE = 64 * 1024 * 1024

# --- Rendering: scrapy-playwright, only for requests with meta["playwright"] --------------------
# Other requests are handed to Scrapy's own HTTP handler, so a crawl that renders nothing starts no
# browser. Debian's chromium is used: nothing is downloaded at install or run time.
DOWNLOAD_HANDLERS = {
    "http": "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler",
    "https": "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler",
}
PLAYWRIGHT_BROWSER_TYPE = "chromium"
PLAYWRIGHT_LAUNCH_OPTIONS = {
    "executable_path": os.environ.get("PORTAL_ARCHIVE_CHROMIUM", "/usr/bin/chromium"),
    "headless": True,
    "args": [
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ],
}
PLAYWRIGHT_MAX_CONTEXTS = 2
PLAYWRIGHT_MAX_PAGES_PER_CONTEXT = 4
PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT = 30_000
PLAYWRIGHT_ABORT_REQUEST = "portal_archive.crawl.spider.should_abort_request"

# --- Dates (portal_archive.extract.dates) ----------------------------------------------------------------
# Relative dates ("3天前") are resolved against the fetch time; an ISO instant here replaces it,
# for re-parsing archived pages (use their WARC-Date) or a portal served with a fixed clock.
DATES_NOW = ""

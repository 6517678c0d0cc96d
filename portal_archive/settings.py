"""Scrapy settings for portal-archive: every setting the project reads, with its default, by owner.

This module is the one place defaults live. Each component parses its own family once into a frozen
config (``WarcConfig.from_settings`` …) whose field defaults are read from here, so a config built
from bare ``Settings()`` still gets the project's defaults. Importing it has no side effects: what a
crawl must set up at run time is done by the add-ons in ``ADDONS``. The README's "Settings" section
documents every setting below that the project reads (``tests/test_settings_catalogue.py``).

Scrapy's own settings appear here when the project reads them or changes their value; the others
keep Scrapy's defaults.
"""

from __future__ import annotations

import os

from portal_archive import __version__

BOT_NAME = "portal_archive"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"
COMMANDS_MODULE = "portal_archive.cli.scrapy_commands"  # `scrapy crawl` checks spider arguments first

# --- Add-ons: run at the start of every crawl, before any component is built. ------------------
ADDONS = {
    # No network calls the crawl did not ask for (the cookie middleware's public suffix list).
    "portal_archive.crawl.offline.OfflineAddon": 0,
    # DISTRIBUTED_REDIS_URL set: any portal spider crawls from the shared frontier.
    "portal_archive.distributed.addon.DistributedAddon": 0,
    # Components off by configuration (RUN_STATS_FILE empty…) say so at DEBUG, not as a WARNING.
    "portal_archive.crawl.quiet.QuietAddon": 0,
}

# --- Security: both open code-execution endpoints on the crawl host. ---------------------------
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False

# --- Politeness (Scrapy, and portal_archive.crawl.politeness) -----------------------------------
PORTAL_ARCHIVE_CONTACT = os.environ.get("PORTAL_ARCHIVE_CONTACT", "https://github.com/portal-archive")
USER_AGENT = f"portal-archive/{__version__} (+{PORTAL_ARCHIVE_CONTACT})"  # also the warcinfo user agent
ROBOTSTXT_OBEY = True  # also the warcinfo robots policy
ROBOTSTXT_USER_AGENT = None  # the name robots.txt rules and Crawl-delay are read for; None: USER_AGENT
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 8
DOWNLOAD_TIMEOUT = 30
COOKIES_ENABLED = True
# A portal profile's ``delay`` replaces DOWNLOAD_DELAY (AutoThrottle's floor) at spider priority;
# crawls of a loopback base_url run without delay; ``-s DOWNLOAD_DELAY=…`` wins over both.
DOWNLOAD_DELAY = 2.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 3.0  # raised to the profile's delay when that is longer
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0

# --- CRAWL_DELAY_*: robots.txt Crawl-delay (portal_archive.crawl.politeness.CrawlDelayConfig) ----
CRAWL_DELAY_ENABLED = True  # honour robots.txt Crawl-delay (Scrapy alone ignores it); needs ROBOTSTXT_OBEY
CRAWL_DELAY_MAX = 60.0  # seconds: a longer Crawl-delay is capped here (and the cap logged)

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
    "portal_archive.archive.extension.CdxjIndexExtension": 20,
    # When the spider opens: closes .open files of dead crawls in WARC_DIR (portal_archive.capture.recover).
    "portal_archive.capture.recover.OrphanRecoveryExtension": 1,
}

# --- WARC_*: capture (portal_archive.capture.config.WarcConfig) -----------------------------------
WARC_ENABLED = True  # archive every exchange; off, the index, metadata records and recovery are off too
WARC_DIR = "archive"  # output folder (also holds the CDXJ index, dedup.sqlite and crawlstate.sqlite)
WARC_PREFIX = ""  # file name prefix; empty: the spider's name
WARC_MAX_SIZE = 1_000_000_000  # bytes after which a file is closed and the next one opened
WARC_GZIP_LEVEL = 6  # per-record gzip level; 0 writes uncompressed .warc files
WARC_OPERATOR = os.environ.get("PORTAL_ARCHIVE_OPERATOR", "")  # ``operator`` field of warcinfo
WARC_IS_PART_OF = ""  # ``isPartOf`` field of warcinfo; empty: the spider's name
WARC_DESCRIPTION = ""  # ``description`` field of warcinfo; empty: none
WARC_REVISIT_MIN_SIZE = 1  # smallest payload (bytes) recorded as a revisit of an identical one
WARC_HOST = ""  # crawl-host part of file names; empty: this machine's name (a distributed worker's id)

# --- CDXJ_*: index of the archive folder (portal_archive.archive.cdxj.CdxjIndexConfig) ------------
CDXJ_ENABLED = True  # rebuild WARC_DIR/indexes/index.cdxj when a crawl ends (was WARC_CDXJ_ENABLED)

# --- Item pipelines ------------------------------------------------------------------------------
# The metadata record is written last, after the dedup verdict is known.
ITEM_PIPELINES = {
    # dedup annotates each article (never drops it); the metadata record then carries the verdict.
    "pipelines.dedup.NearDuplicatePipeline": 200,
    "pipelines.archive.ArticleRecordPipeline": 300,
}

# --- ARCHIVE_METADATA_*: one metadata record per article (pipelines.archive.ArchiveMetadataConfig) -
ARCHIVE_METADATA_ENABLED = True  # extraction result + dedup verdict as a WARC record (was WARC_METADATA_ENABLED)

# --- DEDUP_*: near-duplicate index (portal_archive.dedup.config.DedupConfig) ---------------------
# The measured defaults: 5-gram shingles, 128 permutations, seed 1, 32x3 bands, J >= 0.7 or
# containment >= 0.8 for texts >= 300 chars, J >= 0.85 below that, minimum 50 chars.
DEDUP_ENABLED = True  # annotate every article with its near-duplicate verdict
DEDUP_INDEX_PATH = ""  # the SQLite index; empty: WARC_DIR/dedup.sqlite
# Empty: the SQLite file above. A redis://, rediss:// or unix:// URL: one index shared by crawl
# workers on several machines (docs/dedup-redis.md); when empty, DISTRIBUTED_REDIS_URL's server is.
DEDUP_INDEX_URL = ""
DEDUP_REDIS_PREFIX = "portal-archive:dedup:"  # key prefix in Redis: several indexes can share a server
DEDUP_SHINGLE_SIZE = 5  # characters per shingle
DEDUP_NUM_PERM = 128  # MinHash permutations
DEDUP_SEED = 1  # MinHash seed (datasketch's semantics)
DEDUP_BANDS = 32  # LSH bands; DEDUP_BANDS * DEDUP_ROWS <= DEDUP_NUM_PERM
DEDUP_ROWS = 3  # rows per band
DEDUP_THRESHOLD = 0.7  # Jaccard similarity from which two texts are copies
DEDUP_CONTAINMENT = 0.8  # share of the shorter text inside the longer from which it is an excerpt
DEDUP_CONTAINMENT_MIN_CHARS = 300  # shorter texts are never excerpts
DEDUP_SHORT_THRESHOLD = 0.85  # Jaccard for texts under DEDUP_CONTAINMENT_MIN_CHARS
DEDUP_MIN_CHARS = 50  # texts shorter than this are not indexed
DEDUP_VERIFY = "oph"  # how candidates are verified: "oph" (one-permutation sketch) or "exact"
DEDUP_SKETCH_BINS = 1024  # bins of the verification sketch (a power of two)
DEDUP_SKETCH_BITS = 2  # bits per bin (2, 4 or 8): 1024 x 2 bits = 256 bytes per document
DEDUP_SIGNATURE_BITS = 0  # bits of each MinHash value stored per document (0, 8, 16, 32); 0 stores none
DEDUP_MAX_CLUSTER_SIZE = 20  # larger clusters are flagged oversized (and their original re-chosen less often)
DEDUP_MAX_CANDIDATES = 1000  # candidates verified per document at most
DEDUP_TIME_TOLERANCE = 300.0  # seconds within which two publication times count as simultaneous
DEDUP_SOURCE_DOMAINS: dict[str, str] = {}  # outlet name -> domain, added to the built-in table (or JSON)
DEDUP_PUBLISHER_DOMAINS: tuple[str, ...] = (  # domains that publish originals (a list or a comma-separated string)
    "infoq.cn",
    "36kr.com",
    "xinhuanet.com",
    "news.cn",
    "thepaper.cn",
    "caixin.com",
    "people.com.cn",
    "chinanews.com.cn",
    "jiemian.com",
    "huxiu.com",
)
DEDUP_AGGREGATOR_DOMAINS: tuple[str, ...] = (  # domains that republish (a list or a comma-separated string)
    "bendi.news",
    "dy.163.com",
    "sohu.com",
    "baijiahao.baidu.com",
    "toutiao.com",
    "ifeng.com",
    "qq.com",
)
# One transaction per article: crawls running side by side share the index and see each other's
# articles at once, and an article counts as known to the next run only once its transaction has
# committed, so a killed crawl loses no indexed article. (Batching, DEDUP_COMMIT_EVERY=200 with
# DEDUP_COMMIT_INTERVAL=1.0, saves about 10 % of a crawl's CPU in bench/crawl.py.)
DEDUP_COMMIT_EVERY = 1
DEDUP_COMMIT_INTERVAL = 0.0  # seconds a transaction may stay open; 0: no limit
# SQLite page cache of the index: a crawl's memory grows until it is full (8 MiB: flat memory from a
# few thousand articles on; indexes of 100,000 articles and more run about 10 % faster with 64).
DEDUP_CACHE_MIB = 8

# --- DISTRIBUTED_*: workers sharing one frontier on Redis (portal_archive.distributed.config) ----
# Empty: one machine, Scrapy's own scheduler. A redis:// URL puts any portal spider on the shared
# frontier (scrapy-redis with a queue that loses nothing when a worker dies; docs/distributed.md),
# turns incremental crawling off, and shares the near-duplicate index there too.
# (SCHEDULER_QUEUE_CLASS and DUPEFILTER_CLASS are left to the add-on: its priority is below this module's.)
DISTRIBUTED_REDIS_URL = ""
DISTRIBUTED_WORKER_ID = ""  # this worker's name in WARC file names and Redis keys; empty: HOSTNAME-PID
DISTRIBUTED_KEY_PREFIX = "portal-archive:crawl"  # every frontier key is PREFIX:SPIDER:…
DISTRIBUTED_HEARTBEAT_INTERVAL = 1.0  # seconds between a worker's heartbeats
DISTRIBUTED_HEARTBEAT_TTL = 30.0  # seconds after which a silent worker is dead and its requests queued again
DISTRIBUTED_SEED_TIMEOUT = 0.0  # seconds a worker waits for start URLs on an empty frontier; 0: none
DISTRIBUTED_START_BATCH = 64  # start URLs moved into the frontier per read
DUPEFILTER_DEBUG = False  # Scrapy's: log every filtered duplicate (also on the shared seen set)
REDIS_PARAMS: dict[str, object] = {}  # scrapy-redis's: extra redis-py client arguments, over its timeouts

# --- RUN_STATS_*: run summary (portal_archive.crawl.runstats.RunStatsConfig) ----------------------
RUN_STATS_FILE = ""  # write the crawl's final stats as JSON here; empty: not written
RUN_STATS_PROGRESS_INTERVAL = 0.0  # seconds between snapshots of the stats so far in RUN_STATS_FILE; 0: only at the end

# --- INCREMENTAL_*: scheduled re-crawls (portal_archive.crawl.incremental, docs/scheduling.md) ---
# Known articles are revalidated (If-None-Match / If-Modified-Since); a 304 becomes a
# server-not-modified revisit, an identical payload an identical-payload revisit, across runs.
INCREMENTAL_ENABLED = True  # revalidate known articles; off in a distributed crawl
INCREMENTAL_STATE_PATH = ""  # the crawl state; empty: WARC_DIR/crawlstate.sqlite
INCREMENTAL_PAYLOAD_CACHE = 2_000  # payload digests kept in memory (a miss costs one indexed lookup)
SPIDER_MIDDLEWARES = {
    # Flags items of new and changed pages; skips items of known, unchanged ones.
    "portal_archive.crawl.incremental.IncrementalSpiderMiddleware": 950,
    # Distributed crawls start from the shared frontier, not from each worker's start requests.
    "portal_archive.distributed.start.DistributedStartMiddleware": 960,
}

# --- RECOVER_*: orphan .open files (portal_archive.capture.recover.RecoverConfig) -----------------
RECOVER_ENABLED = True  # recover the .open files of crawls that died when the next crawl opens

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
# FETCH_FAULTS_* (portal_archive.crawl.faults.FetchFaultsConfig)
FETCH_FAULTS_ENABLED = True  # a download failure retries did not cure: one counted line, not a traceback
# REDIRECT_GUARD_* (portal_archive.crawl.redirects.RedirectGuardConfig), over Scrapy's REDIRECT_*
REDIRECT_GUARD_ENABLED = True  # stop offsite (any port), circular and endless redirects
REDIRECT_ENABLED = True  # Scrapy's: follow redirects at all (off, the guard is off too)
REDIRECT_MAX_TIMES = 20  # Scrapy's: redirects followed per request; one more is a fetch/redirect_loop
# RETRY_AFTER_* (portal_archive.crawl.retryafter.RetryAfterConfig), over Scrapy's RETRY_*
RETRY_AFTER_ENABLED = True  # wait out Retry-After on a 429 or 503 before the retry
RETRY_AFTER_MAX = 60.0  # seconds: a longer Retry-After is capped here
RETRY_ENABLED = True  # Scrapy's: retry failed downloads at all (off, Retry-After is not waited for)

# --- Retries -------------------------------------------------------------------------------------
# A server that keeps answering 5xx is a fact about the site, archived like any response and
# counted as retry/max_reached; it is not a failure of the crawl: INFO, like fetch/http_error. A
# network fault that retries did not cure is said once, at WARNING, by the spider's errback.
RETRY_GIVE_UP_LOG_LEVEL = "INFO"

# --- Partial downloads ---------------------------------------------------------------------------
# A body cut short by the server is still what was received: hand it on (flagged "dataloss") so it
# is archived with WARC-Truncated instead of being dropped. Oversized bodies are cut at
# DOWNLOAD_MAXSIZE by portal_archive.crawl.fetchguard and archived the same way.
DOWNLOAD_FAIL_ON_DATALOSS = False
# FETCH_GUARD_* (portal_archive.crawl.fetchguard.FetchGuardConfig)
FETCH_GUARD_ENABLED = True  # cut a body at DOWNLOAD_MAXSIZE and archive it truncated, instead of losing it
DOWNLOAD_MAXSIZE = 64 * 1024 * 1024  # Scrapy's: largest body in bytes (0: unlimited, and no guard)

# --- Cited sources, archived one hop away ---------------------------------------------------------
# REFERENCES_* (portal_archive.crawl.references.ReferencesConfig)
REFERENCES_ENABLED = True  # fetch and archive every URL an article's references list, once per crawl
REFERENCES_MAX_PER_ARTICLE = 20  # later references of an article are listed, not fetched
REFERENCES_DELAY = 2.0  # seconds between requests to one cited host (at least the portal's; none on loopback)
REFERENCES_REFRESH_DAYS = 0.0  # fetch again a source this archive holds once its capture is older; 0: never

# --- Rendering: scrapy-playwright, only for requests with meta["playwright"] --------------------
# RENDER_* (portal_archive.crawl.render.RenderConfig)
RENDER_ENABLED = True  # False: no request goes to Chromium (bodies come from the HTML or the portal's API)
# Other requests are handed to Scrapy's own HTTP handler, so a crawl that renders nothing starts no
# browser. Debian's chromium is used: nothing is downloaded at install or run time.
DOWNLOAD_HANDLERS = {  # a profile without js = true swaps in Scrapy's own handler at spider priority
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

# --- DATES_*: dates (portal_archive.crawl.spider, portal_archive.extract.dates) --------------------
# Relative dates ("3天前") are resolved against the fetch time; an ISO instant here replaces it,
# for re-parsing archived pages (use their WARC-Date) or a portal served with a fixed clock.
DATES_NOW = ""  # an ISO 8601 instant; empty: each page's fetch time

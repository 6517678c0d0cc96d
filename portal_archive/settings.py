"""Scrapy settings for portal-archive: project-wide overrides, grouped by component prefix.

Component defaults live with their config dataclasses (``WarcConfig`` …); only what differs from
Scrapy's defaults, or what a user is expected to change, is spelled out here.
"""

from __future__ import annotations

import os

from portal_archive import __version__
from portal_archive.offline import use_bundled_public_suffix_list

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

# --- Runtime -------------------------------------------------------------------------------------
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"
EXTENSIONS = {
    "portal_archive.capture.WarcCaptureExtension": 0,
    "portal_archive.runstats.RunStatsExtension": 10,
}

# --- WARC_*: capture (portal_archive.warc.config.WarcConfig) -----------------------------------
WARC_ENABLED = True
WARC_DIR = "archive"
WARC_MAX_SIZE = 1_000_000_000
WARC_GZIP_LEVEL = 6
WARC_OPERATOR = os.environ.get("PORTAL_ARCHIVE_OPERATOR", "")

# --- Run summary (portal_archive.runstats) -------------------------------------------------------
RUN_STATS_FILE = ""

# --- Retries -------------------------------------------------------------------------------------
# A server that keeps answering 5xx is a fact about the site, archived like any response and
# counted as retry/max_reached; it is not a failure of the crawl, so it is not logged as an error.
RETRY_GIVE_UP_LOG_LEVEL = "WARNING"

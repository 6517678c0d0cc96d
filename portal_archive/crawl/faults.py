"""Fetch faults: what went wrong with a download, each kind under one stable stat key.

Scrapy reports the faults hostile sites produce every day (a timeout, a reset, a response Twisted
refuses to parse, a body that does not decompress) as ERROR lines with a traceback, which buries
the crawl's real failures under the site's. Here each expected fault gets a kind, a stat
``fetch/<kind>`` and one WARNING or INFO line naming the URL and the stat; an exception nobody
expected stays loud (ERROR with traceback, ``fetch/unexpected``). The stat keys are listed in
``docs/faults.md``.

``FetchFaultMiddleware`` handles download failures that retrying did not cure; failures raised
after the download (decompression, the size limit while inflating, robots.txt, an offsite or
looping redirect) reach the request's errback, where ``record_failure`` does the same accounting.
"""

from __future__ import annotations

import gzip
import logging
import struct
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Self

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    NotConfigured,
    ResponseDataLossError,
    UnsupportedURLSchemeError,
)
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import ConnectionDone, ConnectionLost
from twisted.internet.error import TimeoutError as TwistedTimeoutError
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

from portal_archive import settings as project
from portal_archive.config import read_bool

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings
    from scrapy.statscollectors import StatsCollector
    from twisted.python.failure import Failure

logger = logging.getLogger(__name__)

WARNING: Final = logging.WARNING
INFO: Final = logging.INFO


@dataclass(frozen=True)
class FaultKind:
    """One class of fault: its stat key, how loudly it is logged and what it means."""

    stat: str
    level: int
    meaning: str
    counted_by_scrapy: bool = False
    """Scrapy already increments ``stat`` itself (``robotstxt/forbidden``): only log."""


TIMEOUT: Final = FaultKind("fetch/timeout", WARNING, "no complete response within DOWNLOAD_TIMEOUT")
DNS_ERROR: Final = FaultKind("fetch/dns_error", WARNING, "the host name does not resolve")
CONNECTION_REFUSED: Final = FaultKind("fetch/connection_refused", WARNING, "nothing listens on the port")
CONNECTION_LOST: Final = FaultKind("fetch/connection_lost", WARNING, "the connection closed or reset before a response")
BAD_RESPONSE: Final = FaultKind(
    "fetch/bad_response",
    WARNING,
    "Twisted refused the response head (conflicting Content-Length, a header line over 16 KiB, garbage)",
)
DATALOSS: Final = FaultKind("fetch/dataloss", WARNING, "the body ended before its announced length")
CANCELLED: Final = FaultKind("fetch/cancelled", INFO, "the download was cancelled")
UNSUPPORTED_SCHEME: Final = FaultKind("fetch/unsupported_scheme", INFO, "no download handler for the URL scheme")
DECODE_ERROR: Final = FaultKind("fetch/decode_error", WARNING, "the body does not decode with its Content-Encoding")
DECOMPRESSED_OVERSIZE: Final = FaultKind(
    "fetch/decompressed_oversize", WARNING, "the body inflates past DOWNLOAD_MAXSIZE (a decompression bomb)"
)
REDIRECT_LOOP: Final = FaultKind(
    "fetch/redirect_loop", WARNING, "a redirect chain revisits a URL or exceeds REDIRECT_MAX_TIMES"
)
OFFSITE: Final = FaultKind("fetch/offsite", INFO, "a redirect or request leads off the portal's origin")
ROBOTS_FORBIDDEN: Final = FaultKind("robotstxt/forbidden", INFO, "robots.txt disallows the URL", counted_by_scrapy=True)
HTTP_ERROR: Final = FaultKind("fetch/http_error", INFO, "a 4xx/5xx answer that retries did not cure (archived)")
IGNORED: Final = FaultKind("fetch/ignored", INFO, "a component dropped the request (IgnoreRequest)")
UNEXPECTED: Final = FaultKind("fetch/unexpected", logging.ERROR, "an exception nobody expected: a bug to look at")

ALL_KINDS: Final = (
    TIMEOUT, DNS_ERROR, CONNECTION_REFUSED, CONNECTION_LOST, BAD_RESPONSE, DATALOSS, CANCELLED,
    UNSUPPORTED_SCHEME, DECODE_ERROR, DECOMPRESSED_OVERSIZE, REDIRECT_LOOP, OFFSITE, ROBOTS_FORBIDDEN,
    HTTP_ERROR, IGNORED, UNEXPECTED,
)  # fmt: skip
"""Every kind, in the order ``docs/faults.md`` lists them."""

_DECODE_ERRORS: Final = (gzip.BadGzipFile, zlib.error, EOFError, struct.error)
# Scrapy 2.19's own texts for IgnoreRequest; tests/crawl/test_hostile_crawl.py notices if they change.
_IGNORE_MESSAGES: Final = (
    ("Forbidden by robots.txt", ROBOTS_FORBIDDEN),
    ("max redirections reached", REDIRECT_LOOP),
    ("Filtered offsite request", OFFSITE),
)


class FetchFault(IgnoreRequest):
    """A request given up for an expected reason; already counted and logged.

    An ``IgnoreRequest``, so Scrapy logs nothing more; errbacks find the kind in ``kind`` and
    the original exception in ``__cause__``.
    """

    def __init__(self, kind: FaultKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def _reasons(exc: BaseException) -> list[BaseException]:
    """The exceptions a Twisted ``ResponseFailed`` wraps (its ``reasons`` are ``Failure`` objects)."""
    reasons = getattr(exc, "reasons", None) or []
    return [getattr(reason, "value", reason) for reason in reasons]


def _classify_response_failed(exc: ResponseFailed) -> FaultKind:
    reasons = _reasons(exc)
    if isinstance(exc, ResponseNeverReceived):
        return CONNECTION_LOST
    if any(type(reason).__name__ == "_DataLoss" for reason in reasons):
        return DATALOSS
    if reasons and all(isinstance(reason, ConnectionDone) and not isinstance(reason, ConnectionLost)
                       for reason in reasons):  # fmt: skip
        # Data arrived, then a clean close before the head was complete: Twisted gave up on it
        # (a header line over its 16 KiB limit), or the server sent half a head.
        return BAD_RESPONSE
    if any(isinstance(reason, ConnectionLost) for reason in reasons):
        return CONNECTION_LOST
    return BAD_RESPONSE


def _classify_ignored(exc: IgnoreRequest) -> FaultKind:
    if isinstance(exc, FetchFault):
        return exc.kind
    if type(exc.__cause__).__name__ == "_DecompressionMaxSizeExceeded":
        return DECOMPRESSED_OVERSIZE
    message = str(exc)
    for prefix, kind in _IGNORE_MESSAGES:
        if message.startswith(prefix):
            return kind
    return IGNORED


def classify(exc: BaseException) -> FaultKind | None:
    """The kind of an expected fault, or ``None`` for an exception nobody expected."""
    if isinstance(exc, HttpError):  # an IgnoreRequest too: test it first
        return HTTP_ERROR
    if isinstance(exc, IgnoreRequest):
        return _classify_ignored(exc)
    if isinstance(exc, DownloadTimeoutError | TwistedTimeoutError | TimeoutError):
        return TIMEOUT
    if isinstance(exc, CannotResolveHostError):
        return DNS_ERROR
    if isinstance(exc, DownloadConnectionRefusedError):
        return CONNECTION_REFUSED
    if isinstance(exc, ResponseDataLossError):
        return DATALOSS
    if isinstance(exc, DownloadCancelledError):
        return CANCELLED
    if isinstance(exc, UnsupportedURLSchemeError):
        return UNSUPPORTED_SCHEME
    if isinstance(exc, DownloadFailedError):
        cause = exc.__cause__
        return _classify_response_failed(cause) if isinstance(cause, ResponseFailed) else CONNECTION_LOST
    if isinstance(exc, ResponseFailed):
        return _classify_response_failed(exc)
    if isinstance(exc, ConnectionDone | ConnectionLost | ConnectionError):
        return CONNECTION_LOST
    if isinstance(exc, _DECODE_ERRORS):
        return DECODE_ERROR
    return None


def describe(exc: BaseException) -> str:
    """One line: the exception type and its message, whitespace squeezed."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def account(kind: FaultKind, url: str, exc: BaseException, stats: StatsCollector | None) -> None:
    """Count ``kind`` and log one line naming the URL, the stat key and the cause."""
    if stats is not None and not kind.counted_by_scrapy:
        stats.inc_value(kind.stat)
    logger.log(
        kind.level,
        "Fetch fault %(stat)s (%(meaning)s): %(url)s: %(cause)s",
        {"stat": kind.stat, "meaning": kind.meaning, "url": url, "cause": describe(exc)},
    )


def record_failure(failure: Failure, stats: StatsCollector | None) -> FaultKind:
    """Errback accounting: count and log a failed request once; loud for the unexpected.

    A ``FetchFault`` was accounted for where it was raised and is passed over silently.
    """
    exc = failure.value if failure.value is not None else Exception(failure.getErrorMessage())
    request = getattr(failure, "request", None)
    url = getattr(request, "url", "") or "?"
    if isinstance(exc, FetchFault):
        return exc.kind
    kind = classify(exc)
    if kind is None:
        if stats is not None:
            stats.inc_value(UNEXPECTED.stat)
        logger.error(
            "Fetch fault %(stat)s: %(url)s: %(cause)s",
            {"stat": UNEXPECTED.stat, "url": url, "cause": describe(exc)},
            exc_info=exc,
        )
        return UNEXPECTED
    account(kind, url, exc, stats)
    return kind


@dataclass(frozen=True, kw_only=True)
class FetchFaultsConfig:
    """``FETCH_FAULTS_*`` settings (defaults: ``portal_archive.settings``)."""

    enabled: bool = project.FETCH_FAULTS_ENABLED

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> Self:
        """Read ``FETCH_FAULTS_ENABLED``; a value that is not a boolean raises ``SettingsError`` naming it."""
        return cls(enabled=read_bool(settings, "FETCH_FAULTS_ENABLED", cls.enabled))


class FetchFaultMiddleware:
    """Downloader middleware below ``RetryMiddleware``: an expected download failure that retries
    did not cure becomes one counted log line and a ``FetchFault`` instead of an ERROR traceback.

    Settings: ``FETCH_FAULTS_ENABLED`` (default True).
    Stats: the ``fetch/*`` keys of ``docs/faults.md``.
    """

    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not FetchFaultsConfig.from_settings(crawler.settings).enabled:
            raise NotConfigured("FETCH_FAULTS_ENABLED is False")
        assert crawler.stats is not None  # noqa: S101 - Scrapy builds stats before middlewares
        return cls(crawler.stats)

    def process_exception(self, request: Request, exception: Exception) -> None:
        """Account for the failure and raise ``FetchFault`` from it; leave other exceptions alone."""
        if isinstance(exception, IgnoreRequest):
            return  # dropped on purpose (robots.txt, offsite): the errback says why
        kind = classify(exception)
        if kind is None:
            return  # unexpected: let Scrapy report it loudly
        account(kind, request.url, exception, self.stats)
        raise FetchFault(kind, f"{kind.stat}: {describe(exception)}") from exception

"""WARC files in, article documents out: our metadata records when a file has them, else re-extraction.

Files are streamed one record at a time. A file our crawler wrote (its ``warcinfo`` names
``portal-archive``) carries an article metadata record per article, written after the page's
response: those records give the documents, and the responses are only remembered by position.
Should such a file hold no metadata record at all (``WARC_METADATA_ENABLED`` off), its remembered
HTML responses are re-read one by one and extracted. Every other file (wget, Heritrix, Browsertrix,
Common Crawl…) is extracted as it streams: ``response`` records of ``text/html`` with a 2xx status,
and our rendered-DOM ``resource`` records (``urn:dom:<url>``). Revisits, requests and non-HTML
payloads are skipped.

Every capture in the files (``response``, ``revisit`` and ``resource`` records of web URLs) is also
handed to an optional ``on_capture``: what the report looks cited sources up in.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import BrokenExecutor, Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing import get_all_start_methods, get_context
from pathlib import Path
from traceback import format_exception
from typing import Final, Literal, TypeAlias, TypeVar
from urllib.parse import urljoin, urlsplit

from portal_archive.archive.metadata import METADATA_URI_PREFIX, MetadataRecordError, cited_sources, decode
from portal_archive.archive.pages import Location, PageReader
from portal_archive.archive.postquery import REQUEST_BODY_READ, request_query
from portal_archive.capture.extension import DOM_URI_PREFIX
from portal_archive.dedup import Document, document_from_item
from portal_archive.extract import is_html
from portal_archive.extract.nuxt import ArticleState, read_detail_answer
from portal_archive.profiles import Profile
from portal_archive.timestamps import parse_iso, to_iso
from portal_archive.warc.reader import (
    ArchivedRecord,
    PayloadError,
    WarcFileError,
    read_records,
    record_at,
    sent_request,
)

__all__ = [
    "Capture",
    "ExtractionProcessDied",
    "InputSummary",
    "SourcedDocument",
    "TextLocation",
    "WarcSource",
    "document_at",
]

logger = logging.getLogger(__name__)

MAX_PAGE_BYTES: Final = 20 * 1024 * 1024
"""Extraction reads at most this much of a page (as ``extract_article`` does)."""
MAX_METADATA_BYTES: Final = 64 * 1024 * 1024
_MAX_WAITING: Final = 1000
"""Pages kept waiting for their article API's answer at once, and answers (and content URLs' bodies)
kept for pages still to come: in an archive they lie a few records apart."""
_NO_ANSWER: Final = "body fetched by script, answer not archived"
_OUR_SOFTWARE: Final = b"software: portal-archive/"
_CAPTURE_TYPES: Final = frozenset({"response", "revisit", "resource"})

TextKind = Literal["metadata", "page"]
_Key = TypeVar("_Key")
_Value = TypeVar("_Value")


@dataclass(frozen=True, slots=True)
class TextLocation:
    """Where a document's text can be read again: a metadata record, or a page to re-extract."""

    path: str
    offset: int
    kind: TextKind


@dataclass(frozen=True, slots=True)
class Capture:
    """One capture of a web URL in the input files (a page, a file, a revisit, an error page)."""

    url: str
    date: str
    """``WARC-Date`` as written."""
    status: int | None
    record_id: str


@dataclass(frozen=True, slots=True)
class SourcedDocument:
    """A document for the engine and what the report keeps beside it."""

    document: Document
    fetched_at: str | None
    text: TextLocation | None
    origin: TextKind
    """``metadata``: what the crawl recorded; ``page``: the page extracted again here."""
    crawl_role: str | None = None
    """The role the crawl gave it (metadata records only): a snapshot, shown next to the final one."""
    cited: tuple[dict[str, object], ...] = ()
    """How the crawl settled each source the article cites (metadata records only): its capture's
    record id and status, or why there is none (``crawl.references``)."""


@dataclass
class InputSummary:
    """What one input file gave."""

    path: str
    records: int = 0
    pages: int = 0
    """HTML pages read (2xx responses and rendered DOMs)."""
    articles: int = 0
    """Documents handed to the engine."""
    metadata_records: int = 0
    reextracted: int = 0
    problem: str | None = None
    set_aside: Counter[str] = field(default_factory=Counter)
    """HTML pages that are no article, by reason (``listing page``, ``short body``…)."""


@dataclass(slots=True)
class _Pending:
    """A response of one of our files, kept by position until its metadata record turns up."""

    url: str
    offset: int
    date: str
    record_id: str
    dom: bool


@dataclass(slots=True)
class _AwaitingAnswer:
    """An article page whose body its script fetches, kept until the archived answer turns up."""

    url: str
    body: bytes
    content_type: str
    fetched: datetime | None
    location: Location
    summary: InputSummary
    """The input the page came from: its document (or its setting aside) is counted there."""
    state: ArticleState | None = None
    """The API's answer, once read; the page still waits when it names a ``content_url``."""


@dataclass
class _Answers:
    """Archived article-API exchanges, joined to the pages whose body they hold, across the input files.

    A crawl that read a page's body through the portal's API (``[api]``) archived the answer right
    after the page; a browser capture archived it as the page's script asked. Either way the answer is
    a POST response followed by its request record, and a ``content_url`` answer a GET after that.
    """

    detail_paths: frozenset[str]
    last_answer: tuple[str, str, bytes] | None = None
    """The last response to an API path: record id, URL, payload (its request record comes next)."""
    answers: dict[tuple[str, str], ArticleState] = field(default_factory=dict)
    contents: dict[str, bytes] = field(default_factory=dict)
    wanted: set[str] = field(default_factory=set)
    """Content URLs an answer named, whose response has not been seen yet."""
    waiting: dict[tuple[str, str], _AwaitingAnswer] = field(default_factory=dict)
    ready: list[tuple[str, str]] = field(default_factory=list)
    """Waiting pages whose answer was archived before them (a browser's capture order)."""


@dataclass
class _FileState:
    ours: bool = False
    pending: dict[str, _Pending] = field(default_factory=dict)
    metadata_seen: int = 0


@dataclass(frozen=True, slots=True)
class _Page:
    """An HTML page to extract, and what finishing it needs."""

    url: str
    body: bytes
    content_type: str
    fetched: datetime | None
    location: Location
    text: TextLocation | None
    summary: InputSummary
    answers: _Answers | None
    """Where it waits for its article API's answer, should it need one (None in our files)."""


PageOutcome: TypeAlias = tuple[Document | None, str]
"""An extracted page's document, or None and why it is no article page."""
_PageArguments: TypeAlias = tuple[str, bytes, str, datetime | None, Location]
"""What ``PageReader.page_verdict`` takes: URL, body, content type, capture time, location."""


@dataclass(frozen=True, slots=True)
class _Extracting:
    """A page being extracted (in another process), or extracted here already."""

    page: _Page
    future: Future[PageOutcome]


class _Drain:
    """Marks a record that may depend on pages still being extracted: finish them all first."""


_DRAIN: Final = _Drain()
_Found: TypeAlias = SourcedDocument | _Extracting | _Drain
_PAGES_AHEAD_PER_JOB: Final = 64
"""Pages read ahead of the one to finish next, per process: enough to keep each busy (this one
extracts pages while the others' messages are on their way)."""
_BYTES_AHEAD_PER_JOB: Final = 32 * 1024 * 1024
"""And their bodies' bytes, per process (pages of 20 MB are allowed): a bounded part of memory."""
_PAGES_PER_TASK: Final = 8
"""Pages sent to an extraction process in one message. Each message costs the reading process
about 0.4 ms (a pool hands it over and back through two threads), as much as a fifth of a page's
extraction; eight pages share that cost."""
_TASK_BYTES: Final = 4 * 1024 * 1024
"""A message is sent as soon as its pages' bodies reach this size, however few they are."""
_TASKS_PER_HELPER: Final = 4
"""Messages on their way to or in each extraction process: the one it works on and three waiting
(about 100 ms of work), so that it keeps working while this process indexes a batch of documents;
more pages stay here, for this process to extract."""
_WORKER_READER: PageReader | None = None


class ExtractionProcessDied(Exception):
    """An extraction process ended without answering (killed, out of memory): the documents of
    the pages it held are lost, so what is read cannot be whole."""


class _ExtractionFailed(Exception):
    """A page's extraction raised in an extraction process: its kind and its traceback, as text,
    which cross the process boundary whatever the exception was."""

    def __init__(self, kind: str, details: str) -> None:
        super().__init__(kind, details)
        self.kind = kind
        self.details = details

    def __str__(self) -> str:
        return f"{self.kind}\n{self.details}"


def _died(when: str) -> str:
    return (
        f"an extraction process died {when} (killed, or out of memory?): nothing can be reported whole; "
        "run again, with fewer --jobs if memory is short"
    )


def _start_method() -> str:
    """Forked, extraction processes start at once with everything imported (spawned, each takes a
    CPU-second to import); a process with other threads could fork one holding a lock, so then they
    are spawned."""
    return "fork" if threading.active_count() == 1 and "fork" in get_all_start_methods() else "spawn"


def _start_worker(profiles: list[Profile]) -> None:
    """An extraction process: one reader for every page it is given."""
    global _WORKER_READER
    _WORKER_READER = PageReader(profiles)


def _page_outcome(reader: PageReader, arguments: _PageArguments) -> PageOutcome:
    """A page's document: what crosses back from an extraction process is the engine's input, not
    the whole item (a third of its size)."""
    item, reason = reader.page_verdict(*arguments)
    return (document_from_item(item) if item is not None else None), reason


def _extract_pages(pages: list[_PageArguments]) -> list[PageOutcome | _ExtractionFailed]:
    """Several pages in an extraction process; a page that raises fails alone."""
    if _WORKER_READER is None:  # pragma: no cover - the pool's initializer sets it
        raise RuntimeError("extraction process without a reader")
    outcomes: list[PageOutcome | _ExtractionFailed] = []
    for arguments in pages:
        try:
            outcomes.append(_page_outcome(_WORKER_READER, arguments))
        except Exception as exc:
            outcomes.append(_ExtractionFailed(f"{type(exc).__name__}: {exc}", "".join(format_exception(exc))))
    return outcomes


@dataclass
class _Unsent:
    """Pages not sent to an extraction process yet, oldest first, with the futures they resolve."""

    pages: deque[tuple[_PageArguments, Future[PageOutcome]]] = field(default_factory=deque)
    size: int = 0
    """Bytes of their bodies."""


def _settle(futures: list[Future[PageOutcome]], task: Future[list[PageOutcome | _ExtractionFailed]]) -> None:
    """Resolve each page's future from its task's outcome (or the task's failure: a worker died)."""
    try:
        outcomes = task.result()
    except BaseException as exc:
        for future in futures:
            future.set_exception(exc)
        return
    for future, outcome in zip(futures, outcomes, strict=True):
        if isinstance(outcome, _ExtractionFailed):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)


class WarcSource:
    """Documents of a set of WARC files, in file order.

    Args:
        paths: WARC files (``.warc`` / ``.warc.gz``), read in the order given.
        reader: Extracts pages and reads metadata records.
        use_metadata: Take our metadata records where present; False re-extracts every page.
        progress: Called with the number of input bytes consumed (for a progress bar).
        on_capture: Called with every capture of a web URL the files hold, in file order.
        jobs: Processes that extract pages: this one and ``jobs - 1`` others. Records are still
            read here, in order, and every document comes out in the order ``jobs=1`` gives: only
            ``page_verdict`` runs elsewhere, a bounded number of pages ahead, several pages to a
            message. This process extracts the pages the others have no room for, while it would
            otherwise wait for them: with as many processes as cores, none is left idle and none
            has to share a core.
    """

    def __init__(
        self,
        paths: Sequence[Path],
        reader: PageReader,
        *,
        use_metadata: bool = True,
        progress: Callable[[int], None] | None = None,
        on_capture: Callable[[Capture], None] | None = None,
        jobs: int = 1,
    ) -> None:
        self.paths = list(paths)
        self.jobs = max(1, jobs)
        self._pool: Executor | None = None
        self._unsent = _Unsent()
        self._tasks: deque[Future[list[PageOutcome | _ExtractionFailed]]] = deque()
        self.on_capture = on_capture
        self.reader = reader
        self.use_metadata = use_metadata
        self.progress = progress
        self.inputs: list[InputSummary] = []
        self.problems: list[WarcFileError] = []
        self.unextractable = 0
        self._failures_seen: set[str] = set()
        self._answers = _Answers(
            frozenset(profile.detail_api.path for profile in reader.profiles if profile.detail_api is not None)
        )
        """Article-API answers and the pages waiting for them, across the files: a crawl of the portal
        may have archived the answer, another crawl the page it cites (as a source)."""

    def documents(self) -> Iterator[SourcedDocument]:
        """Every article document of every file; a broken file is noted in ``problems`` and skipped past."""
        if self.jobs == 1:
            yield from self._in_order(self._documents())
            return
        helpers = ProcessPoolExecutor(
            self.jobs - 1,
            mp_context=get_context(_start_method()),
            initializer=_start_worker,
            initargs=(self.reader.profiles,),
        )
        with helpers as pool:
            self._pool = pool
            try:
                yield from self._in_order(self._documents())
            finally:
                self._pool, self._unsent = None, _Unsent()
                self._tasks.clear()

    def _in_order(self, found: Iterator[_Found]) -> Iterator[SourcedDocument]:
        """Documents in record order: pages (extracted here, or elsewhere) are finished here, in order.

        A page's verdict can change how a later record is read (a page waiting for its article
        API's answer), so before such a record (``_DRAIN``) every page ahead of it is finished.
        """
        ahead: deque[SourcedDocument | _Extracting] = deque()
        ahead_bytes = 0

        def finish(waited: bool) -> Iterator[SourcedDocument]:
            nonlocal ahead_bytes
            while ahead and (waited or not isinstance(ahead[0], _Extracting) or ahead[0].future.done()):
                head = ahead.popleft()
                if isinstance(head, _Extracting):
                    ahead_bytes -= len(head.page.body)
                    self._extract_until_done(head.future)
                    yield from self._finish_page(head)
                else:
                    yield head
                waited = False

        for item in found:
            if item is _DRAIN:
                while ahead:
                    yield from finish(True)
                continue
            if not isinstance(item, SourcedDocument | _Extracting):  # pragma: no cover - _Found is closed
                raise TypeError(item)
            ahead.append(item)
            ahead_bytes += len(item.page.body) if isinstance(item, _Extracting) else 0
            full = len(ahead) > _PAGES_AHEAD_PER_JOB * self.jobs or ahead_bytes > _BYTES_AHEAD_PER_JOB * self.jobs
            yield from finish(full)
        while ahead:
            yield from finish(True)

    def _documents(self) -> Iterator[_Found]:
        for path in self.paths:
            summary = InputSummary(path=str(path))
            self.inputs.append(summary)
            state = _FileState()
            self._answers.last_answer = None  # a request record follows its response in the same file
            try:
                for record in read_records(path, progress=self.progress):
                    summary.records += 1
                    yield from self._record(record, state, summary)
            except WarcFileError as problem:
                logger.info("%(problem)s", {"problem": problem})
                summary.records = problem.complete
                summary.problem = problem.problem
                self.problems.append(problem)
            if state.ours and not state.metadata_seen and state.pending:
                yield from self._reextract_pending(path, state, summary)
        yield _DRAIN
        for waiting in self._answers.waiting.values():
            # Pages whose body their script fetched, without the answer in any file: set aside, counted.
            waiting.summary.set_aside[_NO_ANSWER] += 1
        self._answers = _Answers(self._answers.detail_paths)  # what is left is of no use to a next pass

    def _record(self, record: ArchivedRecord, state: _FileState, summary: InputSummary) -> Iterator[_Found]:
        kind = record.warc_type
        if self.on_capture is not None and kind in _CAPTURE_TYPES and record.target_uri.startswith(("http:", "https:")):
            self.on_capture(Capture(record.target_uri, record.date, record.status, record.record_id))
        if kind == "warcinfo":
            if summary.records == 1 and self.use_metadata:
                state.ours = _OUR_SOFTWARE in record.payload(64 * 1024)
            return
        if kind == "metadata":
            if self.use_metadata and record.target_uri.startswith(METADATA_URI_PREFIX):
                found = self._metadata(record, state, summary)
                if found is not None:
                    yield found
            return
        answers = self._answers if not state.ours else None  # our files' metadata records hold the bodies
        if answers is not None and answers.detail_paths and kind in ("response", "request"):
            if kind == "request":
                if answers.last_answer is not None:
                    yield _DRAIN  # it may complete a page still being extracted
                yield from self._answer_asked(record, answers)
                return
            if record.target_uri in answers.wanted:
                yield _DRAIN
            if self._api_response(record, answers):
                yield from self._content_arrived(record.target_uri, answers)
                return
        page_url = _page_url(record)
        if page_url is None:
            return
        if state.ours and record.offset is not None:
            # Our crawl wrote a metadata record for each article: wait for it rather than extract.
            if _successful(record) and is_html(record.content_type):
                summary.pages += 0 if page_url.dom else 1
                state.pending[record.record_id] = _Pending(
                    page_url.url, record.offset, record.date, record.record_id, page_url.dom
                )
            return
        page = self._page(record, page_url, summary, count_page=not page_url.dom, answers=answers)
        if page is not None:
            yield page

    # -- pages whose body an article API holds ----------------------------------------------------

    def _api_response(self, record: ArchivedRecord, answers: _Answers) -> bool:
        """Keep a response to an article API (or to a content URL an answer named); True when it was one."""
        uri = record.target_uri
        if uri in answers.wanted:
            answers.wanted.discard(uri)
            _keep(answers.contents, uri, self._payload(record))
            return True
        try:
            path = urlsplit(uri).path
        except ValueError:
            return False
        if path not in answers.detail_paths or not _successful(record):
            return False
        answers.last_answer = (record.record_id, uri, self._payload(record))
        return True

    def _payload(self, record: ArchivedRecord) -> bytes:
        try:
            return record.payload(MAX_PAGE_BYTES)
        except PayloadError as exc:
            logger.info("Cannot decode %(url)s: %(exc)s", {"url": record.target_uri, "exc": exc})
            return b""

    def _answer_asked(self, record: ArchivedRecord, answers: _Answers) -> Iterator[SourcedDocument]:
        """A request record: when it asked for the answer just kept, file the answer under what it asked."""
        last, answers.last_answer = answers.last_answer, None
        if last is None or record.fields.get("warc-concurrent-to") != last[0] or record.target_uri != last[1]:
            return
        sent = sent_request(record, REQUEST_BODY_READ)
        state = read_detail_answer(last[2]) if sent is not None and sent.method == "POST" else None
        if sent is None or state is None:
            return
        key = (last[1], request_query(sent.method, sent.content_type, sent.body))
        _keep(answers.answers, key, state)
        if not state.content and state.content_url:
            answers.wanted.add(urljoin(last[1], state.content_url))
        waiting = answers.waiting.get(key)
        if waiting is not None:
            waiting.state = state
            yield from self._complete(key, answers)

    def _content_arrived(self, uri: str, answers: _Answers) -> Iterator[SourcedDocument]:
        for key, waiting in list(answers.waiting.items()):
            if waiting.state is not None and urljoin(key[0], waiting.state.content_url) == uri:
                yield from self._complete(key, answers)

    def _complete(self, key: tuple[str, str], answers: _Answers) -> Iterator[SourcedDocument]:
        """A waiting page whose answer (and content) is in: extracted with the body put in place."""
        waiting = answers.waiting.get(key)
        state = waiting.state if waiting is not None else None
        if waiting is None or state is None:
            return
        content = state.content
        if not content:
            fetched = answers.contents.get(urljoin(key[0], state.content_url))
            if fetched is None:
                return  # the content URL's response is still to come
            content = fetched.decode("utf-8", "replace")
        del answers.waiting[key]
        try:
            item = self.reader.filled_item(
                waiting.url, waiting.body, waiting.content_type, waiting.fetched, waiting.location, state, content
            )
        except Exception as exc:  # as for any page: one hostile answer must not end a report
            self._extraction_failed(waiting.url, exc)
            return
        if item is None or not item.body_text:
            waiting.summary.set_aside[_NO_ANSWER] += 1
            return
        waiting.summary.articles += 1
        waiting.summary.reextracted += 1
        yield SourcedDocument(
            document=document_from_item(item),
            fetched_at=to_iso(waiting.fetched) if waiting.fetched is not None else None,
            text=None,  # the served page alone does not hold this text
            origin="page",
        )

    def _metadata(self, record: ArchivedRecord, state: _FileState, summary: InputSummary) -> SourcedDocument | None:
        try:
            data = decode(record.payload(MAX_METADATA_BYTES))
        except (MetadataRecordError, PayloadError) as exc:
            logger.info("Skipping metadata record %(uri)s: %(exc)s", {"uri": record.target_uri, "exc": exc})
            return None
        state.metadata_seen += 1
        summary.metadata_records += 1
        raw_capture = data.get("capture")
        capture: dict[str, object] = raw_capture if isinstance(raw_capture, dict) else {}
        response = state.pending.pop(record.refers_to, None)
        if response is not None:
            location = Location(str(record.path), response.offset, response.record_id)
            fetched = parse_iso(response.date)
            fetched_at = (to_iso(fetched) if fetched is not None else None) or _str(capture.get("fetched_at"))
        else:
            filename = _str(capture.get("warc_filename"))
            offset = capture.get("warc_offset")
            # Only a file name beside this one: the record is data, not a path to follow anywhere.
            beside = record.path.parent / Path(filename).name if filename else None
            location = Location(
                str(beside) if beside is not None and beside.is_file() else filename or str(record.path),
                offset if isinstance(offset, int) else None,
                _str(capture.get("record_id")) or record.refers_to,
            )
            fetched_at = _str(capture.get("fetched_at"))
        document = self.reader.read_metadata(data, location)
        if not document.url:
            return None
        summary.articles += 1
        verdict = data.get("dedup")
        role = verdict.get("role") if isinstance(verdict, dict) else None
        return SourcedDocument(
            document=document,
            fetched_at=fetched_at,
            text=_text_at(record, "metadata"),
            origin="metadata",
            crawl_role=role if isinstance(role, str) else None,
            cited=tuple(cited_sources(data)),
        )

    def _page(
        self, record: ArchivedRecord, page_url: _PageUrl, summary: InputSummary, *, count_page: bool,
        answers: _Answers | None = None,
    ) -> _Extracting | None:  # fmt: skip
        if not _successful(record):
            return None
        if record.content_type and not is_html(record.content_type):
            return None
        try:
            body = record.payload(MAX_PAGE_BYTES)
        except PayloadError as exc:
            logger.info("Cannot decode %(url)s: %(exc)s", {"url": page_url.url, "exc": exc})
            self.unextractable += 1
            return None
        if not record.content_type and not is_html("", body):
            return None
        if count_page:
            summary.pages += 1
        page = _Page(
            url=page_url.url, body=body, content_type=record.content_type, fetched=parse_iso(record.date),
            location=Location(str(record.path), record.offset, record.record_id), text=_text_at(record, "page"),
            summary=summary, answers=answers,
        )  # fmt: skip
        arguments = (page.url, body, page.content_type, page.fetched, page.location)
        extracted: Future[PageOutcome] = Future()
        self._unsent.pages.append((arguments, extracted))
        self._unsent.size += len(body)
        if self._pool is None:
            self._extract_here()
        elif len(self._unsent.pages) >= _PAGES_PER_TASK or self._unsent.size >= _TASK_BYTES:
            self._send_pages()
        return _Extracting(page, extracted)

    def _extract_until_done(self, extracting: Future[PageOutcome]) -> None:
        """Before waiting for a page: while it is not extracted, send pages to a process with room
        for them, else extract them here (the oldest first; it may be one of them)."""
        while not extracting.done() and self._unsent.pages:
            if not self._send_pages():
                self._extract_here()

    def _extract_here(self) -> None:
        """Extract the oldest page not sent, in this process."""
        arguments, extracted = self._unsent.pages.popleft()
        self._unsent.size -= len(arguments[1])
        try:
            extracted.set_result(_page_outcome(self.reader, arguments))
        except Exception as exc:  # finished as a worker's failure is
            extracted.set_exception(exc)

    def _send_pages(self) -> bool:
        """Send the oldest pages not sent yet to an extraction process as one message, if one has room.

        Returns:
            Whether they were sent.
        """
        while self._tasks and self._tasks[0].done():
            self._tasks.popleft()
        busy = sum(not task.done() for task in self._tasks)
        if self._pool is None or not self._unsent.pages or busy >= _TASKS_PER_HELPER * (self.jobs - 1):
            return False
        pages: list[_PageArguments] = []
        futures: list[Future[PageOutcome]] = []
        size = 0
        unsent = self._unsent.pages
        while unsent and len(pages) < _PAGES_PER_TASK and size < _TASK_BYTES:
            arguments, extracted = unsent.popleft()
            pages.append(arguments)
            futures.append(extracted)
            size += len(arguments[1])
        self._unsent.size -= size
        try:
            task = self._pool.submit(_extract_pages, pages)
        except BrokenExecutor as exc:
            raise ExtractionProcessDied(_died(f"before {pages[0][0]} could be sent")) from exc
        task.add_done_callback(functools.partial(_settle, futures))
        self._tasks.append(task)
        return True

    def _finish_page(self, extracting: _Extracting) -> Iterator[SourcedDocument]:
        """An extracted page's document, if any, then the pages its reading let complete."""
        page = extracting.page
        try:
            document, reason = extracting.future.result()
        except BrokenExecutor as exc:
            raise ExtractionProcessDied(_died(f"while it held {page.url}")) from exc
        except Exception as exc:  # one hostile page must not end a report over millions: say so loudly, go on
            self._extraction_failed(page.url, exc)
            return
        yield from self._page_read(page, document, reason)
        answers = page.answers
        while answers is not None and answers.ready:
            yield from self._complete(answers.ready.pop(), answers)

    def _page_read(self, page: _Page, document: Document | None, reason: str) -> Iterator[SourcedDocument]:
        """What an extracted page gives: its document, or nothing (set aside, or waiting for its answer)."""
        summary = page.summary
        if document is None:
            summary.set_aside[reason] += 1
            return
        if not document.text and page.answers is not None and self._awaits_answer(page, page.answers):
            return
        summary.articles += 1
        summary.reextracted += 1
        yield SourcedDocument(
            document=document,
            fetched_at=to_iso(page.fetched) if page.fetched is not None else None,
            text=page.text,
            origin="page",
        )

    def _awaits_answer(self, page: _Page, answers: _Answers) -> bool:
        """A page without a body whose script fetches it from an article API: keep it for the answer."""
        asked = self.reader.detail_request(page.url)
        if asked is None:
            return False
        # Filed as replay files the exchange (the body as a query): a browser's JSON spacing differs.
        key = (asked[0], request_query("POST", "application/json", asked[1]))
        if len(answers.waiting) >= _MAX_WAITING:
            oldest = answers.waiting.pop(next(iter(answers.waiting)))
            oldest.summary.set_aside[_NO_ANSWER] += 1
            logger.info("No article API answer for %(url)s in time: set aside", {"url": oldest.url})
        answers.waiting[key] = _AwaitingAnswer(
            page.url, page.body, page.content_type, page.fetched, page.location, page.summary, answers.answers.get(key)
        )
        if key in answers.answers:
            answers.ready.append(key)
        return True

    def _extraction_failed(self, url: str, exc: Exception) -> None:
        """The first failure of each kind with its traceback; repeats of it at INFO, counted."""
        self.unextractable += 1
        kind = exc.kind if isinstance(exc, _ExtractionFailed) else f"{type(exc).__name__}: {exc}"
        if kind in self._failures_seen:
            logger.info("Extraction failed for %(url)s: %(kind)s", {"url": url, "kind": kind})
            return
        self._failures_seen.add(kind)
        logger.warning("Extraction failed for %(url)s (repeats are logged at INFO)", {"url": url}, exc_info=exc)

    def _reextract_pending(self, path: Path, state: _FileState, summary: InputSummary) -> Iterator[_Found]:
        """A file of ours without metadata records: extract its HTML responses after all."""
        logger.info("%(path)s holds no article metadata records: re-extracting its pages", {"path": path})
        for pending in sorted(state.pending.values(), key=lambda p: p.offset):
            try:
                for record in record_at(path, pending.offset):
                    page_url = _page_url(record)
                    if page_url is not None:
                        # Already counted as a page while streaming.
                        found = self._page(record, page_url, summary, count_page=False)
                        if found is not None:
                            yield found
            except WarcFileError as problem:
                logger.info("%(problem)s", {"problem": problem})
        state.pending.clear()


@dataclass(frozen=True, slots=True)
class _PageUrl:
    url: str
    dom: bool


def _page_url(record: ArchivedRecord) -> _PageUrl | None:
    """The page URL of a response or a rendered DOM, None for every other record."""
    uri = record.target_uri
    if record.warc_type == "response" and uri.startswith(("http://", "https://")):
        return _PageUrl(uri, False)
    if record.warc_type == "resource" and uri.startswith(DOM_URI_PREFIX):
        page = uri[len(DOM_URI_PREFIX) :]
        if page.startswith(("http://", "https://")):
            return _PageUrl(page, True)
    return None


def _text_at(record: ArchivedRecord, kind: TextKind) -> TextLocation | None:
    """Where to read this record's text again; None in a file compressed as one gzip stream."""
    return TextLocation(str(record.path), record.offset, kind) if record.offset is not None else None


def _successful(record: ArchivedRecord) -> bool:
    """A 2xx response, or a record without an HTTP status (a rendered DOM)."""
    return record.status is None or 200 <= record.status < 300


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def document_at(location: TextLocation, reader: PageReader) -> Document | None:
    """The document whose text is at ``location``: its metadata record, or its page assembled again.

    Raises:
        WarcFileError: The record cannot be read there.
        PayloadError: Its content coding is broken.
        MetadataRecordError: A metadata record this version cannot read.
    """
    path = Path(location.path)
    for record in record_at(path, location.offset):
        where = Location(location.path, location.offset, record.record_id)
        if location.kind == "metadata":
            return reader.read_metadata(decode(record.payload(MAX_METADATA_BYTES)), where)
        body = record.payload(MAX_PAGE_BYTES)
        url = record.target_uri.removeprefix(DOM_URI_PREFIX)
        return reader.read_page(url, body, record.content_type, parse_iso(record.date), where)
    return None


def _keep(kept: dict[_Key, _Value], key: _Key, value: _Value) -> None:
    """Keep ``value`` under ``key``, forgetting the oldest entry beyond ``_MAX_WAITING``: bounded memory
    over a collection of any size."""
    kept[key] = value
    if len(kept) > _MAX_WAITING:
        del kept[next(iter(kept))]

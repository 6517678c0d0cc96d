"""Page reading beside the reactor: parse and extract an article on a worker thread.

Why: the reactor thread both issues requests and runs callbacks. Responses that arrive together
(a remote site answers a burst of requests at about the same time) are read back to back, and no
new request leaves until the last of them is done, so the downloader idles for the whole burst.
Reading pages on a worker thread keeps the reactor free to refill the download slots while
extraction runs: wall time approaches the larger of CPU time and network time, not their sum.
libxml2 also releases the GIL while it parses, so part of the work runs truly in parallel.

One worker thread: every lxml tree of an article is built, read and dropped on that thread, and
the extraction's compiled XPath/CSS selectors are only ever used there (lxml does not promise that
one compiled expression may run in two threads at once). List pages stay on the reactor thread
(Scrapy's selectors, other documents and other expressions).

``EXTRACT_THREAD`` (default on) turns it off for debugging: pages are then read inline, exactly as
before, in arrival order.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Self, TypeVar

from scrapy import signals

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

T = TypeVar("T")


class PageWorker:
    """Runs page reading on one worker thread; ``await worker.run(fn, *args)``."""

    def __init__(self, *, threaded: bool) -> None:
        self.threaded = threaded
        self._executor: ThreadPoolExecutor | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """``EXTRACT_THREAD``; the thread ends when the engine stops."""
        worker = cls(threaded=crawler.settings.getbool("EXTRACT_THREAD", True))
        crawler.signals.connect(worker.shutdown, signal=signals.engine_stopped)
        return worker

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        """The reactor's event loop once a page has been handed over (``None`` before, or inline)."""
        return self._loop

    def off_loop(self) -> bool:
        """True on the worker thread: state owned by the reactor must be touched through the loop."""
        return self._executor is not None and threading.current_thread().name.startswith("page-worker")

    def call_on_loop(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn`` on the reactor thread: now when already there, else as soon as the loop turns.

        Calls made from the worker during a page are queued before that page's result is, so they
        have all run when the awaiting callback resumes.
        """
        if self._loop is not None and self.off_loop():
            self._loop.call_soon_threadsafe(fn, *args)
        else:
            fn(*args)

    async def run(self, fn: Callable[..., T], /, *args: Any) -> T:
        """``fn(*args)`` on the worker thread (inline when threading is off or no loop runs)."""
        if not self.threaded:
            return fn(*args)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop: nothing to keep free
            return fn(*args)
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="page-worker")
            self._loop = loop
            executor = self._executor
        return await loop.run_in_executor(executor, functools.partial(fn, *args))

    def shutdown(self) -> None:
        """Let the thread finish what it holds, then end it."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)

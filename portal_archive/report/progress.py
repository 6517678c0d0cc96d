"""A progress bar on stderr over the input bytes, silent when stderr is not a terminal.

Reports are often piped or run from cron: a bar there would only litter logs, so it is shown to
a person at a terminal and nobody else.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

__all__ = ["ByteProgress"]

_REFRESH_SECONDS = 0.1


class ByteProgress:
    """Counts input bytes consumed against the total size; a no-op unless ``stream`` is a TTY.

    Use as a context manager; ``advance`` is the callback ``WarcSource`` takes, ``count_articles``
    the one a report or an indexing run calls per batch (the bar shows articles and their rate).
    """

    def __init__(
        self, total: int, *, label: str = "reading", stream: TextIO | None = None, enabled: bool = True
    ) -> None:
        target = stream if stream is not None else sys.stderr
        self.active = enabled and total > 0 and target.isatty()
        self._progress: Progress | None = None
        self._bar: TaskID | None = None
        if self.active:
            self._progress = Progress(
                TextColumn(f"[bold]{label}"),
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                TextColumn("{task.fields[articles]:,} articles, {task.fields[rate]:,.0f}/s"),
                TimeRemainingColumn(),
                console=Console(file=target),
                transient=True,
                # Refreshed by ``advance`` rather than by a thread of its own: worker processes that
                # extract pages are forked, which is only safe from a process with one thread.
                auto_refresh=False,
            )
            self._bar = self._progress.add_task(label, total=total, articles=0, rate=0.0)
        self._articles = 0
        self._started = time.monotonic()
        self._shown = 0.0

    def __enter__(self) -> ByteProgress:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._progress is not None:
            self._progress.stop()

    def count_articles(self, added: int) -> None:
        """Add ``added`` articles to the count shown, with the rate since the start."""
        self._articles += added
        if self._progress is not None and self._bar is not None:
            elapsed = max(time.monotonic() - self._started, 1e-6)
            self._progress.update(self._bar, articles=self._articles, rate=self._articles / elapsed)
            self._refresh()

    def advance(self, consumed: int) -> None:
        """Move the bar by ``consumed`` bytes."""
        if self._progress is not None and self._bar is not None:
            self._progress.advance(self._bar, consumed)
            self._refresh()

    def _refresh(self) -> None:
        """Redraw at most ten times a second."""
        now = time.monotonic()
        if self._progress is not None and now - self._shown >= _REFRESH_SECONDS:
            self._shown = now
            self._progress.refresh()

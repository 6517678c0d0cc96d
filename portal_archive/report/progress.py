"""A progress bar on stderr over the input bytes, silent when stderr is not a terminal.

Reports are often piped or run from cron: a bar there would only litter logs, so it is shown to
a person at a terminal and nobody else.
"""

from __future__ import annotations

import sys
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


class ByteProgress:
    """Counts input bytes consumed against the total size; a no-op unless ``stream`` is a TTY.

    Use as a context manager; ``advance`` is the callback ``WarcSource`` takes.
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
                TimeRemainingColumn(),
                console=Console(file=target),
                transient=True,
            )
            self._bar = self._progress.add_task(label, total=total)

    def __enter__(self) -> ByteProgress:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._progress is not None:
            self._progress.stop()

    def advance(self, consumed: int) -> None:
        """Move the bar by ``consumed`` bytes."""
        if self._progress is not None and self._bar is not None:
            self._progress.advance(self._bar, consumed)

"""One large gzip WARC file read by several processes at once, each a run of whole records.

A gzip file of more than ``PARALLEL_BYTES`` is cut where gzip members that begin a record start
(``warc.framing.member_splits``); each process reads from its start up to the record at the next
cut. The caller checks that each run ended exactly at the next cut (a record spanning members would
not) and otherwise reads the file in one pass: the parallel result is always the one-pass result.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Generator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Final, TypeVar

from portal_archive.warc.framing import member_splits

__all__ = ["PARALLEL_BYTES", "RUN_BYTES", "default_jobs", "in_processes", "renumbered", "split_runs"]

PARALLEL_BYTES: Final = 64 * 1024 * 1024
"""gzip files larger than this are read in parallel runs."""
RUN_BYTES: Final = 8 * 1024 * 1024
"""The smallest run worth handing to a process."""
RUNS_PER_JOB: Final = 4
"""Runs per process: a process that finishes early takes the next run, so none waits on a slow one."""

Run = tuple[int, int | None]
"""Where a run starts and the offset of the first record it leaves to the next run (None: the end)."""
T = TypeVar("T")


def default_jobs() -> int:
    """Processes for reading: the CPUs this process may run on."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def split_runs(path: Path, jobs: int) -> list[Run]:
    """The runs ``jobs`` processes read ``path`` in; one run (the whole file) when it is not worth it."""
    size = path.stat().st_size
    if jobs < 2 or size <= PARALLEL_BYTES:
        return [(0, None)]
    with path.open("rb") as fh:
        if fh.read(2) != b"\x1f\x8b":
            return [(0, None)]
        splits = member_splits(fh, size, min(jobs * RUNS_PER_JOB, max(size // RUN_BYTES, 1)))
    starts = [0, *splits]
    stops: list[int | None] = [*splits, None]
    return list(zip(starts, stops, strict=True))


def in_processes(
    function: Callable[[Path, int, int | None], T], path: Path, runs: list[Run], jobs: int
) -> Generator[T, None, None]:
    """``function(path, start, stop)`` for every run in ``jobs`` processes, results in run order as they come.

    Processes are forked when this one has no other thread (no start-up cost), spawned otherwise. A
    caller that stops early leaves the runs not begun undone.
    """
    method = "fork" if threading.active_count() == 1 else "spawn"
    pool = ProcessPoolExecutor(max_workers=min(jobs, len(runs)), mp_context=get_context(method))
    try:
        yield from pool.map(function, [path] * len(runs), [start for start, _ in runs], [stop for _, stop in runs])
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


_AFTER_RECORD: Final = re.compile(r"after record (\d+)")


def renumbered(problem: str, before: int) -> str:
    """A run's words for damage (``… after record N``), its record count made the file's."""
    return _AFTER_RECORD.sub(lambda m: f"after record {int(m.group(1)) + before}", problem, count=1)

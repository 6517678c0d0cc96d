"""Who is still writing a ``.open`` WARC file: an exclusive ``flock`` held for as long as it is open.

A writer creates its file and locks it while holding the folder's lock (``DIR/.warc.lock``), so
a recovery pass, which scans under the same folder lock, never sees a new file in the instant
between its creation and its lock. The kernel drops a ``flock`` when its process dies, however it
dies (``kill -9`` included): an unlocked ``.open`` file is an orphan, a locked one belongs to a
live crawl and is left alone.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

FOLDER_LOCK_NAME = ".warc.lock"


@contextmanager
def folder_lock(directory: Path) -> Iterator[None]:
    """Hold ``DIR/.warc.lock`` exclusively: file creation and orphan scans never interleave."""
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / FOLDER_LOCK_NAME).open("ab") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def create_locked(path: Path) -> BinaryIO:
    """Create ``path`` (it must not exist) and hold an exclusive lock on it until it is closed."""
    with folder_lock(path.parent):
        handle = path.open("xb")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            raise
    return handle


def try_lock(handle: BinaryIO) -> bool:
    """Take the exclusive lock of an open file without waiting; False when a live writer holds it."""
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True

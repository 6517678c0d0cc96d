"""Who is still writing a ``.open`` WARC file: an exclusive ``flock`` held for as long as it is open.

A writer creates its file and locks it while holding the folder's lock (a ``flock`` on the
folder itself, so no lock file litters the archive); a recovery pass scans under the same
folder lock, so it never sees a new file in the instant between its creation and its lock. The
kernel drops a ``flock`` when its process dies, however it dies (``kill -9`` included): an
unlocked ``.open`` file is an orphan, a locked one belongs to a live crawl and is left alone.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


@contextmanager
def folder_lock(directory: Path) -> Iterator[None]:
    """Lock the folder exclusively: file creation and orphan scans never interleave."""
    directory.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


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

"""``portal-archive replay``: check the folder, bring its index up to date, run pywb beside us.

pywb runs in a child process (``portal_archive.replay.server``) because importing it patches the
interpreter with gevent, and under the Python ``portal_archive.replay.pywbenv`` picks (pywb's pinned
redis cannot live beside scrapy-redis's).
"""

from __future__ import annotations

import ctypes
import ipaddress
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from types import FrameType
from typing import Final

import portal_archive
from portal_archive.archive.cdxj import ensure_index
from portal_archive.archive.folder import ArchiveFolderError, require_archive
from portal_archive.replay.pywbenv import pywb_python

_COLLECTION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback address: the archive is not reachable from other machines."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def server_command(directory: Path, index: Path, *, host: str, port: int, collection: str) -> list[str]:
    """The child process's command line.

    Raises:
        PywbNotFound: no Python with a working pywb.
    """
    return [
        str(pywb_python()), "-m", "portal_archive.replay.server", str(directory.resolve()),
        "--index", str(index.resolve()), "--host", host, "--port", str(port), "--collection", collection,
    ]  # fmt: skip


def server_env() -> dict[str, str]:
    """The environment, with this package importable from any working directory."""
    env = dict(os.environ)
    root = str(Path(portal_archive.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    return env


def run_replay(directory: Path, *, host: str, port: int, collection: str) -> int:
    """Serve ``directory`` until interrupted; the child's exit code.

    Raises:
        ArchiveFolderError: no WARC files there, or a collection name pywb cannot route.
        PywbNotFound: no Python with a working pywb.
    """
    if not _COLLECTION_RE.match(collection):
        raise ArchiveFolderError(f"collection name {collection!r}: use letters, digits, '_' and '-'")
    require_archive(directory)
    index = ensure_index(directory)
    if not is_loopback(host):
        print(f"warning: {host} is not a loopback address; other machines can reach this archive", file=sys.stderr)
    command = server_command(directory, index, host=host, port=port, collection=collection)
    return run_child(command, server_env())


FORWARDED_SIGNALS: Final = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)
"""What stops the command stops pywb: a service manager's SIGTERM, a closed terminal's SIGHUP."""
_PR_SET_PDEATHSIG: Final = 1


def _die_with_parent() -> None:
    """In the child, before pywb starts: Linux sends it SIGTERM when the command dies, even by SIGKILL."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: the forwarded signals still stop it
        pass


def run_child(command: list[str], env: dict[str, str]) -> int:
    """Run ``command`` until it exits; stop signals to this process are passed on, and waited out.

    No child outlives the command: a signal that would end it is forwarded to the child, which is
    waited for, and on Linux the child also gets SIGTERM should this process be killed outright.
    """
    child = subprocess.Popen(command, env=env, preexec_fn=_die_with_parent)

    def forward(signum: int, _frame: FrameType | None) -> None:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM if signum != signal.SIGINT else signal.SIGINT)

    previous = {signum: signal.signal(signum, forward) for signum in FORWARDED_SIGNALS}
    try:
        return child.wait()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if child.poll() is None:  # pragma: no cover - only when waiting itself failed
            child.terminate()
            child.wait()

"""``portal-archive replay``: check the folder, bring its index up to date, run pywb beside us.

pywb runs in a child process (``portal_archive.replay.server``) because importing it patches the
interpreter with gevent, and under the Python ``portal_archive.replay.pywbenv`` picks (pywb's pinned
redis cannot live beside scrapy-redis's).
"""

from __future__ import annotations

import ipaddress
import os
import re
import subprocess
import sys
from pathlib import Path

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
    return subprocess.call(command, env=server_env())

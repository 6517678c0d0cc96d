"""Which Python runs pywb: the one place that decides.

pywb 2.10 pins ``redis==2.10.6`` and imports ``fakeredis<1.0``, which breaks with redis 3 or later,
while distributed crawling (scrapy-redis) needs redis 4.2 or later: the two cannot share one
environment. pywb only ever runs in child processes anyway (importing it gevent-patches the
interpreter), so it gets a virtualenv of its own, ``.venv-pywb`` beside the project
(``scripts/bootstrap.sh`` creates it). Order of precedence:

1. ``PORTAL_ARCHIVE_PYWB_PYTHON``: a Python with ``pywb>=2.10,<3`` installed;
2. this interpreter, when it has pywb and a redis older than 3 (pywb's own pin);
3. ``<project root>/.venv-pywb/bin/python``.

Nothing here imports pywb or redis. See ``docs/replay.md``.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import sys
from pathlib import Path
from typing import Final

import portal_archive

PYWB_PYTHON_ENV: Final = "PORTAL_ARCHIVE_PYWB_PYTHON"
PYWB_VENV: Final = ".venv-pywb"


class PywbNotFound(RuntimeError):
    """No Python with a working pywb: says how to set one up."""


def project_root() -> Path:
    """The folder holding ``portal_archive/`` (the repository, for an editable install)."""
    return Path(portal_archive.__file__).resolve().parent.parent


def current_python_runs_pywb() -> bool:
    """pywb is importable here and its redis is one pywb works with (before 3.0).

    Decided from installed metadata, without importing pywb (which would patch this process).
    """
    if importlib.util.find_spec("pywb") is None:
        return False
    try:
        major = importlib.metadata.version("redis").split(".", 1)[0]
    except importlib.metadata.PackageNotFoundError:
        return False
    return major.isdigit() and int(major) < 3


def pywb_python() -> Path:
    """The Python interpreter that runs pywb (not resolved: a virtualenv's ``python`` is a symlink).

    Raises:
        PywbNotFound: none configured, none here, and no ``.venv-pywb``.
    """
    configured = os.environ.get(PYWB_PYTHON_ENV, "").strip()
    if configured:
        path = Path(configured).absolute()
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise PywbNotFound(f"{PYWB_PYTHON_ENV}={configured}: not an executable file")
        return path
    if current_python_runs_pywb():
        return Path(sys.executable).absolute()
    candidate = project_root() / PYWB_VENV / "bin" / "python"
    if candidate.is_file():
        return candidate
    raise PywbNotFound(
        "pywb is not installed where it can run: run scripts/bootstrap.sh (it creates "
        f"{PYWB_VENV}/ beside the project), or install 'pywb>=2.10,<3' into a virtualenv of its own "
        f"(pip install -e '.[replay]' there) and set {PYWB_PYTHON_ENV} to its bin/python"
    )


def pywb_bin(name: str) -> Path:
    """A console script of pywb's environment (``wb-manager``, ``wayback``).

    Raises:
        PywbNotFound: as ``pywb_python``, or that environment has no such script.
    """
    path = pywb_python().parent / name
    if not path.is_file():
        raise PywbNotFound(f"{path}: no such pywb command (is pywb installed beside {path.parent / 'python'}?)")
    return path

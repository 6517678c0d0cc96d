"""pywb's WSGI application over an archive folder in place, configured from generated YAML.

Import this only in a process that gevent has patched (``portal_archive.replay.server``, or a test's
subprocess): importing pywb patches the interpreter, which a Scrapy crawl must never share.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ReplayConfig:
    """One pywb collection over ``archive_dir`` (no copy) and its byte-sorted CDXJ index."""

    archive_dir: Path
    index: Path
    collection: str = "archive"
    framed: bool = True

    def to_pywb(self, work_dir: Path) -> dict[str, Any]:
        """pywb's configuration; ``work_dir`` holds the (empty) dynamic-collections root."""
        return {
            # An empty root of our own, so a ``collections/`` folder in the caller's directory is never served.
            "collections_root": str(work_dir / "collections"),
            "collections": {
                self.collection: {
                    "archive_paths": str(self.archive_dir.resolve()) + "/",
                    "index_paths": str(self.index.resolve()),
                }
            },
            "framed_replay": self.framed,
            "enable_memento": True,
        }

    def write(self, work_dir: Path) -> Path:
        """Write ``config.yaml`` (JSON is YAML) into ``work_dir``; returns its path."""
        (work_dir / "collections").mkdir(parents=True, exist_ok=True)
        path = work_dir / "config.yaml"
        path.write_text(json.dumps(self.to_pywb(work_dir), indent=2), encoding="utf-8")
        return path


def build_app(config_file: Path) -> Any:
    """pywb's ``FrontEndApp``; its warcserver runs in a greenlet (stop ``app.warcserver_server``)."""
    from pywb.apps.frontendapp import FrontEndApp

    return FrontEndApp(config_file=str(config_file))

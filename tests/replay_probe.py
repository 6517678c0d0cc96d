"""Replay URLs from a WARC folder through pywb's WSGI app, in a process of its own.

pywb monkey-patches the interpreter with gevent on import, so tests run it here as a subprocess
(``python -m tests.replay_probe ARCHIVE_DIR INDEX.cdxj OUT.json`` with a JSON list of requests on
stdin) and read a JSON list of responses from OUT.json (pywb prints notices on stdout): status,
headers, base64 body. It runs under pywb's own Python (``portal_archive.replay.pywbenv``), which has
pywb but no test tools, so the caller builds the sorted CDXJ index and requests go through
``tests.wsgi_call``.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all(thread=False)

import base64  # noqa: E402 - gevent must patch before anything imports socket
import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402


def build_app(archive_dir: Path, index: Path) -> Any:
    """A pywb front-end app with one collection ``demo`` over the WARCs and their sorted CDXJ index."""
    from pywb.apps.frontendapp import FrontEndApp

    return FrontEndApp(
        config_file=None,
        custom_config={
            "collections": {"demo": {"index_paths": str(index), "archive_paths": str(archive_dir) + "/"}},
            "framed_replay": False,
        },
    )


def main() -> int:
    from tests.wsgi_call import call_wsgi

    archive_dir, index, out = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    wanted = json.load(sys.stdin)
    app = build_app(archive_dir.resolve(), index.resolve())
    results = []
    for item in wanted:
        status, headers, body = call_wsgi(app, item["path"], item.get("headers", {}))
        results.append(
            {
                "path": item["path"],
                "status": status,
                "headers": [[k, v] for k, v in headers],
                "body": base64.b64encode(body).decode("ascii"),
            }
        )
    app.warcserver_server.stop()
    out.write_text(json.dumps(results), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Replay URLs from a WARC folder through pywb's WSGI app, in a process of its own.

pywb monkey-patches the interpreter with gevent on import, so tests run it here as a subprocess
(``python -m tests.replay_probe ARCHIVE_DIR OUT.json`` with a JSON list of requests on stdin) and read
a JSON list of responses from OUT.json (pywb prints notices on stdout): status, headers, base64 body.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all(thread=False)

import base64  # noqa: E402 - gevent must patch before anything imports socket
import json  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402


def build_app(archive_dir: Path, work: Path) -> Any:
    """A pywb front-end app with one collection ``demo`` over the WARCs, with a sorted CDXJ index."""
    from cdxj_indexer import CDXJIndexer
    from pywb.apps.frontendapp import FrontEndApp

    warcs = sorted(str(p) for p in archive_dir.iterdir() if p.name.endswith((".warc.gz", ".warc")))
    index = work / "index.cdxj"
    with index.open("w") as out:
        CDXJIndexer(out, warcs, sort=True, filename=None).process_all()
    return FrontEndApp(
        config_file=None,
        custom_config={
            "collections": {"demo": {"index_paths": str(index), "archive_paths": str(archive_dir) + "/"}},
            "framed_replay": False,
        },
    )


def main() -> int:
    from webob import Request

    archive_dir = Path(sys.argv[1])
    wanted = json.load(sys.stdin)
    with tempfile.TemporaryDirectory() as tmp:
        app = build_app(archive_dir, Path(tmp))
        results = []
        for item in wanted:
            request = Request.blank(item["path"], headers=item.get("headers", {}))
            response = request.get_response(app)
            results.append(
                {
                    "path": item["path"],
                    "status": response.status_int,
                    "headers": [[k, v] for k, v in response.headerlist],
                    "body": base64.b64encode(response.body).decode("ascii"),
                }
            )
        app.warcserver_server.stop()
    Path(sys.argv[2]).write_text(json.dumps(results), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

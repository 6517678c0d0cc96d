"""``python -m portal_archive.replay.server``: pywb over an archive folder, in a process of its own.

gevent patches the interpreter first (pywb would on import anyway); ``portal-archive replay``
starts this module as a subprocess so the patching never reaches its own process. The generated
config lives in a temporary folder that is also the working directory, so nothing in the caller's
directory (``config.yaml``, ``collections/``, ``templates/``) changes what is served. The first line
on stdout is ``Replaying … at URL``, printed once the socket listens.
"""

from __future__ import annotations

import warnings

from gevent import monkey

monkey.patch_all(thread=False)
# pywb's frontendapp patches again on import (its defaults: the union of both applies); gevent's
# MonkeyPatchWarning about it says nothing an operator can act on, in every replay's terminal.
warnings.filterwarnings("ignore", category=monkey.MonkeyPatchWarning)

import argparse  # noqa: E402 - gevent must patch before anything imports socket
import os  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
from gevent.pywsgi import WSGIServer  # noqa: E402

from portal_archive.replay.pywb_app import ReplayConfig, build_app  # noqa: E402

READY_PREFIX = "Replaying"


def collection_url(host: str, port: int, collection: str) -> str:
    """The collection's address (IPv6 literals bracketed)."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/{collection}/"


def serve(config: ReplayConfig, host: str, port: int) -> int:
    """Listen, announce the URL on stdout, serve until SIGTERM or SIGINT."""
    with tempfile.TemporaryDirectory(prefix="portal-archive-pywb-") as work:
        os.chdir(work)
        app = build_app(config.write(Path(work)))
        server = WSGIServer((host, port), app, log=None, error_log=sys.stderr)
        try:
            server.init_socket()
        except OSError as exc:
            print(f"cannot listen on {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
            app.warcserver_server.stop()
            return 1
        gevent.signal_handler(signal.SIGTERM, server.stop)
        url = collection_url(host, server.server_port, config.collection)
        print(f"{READY_PREFIX} {config.archive_dir} at {url}", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.stop(timeout=1)
            app.warcserver_server.stop()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Arguments come from ``portal_archive.replay.launcher``, which has checked the folder."""
    parser = argparse.ArgumentParser(prog="python -m portal_archive.replay.server")
    parser.add_argument("archive_dir", type=Path)
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--collection", default="archive")
    args = parser.parse_args(argv)
    config = ReplayConfig(
        archive_dir=args.archive_dir.resolve(), index=args.index.resolve(), collection=args.collection
    )
    return serve(config, args.host, args.port)


if __name__ == "__main__":
    sys.exit(main())

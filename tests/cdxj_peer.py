"""cdxj-indexer's lines, as replay needs them: its default lines, and its ``--post-append`` lines for
the answers to POST and PUT requests (filed under the request body, as pywb looks them up).

Only those answers are taken from the post-append run: in that mode cdxj-indexer buffers every
record first and then computes a missing payload digest over the drained stream (the digest of
nothing), so records without ``WARC-Payload-Digest`` would differ for a reason that is its own.
"""

from __future__ import annotations

import io
import json
from pathlib import Path


def _lines(paths: list[Path], *, post_append: bool) -> list[str]:
    from cdxj_indexer import CDXJIndexer

    text = io.StringIO()
    CDXJIndexer(text, [str(path) for path in paths], sort=True, post_append=post_append).process_all()
    return text.getvalue().splitlines(keepends=True)


def _place(line: str) -> tuple[str, str]:
    fields = json.loads(line.split(" ", 2)[2])
    return fields["filename"], fields["offset"]


def cdxj_indexer_lines(paths: list[Path]) -> list[str]:
    """Sorted lines (with their newlines) cdxj-indexer writes for ``paths``; raises when it cannot read them."""
    lines = _lines(paths, post_append=False)
    try:
        appended = _lines(paths, post_append=True)
    except AttributeError:  # its buffering iterator fails on some files its default mode reads (brotli)
        appended = []
    answers = {_place(line): line for line in appended if '"method": ' in line}
    if answers:
        lines = [answers.get(_place(line), line) for line in lines]
    return sorted(lines)

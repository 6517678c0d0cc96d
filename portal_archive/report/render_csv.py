"""The report as CSV: one row per cluster member, the original first in each cluster.

``cited`` counts the sources a member cites (``cited_archived`` those archived); a copy's citations
of its original's sources it dropped, and of sources the original does not cite, are listed
(space-separated URLs).

Text cells that a spreadsheet would run as a formula (starting ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return) get a leading apostrophe: titles come from the pages, i.e. from anyone.
"""

from __future__ import annotations

import csv
from typing import Final, TextIO

from portal_archive.report.model import Report

__all__ = ["COLUMNS", "render_csv"]

COLUMNS: Final = (
    "cluster_id",
    "cluster_size",
    "decided_by",
    "canonical_url",
    "role",
    "url",
    "site",
    "domain",
    "title",
    "published_at",
    "fetched_at",
    "jaccard",
    "containment",
    "chars",
    "warc_filename",
    "warc_offset",
    "warc_record_id",
    "replay_url",
    "evidence",
    "cited",
    "cited_archived",
    "citations_dropped",
    "citations_added",
)
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")


def _cell(text: str) -> str:
    """Untrusted text, defused for spreadsheets."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def _number(value: float | int | None) -> str:
    return "" if value is None else str(value)


def render_csv(report: Report, out: TextIO) -> None:
    """Write a header row and one row per member of every cluster shown."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for cluster in report.clusters:
        for member in cluster.members:
            warc = member.warc
            writer.writerow(
                (
                    cluster.id,
                    cluster.size,
                    cluster.decided_by,
                    _cell(cluster.canonical.url),
                    member.role,
                    _cell(member.url),
                    _cell(member.site),
                    _cell(member.domain),
                    _cell(member.title),
                    member.published_at or "",
                    member.fetched_at or "",
                    _number(member.jaccard),
                    _number(member.containment),
                    member.chars,
                    _cell(warc.filename) if warc is not None else "",
                    _number(warc.offset) if warc is not None else "",
                    warc.record_id if warc is not None else "",
                    member.replay_url or "",
                    _cell("; ".join(member.evidence)),
                    sum(1 for source in member.cited if source.change != "dropped"),
                    sum(1 for source in member.cited if source.change != "dropped" and source.archived),
                    _cell(" ".join(source.url for source in member.cited if source.change == "dropped")),
                    _cell(" ".join(source.url for source in member.cited if source.change == "added")),
                )
            )

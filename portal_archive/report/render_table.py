"""The report as a terminal table: totals, per-site syndication, then each cluster and its members.

Column widths count East Asian wide characters as two cells, so Chinese titles line up. Control
characters in page text are shown as spaces: a title cannot move the cursor or recolour the
terminal.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Final, TextIO

from portal_archive.report.model import ClusterReport, MemberReport, Report

__all__ = ["render_table"]

TITLE_CELLS: Final = 40
_CONTROL: Final = {code: " " for code in (*range(0, 32), 127, *range(0x80, 0xA0))}


def _clean(text: str) -> str:
    """One line of page text without control characters (no escape sequences reach the terminal)."""
    return " ".join(text.translate(_CONTROL).split())


def _cells(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _fit(text: str, width: int) -> str:
    """``text`` cut to ``width`` cells (with an ellipsis) and padded to exactly ``width``."""
    text = _clean(text)
    if _cells(text) > width:
        kept = []
        used = 0
        for ch in text:
            size = _cells(ch)
            if used + size > width - 1:
                break
            kept.append(ch)
            used += size
        text = "".join(kept) + "…"
    return text + " " * (width - _cells(text))


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], indent: str = "  ") -> list[str]:
    widths = [max(_cells(_clean(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = []
    for row in [header, *rows]:
        lines.append(indent + "  ".join(_fit(cell, widths[i]) for i, cell in enumerate(row)).rstrip())
    return lines


def _ratio(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _date(value: str | None) -> str:
    return (value or "")[:10]


def _where(member: MemberReport) -> str:
    if member.warc is None:
        return ""
    name = member.warc.filename.rsplit("/", 1)[-1]
    return f"{name}@{member.warc.offset}" if member.warc.offset is not None else name


def _cluster_lines(number: int, cluster: ClusterReport) -> list[str]:
    canonical = cluster.canonical
    flags = f"  [{', '.join(cluster.flags)}]" if cluster.flags else ""
    lines = [
        "",
        f"Cluster {number} (#{cluster.id}): {cluster.size} members, original decided by {cluster.decided_by}{flags}",
        f"  {_clean(canonical.title) or '(no title)'}",
        f"  original: {_clean(canonical.url)}  [{_clean(canonical.site)}, published {_date(canonical.published_at)}]",
    ]
    lines.extend(f"    evidence: {_clean(line)}" for line in cluster.evidence)
    rows = []
    for member in cluster.members:
        rows.append(
            [
                member.role,
                member.site,
                _ratio(member.jaccard),
                _ratio(member.containment),
                _date(member.published_at),
                _date(member.fetched_at),
                _fit(member.title, TITLE_CELLS).rstrip(),
                member.url,
                _where(member),
            ]
        )
    header = ["role", "site", "J", "contain", "published", "fetched", "title", "url", "warc"]
    lines.extend(_table(header, rows))
    for member in cluster.members:
        if member.replay_url:
            lines.append(f"    replay {member.role}: {_clean(member.replay_url)}")
    lines.extend(_citation_lines(cluster))
    return lines


def _citation_lines(cluster: ClusterReport) -> list[str]:
    """The original's sources with where each is archived; per copy, what it cites against them."""
    original = cluster.canonical
    lines = []
    if original.cited:
        archived = sum(1 for source in original.cited if source.archived)
        lines.append(f"  sources cited by the original: {len(original.cited)} ({archived} archived)")
        lines.extend(f"    {source.capture_text}  {_clean(source.url)}" for source in original.cited)
    for member in cluster.members[1:]:
        if not member.cited:
            continue
        marks = [source.change for source in member.cited]
        changed = [source for source in member.cited if source.change in ("added", "dropped")]
        if member.role == "related":
            summary = f"cites {len(member.cited)} source(s)"
        elif changed:
            summary = ", ".join(f"{marks.count(mark)} {mark}" for mark in ("dropped", "added") if mark in marks)
        elif "original" in marks and len(marks) == 1:
            summary = "cites only its original"
        else:
            summary = f"cites the original's {marks.count('')} source(s)" + (
                " and the original itself" if "original" in marks else ""
            )
        lines.append(f"  {member.role} {_clean(member.url)}: {summary}")
        shown = member.cited if member.role == "related" else changed
        lines.extend(
            f"    {source.change or 'cites':<7}  {source.capture_text}  {_clean(source.url)}" for source in shown
        )
    return lines


RATES_LEGEND: Final = (
    "syndication: share of a site's articles that are the original of a cluster (republished elsewhere); "
    "copy share: share of its articles that are copies or excerpts of another page's original"
)
IDS_LEGEND: Final = "#N: a page's number in the near-duplicate index this report was made from"


def render_table(report: Report, out: TextIO) -> None:
    """Write the readable report."""
    totals = report.totals
    pages = f"{totals.pages_read} pages read, " if totals.pages_read is not None else ""
    lines = [
        f"Near-duplicate report ({report.source}): {pages}{totals.articles} articles, {totals.indexed} compared, "
        f"{totals.clusters} clusters, {totals.copies} copies, {totals.excerpts} excerpts, {totals.related} related",
    ]
    if totals.set_aside:
        reasons = ", ".join(f"{reason} {count}" for reason, count in sorted(totals.set_aside.items()))
        lines.append(f"Set aside: {sum(totals.set_aside.values())} HTML page(s) that are no article ({reasons})")
    if (why := totals.why_no_article()) is not None:
        lines.append(f"No article to compare: {why}")
    filters = ", ".join(f"{key} {value}" for key, value in report.filters.items() if value)
    if filters:
        lines.append(f"Showing {totals.clusters_shown} clusters ({filters})")
    if report.sites:
        lines.extend(["", "Sites"])
        lines.extend(
            _table(
                ["site", "domain", "articles", "originals", "copies", "syndication", "copy share"],
                [
                    [
                        s.site,
                        s.domain,
                        str(s.articles),
                        str(s.originals),
                        str(s.copies),
                        f"{s.syndication_rate:.1%}",
                        f"{s.copy_rate:.1%}",
                    ]
                    for s in report.sites
                ],
            )
        )
        lines.append(f"  {RATES_LEGEND}")
    if report.clusters:
        lines.extend(["", IDS_LEGEND])
    for number, cluster in enumerate(report.clusters, start=1):
        lines.extend(_cluster_lines(number, cluster))
    if report.problems:
        lines.extend(["", "Problems"])
        lines.extend(f"  {_clean(problem)}" for problem in report.problems)
    out.write("\n".join(lines) + "\n")

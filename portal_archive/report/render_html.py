"""The report as one self-contained HTML page: clusters, members, and original-vs-copy side by side.

Everything on the page that came from an archive (titles, URLs, site names, evidence, body text) is
untrusted: it is escaped with ``html.escape`` in text and in attribute values, and only ``http(s)``
URLs become links. The page loads nothing (inline CSS, no fonts, no scripts, no images) and says
so in a Content-Security-Policy, so even a mistake here could not run a script or call out.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Final, TextIO

from portal_archive.report.diff import Row, Segment, side_by_side
from portal_archive.report.model import ClusterReport, MemberReport, Report

__all__ = ["render_html", "safe_href"]

CSP: Final = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
STYLE: Final = """
:root { color-scheme: light; --line: #d8dde3; --muted: #5b6470; --ins: #d9f5dd; --del: #fde0e0; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1280px; padding: 24px; font: 15px/1.6 system-ui, -apple-system, "Segoe UI",
  "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif; color: #1d232b; background: #fff; }
h1 { font-size: 1.6em; margin: 0 0 4px; }
h2 { font-size: 1.25em; margin: 0 0 6px; }
.muted, .meta { color: var(--muted); }
table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { font-weight: 600; background: #f4f6f8; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.totals { display: flex; flex-wrap: wrap; gap: 8px 24px; margin: 12px 0; }
.totals div { min-width: 120px; }
.totals b { display: block; font-size: 1.4em; }
.cluster { border: 1px solid var(--line); border-radius: 6px; padding: 16px; margin: 20px 0; }
.role { display: inline-block; padding: 0 6px; border-radius: 4px; font-size: .85em; background: #eef1f4; }
.role-original { background: #dbe9ff; }
.role-copy { background: #ffe9c7; }
.role-excerpt { background: #efe1ff; }
.evidence { margin: 4px 0 8px; padding-left: 20px; color: var(--muted); font-size: .9em; }
.url { word-break: break-all; }
td.title { min-width: 18em; }
td.where { max-width: 16em; overflow-wrap: anywhere; font-size: .9em; }
.nowrap { white-space: nowrap; }
.legend { color: var(--muted); font-size: .9em; margin: 0 0 8px; }
.doc-id { color: var(--muted); font-size: .85em; }
td.evidence { max-width: 22em; font-size: .9em; }
.same-run { color: var(--muted); font-style: italic; }
table.cited td.mark { text-align: center; white-space: nowrap; }
.mark-added { background: var(--ins); }
.mark-dropped { background: var(--del); }
.not-archived { color: #a12622; }
.problems { background: #fff4f4; border: 1px solid #f1c0c0; border-radius: 6px; padding: 8px 16px; }
details { margin: 8px 0; }
summary { cursor: pointer; font-weight: 600; }
.sbs { display: grid; grid-template-columns: 1fr 1fr; border: 1px solid var(--line); }
.sbs > div { padding: 6px 10px; border-bottom: 1px solid var(--line); }
.sbs > div:nth-child(odd) { border-right: 1px solid var(--line); }
.sbs .head { font-weight: 600; background: #f4f6f8; }
.sbs .changed { background: #fffdf3; }
ins { background: var(--ins); text-decoration: none; }
del { background: var(--del); }
"""
KEPT_ENDS: Final = 2
"""Sentences shown at each end of a long identical run."""
_CONTROL_OR_SPACE: Final = frozenset(chr(code) for code in (*range(0, 33), 127))


def _e(value: object) -> str:
    """Escaped text, safe in element content and in quoted attribute values."""
    return html.escape("" if value is None else str(value), quote=True)


def safe_href(url: str | None) -> str | None:
    """The escaped ``href`` for an ``http(s)`` URL; None for any other scheme or a malformed URL."""
    if not url or any(ch in _CONTROL_OR_SPACE for ch in url):
        return None
    if not url.lower().startswith(("http://", "https://")) or len(url) <= len("https://"):
        return None
    return _e(url)


def _link(url: str | None, label: str | None = None) -> str:
    text = _e(label if label is not None else url)
    href = safe_href(url)
    if href is None:
        return f'<span class="url">{text}</span>'
    return f'<a class="url" href="{href}" rel="noopener noreferrer nofollow">{text}</a>'


def _ratio(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _date(value: str | None) -> str:
    return _e((value or "")[:16].replace("T", " "))


def _role(role: str) -> str:
    return f'<span class="role role-{_e(role)}">{_e(role)}</span>'


def _totals(report: Report) -> str:
    totals = report.totals
    figures = [
        ("pages read", totals.pages_read),
        ("pages set aside (no article)", sum(totals.set_aside.values())),
        ("articles", totals.articles),
        ("compared", totals.indexed),
        ("clusters", totals.clusters),
        ("copies", totals.copies),
        ("excerpts", totals.excerpts),
        ("related", totals.related),
        ("clusters shown", totals.clusters_shown),
    ]
    cells = "".join(f"<div><b>{_e(value)}</b>{_e(label)}</div>" for label, value in figures if value is not None)
    return f'<section class="totals">{cells}</section>'


RATES_LEGEND: Final = (
    "Syndication rate: the share of a site's articles that are the original of a cluster, i.e. "
    "republished elsewhere. Copy share: the share of its articles that are copies or excerpts of "
    "another page's original."
)
IDS_LEGEND: Final = (
    "#N is a page's number in the near-duplicate index this report was made from; each cluster's "
    "table gives every member's number."
)


def _links_note(report: Report) -> str:
    """How the page links: to the archived captures (and how to serve them), or to the live pages."""
    replay = any(member.replay_url for cluster in report.clusters for member in cluster.members)
    ids = f'<p class="legend">{_e(IDS_LEGEND)}</p>'
    if not replay:
        return f'<p class="legend">Links lead to the live pages (they may have changed or gone).</p>{ids}'
    return (
        '<p class="legend">Titles open each page as archived: serve the archive with '
        "<code>portal-archive replay DIR</code> (its default address is the one linked); "
        f"<code>--live-links</code> links the live pages instead.</p>{ids}"
    )


def _sites(report: Report) -> str:
    if not report.sites:
        return ""
    rows = "".join(
        "<tr>"
        f"<td>{_e(s.site)}</td><td>{_e(s.domain)}</td><td class=num>{s.articles}</td>"
        f"<td class=num>{s.originals}</td><td class=num>{s.copies}</td>"
        f"<td class=num>{s.syndication_rate:.1%}</td><td class=num>{s.copy_rate:.1%}</td>"
        "</tr>"
        for s in report.sites
    )
    return (
        "<section><h2>Sites</h2><table><thead><tr><th>site</th><th>domain</th><th>articles</th>"
        "<th>originals republished</th><th>copies &amp; excerpts</th><th>syndication rate</th>"
        f"<th>copy share</th></tr></thead><tbody>{rows}</tbody></table>"
        f'<p class="legend">{_e(RATES_LEGEND)}</p></section>'
    )


def _problems(report: Report) -> str:
    if not report.problems:
        return ""
    items = "".join(f"<li>{_e(problem)}</li>" for problem in report.problems)
    return f'<section class="problems"><h2>Inputs that could not be read</h2><ul>{items}</ul></section>'


def _member_row(member: MemberReport) -> str:
    where = ""
    if member.warc is not None:
        name = member.warc.filename.replace("\\", "/").rsplit("/", 1)[-1]
        # A file name may break anywhere; an offset never (it would read as two numbers).
        offset = f' <span class="nowrap">@ {member.warc.offset}</span>' if member.warc.offset is not None else ""
        where = f'<span title="{_e(member.warc.filename)}">{_e(name)}</span>{offset}'
    # The original's evidence is the cluster's, listed above the table.
    evidence = "" if member.role == "original" else "<br>".join(_e(line) for line in member.evidence)
    if member.replay_url:  # the page as archived first: the live page may be gone or changed
        page = f"{_link(member.replay_url, member.title or member.url)}<br>{_link(member.url, 'live: ' + member.url)}"
    else:
        page = f"{_e(member.title)}<br>{_link(member.url)}"
    return (
        "<tr>"
        f'<td>{_role(member.role)} <span class="doc-id">#{member.id}</span></td><td>{_e(member.site)}</td>'
        f'<td class="title">{page}</td>'
        f"<td class=num>{_ratio(member.jaccard)}</td><td class=num>{_ratio(member.containment)}</td>"
        f"<td>{_date(member.published_at)}</td><td>{_date(member.fetched_at)}</td>"
        f'<td class="where">{where}</td><td class="evidence muted">{evidence}</td>'
        "</tr>"
    )


def _segments(segments: Iterable[Segment]) -> str:
    parts = []
    for position, segment in enumerate(segments):
        if segment.opens_paragraph and position:
            parts.append("<br>")
        text = _e(segment.text)
        if segment.kind == "ins":
            parts.append(f"<ins>{text}</ins>")
        elif segment.kind == "del":
            parts.append(f"<del>{text}</del>")
        else:
            parts.append(text)
    return "".join(parts)


def _kept(segments: tuple[Segment, ...]) -> str:
    """A run of identical sentences, shortened to its ends when long: the changes are the point."""
    if len(segments) <= KEPT_ENDS * 2 + 1:
        return _segments(segments)
    hidden = len(segments) - KEPT_ENDS * 2
    marker = f'<br><span class="same-run">… {hidden} identical sentences …</span><br>'
    return _segments(segments[:KEPT_ENDS]) + marker + _segments(segments[-KEPT_ENDS:])


def _side_by_side(original: MemberReport, copy: MemberReport, rows: list[Row], *, open_: bool) -> str:
    cells = [
        f'<div class="head">Original · {_e(original.site)}</div>',
        f'<div class="head">{_e(copy.role.capitalize())} · {_e(copy.site)}</div>',
    ]
    for row in rows:
        if row.changed:
            cells.append(
                f'<div class="changed">{_segments(row.left)}</div><div class="changed">{_segments(row.right)}</div>'
            )
        else:
            cells.append(f"<div>{_kept(row.left)}</div><div>{_kept(row.right)}</div>")
    added = sum(len(s.text) for row in rows for s in row.right if s.kind == "ins")
    dropped = sum(len(s.text) for row in rows for s in row.left if s.kind == "del")
    summary = (
        f"{_e(copy.role)} on {_e(copy.site)}: {added} characters added, {dropped} dropped "
        f"(J={_ratio(copy.jaccard)}, containment={_ratio(copy.containment)})"
    )
    opened = " open" if open_ else ""
    return f'<details{opened}><summary>{summary}</summary><div class="sbs">{"".join(cells)}</div></details>'


def _diffs(cluster: ClusterReport) -> str:
    original = cluster.canonical
    if original.text is None:
        return ""
    parts = []
    for member in cluster.members[1:]:
        if member.text is None:
            parts.append(f'<p class="muted">No text archived for {_link(member.url)}.</p>')
            continue
        parts.append(_side_by_side(original, member, side_by_side(original.text, member.text), open_=not parts))
    return "".join(parts)


CITATION_MARKS: Final = {"": "cited", "added": "added", "dropped": "dropped", "original": "cites the original"}
"""A member's mark for a source: cited as the original does, added or dropped by a copy, or the
source is the cluster's original page itself."""


def _cited_sources(cluster: ClusterReport) -> str:
    """Sources (rows) by member (columns): who cites what, what a copy added or dropped, and where
    each source is archived; nothing when no member cites anything."""
    rows = cluster.cited_sources()
    if not rows:
        return ""
    heads = "".join(f"<th>{_role(member.role)}<br>{_e(member.site)}</th>" for member in cluster.members)
    body = []
    for source, marks in rows:
        state = source.capture_text
        css = "" if source.archived else ' class="not-archived"'
        replay = f" · {_link(source.replay_url, 'replay')}" if source.replay_url else ""
        cells = "".join(
            f'<td class="mark mark-{_e(mark or "cited")}">{_e(CITATION_MARKS.get(mark, mark))}</td>'
            if mark is not None
            else '<td class="mark"></td>'
            for mark in marks
        )
        body.append(f"<tr><td>{_link(source.url)}</td><td{css}>{_e(state)}{replay}</td>{cells}</tr>")
    changes = cluster.citation_changes
    summary = (
        f"copies dropped {changes['dropped']} and added {changes['added']} citation(s)"
        if changes["dropped"] or changes["added"]
        else "no copy dropped or added a citation"
    )
    return (
        f'<details class="cited" open><summary>Cited sources: {len(rows)} · {summary}</summary>'
        f'<table class="cited"><thead><tr><th>source</th><th>archived</th>{heads}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></details>"
    )


def _cluster(number: int, cluster: ClusterReport) -> str:
    canonical = cluster.canonical
    flags = f" · flags: {_e(', '.join(cluster.flags))}" if cluster.flags else ""
    # The engine joins the reasons of one step with "; ": one per line reads better.
    evidence = "".join(f"<li>{_e(part)}</li>" for line in cluster.evidence for part in line.split("; "))
    rows = "".join(_member_row(member) for member in cluster.members)
    return (
        f'<section class="cluster" id="cluster-{cluster.id}">'
        f'<h2><span class="muted">{number}.</span> {_e(canonical.title) or "(no title)"}</h2>'
        f'<p class="meta">Original: {_link(canonical.replay_url or canonical.url, canonical.url)} · '
        f"{_e(canonical.site)} · published "
        f"{_date(canonical.published_at) or 'unknown'} · {cluster.size} members · decided by "
        f"{_e(cluster.decided_by)}{flags}</p>"
        f'<ul class="evidence">{evidence}</ul>'
        "<table><thead><tr><th>role</th><th>site</th><th>title / URL</th><th>J</th><th>contain.</th>"
        "<th>published</th><th>fetched</th><th>archived in</th><th>evidence</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>{_cited_sources(cluster)}{_diffs(cluster)}</section>"
    )


def render_html(report: Report, out: TextIO) -> None:
    """Write the page."""
    filters = ", ".join(f"{key} {value}" for key, value in report.filters.items() if value)
    out.write(
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_e(CSP)}">'
        '<meta name="referrer" content="no-referrer">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Near-duplicate report</title><style>{STYLE}</style></head><body>"
        "<header><h1>Near-duplicate report</h1>"
        f'<p class="muted">{_e(report.producer)} · generated {_e(report.generated_at)} · from {_e(report.source)}'
        f"{' · ' + _e(filters) if filters else ''}</p></header>"
    )
    out.write(_totals(report))
    out.write(_links_note(report))
    out.write(_problems(report))
    out.write(_sites(report))
    out.write("<main>")
    for number, cluster in enumerate(report.clusters, start=1):
        out.write(_cluster(number, cluster))
    if not report.clusters:
        out.write('<p class="muted">No clusters.</p>')
    out.write("</main></body></html>\n")

"""The near-duplicate report: which archived articles are copies of which, why, and where they are.

Inputs are WARC files (read through ``portal_archive.archive.sources``: our article metadata
records, or any page assembled again) or a crawl's near-duplicate index; ``build`` runs the engine
and assembles the ``model``; ``render_table``, ``render_json``, ``render_csv`` and ``render_html``
(with ``diff`` and ``texts`` for the side-by-side view) write it. The command is
``portal-archive dedup-report`` (``portal_archive.cli.report``); the JSON schema is documented in
``docs/report-json.md``.
"""

from __future__ import annotations

"""The report as JSON, schema ``portal-archive/dedup-report/1`` (``docs/report-json.md``)."""

from __future__ import annotations

import json
from typing import TextIO

from portal_archive.report.model import Report

__all__ = ["render_json"]


def render_json(report: Report, out: TextIO) -> None:
    """Write the report's JSON form: UTF-8 friendly (Chinese stays readable), two-space indent."""
    json.dump(report.to_dict(), out, ensure_ascii=False, indent=2)
    out.write("\n")

"""``RENDER_*`` settings, parsed once into a frozen value object (defaults: ``portal_archive.settings``).

A browser is the crawl's most expensive fetch (bench/crawl.py: 2.7 pages per CPU-second against
about 150 for a plain page) and the one a fresh machine may not have: ``RENDER_ENABLED = False``
keeps every request off Chromium. Pages whose body neither the HTML nor the portal's article API
gives then come out without a body, saying why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self

from scrapy.settings import BaseSettings

from portal_archive import settings as project
from portal_archive.config import read_bool


@dataclass(frozen=True, kw_only=True)
class RenderConfig:
    """Whether pages may be rendered in a browser."""

    enabled: bool = project.RENDER_ENABLED

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> Self:
        """Read the ``RENDER_*`` family; a value that is not a boolean names the key."""
        return cls(enabled=read_bool(settings, "RENDER_ENABLED", cls.enabled))

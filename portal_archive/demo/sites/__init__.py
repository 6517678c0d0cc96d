"""Renderers of the demo sites (three portals, two cited sites); each turns the planned world into
routes and manifest entries."""

from __future__ import annotations

from .bendi import build_bendi_site
from .cited import CITED_SITES, build_cited_sites
from .common import SiteBuild
from .infoq import build_infoq_site
from .wechat import build_wechat_site

__all__ = ["CITED_SITES", "SiteBuild", "build_bendi_site", "build_cited_sites", "build_infoq_site", "build_wechat_site"]

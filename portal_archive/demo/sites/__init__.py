"""Renderers of the three demo sites; each turns the planned world into routes and manifest entries."""

from __future__ import annotations

from .bendi import build_bendi_site
from .common import SiteBuild
from .infoq import build_infoq_site
from .wechat import build_wechat_site

__all__ = ["SiteBuild", "build_bendi_site", "build_infoq_site", "build_wechat_site"]

"""The installed packages are this repository's, not PyPI's unrelated ``spiders``/``pipelines``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import PROJECT_ROOT


def test_top_level_packages_resolve_inside_the_repository() -> None:
    code = "import spiders, pipelines, portal_archive as p; print(spiders.__file__, pipelines.__file__, p.__file__)"
    # A fresh interpreter from another directory: what `scrapy crawl` and the console script see.
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/", check=True)
    for path in result.stdout.split():
        assert Path(path).resolve().is_relative_to(PROJECT_ROOT), path


def test_console_script_runs() -> None:
    script = Path(sys.executable).parent / "portal-archive"
    result = subprocess.run([str(script), "--version"], capture_output=True, text=True, check=True)
    assert result.stdout.startswith("portal-archive ")


def test_scrapy_list_names_the_portal_spiders() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "list"], capture_output=True, text=True, cwd=PROJECT_ROOT, check=True
    )
    assert {"bendi", "infoq", "wechat"} <= set(result.stdout.split())

"""One catalogue of settings: every setting the code reads is in ``portal_archive.settings`` with its
default, the config objects take their defaults from there, and the README documents exactly those.

The reads are found in the source (``settings.get*("NAME")``, ``settings["NAME"]``, ``read_*(settings,
"NAME", …)``, ``renamed_setting(settings, "NAME", "OLD_NAME")``), so a setting added to the code but
not to the catalogue, or documented but gone, fails here.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import re
from collections.abc import Iterator
from typing import Any

import pytest
from scrapy.settings import Settings

from portal_archive import settings as project
from tests.conftest import PROJECT_ROOT

SOURCES = ("portal_archive", "spiders", "pipelines")
GETTERS = frozenset(
    {"get", "getbool", "getint", "getfloat", "getlist", "getdict", "getdictorlist", "getwithbase", "getpriority"}
)
READERS = frozenset({"read_bool", "read_int", "read_float"})
SETTING_NAME = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$")
LEFT_TO_THE_DISTRIBUTED_ADDON = frozenset({"SCHEDULER_QUEUE_CLASS", "DUPEFILTER_CLASS"})
"""Set by ``DistributedAddon`` at add-on priority, which a value in the settings module would beat."""
RENAMED = {"WARC_CDXJ_ENABLED": "CDXJ_ENABLED", "WARC_METADATA_ENABLED": "ARCHIVE_METADATA_ENABLED"}
README = PROJECT_ROOT / "README.md"


def _is_settings(node: ast.expr) -> bool:
    """``settings``, ``crawler.settings``, ``self.settings``, ``get_project_settings()``…"""
    if isinstance(node, ast.Name):
        return node.id == "settings"
    if isinstance(node, ast.Attribute):
        return node.attr == "settings"
    if isinstance(node, ast.Call):
        return isinstance(node.func, ast.Name) and node.func.id == "get_project_settings"
    return False


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and SETTING_NAME.match(node.value):
        return node.value
    return None


def _reads_in(tree: ast.AST) -> Iterator[tuple[str, str]]:
    """(setting, how) for every read of a named setting in one module."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in GETTERS and _is_settings(func.value):
                if name := _name(node.args[0]):
                    yield name, func.attr
            elif isinstance(func, ast.Name) and func.id in READERS | {"renamed_setting"} and len(node.args) >= 2:
                for argument in node.args[1:] if func.id == "renamed_setting" else node.args[1:2]:
                    if name := _name(argument):
                        yield name, func.id
        elif isinstance(node, ast.Subscript) and _is_settings(node.value) and (name := _name(node.slice)):
            yield name, "[]"


@functools.cache
def settings_read_by_the_code() -> dict[str, set[str]]:
    """Setting → the files that read it."""
    found: dict[str, set[str]] = {}
    for package in SOURCES:
        for path in sorted((PROJECT_ROOT / package).rglob("*.py")):
            relative = str(path.relative_to(PROJECT_ROOT))
            if relative == "portal_archive/settings.py":
                continue
            for name, _ in _reads_in(ast.parse(path.read_text(encoding="utf-8"))):
                found.setdefault(name, set()).add(relative)
    # DedupConfig reads its numeric family in loops: each field is DEDUP_<FIELD> (its docstring).
    from portal_archive.dedup.config import DedupConfig

    for field in dataclasses.fields(DedupConfig):
        if field.name != "index_url_setting":
            found.setdefault(f"DEDUP_{field.name.upper()}", set()).add("portal_archive/dedup/config.py")
    return found


def catalogue() -> dict[str, Any]:
    """What Scrapy takes from the settings module: its upper-case names."""
    return {name: getattr(project, name) for name in dir(project) if name.isupper()}


def readme_tables() -> list[tuple[str, list[list[str]]]]:
    """(section heading, rows of cells) of every Markdown table row whose first cell is a setting."""
    section = ""
    rows: list[tuple[str, list[str]]] = []
    for line in README.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
        elif line.startswith("| `"):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if SETTING_NAME.match(cells[0].strip("`")):
                rows.append((section, cells))
    by_section: dict[str, list[list[str]]] = {}
    for heading, cells in rows:
        by_section.setdefault(heading, []).append(cells)
    return list(by_section.items())


def documented() -> dict[str, list[str]]:
    """Setting → its row in the README's "Settings" section."""
    return {
        cells[0].strip("`"): cells for heading, table in readme_tables() if heading == "Settings" for cells in table
    }


# -- the catalogue ---------------------------------------------------------------------------------


def test_the_scan_finds_reads_of_every_kind() -> None:
    read = settings_read_by_the_code()
    for name in ("WARC_ENABLED", "FETCH_GUARD_ENABLED", "DOWNLOAD_MAXSIZE", "DATES_NOW", "DEDUP_NUM_PERM"):
        assert name in read, name
    assert "portal_archive/crawl/spider.py" in read["DATES_NOW"]
    assert set(RENAMED) <= set(read) and set(RENAMED.values()) <= set(read)


def test_every_setting_the_code_reads_is_in_the_settings_module() -> None:
    read = settings_read_by_the_code()
    expected_elsewhere = LEFT_TO_THE_DISTRIBUTED_ADDON | set(RENAMED)
    missing = {name: sorted(files) for name, files in read.items() if name not in catalogue()}
    assert set(missing) == expected_elsewhere, missing


def test_renamed_settings_are_gone_from_the_settings_module() -> None:
    for old, new in RENAMED.items():
        assert old not in catalogue()
        assert catalogue()[new] is True


def test_importing_the_settings_module_changes_nothing() -> None:
    """No code runs at import: the public-suffix switch is an add-on (``OfflineAddon``)."""
    source = (PROJECT_ROOT / "portal_archive" / "settings.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    calls = {
        ast.unparse(node.func)
        for statement in tree.body
        if not isinstance(statement, ast.Import | ast.ImportFrom)
        for node in ast.walk(statement)
        if isinstance(node, ast.Call)
    }
    assert calls <= {"os.environ.get"}, calls
    imports = {
        alias.name if isinstance(node, ast.Import) else f"{node.module}.{alias.name}"
        for node in tree.body
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert imports == {"__future__.annotations", "os", "portal_archive.__version__"}, imports
    assert catalogue()["ADDONS"]["portal_archive.crawl.offline.OfflineAddon"] is not None


# -- config objects take their defaults from the catalogue ------------------------------------------


def _project_settings() -> Settings:
    settings = Settings()
    settings.setmodule(project, priority="project")
    return settings


def configs() -> list[Any]:
    from pipelines.archive import ArchiveMetadataConfig
    from portal_archive.archive.extension import CdxjIndexConfig
    from portal_archive.capture.config import WarcConfig
    from portal_archive.capture.recover import RecoverConfig
    from portal_archive.crawl.faults import FetchFaultsConfig
    from portal_archive.crawl.fetchguard import FetchGuardConfig
    from portal_archive.crawl.incremental import IncrementalConfig
    from portal_archive.crawl.politeness import CrawlDelayConfig
    from portal_archive.crawl.redirects import RedirectGuardConfig
    from portal_archive.crawl.retryafter import RetryAfterConfig
    from portal_archive.crawl.runstats import RunStatsConfig
    from portal_archive.dedup.config import DedupConfig
    from portal_archive.distributed.config import DistributedConfig

    return [
        ArchiveMetadataConfig,
        CdxjIndexConfig,
        CrawlDelayConfig,
        DedupConfig,
        DistributedConfig,
        FetchFaultsConfig,
        FetchGuardConfig,
        IncrementalConfig,
        RecoverConfig,
        RedirectGuardConfig,
        RetryAfterConfig,
        RunStatsConfig,
        WarcConfig,
    ]


def _comparable(config: Any) -> Any:
    """The config with what is not a default set aside: a worker's id (computed per process), which
    setting the dedup index URL came from (named in messages)."""
    if hasattr(config, "worker_id"):
        return dataclasses.replace(config, worker_id="")
    if hasattr(config, "index_url_setting"):
        return dataclasses.replace(config, index_url_setting="")
    return config


@pytest.mark.parametrize("config", configs(), ids=lambda config: config.__name__)
def test_a_config_built_from_the_project_settings_equals_its_defaults(config: Any) -> None:
    parsed = config.from_settings(_project_settings())
    assert dataclasses.is_dataclass(parsed) and type(parsed).__dataclass_params__.frozen  # type: ignore[attr-defined]
    assert _comparable(parsed) == _comparable(config())


SCRAPY_OWNED = {"CrawlDelayConfig", "FetchGuardConfig"}
"""Configs mirroring a Scrapy setting whose project value differs from Scrapy's (ROBOTSTXT_OBEY, DOWNLOAD_MAXSIZE)."""


@pytest.mark.parametrize(
    "config", [c for c in configs() if c.__name__ not in SCRAPY_OWNED], ids=lambda config: config.__name__
)
def test_a_config_built_from_bare_scrapy_settings_still_gets_the_project_defaults(config: Any) -> None:
    assert _comparable(config.from_settings(Settings())) == _comparable(config())


# -- the README -------------------------------------------------------------------------------------


def test_the_readme_documents_settings_in_one_section() -> None:
    sections = [heading for heading, _ in readme_tables()]
    assert sections == ["Settings"], sections


def test_every_setting_in_the_readme_exists_in_the_settings_module() -> None:
    named = {cells[0].strip("`") for _, table in readme_tables() for cells in table}
    assert named, "no settings table found in the README"
    assert named - set(catalogue()) == set()


def test_every_setting_the_project_reads_is_documented_in_the_readme() -> None:
    undocumented = (set(settings_read_by_the_code()) & set(catalogue())) - set(documented())
    assert undocumented == set()


def test_documented_defaults_are_the_settings_module_values() -> None:
    """A default cell that is one Python literal (``True``, ``"archive"``, ``60.0``) must equal the value."""
    compared = 0
    for name, cells in documented().items():
        default = cells[1]
        if not (default.startswith("`") and default.endswith("`") and default.count("`") == 2):
            continue
        try:
            value = ast.literal_eval(default.strip("`"))
        except (ValueError, SyntaxError):
            continue
        assert value == catalogue()[name], f"README says {name} = {default}, settings.py {catalogue()[name]!r}"
        compared += 1
    assert compared >= 40


def test_each_setting_is_documented_once() -> None:
    rows = [cells[0] for heading, table in readme_tables() if heading == "Settings" for cells in table]
    assert len(rows) == len(set(rows))


def test_every_setting_in_the_settings_module_has_a_comment() -> None:
    """A one-line comment on its line, or a comment block just above it (or above its group)."""
    lines = (PROJECT_ROOT / "portal_archive" / "settings.py").read_text(encoding="utf-8").splitlines()
    tree = ast.parse("\n".join(lines))
    uncommented = []
    for statement in tree.body:
        targets = statement.targets if isinstance(statement, ast.Assign) else []
        if isinstance(statement, ast.AnnAssign):
            targets = [statement.target]
        names = [target.id for target in targets if isinstance(target, ast.Name) and target.id.isupper()]
        if not names or names[0] not in settings_read_by_the_code():
            continue
        line = lines[statement.lineno - 1]
        above = lines[statement.lineno - 2] if statement.lineno > 1 else ""
        if "#" not in line and not above.lstrip().startswith("#"):
            uncommented.append(names[0])
    assert uncommented == []

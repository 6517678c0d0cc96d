"""The package layout holds: stages import only the stages below them, and no module imports itself back.

Read from the source (``ast``), so a lazy import inside a function counts as much as one at the top.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = ROOT / "portal_archive"
LAYERS: tuple[tuple[str, ...], ...] = (
    ("cli",),
    ("demo",),
    ("distributed",),
    ("report", "replay"),
    ("crawl",),
    ("archive",),
    ("capture",),
    ("extract",),
    ("dedup",),
    ("warc",),
    ("profiles",),
)
"""Top to bottom: a package may import the packages of later rows, never of its own row or earlier
ones (``report`` and ``replay`` share a row: neither imports the other). The loose modules
(``settings``, ``config``, ``items``, ``timestamps``, ``urls``) sit below every package."""
LOOSE_MODULES = frozenset({"__init__", "settings", "config", "items", "timestamps", "urls"})
READ_SIDE = ("archive", "report", "replay")


def _modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(LIBRARY.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path


def _imports(path: Path, module: str) -> set[str]:
    """Every module ``path`` imports, absolute names (relative imports resolved)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


GRAPH = {module: _imports(path, module) for module, path in _modules()}


PACKAGES = frozenset(path.parent.name for path in LIBRARY.glob("*/__init__.py"))


def _package_of(name: str) -> str | None:
    """The stage package a module (or a name imported from one) belongs to; None for the loose modules."""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in PACKAGES else None


def _rank(package: str) -> int:
    return next(i for i, row in enumerate(LAYERS) if package in row)


def test_every_package_has_a_place_in_the_layers() -> None:
    assert {package for row in LAYERS for package in row} == PACKAGES


def test_at_most_six_modules_stand_loose() -> None:
    loose = {path.stem for path in LIBRARY.glob("*.py")}
    assert loose == LOOSE_MODULES
    assert len(loose) <= 6


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_stages_import_only_the_stages_below(module: str) -> None:
    package = _package_of(module)
    below = {other for row in LAYERS[_rank(package) + 1 :] for other in row} if package is not None else set()
    wrong = sorted(
        name
        for name in GRAPH[module]
        if name.startswith("portal_archive.")
        and (target := _package_of(name)) is not None
        and target != package
        and target not in below
    )
    assert wrong == [], f"{module} imports {wrong}"


@pytest.mark.parametrize("module", sorted(m for m in GRAPH if _package_of(m) in READ_SIDE))
def test_the_read_side_never_imports_the_crawler(module: str) -> None:
    crawler = sorted(
        name
        for name in GRAPH[module]
        if name.split(".")[0] in ("spiders", "pipelines") or name.startswith("portal_archive.crawl")
    )
    assert crawler == [], f"{module} imports {crawler}"


def test_no_import_cycle() -> None:
    edges = {
        module: sorted(name for name in names if name in GRAPH and name != module) for module, names in GRAPH.items()
    }
    done: set[str] = set()

    def cycle_from(module: str, trail: list[str]) -> list[str]:
        for name in edges[module]:
            if name in trail:
                return [*trail[trail.index(name) :], name]
            if name not in done:
                found = cycle_from(name, [*trail, name])
                if found:
                    return found
        done.add(module)
        return []

    cycles = [found for module in sorted(edges) if module not in done and (found := cycle_from(module, [module]))]
    assert cycles == []


def test_tests_are_laid_out_like_the_library() -> None:
    folders = {path.parent.name for path in (ROOT / "tests").glob("*/test_*.py")}
    assert folders and folders <= PACKAGES, sorted(folders - PACKAGES)

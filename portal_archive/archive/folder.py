"""An archive folder: the finished WARC files in it, and paths that must stay inside it."""

from __future__ import annotations

from pathlib import Path

WARC_SUFFIXES = (".warc.gz", ".warc")


class ArchiveFolderError(ValueError):
    """The folder cannot be used as an archive (missing, not a folder, no WARC files, bad path)."""


def is_finished_warc(path: Path) -> bool:
    """A closed WARC file: ``.open`` files are still being written and are never read."""
    return path.is_file() and path.name.endswith(WARC_SUFFIXES) and not path.name.startswith(".")


def warc_files(directory: Path) -> list[Path]:
    """The finished WARC files directly in ``directory``, in name order (crawls write flat folders)."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if is_finished_warc(p))


def require_archive(directory: Path) -> list[Path]:
    """The folder's WARC files, or ``ArchiveFolderError`` saying what is wrong and what to do."""
    if not directory.exists():
        raise ArchiveFolderError(f"{directory}: no such folder")
    if not directory.is_dir():
        raise ArchiveFolderError(f"{directory}: not a folder (give the folder that holds the WARC files)")
    found = warc_files(directory)
    if not found:
        unfinished = sorted(p.name for p in directory.glob("*.open"))
        hint = f" ({len(unfinished)} unfinished .open file(s): is a crawl still running?)" if unfinished else ""
        raise ArchiveFolderError(f"{directory}: no WARC files (*.warc.gz, *.warc){hint}")
    return found


def inside(directory: Path, relative: str | Path) -> Path:
    """``directory / relative``, refusing absolute paths and ``..`` that would leave ``directory``."""
    candidate = Path(relative)
    if candidate.is_absolute():
        raise ArchiveFolderError(f"{relative}: must be a path relative to {directory}")
    root = directory.resolve()
    resolved = (root / candidate).resolve()
    if not resolved.is_relative_to(root):
        raise ArchiveFolderError(f"{relative}: leaves {directory}")
    return resolved

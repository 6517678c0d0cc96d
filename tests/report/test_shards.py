"""``dedup-index``: shards of a collection indexed into one shared index (machines at once), and the
report of the whole equal to the report of all the files read in one process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from portal_archive.cli import main
from tests.report.test_inputs import (
    COPY_URL,
    ORIGINAL_URL,
    OTHER_URL,
    clusters_of,
    news_pages,
    response,
    warcinfo,
    write_warc,
)

BIN = Path(sys.executable).parent
DB = 44  # a logical database of its own (the killed-worker crawl test uses 11)


def shards(folder: Path) -> list[Path]:
    """The world of ``test_inputs`` in two files, as two crawls (or two machines) wrote it: the
    original and an unrelated page in one, the copy in the other."""
    pages = news_pages()
    first = write_warc(
        folder / "a.warc.gz",
        [warcinfo("heritrix/3.4.0"), response(ORIGINAL_URL, pages.original(), "2024-03-03T00:00:00Z"),
         response(OTHER_URL, pages.other(), "2024-03-03T00:00:05Z")],
    )  # fmt: skip
    second = write_warc(
        folder / "b.warc.gz", [warcinfo("Wget/1.21.3"), response(COPY_URL, pages.copy(), "2024-03-03T00:00:02Z")]
    )
    return [first, second]


def report_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main(["dedup-report", *args, "--format", "json", "--no-progress"]) == 0
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


def test_shards_indexed_at_once_report_as_one_collection(
    redis_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = shards(tmp_path)
    with redis_server.empty_db(DB):
        url = redis_server.url_for(DB)
        machines = [
            subprocess.Popen(
                [str(BIN / "portal-archive"), "dedup-index", str(shard), "--index", url, "--no-progress"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for shard in (first, second)
        ]
        outputs = [machine.communicate(timeout=120) for machine in machines]
        assert [machine.returncode for machine in machines] == [0, 0], outputs
        assert "2 articles: 2 indexed" in outputs[0][1] and "1 articles: 1 indexed" in outputs[1][1]
        whole = report_json(capsys, "--index", url)
    one_process = report_json(capsys, str(first), str(second), "--from", "warc")
    assert (
        clusters_of(whole) == clusters_of(one_process) == {ORIGINAL_URL: {ORIGINAL_URL: "original", COPY_URL: "copy"}}
    )
    assert whole["totals"]["articles"] == one_process["totals"]["indexed"] == 3


def test_a_shard_into_a_sqlite_index_and_its_problems(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first, second = shards(tmp_path)
    index = tmp_path / "dedup.sqlite"
    assert main(["dedup-index", str(first), "--index", str(index), "--no-progress"]) == 0
    assert main(["dedup-index", str(second), str(first), "--index", str(index), "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert "3 articles: 1 indexed (1 copies, 0 excerpts when added), 2 already indexed" in err
    assert clusters_of(report_json(capsys, "--index", str(index))) == {
        ORIGINAL_URL: {ORIGINAL_URL: "original", COPY_URL: "copy"}
    }
    broken = tmp_path / "broken.warc.gz"
    broken.write_bytes(first.read_bytes()[:-40])
    assert main(["dedup-index", str(broken), "--index", str(index), "--no-progress"]) == 1
    assert "broken.warc.gz: truncated" in capsys.readouterr().err
    assert main(["dedup-index", str(tmp_path / "missing.warc"), "--index", str(index)]) == 2
    assert "no such file or folder" in capsys.readouterr().err


def test_jobs_extract_elsewhere_with_the_same_outcome_and_bad_counts_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from portal_archive.cli.report import extraction_jobs

    first, second = shards(tmp_path)
    for jobs in ("1", "2"):
        index = tmp_path / f"jobs-{jobs}.sqlite"
        assert (
            main(["dedup-index", str(first), str(second), "--index", str(index), "--no-progress", "--jobs", jobs]) == 0
        )
        assert "3 articles: 3 indexed (1 copies, 0 excerpts when added)" in capsys.readouterr().err
        assert clusters_of(report_json(capsys, "--index", str(index))) == {
            ORIGINAL_URL: {ORIGINAL_URL: "original", COPY_URL: "copy"}
        }
    for bad in ("0", "two"):
        with pytest.raises(SystemExit) as exited:
            main(["dedup-report", str(first), "--jobs", bad])
        assert exited.value.code == 2
        assert "--jobs" in capsys.readouterr().err
    assert extraction_jobs(3, 10) == 3
    assert extraction_jobs(None, 1 << 20) == 1  # starting processes would cost more than they save
    assert extraction_jobs(None, 1 << 30) >= 1

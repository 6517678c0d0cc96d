"""The README's walk-through ("A first hour with the demo") runs as written and prints what it says.

Every command of the block is run in order, in a folder of its own, with ``.venv/bin/`` the
project's and the demo's ports 8101-8105 (and replay's 8080) moved to free ones; the ``#   `` lines
under a command are what it must print (``…`` ends a line's checked part, ``<pid>`` is a number).
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT
from tests.demo.test_demo_command import free_port_base

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
HEADING = "### A first hour with the demo"


def walkthrough() -> list[tuple[str, list[str]]]:
    """The block's commands (continuation lines joined), each with the output lines it shows."""
    text = (PROJECT_ROOT / "README.md").read_text("utf-8")
    block = text[text.index(HEADING) :].split("```sh\n", 1)[1].split("```", 1)[0]
    steps: list[tuple[str, list[str]]] = []
    pending = ""
    for line in block.splitlines():
        if line.startswith("#   "):
            steps[-1][1].append(line[4:])
        elif line.endswith("\\"):
            pending += line[:-1]
        else:
            steps.append(((pending + line).strip(), []))
            pending = ""
    return steps


def shown(expected: str, printed: list[str]) -> bool:
    """Whether a line the README shows is among the lines printed (``…``: the rest is not checked)."""
    pattern = re.escape(expected.strip().split("…", 1)[0].strip()).replace(re.escape("<pid>"), r"\d+")
    return any(re.match(pattern, line.strip()) for line in printed)


def test_the_walkthrough_runs_as_written(tmp_path: Path) -> None:
    steps = walkthrough()
    assert [command.split()[0] for command, _ in steps] == [
        ".venv/bin/portal-archive", ".venv/bin/portal-archive", "kill", ".venv/bin/portal-archive",
        ".venv/bin/portal-archive", ".venv/bin/portal-archive",
    ]  # fmt: skip
    base, replay_port = free_port_base(), free_port_base()
    ports = {str(8101 + n): str(base + n) for n in range(5)} | {"8080": str(replay_port)}

    def local(command: str) -> str:
        command = command.split("  #", 1)[0].replace(".venv/bin/", f"{BIN}/")
        return re.sub(r"(?<=127\.0\.0\.1:)(\d+)", lambda m: ports.get(m.group(1), m.group(1)), command)

    serving: subprocess.Popen[str] | None = None
    try:
        for command, expected in steps:
            words = shlex.split(local(command))
            if command.endswith("&") or words[-1] == "&":
                words = [w for w in words if w != "&"] + ["--port-base", str(base)]
                serving = subprocess.Popen(
                    words, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                    start_new_session=True,
                )  # fmt: skip
                assert serving.stdout is not None
                printed = [serving.stdout.readline() for _ in range(5)]
            elif words[0] == "kill":
                assert serving is not None and serving.stdout is not None
                os.kill(serving.pid, signal.SIGUSR1)
                printed = [serving.stdout.readline()]
            elif words[1] == "replay":
                replay = subprocess.Popen(
                    [*words, "--port", str(replay_port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                    text=True, cwd=tmp_path, start_new_session=True,
                )  # fmt: skip
                assert replay.stdout is not None
                printed = [replay.stdout.readline()]
                os.killpg(replay.pid, signal.SIGTERM)
                replay.wait(timeout=30)
            else:
                done = subprocess.run(words, capture_output=True, text=True, cwd=tmp_path, timeout=300, check=False)
                assert done.returncode == 0, (command, done.stderr[-3000:])
                printed = (done.stdout + done.stderr).splitlines()
            for line in expected:
                local_line = local(line).replace(f"{BIN}/", "")
                assert shown(local_line, printed), (command, line, printed)
    finally:
        if serving is not None:
            os.killpg(serving.pid, signal.SIGTERM)
            serving.wait(timeout=30)
    assert (tmp_path / "report.html").is_file() and (tmp_path / "archive" / "dedup.sqlite").is_file()

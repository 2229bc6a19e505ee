"""`make run` in a subprocess, as a newcomer starts it: its own session (as a terminal's foreground
job), a fresh SQLite database and var/ folder in a temporary directory, a free port.

Ctrl-C is a SIGINT to the whole foreground process group, which is what `stop` sends.
"""

import contextlib
import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from tests.processes import free_port, http_status, wait_until
from tests.requirements import require_program

ROOT = Path(__file__).resolve().parents[2]
PORTS = range(21300, 21400)
READY_SECONDS = 180
# The lines `make run` prints once every process is up.
READY_LINES = (" ready.", "beat: Starting...", "Listening at: ")


def environment(*, tmp: Path, port: int, **extra) -> dict:
    """The test process's environment minus what pytest sets for itself (eager Celery) and what an
    outer `make test` passes down (its jobserver), plus a database and var/ of the test's own."""
    dropped = {"CELERY_TASK_ALWAYS_EAGER", "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {key: value for key, value in os.environ.items() if key not in dropped}
    return env | {
        "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",
        "VAR_DIR": str(tmp / "var"),
        "PORT": str(port),
        **{key: str(value) for key, value in extra.items()},
    }


def git_status() -> str | None:
    if not shutil.which("git") or not (ROOT / ".git").exists():
        return None
    result = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    return result.stdout if result.returncode == 0 else None


class MakeRun:
    def __init__(self, *, tmp: Path, **extra_environment):
        require_program("make", "apt-get install make")
        self.tmp = tmp
        self.port = free_port(PORTS)
        if self.port is None:
            pytest.skip(f"no free port in {PORTS.start}-{PORTS.stop - 1}")
        self.env = environment(tmp=tmp, port=self.port, **extra_environment)
        self.log = tmp / "make-run.log"
        self.process = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "MakeRun":
        with open(self.log, "wb") as log:
            # `-o venv`: the suite runs in an installed virtualenv; installing is not under test here.
            self.process = subprocess.Popen(
                ["make", "--no-print-directory", "-o", "venv", "run", f"PORT={self.port}"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        if not wait_until(self._ready, process=self.process, seconds=READY_SECONDS, interval=0.5):
            self.kill()
            pytest.fail(f"`make run` did not come up:\n{self.output()[-6000:]}")
        return self

    def _ready(self) -> bool:
        text = self.output()
        if not all(line in text for line in READY_LINES) or text.count(" ready.") < 2:
            return False
        return http_status(f"{self.url}/api/v1/schema/", timeout=5) == 200

    def wait_for(self, text: str, *, timeout: float = 120) -> None:
        if not wait_until(lambda: text in self.output(), process=self.process, seconds=timeout, interval=0.5):
            pytest.fail(f"no {text!r} in the output of `make run`:\n{self.output()[-6000:]}")

    def ctrl_c(self, *, timeout: float = 90) -> int:
        """SIGINT to the foreground process group (make and honcho), as a terminal sends it."""
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"`make run` did not stop within {timeout} s of Ctrl-C:\n{self.output()[-6000:]}")

    def kill(self) -> None:
        """Last resort of a failing test: SIGKILL to make and everything it started."""
        if self.process is None:
            return
        for pid in [*_descendants(self.process.pid), self.process.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def _descendants(root: int) -> list[int]:
    """Children first found, grandchildren after (honcho starts each process in a session of its own)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                # The field after the parenthesised command name is the state, then the parent's pid.
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [], [root]
    while frontier:
        children = [pid for pid, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found

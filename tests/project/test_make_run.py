"""`make run`, then Ctrl-C: every process ends by itself, nothing is logged as an error and the
checkout is as it was (the broker's and beat's files live under VAR_DIR, which git ignores)."""

import re
import signal

import pytest

from .makerun import MakeRun, git_status

pytestmark = pytest.mark.slow

PROCESSES = ("web.1", "worker.1", "beat.1", "reports.1")


@pytest.fixture
def make_run(tmp_path):
    # Beat sends a sweep every second, so that the broker's folders are written before the stop.
    running = MakeRun(tmp=tmp_path, OUTBOX_SWEEP_SECONDS=1, SLA_SWEEP_SECONDS=1)
    yield running
    running.kill()


def test_ctrl_c_stops_every_process_gracefully_and_leaves_the_checkout_clean(make_run, tmp_path):
    # given a checkout and `make run` with its web server, worker, beat and report worker going
    before = git_status()
    make_run.start()
    make_run.wait_for("Task notifications.sweep_outbox[")
    make_run.wait_for("succeeded in")

    # when the newcomer presses Ctrl-C
    returncode = make_run.ctrl_c()

    # then each process stopped by itself with status 0, with no error and no SIGKILL on the way
    output = make_run.output()
    for name in PROCESSES:
        assert f"{name} stopped (rc=0)" in output, output[-6000:]
    # make's own failure line ("make: *** [...] Error 2"); uvicorn's INFO "Error while closing socket" is not one
    assert not re.search(r"ERROR|SIGKILL|Traceback|make.*\] Error \d", output), output[-6000:]
    # (make itself, interrupted too, may say "Interrupt" and end by SIGINT, as with any target)
    assert returncode in (0, -signal.SIGINT)
    # and the broker wrote its exchange tables under VAR_DIR, not into the checkout
    assert (tmp_path / "var" / "broker-control" / "celery.exchange").exists()
    if before is not None:
        assert git_status() == before

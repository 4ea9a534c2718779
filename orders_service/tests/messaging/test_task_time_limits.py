"""common.celery_app.TaskTimeLimits: the time limits a solo worker enforces in its own process."""

import signal
import subprocess
import sys
import time

import pytest
from celery.exceptions import SoftTimeLimitExceeded

from common.celery_app import TaskTimeLimits


@pytest.fixture
def limits():
    previous = signal.getsignal(signal.SIGALRM)
    limits = TaskTimeLimits(soft_seconds=0.2, hard_seconds=60)
    limits.start()
    yield limits
    limits.disarm()
    signal.signal(signal.SIGALRM, previous)


def busy_for(seconds: float) -> None:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        time.sleep(0.01)


def test_a_task_past_its_soft_limit_gets_soft_time_limit_exceeded(limits):
    limits.arm()
    started = time.monotonic()

    with pytest.raises(SoftTimeLimitExceeded):
        busy_for(5)

    assert time.monotonic() - started < 1


def test_a_task_that_ends_in_time_is_not_interrupted_later(limits):
    limits.arm()
    limits.disarm()

    # then: no alarm is left, and work past the soft limit runs to its end
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    started = time.monotonic()
    busy_for(0.4)
    assert time.monotonic() - started >= 0.4


def test_a_task_stuck_past_its_hard_limit_ends_the_worker_process():
    # given: a process whose task never returns and ignores the soft limit
    program = (
        "import time\n"
        "from common.celery_app import TaskTimeLimits\n"
        "limits = TaskTimeLimits(soft_seconds=60, hard_seconds=1)\n"
        "limits.start()\n"
        "limits.arm()\n"
        "time.sleep(30)\n"
    )

    # when
    started = time.monotonic()
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=20, check=False
    )

    # then: ended by the watchdog within about a second of the limit, saying why
    assert result.returncode == 1
    assert time.monotonic() - started < 10
    assert "hard time limit" in result.stderr

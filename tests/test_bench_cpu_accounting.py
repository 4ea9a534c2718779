"""The benchmark's CPU accounting per program (bench.memory), read from /proc."""

import os
import time

from bench.memory import cpu_seconds_between, system_cpu_seconds


def test_cpu_between_two_readings_is_counted_per_process():
    before = {"orders-worker": {10: 1.0, 11: 2.0}, "postgres backends": {20: 5.0, 21: 7.0}}
    after = {
        "orders-worker": {10: 1.5, 11: 2.25},
        # Backend 21 closed its connection in between (its last reading is gone); backend 22 opened one.
        "postgres backends": {20: 5.5, 22: 0.25},
    }

    assert cpu_seconds_between(before, after) == {"orders-worker": 0.75, "postgres backends": 0.75}


def test_a_program_is_charged_the_cpu_its_processes_used():
    program = {"this test": os.getpid()}
    before = system_cpu_seconds(program, database="no_such_database")
    end = time.process_time() + 0.3
    while time.process_time() < end:  # bounded: 0.3 s of this process's CPU
        pass

    used = cpu_seconds_between(before, system_cpu_seconds(program, database="no_such_database"))

    assert 0.25 <= used["this test"] < 5
    assert used["postgres backends"] == 0

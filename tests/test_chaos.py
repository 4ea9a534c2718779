"""A minute of the chaos run (``./manage_all.sh chaos``, ``shopctl.chaos``) on the tests' system.

Shoppers browse, register, order and cancel while random processes (web servers, workers, the scheduler,
Redis, the test system's own Postgres) are stopped or killed and started again; then every order is
answered, the system settles, and nothing may be lost, duplicated or out of balance. The seed is printed,
so a failing run can be replayed: ``./manage_all.sh chaos --minutes 1 --seed N``.
"""

import secrets

import pytest

from shopctl import chaos


# A minute of load and faults, then bounded waits for every order to be answered and the system to settle.
@pytest.mark.timeout(900)
def test_a_minute_of_chaos_loses_nothing_and_duplicates_nothing(system, capsys):
    seed = secrets.randbelow(1_000_000)

    with capsys.disabled():
        problems = chaos.run_on(system, minutes=1, seed=seed)

    assert problems == [], f"seed {seed}"

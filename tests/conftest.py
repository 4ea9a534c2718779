"""Cross-service tests: the real system, started by the tests themselves.

The session fixture ``system`` starts the whole system for this run only, from the one description of
the processes (``shopctl.processes``), in a Postgres cluster, a Redis server and on ports of its own
(``shopctl.launcher``). So these tests run while ``./manage_all.sh up`` runs, several runs do not
collide, and a fault test may stop the database server without stopping anyone else's.
``./manage_all.sh test`` provides the roles' passwords through the environment.
"""

import os

import pytest

from shopctl.launcher import ROOT, System, running_system, start_worker, throwaway_cluster
from shopctl.processes import SERVICES as DESCRIBED_SERVICES

# Service name -> its short name (queue, schema), for the tests' parametrisation.
SERVICES = {service.name: service.short for service in DESCRIBED_SERVICES}

__all__ = ["ROOT", "SERVICES", "System", "start_worker"]


@pytest.fixture(scope="session")
def system(tmp_path_factory) -> System:
    with throwaway_cluster() as cluster:
        configured = System(
            database_name=f"shop_e2e_{os.getpid()}",
            admin_database_url=cluster.admin_url,
            workdir=tmp_path_factory.mktemp("system"),
            postgres=cluster,
        )
        with running_system(configured) as running:
            yield running

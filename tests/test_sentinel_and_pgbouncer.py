"""The system as it runs at scale: Redis under Sentinel (a master, a replica, three sentinels) and Postgres
behind PgBouncer in transaction pooling mode, Debian's programs on free loopback ports.

One system for both (starting one costs more than the tests): every service connects to Postgres through
PgBouncer (``DATABASE_TRANSACTION_POOLING=true``) and to Redis with ``REDIS_URL=sentinel://...``; its broker,
caches and deactivation store all find the master through the sentinels.
"""

import os
import pwd
import shutil
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import psycopg2
import pytest
import redis
import requests

from shopctl import infrastructure, traces
from shopctl.launcher import (
    System,
    admin_database_url_from_environment,
    create_database,
    free_port,
    port_closed,
    start_system,
    wait_for,
)
from shopctl.local import as_postgres_user, postgres_os_user
from shopctl.processes import SERVICES
from tests.test_order_saga import TOKEN_ONLY_USERS, Shop, reconcile
from tests.test_replicas import expected_notifications, notifications_of

MASTER_NAME = "shop"
POOL_SIZE = 2  # server connections per role: fewer than each service's clients (2 web workers, a worker, tests)


def redis_info(port: int, section: str) -> dict:
    client = redis.Redis(port=port, socket_timeout=2, socket_connect_timeout=2)
    try:
        return client.info(section)
    finally:
        client.close()


def master_port(sentinel_port: int) -> int:
    client = redis.Redis(port=sentinel_port, socket_timeout=2, socket_connect_timeout=2)
    try:
        _host, port = client.sentinel_get_master_addr_by_name(MASTER_NAME)
        return int(port)
    finally:
        client.close()


@pytest.fixture(scope="module")
def ha_system(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("sentinel-pgbouncer")
    sentinel_ports = [free_port() for _ in range(3)]
    replica_port, pgbouncer_port = free_port(), free_port()
    system = System(
        database_name=f"shop_ha_{os.getpid()}",
        admin_database_url=admin_database_url_from_environment(),
        workdir=workdir,
        redis_url_override="sentinel://"
        + ",".join(f"127.0.0.1:{port}" for port in sentinel_ports)
        + f"/{MASTER_NAME}/0",
        database_port=pgbouncer_port,
        extra_environment={"DATABASE_TRANSACTION_POOLING": "true"},
        collect_static=False,  # these tests call the API only
    )
    create_database(system.admin_database_url, system.database_name)
    # Outside the test's folder, which only its owner may enter: PgBouncer may run as another user.
    pgbouncer_dir = Path(tempfile.mkdtemp(prefix="shop-pgbouncer-"))
    try:
        # Redis: the master (this run's own server), its replica, three sentinels watching them
        system.start_redis()
        replica_dir = workdir / "redis-replica"
        replica_dir.mkdir()
        system.start(
            "redis-replica",
            infrastructure.redis_replica_command(
                port=replica_port, directory=replica_dir, master_port=system.redis_port
            ),
            cwd=replica_dir,
            env={"PATH": os.environ["PATH"]},
        )
        wait_for(
            lambda: redis_info(replica_port, "replication")["master_link_status"] == "up",
            timeout=30,
            what="the replica to follow the master",
        )
        sentinel_dir = workdir / "sentinels"
        sentinel_dir.mkdir()
        for port in sentinel_ports:
            system.start(
                f"redis-sentinel-{port}",
                infrastructure.redis_sentinel_command(
                    port=port, directory=sentinel_dir, master_name=MASTER_NAME, master_port=system.redis_port, quorum=2
                ),
                cwd=sentinel_dir,
                env={"PATH": os.environ["PATH"]},
            )

        def sentinels_see_everything() -> bool:
            client = redis.Redis(port=sentinel_ports[0], socket_timeout=2)
            try:
                return (
                    len(client.sentinel_slaves(MASTER_NAME)) == 1 and len(client.sentinel_sentinels(MASTER_NAME)) == 2
                )
            finally:
                client.close()

        wait_for(sentinels_see_everything, timeout=30, what="the sentinels to find the replica and each other")

        # Postgres through PgBouncer, transaction pooling, a few server connections per role
        command = infrastructure.pgbouncer_command(
            port=pgbouncer_port,
            directory=pgbouncer_dir,
            server_port=urlsplit(system.admin_database_url).port,
            users={service.role: os.environ[service.password_variable] for service in SERVICES},
            pool_size=POOL_SIZE,
        )
        if os.geteuid() == 0:  # PgBouncer refuses to run as root: as Postgres's own user, as up runs Postgres
            user = pwd.getpwnam(postgres_os_user())
            for path in [pgbouncer_dir, *pgbouncer_dir.iterdir()]:
                os.chown(path, user.pw_uid, user.pw_gid)
        system.start("pgbouncer", as_postgres_user(command), cwd=pgbouncer_dir, env={"PATH": os.environ["PATH"]})
        wait_for(lambda: not port_closed(pgbouncer_port), timeout=20, what="pgbouncer")

        start_system(system)
        system.sentinel_ports = sentinel_ports
        system.replica_port = replica_port
        system.pgbouncer_port = pgbouncer_port
        yield system
    finally:
        system.stop_all()
        infrastructure.drop_database(system.admin_database_url, system.database_name)
        shutil.rmtree(pgbouncer_dir, ignore_errors=True)


@pytest.fixture
def shop(ha_system) -> Shop:
    return Shop(system=ha_system)


def pgbouncer_show(system, what: str) -> list[dict]:
    """``SHOW <what>`` on PgBouncer's console, as a stats user (catalog's role), rows as dicts."""
    service = SERVICES[1]
    connection = psycopg2.connect(
        host="127.0.0.1",
        port=system.pgbouncer_port,
        dbname="pgbouncer",
        user=service.role,
        password=os.environ[service.password_variable],
    )
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"SHOW {what}")
            names = [column.name for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        connection.close()


def place_many(shop: Shop, product_id: int, *, count: int, first_user: int) -> list[tuple[str, int]]:
    placed = []
    for number in range(count):
        user_id = first_user + number % 7
        response = shop.place([(product_id, 1)], user_id=user_id, key=uuid.uuid4().hex)
        assert response.status_code == 201, response.text
        placed.append((response.json()["id"], user_id))
    return placed


def test_the_saga_runs_through_pgbouncer_in_transaction_pooling_with_fewer_server_connections_than_clients(shop):
    # given
    system = shop.system
    product_id = shop.create_product(stock=25)

    # when: more orders than the stock, from several threads at once
    results: list[list[tuple[str, int]]] = []
    threads = [
        threading.Thread(
            target=lambda n=n: results.append(
                place_many(shop, product_id, count=10, first_user=TOKEN_ONLY_USERS + 8000 + 10 * n)
            )
        )
        for n in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    placed = [order for batch in results for order in batch]

    # then: every order settled, exactly the stock confirmed, and the customers told once
    assert len(placed) == 30
    statuses = {order_id: shop.settled(order_id, user_id=user_id)["status"] for order_id, user_id in placed}
    assert sorted(statuses.values()).count("confirmed") == 25
    assert shop.available(product_id) == 0
    reconcile(shop)
    expected = expected_notifications(statuses)
    wait_for(lambda: notifications_of(system, list(statuses)) == expected, timeout=20, what="the notifications")

    # and it all went through PgBouncer: each role's clients share at most POOL_SIZE server connections
    pools = [pool for pool in pgbouncer_show(system, "POOLS") if pool["database"] == system.database_name]
    by_role = {pool["user"]: pool for pool in pools}
    assert set(by_role) == {service.role for service in SERVICES}
    for role, pool in by_role.items():
        servers = pool["sv_active"] + pool["sv_idle"] + pool["sv_used"] + pool["sv_tested"] + pool["sv_login"]
        assert servers <= POOL_SIZE, (role, pool)
    clients = [client for client in pgbouncer_show(system, "CLIENTS") if client["database"] == system.database_name]
    assert len(clients) > POOL_SIZE * len(SERVICES), "the processes' connections should outnumber the servers'"
    stats = {row["database"]: row for row in pgbouncer_show(system, "STATS")}
    assert stats[system.database_name]["total_xact_count"] > 100
    # and no statement was prepared (one would be missing from the next transaction's server connection): the
    # saga's statements went as text (common.database.prepared)
    statements = [span["attributes"].get("db.statement", "") for span in traces.read_spans(system.traces_file)]
    assert any(statement.startswith('INSERT INTO "messaging_outboxmessage"') for statement in statements)
    assert not [statement for statement in statements if statement.startswith(("PREPARE", "EXECUTE"))]


def test_a_redis_failover_while_orders_flow_delays_them_and_loses_nothing(shop):
    # given: orders flowing at about 10/s
    system = shop.system
    product_id = shop.create_product(stock=1000)
    old_master = master_port(system.sentinel_ports[0])
    assert old_master == system.redis_port
    placed: list[tuple[str, int]] = []
    failures: list[str] = []

    def customers():
        for number in range(100):
            user_id = TOKEN_ONLY_USERS + 8100 + number % 9
            try:
                response = shop.place([(product_id, 1)], user_id=user_id)
            except requests.RequestException as error:
                failures.append(repr(error))
                continue
            if response.status_code != 201:
                failures.append(f"{response.status_code} {response.text[:300]}")
                continue
            placed.append((response.json()["id"], user_id))
            time.sleep(0.1)

    flowing = threading.Thread(target=customers)
    flowing.start()

    # when: the master dies (SIGKILL) a moment in, and the sentinels promote the replica
    time.sleep(2.5)
    system.kill("redis")
    wait_for(
        lambda: master_port(system.sentinel_ports[1]) == system.replica_port,
        timeout=30,
        what="the sentinels to promote the replica",
    )
    flowing.join(timeout=120)

    # then: every order was accepted, every one settles, the customers are told once each
    assert not flowing.is_alive()
    assert failures == []
    assert len(placed) == 100
    statuses = {order_id: shop.settled(order_id, user_id=user_id)["status"] for order_id, user_id in placed}
    assert set(statuses.values()) == {"confirmed"}
    assert shop.available(product_id) == 900
    reconcile(shop)
    expected = expected_notifications(statuses)
    wait_for(lambda: notifications_of(system, list(statuses)) == expected, timeout=30, what="the notifications")

    # and every service is ready again on the new master: broker, caches and deactivation store
    for service in SERVICES:
        ready = requests.get(f"{system.url(service)}/health/ready/", timeout=5)
        assert ready.status_code == 200, ready.text
    products = f"{system.url(SERVICES[1])}/api/v1/products/?page_size=5"
    requests.get(products, timeout=5)
    assert requests.get(products, timeout=5).headers["X-Cache"] == "hit"
    assert redis_info(system.replica_port, "replication")["role"] == "master"

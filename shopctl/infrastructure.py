"""Postgres and Redis for a local run: their commands, and the database every run bootstraps.

compose.yaml and Kubernetes run these servers from their images; locally `up`, the tests and the
benchmark run Debian's binaries with the commands below.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2

from shopctl.processes import SERVICES

ROOT = Path(__file__).resolve().parents[1]
BOOTSTRAP_SQL = ROOT / "deploy" / "postgres" / "bootstrap.sql"

# The broker must never drop a message: persisted (append-only), and writes refused rather than keys evicted.
REDIS_DURABILITY = ("--appendonly", "yes", "--maxmemory-policy", "noeviction")


def redis_command(*, port: int, directory: Path, max_memory: str = "512mb") -> list[str]:
    """A Redis server on loopback that keeps its data in ``directory`` (a restart keeps the queued messages)."""
    return [
        shutil.which("redis-server") or "redis-server",
        *("--bind", "127.0.0.1", "--port", str(port), "--dir", str(directory), "--protected-mode", "yes"),
        *REDIS_DURABILITY,
        *("--appendfsync", "everysec", "--save", "", "--maxmemory", max_memory),
    ]


def redis_replica_command(*, port: int, directory: Path, master_port: int) -> list[str]:
    """A replica of the Redis server on ``master_port``, on loopback (for Sentinel to promote)."""
    return [*redis_command(port=port, directory=directory), "--replicaof", "127.0.0.1", str(master_port)]


def redis_sentinel_command(*, port: int, directory: Path, master_name: str, master_port: int, quorum: int) -> list[str]:
    """Debian's redis-sentinel watching the master on ``master_port``; it rewrites its file, so one each.

    A master that does not answer for a second is down for this sentinel; ``quorum`` sentinels agreeing makes it
    down for all, and one of them promotes the replica.
    """
    config = directory / f"sentinel-{port}.conf"
    config.write_text(
        f"port {port}\nbind 127.0.0.1\ndir {directory}\n"
        f"sentinel monitor {master_name} 127.0.0.1 {master_port} {quorum}\n"
        f"sentinel down-after-milliseconds {master_name} 1000\n"
        f"sentinel failover-timeout {master_name} 10000\n"
        f"sentinel parallel-syncs {master_name} 1\n"
    )
    return [shutil.which("redis-sentinel") or "redis-sentinel", str(config)]


def pgbouncer_command(
    *, port: int, directory: Path, server_port: int, users: Mapping[str, str], pool_size: int
) -> list[str]:
    """Debian's pgbouncer on loopback in transaction pooling mode, in front of the Postgres on ``server_port``.

    ``users``: role -> password, the roles it lets in (and logs in as on the server). At most ``pool_size``
    server connections per database and role, whatever the number of clients.
    """
    userlist = directory / "userlist.txt"
    userlist.write_text("".join(f'"{user}" "{password}"\n' for user, password in users.items()))
    userlist.chmod(0o600)
    config = directory / "pgbouncer.ini"
    config.write_text(
        f"[databases]\n* = host=127.0.0.1 port={server_port}\n"
        f"[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = scram-sha-256\nauth_file = {userlist}\n"
        f"pool_mode = transaction\ndefault_pool_size = {pool_size}\nmax_client_conn = 1000\n"
        # psycopg2 sends extra_float_digits; the services send no other startup parameter through a pooler.
        "ignore_startup_parameters = extra_float_digits\n"
        f"stats_users = {','.join(users)}\n"
        f"logfile = {directory / 'pgbouncer.log'}\n"
    )
    return [shutil.which("pgbouncer") or "/usr/sbin/pgbouncer", str(config)]


def postgres_bin_dir() -> Path | None:
    """The newest installed PostgreSQL server's binaries (Debian keeps them out of PATH)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda path: int(Path(path).parent.name))
    for directory in reversed(found):
        if (Path(directory) / "postgres").exists():
            return Path(directory)
    return None


def postgres_command(*, data_dir: Path, port: int) -> list[str]:
    """The project's Postgres cluster: loopback TCP only, enough connections for tests beside a running `up`."""
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        raise FileNotFoundError("PostgreSQL server binaries not found (apt-get install postgresql)")
    return [
        str(bin_dir / "postgres"),
        *("-D", str(data_dir), "-c", "listen_addresses=127.0.0.1", "-c", f"port={port}"),
        *("-c", "unix_socket_directories=", "-c", "max_connections=200", "-c", "shared_buffers=128MB"),
    ]


def psql_binary() -> str:
    found = shutil.which("psql") or next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"), reverse=True)), None)
    if found is None:
        raise FileNotFoundError("psql not found: ./manage_all.sh installs PostgreSQL")
    return found


def database_url(base_url: str, *, user: str, password: str, database: str) -> str:
    """``base_url``'s server, as ``user`` on ``database``."""
    parts = urlsplit(base_url)
    return urlunsplit((parts.scheme, f"{user}:{password}@{parts.hostname}:{parts.port}", f"/{database}", "", ""))


def role_passwords() -> dict[str, str]:
    """The services' roles' passwords, from the environment (.var/secrets.env)."""
    return {service.password_variable: os.environ[service.password_variable] for service in SERVICES}


def bootstrap_database(admin_url: str, name: str, *, passwords: Mapping[str, str]) -> None:
    """Create database ``name`` if missing, with the services' schemas and roles (bootstrap.sql is idempotent)."""
    connection = psycopg2.connect(admin_url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()
    parts = urlsplit(admin_url)
    variables = [
        f"{variable.lower().removesuffix('_db_password')}_password={password}"
        for variable, password in passwords.items()
    ]
    result = subprocess.run(
        [
            psql_binary(),
            *("--quiet", "--no-psqlrc", "-v", "ON_ERROR_STOP=1", "-v", "createdb=true"),
            *(argument for variable in variables for argument in ("-v", variable)),
            *("-f", str(BOOTSTRAP_SQL)),
            database_url(admin_url, user=parts.username or "", password=parts.password or "", database=name),
        ],
        env={**os.environ, "PGOPTIONS": "-c client_min_messages=warning", "PGCONNECT_TIMEOUT": "5"},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"bootstrap.sql on {name} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")


def drop_database(admin_url: str, name: str) -> None:
    connection = psycopg2.connect(admin_url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    connection.close()

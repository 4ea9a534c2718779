"""Cross-service tests: the real system, started by the tests themselves.

The session fixture ``system`` starts, for this run only:

- a database of its own (``shop_e2e_<pid>``) in the project's Postgres cluster,
  with the same schemas and roles as the real one (``deploy/postgres/bootstrap.sql``);
- a Redis server of its own on a free loopback port, in a temporary folder;
- for each service, ``migrate``, its web server (``DEFAULT_WEB_SERVER``) on a free port and a
  Celery worker on its queue, in production settings (DEBUG off);
- the scheduler.

So these tests run while ``./manage_all.sh up`` runs, and several runs do not
collide. ``./manage_all.sh test`` provides the cluster's admin URL and the
roles' passwords through the environment.
"""

import contextlib
import glob
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import pytest
import requests

from common.auth.testing import TestSigner

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
SERVICES = {"users_service": "users", "catalog_service": "catalog", "orders_service": "orders"}
START_TIMEOUT_SECONDS = 90
SETUP_TIMEOUT_SECONDS = 300
# The saga's clocks, shortened so that fault tests settle in seconds (defaults: common.settings, orders settings).
SAGA_ENVIRONMENT = {
    "ORDERS_SAGA_TIMEOUT_SECONDS": "4",
    "MESSAGING_RETRY_BACKOFF_SECONDS": "0.2",
    "MESSAGING_RELAY_MIN_AGE_SECONDS": "1",
    "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
}
SCHEDULER_ENVIRONMENT = {"OUTBOX_RELAY_INTERVAL_SECONDS": "0.5", "ORDERS_REDRIVE_INTERVAL_SECONDS": "1"}
# The settings' own defaults, except that e-mail goes to the log (there is no mail server here).
PRODUCTION_SAGA_ENVIRONMENT = {"DJANGO_EMAIL_BACKEND": SAGA_ENVIRONMENT["DJANGO_EMAIL_BACKEND"]}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition, *, timeout: float, interval: float = 0.2, what: str):
    """Poll ``condition`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            result = condition()
            if result:
                return result
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {what}")


def psql_binary() -> str:
    found = shutil.which("psql") or next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"), reverse=True)), None)
    if found is None:
        pytest.fail("psql not found: run the tests through ./manage_all.sh test, which installs PostgreSQL")
    return found


def database_url(base_url: str, *, user: str, password: str, database: str) -> str:
    parts = urlsplit(base_url)
    netloc = f"{user}:{password}@{parts.hostname}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, f"/{database}", "", ""))


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log_path: Path

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@dataclass(frozen=True)
class WebServer:
    """A service's WSGI server: gunicorn (sync workers) or granian (Rust HTTP, the WSGI app on Python threads).

    ``threads`` is granian's blocking threads per worker (``None``: granian's default). The benchmark
    compares these configurations; the default (``DEFAULT_WEB_SERVER``) is the fastest, and it is what
    ``./manage_all.sh up`` and compose.yaml run.
    """

    name: str
    workers: int
    threads: int | None = None

    @property
    def label(self) -> str:
        threads = "" if self.threads is None else f", {self.threads} thread{'s' if self.threads > 1 else ''}"
        return f"{self.name} x{self.workers}{threads}"

    def command(self, service: str, *, port: int) -> list[str]:
        application = f"{service}.wsgi:application"
        if self.name == "granian":
            threads = [] if self.threads is None else ["--blocking-threads", str(self.threads)]
            return [
                str(VENV_BIN / "granian"),
                *("--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port)),
                *("--workers", str(self.workers), *threads, "--no-ws", "--respawn-failed-workers"),
                application,
            ]
        # --preload: the application is imported once, in the master, and its workers share those pages.
        return [
            str(VENV_BIN / "gunicorn"),
            *(application, "--bind", f"127.0.0.1:{port}", "--workers", str(self.workers), "--preload"),
        ]


# One blocking thread per granian worker: the Python side runs like a sync worker (one request at a time,
# no GIL contention), while granian's Rust side reads and writes the sockets.
DEFAULT_WEB_SERVER = WebServer("granian", workers=2, threads=1)


@dataclass
class System:
    """The running system under test and what the tests need to reach it."""

    urls: dict[str, str]
    database_name: str
    admin_database_url: str
    redis_url: str
    workdir: Path
    processes: dict[str, Process] = field(default_factory=dict)
    # Every service also trusts this key, so tests can mint tokens for any user and role.
    signer: TestSigner = field(default_factory=TestSigner)
    # users_service's own signing key for this run (it issues real tokens; the others fetch its JWKS).
    users_signing_key: TestSigner = field(default_factory=lambda: TestSigner(kid="e2e-users-key"))
    web_server: WebServer = DEFAULT_WEB_SERVER
    # Short saga timeouts and relay intervals, so fault tests settle in seconds; the benchmark runs without them.
    fast_saga: bool = True

    def role_database_url(self, service: str) -> str:
        role = f"{SERVICES[service]}_svc"
        password = os.environ[f"{SERVICES[service].upper()}_DB_PASSWORD"]
        return database_url(self.admin_database_url, user=role, password=password, database=self.database_name)

    def service_environment(self, service: str) -> dict[str, str]:
        """The environment of a service's processes: production settings, this run's database and broker."""
        return {
            "PATH": os.environ["PATH"],
            "LANG": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",
            "DJANGO_SETTINGS_MODULE": f"{service}.settings.production",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(32),
            "DJANGO_SECURE_COOKIES": "false",
            "DJANGO_STATIC_ROOT": str(self.workdir / "static" / service),
            "DATABASE_URL": self.role_database_url(service),
            "REDIS_URL": self.redis_url,
            "JWT_PUBLIC_JWKS": json.dumps(self.signer.jwks),
            **self.identity_environment(service),
            **(SAGA_ENVIRONMENT if self.fast_saga else PRODUCTION_SAGA_ENVIRONMENT),
            # Test-only hook (catalog_service.reservations): a reservation pauses while this file exists.
            "CATALOG_RESERVE_TEST_DELAY_FILE": str(self.reserve_delay_file),
        }

    @property
    def reserve_delay_file(self) -> Path:
        return self.workdir / "reserve-delay"

    @property
    def redis_port(self) -> int:
        return urlsplit(self.redis_url).port

    def stop_redis(self) -> None:
        """Stop the broker (its data dir and port are kept for ``start_redis_again``)."""
        self.stop("redis")

    def start_redis_again(self) -> None:
        start_redis(self, port=self.redis_port)

    def identity_environment(self, service: str) -> dict[str, str]:
        """users_service signs with its own key; catalog and orders verify with its JWKS and log operators in there."""
        if service == "users_service":
            return {
                "JWT_PRIVATE_KEY": self.users_signing_key.private_pem.decode(),
                "JWT_SIGNING_KEY_ID": self.users_signing_key.kid,
            }
        users_url = self.urls.get("users_service")  # known once users_service has a port (it starts first)
        if not users_url:
            return {}
        return {"JWT_JWKS_URL": f"{users_url}/.well-known/jwks.json", "USERS_SERVICE_URL": users_url}

    def bearer(self, **claims) -> dict[str, str]:
        """Headers for requests: ``requests.get(url, headers=system.bearer(user_id=7, roles=[...]))``."""
        return {"Authorization": f"Bearer {self.signer.token(**claims)}"}

    def start(self, name: str, command: list[str], *, cwd: Path, env: dict[str, str]) -> Process:
        log_path = self.workdir / f"{name}.log"
        with log_path.open("wb") as log:
            popen = subprocess.Popen(  # noqa: S603 - the project's own commands
                command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        process = Process(name=name, popen=popen, log_path=log_path)
        self.processes[name] = process
        return process

    def stop(self, name: str) -> None:
        process = self.processes.pop(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.popen.pid, signal.SIGTERM)
        try:
            process.popen.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.popen.pid, signal.SIGKILL)
            process.popen.wait(timeout=10)


def run_checked(command: list[str], *, cwd: Path, env: dict[str, str], what: str) -> None:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        pytest.fail(f"{what} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")


def create_database(admin_url: str, name: str) -> None:
    connection = psycopg2.connect(admin_url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()
    run_checked(
        [
            psql_binary(),
            "--quiet",
            "--no-psqlrc",
            database_url(
                admin_url, user=urlsplit(admin_url).username, password=urlsplit(admin_url).password, database=name
            ),
            "-v",
            "createdb=true",
            "-v",
            f"users_password={os.environ['USERS_DB_PASSWORD']}",
            "-v",
            f"catalog_password={os.environ['CATALOG_DB_PASSWORD']}",
            "-v",
            f"orders_password={os.environ['ORDERS_DB_PASSWORD']}",
            "-f",
            str(ROOT / "deploy" / "postgres" / "bootstrap.sql"),
        ],
        cwd=ROOT,
        env={**os.environ, "PGOPTIONS": "-c client_min_messages=warning"},
        what="bootstrap.sql",
    )


def drop_database(admin_url: str, name: str) -> None:
    connection = psycopg2.connect(admin_url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    connection.close()


@pytest.fixture(scope="session")
def system(tmp_path_factory) -> System:
    admin_url = os.environ.get("SHOP_ADMIN_DATABASE_URL")
    if not admin_url:
        pytest.fail("SHOP_ADMIN_DATABASE_URL is not set: run the cross-service tests with ./manage_all.sh test")
    workdir = tmp_path_factory.mktemp("system")
    redis_port = free_port()
    running = System(
        urls={},
        database_name=f"shop_e2e_{os.getpid()}",
        admin_database_url=admin_url,
        redis_url=f"redis://127.0.0.1:{redis_port}/0",
        workdir=workdir,
    )
    create_database(admin_url, running.database_name)
    try:
        start_system(running, redis_port=redis_port)
        yield running
    finally:
        for name in list(running.processes):
            running.stop(name)
        drop_database(admin_url, running.database_name)


def start_redis(system: System, *, port: int) -> None:
    redis_dir = system.workdir / "redis"
    redis_dir.mkdir(exist_ok=True)  # a restart keeps the data (appendonly)
    system.start(
        "redis",
        [
            shutil.which("redis-server") or "redis-server",
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--dir",
            str(redis_dir),
            "--appendonly",
            "yes",
            "--save",
            "",
            "--maxmemory-policy",
            "noeviction",
        ],
        cwd=redis_dir,
        env={"PATH": os.environ["PATH"]},
    )
    wait_for(
        lambda: socket.create_connection(("127.0.0.1", port), timeout=1).close() or True,
        timeout=20,
        what="redis-server",
    )


def start_worker(system: System, service: str) -> Process:
    """The service's Celery worker (one process, one task at a time), as supervisord or compose runs it."""
    queue = SERVICES[service]
    return system.start(
        f"{queue}-worker",
        [
            str(VENV_BIN / "celery"),
            "-A",
            service,
            "worker",
            "--queues",
            queue,
            "--hostname",
            f"{queue}-e2e-{os.getpid()}@%h",
            "--loglevel",
            "INFO",
        ],
        cwd=ROOT / service,
        env=system.service_environment(service),
    )


def start_system(system: System, *, redis_port: int) -> None:
    start_redis(system, port=redis_port)
    setup = {}
    for service in SERVICES:
        env = system.service_environment(service)
        # collectstatic and migrate of the three services run side by side.
        setup[service] = subprocess.Popen(  # noqa: S603
            [
                "sh",
                "-c",
                f"{sys.executable} manage.py collectstatic --no-input -v0"
                f" && {sys.executable} manage.py migrate --no-input -v0",
            ],
            cwd=ROOT / service,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
    try:
        for service, popen in setup.items():
            # collectstatic compresses every file: slow on a busy 2-core machine, hence its own, longer timeout.
            output, _ = popen.communicate(timeout=SETUP_TIMEOUT_SECONDS)
            if popen.returncode != 0:
                pytest.fail(f"setting up {service} failed:\n{output[-3000:]}")
    finally:
        for popen in setup.values():  # never leave a setup process behind a failed start
            if popen.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(popen.pid, signal.SIGKILL)
                popen.wait()

    for service, queue in SERVICES.items():
        env = system.service_environment(service)
        port = free_port()
        system.urls[service] = f"http://127.0.0.1:{port}"
        system.start(
            f"{queue}-web",
            system.web_server.command(service, port=port),
            cwd=ROOT / service,
            env=env,
        )
        start_worker(system, service)
    system.start(
        "scheduler",
        [
            str(VENV_BIN / "celery"),
            "-A",
            "common.scheduler",
            "beat",
            "--schedule",
            str(system.workdir / "beat-schedule"),
            "--loglevel",
            "INFO",
        ],
        cwd=system.workdir,
        env={
            "PATH": os.environ["PATH"],
            "REDIS_URL": system.redis_url,
            **(SCHEDULER_ENVIRONMENT if system.fast_saga else {}),
        },
    )

    for service, url in system.urls.items():
        web = system.processes[f"{SERVICES[service]}-web"]

        def ready(url=url, web=web):
            if web.popen.poll() is not None:
                pytest.fail(f"{web.name} exited:\n{web.log_tail()}")
            return requests.get(f"{url}/health/ready/", timeout=2).status_code == 200

        wait_for(ready, timeout=START_TIMEOUT_SECONDS, what=f"{service} to be ready")
    for name, process in system.processes.items():
        if process.popen.poll() is not None:
            pytest.fail(f"{name} exited early:\n{process.log_tail()}")

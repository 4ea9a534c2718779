"""The whole system as child processes, for one test run or one benchmark run.

``start_system`` starts, from the one description of the processes (``shopctl.processes``):

- a database of its own in the project's Postgres cluster, with the same schemas and roles as the
  real one (``deploy/postgres/bootstrap.sql``);
- a Redis server of its own on a free loopback port, in the run's folder;
- for each service, ``collectstatic`` and ``migrate``, its web server on a free port and its Celery
  worker (as many replicas as ``System.scale`` says), in production settings (DEBUG off);
- the scheduler.

So a run does not collide with a running ``./manage_all.sh up`` or with another run. The cluster's
admin URL and the roles' passwords come from the environment (``./manage_all.sh test`` and ``bench``
provide them).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests

from common_testing.auth import TestSigner
from shopctl import infrastructure
from shopctl.processes import (
    DEFAULT_WEB_SERVER,
    PROCESSES,
    SERVICES,
    SERVICES_BY_NAME,
    USERS,
    ProcessKind,
    Service,
    Site,
    WebServer,
    migrate_command,
    process,
)

ROOT = infrastructure.ROOT
VENV_BIN = Path(sys.executable).parent
START_TIMEOUT_SECONDS = 90
SETUP_TIMEOUT_SECONDS = 300
# The saga's clocks, shortened so that fault tests settle in seconds (defaults: common.settings, orders settings).
FAST_SAGA_ENVIRONMENT = {
    "ORDERS_SAGA_TIMEOUT_SECONDS": "4",
    "MESSAGING_RETRY_BACKOFF_SECONDS": "0.2",
    "MESSAGING_RELAY_MIN_AGE_SECONDS": "1",
    # A killed worker's message comes back after this (the shortest allowed: longer than the task time limit).
    "CELERY_VISIBILITY_TIMEOUT": "61",
}
FAST_SCHEDULER_ENVIRONMENT = {"OUTBOX_RELAY_INTERVAL_SECONDS": "0.5", "ORDERS_REDRIVE_INTERVAL_SECONDS": "1"}
# E-mail goes to the log: there is no mail server here.
MAIL_ENVIRONMENT = {"DJANGO_EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}

T = TypeVar("T")


class LaunchError(RuntimeError):
    """A process of the system did not start or did not become ready."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def port_closed(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def wait_for(condition: Callable[[], T], *, timeout: float, interval: float = 0.2, what: str) -> T:
    """Poll ``condition`` until it returns something truthy; ``TimeoutError`` after ``timeout`` seconds.

    A ``LaunchError`` raised by the condition (a process that exited) ends the wait at once.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = condition()
        except LaunchError:
            raise
        except Exception:  # noqa: BLE001, S112 - not ready yet, whatever the reason; polled again
            result = None
        if result:
            return result
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class System:
    """The running system of one run and what its users need to reach it."""

    database_name: str
    admin_database_url: str
    workdir: Path
    redis_port: int = field(default_factory=free_port)
    urls: dict[str, str] = field(default_factory=dict)  # service name -> its web server's base URL
    processes: dict[str, Process] = field(default_factory=dict)
    # Every service also trusts this key, so tests can mint tokens for any user and role.
    signer: TestSigner = field(default_factory=TestSigner)
    # users_service's own signing key for this run (it issues real tokens; the others fetch its JWKS).
    users_signing_key: TestSigner = field(default_factory=lambda: TestSigner(kid="e2e-users-key"))
    web_server: WebServer = DEFAULT_WEB_SERVER
    # Short saga timeouts and relay intervals, so fault tests settle in seconds; the benchmark runs without them.
    fast_saga: bool = True
    ports: dict[str, int] = field(default_factory=lambda: {service.name: free_port() for service in SERVICES})
    # Where the services' Redis is, when not this run's own server: a sentinel:// URL of servers the caller runs.
    redis_url_override: str = ""
    # The port the services reach Postgres on, when not the cluster's: a pooler in front of it (PgBouncer).
    database_port: int | None = None
    # Added to every service process's environment (DATABASE_TRANSACTION_POOLING=true behind PgBouncer).
    extra_environment: dict[str, str] = field(default_factory=dict)
    # False for a run that requests no page with static files (the admin, the API docs): it skips collectstatic,
    # which compresses every file and takes minutes on a busy 2-core machine.
    collect_static: bool = True
    # Replicas per process kind (``{"catalog-worker": 3}``), as ``up --scale``; the description's count otherwise.
    scale: dict[str, int] = field(default_factory=dict)

    @property
    def redis_url(self) -> str:
        return self.redis_url_override or f"redis://127.0.0.1:{self.redis_port}/0"

    @property
    def site(self) -> Site:
        return Site(
            root=ROOT, bin_dir=VENV_BIN, host="127.0.0.1", ports=self.ports, state_dir=self.workdir,
            web_server=self.web_server,
        )  # fmt: skip

    def role_database_url(self, service: str) -> str:
        role = SERVICES_BY_NAME[service]
        server = self.admin_database_url
        if self.database_port is not None:
            server = server.replace(f":{urlsplit(server).port}/", f":{self.database_port}/", 1)
        return infrastructure.database_url(
            server,
            user=role.role,
            password=os.environ[role.password_variable],
            database=self.database_name,
        )

    def service_environment(self, service: str) -> dict[str, str]:
        """The environment of a service's processes: production settings, this run's database and broker."""
        described = SERVICES_BY_NAME[service]
        return {
            "PATH": os.environ["PATH"],
            "LANG": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",
            "DJANGO_SETTINGS_MODULE": described.settings_module("production"),
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(32),
            "DJANGO_SECURE_COOKIES": "false",
            "DJANGO_STATIC_ROOT": str(self.workdir / "static" / service),
            "DATABASE_URL": self.role_database_url(service),
            "REDIS_URL": self.redis_url,
            "JWT_PUBLIC_JWKS": json.dumps(self.signer.jwks),
            **self.identity_environment(described),
            **MAIL_ENVIRONMENT,
            **(FAST_SAGA_ENVIRONMENT if self.fast_saga else {}),
            **self.extra_environment,
        }

    def scheduler_environment(self) -> dict[str, str]:
        return {
            "PATH": os.environ["PATH"],
            "PYTHONUNBUFFERED": "1",
            "REDIS_URL": self.redis_url,
            **(FAST_SCHEDULER_ENVIRONMENT if self.fast_saga else {}),
        }

    def identity_environment(self, service: Service) -> dict[str, str]:
        """users_service signs with its own key; catalog and orders verify with its JWKS and log operators in there."""
        if service is USERS:
            return {
                "JWT_PRIVATE_KEY": self.users_signing_key.private_pem.decode(),
                "JWT_SIGNING_KEY_ID": self.users_signing_key.kid,
            }
        users_url = self.url(USERS)
        return {"JWT_JWKS_URL": f"{users_url}/.well-known/jwks.json", "USERS_SERVICE_URL": users_url}

    def url(self, service: Service) -> str:
        return f"http://127.0.0.1:{self.ports[service.name]}"

    def bearer(self, **claims: Any) -> dict[str, str]:
        """Headers for requests: ``requests.get(url, headers=system.bearer(user_id=7, roles=[...]))``."""
        return {"Authorization": f"Bearer {self.signer.token(**claims)}"}

    # ------------------------------------------------------------------ processes

    def start(self, name: str, command: list[str], *, cwd: Path, env: dict[str, str]) -> Process:
        log_path = self.workdir / f"{name}.log"
        with log_path.open("ab") as log:
            popen = subprocess.Popen(
                command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        started = Process(name=name, popen=popen, log_path=log_path)
        self.processes[name] = started
        return started

    def start_kind(self, kind: ProcessKind, *, replica: int = 1) -> Process:
        """Start one process (replica ``replica``) of the system as the description says; see ``replica_name``."""
        if replica > 1 and kind.role == "web":
            raise LaunchError(f"{kind.name}: web replicas need the gateway in front of them, on ports of their own")
        if replica > 1 and not kind.scalable:
            raise LaunchError(f"{kind.name} runs once by design")
        environment = self.service_environment(kind.service.name) if kind.service else self.scheduler_environment()
        return self.start(
            replica_name(kind, replica),
            kind.command(self.site, replica=replica),
            cwd=Path(kind.cwd(self.site)),
            env=environment,
        )

    def replicas(self, kind: ProcessKind) -> int:
        """How many processes of ``kind`` this system runs."""
        return self.scale.get(kind.name, kind.replicas)

    def kill(self, name: str) -> None:
        """SIGKILL process ``name`` and everything it started (its session), as a machine or a container dies."""
        killed = self.processes.pop(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(killed.popen.pid, signal.SIGKILL)
        killed.popen.wait(timeout=10)

    def stop(self, name: str) -> None:
        stopped = self.processes.pop(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(stopped.popen.pid, signal.SIGTERM)
        try:
            stopped.popen.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(stopped.popen.pid, signal.SIGKILL)
            stopped.popen.wait(timeout=10)

    def stop_all(self) -> None:
        """Every process, the last started first: the services before the servers they need (a worker asked to
        stop while its broker is gone would spend its stop timeout reconnecting)."""
        for name in reversed(list(self.processes)):
            self.stop(name)

    def start_redis(self) -> None:
        """This run's Redis; started again after ``stop_redis`` it keeps its data (append-only file)."""
        directory = self.workdir / "redis"
        directory.mkdir(exist_ok=True)
        self.start(
            "redis",
            infrastructure.redis_command(port=self.redis_port, directory=directory),
            cwd=directory,
            env={"PATH": os.environ["PATH"]},
        )
        wait_for(lambda: not port_closed(self.redis_port), timeout=20, what="redis-server")

    def stop_redis(self) -> None:
        """Stop the broker (its data and port are kept for ``start_redis_again``)."""
        self.stop("redis")

    def start_redis_again(self) -> None:
        self.start_redis()

    def wait_until_ready(self, service: Service, *, timeout: float = START_TIMEOUT_SECONDS) -> None:
        web = self.processes[process(service, "web").name]

        def ready() -> bool:
            if web.popen.poll() is not None:
                raise LaunchError(f"{web.name} exited:\n{web.log_tail()}")
            return requests.get(f"{self.url(service)}/health/ready/", timeout=2).status_code == 200

        wait_for(ready, timeout=timeout, what=f"{service.name} to be ready")


def replica_name(kind: ProcessKind, replica: int) -> str:
    """A replica's process name: the kind's own for the first (``catalog-worker``), then ``catalog-worker-2``..."""
    return kind.name if replica == 1 else f"{kind.name}-{replica}"


def start_worker(system: System, service: str) -> Process:
    """The service's Celery worker, as the description runs it."""
    return system.start_kind(process(SERVICES_BY_NAME[service], "worker"))


def create_database(admin_url: str, name: str) -> None:
    """A fresh database ``name`` with the services' schemas and roles."""
    infrastructure.drop_database(admin_url, name)
    infrastructure.bootstrap_database(admin_url, name, passwords=infrastructure.role_passwords())


def set_up_services(system: System) -> None:
    """collectstatic (unless the system serves no static file) and migrate of the three services, side by side."""
    setup: dict[Service, subprocess.Popen[str]] = {}
    migrate = f"{shlex.join(migrate_command(system.site))} -v0"
    collect = f"{sys.executable} manage.py collectstatic --no-input -v0 && " if system.collect_static else ""
    for service in SERVICES:
        setup[service] = subprocess.Popen(
            ["sh", "-c", f"{collect}{migrate}"],
            cwd=ROOT / service.name,
            env=system.service_environment(service.name),
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
                raise LaunchError(f"setting up {service.name} failed:\n{output[-3000:]}")
    finally:
        for popen in setup.values():  # never leave a setup process behind a failed start
            if popen.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(popen.pid, signal.SIGKILL)
                popen.wait()


def start_system(system: System) -> None:
    """Redis, the services' setup, then every process of the description; returns once every service is ready.

    A caller that runs the services' Redis itself (``redis_url_override``) or started this run's Redis already
    (with replicas and sentinels around it) is left to it.
    """
    if "redis" not in system.processes and not system.redis_url_override:
        system.start_redis()
    set_up_services(system)
    for kind in PROCESSES:
        for replica in range(1, system.replicas(kind) + 1):
            system.start_kind(kind, replica=replica)
    system.urls.update({service.name: system.url(service) for service in SERVICES})
    for service in SERVICES:
        system.wait_until_ready(service)
    for name, running in system.processes.items():
        if running.popen.poll() is not None:
            raise LaunchError(f"{name} exited early:\n{running.log_tail()}")


@contextlib.contextmanager
def running_system(system: System) -> Iterator[System]:
    """The system started in a database of its own; everything stopped and the database dropped after."""
    create_database(system.admin_database_url, system.database_name)
    try:
        start_system(system)
        yield system
    finally:
        system.stop_all()
        infrastructure.drop_database(system.admin_database_url, system.database_name)


def run_checked(command: list[str], *, cwd: Path, env: dict[str, str], what: str) -> None:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise LaunchError(f"{what} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")


def admin_database_url_from_environment() -> str:
    url = os.environ.get("SHOP_ADMIN_DATABASE_URL")
    if not url:
        raise LaunchError("SHOP_ADMIN_DATABASE_URL is not set: run through ./manage_all.sh test or bench")
    return url

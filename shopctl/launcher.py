"""The whole system as child processes, for one test run or one benchmark run.

``start_system`` starts, from the one description of the processes (``shopctl.processes``):

- a database of its own in the project's Postgres cluster, with the same schemas and roles as the
  real one (``deploy/postgres/bootstrap.sql``), or in a throwaway cluster of its own (``PostgresCluster``),
  which a fault test or the chaos run may stop and start without touching anyone else's databases;
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
import dataclasses
import json
import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import psycopg2
import requests
from prometheus_client.parser import text_string_to_metric_families

from common_testing.auth import TestSigner
from shopctl import gateway, infrastructure, local, monitor, tls
from shopctl.processes import (
    DEFAULT_WEB_SERVER,
    DEPLOYED,
    PROCESSES_BY_NAME,
    SERVICES,
    SERVICES_BY_NAME,
    USERS,
    GatewaySite,
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
# collectstatic compresses every file: on a shared, busy machine this can take minutes (SHOP_SETUP_TIMEOUT).
SETUP_TIMEOUT_SECONDS = int(os.environ.get("SHOP_SETUP_TIMEOUT", "600"))
# The saga's clocks, shortened so that fault tests settle in seconds (defaults: common.settings, orders settings).
# A killed worker's message is handed out again after 20 s (the default, 300 s, would outlast a test run and
# the chaos run), so the time limits are shortened below it (common.celery_app.delivery_settings).
FAST_SAGA_ENVIRONMENT = {
    "ORDERS_SAGA_TIMEOUT_SECONDS": "4",
    "MESSAGING_RETRY_BACKOFF_SECONDS": "0.2",
    "MESSAGING_RELAY_MIN_AGE_SECONDS": "1",
    # A killed worker's message comes back after this (longer than the task time limit, shortened with it).
    "CELERY_VISIBILITY_TIMEOUT": "20",
    "CELERY_TASK_TIME_LIMIT": "15",
}
FAST_SCHEDULER_ENVIRONMENT = {"OUTBOX_RELAY_INTERVAL_SECONDS": "0.5", "ORDERS_REDRIVE_INTERVAL_SECONDS": "1"}
# The tests register users and place orders from one address far faster than a shopper, and the benchmark places
# many orders from few users: their systems run without the services' rate limits (tests of the limits start web
# processes of their own with them on).
RATE_LIMITS_OFF = {"SHOP_RATE_LIMITS": "off"}
# E-mail goes to the log: there is no mail server here.
MAIL_ENVIRONMENT = {"DJANGO_EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}

# Debian's HAProxy (/usr/sbin may not be on a user's PATH).
GATEWAY_PROGRAM = shutil.which("haproxy") or "/usr/sbin/haproxy"

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
class PostgresCluster:
    """A throwaway Postgres cluster on a free loopback port, in a folder of its own, removed by ``destroy``.

    Debian's binaries, run as ``shopctl.local`` runs the project's cluster: as an unprivileged user when
    this runs as root. The folder is made outside pytest's temporary folder, which that user cannot enter.
    """

    port: int = field(default_factory=free_port)
    admin_password: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="shop-postgres-")))
    popen: subprocess.Popen[bytes] | None = None

    @property
    def data_dir(self) -> Path:
        return self.directory / "data"

    @property
    def admin_url(self) -> str:
        return f"postgres://shop_admin:{self.admin_password}@127.0.0.1:{self.port}/postgres"

    def initialize(self) -> None:
        bin_dir = infrastructure.postgres_bin_dir()
        if bin_dir is None:
            raise LaunchError("PostgreSQL server binaries not found (apt-get install postgresql)")
        user = local.postgres_os_user()
        self.directory.chmod(0o700)
        shutil.chown(self.directory, user)
        password_file = self.directory / "pwfile"
        password_file.write_text(self.admin_password + "\n")
        shutil.chown(password_file, user)
        command = [
            str(bin_dir / "initdb"), f"--pgdata={self.data_dir}", "--username=shop_admin", f"--pwfile={password_file}",
            "--auth=scram-sha-256", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync",
        ]  # fmt: skip
        run_checked(local.as_postgres_user(command), cwd=self.directory, env=dict(os.environ), what="initdb")
        password_file.unlink()

    def start(self) -> None:
        command = [
            *infrastructure.postgres_command(data_dir=self.data_dir, port=self.port),
            *("-c", "fsync=off", "-c", "full_page_writes=off"),
        ]  # a throwaway cluster: no safety against the machine's crash (less disk traffic on a shared machine);
        # but synchronous_commit stays on: a commit is acknowledged once its log is written (to the kernel, not to
        # disk), so the chaos run's SIGKILL of the server loses no commit acknowledged (no order answered 201)
        with (self.directory / "postgres.log").open("ab") as log:
            self.popen = subprocess.Popen(
                local.as_postgres_user(command), cwd=self.directory, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        wait_for(self._accepting, timeout=60, what="the throwaway Postgres cluster")

    def _accepting(self) -> bool:
        if self.popen is not None and self.popen.poll() is not None:
            raise LaunchError(f"postgres exited; see {self.directory / 'postgres.log'}")
        with contextlib.closing(psycopg2.connect(self.admin_url, connect_timeout=2)):
            return True

    def stop(self, *, sig: signal.Signals = signal.SIGINT) -> None:
        """A fast shutdown (SIGINT): open transactions roll back, every client is disconnected.

        SIGKILL (to the server and its backends) is a crash: the next start recovers from the write-ahead log.
        """
        if self.popen is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, sig)
        try:
            self.popen.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)
        self.popen = None
        # The server runs under runuser: that one's end is not the server's. A new server refuses to start
        # while the old one's process (its pid in postmaster.pid) still exists.
        wait_for(self._server_gone, timeout=30, what="the Postgres server to be gone")

    def _server_gone(self) -> bool:
        try:
            pid = int((self.data_dir / "postmaster.pid").read_text().split()[0])
        except (FileNotFoundError, ValueError, IndexError):
            return True
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


@contextlib.contextmanager
def throwaway_cluster() -> Iterator[PostgresCluster]:
    """A ``PostgresCluster``, initialised and started; stopped and removed after."""
    cluster = PostgresCluster()
    try:
        cluster.initialize()
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()


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
    # SHOP_TELEMETRY for every process: False runs the system with metrics and traces off (the benchmark compares).
    telemetry: bool = True
    prometheus_port: int = field(default_factory=free_port)
    # Process name -> where Prometheus reads its metrics (shopctl.monitor), for each process started.
    metrics_addresses: dict[str, str] = field(default_factory=dict)
    gateway_ports: tuple[int, int, int] = field(default_factory=lambda: (free_port(), free_port(), free_port()))
    # The gateway's environment: SHOP_GATEWAY_RATE_LIMIT, ... (defaults: shopctl.gateway). Without its per-address
    # limit, as the services here (RATE_LIMITS_OFF): a test's customers all come from one address.
    gateway_environment: dict[str, str] = field(default_factory=lambda: dict(RATE_LIMITS_OFF))

    @property
    def gateway_url(self) -> str:
        """The one entry point, https with the run's own CA (``ca_file``)."""
        return f"https://localhost:{self.gateway_ports[0]}"

    @property
    def gateway_http_url(self) -> str:
        return f"http://localhost:{self.gateway_ports[1]}"

    @property
    def gateway_metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_ports[2]}/metrics"

    @property
    def ca_file(self) -> Path:
        return tls.Paths(self.workdir / "tls").ca

    # The system's own Postgres cluster, if it has one (see ``PostgresCluster``): ``stop_postgres`` stops it.
    postgres: PostgresCluster | None = None
    # Where the services' Redis is, when not this run's own server: a sentinel:// URL of servers the caller runs.
    redis_url_override: str = ""
    # The port the services reach Postgres on, when not the cluster's: a pooler in front of it (PgBouncer).
    database_port: int | None = None
    # Added to every service process's environment (DATABASE_TRANSACTION_POOLING=true behind PgBouncer,
    # the chaos run's shorter visibility timeout).
    extra_environment: dict[str, str] = field(default_factory=dict)
    # False for a run that requests no page with static files (the admin, the API docs): it skips collectstatic,
    # which compresses every file and takes minutes on a busy 2-core machine.
    collect_static: bool = True
    # Replicas per process kind (``{"catalog-worker": 3}``), as ``up --scale``
    # (replica n of a web kind listens on its service's port + 100 * (n - 1)); the description's count otherwise.
    scale: dict[str, int] = field(default_factory=dict)

    @property
    def redis_url(self) -> str:
        return self.redis_url_override or f"redis://127.0.0.1:{self.redis_port}/0"

    @property
    def site(self) -> Site:
        https, http, metrics = self.gateway_ports
        return Site(
            root=ROOT, bin_dir=VENV_BIN, host="127.0.0.1", ports=self.ports, state_dir=self.workdir,
            web_server=self.web_server, web_replicas=self.scale, monitor_dir=self.workdir / "prometheus",
            prometheus_port=self.prometheus_port,
            gateway=GatewaySite(
                https_port=https, http_port=http, metrics_port=metrics, config=self.workdir / "gateway" / "haproxy.cfg",
                certificate=tls.Paths(self.workdir / "tls").server, program=GATEWAY_PROGRAM, backend_dns=False,
            ),
        )  # fmt: skip

    @property
    def traces_file(self) -> Path:
        """Where every process of this run writes its spans (JSON lines, ``common.telemetry.tracing``)."""
        return self.workdir / "telemetry" / "traces.jsonl"

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

    def manage(
        self, service: str, *arguments: str, environment: dict[str, str] | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """``manage.py <arguments>`` of ``service`` in this system's environment, as an operator runs it."""
        return subprocess.run(  # noqa: S603 - our own manage.py
            [self.site.program("python"), "manage.py", *arguments],
            cwd=ROOT / service,
            env={**self.service_environment(service), **(environment or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
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
            **RATE_LIMITS_OFF,
            **(FAST_SAGA_ENVIRONMENT if self.fast_saga else {}),
            **self.extra_environment,
            # This run's spans in this run's folder, so runs never read each other's.
            "SHOP_TELEMETRY_TRACES_FILE": str(self.traces_file),
            "SHOP_TELEMETRY": "on" if self.telemetry else "off",
        }

    def scheduler_environment(self) -> dict[str, str]:
        return {
            "PATH": os.environ["PATH"],
            "PYTHONUNBUFFERED": "1",
            "REDIS_URL": self.redis_url,
            **(FAST_SCHEDULER_ENVIRONMENT if self.fast_saga else {}),
            "SHOP_TELEMETRY": "on" if self.telemetry else "off",
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
        """Start one process (replica ``replica``) of the system as the description says, with its metrics where
        the description says; see ``replica_name``."""
        if replica > 1 and not kind.scalable:
            raise LaunchError(f"{kind.name} runs once by design")
        if kind.role == "gateway":
            environment = {"PATH": os.environ["PATH"], **self.gateway_environment}
        elif kind.role == "monitor":
            environment = {"PATH": os.environ["PATH"], "LC_ALL": "C.UTF-8"}
        elif kind.service:
            environment = self.service_environment(kind.service.name)
        else:
            environment = self.scheduler_environment()
        name = replica_name(kind, replica)
        metrics_port = self.site.gateway.metrics_port if kind.metrics == "exporter" else free_port()
        address = monitor.metrics_address(
            kind, host="127.0.0.1", own_port=kind.port(self.site, replica), metrics_port=metrics_port
        )
        environment.update(
            monitor.telemetry_environment(kind, address=address, multiprocess_dir=self.workdir / "metrics" / name)
        )
        monitor.empty_multiprocess_dir(environment)
        if address:
            self.metrics_addresses[name] = address
        return self.start(
            name, kind.command(self.site, replica=replica), cwd=Path(kind.cwd(self.site)), env=environment
        )

    def running_metrics_addresses(self) -> dict[str, str]:
        """Where each process of the system that is running now serves its metrics (process name -> host:port)."""
        return {
            name: address
            for name, address in self.metrics_addresses.items()
            if name in self.processes and self.processes[name].popen.poll() is None
        }

    def replicas(self, kind: ProcessKind) -> int:
        """How many processes of ``kind`` this system runs."""
        return self.scale.get(kind.name, kind.replicas)

    def write_gateway_config(self) -> bool:
        """This run's CA, certificate and HAProxy configuration (over the web replicas it runs), checked by HAProxy;
        True if the configuration changed."""
        tls.ensure_certificates(self.workdir / "tls")
        try:
            return gateway.write(self.site)
        except gateway.InvalidConfig as error:
            raise LaunchError(str(error)) from error

    def reload_gateway(self) -> None:
        """The running gateway over the web replicas ``scale`` says now, as ``up --scale`` does it: the configuration
        written again and HAProxy's master told to read it (no connection dropped); returns once the gateway
        balances over exactly these replicas, each of them up."""
        if self.write_gateway_config():
            os.kill(self.processes["gateway"].popen.pid, gateway.RELOAD_SIGNAL)
        self.wait_until_the_gateway_balances()

    def wait_until_the_gateway_balances(self, *, timeout: float = 30) -> None:
        """Return once the gateway balances over exactly the web replicas ``scale`` says, each of them up: its
        health checks find a server down after a dependency's outage, and up again only after two passing checks
        (``shopctl.gateway``), seconds after the server itself is ready again."""
        expected = {
            gateway.server_name(service, replica)
            for service in SERVICES
            for replica in range(1, self.replicas(process(service, "web")) + 1)
        }
        wait_for(
            lambda: self.gateway_servers_up() == expected, timeout=timeout, what=f"the gateway over {sorted(expected)}"
        )

    def gateway_servers_up(self) -> set[str]:
        """The web replicas the gateway's worker that answers balances over and finds up (its exporter's
        ``haproxy_server_status``)."""
        exported = requests.get(self.gateway_metrics_url, params={"scope": "server"}, timeout=2)
        exported.raise_for_status()
        return {
            sample.labels["server"]
            for family in text_string_to_metric_families(exported.text)
            if family.name == "haproxy_server_status"
            for sample in family.samples
            if sample.labels.get("state") == "UP" and sample.value == 1
        }

    def set_scale(self, scale: Mapping[str, int]) -> None:
        """Run ``scale``'s replicas of the kinds it names, the description's count of the others (``up --scale``).
        New replicas start first, web ones until ready, before the gateway balances over them; replicas no longer
        wanted stop only after the gateway has let go of them. A replica that is not running is left so."""
        before = {kind.name: self.replicas(kind) for kind in DEPLOYED}
        self.scale.clear()
        self.scale.update(scale)
        after = {kind.name: self.replicas(kind) for kind in DEPLOYED}
        added = [(kind, replica) for kind in DEPLOYED for replica in range(before[kind.name] + 1, after[kind.name] + 1)]
        for kind, replica in added:
            port = kind.port(self.site, replica)
            if kind.role == "web" and port is not None and not port_closed(port):
                raise LaunchError(f"port {port} for {replica_name(kind, replica)} is taken")
            self.start_kind(kind, replica=replica)
        for kind, replica in added:
            if kind.role == "web" and kind.service:
                self.wait_until_ready(kind.service, replica=replica)
        if any(before[kind.name] != after[kind.name] for kind in DEPLOYED if kind.role == "web"):
            self.reload_gateway()
        for kind in DEPLOYED:
            for replica in range(after[kind.name] + 1, before[kind.name] + 1):
                if replica_name(kind, replica) in self.processes:
                    self.stop(replica_name(kind, replica))

    def start_gateway(self) -> Process:
        started = self.start_kind(PROCESSES_BY_NAME["gateway"])

        def listening() -> bool:
            if started.popen.poll() is not None:
                raise LaunchError(f"the gateway exited:\n{started.log_tail()}")
            return not port_closed(self.gateway_ports[0])

        wait_for(listening, timeout=20, what="the gateway")
        return started

    def start_prometheus(self, *, scrape_interval_seconds: float = monitor.SCRAPE_INTERVAL_SECONDS) -> str:
        """Prometheus on a free port, scraping every process running now (as ``up``'s, unless told otherwise);
        returns its base URL. Started again after processes restart, it scrapes their new metrics ports."""
        targets = [
            monitor.Target(job=kind.name, instance=replica_name(kind, replica), address=address)
            for kind in PROCESSES_BY_NAME.values()
            for replica in range(1, self.replicas(kind) + 1)
            if (address := self.running_metrics_addresses().get(replica_name(kind, replica)))
        ]
        prometheus = PROCESSES_BY_NAME["prometheus"]
        own = monitor.metrics_address(prometheus, host="127.0.0.1", own_port=self.prometheus_port, metrics_port=None)
        if own:
            targets.append(monitor.Target(job=prometheus.name, instance=prometheus.name, address=own))
        config = Path(self.site.monitor_dir) / "prometheus.yml"
        monitor.write_config(config, targets, scrape_interval_seconds=scrape_interval_seconds)
        self.start_kind(prometheus)
        url = f"http://127.0.0.1:{self.prometheus_port}"
        wait_for(lambda: requests.get(f"{url}/-/ready", timeout=2).ok, timeout=30, what="Prometheus to be ready")
        return url

    def start_extra_web(self, service: Service, *, name: str, environment: dict[str, str]) -> str:
        """One more web process of ``service`` beside the system's, on a free port, with ``environment`` over
        the service's own (rate limits on, a database that does not answer, ...); its URL once it is live."""
        kind = process(service, "web")
        site = dataclasses.replace(self.site, ports={**self.ports, service.name: free_port()})
        self.start(
            name,
            kind.command(site),
            cwd=Path(kind.cwd(site)),
            env={**self.service_environment(service.name), **environment},
        )
        url = f"http://127.0.0.1:{site.port(service)}"
        started = self.processes[name]

        def live() -> bool:
            if started.popen.poll() is not None:
                raise LaunchError(f"{name} exited:\n{started.log_tail()}")
            return requests.get(f"{url}/health/live/", timeout=2).status_code == 200

        wait_for(live, timeout=START_TIMEOUT_SECONDS, what=f"{name} to be live")
        return url

    def stop(self, name: str) -> None:
        stopped = self.processes.pop(name)
        self.metrics_addresses.pop(name, None)  # started again, it serves its metrics on a new port
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

    def stop_postgres(self) -> None:
        """Stop the system's own Postgres cluster (a fast shutdown); its data is kept for ``start_postgres``."""
        if self.postgres is None:
            raise LaunchError("this system runs in a shared Postgres cluster: it has none of its own to stop")
        self.postgres.stop()

    def start_postgres(self) -> None:
        if self.postgres is None:
            raise LaunchError("this system runs in a shared Postgres cluster: it has none of its own to start")
        self.postgres.start()

    def kill(self, name: str, sig: signal.Signals = signal.SIGKILL) -> None:
        """Send ``sig`` to a process of the system (and its children: a web server's workers) and wait for its end."""
        killed = self.processes.pop(name)
        self.metrics_addresses.pop(name, None)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(killed.popen.pid, sig)
        killed.popen.wait(timeout=30)

    def restart(self, name: str) -> Process:
        """Start a stopped or killed process of the description again, as its supervisor would."""
        return self.start_kind(PROCESSES_BY_NAME[name])

    def wait_until_ready(self, service: Service, *, replica: int = 1, timeout: float = START_TIMEOUT_SECONDS) -> None:
        web = self.processes[replica_name(process(service, "web"), replica)]
        url = f"http://127.0.0.1:{self.site.port(service, replica)}/health/ready/"

        def ready() -> bool:
            if web.popen.poll() is not None:
                raise LaunchError(f"{web.name} exited:\n{web.log_tail()}")
            return requests.get(url, timeout=2).status_code == 200

        wait_for(ready, timeout=timeout, what=f"{web.name} to be ready")


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
    system.write_gateway_config()
    for kind in DEPLOYED:  # the gateway for a test that asks for it (System.start_gateway), Prometheus likewise
        if kind.role != "gateway":
            for replica in range(1, system.replicas(kind) + 1):
                system.start_kind(kind, replica=replica)
    system.urls.update({service.name: system.url(service) for service in SERVICES})
    for service in SERVICES:
        system.wait_until_ready(service)
    system.start_gateway()
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

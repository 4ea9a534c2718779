"""The processes of the shop, described once.

Every program the system runs is one entry of ``PROCESSES``: its name, what it runs, where, on which
port, how it is known to be ready, which environment it reads and how many replicas it may have.
Everything that starts the system draws from here:

- ``./manage_all.sh up`` renders supervisor's configuration from it (``shopctl.supervisor``);
- the cross-service tests and the benchmark start the same commands as child processes
  (``shopctl.launcher``);
- tests/test_compose.py holds compose.yaml's commands, ports and environment names to it.

A command is the same everywhere; what differs between a local run, a test run and a container is
only *where*: the folder of the code, the directory of the programs, the listening address, the
ports. That is a ``Site``. Adding a process kind is one more entry below.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePath, PurePosixPath
from typing import Literal

# ---------------------------------------------------------------- the services


@dataclass(frozen=True)
class Service:
    """One Django project: its import root, its short name and its default port."""

    name: str  # the project folder and import root: "users_service"
    short: str  # its queue, its schema, the prefix of its role and of its processes' names: "users"
    port: int  # the default port of its web server

    @property
    def queue(self) -> str:
        return self.short

    @property
    def url_prefix(self) -> str:
        """Where it serves its admin, docs, schema and static files: ``/catalog/`` (common.settings.url_prefix)."""
        return f"/{self.short}/"

    @property
    def role(self) -> str:
        """The Postgres role the service connects as (deploy/postgres/bootstrap.sql)."""
        return f"{self.short}_svc"

    @property
    def port_variable(self) -> str:
        """The environment variable that moves its port locally (``SHOP_USERS_PORT``)."""
        return f"SHOP_{self.short.upper()}_PORT"

    @property
    def password_variable(self) -> str:
        """The variable holding its role's password (.var/secrets.env, compose)."""
        return f"{self.short.upper()}_DB_PASSWORD"

    @property
    def secret_key_variable(self) -> str:
        return f"{self.short.upper()}_SECRET_KEY"

    def settings_module(self, environment: str) -> str:
        return f"{self.name}.settings.{environment}"


USERS = Service("users_service", "users", 8001)
CATALOG = Service("catalog_service", "catalog", 8002)
ORDERS = Service("orders_service", "orders", 8003)
SERVICES: tuple[Service, ...] = (USERS, CATALOG, ORDERS)
SERVICES_BY_NAME: Mapping[str, Service] = {service.name: service for service in SERVICES}


# ---------------------------------------------------------------- where the processes run


@dataclass(frozen=True)
class WebServer:
    """A service's WSGI server: gunicorn (sync workers) or granian (Rust HTTP, the WSGI app on Python threads).

    ``threads`` is granian's blocking threads per worker (``None``: granian's default). The benchmark
    compares these configurations; the default (``DEFAULT_WEB_SERVER``) is the fastest it found, and it is
    what every place that runs the system runs.
    """

    name: Literal["granian", "gunicorn"]
    workers: int
    threads: int | None = None

    @property
    def label(self) -> str:
        threads = "" if self.threads is None else f", {self.threads} thread{'s' if self.threads > 1 else ''}"
        return f"{self.name} x{self.workers}{threads}"

    def command(self, service: Service, *, site: Site, port: int) -> list[str]:
        application = f"{service.name}.wsgi:application"
        if self.name == "granian":
            threads = [] if self.threads is None else ["--blocking-threads", str(self.threads)]
            return [
                site.program("granian"),
                *("--interface", "wsgi", "--host", site.host, "--port", str(port)),
                *("--workers", str(self.workers), *threads, "--no-ws"),
                # A worker that dies is started again; one that hangs on shutdown is killed after 10 s.
                *("--respawn-failed-workers", "--workers-kill-timeout", "10"),
                # granian's own lines as JSON too; no access log: each request's line is Django's (logger
                # common.request), which knows the request id, trace id and route that granian's Rust side cannot.
                *("--log-config", str(site.root / "deploy" / "granian" / "logging.json")),
                application,
            ]
        # --preload: the application is imported once, in the master, and its workers share those pages.
        return [
            site.program("gunicorn"),
            *(application, "--bind", f"{site.host}:{port}", "--workers", str(self.workers), "--preload"),
        ]


# One blocking thread per granian worker: the Python side runs like a sync worker (one request at a time,
# no GIL contention), while granian's Rust side reads and writes the sockets.
DEFAULT_WEB_SERVER = WebServer("granian", workers=2, threads=1)


# Locally, replica n of a service's web server listens on its port + 100 * (n - 1): orders-web-2 on 8103.
REPLICA_PORT_STEP = 100


@dataclass(frozen=True)
class GatewaySite:
    """Where the gateway (HAProxy) runs: its ports, its configuration file and TLS certificate, how it finds backends.

    ``backend_dns``: the web servers are found by name through DNS (compose, Kubernetes: every address a
    service's name resolves to is a backend); otherwise they are on the site's host at their replicas' ports.
    """

    https_port: int = 8443
    http_port: int = 8080  # answers 308 to https
    metrics_port: int = 8404  # HAProxy's own Prometheus exporter, never routed from outside
    config: PurePath = PurePosixPath("/usr/local/etc/haproxy/haproxy.cfg")
    certificate: PurePath = PurePosixPath("/etc/shop/tls/server.pem")  # certificate, chain and key in one PEM
    program: str = "haproxy"
    backend_dns: bool = True
    metrics_host: str = "127.0.0.1"


@dataclass(frozen=True)
class Site:
    """Where the system runs: what differs between a local run, a test run and a container."""

    root: PurePath  # the repository's code: the checkout, or /app in the image
    bin_dir: PurePath | None  # where the programs are; None: on PATH (the image)
    host: str  # the web servers' listening address
    ports: Mapping[str, int]  # service name -> its web server's port
    state_dir: PurePath  # where the scheduler keeps its schedule
    monitor_dir: PurePath = PurePosixPath("/prometheus")  # Prometheus' configuration and storage (local only)
    prometheus_port: int = 9090
    web_server: WebServer = DEFAULT_WEB_SERVER
    # A worker's Celery node name must be unique among the workers on one broker: locally the process
    # name and replica number are added; a container's host name (%h) is already its own.
    unique_node_names: bool = True
    gateway: GatewaySite = field(default_factory=lambda: GatewaySite())
    # How many replicas of each web process kind run ("orders-web" -> 2); the gateway balances over them all.
    web_replicas: Mapping[str, int] = field(default_factory=dict)

    def program(self, name: str) -> str:
        return name if self.bin_dir is None else str(self.bin_dir / name)

    def port(self, service: Service, replica: int = 1) -> int:
        """A web replica's port: the service's port, plus ``REPLICA_PORT_STEP`` for each replica after the first."""
        return self.ports[service.name] + REPLICA_PORT_STEP * (replica - 1)


# compose.yaml and the Kubernetes manifests: the image's /app, programs on PATH, every interface.
CONTAINER_SITE = Site(
    root=PurePosixPath("/app"),
    bin_dir=None,
    host="0.0.0.0",  # noqa: S104 - inside a container, reached through its network
    ports={service.name: service.port for service in SERVICES},
    state_dir=PurePosixPath("/tmp"),  # noqa: S108 - the container's own, written by the scheduler only
    unique_node_names=False,
    # Prometheus scrapes the gateway from another container; the port is never published.
    gateway=GatewaySite(metrics_host="0.0.0.0"),  # noqa: S104
)


# ---------------------------------------------------------------- the environment


# What a Django process of any service reads from the environment in production settings.
DJANGO_ENVIRONMENT = ("DJANGO_SETTINGS_MODULE", "DJANGO_SECRET_KEY", "DATABASE_URL", "REDIS_URL", "DJANGO_STATIC_ROOT")
# users_service signs tokens with its key, given as PEM text or a file (its settings require one of the two);
# the others verify tokens through its JWKS and log operators in there.
SIGNER_ENVIRONMENT = ("JWT_PRIVATE_KEY", "JWT_PRIVATE_KEY_FILE", "JWT_SIGNING_KEY_ID")
VERIFIER_ENVIRONMENT = ("JWT_JWKS_URL", "USERS_SERVICE_URL")
# The services' rate limits (common.throttling): SHOP_RATE_LIMITS=off switches them off; a scope's rate, "10/hour".
RATE_LIMIT_ENVIRONMENT = (
    "SHOP_RATE_LIMITS",
    "SHOP_THROTTLE_REGISTER",
    "SHOP_THROTTLE_TOKEN",
    "SHOP_THROTTLE_REFRESH",
    "SHOP_THROTTLE_ORDERS",
)
# Telemetry, in every process (common.telemetry): SHOP_TELEMETRY=off turns it off; a worker's or the scheduler's
# metrics are served on SHOP_METRICS_ADDRESS (host:port), each replica's its own.
TELEMETRY_ENVIRONMENT = ("SHOP_TELEMETRY", "SHOP_METRICS_ADDRESS")
# Optional everywhere: read with a default by common.settings and the services' settings.
OPTIONAL_ENVIRONMENT = (
    *RATE_LIMIT_ENVIRONMENT,
    "DJANGO_ALLOWED_HOSTS",
    "DJANGO_CSRF_TRUSTED_ORIGINS",
    "DJANGO_SECURE_COOKIES",
    "DJANGO_TRUSTED_PROXIES",
    "DJANGO_LOG_LEVEL",
    "DJANGO_EMAIL_BACKEND",
    "CELERY_TASK_LOG_LEVEL",
    "CELERY_VISIBILITY_TIMEOUT",
    "CELERY_TASK_TIME_LIMIT",
    "JWT_PUBLIC_JWKS",
    "ORDERS_SAGA_TIMEOUT_SECONDS",
    "MESSAGING_RETRY_BACKOFF_SECONDS",
    "MESSAGING_RELAY_MIN_AGE_SECONDS",
    "DATABASE_TRANSACTION_POOLING",
    "MESSAGING_PUBLISH_REPLICAS",
    # Telemetry (common.telemetry): SHOP_TELEMETRY=off turns traces and metrics off; spans go to the file, or by
    # OTLP to the endpoint when it is set, sampled (parent-based) at the ratio.
    "SHOP_TELEMETRY",
    "SHOP_TELEMETRY_TRACES_FILE",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_TRACES_SAMPLER_ARG",
    "PYTHONUNBUFFERED",
    "LANG",
    "PATH",
    *TELEMETRY_ENVIRONMENT,
    # A web server's workers count into files there, added up by /metrics (common.telemetry.metrics).
    "PROMETHEUS_MULTIPROC_DIR",
    "SHOP_METRICS_ALLOWED_NETWORKS",
)
SCHEDULER_ENVIRONMENT = ("REDIS_URL",)
# The gateway reads these when it starts (its configuration names them; shopctl.gateway): its per-address limit.
GATEWAY_OPTIONAL_ENVIRONMENT = ("SHOP_RATE_LIMITS", "SHOP_GATEWAY_RATE_LIMIT", "SHOP_GATEWAY_RATE_PERIOD")
SCHEDULER_OPTIONAL_ENVIRONMENT = (
    "CELERY_VISIBILITY_TIMEOUT",
    "OUTBOX_RELAY_INTERVAL_SECONDS",
    "ORDERS_REDRIVE_INTERVAL_SECONDS",
    "PYTHONUNBUFFERED",
    "PATH",
    *TELEMETRY_ENVIRONMENT,
)


# ---------------------------------------------------------------- the process kinds

Role = Literal["web", "worker", "scheduler", "gateway", "monitor"]
Readiness = Literal["http", "process"]
# Where Prometheus reads a process's metrics: "port": /metrics on the process's own port (a web server,
# Prometheus itself); "metrics-port": a port of its own, given to each replica in SHOP_METRICS_ADDRESS
# (``host:port``; a Celery worker, the scheduler); "exporter": the gateway's own exporter port
# (``GatewaySite.metrics_port``, HAProxy's Prometheus endpoint); "none".
Scrape = Literal["port", "metrics-port", "exporter", "none"]


@dataclass(frozen=True)
class ProcessKind:
    """One kind of process of the system: ``catalog-worker``, ``orders-web``, ``scheduler``."""

    name: str
    role: Role
    service: Service | None
    command_for: Callable[[ProcessKind, Site, int], list[str]] = field(repr=False)
    # Readiness: "http" answers GET /health/ready/ with 200 on its service's port; "process": it keeps running.
    readiness: Readiness = "process"
    replicas: int = 1  # how many `up` starts unless told otherwise (--scale NAME=N)
    scalable: bool = True
    # How a stop is asked for, and how long it may take: a worker finishes its task (time limit 60 s).
    stop_signal: str = "TERM"
    stop_wait_seconds: int = 30
    metrics: Scrape = "metrics-port"
    # Run by `up` only: compose.yaml and the manifests bring their own (compose's Prometheus, Grafana, ...).
    local_only: bool = False

    def command(self, site: Site, *, replica: int = 1) -> list[str]:
        return self.command_for(self, site, replica)

    def cwd(self, site: Site) -> PurePath:
        """A service's processes run in its project folder (its only import root); the gateway in its configuration's
        folder; the scheduler in the repository's."""
        if self.role == "gateway":
            return site.gateway.config.parent
        return site.root / self.service.name if self.service else site.root

    def port(self, site: Site, replica: int = 1) -> int | None:
        if self.role == "gateway":
            return site.gateway.https_port
        if self.role == "monitor":
            return site.prometheus_port
        return site.port(self.service, replica) if self.role == "web" and self.service else None

    @property
    def environment_names(self) -> tuple[str, ...]:
        """The variables this process needs in production settings (compose, Kubernetes, the tests)."""
        if self.role in ("gateway", "monitor"):
            return ()
        if self.service is None:
            return SCHEDULER_ENVIRONMENT
        return DJANGO_ENVIRONMENT if self.service is USERS else (*DJANGO_ENVIRONMENT, *VERIFIER_ENVIRONMENT)

    @property
    def optional_environment_names(self) -> tuple[str, ...]:
        if self.role == "gateway":
            return GATEWAY_OPTIONAL_ENVIRONMENT
        if self.role == "monitor":
            return ()
        if self.service is None:
            return SCHEDULER_OPTIONAL_ENVIRONMENT
        return (*OPTIONAL_ENVIRONMENT, *SIGNER_ENVIRONMENT) if self.service is USERS else OPTIONAL_ENVIRONMENT


def _web_command(kind: ProcessKind, site: Site, replica: int) -> list[str]:
    assert kind.service is not None  # noqa: S101 - a web process always belongs to a service
    return site.web_server.command(kind.service, site=site, port=site.port(kind.service, replica))


def _worker_command(kind: ProcessKind, site: Site, replica: int) -> list[str]:
    """The service's Celery worker: one process, one task at a time (the solo pool, see common.celery_app)."""
    assert kind.service is not None  # noqa: S101 - a worker always belongs to a service
    node = f"{kind.name}-{replica}" if site.unique_node_names else kind.service.short
    return [
        # --quiet: no start-up banner, so every line of its log is JSON (common.telemetry.logs).
        site.program("celery"),
        "--quiet",
        *("-A", kind.service.name, "worker", "--queues", kind.service.queue),
        *("--hostname", f"{node}@%h", "--loglevel", "INFO"),
    ]


def _scheduler_command(kind: ProcessKind, site: Site, replica: int) -> list[str]:
    """Celery beat for the whole system: it only publishes periodic tasks to their owners' queues."""
    schedule = site.state_dir / "celerybeat-schedule"
    return [
        *(site.program("celery"), "--quiet", "-A", "common.scheduler", "beat"),  # --quiet: JSON lines only
        *("--schedule", str(schedule), "--loglevel", "INFO"),
    ]


def _gateway_command(kind: ProcessKind, site: Site, replica: int) -> list[str]:
    """HAProxy in the foreground (-db), master-worker (-W: a reload or a dying worker is handled by its master);
    its configuration is rendered from this description (shopctl.gateway)."""
    return [site.gateway.program, "-W", "-db", "-f", str(site.gateway.config)]


def _monitor_command(kind: ProcessKind, site: Site, replica: int) -> list[str]:
    """Debian's Prometheus, scraping every process; its configuration is rendered by shopctl.monitor."""
    return [
        "prometheus",
        f"--config.file={site.monitor_dir / 'prometheus.yml'}",
        f"--storage.tsdb.path={site.monitor_dir / 'data'}",
        "--storage.tsdb.retention.time=7d",
        f"--web.listen-address={site.host}:{site.prometheus_port}",
    ]


def _service_processes(service: Service) -> list[ProcessKind]:
    return [
        ProcessKind(f"{service.short}-web", "web", service, _web_command, readiness="http", metrics="port"),
        ProcessKind(
            f"{service.short}-worker",
            "worker",
            service,
            _worker_command,
            stop_wait_seconds=70,  # > the time limit
        ),
    ]


PROCESSES: tuple[ProcessKind, ...] = (
    *(kind for service in SERVICES for kind in _service_processes(service)),
    # One process by design: two would publish every periodic task twice (harmless, but wasted work).
    ProcessKind("scheduler", "scheduler", None, _scheduler_command, scalable=False),
    # The one entry point (ARCHITECTURE.md, Edge): TLS, routes, limits, balancing over every web replica.
    # Its soft stop (USR1) lets requests under way finish.
    ProcessKind("gateway", "gateway", None, _gateway_command, stop_signal="USR1", metrics="exporter"),
    # Prometheus for `up` (shopctl.monitor renders its configuration from this description).
    ProcessKind(
        "prometheus",
        "monitor",
        None,
        _monitor_command,
        scalable=False,
        stop_signal="INT",
        metrics="port",
        local_only=True,
    ),  # fmt: skip
)
# What compose.yaml and the Kubernetes manifests run as the system's own processes.
DEPLOYED: tuple[ProcessKind, ...] = tuple(kind for kind in PROCESSES if not kind.local_only)
PROCESSES_BY_NAME: Mapping[str, ProcessKind] = {kind.name: kind for kind in PROCESSES}


def migrate_command(site: Site) -> list[str]:
    """A service's migrations, run in its project folder before its web server and worker start."""
    return [site.program("python"), "manage.py", "migrate", "--no-input"]


def process(service: Service, role: Role) -> ProcessKind:
    """The process kind of ``role`` of ``service``: ``process(CATALOG, "worker")``."""
    return PROCESSES_BY_NAME[f"{service.short}-{role}"]

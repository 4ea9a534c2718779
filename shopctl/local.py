"""The local runtime's state under ``.var/``: configuration from the environment, secrets, keys,
the Postgres cluster and the services' environment files.

Everything ``up`` sets up is idempotent: what exists is kept.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from shopctl import infrastructure
from shopctl.processes import (
    DEFAULT_WEB_SERVER,
    RATE_LIMIT_ENVIRONMENT,
    SERVICES,
    USERS,
    GatewaySite,
    Service,
    Site,
    WebServer,
)

ROOT = infrastructure.ROOT
VAR = ROOT / ".var"
TLS_DIR = VAR / "tls"
GATEWAY_CONFIG = VAR / "gateway" / "haproxy.cfg"


class SetupError(RuntimeError):
    """Something ``up`` needs is missing and cannot be set up here; the message says what to do."""


def log(message: str) -> None:
    print(f"\033[1m==> {message}\033[0m", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Config:
    """What the environment of ``./manage_all.sh`` says (see README, Configuration)."""

    ports: dict[str, int] = field(
        default_factory=lambda: {s.name: int(os.environ.get(s.port_variable, s.port)) for s in SERVICES}
    )
    pg_port: int = field(default_factory=lambda: int(os.environ.get("SHOP_PG_PORT", "54329")))
    redis_port: int = field(default_factory=lambda: int(os.environ.get("SHOP_REDIS_PORT", "63790")))
    prometheus_port: int = field(default_factory=lambda: int(os.environ.get("SHOP_PROMETHEUS_PORT", "9090")))
    # Workers and the scheduler serve their metrics on ports from here on, one each (shopctl.supervisor).
    metrics_port_base: int = field(
        default_factory=lambda: int(
            os.environ.get("SHOP_METRICS_PORT_BASE") or int(os.environ.get("SHOP_PROMETHEUS_PORT", "9090")) + 10
        )
    )
    database: str = field(default_factory=lambda: os.environ.get("SHOP_DB_NAME", "shop"))
    ready_timeout: int = field(default_factory=lambda: int(os.environ.get("SHOP_READY_TIMEOUT", "120")))
    # The default web server, with as many worker processes per service as SHOP_WEB_WORKERS says.
    web_server: WebServer = field(
        default_factory=lambda: replace(
            DEFAULT_WEB_SERVER, workers=int(os.environ.get("SHOP_WEB_WORKERS", DEFAULT_WEB_SERVER.workers))
        )
    )
    # Given all three, no local Postgres is used; given REDIS_URL, no local Redis.
    external_database_urls: dict[str, str] = field(
        default_factory=lambda: {
            s.name: os.environ[f"{s.short.upper()}_DATABASE_URL"]
            for s in SERVICES
            if os.environ.get(f"{s.short.upper()}_DATABASE_URL")
        }
    )
    external_redis_url: str = field(default_factory=lambda: os.environ.get("REDIS_URL", ""))
    gateway_port: int = field(default_factory=lambda: int(os.environ.get("SHOP_GATEWAY_PORT", "8443")))
    gateway_http_port: int = field(default_factory=lambda: int(os.environ.get("SHOP_GATEWAY_HTTP_PORT", "8080")))
    gateway_metrics_port: int = field(default_factory=lambda: int(os.environ.get("SHOP_GATEWAY_METRICS_PORT", "8404")))

    @property
    def external_database(self) -> bool:
        return len(self.external_database_urls) == len(SERVICES)

    @property
    def external_redis(self) -> bool:
        return bool(self.external_redis_url)

    def redis_url(self, index: int = 0) -> str:
        return self.external_redis_url or f"redis://127.0.0.1:{self.redis_port}/{index}"

    @property
    def gateway_url(self) -> str:
        return f"https://localhost:{self.gateway_port}"

    def site(self, scale: Mapping[str, int] | None = None) -> Site:
        """Where the local system runs; ``scale``: replicas by process kind (``up --scale``)."""
        return Site(
            root=ROOT,
            bin_dir=VAR / "venv" / "bin",
            host="127.0.0.1",
            ports=self.ports,
            state_dir=VAR / "scheduler",
            web_server=self.web_server,
            gateway=GatewaySite(
                https_port=self.gateway_port,
                http_port=self.gateway_http_port,
                metrics_port=self.gateway_metrics_port,
                config=GATEWAY_CONFIG,
                certificate=TLS_DIR / "server.pem",
                program=shutil.which("haproxy") or "/usr/sbin/haproxy",
                backend_dns=False,
            ),
            web_replicas=dict(scale or {}),
            monitor_dir=VAR / "prometheus",
            prometheus_port=self.prometheus_port,
        )


# ---------------------------------------------------------------- system packages


def apt_install(packages: list[str]) -> None:
    """Install Debian packages as root (services kept from starting meanwhile); otherwise name the command."""
    if os.geteuid() != 0:
        raise SetupError(
            f"missing: {' '.join(packages)}. Install with: sudo apt-get update && sudo apt-get install -y"
            f" {' '.join(packages)}"
        )
    if shutil.which("apt-get") is None:
        raise SetupError(f"missing: {' '.join(packages)}, and this machine has no apt-get")
    log(f"installing {' '.join(packages)} (apt)")
    policy, created = Path("/usr/sbin/policy-rc.d"), False
    if not policy.exists():  # keep apt from starting the packages' own servers on their default ports
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
        created = True
    VAR.mkdir(exist_ok=True)
    try:
        with (VAR / "apt.log").open("ab") as apt_log:
            environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
            for command in (
                ["apt-get", "update", "-qq"],
                ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages],
            ):
                if subprocess.run(command, stdout=apt_log, stderr=apt_log, env=environment, check=False).returncode:
                    raise SetupError(f"{' '.join(command[:2])} {' '.join(packages)} failed; see {VAR / 'apt.log'}")
    finally:
        if created:
            policy.unlink()


def ensure_system_packages(config: Config, *, extra: tuple[tuple[str, str], ...] = ()) -> None:
    """Postgres and Redis unless external ones are configured; ``extra``: (program, package) pairs."""
    missing = []
    if not config.external_database and infrastructure.postgres_bin_dir() is None:
        missing.append("postgresql")
    if not config.external_redis and shutil.which("redis-server") is None:
        missing.append("redis-server")
    if shutil.which("haproxy") is None and not Path("/usr/sbin/haproxy").exists():
        missing.append("haproxy")  # the gateway
    missing += [package for program, package in extra if shutil.which(program) is None]
    if missing:
        apt_install(missing)


# ---------------------------------------------------------------- secrets, keys, environment files

SECRETS_FILE = VAR / "secrets.env"
SIGNING_KEY_FILE = VAR / "keys" / "users-signing-key.pem"


def ensure_secrets() -> dict[str, str]:
    """Local passwords and secret keys, generated once into .var/secrets.env (mode 600), and exported."""
    if not SECRETS_FILE.exists():
        log("generating local passwords and secret keys (.var/secrets.env)")
        values = {"PG_ADMIN_PASSWORD": secrets.token_urlsafe(32)}
        for service in SERVICES:
            values[service.password_variable] = secrets.token_urlsafe(32)
            values[service.secret_key_variable] = secrets.token_urlsafe(32)
        write_private(SECRETS_FILE, "".join(f"{name}={value}\n" for name, value in values.items()))
    loaded = dict(line.split("=", 1) for line in SECRETS_FILE.read_text().splitlines() if "=" in line)
    os.environ.update(loaded)
    return loaded


def write_private(path: Path, text: str | bytes) -> None:
    """Write a file only its owner may read, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(text.encode() if isinstance(text, str) else text)
    partial.replace(path)


def ensure_signing_key() -> None:
    """The development key pair that signs users_service's tokens; catalog and orders only get its JWKS."""
    if SIGNING_KEY_FILE.exists():
        return
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    log("generating the development token signing key (.var/keys/)")
    SIGNING_KEY_FILE.parent.mkdir(mode=0o700, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    write_private(SIGNING_KEY_FILE, pem)


def admin_database_url(config: Config, database: str = "postgres") -> str:
    return f"postgres://shop_admin:{os.environ['PG_ADMIN_PASSWORD']}@127.0.0.1:{config.pg_port}/{database}"


def service_database_url(config: Config, service: Service) -> str:
    if config.external_database:
        return config.external_database_urls[service.name]
    return infrastructure.database_url(
        admin_database_url(config),
        user=service.role,
        password=os.environ[service.password_variable],
        database=config.database,
    )


def identity_environment(config: Config, service: Service) -> dict[str, str]:
    """users_service signs with the development key; the others verify through its JWKS."""
    if service is USERS:
        return {"JWT_ISSUER": "shop-users", "JWT_PRIVATE_KEY_FILE": str(SIGNING_KEY_FILE)}
    users = f"http://127.0.0.1:{config.ports[USERS.name]}"
    return {"JWT_ISSUER": "shop-users", "JWT_JWKS_URL": f"{users}/.well-known/jwks.json", "USERS_SERVICE_URL": users}


def write_env_files(config: Config) -> None:
    """.var/env/<service>.env: what the local and test settings read (common.settings.load_local_env_file)."""
    for index, service in enumerate(SERVICES, start=11):
        static_root = VAR / "static" / service.name
        static_root.mkdir(parents=True, exist_ok=True)
        values = {
            "DJANGO_SECRET_KEY": os.environ[service.secret_key_variable],
            "DATABASE_URL": service_database_url(config, service),
            "REDIS_URL": config.redis_url(0),
            "TEST_REDIS_URL": os.environ.get("TEST_REDIS_URL") or config.redis_url(index),
            "DJANGO_STATIC_ROOT": str(static_root),
            **identity_environment(config, service),
            # SHOP_RATE_LIMITS=off and SHOP_THROTTLE_<SCOPE> in the environment of up reach the services.
            **{name: os.environ[name] for name in RATE_LIMIT_ENVIRONMENT if name in os.environ},
        }
        header = "# Written by ./manage_all.sh; edit the environment or shopctl, not this file.\n"
        write_private(VAR / "env" / f"{service.name}.env", header + "".join(f"{k}={v}\n" for k, v in values.items()))


# ---------------------------------------------------------------- the Postgres cluster

PG_DIR = VAR / "postgres"
PG_DATA = PG_DIR / "data"


def postgres_os_user() -> str:
    """Postgres refuses to run as root: as root, the cluster belongs to an unprivileged system user."""
    if os.geteuid() != 0:
        return pwd.getpwuid(os.geteuid()).pw_name
    for name in ("postgres", "shop-postgres"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "shop-postgres"], check=True
    )
    return "shop-postgres"


def as_postgres_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", postgres_os_user(), "--", *command] if os.geteuid() == 0 else command


def ensure_postgres_cluster(config: Config) -> None:
    if config.external_database or (PG_DATA / "PG_VERSION").exists():
        return
    bin_dir = infrastructure.postgres_bin_dir()
    if bin_dir is None:
        raise SetupError("PostgreSQL server binaries not found (apt-get install postgresql)")
    user = postgres_os_user()
    log(f"creating the Postgres cluster in .var/postgres (owner: {user})")
    PG_DIR.mkdir(parents=True, exist_ok=True)
    shutil.chown(PG_DIR, user)

    def writable() -> bool:
        return subprocess.run(as_postgres_user(["test", "-w", str(PG_DIR)]), check=False).returncode == 0

    if os.geteuid() == 0 and not writable():
        # The checkout's own folders may be closed (mktemp -d makes 700): let the Postgres user pass through
        # them, without reading them (secrets and keys stay 600/700). Folders above the checkout are left alone.
        for folder in (ROOT, VAR):
            folder.chmod(folder.stat().st_mode | 0o001)
    if not writable():
        raise SetupError(
            f"the Postgres user '{user}' cannot write {PG_DIR}: a parent folder of the checkout is not open to it"
            " (chmod o+x on the parents, or clone elsewhere)"
        )
    password_file = PG_DIR / ".pwfile"
    write_private(password_file, os.environ["PG_ADMIN_PASSWORD"] + "\n")
    shutil.chown(password_file, user)
    try:
        with (PG_DIR / "initdb.log").open("wb") as initdb_log:
            result = subprocess.run(
                as_postgres_user(
                    [
                        str(bin_dir / "initdb"),
                        f"--pgdata={PG_DATA}",
                        "--username=shop_admin",
                        f"--pwfile={password_file}",
                        *("--auth=scram-sha-256", "--encoding=UTF8", "--locale=C.UTF-8"),
                    ]
                ),
                stdout=initdb_log,
                stderr=subprocess.STDOUT,
                check=False,
            )
    finally:
        password_file.unlink(missing_ok=True)
    if result.returncode != 0:
        raise SetupError(f"initdb failed; see {PG_DIR / 'initdb.log'}")


def setup(config: Config) -> None:
    """What every command needs: packages, secrets, the signing key, the cluster, the environment files."""
    VAR.mkdir(exist_ok=True)
    ensure_system_packages(config)
    ensure_secrets()
    ensure_signing_key()
    ensure_postgres_cluster(config)
    write_env_files(config)

"""``./manage_all.sh``: run, inspect, test and benchmark the whole shop on one machine, no container engine.

manage_all.sh only makes sure the virtual environment with the pinned dependencies exists, then runs
this. Every process comes from the one description in ``shopctl.processes``.
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from shopctl import chaos, gateway, infrastructure, monitor, supervisor, tls, traces
from shopctl.local import (
    ROOT,
    TLS_DIR,
    VAR,
    Config,
    SetupError,
    admin_database_url,
    ensure_secrets,
    ensure_system_packages,
    log,
    setup,
)
from shopctl.processes import (
    CATALOG,
    PROCESSES_BY_NAME,
    SERVICES,
    SERVICES_BY_NAME,
    Service,
    migrate_command,
    process,
)

PYTHON = sys.executable
BIN = supervisor.BIN


# ---------------------------------------------------------------- helpers


def http_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:  # noqa: S310 - our own loopback URL
            status: int = response.status
            return status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


def wait_until(seconds: float, condition: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.3)
    return False


def ready_url(config: Config, service: Service, replica: int = 1) -> str:
    return f"http://127.0.0.1:{config.site().port(service, replica)}/health/ready/"


def manage(service: Service, arguments: Sequence[str], **kwargs: Any) -> subprocess.CompletedProcess[Any]:
    """``manage.py`` of one service, in its local settings (which read .var/env/<service>.env)."""
    environment = {**os.environ}
    environment.setdefault("DJANGO_SETTINGS_MODULE", service.settings_module("local"))
    return subprocess.run(
        [PYTHON, "manage.py", *arguments], cwd=ROOT / service.name, env=environment, check=False, **kwargs
    )


def parse_scale(values: Sequence[str]) -> dict[str, int]:
    """``--scale catalog-worker=3`` -> {"catalog-worker": 3}, checked against the description."""
    scale = {}
    for value in values:
        name, _, count = value.partition("=")
        kind = PROCESSES_BY_NAME.get(name)
        if kind is None:
            raise SetupError(f"--scale {value}: no process kind '{name}' (there are: {', '.join(PROCESSES_BY_NAME)})")
        if not count.isdigit() or int(count) < 1:
            raise SetupError(f"--scale {value}: the number of replicas must be a whole number of at least 1")
        if not kind.scalable and int(count) != 1:
            raise SetupError(f"--scale {value}: {name} runs once by design: one process publishes the periodic tasks")
        if kind.role == "gateway" and int(count) != 1:
            raise SetupError(f"--scale {value}: locally one gateway listens on the gateway's ports")
        scale[name] = int(count)
    return scale


# ---------------------------------------------------------------- the servers


def start_infrastructure(config: Config) -> list[supervisor.Program]:
    """Postgres and Redis under supervisor (unless external ones are configured), waited for."""
    programs = supervisor.infrastructure_programs(config)
    supervisor.start(programs)
    if not config.external_database:
        bin_dir = infrastructure.postgres_bin_dir()
        if bin_dir is None:
            raise SetupError("PostgreSQL server binaries not found (apt-get install postgresql)")
        pg_isready = str(bin_dir / "pg_isready")

        def postgres_ready() -> bool:
            command = [pg_isready, "-q", "-h", "127.0.0.1", "-p", str(config.pg_port)]
            return subprocess.run(command, check=False).returncode == 0

        if not wait_until(60, postgres_ready):
            raise SetupError(f"Postgres did not accept connections; see {supervisor.LOG_DIR / 'postgres.log'}")
        infrastructure.bootstrap_database(
            admin_database_url(config), config.database, passwords=infrastructure.role_passwords()
        )
    if not config.external_redis:

        def redis_ready() -> bool:
            command = ["redis-cli", "-p", str(config.redis_port), "ping"]
            return "PONG" in subprocess.run(command, capture_output=True, text=True, check=False).stdout

        if not wait_until(30, redis_ready):
            raise SetupError(f"Redis did not answer; see {supervisor.LOG_DIR / 'redis.log'}")
    return programs


def prepare_supervisor(config: Config, scale: dict[str, int]) -> tuple[list[supervisor.Program], bool]:
    """Set up, write supervisor's configuration and start supervisord; True if this call started it."""
    setup(config)
    gateway_changed = write_gateway_config(config, scale)
    programs = supervisor.infrastructure_programs(config) + supervisor.system_programs(config, scale)
    supervisor.write_conf(programs)
    supervisor.write_prometheus_config(config, programs)
    started = supervisor.start_daemon()
    if not started:
        supervisor.reload_conf()
        if gateway_changed and supervisor.status("gateway") == "RUNNING":
            # Other replicas: HAProxy's master reads its configuration again (SIGUSR2), without dropping a connection.
            supervisor.supervisorctl("signal", gateway.RELOAD_SIGNAL.name.removeprefix("SIG"), "gateway")
    return programs, started


def write_gateway_config(config: Config, scale: dict[str, int]) -> bool:
    """The local CA and certificate (.var/tls/), and HAProxy's configuration for these replicas, checked;
    True if the configuration changed."""
    tls.ensure_certificates(TLS_DIR)
    try:
        return gateway.write(config.site(scale))
    except gateway.InvalidConfig as error:
        raise SetupError(str(error)) from error


def web_replicas(scale: dict[str, int]) -> list[tuple[Service, int]]:
    """(service, replica) of every web server ``up`` runs."""
    return [
        (service, replica)
        for service in SERVICES
        for replica in range(1, scale.get(process(service, "web").name, 1) + 1)
    ]


# ---------------------------------------------------------------- commands


PROMETHEUS_PACKAGE = (("prometheus", "prometheus"), ("promtool", "prometheus"))


def cmd_up(config: Config, scale: dict[str, int]) -> int:
    began = time.monotonic()
    ensure_system_packages(config, extra=PROMETHEUS_PACKAGE)
    programs, _ = prepare_supervisor(config, scale)
    start_infrastructure(config)
    for service in SERVICES:
        log(f"migrating {service.name}")
        output = VAR / "log" / f"migrate-{service.name}.log"
        with output.open("wb") as migrate_log:
            arguments = migrate_command(config.site())[2:]  # what follows "python manage.py"
            if manage(service, arguments, stdout=migrate_log, stderr=subprocess.STDOUT).returncode:
                print("\n".join(output.read_text(errors="replace").splitlines()[-30:]), file=sys.stderr)
                raise SetupError(f"migrations of {service.name} failed")
    log("loading the demo catalogue (creates only what is missing)")
    demo = manage(CATALOG, ["load_demo_catalog"], capture_output=True, text=True)
    if demo.returncode:
        print(demo.stdout[-3000:], demo.stderr[-3000:], file=sys.stderr)
        raise SetupError("loading the demo catalogue failed")
    log("starting web servers, workers and the scheduler")
    system = [program for program in programs if program.group in PROCESSES_BY_NAME]
    # Programs scaled down since the last `up` are no longer in the configuration: supervisor removed them.
    supervisor.start(system)
    for service, replica in web_replicas(scale):
        url = ready_url(config, service, replica)
        if not wait_until(config.ready_timeout, lambda url=url: http_status(url) == 200):  # type: ignore[misc]
            for log_file in supervisor.LOG_DIR.glob(f"{service.short}-web*.log"):
                print("\n".join(log_file.read_text(errors="replace").splitlines()[-20:]), file=sys.stderr)
            raise SetupError(
                f"{service.name} is not ready after {config.ready_timeout}s: {url} answers {http_status(url)}"
            )
    log(f"ready in {time.monotonic() - began:.0f}s")
    site = config.site(scale)
    print(f"  gateway          {config.gateway_url}/   (http://localhost:{config.gateway_http_port} redirects there)")
    for service in SERVICES:
        prefix = f"{config.gateway_url}{service.url_prefix}"
        direct = f"http://127.0.0.1:{site.port(service)}"
        print(f"  {service.name:<16} admin {prefix}admin/   docs {prefix}api/docs/   directly {direct}")
    replicas = [f"{program.name}" for program in system if program.name != program.group]
    if replicas:
        print(f"  replicas: {' '.join(replicas)}")
    paths = tls.Paths(TLS_DIR)
    print(f"  TLS: the gateway's certificate is signed by the local CA {paths.ca}; trust it with")
    for line in tls.trust_instructions(paths, config.gateway_url):
        print(f"    {line}")
    print(f"  Prometheus       http://127.0.0.1:{config.prometheus_port}/   (targets, alerts: README, Telemetry)")
    print("  Create an operator: ./manage_all.sh manage users_service createsuperuser")
    return 0


def cmd_down(config: Config) -> int:
    if supervisor.supervisord_pid():
        log("stopping every process")
        supervisor.stop_daemon()
    log("stopped (data kept in .var/)")
    return 0


def cmd_status(config: Config) -> int:
    if not supervisor.running():
        print("not running (./manage_all.sh up starts it)")
        return 3
    print(supervisor.supervisorctl("status").stdout, end="")
    running = {line.split()[0] for line in supervisor.supervisorctl("status").stdout.splitlines() if line.strip()}
    for service in SERVICES:
        kind = process(service, "web").name
        replicas = sorted(name for name in running if name == kind or name.startswith(f"{kind}:"))
        for replica, name in enumerate(replicas, start=1):
            url = ready_url(config, service, replica)
            print(f"{name:<24} {url} -> {http_status(url)}")
    print(f"{'gateway':<24} {config.gateway_url}/ (CA {TLS_DIR / 'ca.pem'})")
    return 0


def cmd_trace(identifier: str, *, every_span: bool) -> int:
    """Print the span tree of the traces an order id, request id, message id or trace id names."""
    path = Path(os.environ.get("SHOP_TELEMETRY_TRACES_FILE") or VAR / "telemetry" / "traces.jsonl")
    text, found = traces.report(path, identifier, every_span=every_span)
    print(text)
    return 0 if found else 1


def cmd_logs(config: Config, name: str | None) -> int:
    log_dir = supervisor.LOG_DIR
    if name is None:
        files = sorted(str(path) for path in log_dir.glob("*.log"))
        lines = "20"
    else:
        # A process kind's replicas log to <kind>-<n>.log.
        files = sorted(str(path) for path in [*log_dir.glob(f"{name}.log"), *log_dir.glob(f"{name}-[0-9]*.log")])
        lines = "200"
        if not files:
            known = " ".join(sorted(path.stem for path in log_dir.glob("*.log")))
            raise SetupError(f"no log for '{name}'; there are: {known}")
    os.execvp("tail", ["tail", "-n", lines, "-F", *files])  # noqa: S606 - replaces this process
    return 0


# ---------------------------------------------------------------- test and bench


class Steps:
    """The steps of ``test``: each runs whatever the others did, and the summary says which failed."""

    def __init__(self) -> None:
        self.passed: list[str] = []
        self.failed: list[str] = []

    def run(self, name: str, step: Callable[[], bool]) -> None:
        log(name)
        (self.passed if step() else self.failed).append(name)

    def summary(self, seconds: float) -> int:
        print()
        log(f"test summary ({seconds:.0f}s)")
        for name in self.passed:
            print(f"  passed: {name}")
        for name in self.failed:
            print(f"  FAILED: {name}")
        return 1 if self.failed else 0


def run(command: Sequence[str], *, cwd: Path = ROOT, env: dict[str, str] | None = None) -> bool:
    return subprocess.run(list(command), cwd=cwd, env=env, check=False).returncode == 0


def lint() -> bool:
    imports = {**os.environ, "PYTHONPATH": ":".join(str(ROOT / service.name) for service in SERVICES)}
    return (
        run([str(BIN / "ruff"), "check", "."])
        and run([str(BIN / "ruff"), "format", "--check", "."])
        and run([str(BIN / "lint-imports")], env=imports)
    )


def type_check() -> bool:
    """mypy with the django and drf plugins, once per service (the plugin reads one settings module a run),
    over the service, common/ and shopctl/ (these two strict, see pyproject.toml)."""
    ok = True
    for service in SERVICES:
        packages = ["-p", service.name, "-p", "common", "-p", "shopctl"]
        environment = {**os.environ, "DJANGO_SETTINGS_MODULE": service.settings_module("test")}
        command = [str(BIN / "mypy"), "--config-file", str(ROOT / "pyproject.toml"), *packages]
        ok = run(command, cwd=ROOT / service.name, env=environment) and ok
    return ok


def makemigrations_check() -> bool:
    ok = True
    for service in SERVICES:
        if manage(service, ["makemigrations", "--check", "--dry-run"], stdout=subprocess.DEVNULL).returncode:
            print(f"{service.name} has model changes without migrations (./manage_all.sh manage {service.name}"
                  " makemigrations)")  # fmt: skip
            ok = False
    return ok


def with_servers_for_command(config: Config) -> Callable[[], None]:
    """Postgres and Redis for test and bench; the returned stop stops them only if this command started them."""
    _, started = prepare_supervisor(config, {})
    start_infrastructure(config)
    os.environ["SHOP_ADMIN_DATABASE_URL"] = admin_database_url(config)

    def stop() -> None:
        if started:
            supervisor.stop_daemon()

    return stop


def ensure_wrk(config: Config) -> None:
    """wrk for the benchmark, promtool for the alert rules, Chromium for the admins' browser test."""
    ensure_system_packages(config, extra=(("wrk", "wrk"), ("chromium", "chromium"), *PROMETHEUS_PACKAGE))


def alert_rules_check() -> bool:
    """The alert rules are valid and do what their unit tests say (``promtool test rules``)."""
    rules = [str(path) for path in monitor.RULE_FILES]
    tests = [str(path) for path in monitor.RULE_TESTS]
    return run(["promtool", "check", "rules", *rules]) and run(["promtool", "test", "rules", *tests])


# What the cross-service tests run beside the system: Redis under Sentinel, Postgres behind PgBouncer
# (tests/test_sentinel_and_pgbouncer.py). Debian installs pgbouncer in /usr/sbin, outside a user's PATH.
TEST_PROGRAMS = (("redis-sentinel", "redis-sentinel"), ("/usr/sbin/pgbouncer", "pgbouncer"))


def cmd_test(config: Config, selected: Sequence[str] = ()) -> int:
    """The whole suite; or, given pytest arguments (``test tests/test_gateway.py -k tls``), only those tests."""
    began = time.monotonic()
    ensure_wrk(config)
    ensure_system_packages(config, extra=TEST_PROGRAMS)
    stop = with_servers_for_command(config)
    try:
        steps = Steps()
        pytest = [str(BIN / "pytest"), "-q", "-p", "no:cacheprovider"]
        if selected:
            steps.run("selected tests", lambda: run([*pytest, *selected]))
            return steps.summary(time.monotonic() - began)
        steps.run("lint (ruff, import-linter)", lint)
        steps.run("type check (mypy: each service with common/ and shopctl/)", type_check)
        steps.run("makemigrations --check", makemigrations_check)
        steps.run("alert rules (promtool check rules, promtool test rules)", alert_rules_check)
        for service in SERVICES:
            folder = ROOT / service.name
            steps.run(f"{service.name} tests", lambda folder=folder: run(pytest, cwd=folder))  # type: ignore[misc]
        steps.run("cross-service tests", lambda: run([*pytest, "tests"]))
        steps.run(
            "benchmark harness (bench --quick: errors fail, figures never do)",
            lambda: run([PYTHON, "bench/run.py", "--quick", "--output", str(VAR / "bench" / "quick")]),
        )
        return steps.summary(time.monotonic() - began)
    finally:
        stop()


def cmd_chaos(config: Config, *, minutes: float, seed: int | None = None) -> int:
    """A mixed load while random processes are stopped and killed, then the reconciliation (shopctl.chaos)."""
    ensure_system_packages(config)
    ensure_secrets()
    workdir = VAR / "chaos" / time.strftime("%Y%m%d-%H%M%S")
    workdir.mkdir(parents=True, exist_ok=True)
    chosen = seed if seed is not None else secrets.randbelow(1_000_000)
    return chaos.run(minutes=minutes, seed=chosen, workdir=workdir, log=log)


def cmd_bench(config: Config, arguments: Sequence[str]) -> int:
    ensure_wrk(config)
    stop = with_servers_for_command(config)
    try:
        return 0 if run([PYTHON, "bench/run.py", *arguments]) else 1
    finally:
        stop()


# ---------------------------------------------------------------- the command line


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="./manage_all.sh",
        description="Run, inspect and test the whole shop on one machine. All generated state lives in .var/;"
        " ports and external servers come from the environment (README, Configuration).",
    )
    commands = top.add_subparsers(dest="command", metavar="command", required=True)
    up = commands.add_parser("up", help="set up what is missing, start everything, wait until ready")
    up.add_argument(
        "--scale", action="append", default=[], metavar="PROCESS=N", help="run N replicas of a process kind"
    )
    commands.add_parser("down", help="stop everything (data is kept under .var/)")
    commands.add_parser("status", help="each process, and each service's readiness")
    logs = commands.add_parser("logs", help="the logs of every process, or of one")
    logs.add_argument("process", nargs="?")
    trace = commands.add_parser("trace", help="an order's spans as a tree: trace <order id, request id or trace id>")
    trace.add_argument("identifier")
    trace.add_argument("--all", action="store_true", dest="every_span", help="show every database and cache call")
    manage_command = commands.add_parser(
        "manage", help="manage.py of one service: manage users_service createsuperuser"
    )
    manage_command.add_argument("service", choices=[service.name for service in SERVICES])
    manage_command.add_argument("arguments", nargs=argparse.REMAINDER)
    test = commands.add_parser("test", help="lint, each service's tests, the cross-service tests, bench --quick")
    test.add_argument("arguments", nargs=argparse.REMAINDER, help="pytest arguments: run only those tests")
    chaos_command = commands.add_parser(
        "chaos", help="a mixed load while random processes die, then the reconciliation (--minutes N, --seed S)"
    )
    chaos_command.add_argument("--minutes", type=float, default=10, help="how long the load and the faults last")
    chaos_command.add_argument("--seed", type=int, default=None, help="replay the same faults (default: a new seed)")
    bench = commands.add_parser("bench", help="the benchmark (results in .var/bench/)")
    bench.add_argument("arguments", nargs=argparse.REMAINDER, help="--quick for a short run")
    return top


def main(argv: Sequence[str] | None = None) -> int:
    top = parser()
    # bench and test pass their options on (argparse's REMAINDER does not take a leading --option).
    arguments, unknown = top.parse_known_args(argv)
    if arguments.command in ("bench", "test"):
        arguments.arguments = [*unknown, *arguments.arguments]
    elif unknown:
        top.error(f"unrecognized arguments: {' '.join(unknown)}")
    config = Config()
    try:
        match arguments.command:
            case "up":
                return cmd_up(config, parse_scale(arguments.scale))
            case "down":
                return cmd_down(config)
            case "status":
                return cmd_status(config)
            case "logs":
                return cmd_logs(config, arguments.process)
            case "trace":
                return cmd_trace(arguments.identifier, every_span=arguments.every_span)
            case "manage":
                setup(config)
                return manage(SERVICES_BY_NAME[arguments.service], arguments.arguments).returncode
            case "test":
                return cmd_test(config, arguments.arguments)
            case "bench":
                return cmd_bench(config, arguments.arguments)
            case "chaos":
                return cmd_chaos(config, minutes=arguments.minutes, seed=arguments.seed)
    except SetupError as error:
        print(f"\033[31merror:\033[0m {error}", file=sys.stderr)
        return 1
    return 2

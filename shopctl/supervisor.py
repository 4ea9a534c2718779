"""supervisord for ``./manage_all.sh up``: its configuration rendered from the description of the processes.

Every program is written with ``autostart=false``: ``up`` starts them in order (the servers first,
then migrations, then the system), and ``down`` stops supervisord, which stops them all.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shlex
import subprocess
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from shopctl import infrastructure, monitor
from shopctl.local import PG_DATA, PG_DIR, VAR, Config, SetupError, postgres_os_user
from shopctl.processes import PROCESSES, ProcessKind, Site

SUPERVISOR_DIR = VAR / "supervisor"
CONF = SUPERVISOR_DIR / "supervisord.conf"
PID_FILE = SUPERVISOR_DIR / "supervisord.pid"
LOG_DIR = VAR / "log"
METRICS_DIR = VAR / "metrics"  # each web server's PROMETHEUS_MULTIPROC_DIR, emptied before it starts
BIN = VAR / "venv" / "bin"


@dataclass(frozen=True)
class Program:
    """One supervisor program: a process of the system, or a server of the local infrastructure."""

    name: str
    command: list[str]
    directory: Path
    environment: Mapping[str, str]
    group: str  # the process kind: its replicas share it
    port: int | None = None
    user: str | None = None
    stop_signal: str = "TERM"
    stop_wait_seconds: int = 30
    priority: int = 999
    metrics_address: str | None = None  # where Prometheus reads its metrics (shopctl.monitor)


def socket_path() -> Path:
    """supervisord's control socket; a unix socket path is limited to about 100 bytes."""
    path = SUPERVISOR_DIR / "supervisor.sock"
    if len(str(path)) > 100:
        path = Path(f"/tmp/shop-supervisor-{hashlib.sha256(str(VAR).encode()).hexdigest()[:12]}.sock")  # noqa: S108
    return path


def system_programs(config: Config, scale: Mapping[str, int]) -> list[Program]:
    """Each process kind of the description, as many times as it is scaled to."""
    site = config.site(scale)
    programs = []
    metrics_ports = iter(range(config.metrics_port_base, config.metrics_port_base + 1000))
    for kind in PROCESSES:
        replicas = scale.get(kind.name, kind.replicas)
        for replica in range(1, replicas + 1):
            name = kind.name if replicas == 1 else f"{kind.name}-{replica}"
            address = monitor.metrics_address(
                kind,
                host="127.0.0.1",
                own_port=kind.port(site, replica),
                metrics_port=monitor_port(kind, site, metrics_ports),
            )
            telemetry = monitor.telemetry_environment(kind, address=address, multiprocess_dir=METRICS_DIR / name)
            programs.append(
                Program(
                    name=name,
                    command=kind.command(site, replica=replica),
                    directory=Path(kind.cwd(site)),
                    environment={**local_environment(kind, config), **telemetry},
                    group=kind.name,
                    port=kind.port(site, replica),
                    stop_signal=kind.stop_signal,
                    stop_wait_seconds=kind.stop_wait_seconds,
                    metrics_address=address,
                )
            )
    return programs


def monitor_port(kind: ProcessKind, site: Site, free_ports: Iterator[int]) -> int | None:
    """The port a process serves its metrics on when not its own: the gateway's exporter, or the next free one."""
    if kind.metrics == "exporter":
        return site.gateway.metrics_port
    return next(free_ports) if kind.metrics == "metrics-port" else None


def write_prometheus_config(config: Config, programs: list[Program]) -> None:
    """Prometheus' configuration: every program that says where its metrics are is a target."""
    targets = [
        monitor.Target(job=program.group, instance=program.name, address=program.metrics_address)
        for program in programs
        if program.metrics_address
    ]
    monitor.write_config(Path(config.site().monitor_dir) / "prometheus.yml", targets)


def local_environment(kind: ProcessKind, config: Config) -> dict[str, str]:
    """Local settings read the rest from .var/env/<service>.env; the scheduler needs only the broker; Prometheus
    a locale; the gateway its limits, if the environment of ``up`` sets them."""
    if kind.role == "monitor":
        return {"LC_ALL": "C.UTF-8"}
    if kind.role == "gateway":
        return {name: os.environ[name] for name in kind.optional_environment_names if name in os.environ}
    if kind.service is None:
        return {"REDIS_URL": config.redis_url(0), "PYTHONUNBUFFERED": "1"}
    return {"DJANGO_SETTINGS_MODULE": kind.service.settings_module("local"), "PYTHONUNBUFFERED": "1"}


def infrastructure_programs(config: Config) -> list[Program]:
    programs = []
    if not config.external_database:
        programs.append(
            Program(
                name="postgres",
                command=infrastructure.postgres_command(data_dir=PG_DATA, port=config.pg_port),
                directory=PG_DIR,
                environment={"LC_ALL": "C.UTF-8"},
                group="postgres",
                port=config.pg_port,
                user=postgres_os_user() if os.geteuid() == 0 else None,
                stop_signal="INT",  # a fast shutdown: open transactions roll back, nothing is lost
                priority=10,
            )
        )
    if not config.external_redis:
        directory = VAR / "redis"
        programs.append(
            Program(
                name="redis",
                command=infrastructure.redis_command(port=config.redis_port, directory=directory),
                directory=directory,
                environment={"LC_ALL": "C.UTF-8"},
                group="redis",
                port=config.redis_port,
                priority=10,
            )
        )
    return programs


def _quoted(command: list[str]) -> str:
    # supervisor expands %(...)s in commands: a literal % is written %%.
    return " ".join(shlex.quote(word) for word in command).replace("%", "%%")


def _environment(values: Mapping[str, str]) -> str:
    return ",".join(f'{name}="{value}"' for name, value in values.items())


def render(programs: list[Program]) -> str:
    """supervisord.conf for these programs; replicas of one kind form a group named after the kind."""
    socket = socket_path()
    lines = [
        "; Written by ./manage_all.sh from shopctl/processes.py; every program starts only when it is asked to.",
        "[unix_http_server]",
        f"file={socket}",
        "chmod=0700",
        "",
        "[supervisord]",
        f"logfile={LOG_DIR / 'supervisord.log'}",
        f"pidfile={PID_FILE}",
        f"childlogdir={LOG_DIR}",
        f"user={pwd.getpwuid(os.geteuid()).pw_name}",
        "",
        "[rpcinterface:supervisor]",
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
        "",
        "[supervisorctl]",
        f"serverurl=unix://{socket}",
    ]
    for program in programs:
        lines += [
            "",
            f"[program:{program.name}]",
            f"command={_quoted(program.command)}",
            f"directory={program.directory}",
            f"environment={_environment(program.environment)}",
            "autostart=false",
            "autorestart=true",
            "startsecs=2",
            "stopasgroup=true",
            "killasgroup=true",
            f"stopsignal={program.stop_signal}",
            f"stopwaitsecs={program.stop_wait_seconds}",
            f"priority={program.priority}",
            "redirect_stderr=true",
            f"stdout_logfile={LOG_DIR / program.name}.log",
            "stdout_logfile_maxbytes=10MB",
            "stdout_logfile_backups=2",
            *([f"user={program.user}"] if program.user else []),
        ]
    groups: dict[str, list[str]] = {}
    for program in programs:
        if program.name != program.group:
            groups.setdefault(program.group, []).append(program.name)
    for group, members in groups.items():
        lines += ["", f"[group:{group}]", f"programs={','.join(members)}"]
    return "\n".join(lines) + "\n"


def control_name(program: Program) -> str:
    """The name supervisorctl knows a program by: ``group:name`` inside a group."""
    return program.name if program.name == program.group else f"{program.group}:{program.name}"


def write_conf(programs: list[Program]) -> None:
    for folder in (SUPERVISOR_DIR, LOG_DIR, VAR / "redis", VAR / "scheduler"):
        folder.mkdir(parents=True, exist_ok=True)
    CONF.write_text(render(programs))


def supervisorctl(*arguments: str, check: bool = False) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "supervisorctl"), "-c", str(CONF), *arguments], capture_output=True, text=True, check=check
    )


def supervisord_pid() -> int | None:
    """supervisord's pid while it runs (it may be shutting down)."""
    try:
        pid = int(PID_FILE.read_text())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def running() -> bool:
    """Whether supervisord answers on its socket."""
    if not CONF.exists():
        return False
    answer = supervisorctl("pid")
    return answer.returncode == 0 and answer.stdout.strip().isdigit()


def start_daemon() -> bool:
    """Start supervisord unless it runs; True if this call started it."""
    if running():
        return False
    if supervisord_pid():  # a shutdown still under way
        stop_daemon()
    result = subprocess.run([str(BIN / "supervisord"), "-c", str(CONF)], check=False)
    if result.returncode != 0:
        raise SetupError(f"supervisord did not start; see {LOG_DIR / 'supervisord.log'}")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if running():
            return True
        time.sleep(0.2)
    raise SetupError(f"supervisord did not answer; see {LOG_DIR / 'supervisord.log'}")


def reload_conf() -> None:
    """supervisord already runs: take up programs whose configuration changed (ports, paths, replicas)."""
    supervisorctl("reread")
    supervisorctl("update")


def stop_daemon(timeout: float = 90) -> None:
    """Stop supervisord, which stops every program (each within its stop wait)."""
    pid = supervisord_pid()
    if pid is None:
        return
    supervisorctl("shutdown")  # fails harmlessly when a shutdown is already under way
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except OSError:
            return
        time.sleep(0.3)
    raise SetupError(f"supervisord (pid {pid}) did not stop; see {LOG_DIR / 'supervisord.log'}")


def status(name: str) -> str:
    """RUNNING, STOPPED, FATAL, ... of one program."""
    words = supervisorctl("status", name).stdout.split()
    return words[1] if len(words) > 1 else "UNKNOWN"


def start(programs: list[Program]) -> None:
    """Start the programs that are not running, together; refuse clearly when a port is taken by another program."""
    to_start = []
    for program in programs:
        name = control_name(program)
        if status(name) == "RUNNING":
            continue
        if program.port is not None and not port_free(program.port):
            raise SetupError(
                f"port {program.port}, needed by {program.name}, is taken{port_owner(program.port)}. Stop that"
                " program, or choose another port (see README, Configuration)."
            )
        monitor.empty_multiprocess_dir(program.environment)
        to_start.append(name)
    if not to_start:
        return
    result = supervisorctl("start", *to_start)
    if result.returncode != 0:
        print(supervisorctl("status", *to_start).stdout)
        raise SetupError(
            f"some programs did not start; see their logs with ./manage_all.sh logs <program> (in {LOG_DIR})"
        )


def port_free(port: int) -> bool:
    import socket

    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def port_owner(port: int) -> str:
    result = subprocess.run(["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True, check=False)
    owner = result.stdout.split('users:(("', 1)[1].split('"', 1)[0] if 'users:(("' in result.stdout else ""
    return f" by {owner}" if owner else ""

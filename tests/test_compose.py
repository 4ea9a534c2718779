"""Static checks of the container setup: compose.yaml, Dockerfile and .dockerignore.

No container engine is needed. compose.yaml is validated against the Compose
specification, its interpolation is resolved as on a fresh checkout (empty
shell environment: defaults apply, a required variable gets a dummy value), its
processes are held to the one description of the processes (shopctl.processes:
the same commands, ports and environment names), and every Django process it
defines is started up to ``django.setup()`` in a subprocess with exactly the
environment compose would give it.
"""

import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import pytest
import yaml
from cryptography.hazmat.primitives import serialization

from shopctl import processes as described
from shopctl.processes import CONTAINER_SITE, SERVICES, ProcessKind, migrate_command

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "compose.yaml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
APP_DIR = PurePosixPath("/app")  # where the Dockerfile puts the repository's code

PROJECTS = {
    service.name: {
        "port": service.port,
        "queue": service.queue,
        "role": service.role,
        "password": service.password_variable,
    }
    for service in SERVICES
}
ROLES = ("migrate", "web", "worker")
PROCESSES = [(project, role) for project in PROJECTS for role in ROLES]
# What the production settings read without a default: the image must not provide any of them.
REQUIRED = ("DJANGO_SECRET_KEY", "DATABASE_URL", "REDIS_URL")
SCHEDULER = (None, "beat")


def _ids(value: object) -> str:
    return "-".join(value) if isinstance(value, tuple) else str(value)


# ---------------------------------------------------------------- reading compose.yaml

_INTERPOLATION = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<operator>:?[-?+])(?P<argument>[^{}$]*))?\}"
    r"|(?P<named>[A-Za-z_][A-Za-z0-9_]*))"
)


def interpolate(text: str) -> str:
    """Compose's interpolation with no variable set: defaults apply, a required variable gets a dummy."""
    if "$" in _INTERPOLATION.sub("", text):
        raise ValueError(f"interpolation this test does not understand (nested?): {text!r}")

    def replace(match: re.Match) -> str:
        if match["escaped"]:
            return "$"
        name, operator = match["braced"] or match["named"], match["operator"] or ""
        if operator in (":-", "-"):
            return match["argument"]
        if operator in (":?", "?"):
            return f"dummy-{name.lower()}"
        return ""  # ${VAR} and ${VAR:+alternative} of an unset variable

    return _INTERPOLATION.sub(replace, text)


def interpolated(node: object) -> object:
    if isinstance(node, str):
        return interpolate(node)
    if isinstance(node, dict):
        return {key: interpolated(value) for key, value in node.items()}
    if isinstance(node, list):
        return [interpolated(value) for value in node]
    return node


def environment_of(service: dict) -> dict[str, str]:
    """A service's environment as compose passes it (a bare name takes the unset shell value: absent)."""
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        pairs = (item.partition("=") for item in environment)
        return {name: value for name, separator, value in pairs if separator}
    scalar = {True: "true", False: "false"}
    return {
        name: scalar.get(value, str(value)) if isinstance(value, bool) else str(value)
        for name, value in environment.items()
        if value is not None
    }


def command_of(service: dict) -> list[str]:
    command = service.get("command") or []
    words = shlex.split(command) if isinstance(command, str) else [str(word) for word in command]
    if words[:2] in (["python", "-m"], ["python3", "-m"]):
        words = words[2:]
    return words


def option(words: list[str], *names: str) -> str | None:
    """The value of a command-line option given as ``--name value``, ``--name=value`` or ``-Nvalue``."""
    for index, word in enumerate(words):
        for name in names:
            if word == name and index + 1 < len(words):
                return words[index + 1]
            if word.startswith(f"{name}="):
                return word.split("=", 1)[1]
            if len(name) == 2 and word.startswith(name) and len(word) > 2:
                return word[2:]
    return None


WEB_SERVERS = ("gunicorn", "granian")


def listen_address(words: list[str]) -> str | None:
    """Where a web server's command makes it listen, as ``host:port`` (the servers' own defaults if unsaid)."""
    if words[0] == "granian":
        return f"{option(words, '--host') or '127.0.0.1'}:{option(words, '--port') or '8000'}"
    return option(words, "--bind", "-b")


def classify(service: dict) -> tuple[str | None, str] | None:
    """``(project, role)`` of an application process, from its command; None for anything else."""
    words = command_of(service)
    if not words:
        return None
    if words[0] in WEB_SERVERS:
        # The WSGI target is the argument shaped like module.path:callable (not host:port).
        target = next((word for word in words[1:] if re.fullmatch(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*", word)), "")
        return target.split(".")[0], "web"
    if words[0] == "celery":
        app = option(words, "-A", "--app") or ""
        if "beat" in words:
            return (None, "beat") if app == "common.scheduler" else (app, "beat")
        if "worker" in words:
            return app, "worker"
    manage = next((word for word in words if word.endswith("manage.py")), None)
    if manage and "migrate" in words:
        folder = PurePosixPath(manage).parent
        return (folder.name if folder.name else PurePosixPath(service.get("working_dir", "")).name), "migrate"
    return None


def folder_of(service: dict) -> Path:
    """The repository folder that is the container's working directory (the image holds the code at /app).

    A working directory outside /app maps to the repository root, where no project imports.
    """
    working_dir = PurePosixPath(service.get("working_dir") or "/")
    return ROOT / working_dir.relative_to(APP_DIR) if working_dir.is_relative_to(APP_DIR) else ROOT


def named_volumes(service: dict) -> dict[str, str]:
    """Container path -> named volume, for every named volume the service mounts."""
    mounts = {}
    for volume in service.get("volumes") or []:
        if isinstance(volume, dict):
            source, target = volume.get("source", ""), volume["target"]
        else:
            source, target = [*str(volume).split(":"), ""][:2]
        if source and not source.startswith((".", "/", "~", "$")):
            mounts[target] = source
    return mounts


def localised(environment: dict[str, str], service: dict, scratch: Path) -> dict[str, str]:
    """The environment with each path inside a named volume moved to ``scratch/<volume>/``."""
    result = dict(environment)
    for target, volume in named_volumes(service).items():
        for name, value in environment.items():
            if value.startswith("/") and PurePosixPath(value).is_relative_to(target):
                result[name] = str(scratch / volume / PurePosixPath(value).relative_to(target))
    return result


def one_shot_setup(services: dict, name: str) -> list[str]:
    """The one-shot services (other than migrations) that must have completed before ``name`` starts."""
    return [
        dependency
        for dependency, condition in depends_on(services[name]).items()
        if condition.get("condition") == "service_completed_successfully" and classify(services[dependency]) is None
    ]


def run_command(service: dict, environment: dict[str, str]) -> subprocess.CompletedProcess:
    """A one-shot service's command, run here (``python`` is this virtual environment's)."""
    words = command_of(service)
    if words[:1] in (["python"], ["python3"]):
        words = [sys.executable, *words[1:]]
    return subprocess.run(
        words,
        cwd=folder_of(service),
        env={**environment, "PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def depends_on(service: dict) -> dict[str, dict]:
    dependencies = service.get("depends_on") or {}
    if isinstance(dependencies, list):  # the short syntax has no condition
        return {name: {} for name in dependencies}
    return dependencies


def published_ports(service: dict) -> list[tuple[str, str]]:
    """``(published, target)`` of every published port."""
    ports = []
    for entry in service.get("ports") or []:
        if isinstance(entry, dict):
            ports.append((str(entry.get("published", "")), str(entry["target"])))
        else:
            parts = str(entry).split("/")[0].rsplit(":", 2)
            ports.append((parts[-2] if len(parts) > 1 else "", parts[-1]))
    return ports


def first_published_ports(service: dict) -> list[tuple[str, str]]:
    """``(published, target)``, a range of published ports (``8003-8012``: one for each replica of
    ``docker compose up --scale``) given by its first."""
    return [(published.split("-")[0], target) for published, target in published_ports(service)]


@pytest.fixture(scope="module")
def compose() -> dict:
    with COMPOSE_FILE.open(encoding="utf-8") as file:
        return interpolated(yaml.safe_load(file))


@pytest.fixture(scope="module")
def services(compose: dict) -> dict[str, dict]:
    return compose["services"]


@pytest.fixture(scope="module")
def processes(services: dict) -> dict[tuple[str | None, str], list[str]]:
    """Compose service names by ``(project, role)``."""
    found: dict[tuple[str | None, str], list[str]] = {}
    for name, service in services.items():
        kind = classify(service)
        if kind:
            found.setdefault(kind, []).append(name)
    return found


def the_one(processes: dict, kind: tuple[str | None, str]) -> str:
    names = processes.get(kind, [])
    if len(names) != 1:
        pytest.fail(f"expected one compose service running {kind}, found {names}")
    return names[0]


# ---------------------------------------------------------------- starting the settings

PROBE = """
import importlib, json, sys
import django
django.setup()
from django.conf import settings
project = sys.argv[1]
importlib.import_module(project + ".wsgi").application  # what the web server loads: middleware, URLs
database = settings.DATABASES["default"]
print(json.dumps({
    "debug": settings.DEBUG,
    "database_user": database["USER"],
    "static_root": str(settings.STATIC_ROOT),
    "broker_url": settings.CELERY_BROKER_URL,
    "queue": importlib.import_module(project).celery_app.conf.task_default_queue,
}))
"""

SCHEDULER_PROBE = """
import json
from common import scheduler
print(json.dumps({
    "broker_url": scheduler.app.conf.broker_url,
    "queues": sorted({entry["options"]["queue"] for entry in scheduler.app.conf.beat_schedule.values()}),
}))
"""


def run_python(code: str, args: tuple[str, ...], cwd: str, environment: tuple[tuple[str, str], ...]):
    """Run code with exactly ``environment`` plus PATH (to find nothing but what compose gives)."""
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=cwd,
        env={**dict(environment), "PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def runs(services: dict, processes: dict) -> dict[tuple, subprocess.CompletedProcess]:
    """Every start-up the tests look at, run concurrently.

    Keyed by ``(compose service, missing variable or None)``; identical runs
    (web, worker and migrate usually share an environment) are run once. Named
    volumes are folders of a scratch directory, filled first by the one-shot
    services (such as a key generator) that the processes wait for.
    """
    jobs: dict[tuple, tuple] = {}
    with tempfile.TemporaryDirectory(prefix="test-compose-") as scratch:
        volumes, elsewhere = Path(scratch) / "volumes", Path(scratch) / "cwd"
        elsewhere.mkdir()
        for volume in compose_volumes(services):
            (volumes / volume).mkdir(parents=True)
        setups = [setup for names in processes.values() for name in names for setup in one_shot_setup(services, name)]
        for setup in dict.fromkeys(setups):
            result = run_command(services[setup], localised(environment_of(services[setup]), services[setup], volumes))
            assert result.returncode == 0, f"one-shot {setup} failed:\n{result.stderr[-3000:]}"
        for (project, role), names in processes.items():
            for name in names:
                service = services[name]
                environment = localised(environment_of(service), service, volumes)
                if (project, role) == SCHEDULER:
                    # The image's /app holds no common/ folder (the package is installed), while
                    # the repository's would shadow the installed package: run elsewhere.
                    probe, cwd, secret = (SCHEDULER_PROBE,), str(elsewhere), "REDIS_URL"
                    arguments = {None: (), secret: ()}
                elif project in PROJECTS:
                    probe, cwd, secret = (PROBE,), str(folder_of(service)), "DJANGO_SECRET_KEY"
                    arguments = {None: (project,), secret: (project,)}
                else:
                    continue
                for missing, args in arguments.items():
                    variables = tuple(sorted((k, v) for k, v in environment.items() if k != missing))
                    jobs[(name, missing)] = (*probe, args, cwd, variables)
        unique = list(dict.fromkeys(jobs.values()))
        with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
            results = dict(zip(unique, pool.map(lambda job: run_python(*job), unique), strict=True))
    return {key: results[job] for key, job in jobs.items()}


def compose_volumes(services: dict) -> set[str]:
    return {volume for service in services.values() for volume in named_volumes(service).values()}


def started(result: subprocess.CompletedProcess) -> dict:
    assert result.returncode == 0, f"settings failed to start:\n{result.stderr[-3000:]}"
    return json.loads(result.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- 1. the specification


def test_compose_file_follows_the_compose_specification():
    check_jsonschema = Path(sys.executable).parent / "check-jsonschema"
    result = subprocess.run(
        [str(check_jsonschema), "--builtin-schema", "vendor.compose-spec", str(COMPOSE_FILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_project_is_named_shop(compose: dict):
    assert compose.get("name") == "shop"


# ---------------------------------------------------------------- 2. what the processes run


def test_each_service_has_one_migrate_web_and_worker_and_the_system_one_scheduler(processes: dict):
    for kind in [*PROCESSES, SCHEDULER]:
        the_one(processes, kind)
    unknown = sorted(str(kind) for kind in processes if kind not in [*PROCESSES, SCHEDULER])
    assert not unknown, f"processes of no known project: {unknown}"


@pytest.mark.parametrize("kind", PROCESSES, ids=_ids)
def test_process_runs_production_settings_in_its_project_folder(services: dict, processes: dict, kind: tuple):
    project, _ = kind
    service = services[the_one(processes, kind)]
    assert environment_of(service).get("DJANGO_SETTINGS_MODULE") == f"{project}.settings.production"
    assert service.get("working_dir") == str(APP_DIR / project)


@pytest.mark.parametrize("kind", PROCESSES, ids=_ids)
def test_production_settings_start_with_the_compose_environment(
    services: dict, processes: dict, runs: dict, kind: tuple
):
    project, _ = kind
    name = the_one(processes, kind)
    environment = environment_of(services[name])
    result = started(runs[(name, None)])
    assert result["debug"] is False
    assert result["database_user"] == PROJECTS[project]["role"]
    assert result["broker_url"] == environment["REDIS_URL"]
    assert result["queue"] == PROJECTS[project]["queue"]
    if "DJANGO_STATIC_ROOT" in environment:
        assert result["static_root"] == environment["DJANGO_STATIC_ROOT"]


@pytest.mark.parametrize("kind", PROCESSES, ids=_ids)
def test_production_settings_refuse_to_start_without_their_secret_key(processes: dict, runs: dict, kind: tuple):
    name, missing = the_one(processes, kind), "DJANGO_SECRET_KEY"
    assert runs[(name, None)].returncode == 0, "the settings do not start even with every variable"
    result = runs[(name, missing)]
    assert result.returncode != 0, f"{name} started without {missing}"
    assert missing in result.stderr, result.stderr[-2000:]


@pytest.mark.parametrize("kind", PROCESSES, ids=_ids)
def test_database_url_is_the_service_role_with_the_password_postgres_was_given(
    services: dict, processes: dict, kind: tuple
):
    project, _ = kind
    url = urlsplit(environment_of(services[the_one(processes, kind)])["DATABASE_URL"])
    postgres = environment_of(services["postgres"])
    assert url.scheme in ("postgres", "postgresql", "pgsql")
    assert url.username == PROJECTS[project]["role"]
    assert url.password == postgres[PROJECTS[project]["password"]]
    assert (url.hostname, url.port or 5432) == ("postgres", 5432)
    assert url.path.lstrip("/") == postgres["POSTGRES_DB"] == "shop"


@pytest.mark.parametrize("kind", [kind for kind in PROCESSES if kind[0] != "users_service"], ids=_ids)
def test_token_verifiers_fetch_the_public_keys_from_users_service(services: dict, processes: dict, kind: tuple):
    url = urlsplit(environment_of(services[the_one(processes, kind)]).get("JWT_JWKS_URL", ""))
    users_web = the_one(processes, ("users_service", "web"))
    assert (url.scheme, url.hostname, url.port) == ("http", users_web, PROJECTS["users_service"]["port"])
    assert url.path == "/.well-known/jwks.json"


@pytest.mark.parametrize("kind", [kind for kind in PROCESSES if kind[0] != "users_service"], ids=_ids)
def test_admin_single_sign_on_reaches_users_service_inside_the_network(services: dict, processes: dict, kind: tuple):
    url = urlsplit(environment_of(services[the_one(processes, kind)]).get("USERS_SERVICE_URL", ""))
    users_web = the_one(processes, ("users_service", "web"))
    assert (url.scheme, url.hostname, url.port) == ("http", users_web, PROJECTS["users_service"]["port"])


@pytest.mark.parametrize("project", PROJECTS)
def test_worker_consumes_the_queue_of_its_service(services: dict, processes: dict, runs: dict, project: str):
    name = the_one(processes, (project, "worker"))
    queues = (option(command_of(services[name]), "--queues", "-Q") or "").split(",")
    assert queues == [PROJECTS[project]["queue"]]
    assert queues == [started(runs[(name, None)])["queue"]], "the service's Celery app routes to another queue"


def test_scheduler_needs_only_the_broker_and_sends_to_queues_that_workers_consume(
    services: dict, processes: dict, runs: dict
):
    name = the_one(processes, SCHEDULER)
    assert services[name].get("working_dir") == str(APP_DIR)
    result = started(runs[(name, None)])
    assert result["broker_url"] == "redis://redis:6379/0"
    worker_queues = {
        queue
        for project in PROJECTS
        for queue in (
            option(command_of(services[the_one(processes, (project, "worker"))]), "--queues", "-Q") or ""
        ).split(",")
    }
    assert set(result["queues"]) <= worker_queues, f"queues nobody consumes: {set(result['queues']) - worker_queues}"
    assert runs[(name, "REDIS_URL")].returncode != 0, "the scheduler starts without a broker"


# ---------------------------------------------------------------- 3. the one description of the processes


@pytest.mark.parametrize("kind", described.DEPLOYED, ids=lambda kind: kind.name)
def test_compose_runs_each_process_with_the_described_command(services: dict, kind: ProcessKind):
    service = services.get(kind.name)
    assert service is not None, f"compose.yaml has no service {kind.name}, which shopctl/processes.py describes"
    assert command_of(service) == kind.command(CONTAINER_SITE)
    assert service.get("working_dir") == str(kind.cwd(CONTAINER_SITE))


@pytest.mark.parametrize("kind", described.DEPLOYED, ids=lambda kind: kind.name)
def test_compose_gives_each_process_the_described_environment(services: dict, kind: ProcessKind):
    names = set(environment_of(services[kind.name]))
    assert set(kind.environment_names) <= names, "compose lacks variables the process needs"
    unknown = names - set(kind.environment_names) - set(kind.optional_environment_names)
    assert not unknown, f"variables shopctl/processes.py does not describe: {sorted(unknown)}"


@pytest.mark.parametrize(
    "kind", [kind for kind in described.DEPLOYED if kind.role == "web"], ids=lambda kind: kind.name
)
def test_compose_publishes_each_web_server_on_its_described_port(services: dict, kind: ProcessKind):
    port = str(kind.port(CONTAINER_SITE))
    assert (port, port) in first_published_ports(services[kind.name])


@pytest.mark.parametrize(
    "kind", [kind for kind in described.DEPLOYED if kind.role == "worker"], ids=lambda kind: kind.name
)
def test_compose_lets_a_worker_finish_its_task_as_described(services: dict, kind: ProcessKind):
    assert services[kind.name].get("stop_grace_period") == f"{kind.stop_wait_seconds}s"


def test_compose_runs_no_process_the_description_lacks(processes: dict):
    kinds = {kind.name for kind in described.DEPLOYED}
    running = [name for (_, role), names in processes.items() if role != "migrate" for name in names]
    assert set(running) <= kinds, (
        f"compose runs processes shopctl/processes.py does not describe: {set(running) - kinds}"
    )


@pytest.mark.parametrize("project", PROJECTS)
def test_compose_migrates_with_the_described_command(services: dict, processes: dict, project: str):
    assert command_of(services[the_one(processes, (project, "migrate"))]) == migrate_command(CONTAINER_SITE)


# ---------------------------------------------------------------- 4. health, order of start, ports


def test_postgres_and_redis_have_health_checks(services: dict):
    postgres, redis = services["postgres"], services["redis"]
    assert postgres["image"] == "postgres:15"
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert redis["image"] == "redis:7"
    assert " ".join(redis["healthcheck"]["test"]).endswith("redis-cli ping")
    command = " ".join(command_of(redis))
    assert "--appendonly yes" in command
    assert "--maxmemory-policy noeviction" in command


def test_postgres_creates_the_schemas_and_roles_like_the_local_cluster(services: dict):
    postgres = services["postgres"]
    mounts = {}
    for volume in postgres.get("volumes", []):
        source, target = (volume["source"], volume["target"]) if isinstance(volume, dict) else volume.split(":")[:2]
        mounts[target] = source
    assert mounts.get("/docker-entrypoint-initdb.d/bootstrap.sql.in") == "./deploy/postgres/bootstrap.sql"
    assert mounts.get("/docker-entrypoint-initdb.d/10-bootstrap.sh") == "./deploy/postgres/initdb.sh"
    assert (ROOT / "deploy/postgres/bootstrap.sql").is_file()
    assert (ROOT / "deploy/postgres/initdb.sh").is_file()
    environment = environment_of(postgres)
    initdb = (ROOT / "deploy/postgres/initdb.sh").read_text(encoding="utf-8")
    for variable in sorted(set(re.findall(r"\$\{?([A-Z][A-Z0-9_]*)", initdb))):
        assert environment.get(variable), f"initdb.sh reads {variable}, which the postgres container lacks"


def test_every_service_waits_for_the_healthy_servers_it_is_configured_with(services: dict):
    """A container configured with the URL of a server this repository does not build (Postgres, Redis) waits for it."""
    problems = []
    for name, service in services.items():
        for variable, value in environment_of(service).items():
            host = urlsplit(value).hostname if "://" in value else None
            if host not in services or host == name or "build" in services[host]:
                continue
            if "healthcheck" not in services[host]:
                problems.append(f"{name}: {host} (in {variable}) has no healthcheck")
            if depends_on(service).get(host, {}).get("condition") != "service_healthy":
                problems.append(f"{name}: does not wait for {host} (in {variable}) to be healthy")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("project", PROJECTS)
def test_web_and_worker_start_after_their_migrations(services: dict, processes: dict, project: str):
    migrate = the_one(processes, (project, "migrate"))
    assert services[migrate].get("restart") == "no"
    for role in ("web", "worker"):
        service = services[the_one(processes, (project, role))]
        assert depends_on(service).get(migrate, {}).get("condition") == "service_completed_successfully", role


@pytest.mark.parametrize("project", PROJECTS)
def test_web_server_listens_is_published_and_checked_on_its_port(services: dict, processes: dict, project: str):
    port = str(PROJECTS[project]["port"])
    service = services[the_one(processes, (project, "web"))]
    command = command_of(service)
    assert f"{project}.wsgi:application" in command
    assert listen_address(command) == f"0.0.0.0:{port}"
    if command[0] == "granian":
        assert option(command, "--interface") == "wsgi"
    assert (port, port) in first_published_ports(service)
    healthcheck = service.get("healthcheck") or {}
    assert not healthcheck.get("disable"), "health check disabled"
    test = healthcheck.get("test") or []
    assert f"http://127.0.0.1:{port}/health/live/" in " ".join(test)
    if test[:3] == ["CMD", "python", "-c"]:
        compile(test[3], "healthcheck", "exec")


def test_every_application_container_runs_the_one_image(services: dict, processes: dict):
    built = [name for name, service in services.items() if "build" in service]
    processes = [name for names in processes.values() for name in names]
    assert set(processes) <= set(built), "a process runs an image this repository does not build"
    assert len({services[name].get("image") for name in built}) == 1, "more than one image is built"
    for name in built:
        assert services[name]["build"].get("dockerfile", "Dockerfile") == "Dockerfile", name
        assert services[name]["build"].get("context") == ".", name


def test_users_signing_key_is_generated_once_into_the_volume_the_processes_read(services: dict, processes: dict):
    names = [the_one(processes, ("users_service", role)) for role in ROLES]
    generators = {tuple(one_shot_setup(services, name)) for name in names}
    assert len(generators) == 1, f"users_service's processes wait for different one-shots: {generators}"
    (generator_name,) = generators.pop() or ("none",)
    generator = services[generator_name]
    with tempfile.TemporaryDirectory() as scratch:
        volumes = Path(scratch)
        for volume in compose_volumes(services):
            (volumes / volume).mkdir()
        read = {
            localised(environment_of(services[name]), services[name], volumes)["JWT_PRIVATE_KEY_FILE"] for name in names
        }
        written = localised(environment_of(generator), generator, volumes)
        assert read == {written["JWT_PRIVATE_KEY_FILE"]}, "the processes read another file than the generator writes"
        key_file = Path(written["JWT_PRIVATE_KEY_FILE"])
        assert key_file.is_relative_to(volumes), "the signing key is not kept in a volume"
        assert run_command(generator, written).returncode == 0
        first = key_file.read_bytes()
        assert key_file.stat().st_mode & 0o077 == 0, "the private key is readable by others"
        assert serialization.load_pem_private_key(first, password=None).key_size >= 2048
        assert run_command(generator, written).returncode == 0
        assert key_file.read_bytes() == first, "a second start replaced the signing key"


# ---------------------------------------------------------------- the Dockerfile


def dockerfile_instructions() -> list[tuple[str, str]]:
    """``(INSTRUCTION, arguments)`` with continuation lines joined and comments dropped."""
    instructions, current = [], ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        keyword, _, arguments = (current + stripped).partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        current = ""
    return instructions


def collectstatic_roots() -> dict[str, dict[str, str]]:
    """For each project the Dockerfile runs collectstatic for: the variables that command sets."""
    found = {}
    for keyword, arguments in dockerfile_instructions():
        if keyword != "RUN" or "collectstatic" not in arguments:
            continue
        loop = re.search(r"\bfor (\w+) in ([^;]+?);\s*do\b", arguments)
        variable, values = (loop[1], loop[2].split()) if loop else (None, [None])
        for segment in re.split(r";|&&", arguments):
            if "collectstatic" not in segment:
                continue
            for value in values:
                text = segment
                if variable:
                    text = text.replace(f"${{{variable}}}", value).replace(f"${variable}", value)
                words = shlex.split(text)
                assignments = dict(word.split("=", 1) for word in words if re.match(r"^[A-Z_][A-Z0-9_]*=", word))
                manage = next(word for word in words if word.endswith("manage.py"))
                found[PurePosixPath(manage).parent.name] = assignments
    return found


@pytest.mark.parametrize("project", PROJECTS)
def test_collectstatic_at_build_writes_where_compose_serves_static_files_from(
    services: dict, processes: dict, project: str
):
    assignments = collectstatic_roots().get(project)
    assert assignments is not None, f"the Dockerfile runs no collectstatic for {project}"
    assert assignments.get("DJANGO_SETTINGS_MODULE") == f"{project}.settings.production"
    web = environment_of(services[the_one(processes, (project, "web"))])
    assert assignments.get("DJANGO_STATIC_ROOT") == web.get("DJANGO_STATIC_ROOT")
    assert PurePosixPath(web["DJANGO_STATIC_ROOT"]).is_absolute()


def test_dockerfile_builds_an_unprivileged_image_without_runtime_secrets():
    instructions = dockerfile_instructions()
    assert [arguments for keyword, arguments in instructions if keyword == "FROM"] == ["python:3.11-slim"]
    runs = " ".join(arguments for keyword, arguments in instructions if keyword == "RUN")
    assert "pip install --no-cache-dir -r requirements/base.txt" in runs
    assert re.search(r"pip install [^;&]*--no-deps [^;&]*common", runs)
    users = [arguments for keyword, arguments in instructions if keyword == "USER"]
    assert users, "the image runs as root"
    assert users[-1].split(":")[0] not in ("root", "0")
    environment = " ".join(arguments for keyword, arguments in instructions if keyword == "ENV")
    for variable in REQUIRED:
        assert not re.search(rf"(^|\s){variable}[=\s]", environment), f"the image sets {variable} for every container"
    exposed = {port for keyword, arguments in instructions if keyword == "EXPOSE" for port in arguments.split()}
    assert {str(project["port"]) for project in PROJECTS.values()} <= exposed


def dockerignored(path: str, patterns: list[str]) -> bool:
    """Whether .dockerignore leaves ``path`` out of the build context (last matching pattern wins)."""
    ignored = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        glob = pattern.lstrip("!").strip("/")
        regex = "".join(
            ".*" if part == "**" else "[^/]*" if part == "*" else "[^/]" if part == "?" else re.escape(part)
            for part in re.split(r"(\*\*|\*|\?)", glob)
        )
        parts = path.split("/")
        if any(re.fullmatch(regex, "/".join(parts[:end])) for end in range(1, len(parts) + 1)):
            ignored = not negated
    return ignored


def test_dockerignore_keeps_local_state_out_and_the_code_in():
    lines = DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    for path in [".var/secrets.env", ".var/venv/bin/python", ".git/HEAD", "common/shop_common.egg-info/PKG-INFO"]:
        assert dockerignored(path, patterns), f"{path} is sent to the build"
    needed = ["requirements/base.txt", "common/pyproject.toml", "common/common/settings/production.py"]
    for project in PROJECTS:
        needed += [f"{project}/manage.py", f"{project}/{project}/settings/production.py"]
    for path in needed:
        assert not dockerignored(path, patterns), f"{path} is left out of the build"

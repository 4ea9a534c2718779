"""Where an order's CPU goes, by program, by layer and by function (``./manage_all.sh bench --profile``).

py-spy samples each application program while the saga runs at 20 orders/s: the thread holding the GIL,
so what Python runs (``--gil``; a web server's worker processes with ``--subprocesses``). A sample is charged
to the innermost frame that belongs to a layer (``LAYERS``: telemetry, Celery and kombu, the Redis client,
SQL, HTTP, the outbox and inbox, the services' own code, logging, JSON); frames of the rest of the standard
library go to their caller's layer. Each program's samples are then scaled to the CPU milliseconds per
confirmed order the same phase measured for it from ``/proc``, so the parts add up to the program's figure
(the share of its CPU that runs without the GIL, in the kernel or in a C library, is spread in proportion).
A layer's figure is steady from run to run; a single function's can spike: py-spy also sees the GIL held
while the kernel has the process waiting for a core, and garbage collection is charged to the allocation
that triggered it.

The raw stacks are kept (``.var/bench/profile-<program>.txt``, py-spy's collapsed format, which
flamegraph.pl and speedscope read).
"""

import collections
import linecache
import re
import subprocess
import sys
import sysconfig
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STANDARD_LIBRARY = sysconfig.get_paths()["stdlib"]
PROGRAMS = ("orders-web", "catalog-worker", "orders-worker", "users-worker")
SAMPLES_PER_SECOND = 250

TELEMETRY = "telemetry (traces, metrics, JSON log lines)"
SQL = "SQL (Django's connection, psycopg2)"
# In order: a frame belongs to the first layer one of whose path fragments its file contains.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (TELEMETRY, ("/opentelemetry/", "/prometheus_client/", "/pythonjsonlogger/", "/common/telemetry/")),
    ("Celery and kombu", ("/celery/", "/kombu/", "/billiard/", "/vine/", "/amqp/", "/common/kombu_redis_patches")),
    ("Redis client", ("/redis/",)),
    (SQL, ("/django/db/", "/psycopg2/", "/common/database/")),
    ("HTTP (Django, DRF, JWT)", ("/django/", "/rest_framework", "/drf_", "/jwt/", "/granian/", "/whitenoise/")),
    ("outbox, inbox, contracts", ("/common/messaging/", "/jsonschema_rs/")),
    ("the services' own code", ("_service/", "/common/")),
    ("logging", ("/logging/",)),
    ("JSON", ("/json/",)),
)
OTHER = "other (the standard library, the interpreter)"
# The psycopg2 instrumentation runs the statement from its own frame (psycopg2's execute is C): that line is
# SQL, not telemetry.
WRAPPED_STATEMENT = "query_method("
STATEMENT = "cursor.execute (psycopg2, in C)"

_FRAME = re.compile(r"^(?P<function>.*) \((?P<path>.*):(?P<line>\d+)\)$")


@dataclass
class ProgramProfile:
    samples: int = 0
    by_layer: collections.Counter = field(default_factory=collections.Counter)
    by_function: collections.Counter = field(default_factory=collections.Counter)


def layer_of(path: str) -> str | None:
    for layer, fragments in LAYERS:
        if any(fragment in path for fragment in fragments):
            return layer
    return None


def _runs_wrapped_statement(path: str, line: int) -> bool:
    return WRAPPED_STATEMENT in linecache.getline(path, line)


def _function_name(function: str, path: str) -> str:
    short = path.split("site-packages/")[-1].removeprefix(f"{ROOT}/").removeprefix(f"{STANDARD_LIBRARY}/")
    return f"{function} ({short})"


def read_collapsed(lines: Iterable[str]) -> ProgramProfile:
    """py-spy's raw output (``frame;frame;... count`` per line, outermost first) charged to layers and functions."""
    profile = ProgramProfile()
    for line in lines:
        stack, _, count = line.rstrip().rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = [match for frame in stack.split(";") if (match := _FRAME.match(frame))]
        if not frames:
            continue
        innermost = frames[-1]
        function = _function_name(innermost["function"], innermost["path"])
        if _runs_wrapped_statement(innermost["path"], int(innermost["line"])):
            layer, function = SQL, STATEMENT
        else:
            layer = next((layer for frame in reversed(frames) if (layer := layer_of(frame["path"]))), OTHER)
        samples = int(count)
        profile.samples += samples
        profile.by_layer[layer] += samples
        profile.by_function[function] += samples
    return profile


def milliseconds(profile: ProgramProfile, cpu_ms_per_order: float, counts: collections.Counter) -> dict[str, float]:
    """``counts`` (samples) as CPU milliseconds per order: the program's share of its measured figure."""
    if not profile.samples:
        return {}
    return {name: cpu_ms_per_order * samples / profile.samples for name, samples in counts.most_common()}


class SamplingRefused(RuntimeError):
    """The system does not let py-spy read another process (ptrace refused: a container without CAP_SYS_PTRACE)."""


REFUSALS = ("Permission denied", "Operation not permitted")


def start_sampling(pid: int, output: Path, seconds: float) -> subprocess.Popen:
    py_spy = Path(sys.executable).parent / "py-spy"
    command = [str(py_spy), "record", "--pid", str(pid), "--subprocesses", "--gil", "--nonblocking", "--full-filenames"]
    command += ["--format", "raw", "--rate", str(SAMPLES_PER_SECOND), "--duration", str(int(seconds))]
    return subprocess.Popen(  # noqa: S603 - the venv's py-spy, our own arguments
        [*command, "--output", str(output)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )


def finish_sampling(sampler: subprocess.Popen, program: str, timeout: float) -> None:
    _, errors = sampler.communicate(timeout=timeout)
    if sampler.returncode != 0:
        failure = f"py-spy could not sample {program} (exit {sampler.returncode}): {errors.strip()[-500:]}"
        raise SamplingRefused(failure) if any(refusal in errors for refusal in REFUSALS) else RuntimeError(failure)


def summarize(raw_files: dict[str, Path], cpu_ms_per_order: dict[str, float], top: int = 12) -> dict:
    """``programs``: each sampled program's CPU per order, by layer and its ``top`` functions by their own time
    (ms per order); ``not_sampled``: the CPU per order of the others (Postgres, Redis, the scheduler, ...)."""
    programs = {}
    for program, path in raw_files.items():
        profile = read_collapsed(path.read_text().splitlines())
        cpu = cpu_ms_per_order.get(program, 0.0)
        functions = milliseconds(profile, cpu, profile.by_function)
        programs[program] = {
            "cpu_ms_per_order": round(cpu, 2),
            "samples": profile.samples,
            "by_layer_ms": {name: round(ms, 2) for name, ms in milliseconds(profile, cpu, profile.by_layer).items()},
            "top_functions_ms": {name: round(ms, 3) for name, ms in list(functions.items())[:top]},
            "raw": str(path),
        }
    not_sampled = {name: round(ms, 2) for name, ms in cpu_ms_per_order.items() if name not in raw_files}
    return {"programs": programs, "not_sampled": not_sampled}


def print_profile(summary: dict) -> None:
    layers = [layer for layer, _ in LAYERS] + [OTHER]
    measured = summary["programs"]
    programs = list(measured)
    print("\nwhere an order's CPU goes (ms per confirmed order, py-spy at the saga's 20/s):")
    print(f"  {'layer':46}" + "".join(f"{program:>15}" for program in [*programs, "together"]))
    for layer in layers:
        row = [measured[program]["by_layer_ms"].get(layer, 0.0) for program in programs]
        if any(row):
            print(f"  {layer:46}" + "".join(f"{ms:15.2f}" for ms in [*row, sum(row)]))
    row = [measured[program]["cpu_ms_per_order"] for program in programs]
    print(f"  {'the program (its CPU, from /proc)':46}" + "".join(f"{ms:15.2f}" for ms in [*row, sum(row)]))
    others = sorted(summary["not_sampled"].items(), key=lambda item: -item[1])
    print("  not sampled: " + ", ".join(f"{name} {ms:.2f}" for name, ms in others if ms >= 0.01))
    for program in programs:
        print(f"\n  {program}: the functions with the most time of their own (ms per order)")
        for name, ms in measured[program]["top_functions_ms"].items():
            print(f"    {ms:6.3f}  {name[:110]}")

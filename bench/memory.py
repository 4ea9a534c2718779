"""Memory and CPU time of the running system, read from /proc.

RSS counts a page shared by several processes (forked workers share their
parent's code and imported modules) once in each of them; PSS divides it among
them, so the PSS of all processes adds up to what the system really holds.
The table reports PSS; RSS is kept in the JSON for comparison.
"""

import os
from pathlib import Path

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    children = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return children


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    tree, queue = [], [pid]
    while queue:
        current = queue.pop()
        tree.append(current)
        queue += _children(current)
    return tree


def resident_kib(pid: int) -> int:
    """VmRSS of one process, in KiB (0 if it has gone)."""
    return _field_kib(f"/proc/{pid}/status", "VmRSS:")


def proportional_kib(pid: int) -> int:
    """PSS of one process, in KiB: its private pages plus its share of shared ones (0 if it has gone)."""
    return _field_kib(f"/proc/{pid}/smaps_rollup", "Pss:")


def _field_kib(path: str, field: str) -> int:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def postgres_backends(database: str) -> list[int]:
    """The Postgres backends serving ``database`` (their process titles name it)."""
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text.startswith("postgres: ") and f" {database} " in text:
            pids.append(int(cmdline.parent.name))
    return pids


def system_memory_mib(process_pids: dict[str, int], *, database: str, measure=proportional_kib) -> dict[str, float]:
    """Memory per program (its whole process tree), plus the database backends, in MiB."""
    usage = {name: sum(measure(p) for p in process_tree(pid)) / 1024 for name, pid in process_pids.items()}
    usage["postgres backends"] = sum(measure(pid) for pid in postgres_backends(database)) / 1024
    return usage


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time one process has used so far, in seconds (0 if it has gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS  # utime and stime: fields 14 and 15 of stat


def system_cpu_seconds(process_pids: dict[str, int], *, database: str) -> dict[str, dict[int, float]]:
    """CPU seconds used so far by each process of each program (its whole process tree), and by each of the
    database's backends; ``cpu_seconds_between`` turns two of these into CPU used per program."""
    usage = {name: {p: cpu_seconds(p) for p in process_tree(pid)} for name, pid in process_pids.items()}
    usage["postgres backends"] = {pid: cpu_seconds(pid) for pid in postgres_backends(database)}
    return usage


def cpu_seconds_between(before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]) -> dict[str, float]:
    """CPU seconds each program used between two ``system_cpu_seconds`` readings.

    Counted per process: one that started in between counts whole, one that ended in between is missed (its
    last reading is gone), so a connection closed mid-phase never makes a program's figure negative.
    """
    return {
        name: sum(seconds - before.get(name, {}).get(pid, 0.0) for pid, seconds in processes.items())
        for name, processes in after.items()
    }

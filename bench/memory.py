"""Resident memory of the running system, read from /proc."""

from pathlib import Path


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
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
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


def system_memory_mib(process_pids: dict[str, int], *, database: str) -> dict[str, float]:
    """Resident memory per program (its whole process tree), plus the database backends, in MiB."""
    usage = {name: sum(resident_kib(p) for p in process_tree(pid)) / 1024 for name, pid in process_pids.items()}
    usage["postgres backends"] = sum(resident_kib(pid) for pid in postgres_backends(database)) / 1024
    return usage

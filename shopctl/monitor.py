"""Prometheus for the local system and the tests: its configuration, rendered from the description of the processes.

Every process whose description says where its metrics are (``ProcessKind.metrics``) is a scrape target, one
per replica: a web server's ``/metrics`` on its own port, a worker's or the scheduler's on the port given in
``SHOP_METRICS_ADDRESS``, and Prometheus itself. The job is the process kind, the instance the program's name
(``catalog-worker-2``), so an alert names the replica that is down. The alert rules are deploy/prometheus/'s,
the ones compose's Prometheus loads and ``promtool test rules`` checks.

The configuration is JSON, which is YAML too: nothing to install to write it.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from shopctl import infrastructure
from shopctl.processes import ProcessKind

RULES_DIR = infrastructure.ROOT / "deploy" / "prometheus"
RULE_FILES = (RULES_DIR / "alerts.yml",)
RULE_TESTS = (RULES_DIR / "alerts.test.yml",)
# How often Prometheus scrapes every process and evaluates the rules: ``up``'s, compose's (its prometheus.compose.yml,
# held to this by tests/test_telemetry_config.py) and the benchmark's, which measures what the scrapes cost. The
# rules' windows (1 min and up) hold four samples or more.
SCRAPE_INTERVAL_SECONDS = 15.0


@dataclass(frozen=True)
class Target:
    """One process Prometheus scrapes."""

    job: str  # the process kind: users-web, catalog-worker, scheduler, ...
    instance: str  # the program: catalog-worker-2
    address: str  # host:port


def metrics_address(kind: ProcessKind, *, host: str, own_port: int | None, metrics_port: int | None) -> str | None:
    """Where Prometheus reads this process's metrics, as the description says (None: nowhere)."""
    if kind.metrics == "port" and own_port is not None:
        return f"{host}:{own_port}"
    if kind.metrics in ("metrics-port", "exporter") and metrics_port is not None:
        return f"{host}:{metrics_port}"
    return None


def telemetry_environment(kind: ProcessKind, *, address: str | None, multiprocess_dir: Path) -> dict[str, str]:
    """What a process is told about its metrics: its own port (a worker, the scheduler), or, for a web server,
    the directory its worker processes count in (prometheus-client's multiprocess mode)."""
    if kind.role == "web":
        return {"PROMETHEUS_MULTIPROC_DIR": str(multiprocess_dir)}
    if kind.metrics == "metrics-port" and address:
        return {"SHOP_METRICS_ADDRESS": address}
    return {}


def empty_multiprocess_dir(environment: Mapping[str, str]) -> None:
    """Before a web server starts: an empty directory for its counts (a previous run's would add up with them)."""
    directory = environment.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        Path(directory).mkdir(parents=True)


def render(targets: Iterable[Target], *, scrape_interval_seconds: float = SCRAPE_INTERVAL_SECONDS) -> str:
    """prometheus.yml: one job per process kind, one target per replica, the alert rules of deploy/prometheus/."""
    jobs: dict[str, list[Target]] = {}
    for target in targets:
        jobs.setdefault(target.job, []).append(target)
    interval = f"{int(scrape_interval_seconds * 1000)}ms"
    config = {
        "global": {"scrape_interval": interval, "evaluation_interval": interval, "scrape_timeout": interval},
        "rule_files": [str(path) for path in RULE_FILES],
        "scrape_configs": [
            {
                "job_name": job,
                "metrics_path": "/metrics",
                "static_configs": [
                    {"targets": [target.address], "labels": {"instance": target.instance}} for target in members
                ],
            }
            for job, members in jobs.items()
        ],
    }
    return json.dumps(config, indent=2) + "\n"


def write_config(
    path: Path, targets: Iterable[Target], *, scrape_interval_seconds: float = SCRAPE_INTERVAL_SECONDS
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(targets, scrape_interval_seconds=scrape_interval_seconds))

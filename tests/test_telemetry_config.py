"""Static checks of the telemetry configuration: every metric a dashboard or an alert rule names is one the services
export (common.telemetry.metrics), every exported metric is on a dashboard, and compose's Prometheus scrapes every
process of the description. No server is started; the alert rules' behaviour is ``promtool test rules``'s."""

import json
import re
from pathlib import Path

import pytest
import yaml

from common.telemetry.metrics import EXPORTED_NAMES, GAUGES
from shopctl.monitor import SCRAPE_INTERVAL_SECONDS
from shopctl.processes import CONTAINER_SITE, DEPLOYED

ROOT = Path(__file__).resolve().parents[1]
DASHBOARDS = sorted((ROOT / "deploy/grafana/dashboards").glob("*.json"))
RULES = ROOT / "deploy/prometheus/alerts.yml"
COMPOSE_PROMETHEUS = ROOT / "deploy/prometheus/prometheus.compose.yml"
DATASOURCES = ROOT / "deploy/grafana/provisioning/datasources/shop.yml"
# Prometheus' own series a dashboard or rule may use besides the services'.
PROMETHEUS_OWN = {"up"}
PROMQL_WORDS = {
    *("sum", "max", "min", "avg", "count", "by", "without", "rate", "increase", "irate", "histogram_quantile"),
    *("label_values", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "offset"),
    *("le", "service", "route", "method", "status", "outcome", "message", "queue", "scope", "instance", "job"),
}


def metric_names(expression: str) -> set[str]:
    """The series names an expression reads: identifiers that are neither functions, keywords nor labels."""
    without_strings = re.sub(r'"[^"]*"', '""', expression)
    without_ranges = re.sub(r"\[[^\]]*\]", "", without_strings)
    without_matchers = re.sub(r"\{[^}]*\}", "", without_ranges)
    words = set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", without_matchers))
    return {word for word in words if word not in PROMQL_WORDS and not re.fullmatch(r"e\d*|Inf|NaN", word)}


def dashboard_expressions(path: Path) -> list[str]:
    dashboard = json.loads(path.read_text())
    expressions = [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]
    expressions += [variable["definition"] for variable in dashboard.get("templating", {}).get("list", [])]
    return expressions


def rule_expressions() -> list[str]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule["expr"] for group in groups for rule in group["rules"]]


def test_the_three_dashboards_are_there():
    titles = {json.loads(path.read_text())["title"] for path in DASHBOARDS}
    assert titles == {"Shop: order saga", "Shop: HTTP per service and route", "Shop: messaging"}


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda path: path.name)
def test_a_dashboard_names_only_metrics_the_services_export(path: Path):
    named = set().union(*(metric_names(expression) for expression in dashboard_expressions(path)))
    assert named, "the dashboard shows nothing"
    unknown = named - EXPORTED_NAMES - PROMETHEUS_OWN
    assert not unknown, f"{path.name} names metrics nobody exports: {sorted(unknown)}"


def test_the_alert_rules_name_only_metrics_the_services_export():
    named = set().union(*(metric_names(expression) for expression in rule_expressions()))
    assert named - EXPORTED_NAMES - PROMETHEUS_OWN == set()
    assert {"shop_dead_letters", "shop_outbox_oldest_age_seconds", "up"} <= named


def test_every_exported_metric_is_on_a_dashboard():
    named = set().union(
        *(metric_names(expression) for path in DASHBOARDS for expression in dashboard_expressions(path))
    )
    families = {re.sub(r"_(bucket|count|sum)$", "", name) for name in EXPORTED_NAMES}
    shown = {re.sub(r"_(bucket|count|sum)$", "", name) for name in named}
    assert families - shown == set()
    assert set(GAUGES) <= named


def test_the_name_check_sees_a_metric_nobody_exports():
    assert metric_names('sum by (service) (rate(shop_http_requests_typo_total{status=~"5.."}[5m]))') == {
        "shop_http_requests_typo_total"
    }


def test_dashboards_use_the_provisioned_data_sources():
    uids = {source["uid"] for source in yaml.safe_load(DATASOURCES.read_text())["datasources"]}
    for path in DASHBOARDS:
        used = {
            target["datasource"]["uid"]
            for panel in json.loads(path.read_text())["panels"]
            for target in panel["targets"]
        }
        assert used <= uids, path.name


def test_compose_prometheus_scrapes_every_described_process_where_it_serves_its_metrics():
    config = yaml.safe_load(COMPOSE_PROMETHEUS.read_text())
    assert config["rule_files"] == ["alerts.yml"]  # beside it in deploy/prometheus/, mounted together
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    for kind in DEPLOYED:
        if kind.metrics == "none":
            continue
        assert kind.name in jobs, f"compose's Prometheus does not scrape {kind.name}"
        discovery = jobs[kind.name]["dns_sd_configs"]
        ports = {"port": kind.port(CONTAINER_SITE), "exporter": CONTAINER_SITE.gateway.metrics_port}
        port = ports.get(kind.metrics, 9100)
        assert discovery == [{"names": [kind.name], "type": "A", "port": port}], kind.name


def test_compose_prometheus_scrapes_as_often_as_ups():
    config = yaml.safe_load(COMPOSE_PROMETHEUS.read_text())["global"]
    interval = f"{SCRAPE_INTERVAL_SECONDS:g}s"
    assert (config["scrape_interval"], config["evaluation_interval"]) == (interval, interval)


def test_compose_gives_workers_and_the_scheduler_the_port_prometheus_scrapes():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
    for kind in DEPLOYED:
        environment = compose[kind.name]["environment"]
        if kind.metrics == "metrics-port":
            assert environment["SHOP_METRICS_ADDRESS"] == "0.0.0.0:9100", kind.name
        if kind.role == "web":
            assert environment["PROMETHEUS_MULTIPROC_DIR"].startswith("/tmp/"), kind.name  # noqa: S108 - the container's own

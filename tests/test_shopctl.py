"""The one description of the processes, and what is drawn from it: supervisor's configuration for `up`,
the test and benchmark launcher's environments, ``--scale``. No server is started here."""

import configparser
import shlex
from pathlib import Path

import pytest

from shopctl import supervisor
from shopctl.cli import parse_scale
from shopctl.launcher import System
from shopctl.local import Config, SetupError
from shopctl.processes import PROCESSES, PROCESSES_BY_NAME, SERVICES


def rendered(scale: dict[str, int]) -> configparser.RawConfigParser:
    config = Config()
    parser = configparser.RawConfigParser()
    parser.read_string(supervisor.render(supervisor.system_programs(config, scale)))
    return parser


def test_supervisor_runs_every_described_process_with_its_command():
    site, parser = Config().site(), rendered({})
    for kind in PROCESSES:
        section = parser[f"program:{kind.name}"]
        command = shlex.split(section["command"].replace("%%", "%"))
        assert command == kind.command(site)
        assert Path(section["directory"]) == Path(kind.cwd(site))
        assert section["stopwaitsecs"] == str(kind.stop_wait_seconds)


def test_replicas_of_a_kind_form_a_group_of_workers_with_their_own_node_names():
    parser = rendered({"catalog-worker": 3})
    assert parser["group:catalog-worker"]["programs"] == "catalog-worker-1,catalog-worker-2,catalog-worker-3"
    assert "program:catalog-worker" not in parser
    nodes = {shlex.split(parser[f"program:catalog-worker-{n}"]["command"].replace("%%", "%"))[-3] for n in (1, 2, 3)}
    assert nodes == {"catalog-worker-1@%h", "catalog-worker-2@%h", "catalog-worker-3@%h"}


@pytest.mark.parametrize("value", ["scheduler=2", "nobody=2", "catalog-worker=0", "catalog-worker=two", "gateway=2"])
def test_scale_refuses_what_cannot_be_scaled(value: str):
    with pytest.raises(SetupError):
        parse_scale([value])


def test_scale_takes_every_worker_kind():
    assert parse_scale(["catalog-worker=3", "orders-worker=2"]) == {"catalog-worker": 3, "orders-worker": 2}


def test_web_replicas_listen_on_ports_of_their_own_and_the_gateway_balances_over_all():
    config = Config()
    parser = rendered({"orders-web": 3})
    assert parser["group:orders-web"]["programs"] == "orders-web-1,orders-web-2,orders-web-3"
    base = config.ports["orders_service"]
    for replica in (1, 2, 3):
        command = shlex.split(parser[f"program:orders-web-{replica}"]["command"])
        assert command[command.index("--port") + 1] == str(base + 100 * (replica - 1))
    from shopctl import gateway

    backends = gateway.render(config.site({"orders-web": 3}))
    assert [f"127.0.0.1:{base + 100 * step} " in backends for step in (0, 1, 2)] == [True, True, True]


@pytest.mark.parametrize("service", SERVICES, ids=lambda service: service.name)
def test_the_launcher_gives_each_service_the_described_environment(monkeypatch, tmp_path, service):
    for each in SERVICES:
        monkeypatch.setenv(each.password_variable, "secret")
    system = System(database_name="described", admin_database_url="postgres://a:b@127.0.0.1:5432/p", workdir=tmp_path)
    kind = PROCESSES_BY_NAME[f"{service.short}-web"]
    names = set(system.service_environment(service.name))
    assert set(kind.environment_names) <= names
    assert names <= set(kind.environment_names) | set(kind.optional_environment_names)


def test_prometheus_of_up_scrapes_every_program_each_replica_on_its_own_address():
    # given: three catalog workers
    config = Config()
    programs = supervisor.system_programs(config, {"catalog-worker": 3})
    # when
    scraped = {program.name: program.metrics_address for program in programs if program.metrics_address}
    # then: every process the description starts is scraped, each at an address of its own
    assert set(scraped) == {program.name for program in programs}
    assert len(set(scraped.values())) == len(scraped)
    for program in programs:
        kind = PROCESSES_BY_NAME[program.group]
        if kind.metrics == "metrics-port":  # a worker or the scheduler serves where Prometheus looks
            assert program.environment["SHOP_METRICS_ADDRESS"] == program.metrics_address
        if kind.role == "web":  # its workers count into a directory of its own, added up on its own port
            assert program.metrics_address == f"127.0.0.1:{config.ports[kind.service.name]}"
            assert Path(program.environment["PROMETHEUS_MULTIPROC_DIR"]).name == program.name
    assert scraped["prometheus"] == f"127.0.0.1:{config.prometheus_port}"

"""The gateway (HAProxy, ARCHITECTURE.md "Edge") in front of the real system: routes, TLS and its CA, the
redirect to https, what is never routed, the body limit, the per-address rate limit, security headers, request
ids, and balancing over two replicas of a web server while one is killed."""

import contextlib
import dataclasses
import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import threading
import uuid
from pathlib import Path

import pytest
import requests

from shopctl import gateway as gateway_config
from shopctl.launcher import Process, free_port, port_closed, wait_for
from shopctl.processes import CATALOG, ORDERS, PROCESSES_BY_NAME, REPLICA_PORT_STEP, SERVICES_BY_NAME

SECURITY_HEADERS = dict(gateway_config.SECURITY_HEADERS)
# A session's own ``verify`` loses to REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE in the environment; a request's wins.


def through(system, path: str, method: str = "GET", *, timeout: float = 15, **kwargs) -> requests.Response:
    return requests.request(
        method, f"{system.gateway_url}{path}", verify=str(system.ca_file), timeout=timeout, **kwargs
    )


def assert_common_error(response: requests.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text[:500]
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json() == {
        "type": "server_error" if status >= 500 else "client_error",
        "errors": [{"code": code, "detail": response.json()["errors"][0]["detail"], "attr": None}],
    }


@pytest.fixture(scope="module", autouse=True)
def gateway_balancing_over_every_web_server(system):
    """These tests start from a gateway that balances over every web server: a fault test before them may have
    stopped a dependency, and the gateway marks a server up again two health checks after it is ready."""
    system.wait_until_the_gateway_balances()


# ---------------------------------------------------------------- routes


@pytest.mark.parametrize(
    ("path", "service"),
    [
        ("/api/v1/products/", "catalog_service"),
        ("/api/v1/categories/", "catalog_service"),
        ("/api/v1/orders/", "orders_service"),
        ("/api/v1/users/me/", "users_service"),
        ("/api/v1/auth/whoami/", "users_service"),
        ("/.well-known/jwks.json", "users_service"),
        ("/users/api/schema/?format=json", "users_service"),
        ("/catalog/api/docs/", "catalog_service"),
        ("/orders/admin/login/", "orders_service"),
        ("/catalog/static/admin/css/base.css", "catalog_service"),
    ],
)
def test_each_path_reaches_its_service_unchanged(system, path, service):
    direct = requests.get(f"{system.urls[service]}{path}", timeout=15)

    response = through(system, path)

    assert direct.status_code != 404
    assert response.status_code == direct.status_code
    assert response.headers["Content-Type"] == direct.headers["Content-Type"]
    if "json" in direct.headers["Content-Type"] and "schema" not in path:
        # The same body, but for a page's links: absolute, each to the address it was asked at (the gateway's https).
        body, direct_body = response.json(), direct.json()
        for link in ("next", "previous"):
            if isinstance(body, dict) and body.get(link):
                assert body[link].startswith(f"{system.gateway_url}{path}")
                assert direct_body[link].startswith(f"{system.urls[service]}{path}")
                body[link] = direct_body[link]
        assert body == direct_body


def test_each_schema_is_its_own_services(system):
    for service in SERVICES_BY_NAME.values():
        schema = through(system, f"{service.url_prefix}api/schema/", params={"format": "json"}).json()
        assert service.name in schema["info"]["title"]


def test_a_path_no_service_serves_is_a_json_404_from_the_gateway(system):
    assert_common_error(through(system, "/no/such/path/"), 404, "not_found")


@pytest.mark.parametrize("path", ["/metrics", "/metrics/", "/catalog/metrics", "/api/v1/orders/metrics/"])
def test_metrics_are_never_routed_from_outside(system, path):
    assert_common_error(through(system, path), 404, "not_found")


def test_the_gateways_own_metrics_are_on_its_loopback_port(system):
    response = requests.get(system.gateway_metrics_url, timeout=10)

    assert response.status_code == 200
    assert "haproxy_backend_status" in response.text


# ---------------------------------------------------------------- TLS and the redirect


def test_plain_http_is_redirected_to_https_with_path_and_query(system):
    response = requests.get(f"{system.gateway_http_url}/api/v1/products/?page=2", allow_redirects=False, timeout=10)

    assert response.status_code == 308
    assert response.headers["Location"] == f"{system.gateway_url}/api/v1/products/?page=2"


def test_the_certificate_is_trusted_with_the_runs_ca_only(system):
    assert through(system, "/api/v1/products/").status_code == 200
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"{system.gateway_url}/api/v1/products/", timeout=10)  # the machine's CAs


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_tls_1_2_or_newer_only(system, host):
    port = system.gateway_ports[0]
    modern = ssl.create_default_context(cafile=str(system.ca_file))
    with (
        socket.create_connection((host, port), timeout=10) as raw,
        modern.wrap_socket(raw, server_hostname=host) as tls,
    ):
        assert tls.version() in ("TLSv1.2", "TLSv1.3")
    old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    old.load_verify_locations(cafile=str(system.ca_file))
    old.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    old.maximum_version = ssl.TLSVersion.TLSv1_1
    old.set_ciphers("ALL:@SECLEVEL=0")
    with socket.create_connection((host, port), timeout=10) as raw, pytest.raises(ssl.SSLError):
        old.wrap_socket(raw, server_hostname=host)


# ---------------------------------------------------------------- headers and request ids


@pytest.mark.parametrize("path", ["/api/v1/products/", "/no/such/path/", "/metrics"])
def test_security_headers_on_every_answer(system, path):
    response = through(system, path)

    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, name
    assert "Server" not in response.headers


def test_a_clients_request_id_is_kept(system):
    response = through(system, "/api/v1/products/", headers={"X-Request-ID": "client-chosen.id_42"})

    assert response.headers["X-Request-ID"] == "client-chosen.id_42"


@pytest.mark.parametrize("sent", [None, "", "not a valid id", "x" * 129])
def test_a_request_id_is_set_when_there_is_none_or_it_is_not_one(system, sent):
    headers = {} if sent is None else {"X-Request-ID": sent}

    first = through(system, "/api/v1/products/", headers=headers).headers["X-Request-ID"]
    second = through(system, "/api/v1/products/", headers=headers).headers["X-Request-ID"]

    assert uuid.UUID(first) != uuid.UUID(second)


# ---------------------------------------------------------------- the body limit


def test_a_body_over_one_mib_is_a_413_before_any_service_reads_it(system):
    """Answered from the headers alone, as a client that reads while it sends (curl, a browser) sees it: the
    request declares 2 MiB and sends only the first 64 KiB of it. HAProxy answers and closes once it has read the
    headers, so the rest of the sending may meet a reset connection (a few times in a hundred on a loaded machine,
    with a bare HAProxy too); such a client reads the answer that came before the reset, as this one does."""
    declared = 2 * gateway_config.BODY_LIMIT_BYTES
    context = ssl.create_default_context(cafile=str(system.ca_file))
    with (
        socket.create_connection(("127.0.0.1", system.gateway_ports[0]), timeout=15) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as connection,
    ):
        with contextlib.suppress(ssl.SSLError, ConnectionError):  # the handshake is done: not a TLS failure
            connection.sendall(
                (
                    "POST /api/v1/orders/ HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {declared}\r\n\r\n"
                ).encode()
                + b" " * 65536
            )
        answer = http.client.HTTPResponse(connection)
        answer.begin()
        body = answer.read()

    assert answer.status == 413
    assert answer.getheader("Content-Type") == "application/json"
    assert json.loads(body)["errors"][0]["code"] == "request_too_large"
    for name, value in SECURITY_HEADERS.items():
        assert answer.getheader(name) == value


def test_a_body_within_the_limit_reaches_the_service(system):
    body = b"{" + b" " * (gateway_config.BODY_LIMIT_BYTES - 2) + b"}"

    response = through(system, "/api/v1/auth/token/", "POST", data=body, headers={"Content-Type": "application/json"})

    # users_service read and parsed the whole body: an empty object, so the credentials are missing
    assert response.status_code == 400, response.text
    assert {error["attr"] for error in response.json()["errors"]} == {"username", "password"}


# ---------------------------------------------------------------- another gateway of the same system


def start_gateway(system, name: str, *, environment: dict[str, str], web_replicas: dict[str, int] | None = None):
    """A second gateway over the running system, on ports of its own, with its own environment and replicas."""
    site = system.site
    gateway = dataclasses.replace(
        site.gateway,
        https_port=free_port(),
        http_port=free_port(),
        metrics_port=free_port(),
        config=system.workdir / name / "haproxy.cfg",
    )
    site = dataclasses.replace(site, gateway=gateway, web_replicas=web_replicas or {})
    Path(gateway.config).parent.mkdir(parents=True, exist_ok=True)
    Path(gateway.config).write_text(gateway_config.render(site))
    kind = PROCESSES_BY_NAME["gateway"]
    started = system.start(
        name, kind.command(site), cwd=Path(kind.cwd(site)), env={"PATH": os.environ["PATH"], **environment}
    )
    wait_for(lambda: not port_closed(gateway.https_port), timeout=20, what=name)
    return started, f"https://localhost:{gateway.https_port}"


def test_more_requests_from_one_address_than_the_limit_are_a_429_with_retry_after(system):
    ca = str(system.ca_file)
    _, url = start_gateway(
        system, "gateway-limited", environment={"SHOP_GATEWAY_RATE_LIMIT": "5", "SHOP_GATEWAY_RATE_PERIOD": "30"}
    )
    try:
        with requests.Session() as session:
            answers = [session.get(f"{url}/api/v1/products/", verify=ca, timeout=15) for _ in range(8)]
    finally:
        system.stop("gateway-limited")

    assert [answer.status_code for answer in answers] == [200] * 5 + [429] * 3
    refused = answers[-1]
    assert_common_error(refused, 429, "throttled")
    assert refused.headers["Retry-After"] == "30"
    assert refused.headers["Strict-Transport-Security"] == SECURITY_HEADERS["Strict-Transport-Security"]


def test_rate_limits_off_switches_the_gateways_limit_off(system):
    ca = str(system.ca_file)
    _, url = start_gateway(
        system, "gateway-unlimited", environment={"SHOP_GATEWAY_RATE_LIMIT": "5", "SHOP_RATE_LIMITS": "off"}
    )
    try:
        with requests.Session() as session:
            answers = [session.get(f"{url}/api/v1/categories/", verify=ca, timeout=15).status_code for _ in range(12)]
    finally:
        system.stop("gateway-unlimited")

    assert answers == [200] * 12


# ---------------------------------------------------------------- balancing over replicas


def access_log_lines(process: Process, path: str) -> int:
    return sum(path in line for line in process.log_path.read_text(errors="replace").splitlines())


def test_requests_are_balanced_over_replicas_and_a_killed_replica_fails_no_idempotent_request(system):
    orders_web = PROCESSES_BY_NAME["orders-web"]
    second_port = system.site.port(ORDERS, 2)
    assert second_port == system.ports[ORDERS.name] + REPLICA_PORT_STEP
    if not port_closed(second_port):
        pytest.fail(f"port {second_port} for a second orders-web replica is taken")
    second = system.start_kind(orders_web, replica=2)
    wait_for(
        lambda: requests.get(f"http://127.0.0.1:{second_port}/health/ready/", timeout=2).status_code == 200,
        timeout=90,
        what="orders-web-2",
    )
    _, url = start_gateway(
        system, "gateway-replicas", environment={"SHOP_RATE_LIMITS": "off"}, web_replicas={"orders-web": 2}
    )
    first = system.processes[orders_web.name]
    ca = str(system.ca_file)
    headers = system.bearer(user_id=4242, roles=["customer"])
    path = "/api/v1/orders/?page_size=1"
    statuses: list[int | str] = []
    stop = threading.Event()

    def load() -> None:
        with requests.Session() as session:
            while not stop.is_set():
                try:
                    statuses.append(session.get(f"{url}{path}", headers=headers, verify=ca, timeout=20).status_code)
                except requests.RequestException as error:
                    statuses.append(type(error).__name__)

    try:
        before = access_log_lines(first, "/api/v1/orders/"), access_log_lines(second, "/api/v1/orders/")
        clients = [threading.Thread(target=load) for _ in range(4)]
        for client in clients:
            client.start()
        wait_for(lambda: len(statuses) >= 60, timeout=60, what="requests through both replicas")
        served = (
            access_log_lines(first, "/api/v1/orders/") - before[0],
            access_log_lines(second, "/api/v1/orders/") - before[1],
        )
        os.killpg(second.popen.pid, signal.SIGKILL)  # mid-stream, without warning
        killed_at = len(statuses)
        wait_for(lambda: len(statuses) >= killed_at + 120, timeout=90, what="requests after the kill")
    finally:
        stop.set()
        for client in clients:
            client.join(timeout=30)
        system.stop("gateway-replicas")
        if second.popen.poll() is None:
            os.killpg(second.popen.pid, signal.SIGKILL)
        second.popen.wait(timeout=10)
        system.processes.pop(second.name, None)

    assert min(served) > 0, f"both replicas should serve: {served}"
    assert [status for status in statuses if status != 200] == []


def test_a_replica_of_a_web_server_listens_on_its_services_port_plus_a_step(system):
    site = system.site

    assert [site.port(CATALOG, replica) for replica in (1, 2, 3)] == [
        system.ports[CATALOG.name] + REPLICA_PORT_STEP * step for step in (0, 1, 2)
    ]
    command = PROCESSES_BY_NAME["catalog-web"].command(site, replica=3)
    assert str(system.ports[CATALOG.name] + 2 * REPLICA_PORT_STEP) in command


def test_the_rendered_configuration_is_valid_for_haproxy(system):
    result = subprocess.run(
        [system.site.gateway.program, "-c", "-f", str(system.site.gateway.config)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr

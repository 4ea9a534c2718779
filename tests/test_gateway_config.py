"""The gateway's configuration (shopctl/gateway.py): what compose and Kubernetes carry is the renderer's, and
HAProxy accepts every rendering. No system needed: HAProxy only checks the files (``haproxy -c``)."""

import dataclasses
import shutil
import subprocess
from pathlib import Path

import pytest

from shopctl import gateway, tls
from shopctl.processes import CONTAINER_SITE, SERVICES, Site

ROOT = Path(__file__).resolve().parents[1]
HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"


def test_the_deployed_configuration_is_the_renderers():
    assert gateway.DEPLOYED_CONFIG.read_text() == gateway.render(CONTAINER_SITE), (
        "deploy/k8s/base/haproxy.cfg is stale: python -m shopctl.gateway writes it again"
    )
    assert "./deploy/k8s/base/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro" in (ROOT / "compose.yaml").read_text()


def check(site: Site, tmp_path: Path, environment: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    config = tmp_path / "haproxy.cfg"
    config.write_text(gateway.render(site))
    return subprocess.run(
        [HAPROXY, "-c", "-f", str(config)],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", **(environment or {})},
    )


@pytest.mark.parametrize(
    "environment", [{}, {"SHOP_RATE_LIMITS": "off"}, {"SHOP_GATEWAY_RATE_LIMIT": "5", "SHOP_GATEWAY_RATE_PERIOD": "2"}]
)
def test_haproxy_accepts_the_container_and_local_configurations(tmp_path, environment):
    certificate = tls.ensure_certificates(tmp_path / "tls").server
    container = dataclasses.replace(
        CONTAINER_SITE, gateway=dataclasses.replace(CONTAINER_SITE.gateway, certificate=certificate)
    )
    local = Site(
        root=ROOT,
        bin_dir=None,
        host="127.0.0.1",
        ports={service.name: service.port for service in SERVICES},
        state_dir=tmp_path,
        gateway=dataclasses.replace(container.gateway, backend_dns=False),
        web_replicas={"orders-web": 3},
    )

    for site in (container, local):
        result = check(site, tmp_path, environment)
        assert result.returncode == 0, result.stdout + result.stderr


def test_local_backends_are_every_replica_on_its_port():
    site = dataclasses.replace(
        CONTAINER_SITE,
        host="127.0.0.1",
        gateway=dataclasses.replace(CONTAINER_SITE.gateway, backend_dns=False),
        web_replicas={"catalog-web": 2},
    )

    rendered = gateway.render(site)

    assert "server catalog-web-1 127.0.0.1:8002 " in rendered
    assert "server catalog-web-2 127.0.0.1:8102 " in rendered
    assert "server catalog-web-3" not in rendered
    assert "server orders-web-1 127.0.0.1:8003 " in rendered


def test_the_local_certificate_names_localhost_and_the_loopback_addresses(tmp_path):
    from cryptography import x509

    paths = tls.ensure_certificates(tmp_path)
    server, ca = x509.load_pem_x509_certificates(paths.server.read_bytes())[:2]
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value

    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert [str(address) for address in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1", "::1"]
    server.verify_directly_issued_by(ca)
    assert x509.load_pem_x509_certificate(paths.ca.read_bytes()) == ca
    before = paths.server.read_bytes()
    tls.ensure_certificates(tmp_path)
    assert paths.server.read_bytes() == before, "a current certificate is kept"

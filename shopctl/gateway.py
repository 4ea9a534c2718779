"""The gateway's HAProxy configuration, rendered from the description of the processes (ARCHITECTURE.md, Edge).

One renderer for every place the system runs: ``up`` writes ``.var/gateway/haproxy.cfg``, the tests and the
benchmark a file of their run, and ``deploy/k8s/base/haproxy.cfg`` (compose and Kubernetes) is the rendering for
``CONTAINER_SITE`` (tests/test_gateway_config.py holds it to this module). What an operator tunes at start, the
per-address rate limit and ``SHOP_RATE_LIMITS=off``, HAProxy reads from its environment.

What it does, in order, for a request on the https port:

- keeps a client's ``X-Request-ID`` if it is one (1 to 128 letters, digits, ``.``, ``_``, ``-``), else sets a
  UUID; the response carries it, and so does the log line;
- answers ``/metrics`` (anywhere in the path) with 404: the services' metrics are never routed from outside;
- refuses a declared body over 1 MiB (413) and more than ``SHOP_GATEWAY_RATE_LIMIT`` requests per
  ``SHOP_GATEWAY_RATE_PERIOD`` from one address (429 with ``Retry-After``), both before any backend is asked;
- routes by path prefix, without rewriting, to the service's backend: every replica of its web server,
  checked with ``GET /health/ready/``;
- retries a request that could not be delivered (connection refused: a replica went away) on another replica,
  and a GET, HEAD or OPTIONS also when the replica failed before answering; nothing else is ever sent twice;
- speaks HTTP/1.1 over TLS 1.2+ (no h2: an early 413 would reach an h2 client as a reset stream);
- adds HSTS and the usual security headers to every answer, its own errors included. Its errors are JSON in
  the services' common shape ``{type, errors: [{code, detail, attr}]}``.
"""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Iterable
from pathlib import Path

from shopctl.processes import CATALOG, CONTAINER_SITE, ORDERS, SERVICES, USERS, Service, Site, process

# What compose.yaml and the Kubernetes manifests give HAProxy: the rendering for CONTAINER_SITE (in the Kustomize
# base, which may only read files under it; compose mounts the same file).
DEPLOYED_CONFIG = Path(__file__).resolve().parents[1] / "deploy" / "k8s" / "base" / "haproxy.cfg"

# The largest request body (the services' DATA_UPLOAD_MAX_MEMORY_SIZE, common.settings.base).
BODY_LIMIT_BYTES = 1024 * 1024
# Per client address, unless the environment says otherwise: generous for people, tight for a script.
DEFAULT_RATE_LIMIT = 300
DEFAULT_RATE_PERIOD_SECONDS = 10
# The most replicas of one web process found through DNS (compose --scale, Kubernetes).
MAX_DNS_REPLICAS = 10
# HAProxy's master (-W) reads its configuration again on this signal: new workers take the listening sockets,
# the old ones finish the requests under way (no connection dropped).
RELOAD_SIGNAL = signal.SIGUSR2

# Path prefixes of the one API, and each service's own pages (admin, docs, schema, static files) under its name.
ROUTES: tuple[tuple[Service, tuple[str, ...]], ...] = (
    (USERS, ("/api/v1/auth/", "/api/v1/users/", "/.well-known/jwks.json", "/users/")),
    (CATALOG, ("/api/v1/categories/", "/api/v1/products/", "/catalog/")),
    (ORDERS, ("/api/v1/orders/", "/orders/")),
)

ERRORS = {
    400: ("client_error", "bad_request", "Bad request."),
    403: ("client_error", "permission_denied", "You do not have permission to perform this action."),
    404: ("client_error", "not_found", "Not found."),
    408: ("client_error", "request_timeout", "The request was not received in time."),
    413: ("client_error", "request_too_large", f"The request body is larger than {BODY_LIMIT_BYTES} bytes."),
    429: ("client_error", "throttled", "Request was throttled."),
    500: ("server_error", "error", "A server error occurred."),
    502: ("server_error", "bad_gateway", "The service answered with something that is not HTTP."),
    503: ("server_error", "service_unavailable", "No server of this service is available; try again shortly."),
    504: ("server_error", "gateway_timeout", "The service did not answer in time."),
}
RETRY_AFTER_SECONDS = {503: 5}

SECURITY_HEADERS = (
    ("Strict-Transport-Security", "max-age=31536000"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)


def error_body(status: int) -> str:
    kind, code, detail = ERRORS[status]
    return json.dumps({"type": kind, "errors": [{"code": code, "detail": detail, "attr": None}]})


def _quoted(text: str) -> str:
    """A string argument of HAProxy's configuration language, in single quotes (no variable expansion)."""
    if "'" in text:
        raise ValueError(f"no single quotes in a configuration string: {text!r}")
    return f"'{text}'"


def _backend_name(service: Service) -> str:
    return service.short


def _servers(service: Service, site: Site) -> list[str]:
    kind = process(service, "web")
    check = "check inter 2s fall 2 rise 2"
    if site.gateway.backend_dns:
        # Every address the service's name resolves to (compose --scale, a Kubernetes Service), kept up to date.
        port = site.port(service)
        return [
            f"server-template {kind.name}- 1-{MAX_DNS_REPLICAS} {kind.name}:{port} {check} resolvers dns init-addr none"
        ]
    replicas = site.web_replicas.get(kind.name, 1)
    return [
        f"server {server_name(service, replica)} {site.host}:{site.port(service, replica)} {check}"
        for replica in range(1, replicas + 1)
    ]


def server_name(service: Service, replica: int) -> str:
    """A local web replica's name in the gateway's backend (its log lines and metrics): ``orders-web-2``."""
    return f"{process(service, 'web').name}-{replica}"


def _lines(*groups: Iterable[str]) -> list[str]:
    return [line for group in groups for line in group]


def render(site: Site) -> str:
    """haproxy.cfg for ``site``: its ports, certificate and web replicas."""
    gateway = site.gateway
    errors = [
        f"    http-error status {status} content-type application/json string {_quoted(error_body(status))}"
        + (f" hdr Retry-After {RETRY_AFTER_SECONDS[status]}" if status in RETRY_AFTER_SECONDS else "")
        for status in ERRORS
    ]
    security_headers = [f'    http-after-response set-header {name} "{value}"' for name, value in SECURITY_HEADERS]
    routes = [
        f"    use_backend {_backend_name(service)} if {{ path_beg {' '.join(prefixes)} }}"
        for service, prefixes in ROUTES
    ]
    backends = _lines(
        *(
            [
                "",
                f"backend {_backend_name(service)}",
                "    option httpchk",
                "    http-check send meth GET uri /health/ready/ ver HTTP/1.1 hdr Host localhost",
                "    http-check expect status 200",
                *(f"    {line}" for line in _servers(service, site)),
            ]
            for service in SERVICES
        )
    )
    resolvers = ["", "resolvers dns", "    parse-resolv-conf", "    hold valid 5s"] if gateway.backend_dns else []
    too_many = error_body(429)
    lines = [
        "# The gateway (HAProxy 2.6): written by shopctl/gateway.py from shopctl/processes.py; do not edit.",
        "global",
        "    log stdout format raw local0",
        "    ssl-default-bind-options ssl-min-ver TLSv1.2 no-tls-tickets",
        "    ssl-default-bind-ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256",
        "    ssl-default-bind-ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
        "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:"
        "ECDHE-RSA-CHACHA20-POLY1305",
        "    tune.ssl.default-dh-param 2048",
        "",
        "defaults",
        "    mode http",
        "    log global",
        '    log-format "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq'
        ' id=%ID %{+Q}r"',
        "    option http-keep-alive",
        "    option forwardfor",
        "    option redispatch 1",
        "    retries 2",
        # Connection failures are retried for every request (nothing was sent); the rest only for safe methods.
        "    retry-on conn-failure empty-response response-timeout",
        "    timeout connect 3s",
        "    timeout client 30s",
        "    timeout server 30s",
        "    timeout http-request 10s",  # a slow client's headers (and the body HAProxy waits for)
        "    timeout http-keep-alive 15s",
        "    timeout queue 10s",
        "    timeout check 3s",
        *errors,
        "",
        "frontend http",
        f"    bind {site.host}:{gateway.http_port}",
        *security_headers,
        f"    http-request redirect location https://%[req.hdr(host),field(1,:)]:{gateway.https_port}%[capture.req.uri]"
        " code 308",
        "",
        "frontend https",
        f"    bind {site.host}:{gateway.https_port} ssl crt {gateway.certificate} alpn http/1.1",
        # A client's request id is kept when it is one; otherwise the gateway's own (a UUID).
        "    acl one_request_id req.hdr_cnt(X-Request-ID) eq 1",
        "    acl valid_request_id req.hdr(X-Request-ID) -m reg ^[A-Za-z0-9._-]{1,128}$",
        "    http-request set-var(txn.request_id) req.hdr(X-Request-ID) if one_request_id valid_request_id",
        "    http-request set-var(txn.request_id) uuid() unless { var(txn.request_id) -m found }",
        "    http-request set-header X-Request-ID %[var(txn.request_id)]",
        "    unique-id-format %[var(txn.request_id)]",
        "    http-after-response set-header X-Request-ID %[var(txn.request_id)] if { var(txn.request_id) -m found }",
        *security_headers,
        "    http-response del-header Server",
        # Only the gateway says who the client is and how it came.
        "    http-request del-header X-Forwarded-For",
        "    http-request set-header X-Forwarded-Proto https",
        "    http-request deny deny_status 404 if { path_end /metrics /metrics/ } || { path_sub /metrics/ }",
        f"    http-request deny deny_status 413 if {{ req.hdr_val(content-length) gt {BODY_LIMIT_BYTES} }}",
        # Requests per address: a stick table of the last period's rate; over the limit is a 429 with Retry-After.
        '.if !streq("${SHOP_RATE_LIMITS-on}",off)',
        f"    stick-table type ipv6 size 200k expire {DEFAULT_RATE_PERIOD_SECONDS * 3}s"
        f' store http_req_rate("${{SHOP_GATEWAY_RATE_PERIOD-{DEFAULT_RATE_PERIOD_SECONDS}}}s")',
        "    http-request track-sc0 src",
        f"    http-request return status 429 content-type application/json string {_quoted(too_many)}"
        f' hdr Retry-After "${{SHOP_GATEWAY_RATE_PERIOD-{DEFAULT_RATE_PERIOD_SECONDS}}}"'
        f' if {{ sc_http_req_rate(0) gt "${{SHOP_GATEWAY_RATE_LIMIT-{DEFAULT_RATE_LIMIT}}}" }}',
        ".endif",
        # Only safe requests are retried after they were sent (a conn-failure retry sends nothing twice).
        "    http-request disable-l7-retry unless METH_GET || METH_OPTIONS",
        *routes,
        "    default_backend not_found",
        "",
        "backend not_found",
        "    http-request deny deny_status 404",
        *backends,
        "",
        "frontend prometheus",
        f"    bind {gateway.metrics_host}:{gateway.metrics_port}",
        "    http-request use-service prometheus-exporter if { path /metrics }",
        "    http-request deny deny_status 404",
        *resolvers,
    ]
    return "\n".join(lines) + "\n"


class InvalidConfig(RuntimeError):
    """HAProxy refuses the rendered configuration (``haproxy -c``)."""


def write(site: Site) -> bool:
    """``render(site)`` written to the site's configuration file and checked by HAProxy (``InvalidConfig`` if it
    refuses it); True if the file changed, so a running gateway needs a reload (``RELOAD_SIGNAL``)."""
    path = Path(site.gateway.config)
    path.parent.mkdir(parents=True, exist_ok=True)
    rendered = render(site)
    changed = not path.exists() or path.read_text() != rendered
    path.write_text(rendered)
    check = subprocess.run(
        [site.gateway.program, "-c", "-q", "-f", str(path)], capture_output=True, text=True, check=False
    )
    if check.returncode:
        raise InvalidConfig(f"HAProxy refuses {path}:\n{check.stdout}{check.stderr}")
    return changed


if __name__ == "__main__":
    # python -m shopctl.gateway: write deploy/k8s/base/haproxy.cfg again after changing this module or the description.
    DEPLOYED_CONFIG.parent.mkdir(parents=True, exist_ok=True)
    DEPLOYED_CONFIG.write_text(render(CONTAINER_SITE))
    print(f"wrote {DEPLOYED_CONFIG}")

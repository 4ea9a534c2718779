"""Static checks of the Kubernetes manifests: deploy/k8s/ (a Kustomize base and its overlays).

No cluster is needed. Every overlay is rendered with ``kubectl kustomize``; the output is validated
offline against a pinned Kubernetes version's schemas (kubernetes-validate, strict, a missing schema
being a failure rather than its warning) and KEDA's ScaledObjects against deploy/k8s/schemas/; then
the manifests are held to the one description of the processes (shopctl.processes: the same
commands, working directories, ports and environment names as compose.yaml) and to the security
and availability properties deploy/k8s/README.md promises.
"""

import functools
import json
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import kubernetes_validate
import pytest
import yaml

from shopctl import processes as described
from shopctl.processes import CONTAINER_SITE, SERVICES, USERS, ProcessKind, Service, migrate_command, process

ROOT = Path(__file__).resolve().parents[1]
K8S = ROOT / "deploy/k8s"
KEDA_SCHEMA = K8S / "schemas/keda-scaledobject-v1alpha1.json"
README = K8S / "README.md"
DOCKERFILE = ROOT / "Dockerfile"

# The Kubernetes version the manifests are validated against: the oldest one they must run on.
KUBERNETES_VERSION = "1.32"
OVERLAYS = ("local", "production")
KINDS = {kind.name: kind for kind in described.DEPLOYED}
WEB = [kind for kind in described.DEPLOYED if kind.role == "web"]
WORKERS = [kind for kind in described.DEPLOYED if kind.role == "worker"]
KIND_IDS = {"ids": lambda kind: kind.name}
SCRATCH = "/tmp"  # noqa: S108 - the one writable folder of a container: an emptyDir of its own


# ---------------------------------------------------------------- rendering


def kubectl() -> str:
    found = shutil.which("kubectl")
    if not found:
        pytest.fail(
            "kubectl is not installed: tests/test_kubernetes.py renders deploy/k8s/ with `kubectl kustomize` "
            "(kubectl 1.27 or newer, which bundles Kustomize v5). Install kubectl and run the tests again."
        )
    return found


@functools.cache
def rendered(overlay: str) -> tuple[dict, ...]:
    """The documents ``kubectl kustomize deploy/k8s/overlays/<overlay>`` prints."""
    result = subprocess.run(
        [kubectl(), "kustomize", str(K8S / "overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"kubectl kustomize {overlay} failed:\n{result.stderr}"
    return tuple(document for document in yaml.safe_load_all(result.stdout) if document)


@pytest.fixture(params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def documents(overlay: str) -> tuple[dict, ...]:
    return rendered(overlay)


def of_kind(documents: tuple[dict, ...], kind: str) -> list[dict]:
    return [document for document in documents if document["kind"] == kind]


def named(documents: tuple[dict, ...], kind: str, name: str) -> dict:
    found = [document for document in of_kind(documents, kind) if document["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


def pod_spec(workload: dict) -> dict:
    return workload["spec"]["template"]["spec"]


def pod_labels(workload: dict) -> dict[str, str]:
    return workload["spec"]["template"]["metadata"].get("labels", {})


def main_container(workload: dict) -> dict:
    containers = pod_spec(workload)["containers"]
    assert len(containers) == 1, f"{workload['metadata']['name']}: one container per pod, found {len(containers)}"
    return containers[0]


def all_containers(workload: dict) -> list[dict]:
    spec = pod_spec(workload)
    return [*spec.get("initContainers", []), *spec["containers"]]


def workloads(documents: tuple[dict, ...]) -> list[dict]:
    return [document for document in documents if document["kind"] in ("Deployment", "Job")]


def selects(selector: dict, labels: dict[str, str]) -> bool:
    """Whether a Kubernetes label selector (matchLabels and matchExpressions) selects ``labels``."""
    if not all(labels.get(key) == value for key, value in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        matched = {
            "In": key in labels and labels[key] in values,
            "NotIn": labels.get(key) not in values,
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
        }[operator]
        if not matched:
            return False
    return True


SECRET = object()  # an environment value the operator's Secret holds


def environment(documents: tuple[dict, ...], container: dict) -> dict[str, object]:
    """A container's variables: the value, or SECRET; a reference to a missing ConfigMap key fails."""
    maps = {document["metadata"]["name"]: document.get("data", {}) for document in of_kind(documents, "ConfigMap")}
    found: dict[str, object] = {}
    for source in container.get("envFrom", []):
        assert "configMapRef" in source, f"{container['name']}: envFrom other than a ConfigMap hides names: {source}"
        name = source["configMapRef"]["name"]
        assert name in maps, f"{container['name']}: envFrom names no ConfigMap of the overlay: {name}"
        found.update(maps[name])
    for variable in container.get("env", []):
        reference = variable.get("valueFrom")
        if reference is None:
            found[variable["name"]] = variable.get("value", "")
        elif "configMapKeyRef" in reference:
            name, key = reference["configMapKeyRef"]["name"], reference["configMapKeyRef"]["key"]
            assert key in maps.get(name, {}), f"{container['name']}: {variable['name']} reads {name}/{key}: missing"
            found[variable["name"]] = maps[name][key]
        elif "secretKeyRef" in reference:
            found[variable["name"]] = SECRET
        else:
            pytest.fail(f"{container['name']}: {variable['name']} comes from neither a ConfigMap nor a Secret")
    return found


def port_number(container: dict, port: int | str) -> int | None:
    """A port given by number or by the name of one of the container's ports."""
    if isinstance(port, int):
        return port
    return next((entry["containerPort"] for entry in container.get("ports", []) if entry.get("name") == port), None)


QUANTITY = re.compile(r"^(?P<number>[0-9.]+)(?P<suffix>m|k|M|G|Ki|Mi|Gi)?$")
SUFFIXES = {None: 1, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}


def quantity(value: str | int) -> float:
    match = QUANTITY.match(str(value))
    assert match, f"a quantity this test does not read: {value!r}"
    return float(match["number"]) * SUFFIXES[match["suffix"]]


def service_of(kind: ProcessKind) -> Service:
    assert kind.service is not None
    return kind.service


def dockerfile_uid() -> int:
    match = re.search(r"useradd\b[^\n]*--uid\s+(\d+)", DOCKERFILE.read_text(encoding="utf-8"))
    assert match, "the Dockerfile creates no user with a fixed uid"
    return int(match[1])


# ---------------------------------------------------------------- 1. offline validation


def test_the_overlays_are_local_and_production():
    found = {path.parent.name for path in (K8S / "overlays").glob("*/kustomization.yaml")}
    assert found == set(OVERLAYS), f"overlays in deploy/k8s/overlays: {sorted(found)}; this test renders {OVERLAYS}"


def test_every_overlay_validates_against_the_pinned_kubernetes_schemas(documents: tuple[dict, ...]):
    """Strict (no unknown field); a resource without a schema (kubernetes-validate's warning) fails here."""
    assert documents, "the overlay renders nothing"
    problems = []
    for document in documents:
        name = f"{document['kind']}/{document['metadata']['name']}"
        if document["apiVersion"].startswith("keda.sh/"):
            continue  # KEDA's resources: against its CRD's schema, below
        try:
            kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.SchemaNotFoundError as error:
            problems.append(f"{name}: {error.message}")
        except kubernetes_validate.ValidationError as error:
            path = ".".join(str(part) for part in error.path)
            problems.append(f"{name}: {path}: {error.message}")
    assert not problems, f"invalid for Kubernetes {KUBERNETES_VERSION}:\n" + "\n".join(problems)


@functools.cache
def keda_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(KEDA_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_keda_resources_validate_against_the_scaled_object_schema(documents: tuple[dict, ...]):
    keda = [document for document in documents if document["apiVersion"].startswith("keda.sh/")]
    assert {document["kind"] for document in keda} == {"ScaledObject"}, "a KEDA resource this test has no schema for"
    problems = []
    for document in keda:
        name = document["metadata"]["name"]
        for error in keda_validator().iter_errors(document):
            problems.append(f"ScaledObject/{name}: {'.'.join(str(part) for part in error.path)}: {error.message}")
        spec = document["spec"]
        # The CRD's own rule (x-kubernetes-validations), which a JSON schema cannot say.
        if spec.get("minReplicaCount", 0) > spec.get("maxReplicaCount", 100):
            problems.append(f"ScaledObject/{name}: minReplicaCount > maxReplicaCount")
    assert not problems, "\n".join(problems)


def test_the_keda_version_is_pinned_once():
    """The schema and every manifest with a ScaledObject name the same KEDA release."""
    version = re.compile(r"KEDA v(\d+\.\d+\.\d+)")
    pinned = set(version.findall(json.loads(KEDA_SCHEMA.read_text(encoding="utf-8"))["title"]))
    assert len(pinned) == 1, "the KEDA schema's title names no single KEDA version"
    for path in (K8S / "base").glob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        if "kind: ScaledObject" in text:
            assert set(version.findall(text)) == pinned, f"{path.name} names another KEDA version than {pinned}"


# ---------------------------------------------------------------- 2. the one description of the processes


def test_every_process_kind_runs_and_nothing_else(documents: tuple[dict, ...]):
    deployments = {document["metadata"]["name"] for document in of_kind(documents, "Deployment")}
    assert deployments == set(KINDS), (
        f"missing: {sorted(set(KINDS) - deployments)}; not in shopctl/processes.py: {sorted(deployments - set(KINDS))}"
    )
    jobs = {document["metadata"]["name"] for document in of_kind(documents, "Job")}
    assert jobs == {f"{service.short}-migrate" for service in SERVICES}


@pytest.mark.parametrize("kind", described.DEPLOYED, **KIND_IDS)
def test_each_process_runs_the_described_command_in_its_folder(documents: tuple[dict, ...], kind: ProcessKind):
    deployment = named(documents, "Deployment", kind.name)
    container = main_container(deployment)
    assert container["command"] == kind.command(CONTAINER_SITE)
    assert "args" not in container
    assert container["workingDir"] == str(kind.cwd(CONTAINER_SITE))
    # How long a stop may take: a worker finishes its task.
    assert pod_spec(deployment)["terminationGracePeriodSeconds"] == kind.stop_wait_seconds


@pytest.mark.parametrize("kind", described.DEPLOYED, **KIND_IDS)
def test_each_process_gets_the_described_environment(documents: tuple[dict, ...], kind: ProcessKind):
    for container in all_containers(named(documents, "Deployment", kind.name)):
        names = set(environment(documents, container))
        assert set(kind.environment_names) <= names, f"{container['name']} lacks variables the process needs"
        unknown = names - set(kind.environment_names) - set(kind.optional_environment_names)
        assert not unknown, f"{container['name']}: variables shopctl/processes.py does not describe: {sorted(unknown)}"


@pytest.mark.parametrize("kind", [kind for kind in described.DEPLOYED if kind.service], **KIND_IDS)
def test_each_service_process_runs_its_production_settings(documents: tuple[dict, ...], kind: ProcessKind):
    service = service_of(kind)
    values = environment(documents, main_container(named(documents, "Deployment", kind.name)))
    assert values["DJANGO_SETTINGS_MODULE"] == service.settings_module("production")
    # Where the Dockerfile's collectstatic wrote the service's files.
    assert values["DJANGO_STATIC_ROOT"] == str(CONTAINER_SITE.root / "static" / service.name)
    for variable in ("DJANGO_SECRET_KEY", "DATABASE_URL", "REDIS_URL"):
        assert values[variable] is SECRET, f"{variable} must come from a Secret"


VERIFIERS = [kind for kind in described.DEPLOYED if "JWT_JWKS_URL" in kind.environment_names]


@pytest.mark.parametrize("kind", VERIFIERS, **KIND_IDS)
def test_token_verifiers_reach_users_service_through_its_service(documents: tuple[dict, ...], kind: ProcessKind):
    users_web = process(USERS, "web")
    service = named(documents, "Service", users_web.name)
    (port,) = [entry["port"] for entry in service["spec"]["ports"]]
    values = environment(documents, main_container(named(documents, "Deployment", kind.name)))
    jwks, sso = urlsplit(str(values["JWT_JWKS_URL"])), urlsplit(str(values["USERS_SERVICE_URL"]))
    assert (jwks.scheme, jwks.hostname, jwks.port) == ("http", users_web.name, port)
    assert jwks.path == "/.well-known/jwks.json"
    assert (sso.scheme, sso.hostname, sso.port) == ("http", users_web.name, port)


# ---------------------------------------------------------------- 3. web servers, workers, scheduler, migrations


@pytest.mark.parametrize("kind", WEB, **KIND_IDS)
def test_web_server_listens_on_the_described_port_behind_its_service(documents: tuple[dict, ...], kind: ProcessKind):
    deployment = named(documents, "Deployment", kind.name)
    container = main_container(deployment)
    assert [entry["containerPort"] for entry in container["ports"]] == [kind.port(CONTAINER_SITE)]
    service = named(documents, "Service", kind.name)
    assert selects({"matchLabels": service["spec"]["selector"]}, pod_labels(deployment))
    for entry in service["spec"]["ports"]:
        assert entry["port"] == kind.port(CONTAINER_SITE)
        assert port_number(container, entry.get("targetPort", entry["port"])) == kind.port(CONTAINER_SITE)


@pytest.mark.parametrize("kind", WEB, **KIND_IDS)
def test_web_server_is_probed_on_its_health_endpoints(documents: tuple[dict, ...], kind: ProcessKind):
    container = main_container(named(documents, "Deployment", kind.name))
    allowed_hosts = str(environment(documents, container).get("DJANGO_ALLOWED_HOSTS", "")).split(",")
    expected = {"livenessProbe": "/health/live/", "readinessProbe": "/health/ready/"}
    for probe_name, path in expected.items():
        probe = container.get(probe_name, {}).get("httpGet")
        assert probe, f"no HTTP {probe_name}"
        assert probe["path"] == path
        assert port_number(container, probe["port"]) == kind.port(CONTAINER_SITE)
        # Django answers 400 to a Host it does not know; the kubelet would send the pod's address.
        host = next((header["value"] for header in probe.get("httpHeaders", []) if header["name"] == "Host"), None)
        assert host in allowed_hosts, f"{probe_name} sends Host {host!r}, not in DJANGO_ALLOWED_HOSTS"


def autoscalers_of(documents: tuple[dict, ...], deployment: str) -> list[dict]:
    """HorizontalPodAutoscalers and ScaledObjects scaling ``deployment``."""
    return [
        document
        for document in documents
        if document["kind"] in ("HorizontalPodAutoscaler", "ScaledObject")
        and document["spec"]["scaleTargetRef"]["name"] == deployment
        and document["spec"]["scaleTargetRef"].get("kind", "Deployment") == "Deployment"
    ]


@pytest.mark.parametrize("kind", WEB, **KIND_IDS)
def test_web_server_is_scaled_by_a_horizontal_pod_autoscaler(documents: tuple[dict, ...], kind: ProcessKind):
    deployment = named(documents, "Deployment", kind.name)
    assert "replicas" not in deployment["spec"], "the autoscaler owns the replica count"
    (autoscaler,) = autoscalers_of(documents, kind.name)
    assert (autoscaler["kind"], autoscaler["apiVersion"]) == ("HorizontalPodAutoscaler", "autoscaling/v2")
    assert 1 <= autoscaler["spec"]["minReplicas"] <= autoscaler["spec"]["maxReplicas"]
    metrics = {(metric["type"], metric.get("resource", {}).get("name")) for metric in autoscaler["spec"]["metrics"]}
    assert ("Resource", "cpu") in metrics


@pytest.mark.parametrize("kind", WORKERS, **KIND_IDS)
def test_worker_is_scaled_on_the_depth_of_the_queue_it_consumes(documents: tuple[dict, ...], kind: ProcessKind):
    deployment = named(documents, "Deployment", kind.name)
    assert "replicas" not in deployment["spec"], "KEDA owns the replica count"
    (scaler,) = autoscalers_of(documents, kind.name)
    assert scaler["kind"] == "ScaledObject", "a worker is scaled on its queue, by KEDA alone"
    command = kind.command(CONTAINER_SITE)
    consumed = command[command.index("--queues") + 1]
    assert consumed == service_of(kind).queue
    (trigger,) = scaler["spec"]["triggers"]
    assert trigger["type"] == "redis"
    assert trigger["metadata"]["listName"] == consumed, "KEDA watches another list than the worker consumes"
    # Never zero: the relay of the service's outbox runs on its worker.
    assert scaler["spec"]["minReplicaCount"] >= 1


def test_the_singleton_processes_run_once_and_are_replaced_not_overlapped(documents: tuple[dict, ...]):
    singletons = [kind for kind in described.DEPLOYED if not kind.scalable]
    assert [kind.name for kind in singletons] == ["scheduler"]
    for kind in singletons:
        deployment = named(documents, "Deployment", kind.name)
        assert deployment["spec"]["replicas"] == 1
        assert deployment["spec"]["strategy"] == {"type": "Recreate"}, "a rolling update would run two at once"
        assert not autoscalers_of(documents, kind.name)


@pytest.mark.parametrize("service", SERVICES, ids=lambda service: service.short)
def test_each_service_migrates_in_a_job_its_processes_wait_for(documents: tuple[dict, ...], service: Service):
    web = process(service, "web")
    job = named(documents, "Job", f"{service.short}-migrate")
    container = main_container(job)
    assert container["command"] == migrate_command(CONTAINER_SITE)
    assert container["workingDir"] == str(web.cwd(CONTAINER_SITE))
    assert pod_spec(job)["restartPolicy"] == "Never"
    job_environment = environment(documents, container)
    assert set(web.environment_names) <= set(job_environment)
    for role in ("web", "worker"):
        deployment = named(documents, "Deployment", process(service, role).name)
        waits = [
            init
            for init in pod_spec(deployment).get("initContainers", [])
            if "manage.py migrate --check" in " ".join(init.get("command", []))
        ]
        assert len(waits) == 1, f"{service.short}-{role} does not wait for the migrations"
        assert waits[0]["workingDir"] == container["workingDir"]
        # The same database (and settings) as the Job migrates.
        assert environment(documents, waits[0]) == job_environment


# ---------------------------------------------------------------- 4. security, resources, availability


def test_every_pod_runs_unprivileged_on_a_read_only_root_file_system(documents: tuple[dict, ...]):
    uid, problems = dockerfile_uid(), []
    for workload in workloads(documents):
        name, spec = workload["metadata"]["name"], pod_spec(workload)
        context = spec.get("securityContext", {})
        if context.get("runAsNonRoot") is not True or context.get("runAsUser") != uid:
            problems.append(f"{name}: not runAsNonRoot as the image's user {uid}")
        if spec.get("automountServiceAccountToken") is not False:
            problems.append(f"{name}: mounts a service account token it never uses")
        empty_dirs = {volume["name"] for volume in spec.get("volumes", []) if "emptyDir" in volume}
        for volume in spec.get("volumes", []):
            # Kubernetes' default 0644 would let any user of the pod read a key.
            if "secret" in volume and volume["secret"].get("defaultMode", 0o644) & 0o007:
                problems.append(f"{name}: the Secret volume {volume['name']} is readable by others")
        for container in all_containers(workload):
            where = f"{name}/{container['name']}"
            security = container.get("securityContext", {})
            if security.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{where}: writable root file system")
            if security.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{where}: may escalate privileges")
            if "ALL" not in security.get("capabilities", {}).get("drop", []):
                problems.append(f"{where}: keeps Linux capabilities")
            tmp = [mount for mount in container.get("volumeMounts", []) if mount["mountPath"] == SCRATCH]
            if len(tmp) != 1 or tmp[0]["name"] not in empty_dirs:
                problems.append(f"{where}: /tmp is not an emptyDir")
    assert not problems, "\n".join(problems)


def test_every_container_has_resource_requests_within_limits(documents: tuple[dict, ...]):
    problems = []
    for workload in workloads(documents):
        for container in all_containers(workload):
            where = f"{workload['metadata']['name']}/{container['name']}"
            resources = container.get("resources", {})
            for resource in ("cpu", "memory"):
                request = resources.get("requests", {}).get(resource)
                limit = resources.get("limits", {}).get(resource)
                if request is None or limit is None:
                    problems.append(f"{where}: no {resource} request or limit")
                elif quantity(request) > quantity(limit):
                    problems.append(f"{where}: {resource} request {request} above its limit {limit}")
    assert not problems, "\n".join(problems)


def test_every_container_runs_the_one_image(documents: tuple[dict, ...]):
    """The application's image everywhere; the gateway runs HAProxy's (the version it is tested with, 2.6)."""
    images = {
        container["image"]
        for workload in workloads(documents)
        if workload["metadata"]["name"] != "gateway"
        for container in all_containers(workload)
    }
    assert len(images) == 1, f"more than one image: {sorted(images)}"
    assert [container["image"] for container in all_containers(named(documents, "Deployment", "gateway"))] == [
        "haproxy:2.6"
    ]


def test_every_deployment_has_a_disruption_budget(documents: tuple[dict, ...]):
    budgets = of_kind(documents, "PodDisruptionBudget")
    for deployment in of_kind(documents, "Deployment"):
        name = deployment["metadata"]["name"]
        covering = [budget for budget in budgets if selects(budget["spec"]["selector"], pod_labels(deployment))]
        assert len(covering) == 1, f"{name}: {len(covering)} disruption budgets"
        spec = covering[0]["spec"]
        # A budget that allows no eviction at all blocks every node drain.
        assert spec.get("maxUnavailable", 1) >= 1, f"{name}: maxUnavailable 0"


# Where a service's pods may connect: (peer, port). Anything else a policy allows fails the test below.
DNS_PEER = (("namespace", "kube-system"), ("k8s-app", "kube-dns"))
POSTGRES_PEER = (("app.kubernetes.io/name", "postgresql"),)
REDIS_PEER = (("app.kubernetes.io/name", "redis"),)
USERS_WEB_PEER = (("app.kubernetes.io/name", process(USERS, "web").name),)
USERS_PORT = process(USERS, "web").port(CONTAINER_SITE)


def peer_key(peer: dict) -> tuple:
    """A policy peer as comparable labels; anything but label selectors (ipBlock, matchExpressions) as itself."""
    if set(peer) - {"namespaceSelector", "podSelector"} or any(
        selector.get("matchExpressions") for selector in peer.values()
    ):
        return ("unrecognised", json.dumps(peer, sort_keys=True))
    key = []
    if "namespaceSelector" in peer:
        labels = peer["namespaceSelector"].get("matchLabels", {})
        key.append(("namespace", labels.get("kubernetes.io/metadata.name", json.dumps(labels, sort_keys=True))))
    key += sorted(peer.get("podSelector", {}).get("matchLabels", {}).items())
    return tuple(key)


def policies_selecting(documents: tuple[dict, ...], labels: dict[str, str]) -> list[dict]:
    return [policy for policy in of_kind(documents, "NetworkPolicy") if selects(policy["spec"]["podSelector"], labels)]


def egress(policy: dict) -> set[tuple]:
    """(peer, port) for every destination the policy allows; an open rule as ("anywhere", port)."""
    allowed = set()
    for rule in policy["spec"].get("egress", []):
        peers = [peer_key(peer) for peer in rule.get("to", [])] or ["anywhere"]
        ports = [entry.get("port", "any") for entry in rule.get("ports", [])] or ["any"]
        allowed |= {(peer, port) for peer in peers for port in ports}
    return allowed


@pytest.mark.parametrize("kind", described.DEPLOYED, **KIND_IDS)
def test_each_process_may_reach_only_dns_postgres_redis_and_users_service(
    documents: tuple[dict, ...], kind: ProcessKind
):
    pods = [named(documents, "Deployment", kind.name)]
    if kind.service:
        pods.append(named(documents, "Job", f"{kind.service.short}-migrate"))
    for workload in pods:
        labels = pod_labels(workload)
        policies = policies_selecting(documents, labels)
        assert policies, f"{workload['metadata']['name']}: no NetworkPolicy selects its pods"
        types = {policy_type for policy in policies for policy_type in policy["spec"].get("policyTypes", [])}
        unrestricted = {"Ingress", "Egress"} - types
        assert not unrestricted, f"{workload['metadata']['name']}: no policy restricts its {unrestricted}"
        allowed = set().union(*(egress(policy) for policy in policies if "Egress" in policy["spec"]["policyTypes"]))
        if kind.role == "gateway":  # DNS and every web server, nothing else
            needed = {(DNS_PEER, 53)} | {
                ((("app.kubernetes.io/name", web.name),), web.port(CONTAINER_SITE)) for web in WEB
            }
            assert allowed == needed, f"the gateway may reach {allowed}, not {needed}"
            continue
        needed = {(DNS_PEER, 53), (REDIS_PEER, 6379)}
        if kind.service:
            needed.add((POSTGRES_PEER, 5432))
        if "JWT_JWKS_URL" in kind.environment_names:
            needed.add((USERS_WEB_PEER, USERS_PORT))
        assert needed <= allowed, f"{workload['metadata']['name']}: cannot reach {needed - allowed}"
        assert allowed <= needed, f"{workload['metadata']['name']}: may also reach {allowed - needed}"


@pytest.mark.parametrize("kind", described.DEPLOYED, **KIND_IDS)
def test_only_web_ports_accept_connections(documents: tuple[dict, ...], kind: ProcessKind):
    labels = pod_labels(named(documents, "Deployment", kind.name))
    policies = policies_selecting(documents, labels)
    ports = {
        entry.get("port", "any")
        for policy in policies
        for rule in policy["spec"].get("ingress", [])
        for entry in (rule.get("ports") or [{}])
    }
    expected = {kind.port(CONTAINER_SITE)} if kind.role == "web" else set()
    if kind.role == "gateway":
        gateway = CONTAINER_SITE.gateway
        expected = {gateway.https_port, gateway.http_port, gateway.metrics_port}
    assert ports == expected, f"{kind.name} accepts connections on {ports or 'no port'}, not {expected or 'none'}"


# ---------------------------------------------------------------- 5. secrets and overlays


def test_no_secret_value_is_committed(documents: tuple[dict, ...]):
    assert not of_kind(documents, "Secret"), "the overlay renders a Secret: its values would be in the repository"
    for path in K8S.rglob("kustomization.yaml"):
        assert "secretGenerator" not in path.read_text(encoding="utf-8"), f"{path}: a secretGenerator"


def test_every_secret_the_pods_read_is_documented(documents: tuple[dict, ...]):
    """The operator creates the Secrets (deploy/k8s/README.md): each one a pod reads is named there."""
    readme = README.read_text(encoding="utf-8")
    used = set()
    for workload in workloads(documents):
        spec = pod_spec(workload)
        used |= {volume["secret"]["secretName"] for volume in spec.get("volumes", []) if "secret" in volume}
        for container in all_containers(workload):
            for variable in container.get("env", []):
                reference = variable.get("valueFrom", {}).get("secretKeyRef")
                if reference:
                    used.add(reference["name"])
                    assert f"{reference['key']}" in readme, f"{reference['key']} of {reference['name']} undocumented"
    undocumented = sorted(name for name in used if f"`{name}`" not in readme)
    assert not undocumented, f"Secrets deploy/k8s/README.md does not tell the operator to create: {undocumented}"


def minimum_replicas(documents: tuple[dict, ...]) -> dict[str, int]:
    found = {}
    for document in documents:
        if document["kind"] == "HorizontalPodAutoscaler":
            found[document["spec"]["scaleTargetRef"]["name"]] = document["spec"]["minReplicas"]
        elif document["kind"] == "ScaledObject":
            found[document["spec"]["scaleTargetRef"]["name"]] = document["spec"].get("minReplicaCount", 0)
    return found


def test_local_runs_one_replica_of_each_process():
    documents = rendered("local")
    scaled = minimum_replicas(documents)
    for deployment in of_kind(documents, "Deployment"):
        name = deployment["metadata"]["name"]
        assert deployment["spec"].get("replicas", scaled.get(name)) == 1, name


def test_production_runs_more_replicas_with_stricter_resources():
    local, production = minimum_replicas(rendered("local")), minimum_replicas(rendered("production"))
    assert set(local) == set(production)
    for name, replicas in production.items():
        assert replicas >= 2, f"{name}: {replicas} replica(s) at least in production"
        assert replicas > local[name], name
    for workload in workloads(rendered("production")):
        for container in all_containers(workload):
            resources = container["resources"]
            # Memory requested is memory held: nothing overcommitted, nothing evicted first under pressure.
            assert quantity(resources["requests"]["memory"]) == quantity(resources["limits"]["memory"]), (
                f"{workload['metadata']['name']}/{container['name']}"
            )

"""A keep-alive connection to each web worker process of a service, so that a test can ask every one of them.

A web server (granian) runs several worker processes; which one answers a new connection is the kernel's
choice. A claim about "every web process" (a deactivation, the cached signing keys) is only tested once
each worker has answered, so this opens connections until every worker process holds one of them, and
says which worker holds which: the worker is the process that owns the server side of the connection
(psutil, from /proc). The connections stay open (HTTP/1.1 keep-alive), so each later request on one of
them reaches the same worker.
"""

import http.client
import json
import time
from dataclasses import dataclass

import psutil
import pytest

from shopctl.processes import SERVICES_BY_NAME, process

CONNECTIONS_TRIED = 300


@dataclass
class WorkerConnection:
    pid: int
    connection: http.client.HTTPConnection

    def get(self, path: str, *, headers: dict | None = None) -> tuple[int, dict]:
        """GET ``path`` on this worker: (status, JSON body or {})."""
        self.connection.request("GET", path, headers=headers or {})
        response = self.connection.getresponse()
        body = response.read()
        try:
            return response.status, json.loads(body) if body else {}
        except ValueError:
            return response.status, {}


def worker_pids(system, service: str) -> set[int]:
    """The pids of the processes of the service's web server that serve requests (granian's workers)."""
    web = system.processes[process(SERVICES_BY_NAME[service], "web").name]
    return {child.pid for child in psutil.Process(web.popen.pid).children(recursive=True)}


def _owner(pids: set[int], *, server_port: int, client_port: int) -> int | None:
    for pid in pids:
        for connection in psutil.Process(pid).net_connections(kind="tcp"):
            ours = connection.laddr and connection.laddr.port == server_port
            if ours and connection.raddr and connection.raddr.port == client_port:
                return pid
    return None


def connection_to_every_worker(system, service: str) -> list[WorkerConnection]:
    """One open connection per web worker process of ``service`` (bounded: fails after 300 connections)."""
    pids = worker_pids(system, service)
    assert len(pids) >= 2, f"{service} runs {len(pids)} web worker processes"
    port = system.ports[service]
    held: dict[int, WorkerConnection] = {}
    for _ in range(CONNECTIONS_TRIED):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/health/live/")
        connection.getresponse().read()
        owner = _owner(pids, server_port=port, client_port=connection.sock.getsockname()[1])
        if owner is not None and owner not in held:
            held[owner] = WorkerConnection(pid=owner, connection=connection)
            if set(held) == pids:
                return list(held.values())
        else:
            connection.close()
            time.sleep(0.01)
    pytest.fail(
        f"only {sorted(held)} of {service}'s web workers {sorted(pids)} answered {CONNECTIONS_TRIED} connections"
    )

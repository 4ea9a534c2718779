"""HTTP throughput and latency of one endpoint, measured with wrk (Debian's package)."""

import re
import shutil
import statistics
import subprocess
from dataclasses import asdict, dataclass, replace

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


@dataclass
class HttpResult:
    name: str
    url: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # non-2xx/3xx responses plus socket errors
    seconds: float = 0.0  # how long wrk measured

    def as_dict(self) -> dict:
        return asdict(self)


def _milliseconds(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * _UNITS[unit]


def parse_wrk_output(name: str, url: str, output: str) -> HttpResult:
    """Read wrk's ``--latency`` report."""
    requests_per_second = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    total, seconds = re.search(r"(\d+) requests in ([\d.]+(?:us|ms|s|m))", output).groups()
    percentiles = dict(re.findall(r"^\s+(\d+)%\s+([\d.]+(?:us|ms|s|m))\s*$", output, flags=re.MULTILINE))
    errors = sum(int(count) for count in re.findall(r"Non-2xx or 3xx responses: (\d+)", output))
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if socket_errors:
        errors += sum(int(count) for count in socket_errors.groups())
    return HttpResult(
        name=name,
        url=url,
        requests_per_second=requests_per_second,
        p50_ms=_milliseconds(percentiles["50"]),
        p99_ms=_milliseconds(percentiles["99"]),
        requests=int(total),
        errors=errors,
        seconds=_milliseconds(seconds) / 1000,
    )


def wrk(
    name: str, url: str, *, seconds: int, connections: int, threads: int = 2, headers: dict | None = None
) -> HttpResult:
    """Run wrk against ``url`` for ``seconds`` and return what it measured."""
    binary = shutil.which("wrk")
    if binary is None:
        raise RuntimeError("wrk is not installed (apt-get install wrk; ./manage_all.sh bench installs it)")
    command = [binary, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    for header, value in (headers or {}).items():
        command += ["-H", f"{header}: {value}"]
    command.append(url)
    result = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 60)  # noqa: S603
    return parse_wrk_output(name, url, result.stdout)


@dataclass(frozen=True)
class Endpoint:
    name: str
    url: str
    headers: dict | None = None


def wrk_interleaved(endpoints: list[Endpoint], *, seconds: int, connections: int, rounds: int = 4) -> list[HttpResult]:
    """Measure endpoints whose ratio matters in alternating short runs, ABBA ABBA..., ``seconds`` each in all.

    Back-to-back runs of a few seconds each differ by 10% or more on a shared
    2-core machine (CPU frequency, the other processes); alternating spreads that
    drift over every endpoint alike, so their ratio measures the endpoints, not
    the moment. The merged figures: throughput is all requests over all measured
    time, p50 the median of the rounds' p50s, p99 the worst round's p99.
    """
    runs: dict[str, list[HttpResult]] = {endpoint.name: [] for endpoint in endpoints}
    for round_number in range(rounds):
        order = endpoints if round_number % 2 == 0 else endpoints[::-1]
        for endpoint in order:
            runs[endpoint.name].append(
                wrk(
                    endpoint.name,
                    endpoint.url,
                    seconds=max(1, round(seconds / rounds)),
                    connections=connections,
                    headers=endpoint.headers,
                )
            )
    return [_merged(results) for results in runs.values()]


def _merged(results: list[HttpResult]) -> HttpResult:
    requests = sum(result.requests for result in results)
    seconds = sum(result.seconds for result in results)
    return replace(
        results[0],
        requests_per_second=requests / seconds if seconds else 0.0,
        p50_ms=statistics.median(result.p50_ms for result in results),
        p99_ms=max(result.p99_ms for result in results),
        requests=requests,
        errors=sum(result.errors for result in results),
        seconds=seconds,
    )

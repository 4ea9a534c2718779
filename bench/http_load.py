"""HTTP throughput and latency of one endpoint, measured with wrk (Debian's package)."""

import re
import shutil
import subprocess
from dataclasses import asdict, dataclass

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

    def as_dict(self) -> dict:
        return asdict(self)


def _milliseconds(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * _UNITS[unit]


def parse_wrk_output(name: str, url: str, output: str) -> HttpResult:
    """Read wrk's ``--latency`` report."""
    requests_per_second = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    total = int(re.search(r"(\d+) requests in", output).group(1))
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
        requests=total,
        errors=errors,
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

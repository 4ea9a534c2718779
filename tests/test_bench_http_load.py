"""How the benchmark reads wrk and merges alternating runs of one endpoint (bench.http_load)."""

from bench.http_load import HttpResult, _merged, parse_wrk_output

WRK_OUTPUT = """Running 2s test @ http://127.0.0.1:8002/api/v1/products/1/
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     8.10ms    2.31ms  40.12ms   80.00%
    Req/Sec     1.00k    50.00     1.10k    70.00%
  Latency Distribution
     50%    7.90ms
     75%    9.00ms
     90%   10.50ms
     99%   15.20ms
  2400 requests in 2.00s, 1.20MB read
  Non-2xx or 3xx responses: 3
Requests/sec:   1200.00
Transfer/sec:    600.00KB
"""


def test_wrk_output_is_read_with_its_duration_and_errors():
    result = parse_wrk_output("product detail", "http://x/", WRK_OUTPUT)

    assert (result.requests, result.seconds, result.requests_per_second) == (2400, 2.0, 1200.0)
    assert (result.p50_ms, result.p99_ms, result.errors) == (7.9, 15.2, 3)


def run(requests: int, seconds: float, *, p50: float, p99: float, errors: int = 0) -> HttpResult:
    return HttpResult("detail", "http://x/", requests / seconds, p50, p99, requests, errors, seconds)


def test_alternating_runs_merge_into_requests_over_time_and_the_worst_p99():
    merged = _merged([run(2000, 2.0, p50=8.0, p99=20.0), run(3000, 2.0, p50=6.0, p99=12.0, errors=1)])

    assert merged.requests_per_second == 1250.0
    assert (merged.requests, merged.seconds, merged.errors) == (5000, 4.0, 1)
    assert (merged.p50_ms, merged.p99_ms) == (7.0, 20.0)

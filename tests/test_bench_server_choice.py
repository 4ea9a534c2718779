"""The benchmark's rule for the fastest web server configuration (bench.run.choose_server)."""

from bench.run import SERVER_P99_BUDGET_MS, choose_server

ENDPOINTS = ("product list", "product detail", "product detail (bearer)", "order list (bearer)")


def configuration(requests_per_second: float, *, p99_ms: float = 20.0, errors: int = 0) -> dict:
    live = {"requests_per_second": 2000.0, "p99_ms": 10.0, "errors": 0}
    measured = {"requests_per_second": requests_per_second, "p99_ms": p99_ms, "errors": errors}
    return {"catalog /health/live/": live, "orders /health/live/": live, **{name: measured for name in ENDPOINTS}}


def test_the_most_requests_per_second_wins():
    assert choose_server({"gunicorn x2": configuration(500), "granian x2": configuration(800)}) == "granian x2"


def test_a_p99_over_budget_or_an_error_disqualifies():
    http = {
        "gunicorn x2": configuration(500),
        "granian x2": configuration(2000, p99_ms=SERVER_P99_BUDGET_MS + 1),
        "granian x4": configuration(2000, errors=1),
    }

    assert choose_server(http) == "gunicorn x2"


def test_within_the_tie_margin_fewer_workers_win():
    assert choose_server({"gunicorn x4": configuration(1000), "gunicorn x2": configuration(950)}) == "gunicorn x2"
    assert choose_server({"gunicorn x4": configuration(1000), "gunicorn x2": configuration(850)}) == "gunicorn x4"


def test_nothing_qualifies():
    assert choose_server({"granian x2": configuration(2000, p99_ms=500)}) == ""


def test_the_ceiling_probe_counts_for_errors_not_for_its_p99():
    slow_probe = configuration(2000)
    slow_probe["catalog /health/live/"] = {"requests_per_second": 4e3, "p99_ms": SERVER_P99_BUDGET_MS * 3, "errors": 0}
    failing_probe = configuration(3000)
    failing_probe["orders /health/live/"] = {"requests_per_second": 4000.0, "p99_ms": 5.0, "errors": 2}

    assert choose_server({"gunicorn x2": configuration(500), "granian x2": slow_probe}) == "granian x2"
    assert choose_server({"gunicorn x2": configuration(500), "granian x2": failing_probe}) == "gunicorn x2"

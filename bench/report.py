"""The benchmark's table (figures as ratios to the ceiling of the same run) and its plot."""

from pathlib import Path

MEMORY_BUDGET_MIB = 1229  # 1.2 GB


def _ratio(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


# The gateway's throughput against the service's own, with keep-alive clients (issue 16).
GATEWAY_RATIO_TARGET = 0.75


def _errors(pair: dict) -> int:
    """Errors through the gateway or directly: a ratio measured on error answers says nothing."""
    return int(pair["gateway"]["errors"]) + int(pair["direct"]["errors"])


def targets(results: dict) -> list[tuple[str, str, str, bool]]:
    """(target, measured, goal, met) for each target of the issue, on the default server."""
    http = results["http"].get(results["default_server"]) or next(iter(results["http"].values()))
    rps = {name: result["requests_per_second"] for name, result in http.items()}
    catalog_live, orders_live = rps["catalog /health/live/"], rps["orders /health/live/"]
    ratios = [
        ("product list / live", _ratio(rps["product list"], catalog_live), 0.75),
        ("product detail / live", _ratio(rps["product detail"], catalog_live), 0.80),
        ("order list / live", _ratio(rps["order list (bearer)"], orders_live), 0.60),
        ("304 product list / live", _ratio(rps.get("product list (304)", 0), catalog_live), 0.90),
        ("304 product detail / live", _ratio(rps.get("product detail (304)", 0), catalog_live), 0.90),
        ("304 order list / live", _ratio(rps.get("order list (bearer, 304)", 0), orders_live), 0.90),
    ]
    bearer_cost = 1 - _ratio(rps["product detail (bearer)"], rps["product detail"])
    saga = results["saga"]
    fixed = saga["fixed_rate"]
    top = max((phase for phase in saga["phases"] if phase["sustained"]), key=lambda p: p["offered_rate"], default=None)
    top_p99 = (top or {}).get("p99_ms") or 1e9
    cpu_per_order = sum(fixed.get("cpu_ms_per_order", {}).values()) or 1e9
    memory = results["memory_mib"]["peak_total"]
    return [
        *((name, f"{ratio:.0%}", f">= {goal:.0%}", ratio >= goal) for name, ratio, goal in ratios),
        ("bearer token cost", f"{bearer_cost:.0%}", "<= 10%", bearer_cost <= 0.10),
        ("saga p50 at 20/s", f"{fixed['p50_ms'] or 0:.1f} ms", "<= 10 ms", (fixed["p50_ms"] or 1e9) <= 10),
        ("saga p99 at 20/s", f"{fixed['p99_ms'] or 0:.1f} ms", "<= 30 ms", (fixed["p99_ms"] or 1e9) <= 30),
        ("CPU per confirmed order at 20/s", f"{cpu_per_order:.1f} ms", "<= 10 ms", cpu_per_order <= 10),
        (
            "orders/s sustained",
            f"{saga['highest_sustained_rate']}/s",
            ">= 150/s",
            saga["highest_sustained_rate"] >= 150,
        ),
        ("saga p99 at the rate sustained", f"{top_p99:.0f} ms", "<= 100 ms", top_p99 <= 100),
        ("orders not settled", str(saga["unsettled"]), "0", saga["unsettled"] == 0),
        *(
            (
                f"gateway / direct: {name}",
                f"{pair['ratio']:.0%}" + (" (with errors)" if _errors(pair) else ""),
                ">= 75%, no errors",
                pair["ratio"] >= GATEWAY_RATIO_TARGET and not _errors(pair),
            )
            for name, pair in results.get("gateway", {}).items()
        ),
        ("memory under load (PSS)", f"{memory:.0f} MiB", f"<= {MEMORY_BUDGET_MIB} MiB", memory <= MEMORY_BUDGET_MIB),
        *telemetry_targets(results.get("telemetry")),
    ]


def telemetry_targets(telemetry: dict | None) -> list[tuple[str, str, str, bool]]:
    if not telemetry:
        return []
    throughput, cpu = telemetry["throughput_ratio"], telemetry["cpu_per_order_ratio"] - 1
    return [
        ("telemetry: product list on/off", f"{throughput:.0%}", ">= 90%", throughput >= 0.9),
        ("telemetry: CPU per order on/off", f"{cpu:+.0%}", "<= +15%", cpu <= 0.15),
    ]


def print_telemetry(telemetry: dict | None) -> None:
    if not telemetry:
        return
    on, off, micro = telemetry["on"], telemetry["off"], telemetry["metrics_recording"]
    print(f"\ntelemetry on vs off (SHOP_TELEMETRY, alternated {' '.join(telemetry['order'])}):")
    print(
        f"  product list: on {on['product_list_per_second']:.0f}/s, off {off['product_list_per_second']:.0f}/s"
        f" -> {telemetry['throughput_ratio']:.0%}"
    )
    print(
        f"  CPU per confirmed order at {telemetry['saga_rate']}/s: on {on['cpu_ms_per_confirmed_order']:.1f} ms,"
        f" off {off['cpu_ms_per_confirmed_order']:.1f} ms -> {telemetry['cpu_per_order_ratio'] - 1:+.0%}"
    )
    on_programs, off_programs = on.get("cpu_ms_by_program", {}), off.get("cpu_ms_by_program", {})
    print("    by program (ms an order, on / off; Prometheus runs with telemetry on only):")
    for name in sorted(on_programs.keys() | off_programs.keys(), key=lambda name: -on_programs.get(name, 0.0)):
        print(f"      {name:20} {on_programs.get(name, 0.0):6.2f} {off_programs.get(name, 0.0):6.2f}")
    print(
        f"  metrics alone: {micro['request_us']:.1f} us a request, {micro['saga_transition_us']:.1f} us a saga"
        f" transition, {micro['message_consumed_us']:.1f} us a consumed message, {micro['scrape_ms']:.1f} ms a scrape"
    )
    _print_post_parts(telemetry.get("order_post"))


def _print_post_parts(post: dict | None) -> None:
    """What each part of telemetry costs a POST /api/v1/orders/ (``telemetry_cost.post_costs``)."""
    if not post:
        return
    cpu = post["cpu_us_per_post"]
    traced, untraced, sampled_out = cpu["on"], cpu["off"], cpu["sampled out"]
    print(
        f"  a POST /api/v1/orders/ in one orders_service process, CPU a request ({post['requests']} orders,"
        f" {post['rounds']} rounds): on {traced:.0f} us, off {untraced:.0f} us ({traced / untraced - 1:+.0%})"
    )
    print(
        f"    spans recorded and written (on - sampled out): {traced - sampled_out:.0f} us;"
        f" of which the SQL statements' spans {traced - cpu['without SQL spans']:.0f} us,"
        f" Celery's publish span {traced - cpu['without Celery spans']:.0f} us;"
        " the instrumentations with nothing recorded, and the metrics (sampled out - off):"
        f" {sampled_out - untraced:.0f} us"
    )


def _print_cpu_per_order(saga: dict) -> None:
    """Where the saga's time goes: CPU per confirmed order at 20/s by program, and at the highest rate
    sustained, where fixed costs (idle polling, the scheduler) are spread over more orders."""
    fixed = saga["phases"][0]
    if not fixed.get("cpu_ms_per_order"):
        return
    cores = saga.get("cpu_cores") or 1
    print(
        f"  CPU per confirmed order at {fixed['offered_rate']}/s (ms, all processes; the load generator excluded):"
        f" {sum(fixed['cpu_ms_per_order'].values()):.1f}"
    )
    for name, milliseconds in sorted(fixed["cpu_ms_per_order"].items(), key=lambda item: -item[1]):
        print(f"    {name:20} {milliseconds:6.1f}")
    sustained = [phase for phase in saga["phases"] if phase["sustained"]]
    if sustained:
        top = max(sustained, key=lambda phase: phase["offered_rate"])
        total = sum(top["cpu_ms_per_order"].values())
        print(
            f"  CPU per confirmed order at {top['offered_rate']}/s, the highest rate sustained: {total:.1f} ms,"
            f" so at most about {cores * 1000 / total:.0f} orders/s on {cores} cores"
        )


def _print_worker_replicas(compared: dict, *, cores: int) -> None:
    """The saga with one and with two workers of each service: highest rate sustained, and CPU per order there."""
    if not compared:
        return
    print(f"\norder saga with N workers of each service, side by side ({cores} cores)")
    for count, measured in compared.items():
        sustained = [phase for phase in measured["phases"] if phase["sustained"]]
        top = max(sustained, key=lambda phase: phase["offered_rate"], default=None)
        cpu = f", CPU per order there {sum(top['cpu_ms_per_order'].values()):.1f} ms" if top else ""
        latency = f" (p50 {top['p50_ms'] or 0:.0f} ms, p99 {top['p99_ms'] or 0:.0f} ms)" if top else ""
        print(
            f"  {count} worker(s): highest rate sustained {measured['highest_sustained_rate']}/s{latency}{cpu};"
            f" most confirmed in a phase {measured['highest_confirmed_per_second']:.0f}/s"
        )


def print_table(results: dict) -> None:
    print("\nHTTP throughput (requests/s, ratio to /health/live/ of the same server, p50/p99 ms, errors)")
    for label, http in results["http"].items():
        print(f"  {label}")
        ceilings = {"catalog": http["catalog /health/live/"], "orders": http["orders /health/live/"]}
        for name, result in http.items():
            ceiling = ceilings["orders" if name.startswith(("orders", "order")) else "catalog"]
            ratio = _ratio(result["requests_per_second"], ceiling["requests_per_second"])
            print(
                f"    {name:26} {result['requests_per_second']:8.0f}/s {ratio:5.0%}"
                f"  p50 {result['p50_ms']:6.1f}  p99 {result['p99_ms']:6.1f}  errors {result['errors']}"
            )
    if len(results["http"]) > 1:
        print(f"  fastest configuration: {results['fastest_clean_server'] or 'none qualifies'}")
        print(f"    ({results.get('server_choice_rule', 'served every endpoint without errors')})")
    print(f"  default in up and compose.yaml: {results['default_server']}")

    gateway = results.get("gateway")
    if gateway:
        print("\nthe gateway's cost (HTTPS through HAProxy against the service directly, same run, keep-alive)")
        for name, pair in gateway.items():
            through, direct = pair["gateway"], pair["direct"]
            print(
                f"  {name:22} via gateway {through['requests_per_second']:6.0f}/s p99 {through['p99_ms']:6.1f} ms"
                f" errors {through['errors']};  directly {direct['requests_per_second']:6.0f}/s"
                f" p99 {direct['p99_ms']:6.1f} ms;  ratio {pair['ratio']:.0%}"
            )

    print("\norder saga (latency from acceptance to confirmed, server timestamps)")
    for phase in results["saga"]["phases"]:
        print(
            f"  offered {phase['offered_rate']:>4}/s for {phase['seconds']}s: accepted {phase['accepted']},"
            f" confirmed {phase['confirmed']} ({phase['confirmed_per_second']:.0f}/s), unsettled {phase['unsettled']},"
            f" p50 {phase['p50_ms'] or 0:.1f} ms, p95 {phase['p95_ms'] or 0:.1f} ms, p99 {phase['p99_ms'] or 0:.1f} ms"
            f"{'' if phase['sustained'] else '  (not sustained)'}"
        )
    print(
        f"  highest rate sustained: {results['saga']['highest_sustained_rate']}/s;"
        f" most confirmed in a phase: {results['saga']['highest_confirmed_per_second']:.0f}/s"
    )
    _print_cpu_per_order(results["saga"])

    _print_worker_replicas(results.get("worker_replicas") or {}, cores=results["saga"].get("cpu_cores") or 1)

    floor = results.get("messaging_floor")
    if floor:
        cpu = floor["cpu_ms_per_message"]
        per_message = sum(cpu.values())
        per_order = per_message * floor["messages_per_order"]
        cores = results["saga"].get("cpu_cores") or 1
        print(f"  messaging floor: a no-op Celery task over the same Redis and settings, {floor['rate']}/s")
        print(
            f"    CPU per message {per_message:.1f} ms (worker {cpu['worker']:.1f}, Redis {cpu['redis']:.1f},"
            f" sender {cpu['sender']:.1f}); send to start p50 {floor['latency_p50_ms']:.1f} ms,"
            f" p99 {floor['latency_p99_ms']:.1f} ms"
        )
        print(
            f"    an order sends {floor['messages_per_order']} messages: {per_order:.1f} ms of CPU before any work,"
            f" at most {cores * 1000 / per_order:.0f} orders/s on {cores} cores from messaging alone"
        )

    print("\nmemory under load (MiB, PSS: shared pages divided among the processes sharing them)")
    for name, mib in sorted(results["memory_mib"]["by_process"].items()):
        print(f"  {name:20} {mib:7.0f}")
    print(f"  {'total':20} {results['memory_mib']['peak_total']:7.0f}")
    print(f"  {'(RSS, summed)':20} {results['memory_mib']['rss_total_at_peak']:7.0f}")
    print_telemetry(results.get("telemetry"))

    print("\ntargets")
    for name, measured, goal, met in targets(results):
        print(f"  {'met ' if met else 'MISS'}  {name:30} {measured:>10}  (target {goal})")


def write_plot(results: dict, path: Path) -> None:
    """Saga latency distribution and HTTP throughput bars, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (latency_axis, throughput_axis) = plt.subplots(1, 2, figsize=(14, 5))
    latencies = results["saga"]["latencies_ms"]
    if latencies:
        latency_axis.hist(latencies, bins=40, color="#4477aa")
        for label, fraction in (("p50", 0.5), ("p99", 0.99)):
            value = sorted(latencies)[min(len(latencies) - 1, int(fraction * len(latencies)))]
            latency_axis.axvline(value, color="#cc3311", linestyle="--")
            latency_axis.annotate(f"{label} {value:.0f} ms", (value, 0), rotation=90, va="bottom", ha="right")
    latency_axis.set_title("order saga at 20 orders/s: acceptance -> confirmed")
    latency_axis.set_xlabel("ms")
    latency_axis.set_ylabel("orders")

    configurations = list(results["http"])
    endpoints = list(next(iter(results["http"].values())))
    width = 0.8 / max(1, len(configurations))
    for index, label in enumerate(configurations):
        values = [results["http"][label][endpoint]["requests_per_second"] for endpoint in endpoints]
        positions = [position + index * width for position in range(len(endpoints))]
        throughput_axis.bar(positions, values, width=width, label=label)
    throughput_axis.set_xticks([position + 0.4 - width / 2 for position in range(len(endpoints))])
    throughput_axis.set_xticklabels(endpoints, rotation=25, ha="right", fontsize=8)
    throughput_axis.set_ylabel("requests/s")
    throughput_axis.set_title("HTTP throughput (wrk)")
    throughput_axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)

"""The Markdown tables of docs/performance.md, rendered from latest.json.

Only figures from the run are printed here: docs/performance.md copies
these tables as they are.
"""

from __future__ import annotations

from typing import Any, Iterable


def _table(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> str:
    header = list(header)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _f(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def _ratio(x: float | None) -> str:
    return "–" if x is None else f"{x:.2f}"


def _paired(ratio: dict[str, Any]) -> str:
    """A paired ratio (support/rounds.h): "median (round, round, ...)"; a
    round with no completed call has none ("–")."""
    if not ratio:
        return "–"
    return f"{_ratio(ratio['median'])} ({', '.join(_ratio(x) for x in ratio['rounds'])})"


def _pool(scenario: dict[str, Any], label: str) -> dict[str, Any]:
    return next((p for p in scenario.get("pools", []) if p.get("label") == label), {})


def _best(points: list[dict[str, Any]]) -> float:
    return max((p.get("calls_per_s", 0.0) for p in points), default=0.0)


def machine(r: dict[str, Any]) -> str:
    m = r["machine"]
    blas = m["numpy"].get("blas_loaded") or []
    blas_text = ", ".join(f"{b.get('internal_api')} {b.get('version')} ({b.get('threading_layer')}, "
                          f"{b.get('architecture')})" for b in blas if isinstance(b, dict)) or "none found"
    py = m["python"]
    rows = [
        ("CPU", f"{m['cpu']['model']}, {m['cpu']['usable_cores']} cores"
                f"{' (virtual machine)' if m.get('virtualised') else ''}"),
        ("memory", f"{m['memory_gib']} GiB; a minor page fault costs {m.get('page_fault_us', '?')} µs"),
        ("OS", f"{m['os']}, kernel {m['versions']['kernel']}"),
        ("Python", f"{py['executable']} {py['version']} ({py['implementation']}), free-threaded build: "
                   f"{'yes' if py['free_threaded_build'] else 'no'}, GIL: "
                   f"{'enabled' if py['gil_enabled'] else 'disabled'}"),
        ("numpy / BLAS", f"numpy {m['numpy'].get('version')}; links Debian's libblas.so.3, which loads "
                         f"{blas_text}"),
        ("gRPC", f"C++ {m['versions']['grpc_cpp']}, grpcio {m['versions'].get('grpcio')}, "
                 f"protobuf {m['versions']['protobuf_cpp']} / {m['versions'].get('protobuf_python')}"),
        ("compiler", f"g++ {m['versions']['gcc']}, Release (-O2)"),
        ("load average (1, 5, 15 min)", f"{', '.join(f'{x:.2f}' for x in m['load_average'])} at the start, "
                                        f"{', '.join(f'{x:.2f}' for x in r['load_average_at_end'])} at the end"),
        ("source", f"{m['revision']['commit']}"
                   f"{' with uncommitted changes' if m['revision']['uncommitted_changes'] else ''}"),
        ("run", f"`{r['command']}`: set-up and build {r['setup_and_build_seconds']} s, "
                f"benchmarks {r['run_seconds']} s"),
    ]
    for run in r.get("partial_runs", []):
        rows.append(("later run", f"`{run['command']}` ({', '.join(run['scenarios'])}), finished {run['finished']}: "
                                  f"set-up and build {run['setup_and_build_seconds']} s, benchmarks "
                                  f"{run['run_seconds']} s; load average at the end "
                                  f"{', '.join(f'{x:.2f}' for x in run['load_average_at_end'])}"))
    return _table(("", ""), rows)


def disturbance(r: dict[str, Any]) -> str:
    rows = []
    for name, s in r["scenarios"].items():
        if isinstance(s, dict) and "machine_cpu" in s:
            m = s["machine_cpu"]
            rows.append((name, _f(s.get("wall_s", 0)), f"{m.get('own_cores', 0):.2f}",
                         f"{m.get('foreign_cores', 0):.2f}", f"{m.get('steal_cores', 0):.2f}",
                         ", ".join(f"{x:.2f}" for x in s.get("load_average", [])) or "–"))
    return _table(("scenario", "seconds", "cores used by the benchmark", "cores used by other processes",
                   "cores stolen by the hypervisor", "load average at its start"), rows)


def targets(r: dict[str, Any]) -> str:
    if r.get("quick"):
        return "A --quick run: no verdicts.\n"

    def verdict(t: dict[str, Any]) -> str:
        if t["met"] is None:
            return f"no verdict: {t['note']}"
        return "met" if t["met"] else "**not met**"

    return _table(("scenario", "target", "measured", "verdict"),
                  ((t["scenario"], t["target"], t["measured"], verdict(t)) for t in r["targets"]))


def noop(r: dict[str, Any]) -> str:
    m = r["micro"]["medians"]
    names = [("library `execute()`, process pool", "noop/library_execute/process"),
             ("library `call()`, process pool", "noop/library_call/process"),
             ("library `call()`, thread pool 1x4", "noop/library_call/thread"),
             ("bare stub, callback API, to Python", "noop/stub_callback/python"),
             ("bare stub, sync API, to Python (baseline)", "noop/stub_sync/python"),
             ("bare stub to C++ echo server", "noop/stub_sync/cpp_echo"),
             ("raw Unix socket echo", "noop/raw_socket")]
    base = m["noop/stub_sync/python"]["p50_us"]
    rows = []
    for label, key in names:
        b = m.get(key)
        if b:
            rows.append((label, _f(b["p50_us"]), _f(b["p99_us"]), _f(b["mean_us"]),
                         f"{b['p50_us'] / base:.2f}", _f(b["client_cpu_us"], 1), _f(b["server_cpu_us"], 1),
                         _f(b.get("client_switches", 0), 1)))
    return _table(("path", "p50 µs", "p99 µs", "mean µs", "p50 vs baseline", "client CPU µs/call",
                   "server CPU µs/call", "client context switches/call"), rows)


def paired(r: dict[str, Any]) -> str:
    s = r["scenarios"].get("router_overhead", {})
    base = s["paths"]["stub_sync"]
    rows = [("bare stub, sync API (baseline)", _f(base["p50_us"]["median"]), "–",
             _f(base["client_cpu_us"]["median"], 1), "–", _f(base["worker_cpu_us"]["median"], 1))]
    transports = s.get("transports", {})
    default = transports.get("library_default", "default")
    for name, label in (("stub_callback", "bare stub, callback API"),
                        ("library", f"library `execute()`, {transports.get('library', 'native')} transport"),
                        ("library_default", f"library `execute()`, default transport ({default})")):
        if name not in s["paths"]:  # a run from before the path existed
            continue
        p, d = s["paths"][name], s["minus_stub_sync"][name]
        rows.append((label, _f(p["p50_us"]["median"]),
                     f"{d['p50_us']['median']:+.1f} ({d['p50_us']['q25']:+.0f} to {d['p50_us']['q75']:+.0f})",
                     _f(p["client_cpu_us"]["median"], 1),
                     f"{d['client_cpu_us']['median']:+.1f} ({d['client_cpu_us']['q25']:+.0f} to "
                     f"{d['client_cpu_us']['q75']:+.0f})", _f(p["worker_cpu_us"]["median"], 1)))
    return _table(("path", "p50 µs", "p50 minus baseline, µs (IQR)", "client CPU µs/call",
                   "client CPU minus baseline, µs (IQR)", "worker CPU µs/call"), rows)


def breakdown(r: dict[str, Any]) -> str:
    n = r["noop"]
    total = sum(n["latency_parts_us"].values())
    rows = [(part, _f(us, 1), f"{100 * us / total:.0f}%") for part, us in n["latency_parts_us"].items()]
    rows.append(("**one library no-op call (the sum)**", f"**{_f(total, 1)}**", "100%"))
    return _table(("part of one no-op call", "µs (p50 differences)", "share"), rows)


def small_calls(r: dict[str, Any]) -> str:
    s = r["scenarios"].get("small_calls", {})
    callers = s.get("callers", [])
    base = _pool(s, "process 1").get("points", [{}])[0].get("calls_per_s", 1.0)
    rows = []
    for p in s.get("pools", []) + [s.get("baseline", {})]:
        pts = {pt["callers"]: pt for pt in p.get("points", [])}
        rows.append([p.get("label", "?")] + [
            f"{_f(pts[c]['calls_per_s'])} ({pts[c]['calls_per_s'] / base:.2f}x) · "
            f"{_f(pts[c]['latency']['p50_us'])} / {_f(pts[c]['latency']['p99_us'])}"
            if c in pts else "–" for c in callers])
    return _table(["pool"] + [f"{c} caller{'s' if c > 1 else ''}" for c in callers], rows)


def cpu_bound(r: dict[str, Any]) -> str:
    s = r["scenarios"].get("cpu_bound", {})
    single = _best(_pool(s, "process 1").get("points", [])) or 1.0
    rows = []
    for p in s.get("pools", []):
        for pt in p.get("points", []):
            rows.append((p["label"], pt["callers"], _f(pt["calls_per_s"]), f"{pt['calls_per_s'] / single:.2f}",
                         f"{pt['worker_cores']:.2f}", _f(pt["latency"]["p50_us"]), _f(pt.get("python_us", 0)),
                         _f(pt.get("python_cpu_us", 0)),
                         _f(pt.get("worker_cpu_us_per_call", 0))))
    return _table(("pool", "callers", "calls/s", "vs best single worker", "worker cores used", "p50 µs",
                   "Python time µs", "Python CPU µs", "workers' CPU clock µs/call"),
                  rows)


def native(r: dict[str, Any]) -> str:
    s = r["scenarios"].get("native", {})
    base = _best(_pool(s, "process 1").get("points", [])) or 1.0
    rows = []
    for p in s.get("pools", []):
        for pt in p.get("points", []):
            rows.append((p["label"], pt["callers"], _f(pt["calls_per_s"]), f"{pt['calls_per_s'] / base:.2f}",
                         _f(pt["latency"]["p50_us"]), f"{pt['worker_cores']:.2f}", _f(pt.get("python_us", 0)),
                         _f(pt.get("elapsed_s_us", 0))))
    return _table(("pool", "callers", "calls/s", "vs process 1", "p50 µs", "worker cores used",
                   "Python time µs", "of which the product (BLAS) µs"), rows)


def memory(r: dict[str, Any]) -> str:
    s = r["scenarios"].get("memory", {})
    proc = _pool(s, "process 16")
    mib = 1 << 20
    rows = []
    for p in s.get("pools", []):
        if "idle" not in p:
            rows.append((p.get("label"), p.get("error", "?"), "", "", "", "", ""))
            continue
        rows.append((p["label"], _f(p["idle"]["pss_bytes"] / mib), _f(p["idle"]["rss_bytes"] / mib),
                     f"{100 * p['idle']['pss_bytes'] / proc['idle']['pss_bytes']:.0f}%",
                     _f(p["numpy"]["pss_bytes"] / mib), _f(p["numpy"]["rss_bytes"] / mib),
                     f"{100 * p['numpy']['pss_bytes'] / proc['numpy']['pss_bytes']:.0f}%",
                     f"{p['host_idle_cpu_percent']:.2f}%"))
    return _table(("pool (16 slots)", "PSS MiB", "RSS MiB", "PSS vs process 16", "PSS MiB, numpy loaded",
                   "RSS MiB, numpy loaded", "PSS vs process 16, numpy", "host CPU while idle"), rows)


def startup(r: dict[str, Any]) -> str:
    s = r["scenarios"].get("startup", {})
    base = s.get("baseline", {}).get("start_ms_median", 0.0) or 1.0
    cpu = s.get("baseline", {}).get("cpu_ms_median", 0.0)
    cores = r["machine"]["cpu"]["usable_cores"]
    rows = [(s.get("baseline", {}).get("label", "?"), _f(base), "1.00", _f(cpu), "–")]
    for p in s.get("pools", []):
        # Every worker burns `cpu` ms to start; the cores bound how fast N can.
        bound = p["workers"] * cpu / min(cores, p["workers"])
        rows.append((p["label"], _f(p["start_ms_median"]), f"{p['start_ms_median'] / base:.2f}", _f(bound),
                     _f(p["stop_ms_median"])))
    return _table(("pool", f"ready after ms (median of {s.get('reps')})", "vs 1 worker by hand",
                   "CPU floor ms (workers x start CPU / cores)", "shutdown ms"), rows)


def payload(r: dict[str, Any]) -> str:
    """Cells: p50 (ratio of medians to the warm socket floor of the same run;
    median of the per-sample ratios)."""
    s = r["scenarios"].get("payload", {})
    sizes = list(dict.fromkeys(p["size"] for p in s.get("points", [])))
    paths = list(dict.fromkeys(p["path"] for p in s.get("points", []) if "path" in p))
    cell = {(p.get("path"), p["size"]): p for p in s.get("points", [])}
    errors = {p["size"]: p["error"] for p in s.get("points", []) if "path" not in p}
    rows = []
    for path in paths:
        row = [path]
        for size in sizes:
            p = cell.get((path, size), {})
            if "latency" not in p:
                row.append(errors.get(size, "–"))
                continue
            us = p["latency"]["p50_us"]
            text = f"{_f(us / 1000, 2)} ms" if us >= 1000 else f"{_f(us)} µs"
            row.append(f"{text} ({p['vs_floor_p50']:.2f}x; {p['vs_floor_per_sample_median']:.2f}x)"
                       if "vs_floor_p50" in p else text)
        rows.append(row)
    heads = [f"{s} round trip, p50 (vs socket floor: of medians; per sample)" for s in sizes]
    return _table(["path"] + heads, rows)


def alternatives(r: dict[str, Any]) -> str:
    s = r["scenarios"].get("alternatives", {})
    rows = []
    for p in s.get("points", []):
        ratio = p.get("vs_library", {})
        rows.append((p["call"], p["path"], p["callers"], _f(p["calls_per_s"]),
                     _f(p["latency"]["p50_us"]) if p["latency"]["count"] else "–",
                     _paired(ratio), p.get("first_error", "") or p["errors"]))
    return _table(("call", "alternative", "concurrent callers / threads", "calls/s", "p50 µs",
                   "vs snakepit, same call and callers: median of rounds (each round)", "errors"), rows)


def transport(r: dict[str, Any]) -> str:
    s = r["scenarios"].get("transport", {})
    if "points" not in s:
        return s.get("error", "not run") + "\n"
    rows = []
    for p in (p for p in s["points"] if "calls_per_s" in p):
        ratio = p.get("vs_grpcio", {})
        us = p["latency"]["p50_us"]
        rows.append((p["path"], p["payload"], p["callers"], _f(p["calls_per_s"]),
                     _paired(ratio),
                     f"{_f(us / 1000, 2)} ms" if us >= 1000 else f"{_f(us)} µs",
                     _f(p["worker_cpu_us_per_call"]), _f(p["client_cpu_us_per_call"]),
                     p.get("first_error", "") or p["errors"]))
    return _table(("path", "payload", "callers", "calls/s (median round)",
                   "vs grpcio (same path): median of per-round ratios (each round)", "p50",
                   "server CPU µs/call", "client CPU µs/call", "errors"), rows)


def free_threading(r: dict[str, Any]) -> str:
    s = r["scenarios"].get("free_threading", {})
    if "pools" not in s:
        return s.get("skipped") or s.get("error", "not run") + "\n"
    one = _pool(s, "thread 1x1").get("point", {}).get("calls_per_s", 0.0) or 1.0
    mib = 1 << 20
    rows = []
    for p in s["pools"]:
        pt = p["point"]
        gil = "on" if any(w["gil_enabled"] for w in p.get("workers_gil", [])) else "off"
        rows.append((p["label"], pt["callers"], _f(pt["calls_per_s"]), f"{pt['calls_per_s'] / one:.2f}",
                     f"{pt['worker_cores']:.2f}", _f(pt["latency"]["p50_us"]), _f(pt.get("python_us", 0)),
                     _f(p["memory"]["pss_bytes"] / mib, 1), _f(p["memory"]["rss_bytes"] / mib, 1), gil))
    interp = s.get("interpreter", {})
    head = (f"{interp.get('executable')} {interp.get('version')}, cpu_loop n={s.get('cpu_loop_n')}, "
            f"median of {s.get('rounds')} rounds\n\n")
    return head + _table(("pool", "callers", "calls/s", "vs thread 1x1", "worker cores used", "p50 µs",
                          "Python time µs", "PSS MiB (all workers)", "RSS MiB", "GIL"), rows)


def render(r: dict[str, Any]) -> str:
    parts = [("Machine", machine), ("Other work on the machine during the run", disturbance), ("Targets", targets), ("No-op call (scenarios 1, 2)", noop),
             ("Router overhead, paired blocks (scenario 1)", paired),
             ("Where the time goes", breakdown),
             ("Small calls (scenario 3): calls/s (vs process 1 at 1 caller) · p50 / p99 µs", small_calls),
             ("CPU-bound (scenario 4)", cpu_bound), ("Native matmul (scenario 5)", native),
             ("Memory (scenario 6)", memory), ("Start-up (scenario 7)", startup),
             ("Payloads (scenario 8)", payload), ("Alternatives (scenario 9)", alternatives),
             ("Worker transport (scenario 10)", transport), ("Free-threading (scenario 11)", free_threading)]
    out = [f"<!-- generated by bench/python/report.py from latest.json ({r['finished']}) -->\n"]
    for title, fn in parts:
        out.append(f"### {title}\n\n{fn(r)}")
    return "\n".join(out)

"""Turns one benchmark run into bench/results/latest.json, the tables of
docs/performance.md (tables.md) and the plots (plots.py).

    report.py --raw bench/results/raw --out bench/results --command "./scripts/bench.sh"

Inputs, all from the same run: raw/machine.json (machine_info.py),
raw/micro.json (snakepit_micro, Google Benchmark's JSON) and
raw/scenarios.json (snakepit_bench). Every ratio is against a baseline from
those same files; every target of the benchmark issue is judged here.

    report.py ... --merge raw/scenarios-only.json

first puts the scenarios of a later run of some scenarios only
(scripts/bench.sh --only) into raw/scenarios.json in place of their older
figures; each scenario measures its baselines itself, so its ratios stay
within one run. A merged scenario says when it ran ("merged_from").
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
from typing import Any

import machine_info
import plots
import tables

MICRO_FIELDS = ("real_time", "cpu_time", "p50_us", "p90_us", "p99_us", "mean_us",
                "client_cpu_us", "server_cpu_us", "client_switches", "python_us", "python_cpu_us")


def micro_medians(micro: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Per benchmark, the median over its repetitions of each figure."""
    runs: dict[str, list[dict[str, Any]]] = {}
    for b in micro.get("benchmarks", []):
        if b.get("run_type") == "iteration" and not b.get("error_occurred"):
            # Google Benchmark appends the timing options to the name.
            name = b["run_name"].replace("/process_time", "").replace("/real_time", "")
            runs.setdefault(name, []).append(b)
    out = {}
    for name, reps in runs.items():
        out[name] = {f: statistics.median(r[f] for r in reps) for f in MICRO_FIELDS
                     if all(f in r for r in reps)}
        out[name]["repetitions"] = len(reps)
        out[name]["iterations"] = sum(r["iterations"] for r in reps)
        out[name]["time_unit"] = reps[0].get("time_unit", "us")
    return out


def noop_breakdown(m: dict[str, dict[str, float]], paired: dict[str, Any]) -> dict[str, Any]:
    """Scenarios 1 and 2: where the time of one no-op call goes. The
    library's own share comes from the paired blocks (snakepit_bench's
    router_overhead), the rest from the micro-benchmarks' medians."""
    lib, stub = m["noop/library_execute/process"], m["noop/stub_sync/python"]
    cb, cpp, raw = m["noop/stub_callback/python"], m["noop/stub_sync/cpp_echo"], m["noop/raw_socket"]
    call = m["noop/library_call/process"]
    # The handler's own time, as the worker reports it on the bare stub path.
    py_us, py_cpu_us = stub.get("python_us", 0.0), stub.get("python_cpu_us", 0.0)
    diff = paired["minus_stub_sync"]
    base = paired["paths"]["stub_sync"]
    callback_us = diff["stub_callback"]["p50_us"]["median"]
    library_us = diff["library"]["p50_us"]["median"]
    return {
        "p50_us": {"library": lib["p50_us"], "stub_callback": cb["p50_us"], "stub_sync": stub["p50_us"],
                   "cpp_echo": cpp["p50_us"], "raw_socket": raw["p50_us"],
                   "library_thread_pool": m["noop/library_call/thread"]["p50_us"]},
        "latency_parts_us": {
            "transport floor: raw Unix socket round trip": raw["p50_us"],
            "gRPC C++ stacks, both ends (C++ echo - raw)": cpp["p50_us"] - raw["p50_us"],
            "Python worker: its gRPC server (native) and dispatch (stub to Python - C++ echo - handler)":
                stub["p50_us"] - cpp["p50_us"] - py_us,
            "Python handler itself (Timing, as Reply::python_time)": py_us,
            "gRPC callback API and its thread hop (paired: callback stub - sync stub)": callback_us,
            "library: router, deadline timer, JSON, future (paired: library - callback stub)":
                library_us - callback_us,
        },
        "client_cpu_us": {"library": lib["client_cpu_us"], "stub_callback": cb["client_cpu_us"],
                          "stub_sync": stub["client_cpu_us"], "cpp_echo_client": cpp["client_cpu_us"],
                          "raw_socket_client": raw["client_cpu_us"]},
        "server_cpu_us": {"python_worker_via_library": lib["server_cpu_us"],
                          "python_worker_via_stub": stub["server_cpu_us"],
                          "cpp_echo_server": cpp["server_cpu_us"], "raw_echo_server": raw["server_cpu_us"],
                          "python_handler_cpu": py_cpu_us},
        "python_us": py_us,
        "python_cpu_us": py_cpu_us,
        "library_python_us": call.get("python_us", 0.0),
        "library_python_cpu_us": call.get("python_cpu_us", 0.0),
        # The targets: paired medians.
        "router_latency_overhead_us": library_us,
        "router_latency_overhead_percent": 100 * library_us / base["p50_us"]["median"],
        "router_cpu_overhead_us": diff["library"]["client_cpu_us"]["median"],
        "router_cpu_overhead_iqr_us": [diff["library"]["client_cpu_us"]["q25"],
                                       diff["library"]["client_cpu_us"]["q75"]],
        "router_latency_overhead_iqr_us": [diff["library"]["p50_us"]["q25"], diff["library"]["p50_us"]["q75"]],
        # The library on its default transport (shm) against the same bare
        # gRPC stub: what the data plane saves, router included. Absent
        # from runs made before the path existed.
        "library_default_minus_stub_sync_us": diff.get("library_default", {}).get("p50_us", {}).get("median"),
        "library_default_transport": paired.get("transports", {}).get("library_default"),
        "python_share_percent": 100 * (1 - cpp["p50_us"] / stub["p50_us"]),
        "ratios": {"library / bare stub (micro)": lib["p50_us"] / stub["p50_us"],
                   "bare stub to Python / C++ echo": stub["p50_us"] / cpp["p50_us"],
                   "C++ echo / raw socket": cpp["p50_us"] / raw["p50_us"],
                   "library / raw socket": lib["p50_us"] / raw["p50_us"]},
    }


def best(points: list[dict[str, Any]], key: str = "calls_per_s") -> dict[str, Any]:
    return max(points, key=lambda p: p.get(key, 0.0)) if points else {}


def pool(scenario: dict[str, Any], label: str) -> dict[str, Any]:
    return next((p for p in scenario.get("pools", []) if p.get("label") == label), {})


def targets(noop: dict[str, Any], sc: dict[str, Any], cores: int) -> list[dict[str, Any]]:
    """Each target of the issue: what was asked, what was measured, met?"""
    out = []

    def add(scenario: str, target: str, value: str, met: bool | None, note: str = "") -> None:
        # met None: the scenario refused a verdict; `note` says why.
        # A --quick run's figures judge nothing: a scenario merged from one,
        # or one of a quick run that later full scenarios were merged into.
        data = sc.get(SCENARIO_NAMES.get(scenario, ""), {})
        quick_data = data["merged_from"].get("quick") if "merged_from" in data else sc.get("quick")
        if quick_data:
            return
        out.append({"scenario": scenario, "target": target, "measured": value,
                    "met": None if met is None else bool(met), "note": note})

    lat, cpu = noop["router_latency_overhead_percent"], noop["router_cpu_overhead_us"]
    lo, hi = noop["router_cpu_overhead_iqr_us"]
    add("1", "library adds < 10% latency to a no-op (p50, vs a bare stub of its transport, native)",
        f"{lat:+.1f}% ({noop['router_latency_overhead_us']:+.0f} µs)", lat < 10)
    add("1", "library adds < 10 µs CPU per call (client process, native)", f"{cpu:+.1f} µs (IQR {lo:+.0f} to {hi:+.0f})",
        cpu < 10)

    cpu_bound_target(sc.get("cpu_bound", {}), add)
    payload_target(sc.get("payload", {}), add)

    memory = sc.get("memory", {})
    proc = pool(memory, "process 16")
    for label in ("thread 2x8", "thread 4x4"):
        thr = pool(memory, label)
        for state in ("idle", "numpy"):
            if proc.get(state) and thr.get(state):
                share = thr[state]["pss_bytes"] / proc[state]["pss_bytes"]
                add("6", f"{label} PSS <= 20% of process 16 ({state})", f"{100 * share:.0f}%", share <= 0.2)

    startup = sc.get("startup", {})
    one, sixteen = pool(startup, "process 1"), pool(startup, "process 16")
    t28 = pool(startup, "thread 2x8")
    if one and sixteen:
        r = sixteen["start_ms_median"] / one["start_ms_median"]
        add("7", "16-worker process pool ready in < 3 x a 1-worker pool's time",
            f"{r:.1f} x ({sixteen['start_ms_median']:.0f} vs {one['start_ms_median']:.0f} ms)", r < 3)
    if t28 and sixteen:
        add("7", "2 x 8 thread pool ready faster than the 16-worker process pool",
            f"{t28['start_ms_median']:.0f} vs {sixteen['start_ms_median']:.0f} ms",
            t28["start_ms_median"] < sixteen["start_ms_median"])
    transport_targets(sc.get("transport", {}), add)
    free_threading_targets(sc.get("free_threading", {}), add)
    return out


# The scenarios of docs/performance.md by number, as snakepit_bench names them.
SCENARIO_NAMES = {"1": "router_overhead", "4": "cpu_bound", "6": "memory", "7": "startup", "8": "payload",
                  "10": "transport", "11": "free_threading"}


def cpu_bound_target(s: dict[str, Any], add: Any) -> None:
    """Scenario 4: process 2 against process 1, normalised by the Python CPU
    per call; the scenario itself refuses a verdict when that drifted."""
    sc = s.get("scaling")
    if not sc:
        return
    if "no_verdict" in sc:
        measured = (f"{sc['raw_ratio']:.2f}x in calls/s, CPU per call {100 * sc['cpu_drift']:+.1f}%"
                    if "raw_ratio" in sc else "–")
        add("4", sc["target"], measured, None, sc["no_verdict"])
        return
    add("4", sc["target"],
        f"{sc['normalised_ratio']:.2f}x ({sc['raw_ratio']:.2f}x in calls/s, worker CPU per call"
        f" {100 * sc['cpu_drift']:+.1f}%)", sc["normalised_ratio"] >= 1.9)


def payload_target(s: dict[str, Any], add: Any) -> None:
    """Scenario 8: a 16 MiB attachment round trip against the warm socket
    floor of the same run."""
    p = next((p for p in s.get("points", []) if p.get("path") == "library_attachments"
              and p.get("size") == "16 MiB" and "latency" in p), None)
    if not p:
        return
    add("8", "16 MiB attachment round trip <= 2 x the warm-socket floor (same run)",
        f"{p['vs_floor_p50']:.1f}x (p50 {p['latency']['p50_us'] / 1000:,.1f} ms, {p['samples']} samples;"
        f" transport {s.get('worker_transport', '?')})", p["vs_floor_p50"] <= 2)


def transport_targets(s: dict[str, Any], add: Any) -> None:
    """Scenario 10: native vs grpcio on one process-mode worker, as the
    median of the per-round ratios."""
    pts = {(p["path"], p["payload"], p["callers"]): p for p in s.get("points", []) if p.get("calls", 0) > 0}
    native, grpcio = pts.get(("stub_native", "no-op", 1)), pts.get(("stub_grpcio", "no-op", 1))
    floor = pts.get(("stub_cpp_echo", "no-op", 1))
    if not (native and grpcio and floor and native.get("vs_grpcio", {}).get("median")):
        return
    lib_n = pts.get(("library_native", "no-op", 2))
    ratio = native["vs_grpcio"]["median"]
    rounds = ", ".join("–" if r is None else f"{r:.2f}" for r in native["vs_grpcio"]["rounds"])
    note = (f"through the library, 2 callers: median {lib_n['vs_grpcio']['median']:.2f}x"
            if lib_n and lib_n.get("vs_grpcio", {}).get("median") else "")
    add("10", "native transport >= 2 x grpcio no-op throughput (one process worker)",
        f"{ratio:.2f}x, median of per-round ratios ({rounds})", ratio >= 2, note)
    cpu = native["worker_cpu_us_per_call"] / floor["worker_cpu_us_per_call"]
    add("10", "native worker CPU per no-op call <= 1.5 x the C++ gRPC floor",
        f"{cpu:.2f}x ({native['worker_cpu_us_per_call']:.0f} vs {floor['worker_cpu_us_per_call']:.0f} µs;"
        f" grpcio {grpcio['worker_cpu_us_per_call']:.0f} µs)", cpu <= 1.5)


def free_threading_targets(s: dict[str, Any], add: Any) -> None:
    """Scenario 11: thread 1x2 vs 1x1 vs process 2 on the free-threaded interpreter."""
    one, two, proc = pool(s, "thread 1x1"), pool(s, "thread 1x2"), pool(s, "process 2")
    if not all(p.get("point") for p in (one, two, proc)):
        return
    gil = s.get("gil_enabled_in_workers", True)
    note = "a worker ran with the GIL on: these figures do not show free threading" if gil else ""
    rate = {k: p["point"]["calls_per_s"] for k, p in (("1x1", one), ("1x2", two), ("p2", proc))}
    r1 = rate["1x2"] / rate["1x1"]
    add("11", "free-threaded: thread 1x2 >= 1.8 x thread 1x1 calls/s",
        f"{r1:.2f}x ({rate['1x2']:,.0f} vs {rate['1x1']:,.0f} calls/s)", r1 >= 1.8 and not gil, note)
    r2 = rate["1x2"] / rate["p2"]
    add("11", "free-threaded: thread 1x2 >= 90% of process 2 calls/s",
        f"{100 * r2:.0f}% ({rate['1x2']:,.0f} vs {rate['p2']:,.0f} calls/s)", r2 >= 0.9 and not gil, note)
    mib = 1 << 20
    pss2, pssp = two["memory"]["pss_bytes"], proc["memory"]["pss_bytes"]
    add("11", "free-threaded: thread 1x2 total PSS < process 2 total PSS",
        f"{pss2 / mib:.1f} vs {pssp / mib:.1f} MiB ({100 * pss2 / pssp:.0f}%)", pss2 < pssp and not gil, note)


def merged_names(partial_path: str) -> list[str]:
    with open(partial_path, encoding="utf-8") as f:
        return sorted(k for k, v in json.load(f).items() if isinstance(v, dict))


def merge_scenarios(raw_dir: str, partial_path: str) -> None:
    """Puts the scenarios of `partial_path` into raw/scenarios.json, in place
    of the same scenarios' older figures."""
    path = os.path.join(raw_dir, "scenarios.json")
    with open(path, encoding="utf-8") as f:
        merged = json.load(f)
    with open(partial_path, encoding="utf-8") as f:
        partial = json.load(f)
    when = datetime.datetime.fromtimestamp(os.path.getmtime(partial_path), datetime.timezone.utc)
    for name, scenario in partial.items():
        if isinstance(scenario, dict):
            scenario["merged_from"] = {"file": os.path.basename(partial_path), "quick": partial.get("quick"),
                                       "finished": when.isoformat(timespec="seconds"),
                                       "revision": machine_info.revision()}
            merged[name] = scenario
    with open(path, "w", encoding="utf-8") as f:
        json.dump(merged, f, indent=1)
        f.write("\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--raw", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--command", default="./scripts/bench.sh")
    ap.add_argument("--build-seconds", type=int, default=0)
    ap.add_argument("--run-seconds", type=int, default=0)
    ap.add_argument("--merge", help="scenarios of a later partial run to merge into raw/scenarios.json first")
    ap.add_argument("--quick", action="store_true",
                    help="a --quick run (also read from --command and the raw files): no targets, no verdicts")
    args = ap.parse_args()
    quick = args.quick or "--quick" in args.command.split()
    if args.merge:
        with open(args.merge, encoding="utf-8") as f:
            quick = quick or bool(json.load(f).get("quick"))
        merge_scenarios(args.raw, args.merge)

    def load(name: str) -> dict[str, Any]:
        with open(os.path.join(args.raw, name), encoding="utf-8") as f:
            return json.load(f)

    machine, micro, scenarios = load("machine.json"), load("micro.json"), load("scenarios.json")
    medians = micro_medians(micro)
    noop = noop_breakdown(medians, scenarios["router_overhead"])
    cores = machine["cpu"]["usable_cores"]
    result = {
        "command": args.command,
        "finished": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "setup_and_build_seconds": args.build_seconds,
        "run_seconds": args.run_seconds,
        # Other work on the machine inflates latencies: compare with the
        # load average the run started with (machine.load_average).
        "load_average_at_end": list(os.getloadavg()),
        "machine": machine,
        "micro": {"context": micro.get("context", {}), "medians": medians},
        "noop": noop,
        "scenarios": scenarios,
    }
    # A --quick run is too short to judge anything: no targets, no verdicts.
    result["quick"] = quick  # this run's: its scenarios' own are in theirs
    result["targets"] = [] if quick else targets(noop, scenarios, cores)
    previous_path = os.path.join(args.out, "latest.json")
    if args.merge and os.path.exists(previous_path):
        # The full run's own facts stay; the partial run is listed beside them.
        with open(previous_path, encoding="utf-8") as f:
            previous = json.load(f)
        for key in ("command", "finished", "setup_and_build_seconds", "run_seconds", "load_average_at_end"):
            result[key] = previous.get(key, result[key])
        result["partial_runs"] = previous.get("partial_runs", []) + [{
            "command": args.command, "scenarios": merged_names(args.merge),
            "finished": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "setup_and_build_seconds": args.build_seconds, "run_seconds": args.run_seconds,
            "load_average_at_end": list(os.getloadavg())}]
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "latest.json"), "w", encoding="utf-8") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    with open(os.path.join(args.out, "tables.md"), "w", encoding="utf-8") as f:
        f.write(tables.render(result))
    for path in plots.render(result, args.out):
        print(f"report: wrote {path}")
    if quick:
        print("report: a --quick run: no verdicts")
    for t in result["targets"]:
        verdict = "no verdict" if t["met"] is None else "met" if t["met"] else "NOT met"
        print(f"report: [{verdict}] scenario {t['scenario']}: {t['target']}: {t['measured']}"
              f"{' (' + t['note'] + ')' if t['met'] is None else ''}")


if __name__ == "__main__":
    main()

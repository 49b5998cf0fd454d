"""The PNG plots of docs/performance.md, drawn from latest.json with
Debian's matplotlib (headless). One function per figure; render() draws
them all and returns the paths written.
"""

from __future__ import annotations

import os
from typing import Any, Callable

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - after choosing the backend

Figure = Callable[[dict[str, Any]], Any]


def _pool(scenario: dict[str, Any], label: str) -> dict[str, Any]:
    return next((p for p in scenario.get("pools", []) if p.get("label") == label), {})


def _callers(n: int, noun: str = "caller") -> str:
    return f"{n} {noun}{'s' if n != 1 else ''}"


def _bars(ax: Any, labels: list[str], values: list[float], fmt: str = "{:,.0f}", **kw: Any) -> None:
    bars = ax.bar(range(len(values)), values, **kw)
    ax.set_xticks(range(len(values)), labels, rotation=20, ha="right")
    for bar, v in zip(bars, values):
        ax.annotate(fmt.format(v), (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    ha="center", va="bottom", fontsize=8)


def noop(r: dict[str, Any]) -> Any:
    m = r["micro"]["medians"]
    keys = [("raw socket", "noop/raw_socket"), ("C++ echo", "noop/stub_sync/cpp_echo"),
            ("stub → Python\n(sync)", "noop/stub_sync/python"),
            ("stub → Python\n(callback)", "noop/stub_callback/python"),
            ("library\nprocess", "noop/library_execute/process"),
            ("library\nthread 1x4", "noop/library_call/thread")]
    keys = [(label, key) for label, key in keys if key in m]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    labels = [label for label, _ in keys]
    _bars(left, labels, [m[k]["p50_us"] for _, k in keys], color="#4878a8")
    left.set_ylabel("p50 latency, µs")
    left.set_title("One no-op call, one caller")
    x = range(len(keys))
    client = [m[k]["client_cpu_us"] for _, k in keys]
    server = [m[k]["server_cpu_us"] for _, k in keys]
    right.bar(x, client, label="client process (getrusage)", color="#4878a8")
    right.bar(x, server, bottom=client, label="server process", color="#e8a33d")
    right.set_xticks(list(x), labels, rotation=20, ha="right")
    right.set_ylabel("CPU µs per call")
    right.set_title("CPU per call")
    right.legend()
    return fig


def small_calls(r: dict[str, Any]) -> Any:
    s = r["scenarios"].get("small_calls", {})
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    series = s.get("pools", []) + ([s["baseline"]] if "baseline" in s else [])
    for p in series:
        pts = p.get("points", [])
        style = "--" if p is s.get("baseline") else "-"
        xs = [pt["callers"] for pt in pts]
        left.plot(xs, [pt["calls_per_s"] for pt in pts], style, marker="o", label=p["label"])
        right.plot(xs, [pt["latency"]["p99_us"] for pt in pts], style, marker="o", label=p["label"])
    for ax in (left, right):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("concurrent callers")
        ax.grid(alpha=0.3)
    left.set_ylabel("calls/s")
    left.set_title("No-op throughput")
    right.set_ylabel("p99 latency, µs")
    right.set_yscale("log")
    right.set_title("No-op p99 latency")
    left.legend(fontsize=8)
    return fig


def _config_bars(s: dict[str, Any], title: str, ylabel: str) -> tuple[Any, Any]:
    labels, values, cores = [], [], []
    for p in s.get("pools", []):
        for pt in p.get("points", []):
            labels.append(f"{p['label']}\n{_callers(pt['callers'])}")
            values.append(pt["calls_per_s"])
            cores.append(pt["worker_cores"])
    fig, ax = plt.subplots(figsize=(12, 4.5))
    _bars(ax, labels, values, color="#4878a8")
    for i, c in enumerate(cores):
        ax.annotate(f"{c:.2f} cores", (i, 0), xytext=(0, 4), textcoords="offset points", ha="center",
                    fontsize=7, color="white")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return fig, ax


def cpu_bound(r: dict[str, Any]) -> Any:
    s = r["scenarios"].get("cpu_bound", {})
    cores = r["machine"]["cpu"]["usable_cores"]
    fig, ax = _config_bars(s, "CPU-bound pure Python (cpu_loop ≈ 1 ms), GIL interpreter", "calls/s")
    single = max((pt["calls_per_s"] for pt in _pool(s, "process 1").get("points", [])), default=0)
    if single:
        ax.axhline(0.9 * cores * single, color="#c03030", linestyle="--",
                   label=f"target: 0.9 x {cores} cores x single worker")
        ax.legend()
    return fig


def native(r: dict[str, Any]) -> Any:
    s = r["scenarios"].get("native", {})
    fig, _ = _config_bars(s, f"numpy matmul n={s.get('n')} (OpenBLAS)", "calls/s")
    return fig


def memory(r: dict[str, Any]) -> Any:
    s = r["scenarios"].get("memory", {})
    pools = [p for p in s.get("pools", []) if "idle" in p]
    mib = 1 << 20
    fig, ax = plt.subplots(figsize=(9, 4.5))
    width = 0.2
    columns = [("idle", "pss_bytes", "PSS"), ("idle", "rss_bytes", "RSS"),
               ("numpy", "pss_bytes", "PSS, numpy loaded"), ("numpy", "rss_bytes", "RSS, numpy loaded")]
    for i, (state, key, label) in enumerate(columns):
        xs = [j + (i - 1.5) * width for j in range(len(pools))]
        ax.bar(xs, [p[state][key] / mib for p in pools], width, label=label)
    ax.set_xticks(range(len(pools)), [p["label"] for p in pools])
    ax.set_ylabel("MiB, all Python processes")
    ax.set_title("Memory at equal capacity (16 concurrent calls)")
    ax.legend()
    return fig


def startup(r: dict[str, Any]) -> Any:
    s = r["scenarios"].get("startup", {})
    pools = s.get("pools", [])
    fig, ax = plt.subplots(figsize=(12, 4.5))
    _bars(ax, [p["label"] for p in pools], [p["start_ms_median"] for p in pools], color="#4878a8")
    base = s.get("baseline", {}).get("start_ms_median")
    if base:
        ax.axhline(base, color="#555555", linestyle=":", label=f"1 worker started by hand ({base:.0f} ms)")
        ax.legend(loc="upper left")
    ax.set_ylabel("ms until every worker is ready")
    ax.set_title("Start-up (batched, startup_batch_size 8 unless noted)")
    return fig


def payload(r: dict[str, Any]) -> Any:
    s = r["scenarios"].get("payload", {})
    fig, ax = plt.subplots(figsize=(9, 4.5))
    paths = list(dict.fromkeys(p["path"] for p in s.get("points", [])))
    for path in paths:
        pts = [p for p in s["points"] if p["path"] == path and "latency" in p]
        ax.plot([p["bytes"] for p in pts], [p["latency"]["p50_us"] / 1000 for p in pts], marker="o", label=path)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("payload bytes (each way)")
    ax.set_ylabel("round trip p50, ms")
    ax.set_title("Payload size")
    ax.grid(alpha=0.3)
    ax.legend()
    return fig


def alternatives(r: dict[str, Any]) -> Any:
    s = r["scenarios"].get("alternatives", {})
    calls = list(dict.fromkeys(p["call"] for p in s.get("points", [])))
    if not calls:
        return None
    fig, axes = plt.subplots(1, len(calls), figsize=(7 * len(calls), 4.8), squeeze=False)
    for ax, call in zip(axes[0], calls):
        pts = [p for p in s["points"] if p["call"] == call]
        labels = [f"{p['path'].replace('_', chr(10))}\n"
                  f"{_callers(p['callers'], 'thread' if p['path'] == 'pybind11' else 'caller')}" for p in pts]
        _bars(ax, labels, [p["calls_per_s"] for p in pts], color="#4878a8")
        ax.set_yscale("log")
        ax.set_ylabel("calls/s (log scale)")
        ax.set_title(f"{call}: snakepit vs the alternatives")
        ax.tick_params(axis="x", labelsize=7)
    return fig


def transport(r: dict[str, Any]) -> Any:
    s = r["scenarios"].get("transport", {})
    pts = [p for p in s.get("points", []) if "calls_per_s" in p]
    if not pts:
        return None
    noop = [p for p in pts if p["payload"] == "no-op"]
    labels = [p["path"].replace("_", "\n", 1) + (f", {p['callers']}" if p["path"].startswith("library") else "")
              for p in noop]
    fig, (a, b, c) = plt.subplots(1, 3, figsize=(15, 4.8))
    _bars(a, labels, [p["calls_per_s"] for p in noop], color="#4878a8")
    a.set_ylabel("calls/s")
    a.set_title("No-op calls, one process worker")
    stubs = [p for p in noop if p["path"].startswith("stub")]
    _bars(b, [p["path"] for p in stubs], [p["worker_cpu_us_per_call"] for p in stubs], color="#e8a33d")
    b.set_ylabel("server process CPU µs per call")
    b.set_title("Server CPU per no-op call")
    payloads = list(dict.fromkeys(p["payload"] for p in pts if p["payload"] != "no-op"))
    paths = list(dict.fromkeys(p["path"] for p in pts if p["payload"] != "no-op"))
    width = 0.8 / max(1, len(paths))
    for i, path in enumerate(paths):
        ms = [next((p["latency"]["p50_us"] / 1000 for p in pts if p["path"] == path and p["payload"] == pl), 0)
              for pl in payloads]
        c.bar([x + i * width for x in range(len(payloads))], ms, width, label=path)
    c.set_xticks([x + width * (len(paths) - 1) / 2 for x in range(len(payloads))], payloads)
    c.set_yscale("log")
    c.set_ylabel("round trip p50, ms")
    c.set_title("Payload round trips (echo_attachments)")
    c.legend()
    return fig


def free_threading(r: dict[str, Any]) -> Any:
    s = r["scenarios"].get("free_threading", {})
    pools = [p for p in s.get("pools", []) if "point" in p]
    if not pools:
        return None
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.5))
    labels = [p["label"] for p in pools]
    _bars(a, labels, [p["point"]["calls_per_s"] for p in pools], color="#4878a8")
    a.set_ylabel("calls/s")
    a.set_title(f"cpu_loop ≈ 3 ms, free-threaded {s.get('interpreter', {}).get('version', '')}")
    one = _pool(s, "thread 1x1").get("point", {}).get("calls_per_s")
    if one:
        a.axhline(1.8 * one, color="#c03030", linestyle="--", label="target for 1x2: 1.8 x 1x1")
        a.legend()
    _bars(b, labels, [p["memory"]["pss_bytes"] / (1 << 20) for p in pools], fmt="{:,.1f}", color="#e8a33d")
    b.set_ylabel("PSS of the pool's workers, MiB")
    b.set_title("Memory")
    return fig


FIGURES: dict[str, Figure] = {"noop": noop, "small_calls": small_calls, "cpu_bound": cpu_bound,
                              "native": native, "memory": memory, "startup": startup,
                              "payload": payload, "alternatives": alternatives, "transport": transport,
                              "free_threading": free_threading}


def render(r: dict[str, Any], out_dir: str) -> list[str]:
    written = []
    for name, figure in FIGURES.items():
        fig = figure(r)
        if fig is None:  # the scenario did not run or was skipped
            continue
        fig.tight_layout()
        path = os.path.join(out_dir, f"{name}.png")
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written

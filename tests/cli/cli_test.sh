#!/usr/bin/env bash
# cli: the `snakepit` command-line tool, end to end.
#
#   usage: cli_test.sh SNAKEPIT_BINARY REPO_ROOT
#
# Runs the real binary against Debian's /usr/bin/python3 (the interpreter
# with grpcio and prometheus_client; SNAKEPIT_TEST_PYTHON overrides the one
# this script parses output with) and the default showcase adapter. ctest
# sets SNAKEPIT_PYTHONPATH to the build tree's worker package; it is passed
# through to the binary unchanged. Every check prints what it checks; the
# first failure prints the check, the command, its exit status and its
# output, and exits 1. Takes 6-10 s (each command that starts pools, about
# 0.4 s).
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 SNAKEPIT_BINARY REPO_ROOT" >&2
  exit 2
fi
snakepit=$1
repo=$2
python=${SNAKEPIT_TEST_PYTHON:-/usr/bin/python3}
[[ -x "$snakepit" ]] || { echo "FAIL: $snakepit is not an executable" >&2; exit 1; }
[[ -f "$repo/python/snakepit_worker/thread_safety_matrix.json" ]] || {
  echo "FAIL: $repo does not look like the snakepit repository" >&2
  exit 1
}
if [[ -n "${SNAKEPIT_PYTHONPATH:-}" ]]; then
  export SNAKEPIT_PYTHONPATH
  echo "SNAKEPIT_PYTHONPATH=$SNAKEPIT_PYTHONPATH"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/snakepit-cli-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
out=$tmp/stdout
err=$tmp/stderr
started=$SECONDS

# ---------------------------------------------------------------- helpers

check_name=""
last_cmd=""
rc=0

check() {
  check_name=$*
  echo "check: $check_name"
}

fail() {
  {
    echo "FAIL [$check_name]: $*"
    echo "--- command: $last_cmd"
    echo "--- exit status: $rc"
    echo "--- stdout:"
    cat "$out" 2>/dev/null || true
    echo "--- stderr:"
    cat "$err" 2>/dev/null || true
    echo "---"
  } >&2
  exit 1
}

# cli ARGS...: runs the binary, stdout to $out, stderr to $err, status to $rc.
# A hung command is killed after 60 s (and then fails its check).
cli() {
  last_cmd="snakepit $*"
  set +e
  timeout -k 5 60 "$snakepit" "$@" >"$out" 2>"$err"
  rc=$?
  set -e
}

expect_rc() {
  [[ $rc -eq $1 ]] || fail "expected exit status $1, got $rc"
}

expect_stdout() {  # fixed string
  grep -qF -- "$1" "$out" || fail "stdout does not contain '$1'"
}

expect_stderr() {  # fixed string
  grep -qF -- "$1" "$err" || fail "stderr does not contain '$1'"
}

# py < SCRIPT: runs a Python check (read from stdin) with sys.argv[1] the
# captured stdout and sys.argv[2] the repository; values it needs come in
# the environment. Its output (an AssertionError's message) becomes the
# failure message.
py() {
  local message status
  set +e
  message=$("$python" - "$out" "$repo" 2>&1)
  status=$?
  set -e
  if [[ $message == *"AssertionError: "* ]]; then message=${message##*AssertionError: }; fi
  [[ $status -eq 0 ]] || fail "${message:-python check failed}"
}

# ---------------------------------------------------------------- the tool

check "--help exits 0 and lists doctor, inspect and run"
cli --help
expect_rc 0
expect_stdout "usage: snakepit <command>"
for command in doctor inspect run; do
  grep -qE "^  $command " "$out" || fail "--help does not list '$command'"
done

check "no arguments: usage on stderr, exit status 2"
cli
expect_rc 2
expect_stderr "usage: snakepit <command>"

check "unknown command: exit status 2, named"
cli frobnicate
expect_rc 2
expect_stderr "unknown command 'frobnicate'"

check "--version prints the project version"
cli --version
expect_rc 0
version=$(sed -nE 's/^project\(snakepit VERSION ([0-9.]+).*/\1/p' "$repo/CMakeLists.txt")
[[ -n "$version" ]] || fail "cannot read the project version from $repo/CMakeLists.txt"
[[ "$(cat "$out")" == "snakepit $version" ]] || fail "expected 'snakepit $version'"

for command in doctor inspect run; do
  check "$command --help exits 0 and starts with 'usage: snakepit $command'"
  cli "$command" --help
  expect_rc 0
  [[ "$(head -n1 "$out")" == "usage: snakepit $command"* ]] || fail "first line is not 'usage: snakepit $command ...'"

  check "$command with an unknown option: exit status 2, the option named"
  cli "$command" --no-such-option
  expect_rc 2
  expect_stderr "unknown option '--no-such-option'"
done

# ---------------------------------------------------------------- doctor

python_version=$(/usr/bin/python3 -c 'import platform; print(platform.python_version())')

check "doctor: Python $python_version, GIL build and enabled, process profile recommended"
cli doctor
expect_rc 0
expect_stdout "$python_version"
expect_stdout "/usr/bin/python3"
expect_stdout "GIL (not free-threaded)"
expect_stdout "GIL enabled at run time"
expect_stdout "Recommended profile: process"

check "doctor --json: the environment and a process recommendation"
cli doctor --json
expect_rc 0
PYTHON_VERSION=$python_version py <<'EOF'
import json, os, sys
d = json.load(open(sys.argv[1]))
env = d["environment"]
assert env["version"] == os.environ["PYTHON_VERSION"], f"environment.version is {env.get('version')!r}"
assert env["free_threaded_build"] is False, f"environment.free_threaded_build is {env['free_threaded_build']!r}"
assert env["gil_enabled"] is True, f"environment.gil_enabled is {env['gil_enabled']!r}"
assert d["recommendation"]["profile"] == "process", f"recommendation is {d['recommendation']}"
assert d["recommendation"]["reasons"], "recommendation.reasons is empty"
assert d["compatibility"]["source"] == "installed", f"compatibility.source is {d['compatibility']['source']!r}"
EOF

# Two files: one numpy line each. Expected values come from the matrix.
cat >"$tmp/requirements-a.txt" <<'EOF'
# what the service needs
numpy>=2.2

matplotlib
unknown-lib==1.0
scikit-learn==1.5.2   # pinned below the matrix's min_version
EOF
cat >"$tmp/requirements-b.txt" <<'EOF'
numpy==1.24
EOF

# Checks `doctor --requirements --json` against the matrix file. EXPECTED:
# the entries' (name, version) in order; MUST_MEET: meets_min_version of
# some, stated outright so that a matrix edit cannot hide a broken compare.
cat >"$tmp/requirements_check.py" <<'EOF'
import json, os, sys
EXPECTED = [tuple(e) for e in json.loads(os.environ["EXPECTED"])]
MUST_MEET = json.loads(os.environ["MUST_MEET"])
matrix = json.load(open(sys.argv[2] + "/python/snakepit_worker/thread_safety_matrix.json"))["libraries"]
safety = {True: "safe", False: "unsafe", "conditional": "conditional"}

def version(v):
    return [int("".join(c for c in part if c.isdigit()) or 0) for part in v.split(".")]

def meets(name, v):
    low = matrix[name]["min_version"]
    if not low or not v:
        return None
    a, b = version(v), version(low)
    n = max(len(a), len(b))
    return a + [0] * (n - len(a)) >= b + [0] * (n - len(b))

d = json.load(open(sys.argv[1]))
assert d["compatibility"]["source"] == "requirements", f"compatibility.source is {d['compatibility']['source']!r}"
entries = d["compatibility"]["entries"]
got = [(e["name"], e["version"]) for e in entries]
assert got == EXPECTED, f"entries (name, version) are {got}, expected {EXPECTED} (comments and blank lines skipped)"
for e in entries:
    name = e["name"]
    if name not in matrix:
        assert e["known"] is False, f"{name}: known is {e['known']!r}, expected false"
        assert e["meets_min_version"] is None, f"{name}: meets_min_version is {e['meets_min_version']!r}, expected null"
        continue
    want = safety[matrix[name]["thread_safe"]]
    assert e["known"] is True, f"{name}: known is {e['known']!r}, expected true"
    assert e["thread_safe"] == want, f"{name}: thread_safe is {e['thread_safe']!r}, the matrix says {want!r}"
    m = meets(name, e["version"])
    assert e["meets_min_version"] == m, (f"{name} {e['version']}: meets_min_version is {e['meets_min_version']!r}, "
                                         f"expected {m!r} (min_version {matrix[name]['min_version']!r})")
for name, value in MUST_MEET.items():
    e = next(e for e in entries if e["name"] == name)
    assert e["meets_min_version"] is value, f"{name}: meets_min_version is {e['meets_min_version']!r}, expected {value!r}"
EOF

check "doctor --requirements: known, thread_safe and meets_min_version per line (numpy>=2.2, matplotlib, unknown-lib, scikit-learn==1.5.2)"
cli doctor --requirements "$tmp/requirements-a.txt" --json
expect_rc 0
EXPECTED='[["numpy","2.2"],["matplotlib",""],["unknown-lib","1.0"],["scikit-learn","1.5.2"]]' \
MUST_MEET='{"numpy":true,"matplotlib":null,"unknown-lib":null,"scikit-learn":false}' \
  py <"$tmp/requirements_check.py"
py <<'EOF'
import json, sys
names = {e["name"]: e for e in json.load(open(sys.argv[1]))["compatibility"]["entries"]}
assert names["matplotlib"]["thread_safe"] == "unsafe", f"matplotlib: {names['matplotlib']}"
assert names["numpy"]["thread_safe"] == "conditional", f"numpy: {names['numpy']}"
assert names["scikit-learn"]["min_version"] == "1.6.0", f"scikit-learn: {names['scikit-learn']}"
EOF

check "doctor --requirements: numpy==1.24 is older than the matrix's min_version"
cli doctor --requirements "$tmp/requirements-b.txt" --json
expect_rc 0
EXPECTED='[["numpy","1.24"]]' MUST_MEET='{"numpy":false}' py <"$tmp/requirements_check.py"

check "doctor --requirements (text): each line reported, unknown ones said so"
cli doctor --requirements "$tmp/requirements-a.txt"
expect_rc 0
expect_stdout "Requirements:"
expect_stdout "matplotlib: unsafe."
expect_stdout "unknown-lib 1.0: not in the matrix"
expect_stdout "scikit-learn 1.5.2: conditional (older than"

check "doctor --requirements with a missing file: exit status 1, the file named"
cli doctor --requirements "$tmp/no-such-requirements.txt"
expect_rc 1
expect_stderr "no-such-requirements.txt"

check "doctor --python /nonexistent/python: exit status 1, the interpreter named"
cli doctor --python /nonexistent/python
expect_rc 1
expect_stderr "/nonexistent/python"

check "doctor --workload cpu --json recommends process"
cli doctor --workload cpu --json
expect_rc 0
py <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))["recommendation"]
assert r["profile"] == "process", f"recommendation is {r}"
EOF

check "doctor --workload io --json recommends thread"
cli doctor --workload io --json
expect_rc 0
py <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))["recommendation"]
assert r["profile"] == "thread", f"recommendation is {r}"
EOF

check "doctor --workload with a bad kind: exit status 2"
cli doctor --workload gpu
expect_rc 2
expect_stderr "--workload"

# ---------------------------------------------------------------- run

config=$tmp/pools.json
cat >"$config" <<'EOF'
{"pools": [
  {"name": "p", "profile": "process", "pool_size": 1},
  {"name": "t", "profile": "thread", "pool_size": 1, "threads_per_worker": 2}
]}
EOF

check "run p add {a:2,b:3}: prints 5, exit status 0"
cli run --config "$config" p add '{"a":2,"b":3}'
expect_rc 0
[[ "$(cat "$out")" == "5" ]] || fail "stdout is not exactly '5'"

check "run t raise_error: exit status 1, ValueError and its Traceback on stderr"
cli run --config "$config" t raise_error '{"type":"ValueError","message":"cli-test-boom"}'
expect_rc 1
expect_stderr "ValueError"
expect_stderr "cli-test-boom"
expect_stderr "Traceback (most recent call last)"
[[ ! -s "$out" ]] || fail "a failed call printed something on stdout"

check "run on an unknown pool: exit status 1, the pool named"
cli run --config "$config" no-such-pool add '{"a":1,"b":2}'
expect_rc 1
expect_stderr "no-such-pool"

check "run an unknown command: exit status 1, the command named"
cli run --config "$config" p frobnicate
expect_rc 1
expect_stderr "frobnicate"

check "run with invalid ARGS_JSON: exit status 2"
cli run --config "$config" p add '{a:2}'
expect_rc 2
expect_stderr "ARGS_JSON"

for bad in nan inf -inf 1e30 -1 0 abc; do
  check "run --timeout $bad: exit status 2, the flag and the value named"
  cli run --config "$config" --timeout "$bad" p add '{"a":2,"b":3}'
  expect_rc 2
  expect_stderr "--timeout must be a number of seconds greater than 0 and at most 31536000 (a year), got '$bad'"
done

check "inspect --interval nan: exit status 2, the flag named"
cli inspect --config "$config" --interval nan
expect_rc 2
expect_stderr "--interval must be a number of seconds"

check "run with a config whose pool_size is a string: exit status 1, the key named"
cat >"$tmp/bad.json" <<'EOF'
{"pools": [{"name": "p", "pool_size": "four"}]}
EOF
cli run --config "$tmp/bad.json" p add '{"a":2,"b":3}'
expect_rc 1
expect_stderr "pools[0].pool_size"

# ---------------------------------------------------------------- inspect

check "inspect --json: one JSON line with both pools, their profiles, capacities and workers' pid and PSS"
cli inspect --config "$config" --json
expect_rc 0
[[ $(wc -l <"$out") -eq 1 ]] || fail "expected exactly one line on stdout"
py <<'EOF'
import json, sys
d = json.loads(open(sys.argv[1]).read())
pools = {p["name"]: p for p in d["pools"]}
assert sorted(pools) == ["p", "t"], f"pools are {sorted(pools)}"
want = {"p": ("process", 1, 1), "t": ("thread", 2, 2)}
for name, (profile, capacity, threads) in want.items():
    p = pools[name]
    assert p["profile"] == profile, f"pool {name}: profile is {p['profile']!r}, expected {profile!r}"
    assert p["capacity"] == capacity, f"pool {name}: capacity is {p['capacity']}, expected {capacity}"
    assert p["threads_per_worker"] == threads, f"pool {name}: threads_per_worker is {p['threads_per_worker']}"
    assert len(p["per_worker"]) == 1, f"pool {name}: {len(p['per_worker'])} workers, expected 1"
    for w in p["per_worker"]:
        assert w["pid"] > 0, f"pool {name}: worker {w['id']} has pid {w['pid']}"
        assert w["pss_bytes"] > 0, f"pool {name}: worker {w['id']} has pss_bytes {w['pss_bytes']}"
        assert w["state"] == "ready", f"pool {name}: worker {w['id']} is {w['state']!r}"
    assert p["pss_bytes"] > 0, f"pool {name}: pss_bytes is {p['pss_bytes']}"
    assert "recommendations" in p, f"pool {name} has no recommendations list"
EOF
worker_pids=$("$python" -c '
import json, sys
print(" ".join(str(w["pid"]) for p in json.load(open(sys.argv[1]))["pools"] for w in p["per_worker"]))' "$out")

check "inspect stopped its workers when it exited (pids $worker_pids)"
for pid in $worker_pids; do
  if kill -0 "$pid" 2>/dev/null && [[ "$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null)" != Z ]]; then
    fail "worker pid $pid still runs after inspect exited"
  fi
done

check "inspect --prometheus: parses, snakepit_pool_capacity per pool, call duration histogram"
cli inspect --config "$config" --prometheus
expect_rc 0
py <<'EOF'
import sys
from prometheus_client.parser import text_string_to_metric_families
families = {f.name: f for f in text_string_to_metric_families(open(sys.argv[1]).read())}
assert "snakepit_pool_capacity" in families, f"no snakepit_pool_capacity; families: {sorted(families)}"
capacity = {s.labels["pool"]: s.value for s in families["snakepit_pool_capacity"].samples}
assert capacity == {"p": 1.0, "t": 2.0}, f"snakepit_pool_capacity is {capacity}, expected p=1, t=2"
h = families.get("snakepit_call_duration_seconds")
assert h is not None and h.type == "histogram", f"snakepit_call_duration_seconds is {h and h.type}, expected a histogram"
inf = {s.labels["pool"] for s in h.samples if s.name.endswith("_bucket") and s.labels.get("le") == "+Inf"}
assert inf == {"p", "t"}, f"+Inf buckets for {inf}"
counts = {s.labels["pool"] for s in h.samples if s.name.endswith("_count")}
assert counts == {"p", "t"}, f"_count samples for {counts}"
info = {(s.labels["pool"], s.labels["profile"]) for s in families["snakepit_pool_info"].samples}
assert info == {("p", "process"), ("t", "thread")}, f"snakepit_pool_info is {info}"
EOF

check "inspect --watch --count 2 --interval 0.2, piped: two text reports, progress on stderr, exit status 0"
last_cmd="snakepit inspect --watch --count 2 --interval 0.2 --config $config | cat"
set +e
timeout -k 5 60 "$snakepit" inspect --watch --count 2 --interval 0.2 --config "$config" 2>"$err" | cat >"$out"
rc=$?
set -e
expect_rc 0
reports=$(grep -c '^pool p ' "$out" || true)
[[ "$reports" -eq 2 ]] || fail "expected 2 'pool p ' report headers, got $reports"
reports=$(grep -c '^pool t ' "$out" || true)
[[ "$reports" -eq 2 ]] || fail "expected 2 'pool t ' report headers, got $reports"
if grep -q $'\033' "$out"; then fail "piped output holds terminal escape sequences"; fi
expect_stderr "starting workers: 0/2 ready"
expect_stderr "starting workers: 2/2 ready"

check "inspect text: the per-worker table (WORKER PID STATE LOAD REQUESTS RSS PSS AGE) and a ready row"
grep -qE '^  WORKER +PID +STATE +LOAD +REQUESTS +RSS +PSS +AGE$' "$out" || fail "no per-worker table header"
grep -qE '^  0 +[1-9][0-9]* +ready +0/2 ' "$out" || fail "no row for the thread pool's ready worker (load 0/2)"
grep -qE '^pool t  thread profile  1 workers x 2  capacity 2 ' "$out" || fail "no header line for pool t"

check "inspect without --config: exit status 2"
cli inspect --json
expect_rc 2
expect_stderr "--config"

echo "cli: OK ($((SECONDS - started)) s)"

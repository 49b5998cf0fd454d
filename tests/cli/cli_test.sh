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
# output, and exits 1. Takes 15-40 s (each command that starts pools, about
# 0.4 s on an idle machine).
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

check "--help exits 0, lists doctor, inspect and run, and the global options --version, --log-level, --verbose"
cli --help
expect_rc 0
expect_stdout "usage: snakepit [options] <command>"
for command in doctor inspect run; do
  grep -qE "^  $command " "$out" || fail "--help does not list '$command'"
done
for option in --version --log-level --verbose; do
  grep -qE "^  $option( |$)" "$out" || fail "--help does not list '$option'"
done

check "'snakepit help' is 'snakepit --help'"
cli help
expect_rc 0
expect_stdout "usage: snakepit [options] <command>"

check "no arguments: usage on stderr, exit status 2"
cli
expect_rc 2
expect_stderr "usage: snakepit [options] <command>"

check "unknown command: exit status 2, named, nothing suggested when nothing is near"
cli frobnicate
expect_rc 2
expect_stderr "unknown command 'frobnicate'"
if grep -q "did you mean" "$err"; then fail "suggested something for 'frobnicate'"; fi

check "mistyped command: did you mean the nearest one"
cli inspcet --config x.json
expect_rc 2
expect_stderr "unknown command 'inspcet'; did you mean 'inspect'?"
cli dcotor
expect_rc 2
expect_stderr "unknown command 'dcotor'; did you mean 'doctor'?"

check "--version prints the project version"
cli --version
expect_rc 0
version=$(sed -nE 's/^project\(snakepit VERSION ([0-9.]+).*/\1/p' "$repo/CMakeLists.txt")
[[ -n "$version" ]] || fail "cannot read the project version from $repo/CMakeLists.txt"
[[ "$(cat "$out")" == "snakepit $version" ]] || fail "expected 'snakepit $version'"

for command in doctor inspect run; do
  check "$command --help exits 0, starts with 'usage: snakepit $command' and lists the global options"
  cli "$command" --help
  expect_rc 0
  [[ "$(head -n1 "$out")" == "usage: snakepit $command"* ]] || fail "first line is not 'usage: snakepit $command ...'"
  expect_stdout "--log-level"

  check "$command with an unknown option: exit status 2, the option named"
  cli "$command" --no-such-option
  expect_rc 2
  expect_stderr "snakepit $command: unknown option '--no-such-option'"
done

check "mistyped flag: did you mean the nearest flag of that command"
cli run --config x.json --wrokers 2 p add
expect_rc 2
expect_stderr "snakepit run: unknown option '--wrokers'; did you mean '--workers'?"
cli doctor --jsno
expect_rc 2
expect_stderr "snakepit doctor: unknown option '--jsno'; did you mean '--json'?"
cli --log-levle debug doctor
expect_rc 2
expect_stderr "snakepit: unknown option '--log-levle'; did you mean '--log-level'?"

check "a command's option before the command: exit status 2, says where it goes"
cli --workers 1 run --config x.json p add
expect_rc 2
expect_stderr "'--workers' is an option of 'snakepit run': put it after 'run'"

check "--log-level with a bad level: exit status 2, the levels listed"
cli --log-level loud doctor
expect_rc 2
expect_stderr "--log-level"
expect_stderr "trace,debug,info,warn,error,off"

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

# The transport a pool would use: the library's worker package (ctest's
# SNAKEPIT_PYTHONPATH, the build tree) has the native module built for
# /usr/bin/python3.
check "doctor: the native transport imports and a pool would use it"
cli doctor
expect_rc 0
expect_stdout "native        imports (snakepit_worker._native)"
expect_stdout 'transport     shm: worker_transport "auto" takes the native transport, which imports here, with calls over shared memory'

check "doctor --json: transport.auto is shm, both transports import, shared memory can be had"
cli doctor --json
expect_rc 0
py <<'EOF2'
import json, sys
d = json.load(open(sys.argv[1]))
t = d["transport"]
assert t["auto"] == "shm", f"transport is {t}"
assert t["shm"] == {"available": True, "error": None}, f"transport.shm is {t['shm']}"
assert t["native"] == {"imports": True, "error": None}, f"transport.native is {t['native']}"
assert t["grpcio"] == {"imports": True, "error": None}, f"transport.grpcio is {t['grpcio']}"
errors = d["environment"]["import_errors"]
assert not any(m.startswith("snakepit_worker") for m in errors), f"the transport probes show in import_errors: {errors}"
EOF2

# An interpreter on which grpc does not import: /usr/bin/python3 with a
# module named grpc that raises first on its path (a wrapper script, since
# workers and the probe do not inherit the host's PYTHONPATH). The native
# transport still runs there, so the doctor must not say pools cannot.
mkdir -p "$tmp/nogrpc/grpc"
echo 'raise ImportError("grpc hidden by cli_test.sh")' >"$tmp/nogrpc/grpc/__init__.py"
nogrpc_python=$tmp/python-without-grpc
cat >"$nogrpc_python" <<EOF2
#!/bin/sh
PYTHONPATH=$tmp/nogrpc\${PYTHONPATH:+:\$PYTHONPATH} exec /usr/bin/python3 "\$@"
EOF2
chmod +x "$nogrpc_python"
check "doctor without grpc: native transport used, grpcio named as failing, no 'cannot run' warning"
cli doctor --python "$nogrpc_python"
expect_rc 0
expect_stdout "grpc          not importable: grpc hidden by cli_test.sh"
expect_stdout 'transport     shm: worker_transport "auto" takes the native transport, which imports here, with calls over shared memory (worker_transport "grpcio" would fail: grpc hidden by cli_test.sh)'
if grep -q "cannot run" "$out"; then fail "the doctor says a transport cannot run although pools run on native"; fi

check "... and a pool does run there (through the native transport)"
echo "{\"pools\": [{\"name\": \"p\", \"pool_size\": 1, \"python\": \"$nogrpc_python\"}]}" >"$tmp/nogrpc.json"
cli --log-level debug run --config "$tmp/nogrpc.json" p add '{"a":2,"b":3}'
expect_rc 0
[[ "$(cat "$out")" == "5" ]] || fail "stdout is not exactly '5'"
expect_stderr "native transport"

# A worker package without the native module: auto falls back to grpcio.
if [[ -n "${SNAKEPIT_PYTHONPATH:-}" && -d "$SNAKEPIT_PYTHONPATH/snakepit_worker" ]]; then
  check "doctor with a worker package that has no native module: grpcio, and why"
  mkdir -p "$tmp/nonative"
  cp -r "$SNAKEPIT_PYTHONPATH/snakepit_worker" "$tmp/nonative/"
  rm -f "$tmp/nonative/snakepit_worker"/_native*.so
  SNAKEPIT_PYTHONPATH=$tmp/nonative cli doctor
  expect_rc 0
  expect_stdout "native        does not import: "
  expect_stdout 'transport     grpcio: worker_transport "auto" falls back to grpcio: the native transport does not import here'

  check "doctor with neither transport: says no worker can start"
  SNAKEPIT_PYTHONPATH=$tmp/nonative cli doctor --python "$nogrpc_python" --json
  expect_rc 0
  py <<'EOF2'
import json, sys
t = json.load(open(sys.argv[1]))["transport"]
assert t["auto"] is None, f"transport is {t}"
assert "no worker can start" in t["reason"], f"transport.reason is {t['reason']!r}"
assert "grpc hidden by cli_test.sh" in t["grpcio"]["error"], f"transport.grpcio is {t['grpcio']}"
EOF2
fi

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

check "run: the progress line on stderr, one line per step when piped"
cli run --config "$config" p add '{"a":2,"b":3}'
expect_rc 0
[[ "$(grep '^starting' "$err")" == $'starting pool p: 0/1 workers ready\nstarting pool p: 1/1 workers ready' ]] ||
  fail "expected the two progress lines 'starting pool p: 0/1 workers ready' and '... 1/1 ...'"

# `script` gives the tool a terminal: the line is rewritten in place.
if command -v script >/dev/null; then
  check "run on a terminal: the progress line rewritten in place (carriage returns), then a newline"
  last_cmd="script -qec 'snakepit run --config $config p add ...' /dev/null"
  set +e
  timeout -k 5 60 script -qec "$(printf '%q ' "$snakepit" run --config "$config" p add '{"a":2,"b":3}')" /dev/null \
    >"$out" 2>"$err" </dev/null
  rc=$?
  set -e
  expect_rc 0
  py <<'EOF2'
import sys
data = open(sys.argv[1], "rb").read()
# On a terminal "\n" reads back as "\r\n": a line per step would show as
# "ready\r\nstarting".
want = b"\rstarting pool p: 0/1 workers ready\rstarting pool p: 1/1 workers ready\r\n"
assert want in data, f"expected {want!r} on the terminal, got {data!r}"
EOF2
fi

check "--log-level debug, before the command: the worker's debug records show; the call still prints 5"
cli --log-level debug run --config "$config" p add '{"a":2,"b":3}'
expect_rc 0
[[ "$(cat "$out")" == "5" ]] || fail "stdout is not exactly '5'"
grep -qE '\[debug\] \[p-0 pid [0-9]+\] snakepit_worker: ready' "$err" || fail "no worker 'ready' record at debug"

check "--log-level debug after the command works too"
cli run --config "$config" p add '{"a":2,"b":3}' --log-level debug
expect_rc 0
expect_stderr "[debug]"

for level in "" "--verbose" "--log-level info" "--log-level warn"; do
  check "run ${level:-(no level)}: no debug line"
  # shellcheck disable=SC2086 # $level is zero or two words
  cli $level run --config "$config" p add '{"a":2,"b":3}'
  expect_rc 0
  if grep -q '\[debug\]' "$err"; then fail "a debug line shows"; fi
done

check "--verbose (before the command): the library's info lines show"
cli --verbose run --config "$config" p add '{"a":2,"b":3}'
expect_rc 0
expect_stderr "[info] pool 'p' ready"

# A pool of 16 workers: --workers 1 starts only one of them.
cat >"$tmp/big.json" <<'EOF2'
{"pools": [{"name": "big", "profile": "process", "pool_size": 16}]}
EOF2
check "run --workers 1 on a 16-worker pool: one worker starts (progress and the workers' log)"
run_started=$SECONDS
cli run --workers 1 --log-level debug --config "$tmp/big.json" big add '{"a":2,"b":3}'
expect_rc 0
echo "  (took $((SECONDS - run_started)) s)"
[[ "$(cat "$out")" == "5" ]] || fail "stdout is not exactly '5'"
expect_stderr "starting pool big: 1/1 workers ready"
if grep -q '/16' "$err"; then fail "the progress line counts 16 workers"; fi
started=$(grep -cE 'snakepit_worker: ready: pid' "$err" || true)
[[ "$started" -eq 1 ]] || fail "$started workers said ready, expected 1"
expect_stderr "pool 'big': 1 of 1 workers ready"

check "run --workers 0 and --workers abc: exit status 2, the range named"
cli run --workers 0 --config "$tmp/big.json" big add
expect_rc 2
expect_stderr "--workers: must be a whole number from 1 to 1024, got '0'"
cli run --workers abc --config "$tmp/big.json" big add
expect_rc 2
expect_stderr "--workers: must be a whole number from 1 to 1024, got 'abc'"

# Attachments through the showcase adapter's echo_attachments, which
# returns the call's attachments as its reply's: bytes out equal bytes in,
# an empty one included, in order.
head -c 300000 /dev/urandom >"$tmp/big.bin"
: >"$tmp/empty.bin"
printf 'snakepit' >"$tmp/small.bin"
check "run --attach x3 --save-attachments DIR: the reply's attachments written, byte for byte, in order"
cli run --config "$config" --attach "$tmp/big.bin" --attach "$tmp/empty.bin" --attach "$tmp/small.bin" \
  --save-attachments "$tmp/saved/here" p echo_attachments
expect_rc 0
py <<'EOF2'
import json, sys
d = json.load(open(sys.argv[1]))
assert d == {"count": 3, "sizes": [300000, 0, 8]}, f"the adapter saw {d}"
EOF2
sent=(big empty small)
for i in 0 1 2; do
  cmp -s "$tmp/${sent[$i]}.bin" "$tmp/saved/here/attachment-$i.bin" || fail "attachment-$i.bin differs from ${sent[$i]}.bin"
done
[[ ! -e "$tmp/saved/here/attachment-3.bin" ]] || fail "a fourth attachment was written"
expect_stderr "3 attachments saved: $tmp/saved/here/attachment-0.bin $tmp/saved/here/attachment-1.bin"

check "run --save-attachments on a reply without attachments: says so, exit status 0"
cli run --config "$config" --save-attachments "$tmp/saved/none" p add '{"a":2,"b":3}'
expect_rc 0
expect_stderr "the reply has no attachments; nothing written in $tmp/saved/none"

check "run --attach a missing file: exit status 1, the path named, no worker started"
cli run --config "$config" --attach "$tmp/small.bin" --attach "$tmp/no-such-file.bin" p echo_attachments
expect_rc 1
expect_stderr "snakepit run: --attach: cannot read '$tmp/no-such-file.bin': No such file or directory"
if grep -q "starting pool" "$err"; then fail "workers started although an attachment was missing"; fi

check "run --save-attachments into a folder that cannot be made: exit status 1, the path named, no worker started"
cli run --config "$config" --save-attachments "$tmp/small.bin/sub" p echo_attachments
expect_rc 1
expect_stderr "snakepit run: --save-attachments: cannot create folder '$tmp/small.bin/sub'"
if grep -q "starting pool" "$err"; then fail "workers started although the folder is unusable"; fi

check "run --stream: a generator command's chunks, one JSON line each, in order"
cli run --config "$config" --stream p count '{"n": 4}'
expect_rc 0
[[ $(cat "$out") == $'{"i":0}\n{"i":1}\n{"i":2}\n{"i":3}' ]] || fail "stdout: $(cat "$out")"

check "run on a generator command without --stream: FAILED_PRECONDITION naming --stream"
cli run --config "$config" p count '{"n": 2}'
expect_rc 1
expect_stderr "(snakepit run --stream)"

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

check "inspect text: the per-worker table (WORKER PID STATE LOAD REQUESTS RSS PSS AGE KEYS) and a ready row"
grep -qE '^  WORKER +PID +STATE +LOAD +REQUESTS +RSS +PSS +AGE +KEYS$' "$out" || fail "no per-worker table header"
grep -qE '^  0 +[1-9][0-9]* +ready +0/2 ' "$out" || fail "no row for the thread pool's ready worker (load 0/2)"
grep -qE '^pool t  thread profile  1 workers x 2  capacity 2 ' "$out" || fail "no header line for pool t"

check "inspect without --config: exit status 2"
cli inspect --json
expect_rc 2
expect_stderr "--config"

echo "cli: OK ($((SECONDS - started)) s)"

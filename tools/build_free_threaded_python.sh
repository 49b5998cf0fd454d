#!/usr/bin/env bash
# Builds a free-threaded CPython 3.13 ("3.13t", configure --disable-gil)
# from Debian's source package, once, into a cache folder. Debian bookworm
# ships no free-threaded interpreter; sid's python3.13 source package builds
# one with about 9 minutes of CPU time (docs/free-threading.md).
#
#   tools/build_free_threaded_python.sh              # build unless present
#   tools/build_free_threaded_python.sh --rebuild    # build again anyway
#   tools/build_free_threaded_python.sh --version 3.13.15-1   # that source only
#
# The prefix is ${SNAKEPIT_CACHE_DIR:-$HOME/.cache/snakepit-cpp}/cpython-3.13t
# and the interpreter <prefix>/bin/python3.13t. When it is there, runs, and
# was built with the patches in tools/patches (<prefix>/snakepit-patches
# lists them), the script prints its path and exits at once. Otherwise it
#   1. installs the build dependencies that are missing (apt-get),
#   2. indexes sid's deb-src with a private apt configuration under the cache
#      folder (the system's sources, lists and hooks are left alone) and
#      fetches the newest python3.13 source the mirror serves,
#   3. builds the upstream (.orig) tarball, with tools/patches/cpython-3.13-*
#      applied, in a scratch folder of the cache,
#   4. stages the install in the cache folder, adds Debian's pure-Python
#      protobuf to it (its .py files only: Debian's compiled parts are built
#      for the GIL interpreter), checks the result, and renames it into
#      place, so an interrupted build never leaves an interpreter that
#      looks complete.
# Progress goes to stderr and the build's output to <cache>/cpython-3.13t.log;
# stdout gets one line, the interpreter's path. Exits 1 naming the step that
# failed. $SNAKEPIT_DEBIAN_MIRROR picks the mirror (http://deb.debian.org/debian).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${SNAKEPIT_CACHE_DIR:-$HOME/.cache/snakepit-cpp}
prefix=$cache/cpython-3.13t
python=$prefix/bin/python3.13t
log=$cache/cpython-3.13t.log
mirror=${SNAKEPIT_DEBIAN_MIRROR:-http://deb.debian.org/debian}
me=build_free_threaded_python

# What configure needs for ssl, zlib, ctypes, sqlite3, bz2, lzma, dbm.gnu,
# dbm.ndbm, readline, curses and uuid, and the protobuf this script copies.
BUILD_PACKAGES=(gcc make patch pkg-config xz-utils libssl-dev zlib1g-dev libffi-dev libsqlite3-dev libbz2-dev
  liblzma-dev libgdbm-dev libgdbm-compat-dev libreadline-dev libncurses-dev uuid-dev python3-protobuf)
# Imported by the check before the install: a build without one of them is
# refused rather than installed.
REQUIRED_MODULES=(ssl zlib ctypes sqlite3 bz2 lzma dbm.gnu dbm.ndbm readline curses _uuid decimal google.protobuf)

rebuild=0
versions=()
while (($# > 0)); do
  case $1 in
    --rebuild) rebuild=1 ;;
    --version)
      versions=("${2:?--version needs a Debian source version, e.g. 3.13.15-1}")
      shift
      ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "$me: unknown argument '$1' (see --help)" >&2
      exit 2
      ;;
  esac
  shift
done

# Our fixes to CPython 3.13 (each file says what and why), and the record of
# them that a build leaves in the prefix: one "<name> <sha256>" line each.
patches=("$root"/tools/patches/cpython-3.13-*.patch)
stamp=$prefix/snakepit-patches
expected_stamp() {
  local p
  for p in "${patches[@]}"; do
    echo "${p##*/} $(sha256sum <"$p" | cut -d' ' -f1)"
  done
}

say() { echo "$me: $*" >&2; }
fail() {
  say "error: $*"
  exit 1
}

# The interpreter at $1 runs and is a free-threaded build.
works() {
  [[ -x $1 ]] && "$1" -I -S -c 'import sys, sysconfig; sys.exit(not sysconfig.get_config_var("Py_GIL_DISABLED"))' \
    >/dev/null 2>&1
}

# The interpreter in the prefix works and has today's patches.
current() {
  works "$python" && [[ -f $stamp && "$(cat "$stamp")" == "$(expected_stamp)" ]]
}

# Scratch folders: the build, the staged install (on the prefix's file
# system, so that moving it into place is a rename) and a replaced prefix.
# Removed on exit, and by the next run where a killed one left them.
work=$cache/.cpython-3.13t.work
stage=$cache/.cpython-3.13t.stage
old=$cache/.cpython-3.13t.old
lock=$cache/cpython-3.13t.lock

if ((!rebuild)) && current; then
  # Leftovers of a killed rebuild, unless a build is running (it holds the lock).
  if [[ -e $work || -e $stage || -e $old ]]; then
    (flock -n 9 && rm -rf "$work" "$stage" "$old") 9>"$lock" || true
  fi
  echo "$python"
  exit 0
fi

mkdir -p "$cache"
# One build at a time per cache folder; a second run waits, then finds it.
exec 9>"$lock"
if ! flock -n 9; then
  say "another build holds $lock; waiting"
  flock 9
  if ((!rebuild)) && current; then
    echo "$python"
    exit 0
  fi
fi

if ((!rebuild)) && works "$python"; then
  say "$python lacks the patches in $root/tools/patches (or older versions of them): rebuilding"
fi
started=$(date +%s)
rm -rf "$work" "$stage" "$old"  # the lock says no other run uses them
trap 'rm -rf "$work" "$stage" "$old"' EXIT
mkdir "$work"
: >"$log"

# Runs a step with its output in the log; on failure, says which step and
# shows the end of the log.
step() {
  local name=$1 begun=$SECONDS
  shift
  say "$name"
  echo "=== $name: $*" >>"$log"
  if ! "$@" >>"$log" 2>&1 </dev/null; then
    tail -n 25 "$log" >&2
    fail "$name failed; the whole output is in $log"
  fi
  echo "=== $name: done in $((SECONDS - begun)) s" >>"$log"
}

"$root/scripts/ensure_packages.sh" "$me" "${BUILD_PACKAGES[@]}" >&2 ||
  fail "installing the build dependencies (${BUILD_PACKAGES[*]}) failed"

# A private apt configuration: its own sources list (sid's deb-src only),
# lists and caches under the cache folder, and none of the system's
# update hooks. Read after the system's configuration (-c), it overrides it.
apt_dir=$cache/apt
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror sid main" >"$apt_dir/sources.list"
cat >"$apt_dir/apt.conf" <<EOF
Dir::Etc::sourcelist "$apt_dir/sources.list";
Dir::Etc::sourceparts "/nonexistent";
Dir::State::Lists "$apt_dir/lists";
Dir::Cache "$apt_dir/cache";
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT::Sandbox::User "$(id -un)";
#clear APT::Update::Pre-Invoke;
#clear APT::Update::Post-Invoke;
#clear APT::Update::Post-Invoke-Success;
EOF
apt_private=(-c "$apt_dir/apt.conf")
step "indexing sid's sources (private apt configuration in $apt_dir)" apt-get "${apt_private[@]}" -q update

if ((${#versions[@]} == 0)); then
  mapfile -t versions < <(apt-cache "${apt_private[@]}" showsrc python3.13 2>>"$log" |
    awk '/^Version:/ {print $2}' | sort -rVu)
  ((${#versions[@]} > 0)) || fail "sid's index at $mirror lists no python3.13 source package"
fi

# Not every version in the index is on the mirror: try them newest first.
mkdir -p "$work/download"
served=
for version in "${versions[@]}"; do
  say "fetching python3.13 $version"
  if (cd "$work/download" && apt-get "${apt_private[@]}" -q source --download-only "python3.13=$version") \
    >>"$log" 2>&1 </dev/null; then
    served=$version
    break
  fi
  say "python3.13 $version is not served"
  rm -f "$work/download/"*
done
[[ -n $served ]] || fail "no python3.13 source could be fetched from $mirror (tried ${versions[*]}); see $log"

tarballs=("$work/download/"python3.13_*.orig.tar.*)
step "unpacking ${tarballs[0]##*/}" tar -xf "${tarballs[0]}" -C "$work"
sources=$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'Python-*' | head -n 1)
[[ -n $sources ]] || fail "${tarballs[0]##*/} holds no Python-* folder"

cd "$sources"
for p in "${patches[@]}"; do
  step "applying ${p##*/}" patch -p1 --forward -i "$p"
done
# Without CPython's own test suite (--disable-test-modules): nothing here
# runs it, and it would add 150 MB to the prefix and minutes to the install.
step "configure --disable-gil" ./configure --disable-gil --prefix="$prefix" --without-ensurepip --disable-test-modules
step "make -j$(nproc)" make -j"$(nproc)"
step "make install (staged in $stage)" make install DESTDIR="$stage"

staged=$stage$prefix
site=lib/python3.13t/site-packages
[[ -d $staged/$site ]] || fail "the staged install has no $site"

# Debian's protobuf, pure Python: its .py files and metadata, without the
# compiled modules (built for Debian's GIL interpreter), so the free-threaded
# one uses the "python" implementation and the GIL stays off.
protobuf=$(/usr/bin/python3 -c 'import google.protobuf as p, os; print(os.path.dirname(p.__file__))' 2>>"$log") ||
  fail "Debian's python3 cannot import google.protobuf (apt-get install python3-protobuf)"
dist_packages=${protobuf%/google/protobuf}
egg_info=$(cd "$dist_packages" && compgen -G 'protobuf-*.egg-info' | head -n 1) || true
step "adding Debian's pure-Python protobuf from $dist_packages" \
  tar -C "$dist_packages" -cf "$work/protobuf.tar" --exclude='*.so' --exclude=__pycache__ google/protobuf ${egg_info:+"$egg_info"}
step "unpacking it into $site" tar -C "$staged/$site" -xf "$work/protobuf.tar"
step "compiling it" "$staged/bin/python3.13t" -I -m compileall -q -j0 -d "$prefix/$site/google" "$staged/$site/google"

# The staged interpreter finds its library relative to itself.
check="import sys, sysconfig
assert sysconfig.get_config_var('Py_GIL_DISABLED'), 'not a free-threaded build'
assert not sys._is_gil_enabled(), 'the GIL is on at start-up'
import importlib
missing = []
for m in sys.argv[1:]:
    try:
        importlib.import_module(m)
    except Exception as e:
        missing.append(f'{m} ({e})')
assert not missing, 'modules that do not import: ' + ', '.join(missing)
assert not sys._is_gil_enabled(), 'an import turned the GIL on'
print(sys.version)"
step "checking the staged interpreter (${REQUIRED_MODULES[*]})" \
  "$staged/bin/python3.13t" -I -c "$check" "${REQUIRED_MODULES[@]}"

expected_stamp >"$staged/snakepit-patches"

# Into place: renames within the cache folder.
if [[ -e $prefix ]]; then mv "$prefix" "$old"; fi
mv "$staged" "$prefix"
works "$python" || fail "$python does not run after the install"
say "built CPython $("$python" -c 'import platform; print(platform.python_version())') (Debian source $served) in $(($(date +%s) - started)) s"
echo "$python"

#!/usr/bin/env bash
# Installs whichever of the named Debian packages are missing, with apt-get
# (through sudo when not root). Idempotent: when every package is already
# installed it only asks dpkg (well under a second) and changes nothing.
#
#   scripts/ensure_packages.sh LABEL PACKAGE...
#
# LABEL starts each message ("setup: all 22 packages present").
set -euo pipefail
label=$1
shift

# dpkg-query exits non-zero when any package is unknown to dpkg; that just
# means "missing", so its status is ignored here.
installed=$( (dpkg-query -W -f='${Package} ${db:Status-Status}\n' "$@" 2>/dev/null || true) |
  awk '$2 == "installed" {print $1}')
missing=()
for p in "$@"; do
  grep -qx "$p" <<<"$installed" || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  echo "$label: all $# packages present"
  exit 0
fi

echo "$label: installing ${missing[*]}"
sudo=()
if [[ $(id -u) -ne 0 ]]; then sudo=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null

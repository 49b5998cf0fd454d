#!/bin/sh
# An interpreter on which the native worker transport does not import:
# Debian's python3 with snakepit_worker._native blocked (None in sys.modules
# makes importing it raise ImportError). The host runs it as
# "<this> -m snakepit_worker <flags>".
if [ "$1" = "-m" ]; then shift 2; fi
exec /usr/bin/python3 -c 'import runpy, sys
sys.modules["snakepit_worker._native"] = None
runpy.run_module("snakepit_worker", run_name="__main__", alter_sys=True)' "$@"

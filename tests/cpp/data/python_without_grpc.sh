#!/bin/sh
# An interpreter that cannot import grpc: Debian's python3 with site-packages
# disabled (-S), so /usr/lib/python3/dist-packages is not on sys.path.
exec /usr/bin/python3 -S "$@"

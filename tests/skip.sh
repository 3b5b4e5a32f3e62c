#!/bin/sh
# Stands in for a test whose tool this machine lacks: meson reports it as
# skipped (exit 77), and the log says why.
# Usage: skip.sh REASON...
echo "skipped: $*"
exit 77

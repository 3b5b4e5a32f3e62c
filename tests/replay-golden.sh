#!/bin/bash
# The recorded dumps under tests/data/replay/ replayed, each against its
# golden output: the parsers, the filter and the renderers checked against
# real kernels' replies without one. -P and -n keep the live system (its
# processes, /etc/services) out of the output. Each line of CASES is a
# golden file, then the options that print it from its recording.
#
# Usage: replay-golden.sh SOCKSTAT DATA_DIR
set -u
sockstat=$(realpath "$1")
dir="$2/replay"
fail=0
while read -r golden rec args; do
	[ -z "$golden" ] || [ "${golden#\#}" != "$golden" ] && continue
	# shellcheck disable=SC2086
	if ! out=$(cd "$dir" && "$sockstat" $args --replay "$rec" 2>&1); then
		echo "FAIL: $golden: sockstat $args --replay $rec exited non-zero: $out"
		fail=1
	elif ! diff -u "$dir/$golden" <(printf '%s\n' "$out"); then
		echo "FAIL: $golden differs (sockstat $args --replay $rec)"
		fail=1
	else
		echo "ok: $golden"
	fi
done < "$dir/CASES"
exit $fail

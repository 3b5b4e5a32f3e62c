#!/bin/bash
# The protocol table (src/proto.c) is the only list of protocols: no other
# source file names a /proc/net file, an inet_diag protocol number, a
# Proto column spelling or a protocol constant. Each pattern must match
# proto.c itself, so a pattern that has rotted into matching nothing fails
# here instead of passing silently. Comment lines are not code and are
# skipped.
#
# Usage: one-table.sh SOURCE_ROOT
set -u
src="$1/src"
fail=0

# check NAME REGEX [ALLOWED_FILE...]: REGEX may match in proto.[ch] and the
# allowed files only.
check() {
	local name="$1" re="$2"
	shift 2
	if ! grep -qE "$re" "$src/proto.c" "$src/proto.h"; then
		echo "FAIL: pattern for $name matches nothing in proto.c: $re"
		fail=1
		return
	fi
	local f base allowed hits
	for f in "$src"/*.c "$src"/*.h; do
		base=$(basename "$f")
		[ "$base" = proto.c ] || [ "$base" = proto.h ] && continue
		allowed=0
		for a in "$@"; do
			[ "$base" = "$a" ] && allowed=1
		done
		# Comment lines may speak of protocols; code may not.
		hits=$(grep -nE "$re" "$f" | grep -vE '^[0-9]+:[[:space:]]*(/\*|\*|//)')
		[ -z "$hits" ] && continue
		if [ $allowed = 1 ]; then
			echo "note: $base still names $name (to be moved to the table):"
		else
			echo "FAIL: $base names $name outside the protocol table:"
			fail=1
		fi
		echo "$hits" | sed 's/^/    /'
	done
}

check "a /proc/net file" '"[^"]*net/(tcp|udp|udplite|raw|unix|packet)6?"'
check "an inet_diag protocol" '\bIPPROTO_(TCP|UDP|UDPLITE|RAW|ICMP|ICMPV6|SCTP|MPTCP|DCCP)\b'
check "a UNIX Proto spelling" '"u_(str|dgr|seq)"'
check "a Proto spelling of an inet family" '"(tcp|udp|udplite|raw)6"'
check "a services protocol" '"(tcp|udp)"'
# The enum values themselves: only the table, and (until they ask the
# table for option letters and per-protocol details) options and render.
check "a protocol constant" '\bPROTO_(TCP|UDP|UDPLITE|RAW|UNIX|PACKET)\b'

if [ $fail = 0 ]; then
	echo "ok: the protocol table is the only list"
fi
exit $fail

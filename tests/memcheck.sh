#!/bin/bash
# Runs the real sockstat under valgrind's memcheck on a small population
# of sockets in a private network namespace, and fails on any memory error
# or any definite or indirect leak. The unit tests run under the
# sanitizers; this catches what only the whole program does (the threads
# of the owners scan, the real netlink replies, exit paths).
#
# usage: memcheck.sh SOCKSTAT VALGRIND
# Exit 77 (meson: skipped) with a reason when it cannot run here.
set -u

sockstat=$1
valgrind=$2

if [ -z "${MEMCHECK_IN_NETNS:-}" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "memcheck: skipped: needs root for a private network namespace"
		exit 77
	fi
	# A binary built with AddressSanitizer cannot run under valgrind.
	if grep -qa '__asan_init' "$sockstat"; then
		echo "memcheck: skipped: $sockstat is built with AddressSanitizer"
		exit 77
	fi
	MEMCHECK_IN_NETNS=1 exec unshare -n bash "$0" "$@"
	echo "memcheck: unshare -n failed" >&2
	exit 1
fi

set -e
ip link set lo up

work=$(mktemp -d)
helper=
cleanup() {
	if [ -n "$helper" ]; then
		kill "$helper" 2>/dev/null || true
		wait "$helper" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

# A few sockets of every kind, held open until the helper is killed: TCP
# listening and established over IPv4 and IPv6, UDP, RAW, UNIX (named,
# abstract, a pair) and a packet socket.
mkfifo "$work/ready"
python3 - "$work" > "$work/ready" <<'PY' &
import os, socket, sys, time
d = sys.argv[1]
keep = []
def k(s):
    keep.append(s)
    return s
l = k(socket.socket()); l.bind(("127.0.0.1", 0)); l.listen()
c = k(socket.create_connection(l.getsockname())); keep.append(l.accept()[0])
l6 = k(socket.socket(socket.AF_INET6)); l6.bind(("::1", 0)); l6.listen()
c6 = k(socket.create_connection(l6.getsockname()[:2])); keep.append(l6.accept()[0])
k(socket.socket(socket.AF_INET, socket.SOCK_DGRAM)).bind(("127.0.0.1", 0))
k(socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)).bind(("::1", 0))
k(socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP))
u = k(socket.socket(socket.AF_UNIX)); u.bind(os.path.join(d, "s\x1bock")); u.listen()
a = k(socket.socket(socket.AF_UNIX)); a.bind("\0memcheck"); a.listen()
keep.extend(socket.socketpair())
k(socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3)))
print("ready", flush=True)
time.sleep(3600)
PY
helper=$!
read -r -t 30 line < "$work/ready"
if [ "$line" != ready ]; then
	echo "memcheck: the socket helper did not start" >&2
	exit 1
fi

# What libbpf's loads (the BPF owners backend, as root) make valgrind
# misread; see the file.
supp=$(cd "$(dirname "$0")" && pwd)/valgrind-libbpf.supp
status=0
for args in -tuwxa -tuwxaj -s; do
	log="$work/valgrind$args.log"
	rc=0
	"$valgrind" --tool=memcheck --leak-check=full --error-exitcode=99 \
		--errors-for-leak-kinds=definite,indirect \
		--show-leak-kinds=definite,indirect \
		--suppressions="$supp" \
		--log-file="$log" \
		"$sockstat" $args > "$work/out" 2> "$work/err" || rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "memcheck: sockstat $args: exit status $rc" >&2
		cat "$work/err" "$log" >&2
		status=1
	elif ! grep -q 'ERROR SUMMARY: 0 errors' "$log"; then
		echo "memcheck: sockstat $args: valgrind did not report a clean run" >&2
		cat "$log" >&2
		status=1
	elif [ "$args" != -s ] && ! grep -q '@memcheck' "$work/out"; then
		# The population must be seen, or nothing was exercised.
		echo "memcheck: sockstat $args did not list the helper's sockets" >&2
		cat "$work/out" >&2
		status=1
	else
		echo "memcheck: sockstat $args: clean ($(wc -l < "$work/out") lines)"
	fi
done
exit $status

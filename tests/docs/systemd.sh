#!/bin/bash
# The systemd units under contrib/systemd: systemd-analyze accepts the
# service and the timer, the timer fires every 15 seconds, and the
# service's command line, run with the built binary and a scratch output
# path, writes metrics that promtool accepts (when it is installed).
# Usage: systemd.sh SOCKSTAT CONFIGURED_SERVICE TIMER [PROMTOOL]
set -u
sockstat=$1 service=$2 timer=$3 promtool=${4-}
fail=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sockstat-units.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

grep -qx 'OnUnitActiveSec=15s' "$timer" || { echo "the timer does not fire every 15 s"; fail=1; }
exec_line=$(sed -n 's/^ExecStart=//p' "$service")
case $exec_line in
*" --format=prometheus --output=/var/lib/node_exporter/textfile/sockstat.prom") ;;
*) echo "unexpected ExecStart: $exec_line"; fail=1 ;;
esac

# The service as installed would run, with the binary at its build path.
sed "s#^ExecStart=[^ ]*#ExecStart=$sockstat#" "$service" >"$tmp/sockstat-textfile.service"
cp "$timer" "$tmp/"
if command -v systemd-analyze >/dev/null; then
	if ! out=$(systemd-analyze verify --man=no "$tmp/sockstat-textfile.service" \
		"$tmp/sockstat-textfile.timer" 2>&1); then
		echo "systemd-analyze verify failed:"
		echo "$out"
		fail=1
	fi
else
	echo "systemd-analyze not found, the units are not verified"
fi

# The same arguments, the output moved to the scratch directory.
args=${exec_line#* }
args=${args%--output=*}
# shellcheck disable=SC2086
if ! "$sockstat" $args --output="$tmp/sockstat.prom"; then
	echo "the service's command failed"
	fail=1
elif [[ -n $promtool ]] && ! out=$("$promtool" check metrics <"$tmp/sockstat.prom" 2>&1); then
	echo "promtool rejects what the service writes:"
	echo "$out"
	fail=1
fi
exit $fail

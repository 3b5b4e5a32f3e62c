#!/bin/bash
# The man page must pass mandoc's lint at warning level with no output at
# all: a warning is a rendering problem some reader will see.
# Usage: man-lint.sh MANDOC MANPAGE
set -u
mandoc=$1 page=$2
out=$("$mandoc" -Tlint -Wwarning "$page" 2>&1)
rc=$?
if [[ $rc -ne 0 || -n $out ]]; then
	printf 'mandoc -Tlint -Wwarning %s: exit %d\n%s\n' "$page" "$rc" "$out"
	exit 1
fi
# Lint passes on an empty page too, so check that it has the sections the
# contract asks for.
for sec in NAME SYNOPSIS DESCRIPTION FILTERS 'JSON OUTPUT' 'EXIT STATUS' ENVIRONMENT \
	FILES EXAMPLES 'SEE ALSO'; do
	if ! grep -qx "\.Sh $sec" "$page"; then
		echo "man page has no section $sec"
		exit 1
	fi
done
echo "man page lints clean"

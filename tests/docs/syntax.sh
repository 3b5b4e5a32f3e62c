#!/bin/bash
# The zsh and fish completions must at least parse; the shells do not say
# so when they load a broken completion, they just complete nothing.
# Usage: syntax.sh ZSH FISH SOURCE_ROOT
set -u
zsh=$1 fish=$2 root=$3
fail=0
if ! out=$("$zsh" -n "$root/completions/_sockstat" 2>&1) || [[ -n $out ]]; then
	echo "zsh -n completions/_sockstat: $out"
	fail=1
fi
if ! out=$("$fish" --no-execute "$root/completions/sockstat.fish" 2>&1) || [[ -n $out ]]; then
	echo "fish --no-execute completions/sockstat.fish: $out"
	fail=1
fi
# A file that parses but was emptied would pass the checks above.
grep -q '^#compdef sockstat' "$root/completions/_sockstat" || { echo "_sockstat lacks #compdef"; fail=1; }
grep -q '^complete -c sockstat ' "$root/completions/sockstat.fish" || { echo "sockstat.fish completes nothing"; fail=1; }
[[ $fail -eq 0 ]] && echo "zsh and fish completions parse"
exit $fail

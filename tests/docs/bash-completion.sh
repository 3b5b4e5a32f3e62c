#!/bin/bash
# Drives the bash completion function as bash would (COMP_WORDS,
# COMP_CWORD, COMP_LINE, COMP_POINT) and checks the candidates a user
# would see. Run with and without bash-completion loaded: the file must
# not depend on it, and must not break when it is there.
# Usage: bash-completion.sh SOURCE_ROOT
set -u
root=$1
fail=0

# Completes the line $1 (the cursor at its end) into COMPREPLY.
complete_line() {
	COMP_LINE=$1
	COMP_POINT=${#COMP_LINE}
	read -ra COMP_WORDS <<<"$COMP_LINE"
	[[ $COMP_LINE == *' ' ]] && COMP_WORDS+=('')
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_sockstat sockstat "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
}

# expect LINE WORD...: each WORD must be among the candidates.
expect() {
	local line=$1 w c found
	shift
	complete_line "$line"
	for w in "$@"; do
		found=0
		for c in "${COMPREPLY[@]}"; do
			[[ $c == "$w" ]] && found=1
		done
		if [[ $found -eq 0 ]]; then
			echo "[$mode] '$line': '$w' not among: ${COMPREPLY[*]}"
			fail=1
		fi
	done
}

# exactly LINE WORD...: the candidates are these words, in any order.
exactly() {
	local line=$1
	shift
	complete_line "$line"
	local got want
	got=$(printf '%s\n' "${COMPREPLY[@]}" | sort)
	want=$(printf '%s\n' "$@" | sort)
	if [[ $got != "$want" ]]; then
		echo "[$mode] '$line': want {$*}, got {${COMPREPLY[*]}}"
		fail=1
	fi
}

states=(established syn-sent syn-recv fin-wait-1 fin-wait-2 time-wait closed close-wait
	last-ack listening closing all connected synchronized bucket big
	ESTABLISHED SYN_SENT SYN_RECV FIN_WAIT1 FIN_WAIT2 TIME_WAIT CLOSE CLOSE_WAIT
	LAST_ACK LISTEN CLOSING UNCONN)
preds=(state exclude sport dport src dst dev fwmark autobound cgroup)
kinds=(host docker: podman: containerd: crio: pod: lxc: nspawn: netns:)

checks() {
	exactly 'sockstat --fo' --format=
	exactly 'sockstat --format ' table json ndjson prometheus openmetrics
	exactly 'sockstat --format pr' prometheus
	exactly 'sockstat --count-by ' proto family state local-addr local-port peer-addr \
		peer-port peer-net direction port process user netns cgroup
	exactly 'sockstat --count-by state,pe' state,peer-addr state,peer-port state,peer-net
	exactly 'sockstat --count-by=proc' --count-by=process
	exactly 'sockstat --format nd' ndjson
	exactly 'sockstat --source ' auto netlink proc
	exactly 'sockstat -f ' inet inet6 unix packet netlink
	exactly 'sockstat --family ' inet inet6 unix packet netlink
	exactly 'sockstat -tf ' inet inet6 unix packet netlink
	exactly 'sockstat -f inet,u' inet,unix
	exactly 'sockstat -f inet,unix,p' inet,unix,packet
	exactly 'sockstat -t state ' "${states[@]}"
	exactly 'sockstat -t exclude ' "${states[@]}"
	exactly 'sockstat state est' established
	exactly 'sockstat --state ' "${states[@]}"
	exactly 'sockstat --state time' time-wait
	expect 'sockstat --user ' root
	expect 'sockstat --user ro' root
	expect 'sockstat --pid ' "$$" 1
	expect 'sockstat -' -t -u -a -l -n -N -j -s
	expect 'sockstat --' --tcp --udp --no-processes --json --net= --state= --version
	# A filter starts with a predicate, never with an operator.
	exactly 'sockstat -t ' "${preds[@]}"
	exactly 'sockstat ' "${preds[@]}"
	exactly 'sockstat -tan --port 22 ' "${preds[@]}"
	exactly 'sockstat -N foo ' "${preds[@]}"
	exactly 'sockstat -tN foo ' "${preds[@]}"
	exactly 'sockstat --format json -P ' "${preds[@]}"
	exactly 'sockstat --state listening ' "${preds[@]}"
	exactly 'sockstat -t a' autobound
	exactly 'sockstat -t dev lo' lo
	exactly 'sockstat -t fwmark ' 
	exactly 'sockstat -t n' 
	# After an expression the operators may follow; after one, a predicate or not.
	exactly 'sockstat -t sport = :22 ' "${preds[@]}" and or not
	exactly 'sockstat -t sport = :22 o' or
	exactly 'sockstat -t state established ' "${preds[@]}" and or not
	exactly 'sockstat -t sport = :22 and ' "${preds[@]}" not
	exactly 'sockstat -t not ' "${preds[@]}" not
	exactly 'sockstat -t dport ' 
	exactly 'sockstat -t cgroup ' 
	exactly 'sockstat --netns do' docker:
	exactly 'sockstat --netns p' podman: pod:
	# The netstat spellings of the states.
	exactly 'sockstat state EST' ESTABLISHED
	exactly 'sockstat -t exclude FIN' FIN_WAIT1 FIN_WAIT2
	exactly 'sockstat --state TIME' TIME_WAIT
	exactly 'sockstat --state LIS' LISTEN
	exactly 'sockstat --state=LIS' --state=LISTEN
	# "--format=json" split by COMP_WORDBREAKS into "--format" "=" "j".
	COMP_WORDS=(sockstat --format = j)
	COMP_CWORD=3 COMP_LINE='sockstat --format=j' COMP_POINT=19
	COMPREPLY=()
	_sockstat
	[[ ${COMPREPLY[*]} == json ]] || { echo "[$mode] '--format=j' split: got {${COMPREPLY[*]}}"; fail=1; }
	# After a split "--format=json" the filter's first word follows.
	COMP_WORDS=(sockstat --format = json '')
	COMP_CWORD=4 COMP_LINE='sockstat --format=json ' COMP_POINT=23
	COMPREPLY=()
	_sockstat
	[[ ${COMPREPLY[*]} == "${preds[*]}" ]] || { echo "[$mode] '--format=json ' split: got {${COMPREPLY[*]}}"; fail=1; }
	if [[ -n $ns ]]; then
		expect 'sockstat -N ' "$ns"
		expect 'sockstat --net ' "$ns"
		exactly "sockstat -N ${ns%?}" "$ns"
		expect 'sockstat --netns ' "${kinds[@]}" "$ns"
		exactly "sockstat --netns ${ns%?}" "$ns"
	fi
}

# A namespace of our own under /run/netns, removed whatever happens.
ns=''
if [[ $(id -u) -eq 0 ]] && command -v ip >/dev/null; then
	ns=sockstat-docs-$$
	if ip netns add "$ns"; then
		trap 'ip netns delete "$ns" 2>/dev/null' EXIT
	else
		echo "ip netns add failed; not checking -N"
		ns=''
	fi
else
	echo "not root: not checking -N namespace names"
fi

# In a subshell each, so that the two modes do not see each other's functions.
mode=plain
( source "$root/completions/sockstat.bash" || exit 1
  [[ $(complete -p sockstat) == *'-F _sockstat'* ]] || { echo "no 'complete -F _sockstat sockstat'"; exit 1; }
  checks; exit $fail ) || fail=1

bc=/usr/share/bash-completion/bash_completion
if [[ -r $bc ]]; then
	mode=bash-completion
	( source "$bc" >/dev/null 2>&1; source "$root/completions/sockstat.bash" || exit 1
	  checks; exit $fail ) || fail=1
else
	echo "no $bc: checked without bash-completion only"
fi

# fish, kept in step: the same first words, operators and state spellings.
fish_exactly() {
	local line=$1 got want
	shift
	got=$(fish --no-config -c "source '$root/completions/sockstat.fish'; complete -C'$line'" | cut -f1 | sort)
	want=$(printf '%s\n' "$@" | sort)
	if [[ $got != "$want" ]]; then
		echo "[fish] '$line': want {$*}, got {$(echo $got)}"
		fail=1
	fi
}
if command -v fish >/dev/null; then
	fish_exactly 'sockstat -t ' "${preds[@]}"
	fish_exactly 'sockstat -N foo ' "${preds[@]}"
	fish_exactly 'sockstat -t sport = :22 ' "${preds[@]}" and or not
	fish_exactly 'sockstat -t sport = :22 and ' "${preds[@]}" not
	fish_exactly 'sockstat state EST' ESTABLISHED
	fish_exactly 'sockstat --state TIME' TIME_WAIT
	fish_exactly 'sockstat -t dport '
	fish_exactly 'sockstat -t cgroup '
	fish_exactly 'sockstat --netns do' docker:
else
	echo "no fish: its completion is not driven here"
fi

[[ $fail -eq 0 ]] && echo "bash completion offers what it should"
exit $fail

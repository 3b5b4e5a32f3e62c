# bash completion for sockstat(8).
#
# Self-contained: it does not need bash-completion's helpers, so it works
# when sourced on its own, and it copes with COMP_WORDBREAKS splitting
# "--format=json" into "--format" "=" "json" as well as with a bash where
# '=' does not break words. Keep the option lists in step with
# "sockstat --help"; tests/docs/options.sh checks that they are.

_sockstat_states='established syn-sent syn-recv fin-wait-1 fin-wait-2
	time-wait closed close-wait last-ack listening closing
	all connected synchronized bucket big'
# The netstat spellings, as the State column prints them; accepted too.
_sockstat_netstat_states='ESTABLISHED SYN_SENT SYN_RECV FIN_WAIT1 FIN_WAIT2
	TIME_WAIT CLOSE CLOSE_WAIT LAST_ACK LISTEN CLOSING UNCONN'

_sockstat_long='--tcp --udp --raw --unix --packet --mptcp --netlink --ipv4 --ipv6 --family=
	--all --listening --net= --all-netns --netns= --cgroup --source= --kill --dry-run
	--record= --replay= --numeric --resolve --processes
	--no-processes --owners= --extended --info --memory --timers --summary
	--no-header --json --format= --pid= --command= --user= --port=
	--state= --count-by= --top= --output= --watch --watch= --events --interval= --help --version'

_sockstat_short='-t -u -w -x -0 -M -4 -6 -f -a -l -N -K -n -r -p -P -e -i -m -o
	-s -H -j -h -V'

# The words a FILTER expression may start with; after an expression, the
# operators may follow too, and after an operator, a 'not'.
# The --count-by keys.
_sockstat_count_keys='proto family state local-addr local-port peer-addr peer-port peer-net direction port process user netns cgroup'

_sockstat_predicates='state exclude sport dport src dst dev fwmark autobound cgroup'

# What a --netns pattern may start with: the container kinds a namespace
# is named after, and the caller's own.
_sockstat_netns_kinds='host docker: podman: containerd: crio: pod: lxc: nspawn: netns:'

# Adds the words of $2 that start with $1 to COMPREPLY, each prefixed by $3.
_sockstat_add()
{
	local cur=$1 words=$2 prefix=${3-} w
	local IFS=$' \t\n'
	for w in $words; do
		[[ $w == "$cur"* ]] && COMPREPLY+=("$prefix$w")
	done
}

# Completes the value of an option that takes one; returns 1 for others.
_sockstat_value()
{
	local opt=$1 cur=$2
	case $opt in
	-f|--family)
		# A comma list: complete its last item, keep what precedes it.
		local head='' last=$cur
		if [[ $cur == *,* ]]; then
			head=${cur%,*},
			last=${cur##*,}
		fi
		_sockstat_add "$last" 'inet inet6 unix packet netlink' "$head"
		;;
	-N|--net)
		if [[ $cur == */* ]]; then
			local IFS=$'\n'
			COMPREPLY+=($(compgen -f -- "$cur"))
		else
			local ns
			for ns in /run/netns/*; do
				[[ -e $ns ]] || continue
				ns=${ns##*/}
				[[ $ns == "$cur"* ]] && COMPREPLY+=("$ns")
			done
		fi
		;;
	--netns)
		# The kinds (compopt keeps "docker:" open for the id), then ip netns names.
		_sockstat_add "$cur" "$_sockstat_netns_kinds"
		[[ ${#COMPREPLY[@]} -gt 0 ]] && compopt -o nospace 2>/dev/null
		local ns
		for ns in /run/netns/*; do
			[[ -e $ns ]] || continue
			ns=${ns##*/}
			[[ $ns == "$cur"* ]] && COMPREPLY+=("$ns")
		done
		;;
	--source)
		_sockstat_add "$cur" 'auto netlink proc'
		;;
	--owners)
		_sockstat_add "$cur" 'auto bpf proc'
		;;
	--record|--replay)
		local IFS=$'\n'
		COMPREPLY+=($(compgen -f -- "$cur"))
		;;
	--format)
		_sockstat_add "$cur" 'table json ndjson prometheus openmetrics'
		;;
	--count-by)
		# A comma list of keys: complete its last item, keep what precedes it.
		local khead='' klast=$cur
		if [[ $cur == *,* ]]; then
			khead=${cur%,*},
			klast=${cur##*,}
		fi
		_sockstat_add "$klast" "$_sockstat_count_keys" "$khead"
		;;
	--output)
		local IFS=$'\n'
		COMPREPLY+=($(compgen -f -- "$cur"))
		;;
	--top)
		# A number: nothing to offer.
		;;
	--state)
		_sockstat_add "$cur" "$_sockstat_states $_sockstat_netstat_states"
		;;
	--user)
		local IFS=$'\n'
		COMPREPLY+=($(compgen -u -- "$cur"))
		;;
	--pid)
		local p
		for p in /proc/[0-9]*; do
			p=${p##*/}
			[[ $p == "$cur"* ]] && COMPREPLY+=("$p")
		done
		;;
	--command|--port|--interval|--watch)
		# Free text: offer nothing rather than file names.
		;;
	*)
		return 1
		;;
	esac
	return 0
}

# The FILTER word before the cursor, in _sockstat_last ('' when the cursor
# is at the FILTER's first word): the words before it less the options and
# their values.
_sockstat_last_filter_word()
{
	_sockstat_last=''
	local i w skip=0
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if ((skip)); then
			skip=0
			continue
		fi
		case $w in
		=)
			# "--opt=val" split by COMP_WORDBREAKS; else the filter's '='.
			if [[ ${COMP_WORDS[i - 1]} == --* ]]; then
				skip=1
			else
				_sockstat_last=$w
			fi
			;;
		--family|--net|--netns|--source|--owners|--record|--replay|--format|--state|--user|--pid|--command|--port|--count-by|--top|--output|--interval)
			# Its value is the next word, or the one after an '='.
			[[ ${COMP_WORDS[i + 1]-} == = ]] || skip=1
			;;
		-?*)
			[[ $w =~ ^-[^-]*[fN]$ ]] && skip=1
			;;
		*)
			_sockstat_last=$w
			;;
		esac
	done
}

# Completes a FILTER word.
_sockstat_filter()
{
	local cur=$1
	_sockstat_last_filter_word
	case $_sockstat_last in
	'')
		# An operator cannot start a filter.
		_sockstat_add "$cur" "$_sockstat_predicates"
		;;
	and|or|not|'&&'|'||'|'!'|'(')
		_sockstat_add "$cur" "$_sockstat_predicates not"
		;;
	dev)
		# The devices of this namespace (those of -N's are not known here).
		local d
		for d in /sys/class/net/*; do
			[[ -e $d ]] && _sockstat_add "$cur" "${d##*/}"
		done
		;;
	sport|dport|src|dst|fwmark|cgroup|=|==|'!='|'<'|'>'|'<='|'>='|eq|ne|neq|lt|gt|le|ge|leq|geq)
		# An address, a port or a mark: nothing to offer.
		;;
	*)
		_sockstat_add "$cur" "$_sockstat_predicates and or not"
		;;
	esac
}

_sockstat()
{
	COMPREPLY=()
	local cword=$COMP_CWORD
	local cur=${COMP_WORDS[cword]}
	local prev=''
	((cword > 0)) && prev=${COMP_WORDS[cword - 1]}

	# "--opt=val" split at '=' by COMP_WORDBREAKS: cur is "val" (or "=").
	if [[ $cur == = && $prev == --* ]]; then
		_sockstat_value "$prev" ''
		return 0
	fi
	if [[ $prev == = ]] && ((cword > 1)) && [[ ${COMP_WORDS[cword - 2]} == --* ]]; then
		_sockstat_value "${COMP_WORDS[cword - 2]}" "$cur"
		return 0
	fi
	# "--opt=val" kept whole: complete val and give the word back whole.
	if [[ $cur == --*=* ]]; then
		local opt=${cur%%=*} val=${cur#*=}
		if _sockstat_value "$opt" "$val"; then
			local i
			for i in "${!COMPREPLY[@]}"; do
				COMPREPLY[i]=$opt=${COMPREPLY[i]}
			done
		fi
		return 0
	fi

	# The value of "--opt val", "-f val", "-N val", or of a short option
	# cluster ending in f or N ("-tf val").
	case $prev in
	--family|--net|--netns|--source|--owners|--record|--replay|--format|--state|--user|--pid|--command|--port|--count-by|--top|--output|--interval)
		_sockstat_value "$prev" "$cur"
		return 0
		;;
	esac
	# An earlier f or N in the cluster would have taken the rest as its value.
	if [[ $prev =~ ^-[^-fN]*([fN])$ ]]; then
		_sockstat_value "-${BASH_REMATCH[1]}" "$cur"
		return 0
	fi

	# In the FILTER, a state follows "state" and "exclude".
	if [[ $prev == state || $prev == exclude ]]; then
		_sockstat_add "$cur" "$_sockstat_states $_sockstat_netstat_states"
		return 0
	fi

	case $cur in
	--*)
		_sockstat_add "$cur" "$_sockstat_long"
		# An option that takes a value gets no space after its '='.
		if [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *= ]]; then
			compopt -o nospace 2>/dev/null
		fi
		;;
	-*)
		_sockstat_add "$cur" "$_sockstat_short"
		;;
	*)
		_sockstat_filter "$cur"
		;;
	esac
	return 0
}

complete -F _sockstat sockstat

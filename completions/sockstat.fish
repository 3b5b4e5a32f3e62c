# fish completion for sockstat(8). Keep the option list in step with
# "sockstat --help"; tests/docs/options.sh checks that it is.

set -l sockstat_states established syn-sent syn-recv fin-wait-1 fin-wait-2 time-wait closed close-wait last-ack listening closing all connected synchronized bucket big
# The netstat spellings, as the State column prints them; accepted too.
set -a sockstat_states ESTABLISHED SYN_SENT SYN_RECV FIN_WAIT1 FIN_WAIT2 TIME_WAIT CLOSE CLOSE_WAIT LAST_ACK LISTEN CLOSING UNCONN

# Namespace names under /run/netns; a path is completed as a file.
function __sockstat_netns
    for ns in /run/netns/*
        basename $ns
    end
end

# A --netns pattern: the container kinds a namespace is named after, the
# caller's own, and the ip netns names.
function __sockstat_netns_patterns
    printf '%s\n' host docker: podman: containerd: crio: pod: lxc: nspawn: netns:
    __sockstat_netns
end

# The last family of a comma list is completed; the ones before are kept.
function __sockstat_families
    set -l tok (commandline -ct)
    set -l head (string replace -r '[^,]*$' '' -- $tok)
    for f in inet inet6 unix packet netlink
        echo $head$f
    end
end

# The FILTER word before the cursor (nothing at the FILTER's first word):
# the words before it less the options and their values.
function __sockstat_last_filter_word
    set -l words (commandline -opc)
    set -l skip 0
    set -l last
    for w in $words[2..-1]
        if test $skip -eq 1
            set skip 0
            continue
        end
        switch $w
            case --family --net --netns --source --owners --record --replay --format --state --user --pid --command --port --count-by --top --output --interval
                set skip 1
            case '--*'
            case '-?*'
                string match -qr -- '^-[^-]*[fN]$' $w; and set skip 1
            case '*'
                set last $w
        end
    end
    echo -- $last
end

# What kind of FILTER word may come next: first, after-operator, operand or next.
function __sockstat_filter_place
    set -l last (__sockstat_last_filter_word)
    switch "$last"
        case ''
            echo first
        case and or not '&&' '||' '!' '('
            echo operator
        case sport dport src dst dev fwmark cgroup state exclude '=' '==' '!=' '<' '>' '<=' '>=' eq ne neq lt gt le ge leq geq
            echo operand
        case '*'
            echo next
    end
end

# The --count-by keys, after what the comma list already holds.
function __sockstat_count_keys
    set -l cur (commandline -ct | string replace -r -- '^--count-by=' '')
    set -l head (string match -r -- '^.*,' $cur)
    for k in proto family state local-addr local-port peer-addr peer-port peer-net direction port process user netns cgroup
        echo -- $head$k
    end
end

# Is the word before the cursor "state" or "exclude" (a filter's state)?
function __sockstat_after_state_word
    set -l words (commandline -opc)
    test (count $words) -ge 2; or return 1
    contains -- $words[-1] state exclude
end

complete -c sockstat -s t -l tcp -d 'TCP sockets'
complete -c sockstat -s u -l udp -d 'UDP sockets'
complete -c sockstat -s w -l raw -d 'RAW and ping sockets'
complete -c sockstat -s x -l unix -d 'UNIX domain sockets'
complete -c sockstat -s 0 -l packet -d 'packet sockets'
complete -c sockstat -s M -l mptcp -d 'MPTCP sockets'
complete -c sockstat -l netlink -d 'netlink sockets'
complete -c sockstat -s 4 -l ipv4 -d 'IPv4 sockets only'
complete -c sockstat -s 6 -l ipv6 -d 'IPv6 sockets only'
complete -c sockstat -s f -l family -x -a '(__sockstat_families)' -d 'address families'
complete -c sockstat -s a -l all -d 'listening and non-listening sockets'
complete -c sockstat -s l -l listening -d 'listening and unconnected sockets only'
complete -c sockstat -s N -l net -r -a '(__sockstat_netns)' -d 'look inside a network namespace'
complete -c sockstat -l all-netns -d 'every network namespace, with a Netns column'
complete -c sockstat -l netns -x -a '(__sockstat_netns_patterns)' -d 'namespaces whose name matches PATTERN'
complete -c sockstat -l source -x -a 'auto netlink proc' -d 'where socket data comes from'
complete -c sockstat -s K -l kill -d 'close the selected TCP and UDP sockets'
complete -c sockstat -l dry-run -d 'with -K: show what would be closed, close nothing'
complete -c sockstat -l record -r -F -d 'save the kernel replies of this run to FILE'
complete -c sockstat -l replay -r -F -d 'list the sockets recorded in FILE instead'
complete -c sockstat -s n -l numeric -d 'numeric ports, no service names'
complete -c sockstat -s r -l resolve -d 'resolve host names'
complete -c sockstat -s p -l processes -d 'show owning processes (the default)'
complete -c sockstat -s P -l no-processes -d 'do not scan /proc for owning processes'
complete -c sockstat -l owners -x -a 'auto bpf proc' -d 'how owners are read'
complete -c sockstat -s e -l extended -d 'uid, inode, socket cookie, interface'
complete -c sockstat -s i -l info -d 'TCP internals'
complete -c sockstat -s m -l memory -d 'socket memory'
complete -c sockstat -s o -l timers -d 'timer information'
complete -c sockstat -l cgroup -d 'the cgroup v2 path of each inet socket'
complete -c sockstat -s s -l summary -d 'totals per protocol and state'
complete -c sockstat -s H -l no-header -d 'no header line'
complete -c sockstat -s j -l json -d 'JSON output'
complete -c sockstat -l format -x -a 'table json ndjson prometheus openmetrics' -d 'output format'
complete -c sockstat -l count-by -x -a '(__sockstat_count_keys)' -d 'count sockets per KEYS'
complete -c sockstat -l top -x -d 'keep the N largest counts'
complete -c sockstat -l output -r -F -d 'write the output to FILE atomically'
complete -c sockstat -l pid -x -a '(__fish_complete_pids)' -d 'sockets held by process PID'
complete -c sockstat -l command -x -d 'sockets held by a process named NAME'
complete -c sockstat -l user -x -a '(__fish_complete_users)' -d 'sockets of user USER'
complete -c sockstat -l port -x -d 'local or peer port'
complete -c sockstat -l state -x -a "$sockstat_states" -d 'sockets in STATE'
complete -c sockstat -l watch -d 'redraw the listing every SECONDS (--watch=SECONDS)'
complete -c sockstat -l events -d 'stream socket events as NDJSON'
complete -c sockstat -l interval -x -d 'with --events: compare dumps every SECONDS'
complete -c sockstat -s h -l help -d 'show the help and exit'
complete -c sockstat -s V -l version -d 'show the version and exit'

# The trailing FILTER: ss's keywords, and states after state/exclude.
complete -c sockstat -n __sockstat_after_state_word -x -a "$sockstat_states" -d 'socket state'
complete -c sockstat -n 'contains -- (__sockstat_filter_place) first operator next' -f -a 'state exclude sport dport src dst dev fwmark autobound cgroup' -d 'filter keyword'
complete -c sockstat -n 'contains -- (__sockstat_filter_place) operator next' -f -a not -d 'filter operator'
complete -c sockstat -n 'test (__sockstat_filter_place) = next' -f -a 'and or' -d 'filter operator'
complete -c sockstat -n 'test (__sockstat_filter_place) = operand' -f

#!/bin/bash
# One source of truth: the options "sockstat --help" prints are the ones
# the man page documents and every completion offers, and none of those
# names an option the program does not have.
# Usage: options.sh SOCKSTAT SOURCE_ROOT FISH
set -u
sockstat=$1 root=$2 fish=$3
man=$root/man/sockstat.8
fail=0

help=$("$sockstat" --help) || { echo "sockstat --help failed"; exit 1; }
# Option lines look like "  -t, --tcp   ..." or "      --source=SOURCE ...".
help_long=$(sed -nE 's/^ +(-[^ ,], )?--([a-z0-9][a-z0-9-]*).*/\2/p' <<<"$help" | sort -u)
help_short=$(sed -nE 's/^ +-([^- ,]),.*/\1/p' <<<"$help" | sort -u)
if [[ $(wc -l <<<"$help_long") -lt 20 || $(wc -l <<<"$help_short") -lt 20 ]]; then
	echo "could not read the option list from sockstat --help:"
	echo "$help"
	exit 1
fi

# Compares two sorted lists; $1 names what is compared.
same() {
	local what=$1 want=$2 got=$3 d
	d=$(comm -3 <(echo "$want") <(echo "$got"))
	if [[ -n $d ]]; then
		echo "$what differs from --help (left: only in --help, right: only in $what):"
		echo "$d"
		fail=1
	fi
}

# The man page's option list: ".It Fl t , \-tcp" and ".It Fl \-source Ns ...".
man_long=$(sed -nE 's/^\.It Fl ([^ ] , )?\\-([a-z0-9][a-z0-9-]*).*/\2/p' "$man" | sort -u)
man_short=$(sed -nE 's/^\.It Fl ([^ \\]) , .*/\1/p' "$man" | sort -u)
same "man page long options" "$help_long" "$man_long"
same "man page short options" "$help_short" "$man_short"

# Every --word anywhere in the man page must be a real option.
for w in $(grep -oE '\\-\\?-[a-z][a-z0-9-]*' "$man" | sed -E 's/^\\-(\\?)-//' | sort -u); do
	grep -qx -- "$w" <<<"$help_long" || { echo "man page names unknown option --$w"; fail=1; }
done

# bash: what the completion offers after "--" and "-", and every --word in
# the file's code.
bash_long=$(bash -c '
	source "$1/completions/sockstat.bash"
	COMP_WORDS=(sockstat --); COMP_CWORD=1; COMP_LINE="sockstat --"; COMP_POINT=11
	_sockstat
	printf "%s\n" "${COMPREPLY[@]}"' _ "$root" | sed -E 's/^--//; s/=$//' | sort -u)
bash_short=$(bash -c '
	source "$1/completions/sockstat.bash"
	COMP_WORDS=(sockstat -); COMP_CWORD=1; COMP_LINE="sockstat -"; COMP_POINT=10
	_sockstat
	printf "%s\n" "${COMPREPLY[@]}"' _ "$root" | sed -nE 's/^-([^-])$/\1/p' | sort -u)
same "bash completion of --" "$help_long" "$bash_long"
same "bash completion of -" "$help_short" "$bash_short"

# fish: what it offers after "--" and after "-".
fish_long=$("$fish" --no-config -c "source $root/completions/sockstat.fish; complete -C'sockstat --'" |
	cut -f1 | sed -E 's/^--//; s/=$//' | sort -u)
fish_short=$("$fish" --no-config -c "source $root/completions/sockstat.fish; complete -C'sockstat -'" |
	cut -f1 | sed -nE 's/^-([^-])$/\1/p' | sort -u)
same "fish completion of --" "$help_long" "$fish_long"
same "fish completion of -" "$help_short" "$fish_short"

# zsh: the _arguments specs; long options are '--name' or '--name=' words.
zsh_long=$(grep -v '^[[:space:]]*#' "$root/completions/_sockstat" | grep -oE -- "--[a-z0-9][a-z0-9-]*" |
	sed 's/^--//' | sort -u)
zsh_short=$(grep -v '^[[:space:]]*#' "$root/completions/_sockstat" | grep -oE -- "\{-[^-,]\+?," |
	sed -E 's/^\{-(.).*/\1/' | sort -u)
same "zsh completion long options" "$help_long" "$zsh_long"
same "zsh completion short options" "$help_short" "$zsh_short"

# Any --word in the code of the bash and fish files is a real option too.
for f in sockstat.bash sockstat.fish; do
	for w in $(grep -v '^[[:space:]]*#' "$root/completions/$f" | grep -oE -- '(^|[^a-z-])--[a-z][a-z0-9-]*' |
		sed -E 's/^[^-]*--//' | sort -u); do
		case $w in no-config|no-execute) continue ;; esac
		grep -qx -- "$w" <<<"$help_long" || { echo "$f names unknown option --$w"; fail=1; }
	done
done
for w in $(grep '^complete -c sockstat ' "$root/completions/sockstat.fish" |
	grep -oE -- ' -l [a-z][a-z0-9-]*' | cut -c5- | sort -u); do
	grep -qx -- "$w" <<<"$help_long" || { echo "sockstat.fish names unknown option --$w"; fail=1; }
done

[[ $fail -eq 0 ]] && echo "$(wc -l <<<"$help_long") long and $(wc -l <<<"$help_short") short options agree"
exit $fail

#!/bin/bash
# "meson install --destdir" puts the binary, the man page and the three
# completions where the contract says, all inside destdir under the
# configured prefix.
# Usage: install.sh MESON BUILD_DIR PREFIX BINDIR DATADIR MANDIR BASH ZSH FISH
# (BASH, ZSH and FISH are the *_completions options, "true" or "false").
set -u
meson=$1 build=$2 prefix=$3 bindir=$4 datadir=$5 mandir=$6
want_bash=$7 want_zsh=$8 want_fish=$9
fail=0

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sockstat-install.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

# meson joins relative directories to the prefix; absolute ones stay.
under_prefix() {
	case $1 in
	/*) echo "$1" ;;
	*) echo "$prefix/$1" ;;
	esac
}

if ! out=$("$meson" install -C "$build" --destdir "$tmp" --no-rebuild --quiet 2>&1); then
	echo "meson install failed:"
	echo "$out"
	exit 1
fi

dest=$tmp
share=$(under_prefix "$datadir")

# bash-completion's own directory when it lies inside the prefix, else ours.
bash_dir=$share/bash-completion/completions
if pc=$(pkg-config --define-variable=prefix="$prefix" --define-variable=datadir="$share" \
	--variable=completionsdir bash-completion 2>/dev/null) && [[ -n $pc ]]; then
	case $pc in
	"$prefix"/*) bash_dir=$pc ;;
	esac
fi

# check PATH WANTED: the file is there (and not empty) exactly when wanted.
check() {
	local path=$dest$1 wanted=$2
	if [[ $wanted == true && ! -s $path ]]; then
		echo "missing after install: $1"
		fail=1
	elif [[ $wanted == false && -e $path ]]; then
		echo "installed although disabled: $1"
		fail=1
	fi
}
check "$(under_prefix "$bindir")/sockstat" true
check "$(under_prefix "$mandir")/man8/sockstat.8" true
check "$bash_dir/sockstat" "$want_bash"
check "$share/zsh/site-functions/_sockstat" "$want_zsh"
check "$share/fish/vendor_completions.d/sockstat.fish" "$want_fish"

# The installed binary runs, and nothing landed outside destdir/prefix.
bin=$dest$(under_prefix "$bindir")/sockstat
if [[ -x $bin ]] && ! "$bin" --version >/dev/null; then
	echo "installed sockstat --version failed"
	fail=1
fi
stray=$(cd "$tmp" && find . -type f ! -path "./${prefix#/}/*")
if [[ -n $stray ]]; then
	echo "installed outside the prefix:"
	echo "$stray"
	fail=1
fi

if [[ $fail -eq 0 ]]; then
	echo "installed:"
	(cd "$tmp" && find . -type f | sort)
fi
exit $fail

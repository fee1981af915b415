#!/bin/bash
# `cmake --install` puts the binary, a man page and bash completion (both
# generated from the option tables) where users look for them.
set -u
BIN=$(realpath "$1")
build=$(dirname "$BIN")
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
fail=0
no() { echo "FAIL: $*"; fail=1; }
cmake --install "$build" --prefix "$prefix" >/dev/null || no "cmake --install failed"
"$prefix/bin/cowbench" --version >/dev/null || no "installed binary does not run"
man=$prefix/share/man/man1/cowbench.1
grep -q '^\.TH COWBENCH 1' "$man" || no "no man page at $man"
for word in 'run' 'compare' 'fork\\-basic' 'EXIT STATUS'; do
	grep -q "$word" "$man" || no "man page lacks '$word'"
done
comp=$prefix/share/bash-completion/completions/cowbench
bash -n "$comp" || no "completion is not valid bash"
got=$(bash -c "source '$comp'; COMP_WORDS=(cowbench run fork-b); COMP_CWORD=2; _cowbench; echo \${COMPREPLY[*]}")
[[ $got == fork-basic ]] || no "completing 'cowbench run fork-b' gave '$got'"
[[ $fail -eq 0 ]] && echo "ok: binary, man page, completion installed"
exit $fail

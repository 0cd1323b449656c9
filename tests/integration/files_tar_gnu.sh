#!/usr/bin/env bash
# files_tar_gnu.sh: `export tar` is read by GNU tar without a warning
# (issue 11: one "hdrcharset" warning per entry before) for UTF-8 names,
# long names, links and ASCII names, and a name that is not UTF-8 keeps its
# exact bytes through export + GNU tar extraction. Also `export tar
# --snapshot ID` (the named form) gives the same bytes as the positional one.
source "$(dirname "$0")/lib.sh"
setup_repo
S="$T/src/docs"
mkdir -p "$S/ünïcödé dir/日本語" "$S/plain"
printf 'a' > "$S/plain/a.txt"
printf 'cafe' > "$S/café €.txt"
printf 'jp' > "$S/ünïcödé dir/日本語/ファイル.txt"
long="$S/plain/$(printf 'x%.0s' $(seq 1 120))-ß.bin"
printf 'long' > "$long"
ln -s "café €.txt" "$S/lien é"
ln "$S/plain/a.txt" "$S/plain/hard é"
"$TM_BIN" -q backup files --instance t "$S" || fail "backup"

"$TM_BIN" export tar --snapshot latest > "$T/a.tar" || fail "export tar --snapshot latest"
tar -tvf "$T/a.tar" > "$T/list" 2> "$T/tar.err" || { cat "$T/tar.err"; fail "tar -tvf"; }
[ ! -s "$T/tar.err" ] || { cat "$T/tar.err"; fail "GNU tar printed warnings for UTF-8 names"; }
"$TM_BIN" export tar latest 2>/dev/null | tar -tvf - >/dev/null 2> "$T/tar2.err" || fail "piped tar -tvf"
[ ! -s "$T/tar2.err" ] || { cat "$T/tar2.err"; fail "GNU tar warned (pipe)"; }
grep -qF "ファイル.txt" "$T/list" || fail "UTF-8 name missing from the listing"
mkdir "$T/x"
tar -xf "$T/a.tar" -C "$T/x" 2> "$T/x.err" || { cat "$T/x.err"; fail "tar -x"; }
[ ! -s "$T/x.err" ] || { cat "$T/x.err"; fail "GNU tar warned on extraction"; }
(cd "$S/.." && find docs -print0 | sort -z | xargs -0 stat -c '%n %F %s') > "$T/want"
(cd "$T/x" && find docs -print0 | sort -z | xargs -0 stat -c '%n %F %s') > "$T/got"
cmp -s "$T/want" "$T/got" || { diff "$T/want" "$T/got" >&2; fail "extracted tree differs"; }
cmp -s "$S/ünïcödé dir/日本語/ファイル.txt" "$T/x/docs/ünïcödé dir/日本語/ファイル.txt" || fail "content differs"
pass "UTF-8 names: no warning, same tree"

# A name that is not UTF-8: the same bytes come back out of GNU tar.
bad=$(printf 'bad\377\376name')
mkdir -p "$T/src2/odd"
printf 'raw' > "$T/src2/odd/$bad"
printf 'ok' > "$T/src2/odd/ok.txt"
"$TM_BIN" -q backup files --instance t "$T/src2/odd" || fail "backup 2"
"$TM_BIN" export tar latest > "$T/b.tar" 2>/dev/null || fail "export tar 2"
mkdir "$T/y"
tar -xf "$T/b.tar" -C "$T/y" 2>/dev/null || fail "tar -x 2"
[ -f "$T/y/odd/$bad" ] && cmp -s "$T/y/odd/$bad" "$T/src2/odd/$bad" || { ls -b "$T/y/odd" >&2; fail "non-UTF-8 name changed"; }
pass "non-UTF-8 name: exact bytes"
echo "PASS files tar gnu"

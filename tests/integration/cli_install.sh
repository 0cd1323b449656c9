#!/usr/bin/env bash
# cli_install.sh (issue 11): `cmake --install` into a DESTDIR puts the
# binary, the man page tidemark(1) and the bash completion in place; the man
# page renders without warnings; the installed completion, sourced in bash,
# offers commands, subcommands, each command's options and the config's
# instance names.
. "$(dirname "$0")/lib.sh"
: "${TM_BUILD:?TM_BUILD must point at the build directory}"
passed=0
D="$T/dest"
DESTDIR="$D" cmake --install "$TM_BUILD" --prefix /usr >"$T/install.log" 2>&1 || { cat "$T/install.log"; fail "cmake --install"; }
BIN="$D/usr/bin/tidemark" MANP="$D/usr/share/man/man1/tidemark.1" COMP="$D/usr/share/bash-completion/completions/tidemark"
for f in "$BIN" "$MANP" "$COMP"; do [ -s "$f" ] || fail "not installed: $f"; done
[ -x "$BIN" ] || fail "installed binary not executable"
cmp -s "$MANP" "$TM_SRC/docs/tidemark.1" || fail "installed man page differs from docs/tidemark.1"
passed=$((passed + 1)); pass "cmake --install: bin/tidemark, share/man/man1/tidemark.1, share/bash-completion/completions/tidemark"

if command -v groff >/dev/null; then
  groff -man -ww -z "$MANP" 2>"$T/groff" || true
  [ ! -s "$T/groff" ] || { cat "$T/groff"; fail "the man page renders with warnings"; }
  groff -man -Tutf8 "$MANP" 2>/dev/null | grep -q "restore db" || fail "the man page lacks restore db"
  passed=$((passed + 1)); pass "the man page renders without warnings"
fi

printf '[repository]\nurl = %s/repo\n\n[instance shop]\ndb_socket = /x\n\n[instance crm]\ndb_socket = /y\n' "$T" > "$T/c.conf"
# complete WORD... : the completion's answer for the command line "WORD..." (the last word is the one completed)
complete_line() {
  bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _tidemark; printf "%s\n" "${COMPREPLY[@]}"' \
    _ "$COMP" "$BIN" "$@"
}
has() {   # has WORD... -- LINE...: the completion of LINE offers every WORD
  local want=() w
  while [ "$1" != -- ]; do want+=("$1"); shift; done; shift
  complete_line "$@" > "$T/reply"
  for w in "${want[@]}"; do grep -qx -- "$w" "$T/reply" || { cat "$T/reply"; fail "completing '$*' does not offer $w"; }; done
}
has backup restore binlog snapshots verify-chain help -- ""
has follow status list export search -- binlog ""
has db files -- restore ""
has --to --to-gtid --target-db --threads --timeout -- restore db --t
has --until-idle --non-blocking --json --instance -- binlog follow --
has --instance -- backup --i
has --read-data --read-data-subset -- check --read
has shop crm -- -c "$T/c.conf" --instance ""
has shop -- -c "$T/c.conf" backup -i s
has db -- help restore d
complete_line backup files --tag > "$T/reply"
grep -qx -- --tag "$T/reply" || fail "completing backup files --tag"
! grep -qx -- --to "$T/reply" || fail "backup files offers restore db's --to"
passed=$((passed + 1)); pass "the installed completion offers commands, subcommands, options and instance names"
echo "$passed passed, 0 failed"

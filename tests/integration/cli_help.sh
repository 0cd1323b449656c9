#!/usr/bin/env bash
# cli_help.sh (issue 11, "the command line, complete and conventional"):
#   1. every command's --help lists every option its parser accepts: the
#      accepted options come from `tidemark __complete options CMD` (the
#      parser's table, also the bash completion's source); each is probed on
#      the parser (a flag with --help exits 0, an option with an argument
#      exits 0 with =X and 2 "needs an argument" without), and an unknown
#      option is refused with exit 2;
#   2. the global options work before and after the command (backup files -q,
#      snapshots -r, check -v, --json after), and `tidemark help [COMMAND]`;
#   3. the man page (docs/tidemark.1) names every option of every command in
#      that command's section.
. "$(dirname "$0")/lib.sh"
passed=0
MAN="$TM_SRC/docs/tidemark.1"
export TIDEMARK_CONFIG=$T/none.conf   # a config that does not exist: no command gets to run
: > "$T/none.conf"; rm "$T/none.conf"

"$TM_BIN" __complete check > "$T/check" || { cat "$T/check"; fail "option tables unsound"; }

mapfile -t firsts < <("$TM_BIN" __complete commands)
cmds=()
for w in "${firsts[@]}"; do
  [ "$w" = help ] && continue
  mapfile -t subs < <("$TM_BIN" __complete subcommands "$w")
  # a group may also be a command of its own (backup)
  if "$TM_BIN" __complete options "$w" >/dev/null 2>&1; then cmds+=("$w"); fi
  for s in "${subs[@]}"; do cmds+=("$w $s"); done
done
[ "${#cmds[@]}" -ge 23 ] || fail "only ${#cmds[@]} commands found: ${cmds[*]}"

nopts=0
for cmd in "${cmds[@]}"; do
  # shellcheck disable=SC2086
  "$TM_BIN" $cmd --help > "$T/help" || fail "$cmd --help: exit $?"
  grep -q "^usage: tidemark $cmd" "$T/help" || fail "$cmd --help: no usage line"
  "$TM_BIN" help $cmd | cmp -s - "$T/help" || fail "'tidemark help $cmd' differs from '$cmd --help'"
  mapfile -t opts < <("$TM_BIN" __complete options $cmd)
  [ "${#opts[@]}" -ge 8 ] || fail "$cmd: only ${#opts[@]} options (the global ones missing?)"
  for o in "${opts[@]}"; do
    case $o in
      --*) grep -qE -- "(^|[ ,\[])$o( |$|,|\])" "$T/help" || fail "$cmd accepts $o but its --help does not list it" ;;
      -?)  grep -qE -- "(^| )$o, --" "$T/help" || fail "$cmd accepts $o but its --help does not list it" ;;
      *)   fail "$cmd: odd option '$o'" ;;
    esac
    [ "$o" = --help ] || [ "$o" = -h ] || [ "${o#--}" = "$o" ] && continue
    # the help line says whether it takes an argument; the parser must agree
    if grep -qE -- "$o [A-Z\[@]" "$T/help"; then
      "$TM_BIN" $cmd "$o=X" --help >/dev/null 2>"$T/err" || { cat "$T/err"; fail "$cmd: parser refuses $o=X"; }
      expect_fail 2 "needs an argument" "$TM_BIN" $cmd "$o"
    else
      "$TM_BIN" $cmd "$o" --help >/dev/null 2>"$T/err" || { cat "$T/err"; fail "$cmd: parser refuses $o"; }
    fi
    nopts=$((nopts + 1))
    # the man page: the option in the command's section
    awk -v c="$cmd" '/^\.SS /{ s = $0; sub(/^\.SS "?/, "", s); sub(/"$/, "", s); on = (s == c || index(s, c " ") == 1) }
      on' "$MAN" > "$T/mansec"
    [ -s "$T/mansec" ] || fail "man page has no section for '$cmd'"
    name=${o#--}; name=${name//-/\\-}   # troff: every - is \-
    if ! grep -qF -- "\\-\\-$name" "$T/mansec" && ! grep -q "^\.SH GLOBAL OPTIONS" "$MAN"; then
      fail "man page section '$cmd' lacks $o"
    fi
    if ! grep -qF -- "\\-\\-$name" "$T/mansec"; then
      # a global option: in the GLOBAL OPTIONS section
      awk '/^\.SH GLOBAL OPTIONS/{on=1; next} /^\.SH /{on=0} on' "$MAN" | grep -qF -- "\\-\\-$name" \
        || fail "man page: $o of '$cmd' is neither in its section nor a global option"
    fi
  done
  expect_fail 2 "unknown option --no-such-option" "$TM_BIN" $cmd --no-such-option
done
passed=$((passed + 1)); pass "${#cmds[@]} commands: each of $nopts options in --help, parsed as the help says, in the man page"

# restore db is one command: its --help holds the load and the point-in-time options
"$TM_BIN" restore db --help > "$T/help"
for o in --to --to-gtid --before-gtid --plan --apply --durability --accept-archive-end --listen-host \
         --snapshot --target-db --drop-existing --no-verify --with-grants --write-binlog --socket; do
  grep -qE -- "$o( |$)" "$T/help" || fail "restore db --help lacks $o"
done
# one parser for both forms: an option of the other form is refused naming it
expect_fail 2 "option --no-verify applies only to a snapshot load" env -u TIDEMARK_CONFIG "$TM_BIN" restore db --to-gtid 0-1-5 --no-verify
expect_fail 2 "option --apply needs a point in time" env -u TIDEMARK_CONFIG "$TM_BIN" restore db --snapshot latest --apply net
for c in "binlog follow" "binlog status" "binlog list" "binlog export"; do
  "$TM_BIN" $c --help | grep -q -- "--json" || fail "$c --help lists no options"
done
"$TM_BIN" binlog follow --help | grep -q -- "--until-idle" || fail "binlog follow --help lacks --until-idle"
"$TM_BIN" binlog export --help | grep -q -- "--from X" || fail "binlog export --help lacks --from"
passed=$((passed + 1)); pass "restore db --help lists --to ... with the load options; binlog follow|status|list|export list theirs"

# global options after the command, on a real repository
unset TIDEMARK_CONFIG
setup_repo
make_tree "$T/src" 1
out=$("$TM_BIN" backup files -q --instance a "$T/src" 2>&1) || fail "backup files -q refused"
[ -z "$out" ] || fail "backup files -q printed: $out"
REPO=$TIDEMARK_REPOSITORY; unset TIDEMARK_REPOSITORY
"$TM_BIN" snapshots -r "$REPO" | grep -q "^1 snapshot$" || fail "snapshots -r REPO"
"$TM_BIN" check -v -r "$REPO" 2>"$T/err" | grep -q "check passed" || fail "check -v"
"$TM_BIN" snapshots --json --repo "$REPO" | python3 -c 'import json,sys; assert len(json.load(sys.stdin)) == 1' \
  || fail "snapshots --json after the command"
"$TM_BIN" -r "$REPO" snapshots -i a --json | python3 -c 'import json,sys; assert len(json.load(sys.stdin)) == 1' \
  || fail "snapshots -i after the command"
"$TM_BIN" version --json | python3 -c 'import json,sys; assert "version" in json.load(sys.stdin)' || fail "version --json"
passed=$((passed + 1)); pass "global options after the command: backup files -q, snapshots -r/--json/-i, check -v, version --json"

"$TM_BIN" help > "$T/out"; grep -q "^commands:" "$T/out" || fail "tidemark help"
"$TM_BIN" help restore db | grep -q -- "--to-gtid" || fail "tidemark help restore db"
"$TM_BIN" help key | grep -q "passwd" || fail "tidemark help key"
expect_fail 2 "unknown command 'nope'" "$TM_BIN" help nope
expect_fail 2 "unknown command 'nope'" "$TM_BIN" nope
expect_fail 2 "unknown option --nope" "$TM_BIN" --nope snapshots
passed=$((passed + 1)); pass "tidemark help [COMMAND], unknown commands and options: exit 2"
echo "$passed passed, 0 failed"

#!/usr/bin/env bash
# cli_json.sh (issue 11): with --json every command prints exactly one valid
# JSON document on stdout, on success and on failure (verify db and binlog
# status fail after printing their own document; version, binlog export and
# binlog follow printed text or nothing before); export tar and export sql,
# whose stdout is the data, put their JSON on stderr.
. "$(dirname "$0")/lib.sh"
SB="$TM_SRC/tests/support/mariadb-sandbox.sh"
eval "$("$SB" start "$T/db")" || exit $?
cleanup_hooks+=("'$SB' stop '$T/db'")
SOCK=$TM_DB_SOCKET
sql() { mariadb --socket="$SOCK" -uroot "$@"; }
START=$(sql -N -e "SHOW MASTER STATUS" | awk '{print $1":"$2}')
sql -e "CREATE DATABASE shop; CREATE TABLE shop.t (id INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO shop.t SELECT seq, 'x' FROM test.seq_1_to_100"
instance_config shop "$SOCK" shop 7
make_tree "$T/src" 1
passed=0 ndocs=0

# one FILE [KEY]: FILE holds exactly one JSON document (with KEY when given)
one() {
  python3 - "$@" <<'PY' || { echo "--- $1:"; cat "$1"; fail "not exactly one JSON document: $CUR"; }
import json, sys
s = open(sys.argv[1]).read()
d = json.JSONDecoder()
o, i = d.raw_decode(s.lstrip())
assert s.lstrip()[i:].strip() == "", "more than one document"
if len(sys.argv) > 2: assert sys.argv[2] in o, "no key " + sys.argv[2]
PY
  ndocs=$((ndocs + 1))
}
# js RC [KEY] ARGS...: tidemark --json ARGS exits RC, stdout one document (with KEY)
js() {
  local want=$1 key=$2 rc=0; shift 2
  CUR="$*"
  "$TM_BIN" --json "$@" >"$T/js" 2>"$T/jserr" || rc=$?
  [ "$rc" = "$want" ] || { cat "$T/jserr"; fail "exit $rc, not $want: $*"; }
  one "$T/js" $key
}
jget() { python3 -c 'import json,sys; print(eval(sys.argv[1], {"j": json.load(open(sys.argv[2]))}))' "$1" "$T/js"; }

# ---- success ----
js 0 version version
js 0 version version --json                     # after the command too
js 0 "" backup db
DBSNAP=$(jget 'j["snapshot"]')
js 0 snapshot backup files "$T/src"
FSNAP=$(jget 'j["snapshot"]')
js 0 "" backup --no-files
js 0 "" snapshots
js 0 ok check
js 0 packs_added repair index
js 0 "" key list
printf 'second passphrase\n' > "$T/pw2"; chmod 600 "$T/pw2"
TIDEMARK_NEW_PASSWORD_FILE="$T/pw2" js 0 id key add --label extra
KEY=$(jget 'j["id"]')
js 0 removed key remove "${KEY:0:12}"
js 0 ok restore files "$FSNAP" --target "$T/rf"
"$TM_BIN" --json export tar "$FSNAP" >"$T/tar" 2>"$T/tarerr"
tar tf "$T/tar" >/dev/null 2>&1 || fail "export tar --json: stdout is not a tar"
tail -1 "$T/tarerr" > "$T/tarjs"; CUR="export tar"; one "$T/tarjs" snapshot
"$TM_BIN" --json export sql --snapshot "$DBSNAP" >"$T/sql" 2>"$T/sqlerr"
grep -q "CREATE TABLE" "$T/sql" || fail "export sql --json: no SQL on stdout"
js 0 command binlog follow --start "$START" --until-idle
js 0 "" binlog list
js 0 segments binlog export "$T/bx"
js 0 "" binlog search
js 0 verdict restore db --snapshot "$DBSNAP" --target-db shop_r
js 0 plan_only restore db --snapshot "$DBSNAP" --target-db shop_p --plan
js 0 verdict verify db --snapshot "$DBSNAP"
js 0 pairs verify-chain --socket "$SOCK"
js 0 id init -r "$T/repo2"
passed=$((passed + 1)); pass "success: $ndocs commands, one document each"

# ---- failure after the command's own document ----
js 6 alarm binlog status                             # the follower does not run: exit 6
sql -e "UPDATE shop.t SET v = 'y' WHERE id = 5"
js 6 verdict verify db --snapshot "$DBSNAP"          # a table differs: exit 6, one document
[ "$(jget 'j["verdict"]')" = failed ] || fail "verify db: verdict not failed"
passed=$((passed + 1)); pass "a failure after the command's own document: still one document (binlog status, verify db)"

# ---- failure: every command on a repository that does not exist ----
n=0
while IFS='|' read -r want c; do
  # shellcheck disable=SC2086
  js "$want" error -r "$T/nope" $c
  [ "$(jget 'j["error"]["exit"]')" = "$want" ] || fail "error document's exit is not $want: $c"
  n=$((n + 1))
done <<LIST
3|snapshots
3|check
3|repair index
3|key list
3|key add
3|key remove abc
3|key passwd
3|backup files $T/src
3|restore files latest --target $T/rf2
3|binlog follow --until-idle
3|binlog status
3|binlog list
3|binlog export $T/bx2
3|binlog search
3|backup
3|backup db
3|restore db --snapshot latest --target-db shop_x
3|restore db --to-gtid 0-1-1 --plan
3|verify db --snapshot latest
3|verify-chain --socket $SOCK
2|init --no-such-option
2|backup --threads 0
2|nosuchcommand
2|key
LIST
rc=0; "$TM_BIN" --json -r "$T/nope" export tar latest >"$T/tar2" 2>"$T/tarerr2" || rc=$?
[ "$rc" = 3 ] && [ ! -s "$T/tar2" ] || fail "export tar failure: exit $rc or output on stdout"
tail -1 "$T/tarerr2" > "$T/tarjs2"; CUR="export tar failure"; one "$T/tarjs2" error
rc=0; "$TM_BIN" --json -r "$T/nope" export sql --snapshot latest >"$T/sql2" 2>"$T/sqlerr2" || rc=$?
[ "$rc" = 3 ] && [ ! -s "$T/sql2" ] || fail "export sql failure: exit $rc or output on stdout"
tail -1 "$T/sqlerr2" > "$T/sqljs2"; CUR="export sql failure"; one "$T/sqljs2" error
passed=$((passed + 1)); pass "failure: $n commands print one error document with the exit code; export tar/sql on stderr"

TIDEMARK_NEW_PASSWORD_FILE="$T/pw2" js 0 id key passwd
echo "$passed passed, 0 failed"

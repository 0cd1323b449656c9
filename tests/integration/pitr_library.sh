#!/usr/bin/env bash
# pitr_library.sh: the point-in-time restore called as a library (issue 11,
# acceptance 2): the tidemark CLI backs up and follows the binlog (setup
# only), then pitr_library (linked against the libraries, not the tidemark
# binary) calls rst_pitr_restore: the plan only, then a restore to a GTID
# and one to a time; every table must equal the source's at that point.
# Usage: pitr_library.sh PITR_LIBRARY_BINARY
source "$(dirname "$0")/lib.sh"
LIB=${1:?usage: pitr_library.sh PITR_LIBRARY_BINARY}
SB="$TM_SRC/tests/support/mariadb-sandbox.sh"
eval "$("$SB" start "$T/src")" || exit $?
S=$TM_DB_SOCKET; cleanup_hooks+=("'$SB' stop '$T/src'")
eval "$(TM_DB_SERVER_ID=2 "$SB" start "$T/tgt")"; TG=$TM_DB_SOCKET
cleanup_hooks+=("'$SB' stop '$T/tgt'")

q $S <<'SQL' || fail "create the source database"
CREATE DATABASE shop;
CREATE TABLE shop.item (id INT PRIMARY KEY, name VARCHAR(40), qty INT, note TEXT);
CREATE TABLE shop.log (seq INT AUTO_INCREMENT PRIMARY KEY, what VARCHAR(80));
INSERT INTO shop.item VALUES (1,'bolt',10,NULL),(2,'nut',20,'m6'),(3,'washer',30,NULL);
INSERT INTO shop.log (what) VALUES ('created');
SQL
instance_config shop "$S" shop 771
TM() { "$TM_BIN" --instance shop "$@"; }
TM --json backup db > "$T/b.json" || fail "backup db"
S1=$(python3 -c "import json;j=json.load(open('$T/b.json'));print(j['binlog']['file']+':'+str(j['binlog']['position']))")
"$TM_BIN" -q --instance shop binlog follow --start "$S1" >>"$T/follow.log" 2>&1 & FPID=$!
cleanup_hooks+=("kill $FPID 2>/dev/null")

q $S shop <<'SQL' || fail "workload 1"
UPDATE item SET qty = qty - 1 WHERE id = 1;
INSERT INTO item VALUES (4,'screw',40,'torx');
DELETE FROM item WHERE id = 3;
INSERT INTO log (what) VALUES ('first batch');
SQL
G1=$(q $S -N -e "SELECT @@gtid_binlog_pos"); db_values $S shop > "$T/v.G1"
sleep 1.2; T1=$(date +%s); sleep 1.2   # a second with no transaction: the time target
q $S shop <<'SQL' || fail "workload 2"
UPDATE item SET name = 'big bolt', note = 'changed' WHERE id = 1;
INSERT INTO item VALUES (5,'rivet',50,NULL);
INSERT INTO log (what) VALUES ('second batch');
SQL
q $S shop -e "UPDATE item SET qty = qty + 100 WHERE id IN (2, 4)" || fail "workload 2"
END=$(q $S -N -e "SELECT @@gtid_binlog_pos"); db_values $S shop > "$T/v.END"
stop_follower_at "$END"
cmp -s "$T/v.G1" "$T/v.END" && fail "the workload after G1 changed nothing"

lib() { "$LIB" "$T/repo" "$T/pw" shop "$TG" "$T/state" "$T/spool" "$@"; }

lib plan "$END" > "$T/plan.json" 2> "$T/plan.err" || { cat "$T/plan.err"; fail "plan through the library"; }
python3 - "$T/plan.json" <<'PY' || { cat "$T/plan.json"; fail "plan: report"; }
import json, sys
j = json.load(open(sys.argv[1]))
assert j["plan_only"] is True and j["target_server"], j
PY
[ -z "$(q $TG -N -e "SHOW DATABASES LIKE 'shop'")" ] || fail "the plan wrote to the target"
pass "plan only through rst_pitr_restore: hooks plan, target, durability; nothing written"

check() { # NAME EXPECTED_VALUES_FILE: the report's verdict and the target's tables
  python3 - "$T/r.json" <<'PY' || { cat "$T/r.json"; fail "$1: report"; }
import json, sys
j = json.load(open(sys.argv[1]))
assert j["verdict"] == "verified" and j["reached"] and j["load_verified"], j
PY
  db_values $TG shop > "$T/v.tgt"
  diff "$2" "$T/v.tgt" > "$T/v.diff" || { cat "$T/v.diff" >&2; fail "$1: the target differs from the source"; }
  pass "$1 through rst_pitr_restore: verified, every row equal to the source's ($(grep -c . "$T/v.tgt") lines)"
}
lib gtid "$END" > "$T/r.json" 2> "$T/r.err" || { cat "$T/r.err" "$T/r.json"; fail "restore to GTID $END"; }
check "GTID $END" "$T/v.END"
lib gtid "$G1" > "$T/r.json" 2> "$T/r.err" || { cat "$T/r.err" "$T/r.json"; fail "restore to GTID $G1"; }
check "GTID $G1" "$T/v.G1"
lib time "@$T1" > "$T/r.json" 2> "$T/r.err" || { cat "$T/r.err" "$T/r.json"; fail "restore to time @$T1"; }
check "time @$T1" "$T/v.G1"

#!/usr/bin/env bash
# pitr_exact.sh: a point-in-time restore over the type zoo (issue 10, item 2):
# tables without a key holding FLOAT, DOUBLE, INET6 and UUID values get
# binlog UPDATEs and DELETEs after the snapshot (ROW events find their row by
# every value, so one value restored inexactly stops the replay with error
# 1032), plus STATEMENT-format updates matching on exact FLOAT values.
# `restore db --to-gtid` on both apply paths must succeed and leave every
# value equal to the source's at that point (CAST/HEX and CHECKSUM TABLE).
source "$(dirname "$0")/lib.sh"
SB="$TM_SRC/tests/support/mariadb-sandbox.sh"
eval "$(TM_DB_BUFFER_POOL=64M "$SB" start "$T/src")" || exit $?
S=$TM_DB_SOCKET; cleanup_hooks+=("'$SB' stop '$T/src'")
eval "$(TM_DB_BUFFER_POOL=64M TM_DB_SERVER_ID=2 "$SB" start "$T/tgt")"; TG=$TM_DB_SOCKET
cleanup_hooks+=("'$SB' stop '$T/tgt'")

q $S < "$TM_SRC/tests/integration/db_zoo.sql" || fail "load the type zoo"
instance_config zoo "$S" zoo 777
TM() { "$TM_BIN" --instance zoo "$@"; }
TM --json backup db > "$T/b.json" || fail "backup"
S1=$(python3 -c "import json;j=json.load(open('$T/b.json'));print(j['binlog']['file']+':'+str(j['binlog']['position']))")
"$TM_BIN" -q --instance zoo binlog follow --start "$S1" >>"$T/follow.log" 2>&1 & FPID=$!
cleanup_hooks+=("kill $FPID 2>/dev/null")

q $S zoo <<'SQL' || fail "workload"
SET SESSION binlog_format = ROW;
UPDATE num_nokey SET s = CONCAT(s, ' upd') WHERE f IS NOT NULL;
UPDATE num_nokey SET f = f * 3, d = d / 3 WHERE s LIKE 'row 10%';
DELETE FROM num_nokey WHERE s LIKE 'row 2%';
UPDATE str_nokey SET l1 = 'upd' WHERE i6 IS NOT NULL;
DELETE FROM str_nokey WHERE uu IS NULL;
UPDATE `odd ``name`` é` SET `d d` = 1;
UPDATE gen SET v = 'upd';
UPDATE tm SET y = 2000 WHERE id < 4;
UPDATE str SET tx = 'upd', bl = UNHEX('00FF') WHERE id < 20;
SQL
G1=$(q $S -N -e "SELECT @@gtid_binlog_pos"); db_values $S zoo > "$T/v.$G1"
q $S zoo <<'SQL' || fail "workload"
SET SESSION binlog_format = STATEMENT;
UPDATE num_nokey SET s = 'exact match' WHERE f = CAST(33.33333206176758 AS FLOAT);
UPDATE uniq_float SET n = n + 10 WHERE f = CAST(33.33333206176758 AS FLOAT);
SET SESSION binlog_format = MIXED;
INSERT INTO num_nokey (f, d, s) VALUES (1e-40, 5e-324, 'new');
SQL
[ "$(q $S -N -e "SELECT COUNT(*) FROM zoo.num_nokey WHERE s = 'exact match'")" = 1 ] || fail "workload: the exact FLOAT match"
END=$(q $S -N -e "SELECT @@gtid_binlog_pos"); db_values $S zoo > "$T/v.$END"
stop_follower_at "$END"

restore() { # GTID args...: restore to GTID, every value equal to the source's then
  local g=$1; shift
  TM --json restore db --to-gtid "$g" --socket "$TG" --user root --drop-existing "$@" \
    > "$T/r.json" 2> "$T/r.err" || { cat "$T/r.err" "$T/r.json"; fail "restore db --to-gtid $g $*"; }
  python3 - "$T/r.json" <<'PY' || { cat "$T/r.json"; fail "--to-gtid $g $*: verdict"; }
import json, sys
j = json.load(open(sys.argv[1]))
assert j["verdict"] == "verified" and j["reached"] and j["load_verified"], j
assert j["comparison"] == "values-hash+rows", j["comparison"]
PY
  db_values $TG zoo > "$T/v.tgt"
  diff "$T/v.$g" "$T/v.tgt" > "$T/v.diff" || { head -c 3000 "$T/v.diff" >&2; fail "--to-gtid $g $*: values differ from the source's"; }
  pass "--to-gtid $g $*: apply $(python3 -c "import json;j=json.load(open('$T/r.json'));a=j['apply'];print(a['path'], '(' + (a.get('reason') or 'chosen') + '),', j['transactions'], 'transactions')"), every value equal to the source's ($(grep -c . "$T/v.tgt") lines)"
}
restore "$G1"                              # row events only: the default (net) path
restore "$G1" --apply transactions
restore "$END"                             # statements too: the default falls back
restore "$END" --apply transactions

#!/usr/bin/env bash
# pitr_durability.sh: `restore db --durability relaxed|keep` against a target
# started with MariaDB's durable settings (innodb_flush_log_at_trx_commit=1,
# sync_binlog=1), real servers:
#  (1) the default on a target holding nothing else: the plan says relaxed,
#      the replay commits without a redo fsync each (Innodb_data_fsyncs grows
#      by far less than the transactions replayed), the tables equal the
#      source's (CHECKSUM TABLE), the settings are 1/1 again afterwards;
#  (2) a target holding another database: kept (every replayed commit
#      fsyncs), --durability relaxed overrides it in the plan;
#  (3) --durability relaxed with a user lacking SUPER: refused in the plan
#      phase with the GRANT to run (exit 2, ERR_PERM), the target untouched;
#      with the default the same user falls back to keep, saying why;
#  (4) kill -9 during the replay leaves the settings relaxed and a 0600 state
#      file; the next restore warns once, puts them back and succeeds;
#  (5) SIGTERM during the replay: exit 130, settings put back, no file left,
#      no replication connection left;
#  (6) a replay that fails (the target cannot connect back): settings put back.
source "$(dirname "$0")/lib.sh"
SB="$TM_SRC/tests/support/mariadb-sandbox.sh"
eval "$(TM_DB_BUFFER_POOL=64M "$SB" start "$T/src")" || exit $?
S=$TM_DB_SOCKET; cleanup_hooks+=("'$SB' stop '$T/src'")
eval "$(TM_DB_BUFFER_POOL=64M TM_DB_SERVER_ID=2 "$SB" start "$T/tgt" 0 --innodb-flush-log-at-trx-commit=1 --sync-binlog=1)"
TG=$TM_DB_SOCKET; cleanup_hooks+=("'$SB' stop '$T/tgt'")
q() { local s=$1; shift; mariadb -S "$s" -uroot "$@"; }
settings() { q $TG -N -e "SELECT CONCAT(@@global.innodb_flush_log_at_trx_commit, ' ', @@global.sync_binlog)"; }
fsyncs() { q $TG -N -e "SHOW GLOBAL STATUS LIKE 'Innodb_data_fsyncs'" | cut -f2; }
[ "$(settings)" = "1 1" ] || fail "target not started durable: $(settings)"

instance_config shop "$S" shop 777
TM() { "$TM_BIN" --instance shop "$@"; }
q $S -e "CREATE DATABASE shop; USE shop; CREATE TABLE shop.acc (id INT PRIMARY KEY, bal BIGINT, note VARCHAR(64)) ENGINE=InnoDB;
         INSERT INTO shop.acc SELECT seq, 0, 'start' FROM seq_1_to_2000;
         CREATE TABLE shop.mv (id BIGINT AUTO_INCREMENT PRIMARY KEY, a INT, amount INT) ENGINE=InnoDB;"
TM --json backup db > "$T/b.json" || fail "backup"
START=$(python3 -c "import json;j=json.load(open('$T/b.json'));print(j['binlog']['file']+':'+str(j['binlog']['position']))")
"$TM_BIN" -q --instance shop binlog follow --start "$START" >>"$T/follow.log" 2>&1 & FPID=$!
cleanup_hooks+=("kill $FPID 2>/dev/null")
N=3000
awk -v n=$N 'BEGIN { srand(11); for (i = 1; i <= n; i++) { a = int(rand() * 2000) + 1; b = int(rand() * 2000) + 1;
  printf "BEGIN; UPDATE shop.acc SET bal = bal - %d, note = \"tx %d\" WHERE id = %d; UPDATE shop.acc SET bal = bal + %d WHERE id = %d; INSERT INTO shop.mv (a, amount) VALUES (%d, %d); COMMIT;\n", i % 100, i, a, i % 100, b, a, i % 100 } }' \
  | q $S || fail "workload"
END=$(q $S -N -e "SELECT @@gtid_binlog_pos")
stop_follower_at "$END"
sums() { q "$1" -N -e "CHECKSUM TABLE shop.acc, shop.mv" | awk '{print $1, $2}'; }
sums $S > "$T/src.sum"
no_conn() { [ -z "$(q $TG -N -e "SHOW ALL SLAVES STATUS")" ] || fail "$1: replication connection left on the target"; }
no_file() { ! ls "$T"/state/pitr-durability-*.json >/dev/null 2>&1 || fail "$1: state file left: $(ls "$T"/state/)"; }
# the transaction-by-transaction path: it is the one whose replay runs long enough to interrupt
# (the net path relaxes durability around its bulk apply too: pitr_net.sh)
RESTORE=(restore db --to-gtid "$END" --socket "$TG" --drop-existing --apply transactions)

# ---- (1) default, nothing else on the target: relaxed ----------------------------------------
TM --json "${RESTORE[@]}" --user root --plan > "$T/p1.json" || fail "(1) plan --json"
python3 -c "import json; d=json.load(open('$T/p1.json'))['durability']; assert d['mode']=='relaxed' and d['requested']=='default' and d['other_databases']==[] and d['innodb_flush_log_at_trx_commit']==1 and d['sync_binlog']==1, d" \
  || fail "(1) --plan --json durability"
f0=$(fsyncs)
TM "${RESTORE[@]}" --user root > "$T/r1.out" 2> "$T/r1.err" || { cat "$T/r1.out" "$T/r1.err"; fail "(1) restore"; }
f1=$(fsyncs)
grep -qF "durability: relaxed during replay (no other databases on the target): innodb_flush_log_at_trx_commit 1 -> 2, sync_binlog 1 -> 0" "$T/r1.out" \
  || { cat "$T/r1.out"; fail "(1) plan line"; }
grep -q "^verification: OK" "$T/r1.out" || { cat "$T/r1.out"; fail "(1) verification"; }
grep -q "summary: durability put back (innodb_flush_log_at_trx_commit=1, sync_binlog=1)" "$T/r1.out" || { cat "$T/r1.out"; fail "(1) summary"; }
tx=$(sed -n 's/^summary: replayed \([0-9]*\) transactions.*/\1/p' "$T/r1.out")
[ "$tx" = $N ] || fail "(1) replayed '$tx' transactions, expected $N"
[ $(( f1 - f0 )) -lt $(( tx / 2 )) ] || fail "(1) $(( f1 - f0 )) InnoDB fsyncs for $tx replayed transactions: not relaxed"
sums $TG | diff - "$T/src.sum" >&2 || fail "(1) CHECKSUM TABLE differs from the source"
[ "$(settings)" = "1 1" ] || fail "(1) settings after the restore: $(settings)"
no_conn "(1)"; no_file "(1)"
pass "(1) default: relaxed, $tx transactions with $(( f1 - f0 )) InnoDB fsyncs in all, checksums equal, settings back to 1 1"

# ---- (2) another database on the target: kept -----------------------------------------------
q $TG -e "CREATE DATABASE other; CREATE TABLE other.t (a INT PRIMARY KEY) ENGINE=InnoDB; INSERT INTO other.t VALUES (1)"
TM "${RESTORE[@]}" --user root --plan > "$T/p2.out" || fail "(2) plan"
grep -qxF "durability: kept (the target holds other databases: other; --durability relaxed to override)" "$T/p2.out" \
  || { cat "$T/p2.out"; fail "(2) plan line"; }
f0=$(fsyncs)
TM --json "${RESTORE[@]}" --user root > "$T/r2.json" 2> "$T/r2.err" || { cat "$T/r2.err"; fail "(2) restore"; }
f1=$(fsyncs)
python3 -c "import json; j=json.load(open('$T/r2.json')); assert j['verdict']=='verified' and j['transactions']==$N and j['durability']['mode']=='kept', j" \
  || fail "(2) json"
[ $(( f1 - f0 )) -ge $N ] || fail "(2) only $(( f1 - f0 )) InnoDB fsyncs for $N transactions: durability was not kept"
[ "$(settings)" = "1 1" ] || fail "(2) settings: $(settings)"
sums $TG | diff - "$T/src.sum" >&2 || fail "(2) CHECKSUM TABLE differs from the source"
TM "${RESTORE[@]}" --user root --plan --durability relaxed > "$T/p2b.out" || fail "(2) plan --durability relaxed"
grep -qF "durability: relaxed during replay (--durability relaxed, although the target holds other databases: other)" "$T/p2b.out" \
  || { cat "$T/p2b.out"; fail "(2) override line"; }
q $TG -e "DROP DATABASE other"
pass "(2) other database: kept ($(( f1 - f0 )) InnoDB fsyncs for $N transactions), --durability relaxed overrides"

# ---- (3) a user without SUPER -----------------------------------------------------------------
q $TG -e "CREATE USER lim@localhost IDENTIFIED BY 'limpw'; GRANT ALL PRIVILEGES ON *.* TO lim@localhost; REVOKE SUPER ON *.* FROM lim@localhost"
printf 'limpw\n' > "$T/limpw"; chmod 600 "$T/limpw"
sums $TG > "$T/before.sum"
expect_fail 2 "GRANT SUPER ON *.* TO 'lim'@'localhost'" TM "${RESTORE[@]}" --user lim --password-file "$T/limpw" --durability relaxed
grep -q "refused (nothing was touched)" "$T/err" || { cat "$T/err"; fail "(3) not refused in the plan phase"; }
sums $TG | diff -q - "$T/before.sum" >/dev/null || fail "(3) the target was changed"
[ "$(settings)" = "1 1" ] || fail "(3) settings: $(settings)"
no_conn "(3)"; no_file "(3)"
refusal=$(tail -1 "$T/err")
TM "${RESTORE[@]}" --user lim --password-file "$T/limpw" --plan > "$T/p3.out" || fail "(3) default plan"
grep -qF "durability: kept, not relaxed for the replay: the target user 'lim'@'localhost' lacks SUPER" "$T/p3.out" \
  || { cat "$T/p3.out"; fail "(3) fallback line"; }
[ "$(grep -c '^durability:' "$T/p3.out")" = 1 ] || fail "(3) more than one durability line"
pass "(3) refused: $refusal"

# ---- (4) kill -9 during the replay -----------------------------------------------------------
SNAPG=$(python3 -c "import json;print(json.load(open('$T/p1.json'))['snapshot_gtid'])")
TIDEMARK_TEST_PAUSE_REPLAY=12000:120000 "$TM_BIN" --instance shop "${RESTORE[@]}" --user root > "$T/k.out" 2> "$T/k.err" & KPID=$!
cleanup_hooks+=("kill -9 $KPID 2>/dev/null")
mid=
for _ in $(seq 1 600); do
  kill -0 $KPID 2>/dev/null || { cat "$T/k.out" "$T/k.err"; fail "(4) restore ended before the kill"; }
  pos=$(q $TG -N -e "SELECT @@gtid_slave_pos")
  if [ "$(settings)" = "2 0" ] && [ -n "$pos" ] && [ "$pos" != "$SNAPG" ]; then mid=$pos; break; fi
  sleep 0.1
done
[ -n "$mid" ] || fail "(4) the replay never started with relaxed settings"
kill -9 $KPID; wait $KPID 2>/dev/null || true
[ "$(settings)" = "2 0" ] || fail "(4) settings after kill -9: $(settings)"
sf=$(ls "$T"/state/pitr-durability-*.json 2>/dev/null) || fail "(4) no state file"
[ "$(stat -c %a "$sf")" = 600 ] || fail "(4) state file mode $(stat -c %a "$sf")"
TM "${RESTORE[@]}" --user root > "$T/r4.out" 2> "$T/r4.err" || { cat "$T/r4.out" "$T/r4.err"; fail "(4) restore after kill -9"; }
[ "$(grep -c '^tidemark: warn:' "$T/r4.err")" = 1 ] || { cat "$T/r4.err"; fail "(4) expected one warning line"; }
grep -q "^tidemark: warn: an interrupted restore (pid $KPID, started .*) left this server's durability relaxed: put back innodb_flush_log_at_trx_commit=1, sync_binlog=1$" "$T/r4.err" \
  || { cat "$T/r4.err"; fail "(4) warning line"; }
grep -q "^verification: OK" "$T/r4.out" || { cat "$T/r4.out"; fail "(4) verification"; }
grep -qF "durability: relaxed during replay (no other databases on the target)" "$T/r4.out" || { cat "$T/r4.out"; fail "(4) plan after the kill"; }
[ "$(settings)" = "1 1" ] || fail "(4) settings: $(settings)"
sums $TG | diff - "$T/src.sum" >&2 || fail "(4) CHECKSUM TABLE differs from the source"
no_conn "(4)"; no_file "(4)"
pass "(4) kill -9 at $mid left 2 0 and $(basename "$sf") (0600); the next restore: $(grep '^tidemark: warn:' "$T/r4.err")"

# ---- (5) SIGTERM during the replay -----------------------------------------------------------
TIDEMARK_TEST_PAUSE_REPLAY=12000:3000 "$TM_BIN" --instance shop "${RESTORE[@]}" --user root > "$T/t.out" 2> "$T/t.err" & KPID=$!
cleanup_hooks+=("kill -9 $KPID 2>/dev/null")
mid=
for _ in $(seq 1 600); do
  kill -0 $KPID 2>/dev/null || break
  pos=$(q $TG -N -e "SELECT @@gtid_slave_pos")
  if [ "$(settings)" = "2 0" ] && [ -n "$pos" ] && [ "$pos" != "$SNAPG" ]; then mid=$pos; break; fi
  sleep 0.1
done
[ -n "$mid" ] || { cat "$T/t.out" "$T/t.err"; fail "(5) the replay never started with relaxed settings"; }
kill -TERM $KPID; rc=0; wait $KPID || rc=$?
[ $rc = 130 ] || { cat "$T/t.err"; fail "(5) exit $rc after SIGTERM, expected 130"; }
grep -q "interrupted by SIGTERM during the replay.*durability settings put back" "$T/t.err" || { cat "$T/t.err"; fail "(5) message"; }
[ "$(settings)" = "1 1" ] || fail "(5) settings after SIGTERM: $(settings)"
no_conn "(5)"; no_file "(5)"
pass "(5) SIGTERM at $mid: exit 130, settings back to 1 1: $(tail -1 "$T/t.err")"
# ---- (6) the replay fails (the target cannot connect back): settings put back ----------------
expect_fail 4 "cannot connect back" TM "${RESTORE[@]}" --user root --advertise-host 127.0.0.2
grep -q "durability: relaxed during replay" "$T/out" || { cat "$T/out"; fail "(6) not relaxed"; }
[ "$(settings)" = "1 1" ] || fail "(6) settings after a failed replay: $(settings)"
no_conn "(6)"; no_file "(6)"
grep -q "now holds an incomplete restore: drop it, or rerun the same command with --drop-existing" "$T/err" \
  || { cat "$T/err"; fail "(6) no word on the incomplete target database"; }
pass "(6) failed replay: settings back to 1 1: $(tail -1 "$T/err")"
echo "pitr_durability: all checks passed"

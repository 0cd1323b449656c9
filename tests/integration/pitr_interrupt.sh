#!/usr/bin/env bash
# pitr_interrupt.sh: interrupting `restore db --to-gtid` on real servers (a SOURCE
# archived by the follower, a TARGET started durable, 1/1, max_allowed_packet 1 MiB
# so that the net apply sends its ~780 KB batches in several BINLOG statements):
#  (a) SIGINT during the net apply (held after batch 2 by TIDEMARK_TEST_PAUSE_APPLY):
#      exit 130 promptly, the message names where it stopped (table, rows applied of
#      the total) and the incomplete database, durability back to 1 1, no state file,
#      no transaction or connection of tidemark left on the target, the range not
#      applied; the same restore again with --drop-existing: CHECKSUM TABLE equals the
#      source at the target GTID;
#  (b) kill -9 during the net apply leaves 2 0 and the state file; the rerun warns once,
#      puts them back and restores correctly;
#  (c) SIGTERM during the SQL-thread replay with --durability keep (no guard used to be
#      installed then): exit 130, no replication connection left, rerun OK.
source "$(dirname "$0")/lib.sh"
SB="$TM_SRC/tests/support/mariadb-sandbox.sh"
eval "$(TM_DB_BUFFER_POOL=64M "$SB" start "$T/src")" || exit $?
S=$TM_DB_SOCKET; cleanup_hooks+=("'$SB' stop '$T/src'")
eval "$(TM_DB_BUFFER_POOL=64M TM_DB_SERVER_ID=2 "$SB" start "$T/tgt" 0 --innodb-flush-log-at-trx-commit=1 \
        --sync-binlog=1 --max-allowed-packet=1M)"
TG=$TM_DB_SOCKET; cleanup_hooks+=("'$SB' stop '$T/tgt'")
q() { local s=$1; shift; mariadb -S "$s" -uroot "$@"; }
settings() { q $TG -N -e "SELECT CONCAT(@@global.innodb_flush_log_at_trx_commit, ' ', @@global.sync_binlog)"; }
[ "$(settings)" = "1 1" ] || fail "target not started durable: $(settings)"

instance_config shop "$S" shop 777
TM() { "$TM_BIN" --instance shop "$@"; }
q $S -e "CREATE DATABASE shop; USE shop; CREATE TABLE shop.acc (id INT PRIMARY KEY, bal BIGINT, note VARCHAR(64)) ENGINE=InnoDB;
         INSERT INTO shop.acc SELECT seq, 0, 'start' FROM seq_1_to_2000;
         CREATE TABLE shop.mv (id BIGINT AUTO_INCREMENT PRIMARY KEY, a INT, pad VARCHAR(250)) ENGINE=InnoDB;"
TM --json backup db > "$T/b.json" || fail "backup"
START=$(python3 -c "import json;j=json.load(open('$T/b.json'));print(j['binlog']['file']+':'+str(j['binlog']['position']))")
"$TM_BIN" -q --instance shop binlog follow --start "$START" >>"$T/follow.log" 2>&1 & FPID=$!
cleanup_hooks+=("kill $FPID 2>/dev/null")
N=1500   # each: two updates of acc, 20 rows of ~230 bytes into mv: ~7 MB of write images
awk -v n=$N 'BEGIN { srand(7); for (i = 1; i <= n; i++) { a = int(rand() * 2000) + 1; b = int(rand() * 2000) + 1;
  printf "BEGIN; UPDATE shop.acc SET bal = bal - %d, note = \"tx %d\" WHERE id = %d; UPDATE shop.acc SET bal = bal + %d WHERE id = %d; INSERT INTO shop.mv (a, pad) SELECT seq, REPEAT(\"p%d\", 50) FROM seq_1_to_20; COMMIT;\n", i % 100, i, a, i % 100, b, i % 10 } }' \
  | q $S shop || fail "workload"
END=$(q $S -N -e "SELECT @@gtid_binlog_pos")
stop_follower_at "$END"
sums() { q "$1" -N -e "CHECKSUM TABLE shop.acc, shop.mv" | awk '{print $1, $2}'; }
sums $S > "$T/src.sum"
SRC_MV=$(q $S -N -e "SELECT COUNT(*) FROM shop.mv")
no_file() { ! ls "$T"/state/pitr-durability-*.json >/dev/null 2>&1 || fail "$1: state file left: $(ls "$T"/state/)"; }
no_conn() { [ -z "$(q $TG -N -e "SHOW ALL SLAVES STATUS")" ] || fail "$1: replication connection left on the target"; }
# tidemark's connections and transactions on the target, once the server has seen the disconnects
# (the sandbox has no other clients; this query's own connection is excluded)
leftovers() {
  local l=
  for _ in $(seq 1 50); do
    l=$(q $TG -N -e "SELECT CONCAT('connection ', ID, ' ', COMMAND, ' ', IFNULL(INFO, '')) FROM information_schema.PROCESSLIST
                     WHERE ID <> CONNECTION_ID() AND COMMAND NOT IN ('Daemon', 'Binlog Dump') AND USER <> 'system user'
                     UNION ALL SELECT CONCAT('transaction ', trx_id, ' ', trx_state) FROM information_schema.INNODB_TRX")
    [ -z "$l" ] && return 0
    sleep 0.1
  done
  echo "$l"
}
RESTORE=(restore db --to-gtid "$END" --socket "$TG" --user root --drop-existing)
# start_bg ENV=VALUE...: the restore in the background with that environment, its pid in BG
start_bg() { rm -f "$T/bg.out" "$T/bg.err"; env "$@" "$TM_BIN" --instance shop "${RESTORE[@]}" > "$T/bg.out" 2> "$T/bg.err" & BG=$!; cleanup_hooks+=("kill -9 $BG 2>/dev/null"); }
# wait_exit PID WHAT: its exit code in RC; fails when it is still running after 30 s (the
# pause would hold it for 10 min: a restore that does not stop on the signal fails here)
wait_exit() {
  for _ in $(seq 1 300); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$1" 2>/dev/null && { cat "$T/bg.err"; fail "$2: still running 30 s after the signal"; }
  RC=0; wait "$1" || RC=$?
}
wait_paused() {
  for _ in $(seq 1 1200); do
    grep -qs "^tidemark: test: apply paused after batch" "$T/bg.err" && return 0
    kill -0 $BG 2>/dev/null || { cat "$T/bg.out" "$T/bg.err"; fail "$1: the restore ended before the pause"; }
    sleep 0.1
  done
  fail "$1: the apply never paused"
}

# ---- (a) SIGINT during the net apply ---------------------------------------------------------
start_bg TIDEMARK_TEST_PAUSE_APPLY=2:600000
wait_paused "(a)"
[ "$(settings)" = "2 0" ] || fail "(a) settings during the apply: $(settings)"
kill -INT $BG; wait_exit $BG "(a)"
[ "$RC" = 130 ] || { cat "$T/bg.out" "$T/bg.err"; fail "(a) exit $RC after SIGINT, expected 130"; }
grep -Eq "^summary: the net apply stopped after [0-9]+ of [0-9]+ rows" "$T/bg.out" || { cat "$T/bg.out"; fail "(a) summary"; }
grep -Eq "interrupted by SIGINT during the bulk apply: net apply stopped at shop\.(mv|acc) \((prepare|write shard [12]/[12]), batch [0-9]+ not applied\)(.*)?: [0-9]+ of [0-9]+ rows applied, the open transactions rolled back; durability settings put back" "$T/bg.err" \
  || { cat "$T/bg.err"; fail "(a) message"; }
grep -q "the target database shop now holds an incomplete restore: drop it, or rerun the same command with --drop-existing" "$T/bg.err" \
  || { cat "$T/bg.err"; fail "(a) no word on the incomplete database"; }
[ "$(settings)" = "1 1" ] || fail "(a) settings after SIGINT: $(settings)"
no_file "(a)"
left=$(leftovers); [ -z "$left" ] || fail "(a) left on the target: $left"
got_mv=$(q $TG -N -e "SELECT COUNT(*) FROM shop.mv")
[ "$got_mv" -lt "$SRC_MV" ] || fail "(a) shop.mv has all $got_mv rows: the apply ran to its end"
msg=$(grep "interrupted by SIGINT" "$T/bg.err")
TM "${RESTORE[@]}" > "$T/r.out" 2> "$T/r.err" || { cat "$T/r.out" "$T/r.err"; fail "(a) rerun"; }
grep -q "^verification: OK" "$T/r.out" || { cat "$T/r.out"; fail "(a) rerun verification"; }
sums $TG | diff - "$T/src.sum" >&2 || fail "(a) CHECKSUM TABLE differs from the source after the rerun"
[ "$(settings)" = "1 1" ] || fail "(a) settings after the rerun: $(settings)"
pass "(a) SIGINT: exit 130, $got_mv of $SRC_MV mv rows, nothing left; rerun equal to the source: $msg"

# ---- (b) kill -9 during the net apply --------------------------------------------------------
start_bg TIDEMARK_TEST_PAUSE_APPLY=2:600000
wait_paused "(b)"
kill -9 $BG; wait $BG 2>/dev/null || true
[ "$(settings)" = "2 0" ] || fail "(b) settings after kill -9: $(settings)"
ls "$T"/state/pitr-durability-*.json >/dev/null 2>&1 || fail "(b) no state file after kill -9"
TM "${RESTORE[@]}" > "$T/r.out" 2> "$T/r.err" || { cat "$T/r.out" "$T/r.err"; fail "(b) rerun"; }
[ "$(grep -c '^tidemark: warn:' "$T/r.err")" = 1 ] || { cat "$T/r.err"; fail "(b) expected one warning line"; }
grep -q "^tidemark: warn: an interrupted restore (pid $BG, started .*) left this server's durability relaxed: put back innodb_flush_log_at_trx_commit=1, sync_binlog=1$" "$T/r.err" \
  || { cat "$T/r.err"; fail "(b) warning line"; }
grep -q "^verification: OK" "$T/r.out" || { cat "$T/r.out"; fail "(b) rerun verification"; }
sums $TG | diff - "$T/src.sum" >&2 || fail "(b) CHECKSUM TABLE differs from the source after the rerun"
[ "$(settings)" = "1 1" ] || fail "(b) settings: $(settings)"
no_file "(b)"
pass "(b) kill -9: the rerun recovered the settings ($(grep '^tidemark: warn:' "$T/r.err" | cut -c1-60)...) and equals the source"

# ---- (c) SIGTERM during the SQL-thread replay, durability kept -------------------------------
SNAPG=$(TM --json "${RESTORE[@]}" --plan | python3 -c "import json,sys;print(json.load(sys.stdin)['snapshot_gtid'])")
RESTORE+=(--apply transactions --durability keep)
start_bg TIDEMARK_TEST_PAUSE_REPLAY=2000:600000
mid=
for _ in $(seq 1 1200); do
  kill -0 $BG 2>/dev/null || { cat "$T/bg.out" "$T/bg.err"; fail "(c) the restore ended before the signal"; }
  pos=$(q $TG -N -e "SELECT @@gtid_slave_pos")
  if [ -n "$pos" ] && [ "$pos" != "$SNAPG" ] && [ -n "$(q $TG -N -e "SHOW ALL SLAVES STATUS")" ]; then mid=$pos; break; fi
  sleep 0.1
done
[ -n "$mid" ] || fail "(c) the replay never started"
grep -qx "durability: kept (--durability keep)" "$T/bg.out" || { cat "$T/bg.out"; fail "(c) durability not kept"; }
kill -TERM $BG; wait_exit $BG "(c)"
[ "$RC" = 130 ] || { cat "$T/bg.err"; fail "(c) exit $RC after SIGTERM, expected 130"; }
grep -q "interrupted by SIGTERM during the replay (the target server stopped at .*, short of $END)" "$T/bg.err" \
  || { cat "$T/bg.err"; fail "(c) message"; }
grep -q "now holds an incomplete restore" "$T/bg.err" || { cat "$T/bg.err"; fail "(c) no word on the incomplete database"; }
no_conn "(c)"; no_file "(c)"
[ "$(settings)" = "1 1" ] || fail "(c) settings: $(settings)"
TM "${RESTORE[@]}" > "$T/r.out" 2> "$T/r.err" || { cat "$T/r.out" "$T/r.err"; fail "(c) rerun"; }
grep -q "^verification: OK" "$T/r.out" || { cat "$T/r.out"; fail "(c) rerun verification"; }
sums $TG | diff - "$T/src.sum" >&2 || fail "(c) CHECKSUM TABLE differs from the source after the rerun"
no_conn "(c) rerun"
pass "(c) SIGTERM at $mid with --durability keep: exit 130, no replication connection left: $(grep 'interrupted by' "$T/bg.err" | cut -c1-120)"
echo "pitr_interrupt: all checks passed"

#!/usr/bin/env bash
# binlog_archive.sh FORMAT CHECKSUM COMPRESS HEAVY: the binlog follower
# against a real MariaDB (issue 5 tests).
#   - workload: inserts, updates, deletes, DDL, one transaction > 32 MiB
#     (one row > 16 MiB: a multi-packet event), FLUSH BINARY LOGS mid-way;
#   - HEAVY=1: kill -9 of the follower at 30 random moments during the
#     workload, a server restart and a KILL of the dump thread while it runs;
#   - then: the catalog is one unbroken chain (seq contiguous, every entry
#     connects), and every closed server binlog equals the exported file
#     byte for byte (so nothing is missing or duplicated);
#   - PURGE BINARY LOGS past the archived position while the follower is
#     stopped: follow and status both fail naming the broken window.
source "$(dirname "$0")/lib.sh"
FORMAT=${1:-ROW} CHECKSUM=${2:-CRC32} COMPRESS=${3:-OFF} HEAVY=${4:-0}
SB="$TM_SRC/tests/support/mariadb-sandbox.sh"
DB="$T/db"
export TM_DB_BINLOG_FORMAT=$FORMAT
eval "$("$SB" start "$DB" 0 --binlog-checksum="$CHECKSUM" --log-bin-compress="$COMPRESS")" || exit $?
cleanup_hooks+=("'$SB' stop '$DB'")
setup_repo
export TIDEMARK_DB_SOCKET="$TM_DB_SOCKET" TIDEMARK_DB_USER=root TIDEMARK_SPOOL_DIR="$T/spool"
export TIDEMARK_BINLOG_FLUSH_SECONDS=1
sql() { mariadb --socket="$TM_DB_SOCKET" -uroot "$@"; }
INST=(--instance it)

sql -e "CREATE DATABASE shop; CREATE TABLE shop.inv (id INT PRIMARY KEY AUTO_INCREMENT, ref VARCHAR(40), amount DECIMAL(12,2), note TEXT) ENGINE=InnoDB;
        CREATE TABLE shop.big (id INT PRIMARY KEY, b LONGBLOB) ENGINE=InnoDB"

# small transactions: round R, N of them
small_tx() {
  local r=$1 n=$2 i
  { for i in $(seq 1 "$n"); do
      echo "BEGIN; INSERT INTO shop.inv(ref, amount, note) VALUES ('R$r-$i', $i.25, REPEAT('n', $((i % 7 * 40))));"
      echo "UPDATE shop.inv SET amount = amount + 1 WHERE id % 13 = $((i % 13)); COMMIT;"
      if [ $((i % 10)) = 0 ]; then echo "DELETE FROM shop.inv WHERE id % 17 = $((i % 17)) LIMIT 2;"; fi
    done; } | sql
}
workload() {
  local r
  for r in $(seq 1 "${1:-12}"); do
    small_tx "$r" 60
    case $r in
      2) sql -e "ALTER TABLE shop.inv ADD COLUMN c$r INT DEFAULT $r; CREATE TABLE shop.t$r (a INT) ENGINE=InnoDB; DROP TABLE shop.t$r" ;;
      3) sql --max-allowed-packet=1G -e "BEGIN;
                 INSERT INTO shop.big SELECT seq, REPEAT(CHAR(65 + seq % 26), 1048576) FROM shop.seq_1_to_20;
                 INSERT INTO shop.big VALUES (100, REPEAT('z', 18874368)); COMMIT" ;;
      5) sql -e "FLUSH BINARY LOGS" ;;
      8) sql -e "ALTER TABLE shop.inv ADD INDEX (ref)" ;;
    esac
  done
}

FPID=
start_follower() { "$TM_BIN" -q binlog follow "${INST[@]}" --start binlog.000001:4 >>"$T/follow.log" 2>&1 & FPID=$!; }

if [ "$HEAVY" = 1 ]; then
  start_follower
  workload 14 & WPID=$!
  # 30 kill -9 at random moments while the workload runs (and a bit after)
  for i in $(seq 1 30); do
    sleep "0.$((RANDOM % 9 + 1))"
    kill -9 "$FPID" 2>/dev/null || true; wait "$FPID" 2>/dev/null || true
    start_follower
  done
  wait "$WPID"
  pass "30 kill -9 of the follower during the workload"
  # a connection cut: KILL the dump thread; the follower reconnects
  small_tx 90 30
  sleep 2
  for id in $(sql -N -e "SELECT id FROM information_schema.processlist WHERE command LIKE 'Binlog Dump%'"); do sql -e "KILL $id" || true; done
  small_tx 91 30
  # a server restart under the follower
  "$SB" stop "$DB"
  sleep 1
  eval "$("$SB" start "$DB" 0 --binlog-checksum="$CHECKSUM" --log-bin-compress="$COMPRESS")"
  small_tx 92 30
  sleep 4
  kill -0 "$FPID" 2>/dev/null || { tail -20 "$T/follow.log" >&2; fail "the follower died during restart/cut"; }
  kill -TERM "$FPID"; rc=0; wait "$FPID" || rc=$?
  [ "$rc" = 0 ] || { tail -20 "$T/follow.log" >&2; fail "follower exit $rc on SIGTERM"; }
  grep -q "reconnecting" "$T/follow.log" || fail "the follower never reconnected (log: $(tail -3 "$T/follow.log"))"
  pass "connection cut and server restart survived, SIGTERM exits 0"
else
  workload 8
fi
sql -e "FLUSH BINARY LOGS"
"$TM_BIN" -q binlog follow "${INST[@]}" --start binlog.000001:4 --until-idle 2>>"$T/follow.log" \
  || { tail -20 "$T/follow.log" >&2; fail "follow --until-idle"; }

# the catalog: one chain, seq 1..n, every entry connects
"$TM_BIN" --json binlog list "${INST[@]}" > "$T/list.json"
python3 - "$T/list.json" <<'PY' || fail "catalog chain"
import json, sys
segs = json.load(open(sys.argv[1]))
assert segs, "empty catalog"
for i, s in enumerate(segs):
    assert s["seq"] == i + 1, f"seq {s['seq']} at index {i}"
    assert s["connects"], f"entry {s['seq']} breaks: {s['break']}"
    assert s["link"] in ("start", "continue", "rotate", "next-file"), s
print(f"{len(segs)} segments, {sum(s['trx'] for s in segs)} transactions, chain unbroken")
PY
pass "catalog is one unbroken chain"

# byte-for-byte: every closed binlog file of the server
"$TM_BIN" -q binlog export "${INST[@]}" "$T/export"
active=$(sql -N -e "SHOW MASTER STATUS" | cut -f1)
n=0
for f in $(sql -N -e "SHOW BINARY LOGS" | cut -f1); do
  [ "$f" = "$active" ] && continue
  [ -f "$T/export/$f" ] || fail "export lacks $f"
  cmp "$DB/data/$f" "$T/export/$f" || fail "exported $f differs from the server's"
  n=$((n + 1))
done
[ "$n" -ge 2 ] || fail "only $n closed binlog files compared"
mariadb-binlog "$T/export/binlog.000001" > /dev/null || fail "mariadb-binlog cannot read the export"
pass "$n exported binlog files are byte-identical to the server's ($FORMAT, checksum $CHECKSUM, compress $COMPRESS)"

# the follower ran --until-idle and stopped: the one alarm is that it does
# not run (exit 6), the window is still shown
rc=0; "$TM_BIN" binlog status "${INST[@]}" > "$T/status.txt" 2>/dev/null || rc=$?
[ "$rc" = 6 ] && [ "$(grep -c ALARM "$T/status.txt")" = 1 ] \
  && grep -q '^ALARM: .* is not running (it ended in state "stopped"' "$T/status.txt" \
  || { cat "$T/status.txt"; fail "status of the stopped follower: exit $rc, expected 6 and only the not-running alarm"; }
grep -q "recoverable:" "$T/status.txt" || fail "status lacks the recoverable window"

# purge past the archived position while the follower is stopped
small_tx 99 20
sql -e "FLUSH BINARY LOGS"; small_tx 100 5; sql -e "FLUSH BINARY LOGS"
cur=$(sql -N -e "SHOW MASTER STATUS" | cut -f1)
# the server keeps binlogs InnoDB has not checkpointed yet: retry until gone
for i in $(seq 1 30); do
  sql -e "PURGE BINARY LOGS TO '$cur'" 2>/dev/null
  [ "$(sql -N -e "SHOW BINARY LOGS" | head -1 | cut -f1)" = "$cur" ] && break
  sleep 1
done
[ "$(sql -N -e "SHOW BINARY LOGS" | head -1 | cut -f1)" = "$cur" ] || fail "the server would not purge up to $cur"
rc=0; "$TM_BIN" binlog follow "${INST[@]}" --until-idle 2>"$T/purge.err" || rc=$?
[ "$rc" != 0 ] || fail "follow after a purge exited 0"
grep -q "point-in-time recovery broken between" "$T/purge.err" || { cat "$T/purge.err"; fail "no gap message"; }
rc=0; "$TM_BIN" binlog status "${INST[@]}" >"$T/status2.txt" 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "status after a gap exited 0"
grep -q "ALARM" "$T/status2.txt" || fail "status does not show the alarm"
rc=0; "$TM_BIN" --json binlog status "${INST[@]}" > "$T/status.json" 2>/dev/null || rc=$?
[ "$rc" != 0 ] || fail "json status after a gap exited 0"
python3 -c 'import json,sys; j=json.loads(open(sys.argv[1]).readline()); assert j["alarm"].startswith("point-in-time recovery broken between"), j' "$T/status.json" \
  || fail "json status lacks the alarm"
pass "purged binlog reported as a gap with a non-zero exit (follow $rc, status non-zero)"

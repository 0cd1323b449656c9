#!/usr/bin/env bash
# replay_pitr.sh: point-in-time replay through a real MariaDB replica SQL
# thread, tidemark (tm-replay) acting as the replication source, checked
# against the reference path (mariadb-binlog | mariadb) with CHECKSUM TABLE.
# A SOURCE server runs a mixed ROW / STATEMENT / MIXED workload (multi-
# statement transactions, DDL mid-stream, temporary tables, AUTO_INCREMENT +
# LAST_INSERT_ID, user variables, RAND(), utf8mb4, a 17 MiB statement, a
# 35 MiB row transaction); a TARGET (server-id 2) and a REFERENCE (server-id 3)
# load the same base dump and replay to the same GTIDs.
# Also: --target-db on the source server itself (events carry the target's
# own server_id), a GTID past the end, a target that cannot connect back.
set -euo pipefail

SRC=${TM_SRC:?}; BUILD=${TM_BUILD:?}
TOOL=${1:-$BUILD/restore/replay/tm-replay}
SB=$SRC/tests/support/mariadb-sandbox.sh
N=${REPLAY_TX:-2400}
[ -x "$TOOL" ] || { echo "replay_pitr: $TOOL not built" >&2; exit 1; }
command -v mariadb-binlog >/dev/null || { echo "replay_pitr: mariadb-binlog missing" >&2; exit 77; }

W=$(mktemp -d /tmp/tm-replay.XXXXXX)
cleanup() { for d in src tgt ref; do "$SB" stop "$W/$d" >/dev/null 2>&1 || true; done; rm -rf "$W"; }
trap cleanup EXIT

eval "$("$SB" start "$W/src")" || exit $?
S=$TM_DB_SOCKET
eval "$(TM_DB_SERVER_ID=2 "$SB" start "$W/tgt")"; T=$TM_DB_SOCKET
eval "$(TM_DB_SERVER_ID=3 "$SB" start "$W/ref")"; R=$TM_DB_SOCKET
q() { local sock=$1; shift; mariadb --default-character-set=utf8mb4 --max-allowed-packet=1G -S "$sock" -uroot "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

# ---- base ----------------------------------------------------------------
q $S <<'SQL'
CREATE DATABASE shop CHARACTER SET utf8mb4;
USE shop;
CREATE TABLE items (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(100), qty INT NOT NULL DEFAULT 0,
                    price DECIMAL(10,2), note TEXT) ENGINE=InnoDB;
CREATE TABLE log (id BIGINT AUTO_INCREMENT PRIMARY KEY, item_id INT, msg VARCHAR(200), r DOUBLE) ENGINE=InnoDB;
CREATE TABLE big (id INT AUTO_INCREMENT PRIMARY KEY, b LONGTEXT) ENGINE=InnoDB;
INSERT INTO items (name, qty, price) SELECT CONCAT('item ', seq), seq, seq * 1.25 FROM seq_1_to_50;
SQL
q $S -e "FLUSH BINARY LOGS"
mariadb-dump -S $S -uroot --default-character-set=utf8mb4 --single-transaction --gtid --master-data=2 \
  --databases shop > "$W/base.sql"
BASE=$(sed -n "s/^-- SET GLOBAL gtid_slave_pos='\(.*\)';/\1/p" "$W/base.sql")
[ -n "$BASE" ] || fail "no GTID in the base dump"
echo "base at $BASE"

# ---- workload ------------------------------------------------------------
gen() {
  echo "USE shop;"
  for i in $(seq 1 "$N"); do
    case $(( i * 3 / N )) in 0) f=ROW ;; 1) f=STATEMENT ;; *) f=MIXED ;; esac
    [ $(( i % (N / 3) )) = 1 ] && echo "SET SESSION binlog_format=$f;"
    case $(( i % 10 )) in
      0) echo "BEGIN; INSERT INTO items (name, qty, price, note) VALUES ('ünïcödé ✓ 🎉 $i', $i, $i.5, REPEAT('é', $(( i % 97 ))));
              SET @last = LAST_INSERT_ID(); INSERT INTO log (item_id, msg, r) VALUES (@last, CONCAT('new ', @last), RAND($i));
              UPDATE items SET qty = qty - 1 WHERE id = @last; COMMIT;" ;;
      1) echo "SET @v := $i * 7; BEGIN; UPDATE items SET qty = qty + @v, price = price * 1.01 WHERE id % 13 = $(( i % 13 ));
              INSERT INTO log (item_id, msg, r) VALUES (@v, 'uservar', RAND()); COMMIT;" ;;
      2) echo "CREATE TEMPORARY TABLE tt (k INT, v VARCHAR(40)); INSERT INTO tt VALUES ($i, 'temp $i'), ($(( i + 1 )), 'temp ☃');
              INSERT INTO log (item_id, msg, r) SELECT k, v, k / 3 FROM tt; DROP TEMPORARY TABLE tt;" ;;
      3) echo "DELETE FROM log WHERE id % 17 = $(( i % 17 )) AND id < $(( i / 2 ));" ;;
      4) echo "BEGIN; INSERT INTO log (item_id, msg, r) VALUES (1, 'a', 0.5), (2, 'b', 1.5); UPDATE log SET msg = CONCAT(msg, '+') WHERE id = LAST_INSERT_ID(); ROLLBACK;
              INSERT INTO items (name) VALUES ('autocommit $i');" ;;
      *) echo "INSERT INTO log (item_id, msg, r) VALUES ($(( i % 50 + 1 )), 'plain $i', $i / 7);" ;;
    esac
    if [ $(( i % 400 )) = 200 ]; then
      echo "ALTER TABLE items ADD COLUMN c$i INT DEFAULT $i; CREATE TABLE tmp_$i (id INT PRIMARY KEY, s VARCHAR(20));
            INSERT INTO tmp_$i VALUES (1, 'x'), (2, 'y'); RENAME TABLE tmp_$i TO kept_$i;"
      [ $i -gt 400 ] && echo "DROP TABLE IF EXISTS kept_$(( i - 400 ));"
    fi
  done
  echo "SET SESSION binlog_format=STATEMENT;"
  python3 -c "print(\"INSERT INTO big (b) VALUES ('\" + 'z' * (17 << 20) + \"');\")"
  echo "SET SESSION binlog_format=ROW; BEGIN; INSERT INTO big (b) SELECT REPEAT(CHAR(65 + seq % 26), 1000) FROM seq_1_to_35000; COMMIT;"
  echo "INSERT INTO log (item_id, msg) VALUES (0, 'the end');"
}
gen > "$W/work.sql"
q $S < "$W/work.sql" 2>"$W/work.err" || { cat "$W/work.err"; fail "workload failed"; }
q $S -e "FLUSH BINARY LOGS"
END=$(q $S -N -e "SELECT @@gtid_binlog_pos")
mapfile -t FILES < <(sed 's|^\./||' "$W/src/data/binlog.index" | while read -r f; do echo "$W/src/data/${f##*/}"; done)
unset 'FILES[${#FILES[@]}-1]'   # the new, still open file holds nothing of ours
echo "workload ended at $END over ${#FILES[@]} binlog files"
D=${END%%-*}; rest=${END#*-}; SID=${rest%%-*}; LAST=${rest#*-}
B=${BASE##*-}

load_base() { # sock db
  q "$1" -e "SET sql_log_bin=0; DROP DATABASE IF EXISTS $2"
  sed "s/\`shop\`/\`$2\`/g" "$W/base.sql" | q "$1" --init-command="SET sql_log_bin=0"
}
sums() { # sock db -> "table checksum" lines
  for t in $(q "$1" -N -e "SELECT table_name FROM information_schema.tables WHERE table_schema='$2' ORDER BY 1"); do
    q "$1" -N -e "CHECKSUM TABLE \`$2\`.\`$t\`" | awk -v t="$t" '{print t, $2}'
  done
}
clean_target() { # sock: no replication connection or filter left behind
  [ -z "$(q "$1" -N -e "SHOW ALL SLAVES STATUS")" ] || fail "replication connection left on the target"
  [ "$(q "$1" -N -e "SELECT @@global.gtid_strict_mode")" = 1 ] || fail "gtid_strict_mode not restored"
}

check_point() { # gtid
  local g=$1
  load_base $T shop
  "$TOOL" run --socket $T --user root --start "$BASE" --until "$g" "${FILES[@]}" > "$W/run.out" 2>"$W/run.err" \
    || { cat "$W/run.err"; fail "replay to $g failed"; }
  grep -q "reached=$g" "$W/run.out" || { cat "$W/run.out"; fail "replay did not reach $g"; }
  load_base $R shop
  mariadb-binlog --start-position="$BASE" --stop-position="$g" "${FILES[@]}" \
    | q $R --init-command="SET sql_log_bin=0" || fail "reference apply to $g failed"
  sums $T shop > "$W/t.sum"; sums $R shop > "$W/r.sum"
  diff "$W/t.sum" "$W/r.sum" >&2 || fail "checksums differ at $g"
  clean_target $T
  echo "ok: $g ($(wc -l < "$W/t.sum") tables identical; $(cat "$W/run.out"))"
}

# ---- targets: ROW part, STATEMENT part, MIXED part, the very end ------------
for frac in 20 50 83; do
  check_point "$D-$SID-$(( B + (LAST - B) * frac / 100 ))"
done
check_point "$END"

# ---- --target-db on the source itself (events carry its own server_id) ------
G="$D-$SID-$(( B + (LAST - B) * 2 / 3 ))"
load_base $S shop_restored
"$TOOL" run --socket $S --user root --start "$BASE" --until "$G" --rewrite-db shop:shop_restored "${FILES[@]}" \
  > "$W/run.out" 2>"$W/run.err" || { cat "$W/run.err"; fail "in-place replay to $G failed"; }
load_base $R shop
mariadb-binlog --start-position="$BASE" --stop-position="$G" "${FILES[@]}" | q $R --init-command="SET sql_log_bin=0"
sums $S shop_restored > "$W/t.sum"; sums $R shop > "$W/r.sum"
diff "$W/t.sum" "$W/r.sum" >&2 || fail "target-db replay differs at $G"
clean_target $S
[ -z "$(q $S -N -e "SHOW SLAVE 'tidemark_replay' STATUS" 2>/dev/null)" ] || fail "connection left"
echo "ok: --target-db shop_restored on the source server itself at $G"

# ---- refusals ---------------------------------------------------------------
load_base $T shop
if "$TOOL" run --socket $T --user root --start "$BASE" --until "$D-$SID-$(( LAST + 5 ))" --timeout 30 "${FILES[@]}" 2>"$W/err"; then
  fail "a GTID past the end was accepted"
fi
grep -q "ended at" "$W/err" || { cat "$W/err"; fail "no clear message for a GTID past the end"; }
clean_target $T
echo "ok: past-the-end GTID refused: $(tail -1 "$W/err")"

if "$TOOL" run --socket $T --user root --start "$BASE" --until "$END" --advertise-host 127.0.0.2 "${FILES[@]}" 2>"$W/err"; then
  fail "replay succeeded although the target cannot connect back"
fi
grep -q "cannot connect back" "$W/err" && grep -q "mariadb-binlog" "$W/err" || { cat "$W/err"; fail "unclear connect-back error"; }
clean_target $T
echo "ok: unreachable source reported: $(tail -1 "$W/err")"
echo "replay_pitr: all checks passed"

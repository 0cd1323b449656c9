#!/usr/bin/env bash
# bench/replay.sh: point-in-time replay speed, three ways over the same
# binlogs and the same base, on a fresh target each time:
#   (a) mariadb-binlog | mariadb                  (the text path)
#   (b) a real replica pulling from the source    (START SLAVE UNTIL: the limit)
#   (c) tm-replay: tidemark as the replication source (the target's SQL thread)
# Usage: bench/replay.sh BUILD_DIR [N_TRANSACTIONS]   (default 50000)
# Prints seconds and ratios; nothing is asserted (benchmarks are not tests).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:?build dir}; N=${2:-50000}
TOOL=$BUILD/restore/replay/tm-replay
SB=$ROOT/tests/support/mariadb-sandbox.sh
W=$(mktemp -d /tmp/tm-bench-replay.XXXXXX)
trap '"$SB" stop "$W/src" >/dev/null 2>&1; "$SB" stop "$W/tgt" >/dev/null 2>&1; rm -rf "$W"' EXIT
eval "$("$SB" start "$W/src")"; S=$TM_DB_SOCKET; SPORT=$TM_DB_PORT
# BENCH_TARGET_OPTS: extra mysqld options of the target (e.g. --innodb-flush-log-at-trx-commit=1)
# shellcheck disable=SC2086
eval "$(TM_DB_SERVER_ID=2 "$SB" start "$W/tgt" 0 ${BENCH_TARGET_OPTS:-})"; T=$TM_DB_SOCKET
q() { local s=$1; shift; mariadb -S "$s" -uroot "$@"; }
now() { date +%s.%N; }

q $S -e "CREATE DATABASE b; USE b; CREATE TABLE b.acc (id INT PRIMARY KEY, bal BIGINT, note VARCHAR(64)) ENGINE=InnoDB;
         INSERT INTO b.acc SELECT seq, 0, 'start' FROM seq_1_to_10000;
         CREATE TABLE b.mv (id BIGINT AUTO_INCREMENT PRIMARY KEY, a INT, amount INT, ts TIMESTAMP DEFAULT CURRENT_TIMESTAMP) ENGINE=InnoDB;
         FLUSH BINARY LOGS; CREATE USER repl@'%' IDENTIFIED BY 'replpw'; GRANT REPLICATION SLAVE ON *.* TO repl@'%';"
mariadb-dump -S $S -uroot --single-transaction --gtid --master-data=2 --databases b > "$W/base.sql"
BASE=$(sed -n "s/^-- SET GLOBAL gtid_slave_pos='\(.*\)';/\1/p" "$W/base.sql")
echo "generating $N row-based transactions..."
t0=$(now)
awk -v n="$N" 'BEGIN { srand(7); for (i = 1; i <= n; i++) { a = int(rand() * 10000) + 1; b = int(rand() * 10000) + 1;
  printf "BEGIN; UPDATE b.acc SET bal = bal - %d, note = \"tx %d\" WHERE id = %d; UPDATE b.acc SET bal = bal + %d WHERE id = %d; INSERT INTO b.mv (a, amount) VALUES (%d, %d); COMMIT;\n", i % 100, i, a, i % 100, b, a, i % 100 } }' \
  | q $S
t1=$(now)
q $S -e "FLUSH BINARY LOGS"
END=$(q $S -N -e "SELECT @@gtid_binlog_pos")
mapfile -t FILES < <(sed 's|^\./||' "$W/src/data/binlog.index" | while read -r f; do echo "$W/src/data/${f##*/}"; done)
unset 'FILES[${#FILES[@]}-1]'
BYTES=$(cat "${FILES[@]}" | wc -c)
printf 'workload: %d transactions written in %.1f s, binlogs %d bytes, %s -> %s\n' "$N" "$(echo "$t1 - $t0" | bc)" "$BYTES" "$BASE" "$END"

reset_target() {
  q $T -e "STOP ALL SLAVES; RESET SLAVE 'src' ALL; SET sql_log_bin=0; DROP DATABASE IF EXISTS b" 2>/dev/null || true
  q $T --init-command="SET sql_log_bin=0" < "$W/base.sql"
  q $T -e "SET GLOBAL gtid_strict_mode=0; SET GLOBAL gtid_slave_pos='$BASE'"
}
checksum() { q $T -N -e "CHECKSUM TABLE b.acc, b.mv" | awk '{printf "%s ", $2}'; }

reset_target
t0=$(now); mariadb-binlog --start-position="$BASE" --stop-position="$END" "${FILES[@]}" | q $T --init-command="SET sql_log_bin=0"; t1=$(now)
A=$(echo "$t1 - $t0" | bc); CA=$(checksum)

reset_target
q $T -e "CHANGE MASTER 'src' TO master_host='127.0.0.1', master_port=$SPORT, master_user='repl', master_password='replpw', master_use_gtid=slave_pos"
t0=$(now); q $T -e "START SLAVE 'src' UNTIL master_gtid_pos='$END'"
while [ "$(q $T -N -e "SELECT @@gtid_slave_pos")" != "$END" ]; do sleep 0.05; done; t1=$(now)
q $T -e "STOP SLAVE 'src'; RESET SLAVE 'src' ALL"
B=$(echo "$t1 - $t0" | bc); CB=$(checksum)

reset_target
q $T -e "SET GLOBAL gtid_strict_mode=1"
t0=$(now); /usr/bin/time -f "tm-replay cpu: user %U s sys %S s" "$TOOL" run --socket $T --user root --start "$BASE" --until "$END" "${FILES[@]}"; t1=$(now)
C=$(echo "$t1 - $t0" | bc); CC=$(checksum)

printf '(a) mariadb-binlog | mariadb : %6.1f s  %6.0f tx/s  checksums %s\n' "$A" "$(echo "$N / $A" | bc -l)" "$CA"
printf '(b) replica from the source  : %6.1f s  %6.0f tx/s  checksums %s\n' "$B" "$(echo "$N / $B" | bc -l)" "$CB"
printf '(c) tm-replay (tidemark src) : %6.1f s  %6.0f tx/s  checksums %s\n' "$C" "$(echo "$N / $C" | bc -l)" "$CC"
printf 'ratios: (a)/(c) = %.1fx faster than the text path; (c)/(b) = %.2f of the replica limit\n' \
  "$(echo "$A / $C" | bc -l)" "$(echo "$C / $B" | bc -l)"
[ "$CA" = "$CB" ] && [ "$CB" = "$CC" ] && echo "checksums identical" || echo "CHECKSUMS DIFFER"

#!/usr/bin/env bash
# pitr_net.sh: the net-change apply path of `restore db --to/--to-gtid/--before-gtid`
# against real servers: a SOURCE (server-id 1, follower archiving), a TARGET
# (server-id 2, durable settings 1/1) restored by tidemark, a REFERENCE (server-id 3)
# given the same snapshot plus `mariadb-binlog --start-position/--stop-position | mariadb`.
#  (1) ROW workload over several tables and two GTID domains (multi-row inserts, PK
#      changes, delete + re-insert, a unique key swapped inside a transaction, a table
#      without PK, a VARCHAR PK, a composite PK, AUTO_INCREMENT rows inserted then
#      deleted at the top, NULLs, utf8mb4, BLOBs, a row > 16 MiB, a database that is
#      not restored): random --to-gtid/--before-gtid/--to targets restored with the
#      default (the JSON must say net) and with --apply transactions, each equal to the
#      reference (CHECKSUM TABLE of every table, information_schema AUTO_INCREMENT,
#      gtid_slave_pos = the target); durability relaxed and put back around the apply;
#      A table with two UNIQUE secondary keys (uk) whose rows are updated with their unique
#      columns kept (emitted as updates) and changed, swapped between two rows inside a
#      transaction, moved to another key by delete + insert (emitted as delete + write), a
#      table without unique keys (plain), and a table holding most of the write bytes up to
#      the end of batch 1 (wide, with a unique key), which the apply writes in two shards
#      at once (the -v debug line and apply.split_tables say so; JSON rows_updated > 0);
#  (2) --target-db rename through the net path;
#  (3) fallbacks with the right result and the reason: a STATEMENT-format event, a DDL,
#      an ON DELETE CASCADE foreign key (and --apply net refused after the load), a user
#      without BINLOG REPLAY (auto falls back; --apply net refused before the load with
#      the GRANT);
#  (4) verify-chain: its first pair goes through the net path and is proven by hash.
source "$(dirname "$0")/lib.sh"
command -v mariadb-binlog >/dev/null || { echo "SKIP: mariadb-binlog missing"; exit 77; }
SB="$TM_SRC/tests/support/mariadb-sandbox.sh"
SEED=${PITR_SEED:-$RANDOM}; RANDOM=$SEED; echo "seed $SEED (PITR_SEED to repeat)"
eval "$(TM_DB_BUFFER_POOL=64M "$SB" start "$T/src")" || exit $?
S=$TM_DB_SOCKET; SRCDIR=$TM_DB_DIR; cleanup_hooks+=("'$SB' stop '$T/src'")
eval "$(TM_DB_BUFFER_POOL=64M TM_DB_SERVER_ID=2 "$SB" start "$T/tgt" 0 --innodb-flush-log-at-trx-commit=1 --sync-binlog=1)"
TG=$TM_DB_SOCKET; cleanup_hooks+=("'$SB' stop '$T/tgt'")
eval "$(TM_DB_BUFFER_POOL=64M TM_DB_SERVER_ID=3 "$SB" start "$T/ref")"; RF=$TM_DB_SOCKET; cleanup_hooks+=("'$SB' stop '$T/ref'")
q() { local s=$1; shift; mariadb --default-character-set=utf8mb4 --max-allowed-packet=1G -S "$s" -uroot "$@"; }
export TZ=UTC

instance_config shop "$S" shop 777
TM() { "$TM_BIN" --instance shop "$@"; }
settings() { q $TG -N -e "SELECT CONCAT(@@global.innodb_flush_log_at_trx_commit, ' ', @@global.sync_binlog)"; }

q $S <<'SQL'
CREATE DATABASE shop CHARACTER SET utf8mb4;
USE shop;
CREATE TABLE items (id INT AUTO_INCREMENT PRIMARY KEY, code VARCHAR(20) UNIQUE, name VARCHAR(100),
                    qty INT NOT NULL DEFAULT 0, price DECIMAL(10,2), note TEXT, b BLOB, d DATETIME(3)) ENGINE=InnoDB;
CREATE TABLE log (id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, item_id INT, msg VARCHAR(200)) ENGINE=InnoDB;
CREATE TABLE nopk (a INT, b VARCHAR(50), c BLOB) ENGINE=InnoDB;
CREATE TABLE vpk (k VARCHAR(40) PRIMARY KEY, v INT, t TEXT) ENGINE=InnoDB;
CREATE TABLE comp (a INT, d DATE, v VARCHAR(30), PRIMARY KEY (a, d)) ENGINE=InnoDB;
CREATE TABLE big (id INT PRIMARY KEY, b LONGBLOB) ENGINE=InnoDB;
CREATE TABLE d7 (id INT AUTO_INCREMENT PRIMARY KEY, v INT, s VARCHAR(20)) ENGINE=InnoDB;
CREATE TABLE uk (id INT PRIMARY KEY, email VARCHAR(60) NOT NULL, a INT, b INT, name VARCHAR(60), qty INT,
                 UNIQUE KEY uk_email (email), UNIQUE KEY uk_ab (a, b), KEY k_qty (qty)) ENGINE=InnoDB;
CREATE TABLE plain (id INT PRIMARY KEY, v INT, t VARCHAR(60), KEY kv (v)) ENGINE=InnoDB;
CREATE TABLE wide (id INT AUTO_INCREMENT PRIMARY KEY, ref VARCHAR(30) NOT NULL UNIQUE, pad VARCHAR(2000), n INT) ENGINE=InnoDB;
CREATE TABLE `odd``name` (id INT AUTO_INCREMENT PRIMARY KEY, v INT) ENGINE=InnoDB;   -- a backtick in a name
INSERT INTO items (code, name, qty, price) SELECT CONCAT('c', seq), CONCAT('item ', seq), seq, seq * 1.25 FROM seq_1_to_200;
INSERT INTO vpk SELECT CONCAT('k', seq), seq, REPEAT('é', seq) FROM seq_1_to_50;
INSERT INTO comp SELECT seq, '2026-01-01' + INTERVAL seq DAY, CONCAT('v', seq) FROM seq_1_to_50;
INSERT INTO nopk SELECT seq % 10, CONCAT('n', seq), NULL FROM seq_1_to_50;
INSERT INTO big VALUES (1, 'small');
INSERT INTO d7 (v, s) SELECT seq, 'd7' FROM seq_1_to_20;
INSERT INTO uk SELECT seq, CONCAT('u', seq, '@x'), seq % 7, seq, CONCAT('n', seq), 0 FROM seq_1_to_60;
INSERT INTO plain SELECT seq, seq, 'p' FROM seq_1_to_60;
INSERT INTO wide (ref, pad, n) SELECT CONCAT('w0_', seq), REPEAT('w', 100), seq FROM seq_1_to_50;
INSERT INTO log (item_id, msg) SELECT seq, 'start' FROM seq_1_to_30;
CREATE DATABASE other;
CREATE TABLE other.t (id INT PRIMARY KEY, v INT) ENGINE=InnoDB;
INSERT INTO other.t SELECT seq, 0 FROM seq_1_to_20;
SQL
TM --json backup db > "$T/s1.json" || fail "snapshot S1"
S1POS=$(python3 -c "import json;j=json.load(open('$T/s1.json'));print(j['binlog']['file']+':'+str(j['binlog']['position']))")
"$TM_BIN" -q --instance shop binlog follow --start "$S1POS" >>"$T/follow.log" 2>&1 & FPID=$!
cleanup_hooks+=("kill $FPID 2>/dev/null")

batch() { # B: one batch of ROW transactions, every case of the header
  local b=$1 i k
  echo "USE shop;"
  for i in $(seq 1 12); do
    k=$(( (b * 12 + i) % 140 + 1 ))
    echo "INSERT INTO items (code, name, qty, price, note, b, d) VALUES ('m${b}_${i}_1', 'ü✓😀 b$b i$i', $i, $i.5, NULL, UNHEX('00FF$i'), NOW(3)),
            ('m${b}_${i}_2', NULL, $b, NULL, REPEAT('é', $i), NULL, NULL), ('m${b}_${i}_3', '日本 $i', 0, 1.5, 'x', '', '2026-01-01');"
    echo "UPDATE items SET qty = qty + $b, note = IF(qty % 2, NULL, CONCAT('n', $i)) WHERE id % 7 = $(( i % 7 ));"
    case $(( i % 6 )) in
      0) echo "UPDATE items SET id = -id WHERE id = $k;" ;;                              # a primary key change
      1) echo "DELETE FROM items WHERE id = $(( k + 1 ));" ;;
      2) echo "BEGIN; DELETE FROM items WHERE id = $(( k + 2 )); INSERT INTO items (id, code, name) VALUES ($(( k + 2 )), 'r${b}_$i', 'again'); COMMIT;" ;;
      3) echo "BEGIN; SET @ca = (SELECT code FROM items WHERE id = $(( 150 + b ))), @cb = (SELECT code FROM items WHERE id = $(( 170 + b )));
              UPDATE items SET code = NULL WHERE id = $(( 150 + b )); UPDATE items SET code = @ca WHERE id = $(( 170 + b ));
              UPDATE items SET code = @cb WHERE id = $(( 150 + b )); COMMIT;" ;;            # unique key swapped
      4) echo "INSERT INTO log (item_id, msg) VALUES ($i, 'a'), ($i, 'b'), ($i, 'c'); DELETE FROM log ORDER BY id DESC LIMIT 2;" ;;
      5) echo "BEGIN; UPDATE shop.items SET price = price + 1 WHERE id = $(( 180 + b )); INSERT INTO other.t VALUES ($(( 100 + b * 12 + i )), $i); UPDATE other.t SET v = v + 1 WHERE id < 5; COMMIT;" ;;
    esac
    echo "INSERT INTO nopk VALUES ($i, 'b$b', UNHEX('CAFE')), ($i, NULL, NULL); UPDATE nopk SET b = CONCAT(IFNULL(b, '-'), '+') WHERE a = $(( i % 10 )); DELETE FROM nopk WHERE a = $(( (i + 3) % 10 )) LIMIT 1;"
    echo "INSERT INTO vpk VALUES ('n${b}_$i', $i, NULL) ON DUPLICATE KEY UPDATE v = v + 1; UPDATE vpk SET k = CONCAT(k, 'x'), v = v + 100 WHERE k = 'k$(( (b * 12 + i) % 50 + 1 ))'; DELETE FROM vpk WHERE k = 'n${b}_$(( i - 1 ))';"
    echo "UPDATE comp SET v = CONCAT(v, '.'), d = d + INTERVAL 1 YEAR WHERE a = $(( (b * 12 + i) % 50 + 1 )); INSERT INTO comp VALUES ($(( 100 + i )), '2027-0$(( b % 9 + 1 ))-01', NULL);"
    echo "SET SESSION gtid_domain_id = 7; INSERT INTO d7 (v, s) VALUES ($i, 'b$b'), ($b, NULL); UPDATE d7 SET v = v * 2 WHERE id = $(( i + b )); DELETE FROM d7 WHERE id = $(( 20 + b * 24 + i )); SET SESSION gtid_domain_id = 0;"
  done
  # unique secondary keys: kept (update), swapped, changed, moved to another key (delete + write)
  echo "UPDATE uk SET qty = qty + $b, name = CONCAT(name, '.') WHERE id % 5 = $(( b % 5 ));
        BEGIN; SET @ea = (SELECT email FROM uk WHERE id = $(( b + 1 ))), @eb = (SELECT email FROM uk WHERE id = $(( b + 20 )));
        UPDATE uk SET email = 'swap' WHERE id = $(( b + 1 )); UPDATE uk SET email = @ea, qty = qty + 1 WHERE id = $(( b + 20 ));
        UPDATE uk SET email = @eb WHERE id = $(( b + 1 )); COMMIT;
        UPDATE uk SET a = a + 100, name = 'ab' WHERE id = $(( b + 30 ));
        BEGIN; SET @em = (SELECT email FROM uk WHERE id = $(( b + 40 ))); DELETE FROM uk WHERE id = $(( b + 40 ));
        INSERT INTO uk VALUES ($(( 100 + b )), @em, 1000 + $b, 0, 'moved', 0); COMMIT;
        UPDATE uk SET qty = qty + 1 WHERE id = $(( 100 + b - 1 ));"
  echo "UPDATE plain SET v = v + 1, t = CONCAT(t, 'x') WHERE id % 4 = $(( b % 4 )); DELETE FROM plain WHERE id = $(( 50 + b ));
        INSERT INTO plain VALUES ($(( 100 + b )), $b, 'new'), ($(( 50 + b )), -$b, 'again');"
  echo "INSERT INTO wide (ref, pad, n) SELECT CONCAT('w${b}_', seq), REPEAT(CHAR(65 + seq % 26), 1500), seq FROM seq_1_to_300;
        UPDATE wide SET n = n + 1 WHERE id % 10 = $b; DELETE FROM wide WHERE id % 50 = $b;
        UPDATE wide SET ref = CONCAT(ref, 'r') WHERE id % 60 = $b;"
  echo "INSERT INTO log (item_id, msg) VALUES ($b, 'end of batch');"   # domain 0 ends every batch
  case $b in
    2) echo "UPDATE big SET b = REPEAT(MD5('big'), 17 * 1024 * 1024 / 32 + 5) WHERE id = 1;" ;;   # a row > 16 MiB
    3) echo "INSERT INTO big VALUES (2, REPEAT('y', 1000)); UPDATE big SET b = CONCAT(b, 'z') WHERE id = 1;" ;;
    4) echo "INSERT INTO log (item_id, msg) VALUES (0, 'top1'), (0, 'top2'), (0, 'top3'); DELETE FROM log WHERE msg LIKE 'top%';"   # AUTO_INCREMENT at the top
       echo 'INSERT INTO `odd``name` (v) VALUES (1), (2), (3); DELETE FROM `odd``name` WHERE v > 1;' ;;   # the same, quoted name
  esac
  return 0
}
declare -A BT
for b in 1 2 3 4 5; do
  batch $b | q $S || fail "workload batch $b"
  [ $b = 1 ] && G1=$(q $S -N -e "SELECT @@gtid_binlog_pos")
  BT[$b]=$(date +%s); sleep 1.1
done
TM --json backup db > "$T/s2.json" || fail "snapshot S2"
# after S2: a STATEMENT-format event, S3, a DDL, a cascading foreign key, S4, deletes that cascade
q $S shop -e "SET SESSION binlog_format = STATEMENT; UPDATE items SET qty = qty + 1 WHERE id < 50;
              SET SESSION binlog_format = ROW; UPDATE items SET qty = qty + 2 WHERE id < 60;"
GSTMT=$(q $S -N -e "SELECT @@gtid_binlog_pos")
TM --json backup db > "$T/s3.json" || fail "snapshot S3"
q $S shop -e "UPDATE items SET qty = 0 WHERE id = 3; ALTER TABLE items ADD COLUMN extra INT DEFAULT 7; UPDATE items SET extra = id WHERE id < 20;"
GDDL=$(q $S -N -e "SELECT @@gtid_binlog_pos")
q $S shop -e "CREATE TABLE par (id INT PRIMARY KEY) ENGINE=InnoDB;
              CREATE TABLE chi (id INT PRIMARY KEY, p INT, FOREIGN KEY (p) REFERENCES par (id) ON DELETE CASCADE) ENGINE=InnoDB;
              INSERT INTO par SELECT seq FROM seq_1_to_10; INSERT INTO chi SELECT seq, seq % 10 + 1 FROM seq_1_to_40;"
TM --json backup db > "$T/s4.json" || fail "snapshot S4"
q $S shop -e "DELETE FROM par WHERE id IN (1, 2); UPDATE items SET qty = qty + 1 WHERE id = 5;"
END=$(q $S -N -e "SELECT @@gtid_binlog_pos")
stop_follower_at "$END"
case "$END" in *,*) ;; *) fail "the workload should span two GTID domains: $END";; esac
echo "archive up to $END"

# every GTID group of the source binlog: "gtid file start end"
binlog_groups "$S" "$SRCDIR" > "$T/groups.txt"
[ -s "$T/groups.txt" ] || fail "no GTID groups in the source binlog"
norm() { tr ',' '\n' | sed '/^$/d' | sort -t- -k1,1n | paste -sd, -; }

sums() { # sock db -> "table checksum auto_increment" of every base table
  local t
  for t in $(q "$1" -N -e "SELECT table_name FROM information_schema.tables WHERE table_schema='$2' AND table_type='BASE TABLE' ORDER BY 1"); do
    echo "$t $(q "$1" -N -e "CHECKSUM TABLE \`$2\`.\`${t//\`/\`\`}\`" | awk '{print $2}') $(q "$1" -N -e "SELECT IFNULL(AUTO_INCREMENT, '-') FROM information_schema.tables WHERE table_schema='$2' AND table_name='$t'")"
  done
}
# reference SNAP LAST_GTID: the snapshot, then the source binlog from its position to
# the end of LAST_GTID's transaction ("" = the snapshot alone)
reference() {
  local snap=$1 last=$2 sfile spos pfile ppos paths=() on=0 f
  TM -q restore db --snapshot "$snap" --socket $RF --user root --drop-existing >/dev/null 2>"$T/ref.err" \
    || { cat "$T/ref.err"; fail "reference load of ${snap:0:12}"; }
  [ -n "$last" ] || return 0
  read -r pfile ppos <<<"$(python3 -c "import json;p=json.load(open('$T/r.json'))['plan'];print(p['snapshot_file'], p['snapshot_position'])")"
  read -r _ sfile _ spos <<<"$(awk -v g="$last" '$1 == g' "$T/groups.txt")"
  [ -n "$spos" ] || fail "reference: GTID $last not in the source binlog"
  for f in "${FILES[@]}"; do
    [ "$f" = "$pfile" ] && on=1
    [ $on = 1 ] && paths+=("$SRCDIR/data/$f")
    [ "$f" = "$sfile" ] && break
  done
  mariadb-binlog --database=shop --start-position="$ppos" --stop-position="$spos" "${paths[@]}" 2>"$T/mb.err" \
    | q $RF --init-command="SET sql_log_bin=0" || { cat "$T/mb.err"; fail "reference apply to $last"; }
}
restore() { # PATH_EXPECTED args...: tidemark restore on the target into $T/r.json (debug log in $T/r.err)
  local want=$1; shift
  TM -v --json restore db "$@" --socket $TG --drop-existing > "$T/r.json" 2> "$T/r.err" \
    || { cat "$T/r.err" "$T/r.json"; fail "tidemark restore $*"; }
  python3 - "$T/r.json" "$want" <<'PY' || { cat "$T/r.json"; fail "restore $*: verdict or apply path"; }
import json, sys
j = json.load(open(sys.argv[1])); a = j["apply"]
assert j["verdict"] == "verified" and j["reached"] and j["load_verified"], j
assert a["path"] == sys.argv[2], "path %s, expected %s (reason: %s)" % (a["path"], sys.argv[2], a["reason"])
if a["path"] == "net": assert a["rows_written"] + a["rows_deleted"] + a["ordered_rows"] > 0, a
PY
}
field() { python3 -c "import json;j=json.load(open('$T/r.json'));print($1)"; }
compare() { # LABEL DB(target) : target vs reference shop, gtid_slave_pos = the plan's target
  local label=$1 db=${2:-shop} want got
  sums $TG "$db" > "$T/t.sum"; sums $RF shop > "$T/r.sum"
  [ -s "$T/t.sum" ] || fail "$label: no tables"
  diff "$T/t.sum" "$T/r.sum" >&2 || fail "$label: CHECKSUM TABLE / AUTO_INCREMENT differ from the reference"
  want=$(field "j['plan']['target_gtid']" | norm); got=$(q $TG -N -e "SELECT @@gtid_slave_pos" | norm)
  [ "$got" = "$want" ] || fail "$label: target gtid_slave_pos $got, expected $want"
  [ -z "$(q $TG -N -e "SHOW ALL SLAVES STATUS")" ] || fail "$label: replication connection left on the target"
}
# both PATH ARGS...: the default (net) and --apply transactions, each against one reference
both() {
  local label=$1; shift
  restore net "$@" --user root
  cp "$T/r.err" "$T/net.err"; cp "$T/r.json" "$T/net.json"
  local snap last note
  snap=$(field "j['plan']['snapshot']"); last=$(field "j['plan']['last_gtid']")
  note=$(field "'%d transactions: %d rows written, %d updated, %d deleted, %d kept in order over %d tables, %d split' % (j['transactions'], j['apply']['rows_written'], j['apply']['rows_updated'], j['apply']['rows_deleted'], j['apply']['ordered_rows'], j['apply']['tables'], j['apply']['split_tables'])")
  reference "$snap" "$last"
  compare "$label (net)"
  cp "$T/t.sum" "$T/net.sum"
  restore transactions "$@" --user root --apply transactions
  [ "$(field "j['plan']['last_gtid']")" = "$last" ] || fail "$label: the two paths planned different targets"
  compare "$label (transactions)"
  pass "$label: net ($note) and transaction by transaction both equal mariadb-binlog, $(wc -l < "$T/t.sum") tables"
}

# ---- (1) random targets in S1..S2, both paths ------------------------------------------------
S1G=$(python3 -c "import json;print(json.load(open('$T/s1.json'))['binlog']['gtid'])")
S2G=$(python3 -c "import json;print(json.load(open('$T/s2.json'))['binlog']['gtid'])")
seq0() { echo "$1" | tr ',' '\n' | awk -F- '$1 == 0 {print $3}'; }
B=$(seq0 "$S1G"); E=$(seq0 "$S2G"); span=$(( E - B ))
[ "$(settings)" = "1 1" ] || fail "target settings before: $(settings)"
g=$(( B + span / 2 + RANDOM % (span / 2) )); both "--to-gtid 0-1-$g" --to-gtid "0-1-$g"
python3 -c "import json;d=json.load(open('$T/r.json'))['durability'];assert d['mode']=='relaxed', d" || fail "durability not relaxed"
[ "$(settings)" = "1 1" ] || fail "durability not put back after the apply: $(settings)"
g=$(( B + 2 + RANDOM % (span - 2) )); both "--before-gtid 0-1-$g" --before-gtid "0-1-$g"
bt=$(( 2 + RANDOM % 4 )); tt=${BT[$bt]}
both "--to $(date -u -d @$tt '+%F %T')Z (after batch $bt)" --to "$(date -u -d @$tt '+%F %T')Z"
S1HEX=$(python3 -c "import json;print(json.load(open('$T/s1.json'))['snapshot'])")
L1=$(echo "$G1" | tr ',' '\n' | grep '^0-')
both "--to-gtid $L1 (end of batch 1: wide holds most write bytes)" --to-gtid "$L1"
python3 - "$T/net.json" <<'PY' || { cat "$T/net.json"; fail "batch 1: apply fields"; }
import json, sys
j = json.load(open(sys.argv[1])); a = j["apply"]
assert a["rows_updated"] > 0, "no key applied as an update: %s" % a
assert a["split_tables"] >= 1, "no table written in two shards: %s" % a
assert 0 <= a["fold_overlapped_seconds"] <= a["fold_seconds"] + 0.01, a
assert j["replay_seconds"] >= a["apply_seconds"] - 0.01, (j["replay_seconds"], a)
PY
grep -q "shop.wide written in 2 shards" "$T/net.err" || { grep "net apply" "$T/net.err"; fail "batch 1: wide not written in two shards"; }
pass "end of batch 1: $(python3 -c "import json;a=json.load(open('$T/net.json'))['apply'];print('%d rows updated, %d written, %d deleted, %d table(s) split; read+fold %.2f s of which %.2f s during the verification' % (a['rows_updated'], a['rows_written'], a['rows_deleted'], a['split_tables'], a['fold_seconds'], a['fold_overlapped_seconds']))")"
both "--to-gtid 0-1-$E --snapshot S1 (S2's position, proven by its hashes)" --to-gtid "0-1-$E" --snapshot "$S1HEX"
[ "$(field "j['later_snapshot_verified']")" = True ] || fail "S2's hashes not compared"
[ "$(settings)" = "1 1" ] || fail "durability settings after the restores: $(settings)"

# ---- (2) --target-db through the net path -----------------------------------------------------
g=$(( B + 1 + RANDOM % span ))
restore net --to-gtid "0-1-$g" --target-db shop2 --user root
reference "$(field "j['plan']['snapshot']")" "$(field "j['plan']['last_gtid']")"
compare "--target-db shop2 --to-gtid 0-1-$g" shop2
[ -z "$(q $TG -N -e "SHOW DATABASES LIKE 'other'")" ] || fail "the database that is not restored was written"
pass "--target-db shop2 --to-gtid 0-1-$g: net path equal to mariadb-binlog"
q $TG -e "DROP DATABASE shop2"

# ---- (3) fallbacks ---------------------------------------------------------------------------
fallback() { # LABEL REASON_FRAGMENT args...
  local label=$1 frag=$2; shift 2
  restore transactions "$@" --user root
  field "j['apply']['reason']" | grep -qF -- "$frag" || { field "j['apply']" >&2; fail "$label: reason lacks '$frag'"; }
  reference "$(field "j['plan']['snapshot']")" "$(field "j['plan']['last_gtid']")"
  compare "$label"
  pass "$label: transaction by transaction, equal to mariadb-binlog; reason: $(field "j['apply']['reason']" | cut -c1-150)"
}
LSTMT=$(echo "$GSTMT" | tr ',' '\n' | grep '^0-'); LDDL=$(echo "$GDDL" | tr ',' '\n' | grep '^0-'); LEND=$(echo "$END" | tr ',' '\n' | grep '^0-')
S2HEX=$(python3 -c "import json;print(json.load(open('$T/s2.json'))['snapshot'])")
fallback "STATEMENT-format event (--to-gtid $LSTMT --snapshot S2)" "is not a row change: UPDATE items SET qty = qty + 1" --to-gtid "$LSTMT" --snapshot "$S2HEX"
fallback "DDL (--to-gtid $LDDL)" "ALTER TABLE items ADD COLUMN" --to-gtid "$LDDL"
fallback "ON DELETE CASCADE (--to-gtid $LEND)" "ON DELETE CASCADE" --to-gtid "$LEND"
expect_fail 2 "--apply net refused after the load (nothing else was written)" \
  TM restore db --to-gtid "$LEND" --apply net --socket $TG --user root --drop-existing
grep -q "ON DELETE CASCADE" "$T/err" || { cat "$T/err"; fail "--apply net: no reason"; }
reference "$(python3 -c "import json;print(json.load(open('$T/s4.json'))['snapshot'])")" ""
sums $TG shop | diff - <(sums $RF shop) >&2 || fail "--apply net refusal wrote beyond the load"
pass "--apply net with a cascading foreign key refused after the load: $(tail -1 "$T/err" | cut -c1-160)"
# an account without BINLOG REPLAY (nor SUPER, which implies it)
q $TG -e "CREATE USER nb@localhost; GRANT ALL PRIVILEGES ON *.* TO nb@localhost; REVOKE SUPER, BINLOG REPLAY ON *.* FROM nb@localhost;"
g=$(( B + 1 + RANDOM % span ))
restore transactions --to-gtid "0-1-$g" --user nb
field "j['apply']['reason']" | grep -qF "GRANT BINLOG REPLAY ON *.* TO 'nb'@'localhost'" || { field "j['apply']" >&2; fail "privilege: reason"; }
reference "$(field "j['plan']['snapshot']")" "$(field "j['plan']['last_gtid']")"
compare "no BINLOG REPLAY (--to-gtid 0-1-$g)"
pass "no BINLOG REPLAY: transaction by transaction, equal to mariadb-binlog; reason: $(field "j['apply']['reason']")"
q $TG -e "DROP DATABASE shop"
expect_fail 2 "GRANT BINLOG REPLAY ON *.* TO 'nb'@'localhost'" \
  TM restore db --to-gtid "0-1-$g" --apply net --socket $TG --user nb --drop-existing
grep -q "nothing was touched" "$T/err" || { cat "$T/err"; fail "--apply net without the privilege: not refused before the load"; }
[ -z "$(q $TG -N -e "SHOW DATABASES LIKE 'shop'")" ] || fail "--apply net without the privilege loaded the snapshot"
pass "--apply net without BINLOG REPLAY refused before the load: $(tail -1 "$T/err")"

# ---- (4) verify-chain: S1 -> S2 through the net path ------------------------------------------
TM verify-chain --socket $TG --user root > "$T/vc.out" 2>"$T/vc.err" || { cat "$T/vc.out" "$T/vc.err"; fail "verify-chain"; }
head -1 "$T/vc.out" | grep -q "OK verified: .*(their net change)" || { cat "$T/vc.out"; fail "verify-chain: first pair not through the net path"; }
grep -q "all 3 pairs verified" "$T/vc.out" || { cat "$T/vc.out"; fail "verify-chain verdict"; }
[ -z "$(q $TG -N -e "SHOW DATABASES LIKE 'tidemark_vc%'")" ] || fail "verify-chain left its database"
pass "verify-chain: $(head -1 "$T/vc.out" | cut -c1-200)"
echo "pitr_net: all checks passed"

#!/usr/bin/env bash
# pitr_oracle.sh: point-in-time restore end to end (issue 6), real servers:
# a SOURCE (server-id 1) with the binlog follower running, a TARGET (server-id
# 2) restored by tidemark, a REFERENCE (server-id 3) given the same snapshot
# plus `mariadb-binlog --stop-datetime/--stop-position | mariadb`.
#  (a) 3 random targets (--to TIME, --to-gtid, --before-gtid): CHECKSUM TABLE
#      of every table identical between TARGET and REFERENCE;
#  (c) refusals in the plan phase, target untouched: future, before the oldest
#      snapshot, GTID not archived, missing catalog object, missing pack,
#      wrong passphrase;
#  (d) verify-chain over two snapshots with a workload between them.
source "$(dirname "$0")/lib.sh"
command -v mariadb-binlog >/dev/null || { echo "SKIP: mariadb-binlog missing"; exit 77; }
SB="$TM_SRC/tests/support/mariadb-sandbox.sh"
SEED=${PITR_SEED:-$RANDOM}; RANDOM=$SEED; echo "seed $SEED (PITR_SEED to repeat)"
start_src_tgt_ref
export TZ=UTC

instance_config shop "$S" shop 777
TM() { "$TM_BIN" --instance shop "$@"; }

q $S <<'SQL'
CREATE DATABASE shop CHARACTER SET utf8mb4;
USE shop;
CREATE TABLE items (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(100), qty INT NOT NULL DEFAULT 0,
                    price DECIMAL(10,2), note TEXT, d DATETIME(3), f DOUBLE, b BLOB) ENGINE=InnoDB;
CREATE TABLE log (id BIGINT AUTO_INCREMENT PRIMARY KEY, item_id INT, msg VARCHAR(200), r DOUBLE) ENGINE=InnoDB;
INSERT INTO items (name, qty, price) SELECT CONCAT('item ', seq), seq, seq * 1.25 FROM seq_1_to_200;
SQL
TM --json backup db > "$T/b1.json" || fail "first backup"
S1=$(python3 -c "import json;j=json.load(open('$T/b1.json'));print(j['binlog']['file']+':'+str(j['binlog']['position']))")
"$TM_BIN" -q --instance shop binlog follow --start "$S1" >>"$T/follow.log" 2>&1 & FPID=$!
cleanup_hooks+=("kill $FPID 2>/dev/null")

batch() { # N: one batch of mixed transactions (ROW, STATEMENT, MIXED, DDL, temp tables)
  local b=$1 i
  echo "USE shop;"
  for i in $(seq 1 60); do
    case $(( (b + i) % 3 )) in 0) echo "SET SESSION binlog_format=ROW;" ;; 1) echo "SET SESSION binlog_format=STATEMENT;" ;; 2) echo "SET SESSION binlog_format=MIXED;" ;; esac
    case $(( i % 6 )) in
      0) echo "BEGIN; INSERT INTO items (name, qty, price, note, d, f, b) VALUES ('ü✓ b$b i$i', $i, $i.5, REPEAT('é', $i), NOW(3), $i / 7, UNHEX('00FF$i'));
              SET @l = LAST_INSERT_ID(); INSERT INTO log (item_id, msg, r) VALUES (@l, 'new', RAND($i)); COMMIT;" ;;
      1) echo "UPDATE items SET qty = qty + $b, price = price * 1.01 WHERE id % 11 = $(( i % 11 ));" ;;
      2) echo "CREATE TEMPORARY TABLE tt (k INT); INSERT INTO tt VALUES ($i), ($b); INSERT INTO log (item_id, msg) SELECT k, 'tmp' FROM tt; DROP TEMPORARY TABLE tt;" ;;
      3) echo "DELETE FROM log WHERE id % 13 = $(( i % 13 )) AND id < $(( b * 40 ));" ;;
      4) echo "SET @v := $i * $b; INSERT INTO log (item_id, msg, r) VALUES (@v, 'var', RAND());" ;;
      5) echo "INSERT INTO log (item_id, msg, r) VALUES ($i, 'b$b', $i);" ;;
    esac
  done
  [ "$b" = 3 ] && echo "ALTER TABLE items ADD COLUMN extra INT DEFAULT 7; CREATE TABLE t_b$b (id INT PRIMARY KEY); INSERT INTO t_b$b VALUES (1),(2); RENAME TABLE t_b$b TO kept_b$b;"
  return 0
}
declare -A BT   # batch -> epoch second after it
for b in 1 2 3 4 5 6 7 8; do
  batch $b | q $S || fail "workload batch $b"
  BT[$b]=$(date +%s)
  [ "$b" = 4 ] && { TM --json backup db > "$T/b2.json" || fail "second backup"; }
  sleep 1.1
done
END=$(q $S -N -e "SELECT @@gtid_binlog_pos")
stop_follower_at "$END"
TM binlog list > "$T/list.txt"; echo "archive: $(($(wc -l < "$T/list.txt") - 1)) segments up to $END"
mapfile -t FILES < <(sed 's|^\./||' "$SRCDIR/data/binlog.index" | while read -r f; do echo "$SRCDIR/data/${f##*/}"; done)
D=${END%%-*}; r=${END#*-}; SID=${r%%-*}; LAST=${r#*-}
G1=$(python3 -c "import json;print(json.load(open('$T/b1.json'))['binlog']['gtid'])"); B=${G1##*-}

sums() { # sock -> "table checksum" of every base table of shop
  for t in $(q "$1" -N -e "SELECT table_name FROM information_schema.tables WHERE table_schema='shop' AND table_type='BASE TABLE' ORDER BY 1"); do
    q "$1" -N -e "CHECKSUM TABLE shop.\`$t\`" | awk -v t="$t" '{print t, $2}'
  done
}
clean_target() {
  [ -z "$(q $TG -N -e "SHOW ALL SLAVES STATUS")" ] || fail "replication connection left on the target"
}

# ---- (a) oracle: 3 random targets ------------------------------------------------------
check() { # label, tidemark target args..., then "--" and the mariadb-binlog stop args
  local label=$1; shift
  local targs=() rargs=()
  while [ "$1" != -- ]; do targs+=("$1"); shift; done; shift; rargs=("$@")
  TM --json restore db "${targs[@]}" --socket $TG --user root --drop-existing > "$T/r.json" 2> "$T/r.err" \
    || { cat "$T/r.err" "$T/r.json"; fail "$label: tidemark restore"; }
  read -r snap sgtid tx secs reached <<<"$(python3 -c "
import json; j=json.load(open('$T/r.json')); p=j['plan']
assert j['verdict']=='verified' and j['reached'] and j['load_verified'], j
print(p['snapshot'], p['snapshot_gtid'], j['transactions'], round(j['replay_seconds'],2), j['reached_gtid'] or '-')")"
  TM -q restore db --snapshot "$snap" --socket $RF --user root --drop-existing >/dev/null 2>"$T/ref.err" || { cat "$T/ref.err"; fail "$label: reference load"; }
  mariadb-binlog --start-position="$sgtid" "${rargs[@]}" "${FILES[@]}" 2>"$T/mb.err" \
    | q $RF --init-command="SET sql_log_bin=0" || { cat "$T/mb.err"; fail "$label: reference apply"; }
  sums $TG > "$T/t.sum"; sums $RF > "$T/r.sum"
  [ -s "$T/t.sum" ] || fail "$label: no tables"
  diff "$T/t.sum" "$T/r.sum" >&2 || fail "$label: CHECKSUM TABLE differs from the reference"
  clean_target
  pass "$label: snapshot ${snap:0:12}, $tx transactions replayed in $secs s, reached $reached, $(wc -l < "$T/t.sum") tables equal to mariadb-binlog"
}
span=$(( LAST - B ))
g=$(( B + 1 + RANDOM % span )); check "--to-gtid $D-$SID-$g" --to-gtid "$D-$SID-$g" -- --stop-position="$D-$SID-$g"
g=$(( B + 2 + RANDOM % (span - 1) )); check "--before-gtid $D-$SID-$g" --before-gtid "$D-$SID-$g" -- --stop-position="$D-$SID-$(( g - 1 ))"
bt=$(( 2 + RANDOM % 6 )); tt=${BT[$bt]}
check "--to $(date -u -d @$tt '+%F %T')Z (after batch $bt)" --to "$(date -u -d @$tt '+%F %T')Z" \
  -- --stop-datetime="$(date -u -d @$(( tt + 1 )) '+%F %T')"
# local time with an offset other than UTC reads the same instant
TZ=Europe/Paris "$TM_BIN" --instance shop restore db --to "$(TZ=Europe/Paris date -d @$tt '+%F %T')" --plan --socket $TG --user root --drop-existing > "$T/plan.txt" \
  || fail "--plan in local time"
grep -q "local time CE" "$T/plan.txt" && grep -q "plan: replay\|plan: no binlog replay" "$T/plan.txt" && grep -q "whole seconds" "$T/plan.txt" \
  || { cat "$T/plan.txt"; fail "plan output"; }
grep -q "plan: estimate" "$T/plan.txt" || fail "no estimate"
if grep -q "plan: replay" "$T/plan.txt"; then
  grep -q "plan: estimate: .* as a net change = .*; transaction by transaction: replay" "$T/plan.txt" \
    || { cat "$T/plan.txt"; fail "the estimate does not give both apply paths"; }
fi
pass "--plan in local time: $(grep '^target:' "$T/plan.txt" | head -1)"

# ---- (c) refusals in the plan phase, the target untouched -----------------------------
sums $TG > "$T/before.sum"
untouched() { sums $TG > "$T/after.sum"; diff -q "$T/before.sum" "$T/after.sum" >/dev/null || fail "$1: the target was changed"; clean_target; }
refuse() { # label code fragment args...
  local label=$1 code=$2 frag=$3; shift 3
  expect_fail "$code" "$frag" "$@" --socket $TG --user root --drop-existing
  grep -q "nothing was touched\|wrong passphrase" "$T/err" || { cat "$T/err"; fail "$label: no 'nothing was touched'"; }
  untouched "$label"; pass "$label refused: $(tail -1 "$T/err")"
}
refuse "future" 2 "in the future" TM restore db --to "2099-01-01T00:00:00Z"
refuse "before the oldest snapshot" 3 "before the oldest snapshot" TM restore db --to "2001-01-01 00:00:00+02:00"
refuse "GTID not archived" 3 "not in the binlog archive" TM restore db --to-gtid "$D-$SID-$(( LAST + 1000 ))"
refuse "GTID before the oldest snapshot" 3 "before the oldest snapshot" TM restore db --to-gtid "$D-$SID-1"
cp -a "$T/repo" "$T/repo_cat"; victim=$(ls "$T/repo_cat/catalog/shop/" | sort | tail -2 | head -1)
rm -f "$T/repo_cat/catalog/shop/$victim"
refuse "missing catalog object $victim" 6 "entry $((10#$victim)) is missing" TM -r "$T/repo_cat" restore db --to-gtid "$END"
cp -a "$T/repo" "$T/repo_pack"; newest=$(ls -t "$T"/repo_pack/packs/*/* | head -1); rm -f "$newest"
refuse "missing pack" 3 "refused" TM -r "$T/repo_pack" restore db --to-gtid "$END"
printf 'wrong\n' > "$T/wrong"; chmod 600 "$T/wrong"
TIDEMARK_PASSWORD_FILE=$T/wrong refuse "wrong passphrase" 3 "wrong passphrase" \
  "$TM_BIN" -c /dev/null -r "$T/repo" --instance shop restore db --to-gtid "$END"

# ---- (d) verify-chain over the two snapshots --------------------------------------------
TM verify-chain --socket $TG --user root > "$T/vc.out" 2>"$T/vc.err" || { cat "$T/vc.out" "$T/vc.err"; fail "verify-chain"; }
grep -q "OK verified" "$T/vc.out" && grep -q "all 1 pair verified" "$T/vc.out" || { cat "$T/vc.out"; fail "verify-chain verdict"; }
[ -z "$(q $TG -N -e "SHOW DATABASES LIKE 'tidemark_vc%'")" ] || fail "verify-chain left its database"
pass "verify-chain: $(head -1 "$T/vc.out")"
echo "pitr_oracle: all checks passed"

#!/usr/bin/env bash
# db_sequences.sh: SEQUENCE objects (issue 10 item 4), real servers: a SOURCE
# (server-id 1, follower archiving), a TARGET (2) restored by tidemark, a
# REFERENCE (3) given the same snapshot plus `mariadb-binlog | mariadb`.
#  (1) dump + load: sequences of every shape (cached, NOCACHE, cycled past a
#      round, run out, descending, restarted below their start, Aria, names
#      with a space, a backtick and UTF-8, a table whose DEFAULT NEXTVAL names
#      a sequence that sorts after it), NEXTVALs running during the backup:
#      every sequence row on the target equals the source's at the point, the
#      next NEXTVAL equals the source's (after FLUSH TABLES drops its cache),
#      no value of a row in the snapshot is handed out again;
#  (2) verification compares the server's sequence rows: a sequence moved
#      on the target makes `verify db` fail naming it;
#  (3) `export sql | mariadb` recreates them, --target-db rename included
#      (the DEFAULT NEXTVAL then names the renamed database);
#  (4) point-in-time: NEXTVAL (ROW and MIXED), SETVAL, ALTER SEQUENCE RESTART,
#      CREATE/DROP SEQUENCE after the snapshot, restored to random points on
#      both apply paths: sequence rows and CHECKSUM TABLE equal the reference.
source "$(dirname "$0")/lib.sh"
command -v mariadb-binlog >/dev/null || { echo "SKIP: mariadb-binlog missing"; exit 77; }
SEED=${PITR_SEED:-$RANDOM}; RANDOM=$SEED; echo "seed $SEED (PITR_SEED to repeat)"
start_src_tgt_ref
export TZ=UTC

instance_config shop "$S" "shop" 777
TM() { "$TM_BIN" --instance shop "$@"; }

q $S <<'SQL'
CREATE DATABASE shop CHARACTER SET utf8mb4;
USE shop;
CREATE SEQUENCE s_cached START WITH 10 INCREMENT BY 5 CACHE 100;
CREATE SEQUENCE s_nocache NOCACHE;
CREATE SEQUENCE s_cycle MAXVALUE 3 NOCACHE CYCLE;
CREATE SEQUENCE s_out MAXVALUE 3 NOCACHE;
CREATE SEQUENCE s_desc INCREMENT BY -1 MINVALUE -100 MAXVALUE -1 START WITH -1 CACHE 7;
CREATE SEQUENCE s_restart START WITH 10 MINVALUE 1;
CREATE SEQUENCE s_aria NOCACHE ENGINE=Aria;
CREATE SEQUENCE `s odd``ü` CACHE 3;
CREATE SEQUENCE z_ids CACHE 50;
-- a table sorting before its sequence, with DEFAULT NEXTVAL
CREATE TABLE a_orders (id BIGINT NOT NULL DEFAULT NEXTVAL(z_ids) PRIMARY KEY, v INT) ENGINE=InnoDB;
CREATE TABLE plain (id INT PRIMARY KEY, v INT) ENGINE=InnoDB;
INSERT INTO a_orders (v) SELECT seq FROM seq_1_to_20;
INSERT INTO plain SELECT seq, seq FROM seq_1_to_10;
SELECT NEXTVAL(s_cached), NEXTVAL(s_cached), NEXTVAL(s_nocache);
SELECT NEXTVAL(s_cycle), NEXTVAL(s_cycle), NEXTVAL(s_cycle), NEXTVAL(s_cycle), NEXTVAL(s_cycle);
SELECT NEXTVAL(s_out), NEXTVAL(s_out), NEXTVAL(s_out);
SELECT NEXTVAL(s_desc), NEXTVAL(s_desc);
ALTER SEQUENCE s_restart RESTART WITH 5;
SELECT NEXTVAL(s_aria), NEXTVAL(`s odd``ü`);
SQL
SEQS=(s_cached s_nocache s_cycle s_out s_desc s_restart s_aria 's odd`ü' z_ids)
rows() { # sock db -> every sequence row of db
  local s=$1 db=$2 n
  for n in $(q $s -N -e "SELECT HEX(table_name) FROM information_schema.tables WHERE table_schema='$db' AND table_type='SEQUENCE' ORDER BY 1"); do
    local name; name=$(python3 -c "import sys;print(bytes.fromhex('$n').decode())")
    printf '%s\t%s\n' "$name" "$(q $s -N -e "SELECT * FROM \`$db\`.\`${name//\`/\`\`}\`")"
  done
}
sums() { # sock db -> CHECKSUM TABLE of every base table
  local t
  for t in $(q "$1" -N -e "SELECT table_name FROM information_schema.tables WHERE table_schema='$2' AND table_type='BASE TABLE' ORDER BY 1"); do
    q "$1" -N -e "CHECKSUM TABLE \`$2\`.\`$t\`" | awk -v t="$t" '{print t, $2}'
  done
}

# ---- (1) dump + load, NEXTVALs running during the backup ------------------------------
( for i in $(seq 1 400); do echo "INSERT INTO a_orders (v) VALUES ($i); SELECT NEXTVAL(s_nocache) INTO @x;"; done | q $S shop ) &
LOAD=$!
TM --json backup db > "$T/b1.json" || fail "backup with sequences"
wait $LOAD || fail "concurrent workload"
python3 -c "import json;j=json.load(open('$T/b1.json'));print('point', j['binlog']['gtid'], 'method', j.get('method', j.get('consistency', '')))"
SNAP=$(python3 -c "import json;print(json.load(open('$T/b1.json'))['snapshot'])")
TM --json restore db --snapshot "$SNAP" --socket $TG --user root --drop-existing > "$T/r1.json" 2>"$T/r1.err" \
  || { cat "$T/r1.err"; fail "restore of a database with sequences"; }
grep -q '"verified"\|verification: OK' "$T/r1.json" "$T/r1.err" || { cat "$T/r1.json" "$T/r1.err"; fail "no verdict"; }
[ "$(rows $TG shop | wc -l)" = ${#SEQS[@]} ] || { rows $TG shop; fail "not every sequence restored"; }
# no id of a restored row may come out of the restored sequence again
maxid=$(q $TG -N -e "SELECT MAX(id) FROM shop.a_orders")
nxt=$(q $TG -N -e "SELECT next_not_cached_value FROM shop.z_ids")
[ "$nxt" -gt "$maxid" ] || fail "z_ids restored at $nxt, but the snapshot holds id $maxid"
pass "backup during NEXTVALs: ${#SEQS[@]} sequences restored, z_ids next $nxt > restored max id $maxid"

# the quiet case: the target's rows equal the source's, and so do the next values
TM --json backup db > "$T/b2.json" || fail "second backup"
SNAP2=$(python3 -c "import json;print(json.load(open('$T/b2.json'))['snapshot'])")
TM -q restore db --snapshot "$SNAP2" --socket $TG --user root --drop-existing 2>"$T/r2.err" || { cat "$T/r2.err"; fail "restore 2"; }
rows $S shop > "$T/src.rows"; rows $TG shop > "$T/tgt.rows"
diff "$T/src.rows" "$T/tgt.rows" >&2 || fail "sequence rows differ from the source"
q $S -e "FLUSH TABLES"   # drop the source's cached values: its next NEXTVAL is next_not_cached_value
for s in s_cached s_nocache s_cycle s_desc s_restart s_aria 's odd`ü' z_ids; do
  e=${s//\`/\`\`}
  a=$(q $S -N -e "SELECT NEXTVAL(shop.\`$e\`)"); b=$(q $TG -N -e "SELECT NEXTVAL(shop.\`$e\`)")
  [ "$a" = "$b" ] || fail "NEXTVAL($s): source $a, target $b"
done
expect_fail 1 "has run out" q $TG -N -e "SELECT NEXTVAL(shop.s_out)"
q $TG -e "INSERT INTO shop.a_orders (v) VALUES (-1)" || fail "DEFAULT NEXTVAL on the target"
pass "quiet backup: rows equal the source's; next NEXTVAL equal on 8 sequences; s_out still run out"

# ---- (2) the verification sees a sequence's state ---------------------------------------
TM -q restore db --snapshot "$SNAP2" --socket $TG --user root --drop-existing 2>"$T/r3.err" || { cat "$T/r3.err"; fail "restore 3"; }
printf '\n[instance tgt]\ndb_socket = %s\ndb_user = root\ndatabases = shop\n' "$TG" >> "$T/tm.conf"
VT() { "$TM_BIN" --instance tgt "$@"; }
VT -q verify db --snapshot "$SNAP2" >/dev/null 2>"$T/v.err" || { cat "$T/v.err"; fail "verify of an untouched target"; }
q $TG -e "SELECT SETVAL(shop.s_restart, 1000)" >/dev/null
expect_fail 6 "s_restart (next_not_cached_value" VT verify db --snapshot "$SNAP2"
q $TG -e "DROP SEQUENCE shop.s_cycle"
expect_fail 6 "s_cycle (missing)" VT verify db --snapshot "$SNAP2"
pass "verify db fails on a moved sequence and on a missing one: $(tail -1 "$T/err" | cut -c1-160)"

# ---- (3) export sql | mariadb, and --target-db -------------------------------------------
q $RF -e "DROP DATABASE IF EXISTS shop"
TM export sql --snapshot "$SNAP2" > "$T/x.sql" || fail "export sql"
q $RF < "$T/x.sql" || fail "the export does not load"
rows $RF shop > "$T/ref.rows"; diff "$T/src.rows" "$T/ref.rows" >&2 || fail "export: sequence rows differ"
TM export sql --snapshot "$SNAP2" --target-db 'shop copy' > "$T/x2.sql" || fail "export sql --target-db"
q $RF < "$T/x2.sql" || fail "the renamed export does not load"
rows $RF 'shop copy' > "$T/ref2.rows"; diff "$T/src.rows" "$T/ref2.rows" >&2 || fail "renamed export: rows differ"
q $RF -N -e "SHOW CREATE TABLE \`shop copy\`.a_orders" | grep -q 'nextval(`shop copy`.`z_ids`)' || fail "the renamed table's DEFAULT still names shop"
TM -q restore db --snapshot "$SNAP2" --target-db 'shop2' --socket $TG --user root --drop-existing 2>"$T/r4.err" || { cat "$T/r4.err"; fail "restore --target-db"; }
q $TG -N -e "SHOW CREATE TABLE shop2.a_orders" | grep -q 'nextval(`shop2`.`z_ids`)' || fail "--target-db: DEFAULT still names shop"
pass "export sql | mariadb and --target-db recreate the sequences (DEFAULT NEXTVAL follows the rename)"

# ---- (4) point in time, both apply paths, against mariadb-binlog --------------------------
TM --json backup db > "$T/b3.json" || fail "third backup"
S3=$(python3 -c "import json;j=json.load(open('$T/b3.json'));print(j['binlog']['file']+':'+str(j['binlog']['position']))")
"$TM_BIN" -q --instance shop binlog follow --start "$S3" >>"$T/follow.log" 2>&1 & FPID=$!
cleanup_hooks+=("kill $FPID 2>/dev/null")
for b in 1 2 3 4 5 6 7 8 9; do
  # batches 7-9 come after a fourth snapshot, in ROW format only, without DDL: the
  # net-change path gets the sequences' row events
  [ $b = 7 ] && { TM --json backup db > "$T/b4.json" || fail "fourth backup"; }
  {
    echo "USE shop;"
    for i in $(seq 1 25); do
      case $(( b > 6 ? 0 : (b + i) % 2 )) in 0) echo "SET SESSION binlog_format=ROW;" ;; 1) echo "SET SESSION binlog_format=MIXED;" ;; esac
      case $(( i % 7 )) in
        0) echo "INSERT INTO a_orders (v) VALUES ($b$i), ($i);" ;;
        1) echo "SELECT NEXTVAL(s_nocache), NEXTVAL(s_cycle), NEXTVAL(s_desc) INTO @a, @b, @c;" ;;
        2) echo "BEGIN; INSERT INTO plain VALUES ($b * 1000 + $i, NEXTVAL(s_cached)); COMMIT;" ;;
        3) echo "SELECT SETVAL(s_nocache, $(( b * 1000 + i * 10 ))) INTO @d;" ;;
        4) echo "DO NEXTVAL(\`s odd\`\`ü\`), NEXTVAL(\`s odd\`\`ü\`), NEXTVAL(\`s odd\`\`ü\`), NEXTVAL(\`s odd\`\`ü\`);" ;;
        5) echo "UPDATE plain SET v = v + 1 WHERE id % 3 = $(( i % 3 ));" ;;
        6) [ $b -le 4 ] && echo "DO NEXTVAL(s_aria);"; echo "SELECT NEXTVAL(z_ids) INTO @g;" ;;
      esac
    done
    [ $b = 2 ] && echo "CREATE SEQUENCE s_new START WITH 100 CACHE 2; DO NEXTVAL(s_new), NEXTVAL(s_new), NEXTVAL(s_new), NEXTVAL(s_new), NEXTVAL(s_new);"
    [ $b = 4 ] && echo "DROP SEQUENCE s_aria; ALTER SEQUENCE s_new INCREMENT BY 3; SELECT NEXTVAL(s_new) INTO @i;"
    true
  } | q $S 2>"$T/w.err" >/dev/null || { cat "$T/w.err"; fail "workload batch $b"; }
  if [ $b = 2 ]; then   # its own GTID: a restore past it is refused (the replica's filter skips it)
    q $S -e "USE shop; ALTER SEQUENCE s_restart RESTART WITH 2"
    G_ALT=$(q $S -N -e "SELECT @@gtid_binlog_pos"); G_ALT=${G_ALT##*-}
  fi
  sleep 1.1
done
END=$(q $S -N -e "SELECT @@gtid_binlog_pos")
stop_follower_at "$END"
mapfile -t FILES < <(sed 's|^\./||' "$SRCDIR/data/binlog.index" | while read -r f; do echo "$SRCDIR/data/${f##*/}"; done)
D=${END%%-*}; r=${END#*-}; SID=${r%%-*}; LAST=${r#*-}
G3=$(python3 -c "import json;print(json.load(open('$T/b3.json'))['binlog']['gtid'])"); B=${G3##*-}
check() { # apply gtid
  local apply=$1 g=$2
  TM --json restore db --to-gtid "$D-$SID-$g" --apply "$apply" --socket $TG --user root --drop-existing > "$T/p.json" 2>"$T/p.err" \
    || { cat "$T/p.err" "$T/p.json"; fail "--apply $apply --to-gtid $D-$SID-$g"; }
  local how; how=$(python3 -c "
import json; j=json.load(open('$T/p.json')); assert j['verdict']=='verified' and j['reached'], j
a=j['apply']; print(a['path'], '|', a['reason'][:150])")
  local snap; snap=$(python3 -c "import json;print(json.load(open('$T/p.json'))['plan']['snapshot'])")
  TM -q restore db --snapshot "$snap" --socket $RF --user root --drop-existing >/dev/null 2>"$T/ref.err" || { cat "$T/ref.err"; fail "reference load"; }
  local sg; sg=$(python3 -c "import json;print(json.load(open('$T/p.json'))['plan']['snapshot_gtid'])")
  mariadb-binlog --start-position="$sg" --stop-position="$D-$SID-$g" "${FILES[@]}" 2>"$T/mb.err" \
    | q $RF --init-command="SET sql_log_bin=0" || { cat "$T/mb.err"; fail "reference apply"; }
  rows $TG shop > "$T/t.rows"; rows $RF shop > "$T/f.rows"
  diff "$T/t.rows" "$T/f.rows" >&2 || fail "--apply $apply to $g: sequence rows differ from mariadb-binlog"
  sums $TG shop > "$T/t.sum"; sums $RF shop > "$T/f.sum"
  diff "$T/t.sum" "$T/f.sum" >&2 || fail "--apply $apply to $g: CHECKSUM TABLE differs from mariadb-binlog"
  pass "--apply $apply --to-gtid $D-$SID-$g: $(wc -l < "$T/t.rows") sequences and $(wc -l < "$T/t.sum") tables equal to mariadb-binlog (applied: $how)"
}
G4=$(python3 -c "import json;print(json.load(open('$T/b4.json'))['binlog']['gtid'])"); B4=${G4##*-}
g=$(( B + 1 + RANDOM % (B4 - B) ))
if [ $g -ge "$G_ALT" ]; then g=$(( B + 1 + RANDOM % (G_ALT - 1 - B) )); fi   # exact before the ALTER
check transactions $g
check auto $g
# ALTER SEQUENCE: MariaDB's replica skips it under replicate_wild_do_table (it updates no table),
# mariadb-binlog | mariadb applies it: refused before the load, naming it, on every path
for apply in transactions auto; do
  expect_fail 8 "alters a sequence of a restored database (ALTER SEQUENCE s_restart RESTART WITH 2)" \
    TM restore db --to-gtid "$D-$SID-$(( G_ALT + RANDOM % (B4 - G_ALT + 1) ))" --apply $apply --socket $TG --user root --drop-existing
done
pass "a point past ALTER SEQUENCE (GTID $D-$SID-$G_ALT) from the snapshot before it is refused, naming it"
for g in $(( B4 + 1 + RANDOM % (LAST - B4) )) $LAST; do
  check transactions $g
  check auto $g
  grep -q '"path": *"net"' "$T/p.json" || python3 -c "import json;print(json.load(open('$T/p.json'))['apply'])"
  check net $g
done
# --target-db through both paths: the renamed copy holds the reference's sequence rows
for apply in transactions net; do
  TM --json restore db --to-gtid "$D-$SID-$LAST" --apply $apply --target-db shop_r --socket $TG --user root --drop-existing \
    > "$T/pr.json" 2>"$T/pr.err" || { cat "$T/pr.err"; fail "--target-db shop_r --apply $apply"; }
  rows $TG shop_r > "$T/tr.rows"
  diff "$T/tr.rows" "$T/f.rows" >&2 || fail "--target-db shop_r --apply $apply: sequence rows differ from mariadb-binlog"
  q $TG -N -e "SHOW CREATE TABLE shop_r.a_orders" | grep -q 'nextval(`shop_r`.`z_ids`)' || fail "--target-db: DEFAULT names shop"
done
pass "--target-db shop_r to $D-$SID-$LAST on both paths: sequence rows equal to mariadb-binlog's shop"
echo "db_sequences: all checks passed"

#!/usr/bin/env bash
# pitr_crossdb.sh: statements naming the restored database from another (or
# no) default database (issue 10 item 1), real servers: SOURCE (server-id 1)
# with databases c_5 (the instance's only database), oth and cX5 (not backed
# up; `cX5` is what an unescaped `c_5.%` pattern would also match), TARGET
# (server-id 2) restored by tidemark, REFERENCE (server-id 3) given snapshot A
# plus oth/cX5 as they were at A plus `mariadb-binlog | mariadb` (the oracle).
# The workload mixes ROW, STATEMENT and MIXED: ALTER/CREATE/DROP/RENAME of
# c_5 tables under USE oth and with no database selected, DML on c_5 from
# oth, a multi-table UPDATE, INSERT..SELECT between databases, LOAD DATA
# into c_5 under USE oth (a statement event), and objects of
# oth/cX5, a new database and accounts that must never reach the target
# (procedures, functions, databases, users, grants, tables, rows).
#  (1) --to-gtid several points, default apply and --apply transactions:
#      c_5's tables (columns and CHECKSUM TABLE) equal the reference; the
#      target has no oth, cX5, routine or account of the workload;
#  (2) a range whose only change of c_5 besides rows is a DROP TABLE c_5.t3
#      issued under USE oth: the net path must not take it (auto falls back
#      to the replay, --apply net is refused naming the statement);
#  (3) --target-db renames: a range where every statement uses the default
#      database restores; a range with `ALTER TABLE c_5.t1` is refused,
#      naming the GTID and the statement, before anything is loaded.
source "$(dirname "$0")/lib.sh"
command -v mariadb-binlog >/dev/null || { echo "SKIP: mariadb-binlog missing"; exit 77; }
command -v mariadb-dump >/dev/null || { echo "SKIP: mariadb-dump missing"; exit 77; }
start_src_tgt_ref
export TZ=UTC

instance_config c5 "$S" c_5 777
TM() { "$TM_BIN" --instance c5 "$@"; }

q $S <<'SQL'
CREATE DATABASE c_5; CREATE DATABASE oth; CREATE DATABASE cX5; USE c_5;
CREATE TABLE c_5.t1 (id INT PRIMARY KEY, v INT NOT NULL) ENGINE=InnoDB;
INSERT INTO c_5.t1 SELECT seq, seq * 2 FROM seq_1_to_20;
CREATE TABLE c_5.t3 (id INT PRIMARY KEY) ENGINE=InnoDB;
INSERT INTO c_5.t3 VALUES (1), (2);
CREATE TABLE c_5.nokey (a INT, b VARCHAR(20)) ENGINE=InnoDB;
INSERT INTO c_5.nokey VALUES (1, 'one'), (2, 'two'), (2, 'two');
CREATE TABLE oth.o (id INT PRIMARY KEY, v INT) ENGINE=InnoDB;
INSERT INTO oth.o VALUES (1, 1), (2, 2);
CREATE TABLE cX5.t1 (id INT PRIMARY KEY, v INT) ENGINE=InnoDB;
INSERT INTO cX5.t1 VALUES (1, 1);
SQL
TM --json backup db > "$T/a.json" || fail "snapshot A"
# oth and cX5 as they are at A (nothing is written in between), for the reference
mariadb-dump -S "$S" -uroot --databases oth cX5 > "$T/others.sql" || fail "dump oth cX5"
SA=$(python3 -c "import json;j=json.load(open('$T/a.json'));print(j['binlog']['file']+':'+str(j['binlog']['position']))")
GA=$(python3 -c "import json;print(json.load(open('$T/a.json'))['binlog']['gtid'])")
"$TM_BIN" -q --instance c5 binlog follow --start "$SA" >>"$T/follow.log" 2>&1 & FPID=$!
cleanup_hooks+=("kill $FPID 2>/dev/null")
pos() { q $S -N -e "SELECT @@gtid_binlog_pos"; }

# statements with the restored database as default only (the rename works here);
# a temporary table created in STATEMENT and dropped in ROW format is logged
# as DROP TEMPORARY TABLE IF EXISTS `c_5`.`tt`, which the rename must let pass
q $S <<'SQL'
USE c_5;
SET SESSION binlog_format = STATEMENT;
INSERT INTO t1 VALUES (21, 42);
ALTER TABLE t1 COMMENT 'plain';
SET SESSION binlog_format = ROW;
UPDATE t1 SET v = v + 1 WHERE id > 18;
SET SESSION binlog_format = STATEMENT;
CREATE TEMPORARY TABLE tt (k INT);
INSERT INTO tt VALUES (5);
INSERT INTO t1 SELECT k + 30, k FROM tt;
SET SESSION binlog_format = ROW;
DROP TEMPORARY TABLE tt;
SQL
G0=$(pos)
# DDL naming c_5 under USE oth (ROW), then DML on the new column
q $S <<'SQL'
USE oth;
SET SESSION binlog_format = ROW;
ALTER TABLE c_5.t1 ADD COLUMN qual INT;
UPDATE c_5.t1 SET qual = id * 3;
SQL
G1=$(pos)
# no database selected (STATEMENT), then CREATE TABLE c_5.x under USE oth (MIXED)
q $S <<'SQL'
SET SESSION binlog_format = STATEMENT;
ALTER TABLE `c_5`.`t1` ADD COLUMN q2 VARCHAR(10) NOT NULL DEFAULT 'x';
UPDATE c_5.t1 SET q2 = CONCAT('s', id) WHERE id < 8;
/* a comment first */ ALTER TABLE c_5 . t1 ADD INDEX iv (v);
USE oth;
SET SESSION binlog_format = MIXED;
CREATE TABLE c_5.x (id INT PRIMARY KEY, v INT) ENGINE=InnoDB;
INSERT INTO c_5.x SELECT id, v FROM c_5.t1 WHERE id <= 5;
CREATE TABLE /*!32312 IF NOT EXISTS*/ c_5.y (id INT PRIMARY KEY) ENGINE=InnoDB;
SET SESSION binlog_format = STATEMENT;
UPDATE c_5.t1 a JOIN c_5.x b ON a.id = b.id SET a.v = b.v * 10;
INSERT INTO oth.o SELECT id + 100, v FROM c_5.t1 WHERE id < 4;
INSERT INTO c_5.y SELECT id FROM c_5.x WHERE id > 2;
DELETE FROM c_5.nokey WHERE a = 2 LIMIT 1;
SQL
# LOAD DATA as a statement event (Begin_load_query + Execute_load_query) under USE oth
printf '7\tseven\n8\teight\n' > "$T/rows.txt"
q $S --local-infile=1 -e "USE oth; SET SESSION binlog_format = STATEMENT; LOAD DATA LOCAL INFILE '$T/rows.txt' INTO TABLE c_5.nokey" \
  || fail "LOAD DATA"
G2=$(pos)
# objects of other databases and accounts: never on the target
q $S <<'SQL'
USE oth;
SET SESSION binlog_format = STATEMENT;
CREATE PROCEDURE oth.p() SELECT 1;
CREATE FUNCTION f() RETURNS INT DETERMINISTIC RETURN 7;
CREATE TABLE oth.o2 (id INT);
CREATE DATABASE newdb;
CREATE TABLE newdb.n (id INT);
CREATE DATABASE IF NOT EXISTS c_5;
CREATE USER 'u1'@'localhost';
GRANT SELECT ON oth.* TO 'u1'@'localhost';
SET SESSION binlog_format = ROW;
INSERT INTO cX5.t1 VALUES (100, 1);
UPDATE cX5.t1 SET v = v + 1;
ALTER TABLE cX5.t1 ADD COLUMN z INT;
USE cX5;
CREATE PROCEDURE px() SELECT 2;
USE oth;
RENAME TABLE c_5.x TO c_5.x2;
SET SESSION binlog_format = MIXED;
INSERT INTO c_5.x2 VALUES (50, 50);
SQL
G3=$(pos)
TM --json backup db > "$T/b.json" || fail "snapshot B"
# after B: the only non-row change of c_5 is a DROP TABLE under USE oth
q $S <<'SQL'
USE oth;
SET SESSION binlog_format = ROW;
DROP TABLE c_5.t3;
INSERT INTO c_5.nokey VALUES (9, 'nine');
UPDATE c_5.t1 SET v = v + 5 WHERE id = 3;
SQL
G4=$(pos)
# (4) tables moved or copied across the restored/non-restored boundary, each
# after a snapshot of its own: first what must pass (between two non-restored
# databases, a copy out of c_5), then each crossing shape
q $S <<'SQL'
SET SESSION binlog_format = ROW;
CREATE TABLE c_5.mv (id INT PRIMARY KEY) ENGINE=InnoDB;
INSERT INTO c_5.mv VALUES (1);
CREATE TABLE oth.m (id INT PRIMARY KEY) ENGINE=InnoDB;
SQL
snap() { TM --json backup db > "$T/s.json" || fail "snapshot $1"; python3 -c "import json;print(json.load(open('$T/s.json'))['snapshot'])"; }
SC=$(snap C)
q $S <<'SQL'
SET SESSION binlog_format = STATEMENT;
RENAME TABLE cX5.t1 TO oth.t1x;
INSERT INTO oth.o SELECT id + 200, v FROM c_5.t1 WHERE id < 3;
CREATE TABLE oth.cp LIKE c_5.nokey;
USE c_5;
RENAME TABLE mv TO mv2, mv2 TO mv;
SQL
G5N=$(pos)
q $S -e "RENAME TABLE c_5.mv TO oth.mv"
G5=$(pos); SD=$(snap D)
q $S -e "RENAME TABLE oth.m TO c_5.m"
G6=$(pos); SE=$(snap E)
q $S -e "USE oth; SET SESSION binlog_format = STATEMENT; CREATE TABLE c_5.cp LIKE o"
G7=$(pos); SF=$(snap F)
q $S -e "SET SESSION binlog_format = STATEMENT; INSERT INTO c_5.t1 (id, v) SELECT o.id + 500, o.v FROM c_5.x2 AS k, oth.o AS o WHERE o.id = k.id"
G8=$(pos); SG=$(snap G)
q $S -e "USE oth; ALTER TABLE o RENAME TO c_5.o3"
G9=$(pos)
# (5) after snapshot H: statements on oth carrying Intvar, Rand and User_var
# events and a LOAD DATA (Begin_load_query + Execute_load_query) on oth
# (STATEMENT format), beside row changes of c_5: the net path judges those
# events by the statement they precede
SH=$(snap H)
q $S <<'SQL'
USE oth;
SET SESSION binlog_format = STATEMENT;
CREATE TABLE ai (id INT AUTO_INCREMENT PRIMARY KEY, v DOUBLE) ENGINE=InnoDB;
INSERT INTO ai (v) VALUES (1), (2);
INSERT INTO ai (v) VALUES (RAND());
SET @w = 7;
INSERT INTO ai (v) VALUES (@w + LAST_INSERT_ID());
SET SESSION binlog_format = ROW;
UPDATE c_5.t1 SET v = v + 9 WHERE id = 2;
INSERT INTO c_5.nokey VALUES (10, 'ten');
SQL
q $S --local-infile=1 -e "USE oth; SET SESSION binlog_format = STATEMENT; CREATE TABLE ld (a INT, b VARCHAR(20));
  LOAD DATA LOCAL INFILE '$T/rows.txt' INTO TABLE ld" || fail "LOAD DATA into oth.ld"
q $S -e "SET SESSION binlog_format = ROW; UPDATE c_5.t1 SET v = v + 1 WHERE id = 4"
G10=$(pos)
q $S -N -e "SHOW BINLOG EVENTS IN '$(q $S -N -e 'SHOW MASTER STATUS' | cut -f1)'" | awk -F'\t' '{print $3}' | grep -q '^Intvar$' || fail "no Intvar event in the binlog"
q $S -N -e "SHOW BINLOG EVENTS IN '$(q $S -N -e 'SHOW MASTER STATUS' | cut -f1)'" | awk -F'\t' '{print $3}' | grep -q '^RAND$' || fail "no Rand event in the binlog"
q $S -N -e "SHOW BINLOG EVENTS IN '$(q $S -N -e 'SHOW MASTER STATUS' | cut -f1)'" | awk -F'\t' '{print $3}' | grep -q '^User var$' || fail "no User_var event in the binlog"
stop_follower_at "$G10"
mapfile -t FILES < <(sed 's|^\./||' "$SRCDIR/data/binlog.index" | while read -r f; do echo "$SRCDIR/data/${f##*/}"; done)
echo "snapshot A at $GA; points G0 $G0 G1 $G1 G2 $G2 G3 $G3 G4 $G4 G5 $G5 G6 $G6 G7 $G7 G8 $G8 G9 $G9"

shape() { # sock db -> every table's columns and CHECKSUM TABLE
  local t
  for t in $(q "$1" -N -e "SELECT table_name FROM information_schema.tables WHERE table_schema='$2' AND table_type='BASE TABLE' ORDER BY 1"); do
    echo "$t $(q "$1" -N -e "SELECT GROUP_CONCAT(column_name, ' ', column_type, ' ', is_nullable ORDER BY ordinal_position) FROM information_schema.columns WHERE table_schema='$2' AND table_name='$t'")"
    echo "$t $(q "$1" -N -e "SELECT GROUP_CONCAT(index_name, ':', column_name ORDER BY index_name, seq_in_index) FROM information_schema.statistics WHERE table_schema='$2' AND table_name='$t'")"
    q "$1" -N -e "CHECKSUM TABLE \`$2\`.\`$t\`" | awk -v t="$t" '{print t, $2}'
  done
}
reference() { # GTID: the reference server at snapshot A + the binlog up to GTID
  q $RF --init-command="SET sql_log_bin=0" -e "DROP DATABASE IF EXISTS newdb; DROP DATABASE IF EXISTS oth; DROP DATABASE IF EXISTS cX5; DROP USER IF EXISTS 'u1'@'localhost'"
  TM -q restore db --snapshot "$(python3 -c "import json;print(json.load(open('$T/a.json'))['snapshot'])")" \
    --socket $RF --user root --drop-existing >/dev/null 2>"$T/ref.err" || { cat "$T/ref.err"; fail "reference load"; }
  q $RF --init-command="SET sql_log_bin=0" < "$T/others.sql" || fail "reference: oth and cX5 at A"
  mkdir -p "$T/ll"
  mariadb-binlog --local-load="$T/ll" --start-position="$GA" --stop-position="$1" "${FILES[@]}" 2>"$T/mb.err" \
    | q $RF --local-infile=1 --init-command="SET sql_log_bin=0" || { cat "$T/mb.err"; fail "reference apply to $1"; }
}
clean_target() { # label: nothing of the other databases reached the target
  [ -z "$(q $TG -N -e "SHOW DATABASES WHERE \`Database\` IN ('oth', 'cX5', 'newdb')")" ] || fail "$1: oth, cX5 or newdb exists on the target"
  [ "$(q $TG -N -e "SELECT COUNT(*) FROM information_schema.routines WHERE routine_schema NOT IN ('sys', 'mysql')")" = 0 ] \
    || fail "$1: a routine of the workload was created on the target"
  [ "$(q $TG -N -e "SELECT COUNT(*) FROM mysql.user WHERE user = 'u1'")" = 0 ] || fail "$1: account u1 created on the target"
  [ -z "$(q $TG -N -e "SHOW ALL SLAVES STATUS")" ] || fail "$1: replication connection left on the target"
}
check() { # label GTID tidemark-args...
  local label=$1 g=$2; shift 2
  TM --json restore db --to-gtid "$g" --socket $TG --user root --drop-existing "$@" > "$T/r.json" 2> "$T/r.err" \
    || { cat "$T/r.err" "$T/r.json"; fail "$label: tidemark restore"; }
  python3 -c "
import json; j=json.load(open('$T/r.json'))
assert j['verdict']=='verified' and j['reached'] and j['load_verified'], j" || fail "$label: verdict"
  reference "$g"
  shape $TG c_5 > "$T/t.shape"; shape $RF c_5 > "$T/r.shape"
  diff "$T/t.shape" "$T/r.shape" >&2 || fail "$label: c_5 differs from mariadb-binlog | mariadb"
  clean_target "$label"
  pass "$label: $(grep -c . "$T/t.shape") lines of c_5's shape equal to the reference"
}

# ---- (1) the workload's points, both ways ---------------------------------------------
check "G1 (ALTER TABLE c_5.t1 under USE oth, ROW)" "$G1" --apply transactions
grep -q "qual int" "$T/t.shape" || fail "G1: t1 has no qual column"
check "G2 (no database selected, CREATE TABLE c_5.x under USE oth, MIXED/STATEMENT)" "$G2"
[ "$(q $TG -N -e "SELECT COUNT(*) FROM c_5.nokey WHERE b IN ('seven', 'eight')")" = 2 ] || fail "G2: LOAD DATA rows missing"
q $S -N -e "SHOW BINLOG EVENTS" | grep -q "Execute_load_query" || fail "G2: LOAD DATA was not logged as a statement"
check "G3 (objects of oth/cX5, accounts)" "$G3" --apply transactions --snapshot "$(python3 -c "import json;print(json.load(open('$T/a.json'))['snapshot'])")"

# ---- (2) the net path does not skip DROP TABLE c_5.t3 under USE oth ----------------------
check "G4 (DROP TABLE c_5.t3 under USE oth, auto)" "$G4"
python3 -c "
import json; j=json.load(open('$T/r.json'))
assert j['plan']['snapshot'] == json.load(open('$T/b.json'))['snapshot'], 'the plan did not start at B'" || fail "G4: snapshot"
grep -q "^t3 " "$T/t.shape" && fail "G4: c_5.t3 still exists"
expect_fail 2 "a statement naming restored database \`c_5\` is not a row change: DROP TABLE" \
  TM restore db --to-gtid "$G4" --apply net --socket $TG --user root --drop-existing
pass "G4 --apply net refused: $(grep -o 'refused.*' "$T/err" | head -1)"

# ---- (3) --target-db ------------------------------------------------------------------------
TM --json restore db --to-gtid "$G0" --target-db c5new --socket $TG --user root --drop-existing > "$T/r.json" 2> "$T/r.err" \
  || { cat "$T/r.err"; fail "rename to G0"; }
reference "$G0"
shape $TG c5new > "$T/t.shape"; shape $RF c_5 > "$T/r.shape"
diff "$T/t.shape" "$T/r.shape" >&2 || fail "rename to G0: c5new differs from the reference's c_5"
q $S -N -e "SHOW BINLOG EVENTS" | grep -q 'DROP TEMPORARY TABLE IF EXISTS `c_5`.`tt`' || fail "no DROP TEMPORARY TABLE naming c_5 in the binlog"
pass "--target-db c5new to G0 (default-database statements, a temporary table): equal to the reference"
q $TG -e "DROP DATABASE c5new"
expect_fail 8 "names database \`c_5\` explicitly (ALTER TABLE c_5.t1 ADD COLUMN qual INT)" \
  TM restore db --to-gtid "$G1" --target-db c5new --socket $TG --user root --drop-existing
grep -q "GTID 0-1-" "$T/err" || { cat "$T/err"; fail "the refusal does not name the GTID"; }
[ -z "$(q $TG -N -e "SHOW DATABASES LIKE 'c5new'")" ] || fail "rename refused, but c5new was loaded"
clean_target "rename refused"
pass "--target-db to G1 refused before the load: $(grep -o 'the statement of GTID.*' "$T/err" | cut -c1-150)"

# ---- (4) moves and copies across the restored/non-restored boundary -----------------------
check "G5N (RENAME between oth and cX5, copies out of c_5, a RENAME within c_5)" "$G5N"
cross() { # label GTID snapshot fragment: refused before the load, naming the GTID and the way on
  local label=$1 g=$2 sn=$3 frag=$4
  shape $TG c_5 > "$T/before.shape"
  expect_fail 8 "$frag" TM restore db --to-gtid "$g" --snapshot "$sn" --socket $TG --user root --drop-existing
  grep -q "the statement of GTID $g " "$T/err" && grep -q "nothing was touched" "$T/err" \
    && grep -qF '(`databases = c_5 oth` in the instance)' "$T/err" || { cat "$T/err"; fail "$label: refusal wording"; }
  shape $TG c_5 > "$T/after.shape"; diff -q "$T/before.shape" "$T/after.shape" >/dev/null || fail "$label: the target was changed"
  expect_fail 8 "$frag" TM restore db --to-gtid "$g" --snapshot "$sn" --plan --socket $TG --user root --drop-existing
  pass "$label refused before the load and by --plan: $(grep -o 'the statement of GTID.*' "$T/err" | cut -c1-200)"
}
cross "RENAME TABLE c_5.mv TO oth.mv (no default database)" "$G5" "$SC" \
  "moves a table between restored database \`c_5\` and database \`oth\`, which is not restored (RENAME TABLE c_5.mv TO oth.mv)"
cross "RENAME TABLE oth.m TO c_5.m" "$G6" "$SD" "moves a table between restored database \`c_5\` and database \`oth\`"
cross "CREATE TABLE c_5.cp LIKE o under USE oth" "$G7" "$SE" "copies into restored database \`c_5\` from database \`oth\`, which is not restored (CREATE TABLE c_5.cp LIKE o)"
cross "INSERT INTO c_5.t1 ... SELECT ... FROM c_5.x2 AS k, oth.o AS o (STATEMENT)" "$G8" "$SF" "copies into restored database \`c_5\` from database \`oth\`"
cross "ALTER TABLE o RENAME TO c_5.o3 under USE oth" "$G9" "$SG" "(ALTER TABLE o RENAME TO c_5.o3)"

# ---- (5) Intvar / Rand / User_var of statements on oth: the net path takes the range -------
check "G10 (Intvar, Rand, User_var, Begin_load_query events of statements on oth, --apply net)" "$G10" --apply net
python3 -c "
import json; j=json.load(open('$T/r.json'))
assert j['plan']['snapshot'] == '$SH', 'the plan did not start at H'" || fail "G10: snapshot"
echo "pitr_crossdb: all checks passed"

#!/usr/bin/env bash
# db_types.sh: a type-torture database through dump -> restore db and
# dump -> export sql -> mariadb (issue 4 tests): every type the issue lists
# (BLOB/BINARY with every byte value, NULL vs empty, utf8mb4 4-byte chars,
# DECIMAL, DATETIME(6), zero dates under a permissive sql_mode, JSON, BIT,
# spatial, generated columns, TIMESTAMP in a non-UTC session zone), tables in
# latin1 / utf8mb3 / utf8mb4, a table without a key, an AUTO_INCREMENT on a
# secondary key, MyISAM and Aria tables (the lock path), a big table loaded
# with deferred keys and foreign keys in several rows parts, views depending
# on views, triggers, a procedure, a function, an event, users and grants.
source "$(dirname "$0")/lib.sh"
SB="$TM_SRC/tests/support/mariadb-sandbox.sh"
DB="$T/db"
eval "$(TM_DB_BUFFER_POOL=128M "$SB" start "$DB")" || exit $?
cleanup_hooks+=("'$SB' stop '$DB'")
sql() { mariadb --socket="$TM_DB_SOCKET" -uroot "$@"; }

sql <<'SQL'
SET SESSION sql_mode = '';
SET time_zone = '+05:30';
CREATE DATABASE torture CHARACTER SET latin1 COLLATE latin1_german1_ci;
USE torture;
CREATE TABLE t_all (
  id INT NOT NULL PRIMARY KEY,
  ti TINYINT, si SMALLINT UNSIGNED, mi MEDIUMINT, bi BIGINT UNSIGNED,
  de DECIMAL(30,10), fl FLOAT, dbl DOUBLE, b1 BIT(1), b64 BIT(64),
  d DATE, dt DATETIME, dt6 DATETIME(6), ts TIMESTAMP(3) NULL DEFAULT NULL, tm TIME(6), yr YEAR,
  c CHAR(10), vc VARCHAR(200), tx TEXT, lt LONGTEXT,
  bn BINARY(8), vb VARBINARY(300), bl BLOB, lb LONGBLOB,
  en ENUM('a','b','c'), st SET('x','y','z'),
  js JSON, g GEOMETRY, pt POINT, ls LINESTRING, pg POLYGON, mpt MULTIPOINT,
  u4 VARCHAR(50) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
  u3 VARCHAR(50) CHARACTER SET utf8mb3,
  l1 VARCHAR(50) CHARACTER SET latin1,
  gv INT AS (id * 2) VIRTUAL, gs VARCHAR(60) AS (CONCAT(vc, '!')) STORED,
  inv INT INVISIBLE DEFAULT 7
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO t_all (id, ti, si, mi, bi, de, fl, dbl, b1, b64, d, dt, dt6, ts, tm, yr, c, vc, tx, lt,
                   bn, vb, bl, lb, en, st, js, g, pt, ls, pg, mpt, u4, u3, l1, inv) VALUES
 (1, -128, 65535, -8388608, 18446744073709551615, -12345678901234567890.0123456789, 3.14159, 2.718281828459045,
  b'1', b'1010101010101010101010101010101010101010101010101010101010101010',
  '0000-00-00', '0000-00-00 00:00:00', '2024-02-29 23:59:59.999999', '2024-03-31 01:30:00.123', '-838:59:59.000000', 2155,
  'pad  ', 'tab\there, newline\nhere, backslash \\ and \\N literal', REPEAT('x', 70000), NULL,
  0x00FF0A0D09005C4E, 0x5C, 0x00, NULL, 'b', 'x,z',
  '{"k": [1, 2.5, "é"], "n": null}', ST_GeomFromText('POINT(1 2)', 4326), POINT(-1.5, 1e-300),
  ST_GeomFromText('LINESTRING(0 0, 1 1, 2 0)'), ST_GeomFromText('POLYGON((0 0,4 0,4 4,0 0),(1 1,2 1,2 2,1 1))'),
  ST_GeomFromText('MULTIPOINT(1 1, 2 2)'), '😀 𝄞 astral', 'ünïcödé', 'Grüße', 42),
 (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  '', '', '', '', '', '', '', '', '', '', NULL, NULL, NULL, NULL, NULL, NULL, '', '', '', NULL),
 (3, 0, 0, 0, 0, 0.0000000001, -0.0, 1e308, b'0', b'0', '1000-01-01', '9999-12-31 23:59:59', '1970-01-01 00:00:00.000001',
  '2038-01-19 03:14:07.999', '00:00:00', 1901, 'N', '\\', 'NULL', '\\N', 0x4E, 0x0A, 0x09, 0x0D, 'a', '',
  '[]', NULL, POINT(0, 0), NULL, NULL, NULL, '\\N', 'N', 'N', NULL);
-- every byte value in a BLOB and a VARBINARY
INSERT INTO t_all (id, bl, vb) SELECT 10 + seq, UNHEX(CONCAT(HEX(CHAR(seq)), '00', HEX(CHAR(255 - seq)))), CHAR(seq)
  FROM seq_0_to_255;
UPDATE t_all SET lb = (SELECT GROUP_CONCAT(CHAR(seq) SEPARATOR '') FROM seq_0_to_255) WHERE id = 10;

CREATE TABLE t_nokey (a INT, b VARCHAR(10)) ENGINE=InnoDB;
INSERT INTO t_nokey VALUES (3, 'c'), (1, 'a'), (2, NULL), (1, 'a');
CREATE TABLE t_uniq (a INT NOT NULL, b INT NOT NULL, c TEXT, UNIQUE KEY uk (b, a)) ENGINE=InnoDB;
INSERT INTO t_uniq VALUES (1, 2, 'x'), (2, 1, 'y');
CREATE TABLE t_ai2 (a INT NOT NULL, id INT NOT NULL AUTO_INCREMENT, v INT, PRIMARY KEY (a, id), KEY k_id (id), KEY k_v (v)) ENGINE=InnoDB;
INSERT INTO t_ai2 (a, v) VALUES (1, 5), (1, 6), (2, 7);
INSERT INTO t_ai2 (a, id, v) VALUES (3, 0, 8);
CREATE TABLE t_u3 (id INT PRIMARY KEY, s VARCHAR(20)) DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_general_ci;
INSERT INTO t_u3 VALUES (1, 'ça'), (2, 'ß');
CREATE TABLE t_my (id INT PRIMARY KEY, s VARCHAR(20)) ENGINE=MyISAM;
INSERT INTO t_my VALUES (1, 'myisam'), (2, NULL);
CREATE TABLE t_aria (id INT PRIMARY KEY, s VARCHAR(20)) ENGINE=Aria;
INSERT INTO t_aria VALUES (1, 'aria');

-- a big parent/child pair: deferred keys, foreign keys, several rows parts
CREATE TABLE parent (rowid INT PRIMARY KEY AUTO_INCREMENT, ref VARCHAR(30) NOT NULL, note TEXT,
  UNIQUE KEY uk_ref (ref), KEY k_note (note(10))) ENGINE=InnoDB;
CREATE TABLE child (rowid INT PRIMARY KEY AUTO_INCREMENT, fk_parent INT NOT NULL, qty DECIMAL(10,2), label VARCHAR(255),
  KEY idx_parent (fk_parent), FULLTEXT KEY ft_label (label),
  CONSTRAINT fk_child_parent FOREIGN KEY (fk_parent) REFERENCES parent (rowid) ON DELETE CASCADE) ENGINE=InnoDB;
INSERT INTO parent (ref, note) SELECT CONCAT('P', seq), REPEAT(MD5(seq), 8) FROM seq_1_to_40000;
INSERT INTO child (fk_parent, qty, label) SELECT 1 + seq % 40000, seq / 7, CONCAT('line ', seq, ' ', MD5(seq), MD5(seq + 1)) FROM seq_1_to_120000;
SQL
# objects; a_top depends on z_base (name order is the wrong creation order)
sql torture <<'SQL'
CREATE VIEW z_base AS SELECT rowid AS n, ref FROM parent;
CREATE VIEW a_top AS SELECT * FROM z_base WHERE n > 1;
CREATE TRIGGER child_bi BEFORE INSERT ON child FOR EACH ROW SET NEW.label = CONCAT(NEW.label, ';');
DELIMITER ;;
CREATE PROCEDURE p_count(OUT n INT) BEGIN SELECT COUNT(*) INTO n FROM parent; END;;
CREATE FUNCTION f_twice(x INT) RETURNS INT DETERMINISTIC RETURN x * 2;;
DELIMITER ;
CREATE EVENT ev_nightly ON SCHEDULE EVERY 1 DAY STARTS '2030-01-01 00:00:00' DISABLE DO DELETE FROM t_nokey WHERE a < 0;
CREATE USER 'app'@'%' IDENTIFIED BY 'app-secret';
GRANT SELECT, INSERT ON torture.* TO 'app'@'%';
SQL

setup_repo
export TIDEMARK_DB_SOCKET="$TM_DB_SOCKET" TIDEMARK_DB_USER=root TIDEMARK_DATABASES=torture
export TIDEMARK_DUMP_PART_SIZE=2M
"$TM_BIN" --instance it --json backup db --with-grants > "$T/b.json" 2> "$T/b.err" || { cat "$T/b.err"; fail "backup"; }
grep -q '"method":"backup-stage"' "$T/b.json" || fail "MyISAM/Aria present: expected the backup-stage lock path: $(cat "$T/b.json")"
pass "backup with non-transactional tables (lock path, $(grep -o '"lock_ms":[0-9.e+-]*' "$T/b.json"))"

checksums() {
  local tabs
  tabs=$(sql -N -e "SELECT GROUP_CONCAT(CONCAT('\`$1\`.\`', TABLE_NAME, '\`') ORDER BY TABLE_NAME) FROM information_schema.TABLES WHERE TABLE_SCHEMA='$1' AND TABLE_TYPE='BASE TABLE'")
  sql -N -e "CHECKSUM TABLE $tabs EXTENDED" | sed "s/^$1\.//"
}
objects() {   # every definition of DB, database name stripped
  local t
  sql -N -e "SHOW CREATE DATABASE \`$1\`" | cut -f2 | sed "s/\`$1\`/DB/"
  for t in $(sql -N -e "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA='$1' ORDER BY TABLE_NAME"); do
    sql -N "$1" -e "SHOW CREATE TABLE \`$t\`" | cut -f1-2
  done
  for t in $(sql -N -e "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA='$1'"); do
    sql -N "$1" -e "SHOW CREATE TRIGGER \`$t\`" | cut -f1-3
  done
  sql -N "$1" -e "SHOW CREATE PROCEDURE p_count; SHOW CREATE FUNCTION f_twice" | cut -f1-3
  sql -N "$1" -e "SHOW CREATE EVENT ev_nightly" | cut -f1-4
}
sql -e "SET GLOBAL group_concat_max_len = 1000000"
checksums torture > "$T/src.sum"
objects torture > "$T/src.obj"

sql -e "DROP USER 'app'@'%'"
"$TM_BIN" -q --instance it restore db --snapshot latest --target-db torture_r --with-grants \
  || fail "restore db"
checksums torture_r > "$T/rst.sum"; diff "$T/src.sum" "$T/rst.sum" || fail "checksums differ after restore"
objects torture_r > "$T/rst.obj"; diff "$T/src.obj" "$T/rst.obj" || fail "definitions differ after restore"
sql -N -e "SHOW GRANTS FOR 'app'@'%'" | grep -q "SELECT, INSERT ON \`torture\`" || fail "grants not restored"
[ "$(sql -N torture_r -e "CALL p_count(@n); SELECT @n; SELECT f_twice(21)" | tr '\n' ' ')" = "40000 42 " ] \
  || fail "routines do not work after restore"
pass "restore db: every type, charset, key, view, trigger, routine, event, grant equal"

"$TM_BIN" --instance it export sql --snapshot latest --target-db torture_e > "$T/dump.sql" || fail "export sql"
sql < "$T/dump.sql" || fail "mariadb client rejects the export"
checksums torture_e > "$T/exp.sum"; diff "$T/src.sum" "$T/exp.sum" || fail "checksums differ after export sql"
objects torture_e > "$T/exp.obj"; diff "$T/src.obj" "$T/exp.obj" || fail "definitions differ after export sql"
pass "export sql: equal checksums and definitions"

# dedup: a second dump of unchanged data adds almost nothing
"$TM_BIN" --instance it --json backup db > "$T/b2.json" || fail "second backup"
python3 - "$T/b.json" "$T/b2.json" <<'PY' || fail "second dump of unchanged data is not deduplicated"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
assert b["bytes_new"] < a["dump_bytes"] * 0.01, (a, b)
PY
pass "unchanged second dump: deduplicated"

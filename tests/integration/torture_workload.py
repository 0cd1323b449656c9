#!/usr/bin/env python3
"""torture_workload.py: the SQL of the data-shape torture suite (torture.sh), python3 only.

  torture_workload.py shapes            the shape databases, one a line
  torture_workload.py zoo               SQL creating every shape database (sql_mode '')
  torture_workload.py xa-open           an XA transaction left prepared across the snapshot
  torture_workload.py workload DIR SEED session files DIR/NN-PHASE.sql (+ DIR/load.tsv), one
                                        mariadb client each, in name order; every transaction
                                        is followed by SELECT 'TX', label, @@last_gtid

Each shape is its own database (and its own tidemark instance in torture.sh), so a refusal
of one shape does not hide the others. Phase A is ROW-only DML (the net apply path can take
it), phase B mixes ROW/STATEMENT/MIXED, temporary tables, LOAD DATA, XA, triggers, FK
cascades and NEXTVAL, phase C holds DDL with and without a default database, cross-database
statements and the commit of the XA transaction prepared before the snapshot.
Statements are deterministic under STATEMENT format (no UUID(), SYSDATE(), LIMIT without
ORDER BY on distinct rows), so the source, mariadb-binlog and tidemark must agree.
"""
import os
import random
import sys

SHAPES = ["z_int", "z_float", "z_time", "z_str", "z_geo", "z_net", "z_keys", "z_seq", "z_fk", "z_names", "z_misc", "z_check",
          "z_ver", "z_cross"]

INT_EDGES = {
    "ti": (-128, 127), "tiu": (0, 255), "si": (-32768, 32767), "siu": (0, 65535),
    "mi": (-8388608, 8388607), "miu": (0, 16777215), "i": (-2147483648, 2147483647),
    "iu": (0, 4294967295), "bi": (-9223372036854775808, 9223372036854775807),
    "biu": (0, 18446744073709551615),
}
# FLOAT / DOUBLE literals: float max, float min normal, float denormals, -0, 0.1, 33.333332,
# 2^24+1, double max, double min normal, double denormal min, 1/3
FLOATS = ["3.4028235e38", "-3.4028235e38", "1.17549435e-38", "1.4e-45", "1.1754942e-38", "-0e0", "0.1",
          "33.333332", "16777217", "1e-10", "123456.79", "-1.5e-40"]
DOUBLES = ["1.7976931348623157e308", "-1.7976931348623157e308", "2.2250738585072014e-308",
           "4.9406564584124654e-324", "-0e0", "0.1", "33.333332", "0.30000000000000004",
           "9007199254740993", "1e-300", "3.4028235e38", "1.17549435e-38"]


def hexbytes(bs):
    return "X'" + bytes(bs).hex() + "'" if bs else "''"


ALL256 = hexbytes(range(256))


def zoo():
    out = ["USE mysql;", "SET SESSION sql_mode = '';", "SET SESSION time_zone = '+05:30';", "SET SESSION binlog_format = ROW;"]
    a = out.append
    # ---- integers, BIT, DECIMAL, YEAR, BOOL
    cols = ", ".join("%s %s%s" % (c, {"ti": "TINYINT", "si": "SMALLINT", "mi": "MEDIUMINT", "i": "INT",
                                       "bi": "BIGINT"}[c.rstrip("u")], " UNSIGNED" if c.endswith("u") else "")
                     for c in INT_EDGES)
    a("CREATE DATABASE z_int CHARACTER SET utf8mb4;")
    a("CREATE TABLE z_int.ints (id INT PRIMARY KEY, %s, b1 BIT(1), b7 BIT(7), b33 BIT(33), b64 BIT(64), "
      "de DECIMAL(65,30), de0 DECIMAL(65,0) UNSIGNED, d52 DECIMAL(5,2), bo BOOL, yr YEAR, "
      "zf INT(6) UNSIGNED ZEROFILL) ENGINE=InnoDB;" % cols)
    for rid, pick in ((1, 0), (2, 1)):
        vals = ", ".join(str(v[pick]) for v in INT_EDGES.values())
        bits = ("b'0', b'0000000', 0, 0" if pick == 0 else
                "b'1', b'1111111', b'111111111111111111111111111111111', 18446744073709551615")
        de = ("-99999999999999999999999999999999999.999999999999999999999999999999" if pick == 0 else
              "99999999999999999999999999999999999.999999999999999999999999999999")
        a("INSERT INTO z_int.ints VALUES (%d, %s, %s, %s, %s, %s, %d, %d, %d);" % (
            rid, vals, bits, de, "0" if pick == 0 else "9" * 65, "-999.99" if pick == 0 else "999.99",
            pick, 1901 if pick == 0 else 2155, 0 if pick == 0 else 4294967295))
    a("INSERT INTO z_int.ints (id, ti, de, d52, yr, b64) VALUES (3, 0, 0.000000000000000000000000000001, -0.01, 0, "
      "b'1000000000000000000000000000000000000000000000000000000000000001'), (4, NULL, NULL, NULL, NULL, NULL);")
    a("INSERT INTO z_int.ints (id, i, de, b33) SELECT 10 + seq, CAST(seq AS SIGNED) * 7919 - 50000, seq / 3, seq FROM seq_1_to_40;")
    # ---- FLOAT / DOUBLE, with and without a key
    a("CREATE DATABASE z_float CHARACTER SET utf8mb4;")
    a("CREATE TABLE z_float.fl (id INT PRIMARY KEY, f FLOAT, d DOUBLE, fu FLOAT UNSIGNED, f73 FLOAT(7,3), "
      "d103 DOUBLE(10,3), r REAL) ENGINE=InnoDB;")
    a("CREATE TABLE z_float.fl_nokey (f FLOAT, d DOUBLE, tag VARCHAR(20)) ENGINE=InnoDB;")
    for i, (f, d) in enumerate(zip(FLOATS, DOUBLES)):
        a("INSERT INTO z_float.fl VALUES (%d, %s, %s, ABS(%s), 1234.567, 1234567.891, %s);" % (i + 1, f, d, f, d))
        a("INSERT INTO z_float.fl_nokey VALUES (%s, %s, 'r%d');" % (f, d, i))
    a("INSERT INTO z_float.fl (id, f, d) SELECT 100 + seq, seq / 7, seq / 7 FROM seq_1_to_30;")
    a("INSERT INTO z_float.fl (id, f, d) VALUES (50, -1e-44 * 1e-10, -1e-320 * 1e-10);")  # a FLOAT -0
    a("CREATE TABLE z_float.fl_pk (f FLOAT NOT NULL PRIMARY KEY, v INT) ENGINE=InnoDB;")
    a("INSERT INTO z_float.fl_pk VALUES (33.333332, 1), (0.1, 2), (3.4028235e38, 3), (1.17549435e-38, 4), (16777217, 5);")
    a("INSERT INTO z_float.fl_nokey SELECT seq / 3, seq / 3, CONCAT('s', seq) FROM seq_1_to_20;")
    # ---- temporal types
    a("CREATE DATABASE z_time CHARACTER SET utf8mb4;")
    a("CREATE TABLE z_time.tm (id INT PRIMARY KEY, d DATE, dt DATETIME, dt3 DATETIME(3), dt6 DATETIME(6), "
      "ts TIMESTAMP(6) NULL DEFAULT NULL, ts0 TIMESTAMP NULL DEFAULT NULL, t TIME, t6 TIME(6), t1 TIME(1), y YEAR) ENGINE=InnoDB;")
    a("INSERT INTO z_time.tm VALUES "
      "(1, '0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00.000', '2024-00-15 10:00:00.5', "
      "'1970-01-01 05:30:01.000001', '0000-00-00 00:00:00', '-838:59:59', '-838:59:59.000000', '838:59:59.9', 0),"
      "(2, '1000-01-01', '9999-12-31 23:59:59', '9999-12-31 23:59:59.999', '9999-12-31 23:59:59.999999', "
      "'2038-01-19 08:44:07.999999', '2038-01-19 08:44:07', '838:59:59', '838:59:59.000000', '-00:00:00.1', 2155),"
      "(3, '2024-02-29', '2024-02-29 12:00:00', '2024-02-29 12:00:00.001', '2024-03-31 02:30:00.123456', "
      "'2024-03-31 02:30:00.5', NOW(), '100:00:00', '-00:00:00.000001', '24:00:00', 1901),"
      "(4, '2023-00-00', NULL, NULL, NULL, NULL, NULL, '-25:00:00', '123:45:67', NULL, 1970),"
      "(5, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);")
    a("INSERT INTO z_time.tm (id, dt6, ts, t6) SELECT 10 + seq, '2026-01-01' + INTERVAL seq * 1000003 MICROSECOND, "
      "'2026-01-01' + INTERVAL seq HOUR, SEC_TO_TIME(CAST(seq AS SIGNED) * 3599.999999 - 40000) FROM seq_1_to_30;")
    # ---- strings, binaries, ENUM, SET, JSON, charsets (latin1 database: old Dolibarr)
    a("CREATE DATABASE z_str CHARACTER SET latin1 COLLATE latin1_swedish_ci;")
    a("CREATE TABLE z_str.s (id INT PRIMARY KEY, c CHAR(10), vc VARCHAR(300), tx TEXT, mt MEDIUMTEXT, "
      "bn BINARY(16), vb VARBINARY(300), bl BLOB, tb TINYBLOB, lb LONGBLOB, "
      "en ENUM('a','b','','ü','with space'), st SET('x','y','z','ä'), js JSON, "
      "u4 VARCHAR(50) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin, u4u TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci, "
      "u4g VARCHAR(50) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci, u3 VARCHAR(50) CHARACTER SET utf8mb3 COLLATE utf8mb3_general_ci, "
      "u3u VARCHAR(50) CHARACTER SET utf8mb3 COLLATE utf8mb3_unicode_ci, l1 VARCHAR(300), l1b CHAR(20) CHARACTER SET latin1 COLLATE latin1_bin, "
      "asc7 VARCHAR(20) CHARACTER SET ascii, u16 VARCHAR(20) CHARACTER SET utf16, ucs VARCHAR(20) CHARACTER SET ucs2, "
      "cp VARCHAR(20) CHARACTER SET cp1250, u32 VARCHAR(20) CHARACTER SET utf32) ENGINE=InnoDB;")
    a("INSERT INTO z_str.s (id, c, vc, tx, mt, bn, vb, bl, tb, lb, en, st, js, u4, u4u, u4g, u3, u3u, l1, l1b, asc7, u16, ucs, cp, u32) VALUES "
      "(1, 'pad  ', 'trail  ', 'text trailing   ', 'tab\\there nl\\nhere bs \\\\ \\\\N', X'00FF0A0D', 'vb  ', %s, %s, %s, "
      "'ü', 'x,ä', '{\"k\": [1, 2.5, \"é\", null, 1e300], \"\\\\u0000\": \"\"}', '😀 𝄞 👨‍👩‍👧', 'Ünïcödé 😀', 'ß', 'ça €', 'Ω', %s, 'É  ', "
      "'plain', 'ü😀', 'ü€', 'Žluťoučký', '𝄞')," % (ALL256, hexbytes(range(255)), ALL256, ALL256)
      + "(2, '', '', '', '', '', '', '', '', '', '', '', '[]', '', '', '', '', '', '', '', '', '', '', '', ''),"
      "(3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),"
      "(4, 'N', '\\\\N', 'NULL', REPEAT('x', 70000), X'4E', X'0A', X'09', X'0D', X'5C4E', 'with space', 'x,y,z', '\"str\"', "
      "'\\\\N', ' ', 'a ', 'b  ', '\\\\', '\\\\N', 'N', 'N', 'N', 'N', 'N', 'N');")
    a("INSERT INTO z_str.s (id, vb, bl, bn, l1, tx) SELECT 10 + seq, CHAR(seq), "
      "UNHEX(CONCAT(HEX(CHAR(seq)), '00', HEX(CHAR(255 - seq)), '20')), CHAR(seq, 32, 32), "
      "CONCAT(CONVERT(CHAR(seq) USING latin1), '  '), CONCAT(CONVERT(CHAR(seq) USING latin1), ' ') FROM seq_0_to_255;")
    a("CREATE TABLE z_str.u3tab (id INT PRIMARY KEY, s VARCHAR(40)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_general_ci;")
    a("INSERT INTO z_str.u3tab VALUES (1, 'ça'), (2, 'ß'), (3, 'trail  ');")
    a("CREATE TABLE z_str.u4tab (id INT PRIMARY KEY, s VARCHAR(40)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;")
    a("INSERT INTO z_str.u4tab VALUES (1, '😀'), (2, 'Ü'), (3, '🇫🇷 flag');")
    # ---- spatial
    a("CREATE DATABASE z_geo CHARACTER SET utf8mb4;")
    a("CREATE TABLE z_geo.g (id INT PRIMARY KEY, g GEOMETRY, pt POINT NOT NULL, ls LINESTRING, pg POLYGON, "
      "mpt MULTIPOINT, mls MULTILINESTRING, mpg MULTIPOLYGON, gc GEOMETRYCOLLECTION, g4326 GEOMETRY REF_SYSTEM_ID=4326, "
      "SPATIAL KEY sp (pt)) ENGINE=InnoDB;")
    a("INSERT INTO z_geo.g VALUES (1, ST_GeomFromText('POINT(1 2)', 4326), POINT(-1.5, 1e-300), "
      "ST_GeomFromText('LINESTRING(0 0, 1 1, 2 0)'), ST_GeomFromText('POLYGON((0 0,4 0,4 4,0 0),(1 1,2 1,2 2,1 1))'), "
      "ST_GeomFromText('MULTIPOINT(1 1, 2 2)'), ST_GeomFromText('MULTILINESTRING((0 0,1 1),(2 2,3 3))'), "
      "ST_GeomFromText('MULTIPOLYGON(((0 0,1 0,1 1,0 0)),((5 5,6 5,6 6,5 5)))'), "
      "ST_GeomFromText('GEOMETRYCOLLECTION(POINT(1 1), LINESTRING(0 0, 3.3333333333333335 1))'), "
      "ST_GeomFromText('POINT(48.8566 2.3522)', 4326)),"
      "(2, NULL, POINT(0, -0e0), NULL, NULL, NULL, NULL, NULL, ST_GeomFromText('GEOMETRYCOLLECTION EMPTY'), NULL),"
      "(3, POINT(1.7976931348623157e308, 4.9406564584124654e-324), POINT(0.1, 33.333332), NULL, NULL, NULL, NULL, NULL, NULL, NULL);")
    # ---- INET4 / INET6 / UUID
    a("CREATE DATABASE z_net CHARACTER SET utf8mb4;")
    a("CREATE TABLE z_net.n (id INT PRIMARY KEY, i4 INET4, i6 INET6, u UUID) ENGINE=InnoDB;")
    a("INSERT INTO z_net.n VALUES (1, '0.0.0.0', '::', '00000000-0000-0000-0000-000000000000'), "
      "(2, '255.255.255.255', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'ffffffff-ffff-ffff-ffff-ffffffffffff'), "
      "(3, '10.1.2.3', '::ffff:1.2.3.4', '6ccd780c-baba-1026-9564-5b8c656024db'), (4, NULL, NULL, NULL);")
    a("CREATE TABLE z_net.by_uuid (u UUID PRIMARY KEY, ip INET6 NOT NULL, note VARCHAR(20)) ENGINE=InnoDB;")
    a("INSERT INTO z_net.by_uuid VALUES ('11111111-2222-3333-4444-555555555555', '2001:db8::1', 'a'), "
      "('01234567-89ab-cdef-0123-456789abcdef', 'fe80::1', 'b');")
    # ---- keys, FK cascade, generated/invisible, partitions, objects, a non-transactional table
    a("CREATE DATABASE z_keys CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;")
    a("CREATE TABLE z_keys.t_pk (id INT AUTO_INCREMENT PRIMARY KEY, v INT, s VARCHAR(40)) ENGINE=InnoDB;")
    a("CREATE TABLE z_keys.t_uk (a INT NOT NULL, b VARCHAR(20) NOT NULL, v INT, UNIQUE KEY uk (b, a)) ENGINE=InnoDB;")
    a("CREATE TABLE z_keys.t_uk_null (a INT NULL, v INT, UNIQUE KEY uk (a)) ENGINE=InnoDB;")
    a("CREATE TABLE z_keys.t_nokey (a INT, b VARCHAR(20), c TEXT) ENGINE=InnoDB;")
    a("CREATE TABLE z_keys.gen (id INT PRIMARY KEY, a INT, b VARCHAR(20), gv INT AS (a * 2) VIRTUAL, "
      "gs VARCHAR(40) AS (CONCAT(b, '!', a)) STORED, hid INT INVISIBLE DEFAULT 7, KEY k_gv (gv)) ENGINE=InnoDB;")
    a("CREATE TABLE z_keys.part (id INT NOT NULL, d DATE NOT NULL, v INT, PRIMARY KEY (id, d)) ENGINE=InnoDB "
      "PARTITION BY RANGE (YEAR(d)) (PARTITION p0 VALUES LESS THAN (2020), PARTITION p1 VALUES LESS THAN (2025), "
      "PARTITION pmax VALUES LESS THAN MAXVALUE);")
    a("CREATE TABLE z_keys.hpart (id INT PRIMARY KEY, v INT) ENGINE=InnoDB PARTITION BY HASH (id) PARTITIONS 3;")
    a("CREATE TABLE z_keys.aria (id INT PRIMARY KEY, v INT) ENGINE=Aria;")
    a("INSERT INTO z_keys.t_pk (v, s) SELECT seq, CONCAT('r', seq) FROM seq_1_to_50;")
    a("INSERT INTO z_keys.t_uk SELECT seq, CONCAT('k', seq % 7), seq FROM seq_1_to_30;")
    a("INSERT INTO z_keys.t_uk_null VALUES (NULL, 1), (NULL, 2), (1, 3), (2, 4);")
    a("INSERT INTO z_keys.t_nokey VALUES (1, 'a', 'x'), (1, 'a', 'x'), (2, NULL, NULL), (3, 'c', REPEAT('z', 3000));")
    a("INSERT INTO z_keys.gen (id, a, b) SELECT seq, seq * 3, CONCAT('g', seq) FROM seq_1_to_20;")
    a("INSERT INTO z_keys.part SELECT seq, '2015-01-01' + INTERVAL seq * 97 DAY, seq FROM seq_1_to_40;")
    a("INSERT INTO z_keys.hpart SELECT seq, seq FROM seq_1_to_30;")
    a("INSERT INTO z_keys.aria SELECT seq, seq FROM seq_1_to_10;")
    a("CREATE VIEW z_keys.z_base AS SELECT id, v FROM z_keys.t_pk WHERE v > 0;")
    a("CREATE VIEW z_keys.a_top AS SELECT * FROM z_keys.z_base WHERE id > 1;")
    a("CREATE DEFINER=`ghost`@`%` SQL SECURITY INVOKER VIEW z_keys.v_ghost AS SELECT id FROM z_keys.t_pk;")  # no such user
    a("CREATE TABLE z_keys.subpart (id INT NOT NULL, k VARCHAR(10) NOT NULL, PRIMARY KEY (id, k)) ENGINE=InnoDB "
      "PARTITION BY RANGE (id) SUBPARTITION BY KEY (k) SUBPARTITIONS 2 "
      "(PARTITION a VALUES LESS THAN (10), PARTITION b VALUES LESS THAN MAXVALUE);")
    a("INSERT INTO z_keys.subpart SELECT seq, CONCAT('k', seq) FROM seq_1_to_20;")
    a("CREATE TRIGGER z_keys.pk_bu BEFORE UPDATE ON z_keys.t_pk FOR EACH ROW SET NEW.s = CONCAT(NEW.s, '+');")
    a("CREATE PROCEDURE z_keys.p_bump(IN n INT) MODIFIES SQL DATA UPDATE z_keys.t_pk SET v = v + n WHERE id <= n;")
    a("CREATE FUNCTION z_keys.f_twice(x INT) RETURNS INT DETERMINISTIC RETURN x * 2;")
    a("CREATE EVENT z_keys.ev_nightly ON SCHEDULE EVERY 1 DAY STARTS '2030-01-01 00:00:00' DISABLE "
      "DO DELETE FROM z_keys.t_nokey WHERE a < 0;")
    # ---- an FK with ON DELETE/UPDATE CASCADE and a trigger (apart: the net apply refuses them)
    a("CREATE DATABASE z_fk CHARACTER SET utf8mb4;")
    a("CREATE TABLE z_fk.parent (id INT PRIMARY KEY, name VARCHAR(30)) ENGINE=InnoDB;")
    a("CREATE TABLE z_fk.child (id INT AUTO_INCREMENT PRIMARY KEY, pid INT NOT NULL, qty INT, "
      "CONSTRAINT fk_child FOREIGN KEY (pid) REFERENCES parent (id) ON DELETE CASCADE ON UPDATE CASCADE) ENGINE=InnoDB;")
    a("CREATE TABLE z_fk.audit (id INT AUTO_INCREMENT PRIMARY KEY, msg VARCHAR(80)) ENGINE=InnoDB;")
    a("INSERT INTO z_fk.parent SELECT seq, CONCAT('p', seq) FROM seq_1_to_20;")
    a("INSERT INTO z_fk.child (pid, qty) SELECT 1 + seq % 20, seq FROM seq_1_to_60;")
    a("CREATE TRIGGER z_fk.child_ai AFTER INSERT ON z_fk.child FOR EACH ROW "
      "INSERT INTO z_fk.audit (msg) VALUES (CONCAT('child ', NEW.id, ' of ', NEW.pid));")
    # ---- SEQUENCE
    a("CREATE DATABASE z_seq CHARACTER SET utf8mb4;")
    a("CREATE SEQUENCE z_seq.s START WITH 100 INCREMENT BY 5 MINVALUE 100 MAXVALUE 1000000 CACHE 10;")
    a("CREATE SEQUENCE z_seq.s_nocache START WITH -10 INCREMENT BY -3 MINVALUE -1000 MAXVALUE -1 NOCACHE CYCLE;")
    a("CREATE TABLE z_seq.t (id INT PRIMARY KEY DEFAULT NEXTVAL(z_seq.s), v INT) ENGINE=InnoDB;")
    a("INSERT INTO z_seq.t (v) VALUES (1), (2), (3);")
    a("SELECT NEXTVAL(z_seq.s_nocache), NEXTVAL(z_seq.s_nocache);")
    # ---- names with spaces, backticks, UTF-8 (a database name in UTF-8 too)
    a("CREATE DATABASE z_names CHARACTER SET utf8mb4;")
    a("CREATE TABLE z_names.`with space` (`col space` INT PRIMARY KEY, `back``tick` VARCHAR(20), `ünï 表` TEXT) ENGINE=InnoDB;")
    a("CREATE TABLE z_names.`back``tick` (id INT AUTO_INCREMENT PRIMARY KEY, `select` INT, `from` VARCHAR(10)) ENGINE=InnoDB;")
    a("CREATE TABLE z_names.`表 ünï` (`ключ` INT PRIMARY KEY, `値` VARCHAR(20)) ENGINE=InnoDB;")
    a("INSERT INTO z_names.`with space` VALUES (1, 'a`b', 'ü'), (2, NULL, '表');")
    a("INSERT INTO z_names.`back``tick` (`select`, `from`) VALUES (1, 'x'), (2, 'y');")
    a("INSERT INTO z_names.`表 ünï` VALUES (1, '値'), (2, 'two');")
    a("CREATE VIEW z_names.`view with space` AS SELECT `col space` FROM z_names.`with space`;")
    a("CREATE TRIGGER z_names.`trig``ger` BEFORE INSERT ON z_names.`back``tick` FOR EACH ROW SET NEW.`from` = UPPER(NEW.`from`);")
    # ---- odd column and table attributes, rows the server accepted with checks off
    a("CREATE DATABASE z_misc CHARACTER SET utf8mb4;")
    a("CREATE TABLE z_misc.m (id INT PRIMARY KEY, en ENUM('a','','b'), st SET('x','y'), chk INT, "
      "u4z VARCHAR(20) CHARACTER SET utf8mb4, upd TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6), "
      "dupd DATETIME(2) NULL ON UPDATE CURRENT_TIMESTAMP(2), dexpr VARCHAR(40) DEFAULT (CONCAT('d', 1 + 1)), "
      "cb BLOB COMPRESSED, cv VARCHAR(300) COMPRESSED, cmt INT COMMENT 'it''s a \"comment\" with `ticks`', "
      "CONSTRAINT chk_pos CHECK (chk > 0)) ENGINE=InnoDB COMMENT='table ''comment''';")
    a("INSERT INTO z_misc.m (id, en, st, chk, u4z, upd, dupd, cb, cv) VALUES "
      "(1, 'zzz', 'x,zzz', 1, CONCAT('a', CHAR(0 USING utf8mb4), 'b'), '2020-02-02 02:02:02.020202', '2021-01-01 00:00:00.5', %s, REPEAT('abc', 100)),"
      "(2, '', '', 2, 'a\\\\', '2020-02-02 02:02:02', NULL, '', 'x  '),"
      "(3, 'b', 'y', 3, NULL, '2020-02-02 02:02:02', NULL, NULL, NULL);" % ALL256)
    a("CREATE TABLE z_misc.nopad (k VARCHAR(10) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin PRIMARY KEY, v INT) ENGINE=InnoDB;")
    a("INSERT INTO z_misc.nopad VALUES ('a', 1), ('a ', 2), ('a  ', 3), ('', 4), (' ', 5);")
    a("CREATE TABLE z_misc.rowcomp (id INT PRIMARY KEY, t TEXT) ENGINE=InnoDB ROW_FORMAT=COMPRESSED KEY_BLOCK_SIZE=4;")
    a("CREATE TABLE z_misc.pagecomp (id INT PRIMARY KEY, t TEXT) ENGINE=InnoDB PAGE_COMPRESSED=1;")
    a("INSERT INTO z_misc.rowcomp SELECT seq, REPEAT(CHAR(65 + seq % 26), seq * 10) FROM seq_1_to_30;")
    a("INSERT INTO z_misc.pagecomp SELECT seq, REPEAT('p', seq) FROM seq_1_to_30;")
    a("CREATE TABLE z_misc.`%s` (`%s` INT PRIMARY KEY) ENGINE=InnoDB;" % ("t" * 64, "c" * 64))
    a("INSERT INTO z_misc.`%s` VALUES (1), (-1);" % ("t" * 64))
    a("CREATE TABLE z_misc.my (id INT PRIMARY KEY, v VARCHAR(20)) ENGINE=MyISAM;")
    a("INSERT INTO z_misc.my VALUES (1, 'myisam'), (2, NULL);")
    # ---- rows the server took with its checks off: a CHECK violator, an FK orphan
    a("CREATE DATABASE z_check CHARACTER SET utf8mb4;")
    a("CREATE TABLE z_check.c (id INT PRIMARY KEY, chk INT, CONSTRAINT chk_pos CHECK (chk > 0)) ENGINE=InnoDB;")
    a("INSERT INTO z_check.c VALUES (1, 1), (2, 2);")
    a("SET SESSION check_constraint_checks = 0; INSERT INTO z_check.c VALUES (3, -5); SET SESSION check_constraint_checks = 1;")
    a("CREATE TABLE z_check.fparent (id INT PRIMARY KEY) ENGINE=InnoDB;")
    a("CREATE TABLE z_check.fchild (id INT PRIMARY KEY, pid INT, CONSTRAINT fk_orphan FOREIGN KEY (pid) REFERENCES z_check.fparent (id)) ENGINE=InnoDB;")
    a("INSERT INTO z_check.fparent VALUES (1);")
    a("SET SESSION foreign_key_checks = 0; INSERT INTO z_check.fchild VALUES (1, 1), (2, 999); SET SESSION foreign_key_checks = 1;")
    # ---- system-versioned and application-time period tables (history made before the snapshot)
    a("CREATE DATABASE z_ver CHARACTER SET utf8mb4;")
    a("CREATE TABLE z_ver.sv (id INT PRIMARY KEY, v INT) ENGINE=InnoDB WITH SYSTEM VERSIONING;")
    a("CREATE TABLE z_ver.sve (id INT PRIMARY KEY, v VARCHAR(10), rs TIMESTAMP(6) GENERATED ALWAYS AS ROW START INVISIBLE, "
      "re TIMESTAMP(6) GENERATED ALWAYS AS ROW END INVISIBLE, PERIOD FOR SYSTEM_TIME(rs, re)) ENGINE=InnoDB WITH SYSTEM VERSIONING;")
    a("CREATE TABLE z_ver.app (id INT, s DATE, e DATE, v INT, PERIOD FOR p(s, e), PRIMARY KEY (id, p WITHOUT OVERLAPS)) ENGINE=InnoDB;")
    a("INSERT INTO z_ver.sv SELECT seq, seq FROM seq_1_to_10;")
    a("UPDATE z_ver.sv SET v = v + 100 WHERE id <= 5;")
    a("DELETE FROM z_ver.sv WHERE id = 10;")
    a("INSERT INTO z_ver.sve (id, v) VALUES (1, 'a'), (2, 'b');")
    a("UPDATE z_ver.sve SET v = 'a2' WHERE id = 1;")
    a("INSERT INTO z_ver.app VALUES (1, '2020-01-01', '2030-01-01', 5), (2, '2020-01-01', '2021-01-01', 6);")
    a("DELETE FROM z_ver.app FOR PORTION OF p FROM '2024-01-01' TO '2025-01-01' WHERE id = 1;")
    # ---- cross-database target: written by statements whose default database is another one
    a("CREATE DATABASE z_cross CHARACTER SET utf8mb4;")
    a("CREATE TABLE z_cross.c (id INT PRIMARY KEY, v INT, s VARCHAR(40)) ENGINE=InnoDB;")
    a("CREATE TABLE z_cross.c_nokey (v INT, s VARCHAR(40)) ENGINE=InnoDB;")
    a("CREATE TABLE z_cross.xa_t (id INT PRIMARY KEY, v INT) ENGINE=InnoDB;")
    a("INSERT INTO z_cross.c SELECT seq, seq, CONCAT('c', seq) FROM seq_1_to_20;")
    a("INSERT INTO z_cross.c_nokey SELECT seq, CONCAT('n', seq) FROM seq_1_to_5;")
    a("INSERT INTO z_cross.xa_t SELECT seq, 0 FROM seq_1_to_10;")
    return "\n".join(out) + "\n"


def xa_open():
    return ("XA START 'xsnap';\nUPDATE z_cross.xa_t SET v = 100 WHERE id = 1;\nINSERT INTO z_cross.xa_t VALUES (100, 1);\n"
            "XA END 'xsnap';\nXA PREPARE 'xsnap';\n")


class Gen:
    def __init__(self, rng):
        self.r = rng
        self.n = 0
        self.next_id = {"ints": 1000, "fl": 1000, "tm": 1000, "s": 1000, "g": 1000, "n": 1000, "parent": 1000,
                        "gen": 1000, "c": 1000}

    def nid(self, t):
        self.next_id[t] += 1
        return self.next_id[t]

    def tx(self, label, sql):
        self.n += 1
        return "%s\nSELECT 'TX', '%03d %s', @@last_gtid;\n" % (sql.strip(), self.n, label)

    # ---- one DML transaction per shape; fmt is the session's binlog_format
    def dml(self, shape, fmt):
        r = self.r
        k = r.randint(1, 40)
        if shape == "z_int":
            c = r.choice(list(INT_EDGES))
            lo, hi = INT_EDGES[c]
            return r.choice([
                ("ints insert edges", "INSERT INTO z_int.ints (id, %s, b64, de, yr) VALUES (%d, %d, %s, %s, %d);" % (
                    c, self.nid("ints"), r.choice([lo, hi]), r.choice(["b'%s'" % ("1" * 64), "0", "b'1'"]),
                    r.choice(["-0.000000000000000000000000000001", "12345678901234567890123456789012345.5"]),
                    r.choice([0, 1901, 2155]))),
                ("ints update", "UPDATE z_int.ints SET i = i + 1, b64 = b64 ^ 1, de = de * 2, b7 = b7 | 1 WHERE id = %d;" % (10 + k)),
                ("ints delete", "DELETE FROM z_int.ints WHERE id = %d;" % (10 + k)),
                ("ints bi wrap", "UPDATE z_int.ints SET biu = biu - 1, bi = bi - 1 WHERE id = 2;"),
            ])
        if shape == "z_float":
            f, d = r.choice(FLOATS), r.choice(DOUBLES)
            return r.choice([
                ("fl insert", "INSERT INTO z_float.fl (id, f, d, r) VALUES (%d, %s, %s, %s);" % (self.nid("fl"), f, d, d)),
                ("fl update arith", "UPDATE z_float.fl SET f = f * 3, d = d / 3 WHERE id = %d;" % (100 + k % 30)),
                ("fl_nokey update", "UPDATE z_float.fl_nokey SET tag = CONCAT(tag, 'u') WHERE tag LIKE 's%d%%';" % (k % 20)),
                ("fl_nokey delete", "DELETE FROM z_float.fl_nokey WHERE tag = 'r%d';" % (k % len(FLOATS))),
                ("fl_nokey insert", "INSERT INTO z_float.fl_nokey VALUES (%s, %s, 'w%d');" % (f, d, self.n)),
            ])
        if shape == "z_time":
            return r.choice([
                ("tm insert", "INSERT INTO z_time.tm (id, dt6, ts, t6, y, d) VALUES (%d, '2026-05-05 05:05:05.%06d', "
                              "'2030-01-01 00:00:00.%06d', '%s', %d, '0000-00-00');" % (
                                  self.nid("tm"), k * 12345 % 1000000, k, r.choice(["-838:59:59.999999", "-00:00:01.5", "500:00:00.000001"]),
                                  r.choice([0, 1901, 2155]))),
                ("tm update micro", "UPDATE z_time.tm SET dt6 = dt6 + INTERVAL 1 MICROSECOND, t6 = t6 - INTERVAL 1 SECOND, "
                                    "ts = ts + INTERVAL 1 DAY WHERE id = %d;" % (10 + k % 30)),
                ("tm zero dates", "UPDATE z_time.tm SET d = '0000-00-00', dt = '2024-00-00 00:00:00' WHERE id = %d;" % (10 + k % 30)),
                ("tm now", "UPDATE z_time.tm SET ts0 = NOW(), dt3 = NOW(3) WHERE id = %d;" % (10 + k % 30)),
            ])
        if shape == "z_str":
            return r.choice([
                ("s all bytes", "UPDATE z_str.s SET bl = %s, vb = %s, l1 = CONCAT(l1, '  ') WHERE id = %d;" % (
                    ALL256, hexbytes(reversed(range(200))), 10 + k)),
                ("s insert", "INSERT INTO z_str.s (id, c, vc, u4, u3, en, st, js, bn) VALUES (%d, 'c  ', 'v  ', '🙂 %d', 'é', "
                             "'with space', 'ä,z', JSON_OBJECT('k', %d, 'e', 'ü😀'), X'00');" % (self.nid("s"), k, k)),
                ("s json set", "UPDATE z_str.s SET js = JSON_SET(COALESCE(js, '{}'), '$.n', %d, '$.s', 'tab\\there') WHERE id IN (1, 2, 4);" % k),
                ("s enum set", "UPDATE z_str.s SET en = '%s', st = '%s' WHERE id = %d;" % (r.choice(["a", "", "ü"]), r.choice(["", "x,y", "ä"]), 10 + k)),
                ("u3/u4 tab", "INSERT INTO z_str.u4tab VALUES (%d, '🎉 %d') ON DUPLICATE KEY UPDATE s = CONCAT(s, ' ');" % (10 + k % 5, k)),
            ])
        if shape == "z_geo":
            return r.choice([
                ("g insert", "INSERT INTO z_geo.g (id, pt, pg) VALUES (%d, POINT(%d.5, -0.1), "
                             "ST_GeomFromText('POLYGON((0 0,%d 0,%d %d,0 0))'));" % (self.nid("g"), k, k, k, k)),
                ("g update", "UPDATE z_geo.g SET pt = POINT(ST_X(pt) + 0.1, ST_Y(pt)), "
                             "g = ST_GeomFromText('LINESTRING(0 0, %d 1e-300)') WHERE id IN (1, 2, 3);" % k),
            ])
        if shape == "z_net":
            return r.choice([
                ("n insert", "INSERT INTO z_net.n VALUES (%d, '192.168.%d.1', '2001:db8::%x', '%08x-0000-1000-8000-00000000%04x');" % (
                    self.nid("n"), k, k, k, k)),
                ("n update", "UPDATE z_net.n SET i6 = '::1', u = 'ffffffff-0000-0000-0000-%012x' WHERE id = %d;" % (k, 1 + k % 4)),
                ("by_uuid update", "UPDATE z_net.by_uuid SET note = CONCAT(note, '%d');" % (k % 10)),
            ])
        if shape == "z_keys":
            return r.choice([
                ("t_pk update (trigger)", "UPDATE z_keys.t_pk SET v = v + 1, s = 'u' WHERE id = %d;" % k),
                ("t_uk update", "UPDATE z_keys.t_uk SET v = v * 2 WHERE b = 'k%d';" % (k % 7)),
                ("t_uk_null insert", "INSERT INTO z_keys.t_uk_null VALUES (NULL, %d);" % k),
                ("t_nokey dup", "INSERT INTO z_keys.t_nokey VALUES (%d, 'dup', NULL), (%d, 'dup', NULL);" % (k, k)),
                ("t_nokey update", "UPDATE z_keys.t_nokey SET c = CONCAT(IFNULL(c, ''), 'x') WHERE a = 3;"),
                ("t_uk REPLACE", "REPLACE INTO z_keys.t_uk VALUES (%d, 'k%d', %d);" % (k % 7, k % 7, k)),
                ("savepoint", "INSERT INTO z_keys.t_pk (v, s) VALUES (%d, 'sp1'); SAVEPOINT sp; "
                              "INSERT INTO z_keys.t_pk (v, s) VALUES (%d, 'sp2'); ROLLBACK TO SAVEPOINT sp;" % (k, k)),
                ("part move", "UPDATE z_keys.part SET d = d + INTERVAL 1000 DAY, v = v + 1 WHERE id = %d;" % k),
                ("gen update", "UPDATE z_keys.gen SET a = a + 1, b = CONCAT(b, 'x') WHERE id = %d;" % (1 + k % 20)),
                ("hpart", "INSERT INTO z_keys.hpart VALUES (%d, 1) ON DUPLICATE KEY UPDATE v = v + 1;" % (k + 20)),
            ])
        if shape == "z_fk":
            return r.choice([
                ("child insert (trigger)", "INSERT INTO z_fk.child (pid, qty) VALUES (%d, %d);" % (1 + k % 20, k)),
                ("child update", "UPDATE z_fk.child SET qty = qty + 1 WHERE pid = %d;" % (1 + k % 20)),
                ("parent rename", "UPDATE z_fk.parent SET name = CONCAT(name, '.') WHERE id = %d;" % (1 + k % 20)),
            ])
        if shape == "z_seq":
            return r.choice([
                ("seq insert nextval", "INSERT INTO z_seq.t (v) VALUES (%d);" % k),
                ("seq select nextval", "SELECT NEXTVAL(z_seq.s), NEXTVAL(z_seq.s_nocache);"),
            ])
        if shape == "z_names":
            return r.choice([
                ("names update", "UPDATE z_names.`with space` SET `back``tick` = CONCAT(IFNULL(`back``tick`, ''), '`') WHERE `col space` = 1;"),
                ("names insert (trigger)", "INSERT INTO z_names.`back``tick` (`select`, `from`) VALUES (%d, 'ü');" % k),
                ("names utf8", "INSERT INTO z_names.`表 ünï` VALUES (%d, '値%d') ON DUPLICATE KEY UPDATE `値` = CONCAT(`値`, '!');" % (10 + k % 5, k)),
            ])
        if shape == "z_misc":
            return r.choice([
                ("m update (ON UPDATE timestamps)", "UPDATE z_misc.m SET cmt = %d WHERE id = %d;" % (k, 1 + k % 3)),
                ("m invalid enum", "UPDATE z_misc.m SET en = 'nope', cv = CONCAT(IFNULL(cv, ''), ' ') WHERE id = %d;" % (1 + k % 3)),
                ("nopad", "UPDATE z_misc.nopad SET v = v + 1 WHERE k = '%s';" % r.choice(["a", "a ", "a  ", ""])),
                ("nopad insert", "INSERT INTO z_misc.nopad VALUES ('%s', %d) ON DUPLICATE KEY UPDATE v = -v;" % ("b" + " " * (k % 4), k)),
                ("rowcomp", "UPDATE z_misc.rowcomp SET t = CONCAT(t, 'q') WHERE id = %d;" % (1 + k % 30)),
                ("myisam", "UPDATE z_misc.my SET v = CONCAT(IFNULL(v, ''), 'm') WHERE id = 1;"),
            ])
        if shape == "z_check":
            return r.choice([
                ("c update", "UPDATE z_check.c SET chk = chk + 1 WHERE id = %d;" % (1 + k % 2)),
                ("fparent insert", "INSERT IGNORE INTO z_check.fparent VALUES (%d);" % (10 + k)),
            ])
        if shape == "z_ver":
            return r.choice([
                ("sv update (history)", "UPDATE z_ver.sv SET v = v + 1 WHERE id = %d;" % (1 + k % 9)),
                ("sv delete", "DELETE FROM z_ver.sv WHERE id = %d;" % (1 + k % 9)),
                ("sve update", "UPDATE z_ver.sve SET v = '%d' WHERE id = 2;" % k),
                ("app portion", "UPDATE z_ver.app FOR PORTION OF p FROM '2026-01-01' TO '2026-06-01' SET v = %d WHERE id = 1;" % k),
            ])
        if shape == "z_cross":
            return ("c update", "UPDATE z_cross.c SET v = v + 1 WHERE id = %d;" % (1 + k % 20))
        raise ValueError(shape)


def session(fmt, db, body):
    head = ["SET SESSION sql_mode = '';", "SET SESSION time_zone = '+05:30';"]
    if fmt:
        head.append("SET SESSION binlog_format = %s;" % fmt)
    if db:
        head.append("USE `%s`;" % db)
    return "\n".join(head) + "\n" + body


def workload(out, seed):
    r = random.Random(seed)
    g = Gen(r)
    sessions = []
    dml_shapes = [s for s in SHAPES if s != "z_cross"]
    # ---- phase A: ROW, DML only, 12 sessions of 6 transactions
    for i in range(12):
        body = ""
        for _ in range(6):
            sh = r.choice(dml_shapes)
            lab, sql = g.dml(sh, "ROW")
            body += g.tx("A ROW %s: %s" % (sh, lab), "BEGIN; %s COMMIT;" % sql)
        sessions.append(("A", session("ROW", r.choice(dml_shapes + [None]), body)))
    # ---- phase B: mixed formats, temp tables, LOAD DATA, XA, triggers, FK cascade, NEXTVAL; each
    # session's default database is the one its statements write (as an application does)
    for i in range(10):
        fmt = ["ROW", "STATEMENT", "MIXED"][i % 3]
        sh = r.choice([s for s in dml_shapes if fmt != "STATEMENT" or s != "z_seq"])  # sequences log rows only
        body = ""
        for _ in range(5):
            lab, sql = g.dml(sh, fmt)
            body += g.tx("B %s %s: %s" % (fmt, sh, lab), "BEGIN; %s COMMIT;" % sql)
        sessions.append(("B", session(fmt, sh, body)))
    b = ""
    b += g.tx("B STATEMENT z_keys: temporary table into t_pk",
              "CREATE TEMPORARY TABLE tt (k INT, s VARCHAR(10)); INSERT INTO tt VALUES (1, 'tmp'), (2, 'tmp');"
              "INSERT INTO z_keys.t_pk (v, s) SELECT k, s FROM tt; DROP TEMPORARY TABLE tt;")
    b += g.tx("B STATEMENT z_keys: LOAD DATA into t_nokey",
              "LOAD DATA LOCAL INFILE '%s' INTO TABLE z_keys.t_nokey CHARACTER SET utf8mb4 "
              "FIELDS TERMINATED BY '\\t' (a, b, c);" % os.path.join(out, "load.tsv"))
    b += g.tx("B STATEMENT z_keys: procedure call", "CALL z_keys.p_bump(5);")
    b += g.tx("B STATEMENT z_keys: aria (non-transactional)", "UPDATE z_keys.aria SET v = v + 1 WHERE id < 5;")
    b += g.tx("B STATEMENT z_keys: INSERT SELECT from a view", "INSERT INTO z_keys.t_pk (v, s) SELECT v, 'view' FROM z_keys.a_top WHERE id < 4 ORDER BY id;")
    sessions.append(("B", session("STATEMENT", "z_keys", b)))
    sessions.append(("B", session("STATEMENT", "z_fk",
                                  g.tx("B STATEMENT z_fk: FK cascade delete parent 3", "DELETE FROM z_fk.parent WHERE id = 3;")
                                  + g.tx("B STATEMENT z_fk: FK cascade update parent 4 -> 400", "UPDATE z_fk.parent SET id = 400 WHERE id = 4;"))))
    sessions.append(("B", session("ROW", "z_fk", g.tx("B ROW z_fk: FK cascade delete parent 5", "DELETE FROM z_fk.parent WHERE id = 5;"))))
    sessions.append(("B", session("MIXED", "z_seq", g.tx("B MIXED z_seq: INSERT NEXTVAL",
                                                          "INSERT INTO z_seq.t (id, v) VALUES (NEXTVAL(z_seq.s), 99);"))))
    sessions.append(("B", session("STATEMENT", "z_float", g.tx("B STATEMENT z_float: float arithmetic",
                                  "UPDATE z_float.fl SET f = f + 0.1, d = d * 1.1 WHERE id BETWEEN 101 AND 130;"))))
    sessions.append(("B", session("STATEMENT", "z_str",
                                  g.tx("B STATEMENT z_str: NO_BACKSLASH_ESCAPES insert", "SET SESSION sql_mode = 'NO_BACKSLASH_ESCAPES'; "
                                       "INSERT INTO z_str.u4tab VALUES (50, 'C:\\path\\n ü');")
                                  + g.tx("B STATEMENT z_str: SET NAMES latin1 insert", "SET NAMES latin1; "
                                         "INSERT INTO z_str.u3tab VALUES (60, 'é read as latin1'); SET NAMES utf8mb4;"))))
    sessions.append(("B", session("STATEMENT", "z_names", g.tx("B STATEMENT z_names: insert (trigger)",
                                  "INSERT INTO z_names.`back``tick` (`select`, `from`) VALUES (77, 'stmt');"))))
    sessions.append(("B", session("MIXED", "z_int", g.tx("B MIXED z_int: LOAD DATA into ints",
                                  "LOAD DATA LOCAL INFILE '%s' INTO TABLE z_int.ints FIELDS TERMINATED BY '\\t' (id, i, bi);"
                                  % os.path.join(out, "load_int.tsv")))))
    b = ""
    b += g.tx("B ROW z_keys: temporary table into t_pk",
              "CREATE TEMPORARY TABLE tt2 (k INT); INSERT INTO tt2 VALUES (7), (8); "
              "INSERT INTO z_keys.t_pk (v, s) SELECT k, 'tmp2' FROM tt2; DROP TEMPORARY TABLE tt2;")
    b += g.tx("B ROW z_keys: XA commit", "XA START 'x1'; INSERT INTO z_keys.t_pk (v, s) VALUES (1, 'xa1'); "
              "UPDATE z_keys.t_uk SET v = 0 WHERE a = 1; XA END 'x1'; XA PREPARE 'x1';")
    b += g.tx("B ROW z_keys: XA COMMIT x1", "XA COMMIT 'x1';")
    b += g.tx("B ROW z_keys: XA rollback after prepare", "XA START 'x2'; INSERT INTO z_keys.t_pk (v, s) VALUES (2, 'xa2'); "
              "XA END 'x2'; XA PREPARE 'x2';")
    b += g.tx("B ROW z_keys: XA ROLLBACK x2", "XA ROLLBACK 'x2';")
    b += g.tx("B ROW z_keys: XA one phase", "XA START 'x3'; INSERT INTO z_keys.t_pk (v, s) VALUES (3, 'xa3'); "
              "XA END 'x3'; XA COMMIT 'x3' ONE PHASE;")
    sessions.append(("B", session("ROW", "z_keys", b)))
    sessions.append(("B", session("ROW", "z_seq", g.tx("B ROW z_seq: SETVAL", "SELECT SETVAL(z_seq.s, 5000);"))))
    # ---- phase C: DDL with and without a default database, cross-database, the XA across the snapshot
    c = ""
    c += g.tx("C STATEMENT z_keys: DDL with default db (ALTER t_pk ADD extra)", "ALTER TABLE t_pk ADD COLUMN extra INT DEFAULT 3;")
    c += g.tx("C STATEMENT z_keys: UPDATE the new column", "UPDATE t_pk SET extra = id WHERE id < 10;")
    c += g.tx("C STATEMENT z_keys: CREATE TABLE + INSERT", "CREATE TABLE newt (id INT PRIMARY KEY, f FLOAT) ENGINE=InnoDB;")
    c += g.tx("C STATEMENT z_keys: insert newt", "INSERT INTO newt VALUES (1, 33.333332), (2, 3.4028235e38);")
    c += g.tx("C STATEMENT z_keys: RENAME + partition DDL", "RENAME TABLE newt TO newt2;")
    c += g.tx("C STATEMENT z_keys: ALTER partition", "ALTER TABLE part REORGANIZE PARTITION pmax INTO "
              "(PARTITION p2 VALUES LESS THAN (2030), PARTITION pmax VALUES LESS THAN MAXVALUE);")
    c += g.tx("C STATEMENT z_keys: CREATE OR REPLACE VIEW", "CREATE OR REPLACE VIEW a_top AS SELECT id, v * 2 AS v2 FROM z_base;")
    c += g.tx("C STATEMENT z_keys: DROP TRIGGER", "DROP TRIGGER pk_bu;")
    c += g.tx("C STATEMENT z_keys: UPDATE after trigger drop", "UPDATE t_pk SET s = 'after' WHERE id = 2;")
    c += g.tx("C STATEMENT z_keys: CREATE TABLE ... SELECT", "CREATE TABLE ctas AS SELECT id, v FROM t_pk WHERE id < 5;")
    c += g.tx("C STATEMENT z_keys: TRUNCATE t_uk_null", "TRUNCATE TABLE t_uk_null;")
    sessions.append(("C", session("STATEMENT", "z_keys", c)))
    c = g.tx("C STATEMENT z_seq: ALTER SEQUENCE RESTART", "ALTER SEQUENCE s RESTART WITH 7000;")
    c += g.tx("C MIXED z_seq: INSERT after restart", "SET SESSION binlog_format = MIXED; INSERT INTO t (v) VALUES (7000);")
    sessions.append(("C", session("STATEMENT", "z_seq", c)))
    c = ""  # no default database
    c += g.tx("C STATEMENT none: ALTER z_cross.c ADD qual (no default db)", "ALTER TABLE z_cross.c ADD COLUMN qual INT;")
    c += g.tx("C STATEMENT none: UPDATE z_cross.c SET qual", "UPDATE z_cross.c SET qual = id * 10;")
    c += g.tx("C STATEMENT none: CREATE TABLE z_cross.x", "CREATE TABLE z_cross.x (id INT PRIMARY KEY, v VARCHAR(10));")
    c += g.tx("C STATEMENT none: INSERT z_cross.x", "INSERT INTO z_cross.x VALUES (1, 'x1'), (2, 'x2');")
    c += g.tx("C STATEMENT none: RENAME z_keys.newt2 TO z_cross.moved (across databases)", "RENAME TABLE z_keys.newt2 TO z_cross.moved;")
    c += g.tx("C ROW none: ALTER z_int.ints ADD q (no default db)", "SET SESSION binlog_format = ROW; ALTER TABLE z_int.ints ADD COLUMN q INT DEFAULT 5;")
    c += g.tx("C ROW none: UPDATE z_int.ints SET q", "UPDATE z_int.ints SET q = id WHERE id < 20;")
    sessions.append(("C", session("STATEMENT", None, c)))
    c = ""  # another default database
    c += g.tx("C STATEMENT z_int: DELETE z_str.s row 12 (default db z_int)", "DELETE FROM z_str.s WHERE id = 12;")
    c += g.tx("C STATEMENT z_int: UPDATE z_cross.c (default db z_int)", "UPDATE z_cross.c SET v = v + 100 WHERE id < 5;")
    c += g.tx("C STATEMENT z_int: INSERT z_cross.c_nokey SELECT FROM z_int.ints", "INSERT INTO z_cross.c_nokey SELECT id, 'from ints' FROM z_int.ints WHERE id BETWEEN 11 AND 13 ORDER BY id;")
    c += g.tx("C STATEMENT z_int: multi-db UPDATE", "UPDATE z_cross.c, z_int.ints SET z_cross.c.v = z_int.ints.id WHERE z_cross.c.id = 6 AND z_int.ints.id = 1;")
    c += g.tx("C STATEMENT z_int: ALTER z_cross.c_nokey ADD k (default db z_int)", "ALTER TABLE z_cross.c_nokey ADD COLUMN k INT DEFAULT 1;")
    c += g.tx("C STATEMENT z_int: DROP TABLE z_cross.x", "DROP TABLE z_cross.x;")
    c += g.tx("C ROW z_int: UPDATE z_cross.c (ROW, default db z_int)", "SET SESSION binlog_format = ROW; UPDATE z_cross.c SET s = 'row' WHERE id > 15;")
    c += g.tx("C ROW z_int: XA PREPARE x4 (target may fall inside it)", "XA START 'x4'; UPDATE z_cross.c SET s = 'x4' WHERE id = 7; XA END 'x4'; XA PREPARE 'x4';")
    c += g.tx("C ROW z_int: XA COMMIT x4", "XA COMMIT 'x4';")
    c += g.tx("C ROW z_int: XA COMMIT xsnap (prepared before the snapshot)", "XA COMMIT 'xsnap';")
    c += g.tx("C ROW z_int: after xsnap", "UPDATE z_cross.xa_t SET v = v + 1;")
    sessions.append(("C", session("STATEMENT", "z_int", c)))
    # a binlog rotation, then a closing round of DML on every shape (ROW) after the DDL, spread
    # over two archive segments of the new file (the followers seal every second)
    body = "FLUSH BINARY LOGS;\n"
    for i, sh in enumerate(dml_shapes):
        if i == 2:
            body += "SELECT SLEEP(2.5);\n"
        lab, sql = g.dml(sh, "ROW")
        body += g.tx("C ROW %s: %s" % (sh, lab), "BEGIN; %s COMMIT;" % sql)
    sessions.append(("C", session("ROW", None, body)))
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "load.tsv"), "w", encoding="utf-8") as f:
        for i in range(20):
            f.write("%d\tload ü %d\t%s\n" % (500 + i, i, "tab\\there" if i % 2 else "\\N"))
    with open(os.path.join(out, "load_int.tsv"), "w") as f:
        for i in range(10):
            f.write("%d\t%d\t%d\n" % (5000 + i, -i, -9223372036854775808 + i))
    for i, (phase, text) in enumerate(sessions):
        with open(os.path.join(out, "%02d-%s.sql" % (i, phase)), "w", encoding="utf-8") as f:
            f.write(text)


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "shapes":
        print("\n".join(SHAPES))
    elif cmd == "zoo":
        sys.stdout.write(zoo())
    elif cmd == "xa-open":
        sys.stdout.write(xa_open())
    elif cmd == "workload" and len(sys.argv) == 4:
        workload(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit("usage: torture_workload.py shapes | zoo | xa-open | workload DIR SEED")


if __name__ == "__main__":
    main()

-- db_shapes.sql: table shapes whose rows a plain SELECT does not show whole
-- (tests/integration/db_shapes.sh): system-versioned history, ENUM/SET values
-- whose text is ambiguous, rows breaking a CHECK constraint.
SET SESSION sql_mode = '';
CREATE DATABASE shapes;
USE shapes;

-- system versioning, implicit row start/end: every update and delete leaves history
CREATE TABLE sv (id INT PRIMARY KEY, v INT, t VARCHAR(10)) WITH SYSTEM VERSIONING;
INSERT INTO sv VALUES (1, 1, 'one'), (2, 2, 'two'), (3, 3, 'three');
DO SLEEP(0.01);
UPDATE sv SET v = v + 10 WHERE id <= 2;
DO SLEEP(0.01);
UPDATE sv SET v = v + 10 WHERE id = 1;
DELETE FROM sv WHERE id = 3;
-- explicit invisible row start/end, part of the primary key
CREATE TABLE sv_explicit (id INT, v VARCHAR(10),
  rs TIMESTAMP(6) GENERATED ALWAYS AS ROW START INVISIBLE,
  re TIMESTAMP(6) GENERATED ALWAYS AS ROW END INVISIBLE,
  PERIOD FOR SYSTEM_TIME (rs, re), PRIMARY KEY (id, re)) WITH SYSTEM VERSIONING;
INSERT INTO sv_explicit (id, v) VALUES (1, 'a'), (2, 'b');
UPDATE sv_explicit SET v = 'c' WHERE id = 1;
DELETE FROM sv_explicit WHERE id = 2;
-- no key, history in its own partitions, a column without versioning
CREATE TABLE sv_part (id INT, v INT, nv INT WITHOUT SYSTEM VERSIONING) WITH SYSTEM VERSIONING
  PARTITION BY SYSTEM_TIME (PARTITION p_hist HISTORY, PARTITION p_cur CURRENT);
INSERT INTO sv_part VALUES (1, 1, 1), (2, 2, 2), (2, 2, 2);
UPDATE sv_part SET v = 5 WHERE id = 1;
UPDATE sv_part SET nv = 9 WHERE id = 2;
DELETE FROM sv_part WHERE id = 1;
-- application-time period: plain columns, rows split by FOR PORTION OF
CREATE TABLE app (id INT, ds DATE, de DATE, price DECIMAL(8,2), PERIOD FOR valid (ds, de),
  PRIMARY KEY (id, ds));
INSERT INTO app VALUES (1, '2020-01-01', '2021-01-01', 10.00);
UPDATE app FOR PORTION OF valid FROM '2020-03-01' TO '2020-06-01' SET price = 12.50;

-- ENUM error value (index 0, shown as '') next to a member '', members that look like numbers
CREATE TABLE en (id INT PRIMARY KEY, e ENUM('a', '', 'b'), n ENUM('2', '1', '0'),
  s SET('x', '', 'y'), e_nn ENUM('p', 'q') NOT NULL);
INSERT INTO en VALUES (1, 'zzz', '0', 'x', 'zzz'), (2, '', '2', '', 'q'), (3, 'b', '1', 'x,y', 'p'),
  (4, NULL, NULL, NULL, 'p');
INSERT INTO en VALUES (5, 2, 3, 2, 0), (6, 0, 1, 7, 2);   -- by number: member '', bits with ''
CREATE TABLE en_nokey (e ENUM('', 'a'), s SET('', 'a'));
INSERT INTO en_nokey VALUES ('zzz', 1), ('', 2), ('a', 3), (0, 0);

-- rows breaking CHECK constraints (column and table level), stored with the checks off
CREATE TABLE z_check (id INT PRIMARY KEY, v INT CHECK (v > 0), w INT,
  CONSTRAINT w_small CHECK (w < 100));
INSERT INTO z_check VALUES (1, 1, 1);
SET SESSION check_constraint_checks = 0;
INSERT INTO z_check VALUES (2, -5, 1), (3, 1, 500);
SET SESSION check_constraint_checks = 1;

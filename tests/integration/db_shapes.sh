#!/usr/bin/env bash
# db_shapes.sh: no silent loss for table shapes a plain SELECT does not show
# whole (issue 10; found by the torture suite). db_shapes.sql on a SOURCE,
# then to a TARGET by restore db and by export sql | mariadb; each must give
# exactly the source's rows as these queries see them:
#  - system-versioned tables (implicit and explicit row start/end, keyless,
#    partitioned by SYSTEM_TIME): every row version FOR SYSTEM_TIME ALL with
#    its row start and row end;
#  - application-time periods (plain columns);
#  - ENUM/SET by number: the ENUM error value (index 0) is not the member '';
#  - rows breaking CHECK constraints (stored with check_constraint_checks=0).
# And verification sees what a load lost: history removed on the target, or
# an ENUM index 0 turned into the member '', fails verify db naming the table.
source "$(dirname "$0")/lib.sh"
SB="$TM_SRC/tests/support/mariadb-sandbox.sh"
eval "$("$SB" start "$T/src")" || exit $?
S=$TM_DB_SOCKET; cleanup_hooks+=("'$SB' stop '$T/src'")
eval "$(TM_DB_SERVER_ID=2 "$SB" start "$T/tgt")"; TG=$TM_DB_SOCKET
cleanup_hooks+=("'$SB' stop '$T/tgt'")

q $S < "$TM_SRC/tests/integration/db_shapes.sql" 2>/dev/null || fail "load db_shapes.sql"

# shape_values SOCK DB: the rows as the server holds them, history included
shape_values() {
  local s=$1 d=$2
  q "$s" -N "$d" -e "
    SELECT 'sv', id, v, t, ROW_START, ROW_END FROM sv FOR SYSTEM_TIME ALL ORDER BY id, ROW_END;
    SELECT 'sv_explicit', id, v, rs, re FROM sv_explicit FOR SYSTEM_TIME ALL ORDER BY id, re;
    SELECT 'sv_part', id, v, nv, ROW_START, ROW_END FROM sv_part FOR SYSTEM_TIME ALL ORDER BY id, ROW_END, v;
    SELECT 'sv_part p_hist', COUNT(*) FROM sv_part PARTITION (p_hist);
    SELECT 'app', id, ds, de, price FROM app ORDER BY id, ds;
    SELECT 'en', id, e+0, HEX(e), n+0, s+0, HEX(s), e_nn+0 FROM en ORDER BY id;
    SELECT 'en_nokey', e+0, s+0 FROM en_nokey ORDER BY 2, 3;
    SELECT 'z_check', id, v, w FROM z_check ORDER BY id;"
}
shape_values $S shapes > "$T/v.src"
[ "$(grep -c . "$T/v.src")" -ge 30 ] || { cat "$T/v.src"; fail "the shapes are smaller than expected"; }
grep -q "^sv	1	1	one" "$T/v.src" || fail "the source has no history row"
same() { # label tgt-db
  shape_values $TG "$2" > "$T/v.tgt"
  diff "$T/v.src" "$T/v.tgt" > "$T/v.diff" || { cat "$T/v.diff" >&2; fail "$1: rows differ from the source"; }
}

setup_repo
export TIDEMARK_DB_SOCKET="$S" TIDEMARK_DB_USER=root TIDEMARK_DATABASES=shapes
TM() { "$TM_BIN" --instance it "$@"; }
TM -q backup db || fail "backup"

# ---- restore db -------------------------------------------------------------------------------
TM restore db --snapshot latest --socket "$TG" --user root > "$T/r.out" 2> "$T/r.err" || { cat "$T/r.err" "$T/r.out"; fail "restore db"; }
grep -q "verification: OK" "$T/r.out" || { cat "$T/r.out"; fail "restore db: no verdict"; }
same "restore db" shapes
pass "restore db: history with its row start/end, ENUM index 0 vs member '', CHECK-breaking rows: exact"

# ---- verification sees a lost history and an ENUM index 0 made the member '' ----------------------
VT() { env TIDEMARK_DB_SOCKET=$TG "$TM_BIN" --instance it verify db --snapshot latest; }
q $TG shapes -e "DELETE HISTORY FROM sv"
expect_fail 6 "shapes.sv (rows 2, expected 6" VT
pass "verify db: history lost on the target fails naming the table"
q $TG -e "DROP DATABASE shapes"
TM -q restore db --snapshot latest --socket "$TG" --user root > /dev/null || fail "restore db again"
q $TG shapes -e "SET sql_mode=''; UPDATE en SET e = 2 WHERE id = 1"
expect_fail 6 "shapes.en (values hash differs" VT
pass "verify db: an ENUM error value turned into the member '' fails naming the table"

# ---- export sql | mariadb ---------------------------------------------------------------------
TM export sql --snapshot latest --target-db shapes_e > "$T/e.sql" || fail "export sql"
q $TG < "$T/e.sql" > "$T/e.out" 2>&1 || { cat "$T/e.out"; fail "the mariadb client rejects the export"; }
same "export sql" shapes_e
TIDEMARK_DB_SOCKET=$TG TM -q verify db --snapshot latest --target-db shapes_e || fail "verify db of the export"
pass "export sql | mariadb: history, ENUM/SET numbers and CHECK-breaking rows exact, verify db agrees"


# ---- a target that cannot take history (secure_timestamp=YES) refuses naming the table -------
eval "$(TM_DB_SERVER_ID=3 "$SB" start "$T/sec" 0 --secure-timestamp=YES)"; SEC=$TM_DB_SOCKET
cleanup_hooks+=("'$SB' stop '$T/sec'")
expect_fail 3 "load table shapes.sv" TM restore db --snapshot latest --socket "$SEC" --user root
grep -q "refused the row history of this system-versioned table" "$T/err" || { cat "$T/err"; fail "the refusal does not say the table keeps history"; }
pass "restore db to a server refusing history rows: refused naming the table ($(head -c 300 "$T/err"))"

# ---- transaction-precise history (row start/end are transaction ids): no server loads it ------
q $S -e "CREATE DATABASE shapes_trx; CREATE TABLE shapes_trx.sv_trx (id INT PRIMARY KEY, v INT,
  rs BIGINT UNSIGNED GENERATED ALWAYS AS ROW START, re BIGINT UNSIGNED GENERATED ALWAYS AS ROW END,
  PERIOD FOR SYSTEM_TIME (rs, re)) ENGINE=InnoDB WITH SYSTEM VERSIONING;
  INSERT INTO shapes_trx.sv_trx (id, v) VALUES (1, 1); UPDATE shapes_trx.sv_trx SET v = 2"
TIDEMARK_DATABASES=shapes_trx TM -q backup db || fail "backup of a transaction-precise table"
expect_fail 3 "load table shapes_trx.sv_trx" env TIDEMARK_DATABASES=shapes_trx "$TM_BIN" --instance it restore db --snapshot latest --socket "$TG" --user root
grep -q "transaction-precise row history" "$T/err" || { cat "$T/err"; fail "trx history: the refusal does not say why"; }
expect_fail 3 "export table shapes_trx.sv_trx" env TIDEMARK_DATABASES=shapes_trx "$TM_BIN" --instance it export sql --snapshot latest
pass "transaction-precise history: restore db and export sql refuse naming the table"

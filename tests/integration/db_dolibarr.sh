#!/usr/bin/env bash
# db_dolibarr.sh: the Dolibarr fixture (309 tables) through a real MariaDB
# (issue 4 tests): `backup` of database + documents over TCP with a password
# file, `restore db` into a new database (verdict OK, exit 0), CHECKSUM TABLE
# and SHOW CREATE TABLE of every table equal to the source, refusal of a
# non-empty target, --drop-existing, `export sql` loaded by the stock client
# (equal checksums), and `verify db` naming a table changed afterwards.
source "$(dirname "$0")/lib.sh"
start_dolibarr_sandbox

setup_repo
cat > "$T/tidemark.conf" <<CONF
[repository]
url = $T/repo
password_file = $T/pw

[instance shop]
db_host = 127.0.0.1
db_port = $TM_DB_PORT
db_user = tidemark
db_password_file = $TM_DB_PASSWORD_FILE
databases = dolibarr
documents_dir = $FIX/documents
CONF
export TIDEMARK_CONFIG="$T/tidemark.conf"
unset TIDEMARK_REPOSITORY TIDEMARK_PASSWORD_FILE

"$TM_BIN" --instance shop --json backup --tag nightly > "$T/backup.json" 2> "$T/backup.err" \
  || { cat "$T/backup.err"; fail "backup"; }
python3 - "$T/backup.json" <<'PY' || fail "backup JSON"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["tables"] == 309, j
assert j["binlog"]["file"].startswith("binlog.") and j["binlog"]["position"] > 4, j
assert j["lock_ms"] < 1000, j
PY
pass "backup: 309 tables, binlog coordinates, lock $(python3 -c "import json;print(json.load(open('$T/backup.json'))['lock_ms'])") ms"

"$TM_BIN" --instance shop restore db --snapshot latest --target-db dolibarr_r > "$T/restore.out" 2> "$T/restore.err" \
  || { cat "$T/restore.err" "$T/restore.out"; fail "restore db"; }
grep -q "verification: OK" "$T/restore.out" || fail "no OK verdict: $(cat "$T/restore.out")"
pass "restore db into dolibarr_r: verification OK"

checksums() {   # DB: "table checksum" lines of every base table
  local tabs
  tabs=$(sql -N -e "SELECT GROUP_CONCAT(CONCAT('\`$1\`.\`', TABLE_NAME, '\`') ORDER BY TABLE_NAME) FROM information_schema.TABLES WHERE TABLE_SCHEMA='$1' AND TABLE_TYPE='BASE TABLE'")
  sql -N -e "SET SESSION group_concat_max_len = 1000000; CHECKSUM TABLE $tabs EXTENDED" | sed "s/^$1\.//"
}
creates() {     # DB: every SHOW CREATE TABLE
  local t
  for t in $(sql -N -e "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA='$1' ORDER BY TABLE_NAME"); do
    sql -N "$1" -e "SHOW CREATE TABLE \`$t\`"
  done
}
sql -e "SET GLOBAL group_concat_max_len = 1000000"
checksums dolibarr > "$T/src.sum"
checksums dolibarr_r > "$T/rst.sum"
[ "$(wc -l < "$T/src.sum")" = 309 ] || fail "expected 309 checksums"
diff "$T/src.sum" "$T/rst.sum" || fail "CHECKSUM TABLE differs after restore"
creates dolibarr > "$T/src.ddl"; creates dolibarr_r > "$T/rst.ddl"
diff "$T/src.ddl" "$T/rst.ddl" || fail "SHOW CREATE TABLE differs after restore"
pass "CHECKSUM TABLE and SHOW CREATE TABLE of all 309 tables equal"

expect_fail 2 "not empty" "$TM_BIN" --instance shop restore db --snapshot latest --target-db dolibarr_r
pass "non-empty target refused"
"$TM_BIN" -q --instance shop restore db --snapshot latest --target-db dolibarr_r --drop-existing --threads 3 \
  || fail "restore --drop-existing"
checksums dolibarr_r > "$T/rst2.sum"; diff "$T/src.sum" "$T/rst2.sum" || fail "checksums after --drop-existing"
pass "--drop-existing replaces it"

"$TM_BIN" --instance shop export sql --snapshot latest --target-db dolibarr_e > "$T/dump.sql" || fail "export sql"
sql < "$T/dump.sql" || fail "the mariadb client does not load the export"
checksums dolibarr_e > "$T/exp.sum"; diff "$T/src.sum" "$T/exp.sum" || fail "export sql: checksums differ"
pass "export sql loads with the stock client, checksums equal"

"$TM_BIN" -q --instance shop verify db --snapshot latest --target-db dolibarr_r || fail "verify db on an intact copy"
sql dolibarr_r -e "UPDATE llx_societe SET nom = CONCAT(nom, 'x') WHERE rowid = (SELECT MIN(rowid) FROM llx_societe)"
expect_fail 6 "llx_societe" "$TM_BIN" --instance shop verify db --snapshot latest --target-db dolibarr_r
pass "verify db names the changed table (exit 6)"

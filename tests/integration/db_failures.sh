#!/usr/bin/env bash
# db_failures.sh: the dump's failure cases (issue 4 tests): missing
# privileges (the message lists them and the GRANT that fixes them), lock
# wait timeout, a table dropped mid-dump, the server going away mid-dump,
# a wrong password, an unknown database. Each: a clear message, a non-zero
# exit, and no snapshot recorded. TIDEMARK_TEST_PAUSE_AFTER_POINT_MS opens a
# window right after the consistent point so the breakage is deterministic.
source "$(dirname "$0")/lib.sh"
SB="$TM_SRC/tests/support/mariadb-sandbox.sh"
DB="$T/db"
eval "$(TM_DB_BUFFER_POOL=64M "$SB" start "$DB")" || exit $?
cleanup_hooks+=("'$SB' stop '$DB'")
sql() { mariadb --socket="$TM_DB_SOCKET" -uroot "$@"; }
sql <<'SQL'
CREATE DATABASE shop;
USE shop;
CREATE TABLE shop.a (id INT PRIMARY KEY, v VARCHAR(20)) ENGINE=InnoDB;
CREATE TABLE shop.b (id INT PRIMARY KEY, v VARCHAR(20)) ENGINE=InnoDB;
INSERT INTO shop.a SELECT seq, 'a' FROM seq_1_to_1000;
INSERT INTO shop.b SELECT seq, 'b' FROM seq_1_to_1000;
CREATE USER 'weak'@'localhost' IDENTIFIED BY 'weakpw';
GRANT SELECT ON shop.* TO 'weak'@'localhost';
SQL
printf 'weakpw\n' > "$T/weakpw"; chmod 600 "$T/weakpw"
setup_repo
export TIDEMARK_DB_SOCKET="$TM_DB_SOCKET" TIDEMARK_DB_USER=root TIDEMARK_DATABASES=shop
# the connection from a MariaDB option file alone ([client] group)
printf '[client]\nsocket=%s\nuser=root\n' "$TM_DB_SOCKET" > "$T/my.cnf"
env -u TIDEMARK_DB_SOCKET -u TIDEMARK_DB_USER TIDEMARK_DB_DEFAULTS_FILE="$T/my.cnf" TIDEMARK_DB_DEFAULTS_GROUP=client \
  "$TM_BIN" -q --instance it backup db --no-files || fail "backup through an option file"
pass "connection settings from an option file"

nsnap() { "$TM_BIN" -q snapshots --json 2>/dev/null | python3 -c "import json,sys; j=json.load(sys.stdin); print(len(j) if isinstance(j, list) else len(j.get('snapshots', [])))"; }
[ "$(nsnap)" = 1 ] || fail "expected the option-file snapshot only"

# missing privileges: listed, with the GRANT that fixes them
expect_fail 2 "lacks privileges for a dump" env TIDEMARK_DB_USER=weak TIDEMARK_DB_PASSWORD_FILE="$T/weakpw" \
  "$TM_BIN" --instance it backup db
for w in "SHOW VIEW on shop" "TRIGGER on shop" "EVENT on shop" "RELOAD (global)" \
         "GRANT RELOAD ON *.* TO 'weak'@'localhost'" "GRANT SELECT, SHOW VIEW, TRIGGER, EVENT ON \`shop\`.* TO 'weak'@'localhost'"; do
  grep -qF "$w" "$T/err" || { cat "$T/err"; fail "privilege message lacks: $w"; }
done
if grep -q weakpw "$T/err"; then fail "password in the message"; fi
pass "missing privileges listed with the fixing GRANT"

# the GRANT it printed is enough
sql -e "GRANT RELOAD ON *.* TO 'weak'@'localhost'; GRANT SELECT, SHOW VIEW, TRIGGER, EVENT ON \`shop\`.* TO 'weak'@'localhost'"
TIDEMARK_DB_USER=weak TIDEMARK_DB_PASSWORD_FILE="$T/weakpw" "$TM_BIN" -q --instance it backup db \
  || fail "backup with the granted privileges"
[ "$(nsnap)" = 2 ] || fail "expected 2 snapshots"
pass "the printed GRANT is sufficient"

# wrong password
printf 'nope\n' > "$T/badpw"; chmod 600 "$T/badpw"
expect_fail 3 "Access denied" env TIDEMARK_DB_USER=weak TIDEMARK_DB_PASSWORD_FILE="$T/badpw" "$TM_BIN" --instance it backup db
if grep -q nope "$T/err"; then fail "password in the message"; fi
pass "wrong password: exit 3, no secret in the message"

# unknown database
expect_fail 3 "database nosuch not found" env TIDEMARK_DATABASES=nosuch "$TM_BIN" --instance it backup db
pass "unknown database named"

# lock wait timeout: another session holds the backup lock
sql -e "BACKUP STAGE START; BACKUP STAGE BLOCK_COMMIT; SELECT SLEEP(8)" >/dev/null &
holder=$!
sleep 1
expect_fail 5 "global lock not granted within 1 s" env TIDEMARK_DB_LOCK_WAIT_TIMEOUT=1 \
  "$TM_BIN" --instance it backup db --force-lock
wait "$holder" || true
pass "lock wait timeout: exit 5, named"

# a table dropped mid-dump
TIDEMARK_TEST_PAUSE_AFTER_POINT_MS=3000 "$TM_BIN" --instance it backup db --threads 1 > "$T/out" 2> "$T/err" &
dumper=$!
sleep 1.5
sql -e "DROP TABLE shop.b" &
dropper=$!
rc=0; wait "$dumper" || rc=$?
wait "$dropper" || true
if [ "$rc" = 0 ]; then
  # the DROP waited for the dump's metadata lock: then the dump is complete and consistent
  pass "table dropped mid-dump: the DROP waited for the dump (rc 0, consistent)"
else
  [ "$rc" = 4 ] || { cat "$T/err"; fail "table dropped mid-dump: exit $rc, expected 4"; }
  grep -q "shop.b" "$T/err" || { cat "$T/err"; fail "the message does not name shop.b"; }
  grep -q "nothing committed" "$T/err" || fail "no 'nothing committed'"
  pass "table dropped mid-dump: exit 4, names shop.b, nothing committed"
fi
sql -e "CREATE TABLE IF NOT EXISTS shop.b (id INT PRIMARY KEY, v VARCHAR(20))"
before=$(nsnap)

# the server goes away mid-dump
TIDEMARK_TEST_PAUSE_AFTER_POINT_MS=3000 "$TM_BIN" --instance it backup db > "$T/out" 2> "$T/err" &
dumper=$!
sleep 1.5
kill -9 "$(cat "$TM_DB_PIDFILE")"
rc=0; wait "$dumper" || rc=$?
[ "$rc" = 4 ] || { cat "$T/err"; fail "server gone: exit $rc, expected 4"; }
grep -Eq "lost connection|gone away|Lost connection|server has gone" "$T/err" || { cat "$T/err"; fail "server gone: unclear message"; }
grep -q "nothing committed" "$T/err" || fail "no 'nothing committed'"
eval "$(TM_DB_BUFFER_POOL=64M "$SB" start "$DB")"
[ "$(nsnap)" = "$before" ] || fail "a snapshot was recorded after a failed dump"
pass "server gone mid-dump: exit 4, nothing committed"
"$TM_BIN" -q check || fail "repository check after the failures"
pass "repository check passes after the failures"

#!/usr/bin/env bash
# db_tls.sh: the dump over TLS (issue 4: TLS options). A server with a
# certificate from a test CA and an account that REQUIREs SSL: backup with
# db_tls + db_tls_verify + db_tls_ca works; with another CA the certificate
# check fails the backup (exit 4) and nothing is committed.
source "$(dirname "$0")/lib.sh"
DB="$T/db" C="$T/certs"
start_tls_sandbox "$DB" "$C"
sql() { mariadb --socket="$TM_DB_SOCKET" -uroot "$@"; }
sql -e "CREATE DATABASE shop; CREATE TABLE shop.t (id INT PRIMARY KEY, v TEXT); INSERT INTO shop.t VALUES (1, 'over tls');
        ALTER USER 'tidemark'@'%' REQUIRE SSL; ALTER USER 'tidemark'@'localhost' REQUIRE SSL"

setup_repo
export TIDEMARK_DB_HOST=127.0.0.1 TIDEMARK_DB_PORT="$TM_DB_PORT" TIDEMARK_DB_USER=tidemark \
       TIDEMARK_DB_PASSWORD_FILE="$TM_DB_PASSWORD_FILE" TIDEMARK_DATABASES=shop \
       TIDEMARK_DB_TLS=true TIDEMARK_DB_TLS_VERIFY=true
TIDEMARK_DB_TLS_CA="$C/ca.pem" "$TM_BIN" -q --instance it backup db --threads 1 || fail "backup over verified TLS"
pass "backup over TLS with the server certificate verified"

expect_fail 4 "connect to tidemark@127.0.0.1" env TIDEMARK_DB_TLS_CA="$C/otherca.pem" \
  "$TM_BIN" --instance it backup db --threads 1
n=$("$TM_BIN" -q snapshots --json | python3 -c "import json,sys; j=json.load(sys.stdin); print(len(j) if isinstance(j, list) else len(j.get('snapshots', [])))")
[ "$n" = 1 ] || fail "a snapshot was committed by the failed backup"
pass "a certificate from another CA is refused (exit 4), nothing committed: $(tail -1 "$T/err")"

TIDEMARK_DB_TLS_CA="$C/ca.pem" "$TM_BIN" -q --instance it restore db --snapshot latest --target-db shop_r --threads 1 \
  || fail "restore db over TLS"
[ "$(sql -N -e "SELECT v FROM shop_r.t")" = "over tls" ] || fail "restored row"
pass "restore db over TLS"

#!/usr/bin/env bash
# db_tls.sh: the dump over TLS (issue 4: TLS options). A server with a
# certificate from a test CA and an account that REQUIREs SSL: backup with
# db_tls + db_tls_verify + db_tls_ca works; with another CA the certificate
# check fails the backup (exit 4) and nothing is committed.
source "$(dirname "$0")/lib.sh"
command -v openssl >/dev/null || { echo "SKIP: openssl not installed"; exit 77; }
SB="$TM_SRC/tests/support/mariadb-sandbox.sh"
DB="$T/db" C="$T/certs"
mkdir -p "$C"
mkca() {   # NAME: a CA key and self-signed certificate
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=tidemark test $1" \
    -keyout "$C/$1.key" -out "$C/$1.pem" 2>/dev/null
}
mkca ca; mkca otherca
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$C/server.key" -out "$C/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > "$C/ext"
openssl x509 -req -in "$C/server.csr" -CA "$C/ca.pem" -CAkey "$C/ca.key" -CAcreateserial -days 2 \
  -extfile "$C/ext" -out "$C/server.pem" 2>/dev/null
eval "$(TM_DB_BUFFER_POOL=64M "$SB" start "$DB" 0 --ssl-ca="$C/ca.pem" --ssl-cert="$C/server.pem" --ssl-key="$C/server.key")" || exit $?
cleanup_hooks+=("'$SB' stop '$DB'")
sql() { mariadb --socket="$TM_DB_SOCKET" -uroot "$@"; }
[ "$(sql -N -e "SELECT @@have_ssl")" = YES ] || { echo "SKIP: server built without TLS"; exit 77; }
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

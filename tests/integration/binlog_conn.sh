#!/usr/bin/env bash
# binlog_conn.sh: the binlog follower's connection honours the instance's
# option file and TLS settings like the dump does (issue 11: one connect,
# mdb_connect). Through binlog_conn_probe (the follower's binlog_conn_open
# with the settings binlog follow builds, inst_follow_options): (1) db_defaults_file
# alone (socket, user and password in the option file) reaches the server
# and reads its binlog; (2) db_host = localhost with db_socket set goes to
# that socket, for the follower and (through the CLI) for the dump; (3) an
# account that REQUIREs SSL, db_tls + db_tls_verify + db_tls_ca: the binlog
# is read over verified TLS; (4) a certificate from another CA is refused
# (exit 4, the connect named).
# Before issue 11 the follower's connection knew host/port/socket/user/
# password only: (1) found no server, (3) was refused by the account; the
# dump of (2) went to the default socket.
source "$(dirname "$0")/lib.sh"
PROBE=${1:?usage: binlog_conn.sh BINLOG_CONN_PROBE}
DB="$T/db" C="$T/certs"
start_tls_sandbox "$DB" "$C"
sql() { mariadb --socket="$TM_DB_SOCKET" -uroot "$@"; }
sql -e "CREATE DATABASE shop; CREATE TABLE shop.t (id INT PRIMARY KEY, v TEXT);
        INSERT INTO shop.t VALUES (1, 'a'); INSERT INTO shop.t VALUES (2, 'b');"
unset TIDEMARK_CONFIG TIDEMARK_REPOSITORY TIDEMARK_PASSWORD_FILE

# (1) the option file alone
cat > "$T/my.cnf" <<CNF
[client]
socket = $TM_DB_SOCKET
user = tidemark
password = $(cat "$TM_DB_PASSWORD_FILE")
CNF
chmod 600 "$T/my.cnf"
cat > "$T/dflt.conf" <<CONF
[instance it]
db_defaults_file = $T/my.cnf
db_defaults_group = client
CONF
out=$("$PROBE" "$T/dflt.conf" it) || fail "the follower's connection through db_defaults_file alone"
case "$out" in "connected "*" gtids "[1-9]*) ;; *) fail "binlog not read: $out";; esac
pass "db_defaults_file alone: $out"

# (2) db_host = localhost with db_socket set: the socket (the mariadb
# client's rule), for the follower and for the dump alike (the dump went to
# the default socket before issue 11 and could not connect)
cat > "$T/local.conf" <<CONF
[instance it]
db_host = localhost
db_socket = $TM_DB_SOCKET
db_user = tidemark
db_password_file = $TM_DB_PASSWORD_FILE
databases = shop
CONF
out=$("$PROBE" "$T/local.conf" it) || fail "the follower's connection to localhost with db_socket"
pass "db_host = localhost + db_socket, follower: $out"
setup_repo
TIDEMARK_CONFIG="$T/local.conf" "$TM_BIN" -q --instance it backup db --threads 1 \
  || fail "backup db with db_host = localhost and db_socket"
pass "db_host = localhost + db_socket, dump: the socket is used"
# the CLI's follower with the option file alone archives the binlog (before
# issue 11 it demanded db_socket or db_host)
first=$(sql -N -e "SHOW BINARY LOGS" | head -1 | cut -f1)
TIDEMARK_CONFIG="$T/dflt.conf" "$TM_BIN" -q --instance it binlog follow --start "$first:4" --until-idle \
  || fail "binlog follow through db_defaults_file alone"
n=$(TIDEMARK_CONFIG="$T/dflt.conf" "$TM_BIN" --json --instance it binlog list | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$n" -ge 1 ] || fail "binlog follow through db_defaults_file archived $n segments"
pass "binlog follow through db_defaults_file alone: $n segment(s) archived"
unset TIDEMARK_CONFIG

# (3) an account that requires TLS, the certificate verified
sql -e "ALTER USER 'tidemark'@'%' REQUIRE SSL; ALTER USER 'tidemark'@'localhost' REQUIRE SSL"
tls_conf() {   # CA: the instance over TCP with TLS verified against CA
  cat > "$T/tls.conf" <<CONF
[instance it]
db_host = 127.0.0.1
db_port = $TM_DB_PORT
db_user = tidemark
db_password_file = $TM_DB_PASSWORD_FILE
db_tls = true
db_tls_verify = true
db_tls_ca = $1
CONF
}
tls_conf "$C/ca.pem"
out=$("$PROBE" "$T/tls.conf" it) || fail "the follower's connection over verified TLS"
case "$out" in "connected "*" gtids "[1-9]*) ;; *) fail "binlog not read over TLS: $out";; esac
pass "TLS required by the account, certificate verified: $out"

# (4) another CA: refused before any binlog is read
tls_conf "$C/otherca.pem"
expect_fail 4 "connect to tidemark@127.0.0.1" "$PROBE" "$T/tls.conf" it
pass "a certificate from another CA is refused (exit 4): $(tail -1 "$T/err")"

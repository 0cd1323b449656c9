# lib.sh: shared helpers for integration tests (sourced).
# Needs TM_BIN (the tidemark binary); makes a scratch dir removed on exit.
set -euo pipefail
: "${TM_BIN:?TM_BIN must point at the tidemark binary}"
export TIDEMARK_KDF=${TIDEMARK_KDF:-fast}
T=$(mktemp -d "${TMPDIR:-/tmp}/tm-it.XXXXXX")
cleanup_hooks=()
on_exit() { for h in "${cleanup_hooks[@]}"; do eval "$h" || true; done; rm -rf "$T"; }
trap on_exit EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok - $*"; }
# repo_url: sets REPO_URL, where setup_repo puts the repository. TM_REPO_KIND=s3 (the s3
# variants of the tests) starts a private Ceph RGW (s3_lib.sh, stopped on
# exit) and gives a fresh prefix of its bucket; else a directory in $T.
repo_url() {
  if [ "${TM_REPO_KIND:-local}" = s3 ]; then
    if [ -z "${S3_DIR:-}" ]; then
      . "$(dirname "${BASH_SOURCE[0]}")/s3_lib.sh"
      cleanup_hooks+=('s3_stop')
      s3_start
    fi
    REPO_URL="s3:$S3_ENDPOINT/$S3_BUCKET/it-$$-$RANDOM"
  else
    REPO_URL="$T/repo"
  fi
}
# A password file (0600) and a repository location (repo_url unless given).
setup_repo() {
  printf 'integration test passphrase\n' > "$T/pw"; chmod 600 "$T/pw"
  local url=${1:-}
  if [ -z "$url" ]; then repo_url; url=$REPO_URL; fi
  export TIDEMARK_PASSWORD_FILE="$T/pw" TIDEMARK_REPOSITORY="$url"
  unset TIDEMARK_CONFIG
  "$TM_BIN" -q init >/dev/null
}
# expect_fail CODE FRAGMENT cmd...: the command must exit CODE and print FRAGMENT on stderr.
expect_fail() {
  local code=$1 frag=$2; shift 2
  local rc=0
  "$@" >"$T/out" 2>"$T/err" || rc=$?
  [ "$rc" = "$code" ] || { cat "$T/err" >&2; fail "expected exit $code, got $rc: $*"; }
  grep -qF -- "$frag" "$T/err" || { cat "$T/err" >&2; fail "stderr lacks '$frag': $*"; }
  [ "$(wc -l < "$T/err")" -ge 1 ] || fail "no error message: $*"
}
# make_tree DIR MB: some random files of mixed sizes plus small ones.
make_tree() {
  local d=$1 mb=$2 i
  mkdir -p "$d/big" "$d/small"
  for i in $(seq 1 "$mb"); do head -c $((1024 * 1024)) /dev/urandom > "$d/big/f$i.bin"; done
  for i in $(seq 1 200); do printf 'invoice line %d %s\n' "$i" "$(head -c 200 /dev/urandom | base64 -w0)" > "$d/small/s$i.txt"; done
}
# instance_config NAME SOCKET DATABASES BINLOG_SERVER_ID: write $T/tm.conf with a
# local repository and one instance (database on SOCKET, binlog follower
# flushing every second), point TIDEMARK_CONFIG at it, and init the repository.
instance_config() {
  printf 'integration test passphrase\n' > "$T/pw"; chmod 600 "$T/pw"
  cat > "$T/tm.conf" <<CONF
[repository]
url = $T/repo
password_file = $T/pw
state_dir = $T/state

[instance $1]
db_socket = $2
db_user = root
databases = $3
binlog_server_id = $4
binlog_flush_seconds = 1
spool_dir = $T/spool
CONF
  export TIDEMARK_CONFIG=$T/tm.conf
  unset TIDEMARK_REPOSITORY TIDEMARK_PASSWORD_FILE
  "$TM_BIN" -q init >/dev/null
}

# stop_follower_at GTID_STATE: wait (up to 30 s) until `TM --json binlog status`
# (TM: the test's own function, with its --instance) reports the state as
# archived, then stop the follower $FPID; fails when it never got there.
stop_follower_at() {
  local want=$1 got=
  for _ in $(seq 1 60); do
    got=$(TM --json binlog status 2>/dev/null \
          | python3 -c 'import json,sys; print(json.load(sys.stdin)["last_archived_gtid"])' 2>/dev/null) || true
    [ "$got" = "$want" ] && break
    sleep 0.5
  done
  kill -TERM "$FPID"; wait "$FPID" || fail "follower exit $?"
  [ "$got" = "$want" ] || fail "the follower archived up to '$got', not '$want', within 30 s"
}

# start_src_tgt_ref: three throw-away servers (source server-id 1, target 2,
# reference 3, 64 MiB buffer pools, stopped on exit). Sets S, SRCDIR, TG, RF
# and q SOCK ARGS... (the mariadb client in utf8mb4).
start_src_tgt_ref() {
  local sb="$TM_SRC/tests/support/mariadb-sandbox.sh"
  eval "$(TM_DB_BUFFER_POOL=64M "$sb" start "$T/src")" || exit $?
  S=$TM_DB_SOCKET; SRCDIR=$TM_DB_DIR; cleanup_hooks+=("'$sb' stop '$T/src'")
  eval "$(TM_DB_BUFFER_POOL=64M TM_DB_SERVER_ID=2 "$sb" start "$T/tgt")"; TG=$TM_DB_SOCKET
  cleanup_hooks+=("'$sb' stop '$T/tgt'")
  eval "$(TM_DB_BUFFER_POOL=64M TM_DB_SERVER_ID=3 "$sb" start "$T/ref")"; RF=$TM_DB_SOCKET
  cleanup_hooks+=("'$sb' stop '$T/ref'")
}
q() { local s=$1; shift; mariadb --default-character-set=utf8mb4 -S "$s" -uroot "$@"; }

# binlog_groups SOCK DATADIR > FILE: every GTID group of that server's
# binlogs as "gtid file start end" (byte positions, from SHOW BINLOG EVENTS);
# also sets FILES to the binlog file names (call it without a pipe).
binlog_groups() {
  local sock=$1 dir=$2 f
  mapfile -t FILES < <(sed 's|^\./||' "$dir/data/binlog.index" | while read -r f; do echo "${f##*/}"; done)
  for f in "${FILES[@]}"; do q "$sock" -N -B -e "SHOW BINLOG EVENTS IN '$f'"; done | python3 -c '
import sys
cur = None
for line in sys.stdin:
    f = line.rstrip("\n").split("\t")
    if len(f) < 6: continue
    log, pos, typ, end, info = f[0], int(f[1]), f[2], int(f[4]), f[5]
    if typ == "Gtid":
        cur = [info.split()[-1], log, pos, not info.startswith("BEGIN")]
        continue
    if cur is None or typ in ("Annotate_rows", "Table_map"): continue
    if typ == "Xid" or (typ == "Query" and (cur[3] or info in ("COMMIT", "ROLLBACK"))):
        print(cur[0], cur[1], cur[2], end); cur = None
'
}

# db_values SOCK DB: every row of every base table of DB as the server holds it
# (FLOAT/DOUBLE through CAST(... AS DOUBLE), a FLOAT's -0 marked, integers and DECIMAL as they are,
# everything else through HEX(); generated and invisible columns included),
# lines sorted, then CHECKSUM TABLE ... EXTENDED of the table.
db_values() {
  local s=$1 db=$2 t tq cols
  q "$s" -N -e "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA='$db' AND TABLE_TYPE='BASE TABLE' ORDER BY 1" > "$T/db_values.tables"
  while IFS= read -r t; do
    tq=${t//\`/\`\`}
    cols=$(q "$s" -N -e "SET SESSION group_concat_max_len = 1048576; SELECT GROUP_CONCAT(CASE
        WHEN DATA_TYPE = 'float' THEN CONCAT('CAST(\`', REPLACE(COLUMN_NAME, '\`', '\`\`'), '\` AS DOUBLE), IF(\`',
          REPLACE(COLUMN_NAME, '\`', '\`\`'), '\` = 0 AND ATAN2(\`', REPLACE(COLUMN_NAME, '\`', '\`\`'), '\`, -1) < 0, ''-0'', '''')')
        WHEN DATA_TYPE = 'double' THEN CONCAT('CAST(\`', REPLACE(COLUMN_NAME, '\`', '\`\`'), '\` AS DOUBLE)')
        WHEN DATA_TYPE IN ('decimal','tinyint','smallint','mediumint','int','bigint') THEN CONCAT('\`', REPLACE(COLUMN_NAME, '\`', '\`\`'), '\`')
        ELSE CONCAT('HEX(\`', REPLACE(COLUMN_NAME, '\`', '\`\`'), '\`)') END ORDER BY ORDINAL_POSITION)
      FROM information_schema.COLUMNS WHERE TABLE_SCHEMA='$db' AND TABLE_NAME=$(printf "'%s'" "${t//\'/\'\'}")")
    q "$s" -N -e "SELECT 'row', $cols FROM \`$db\`.\`$tq\`" | LC_ALL=C sort | TN="$t" awk '{ sub(/^row/, ""); print ENVIRON["TN"] $0 }'
    q "$s" -N -e "CHECKSUM TABLE \`$db\`.\`$tq\` EXTENDED" | cut -f2 | TN="$t" awk '{ print ENVIRON["TN"], "checksum", $0 }'
  done < "$T/db_values.tables"
}

# start_tls_sandbox DB CERTS: a CA and another CA (CERTS/ca.pem, CERTS/otherca.pem,
# their keys), a server certificate for 127.0.0.1/localhost signed by the first, and a
# MariaDB sandbox in DB serving TLS with it (stopped at exit); sets TM_DB_* as the
# sandbox does, and SB. Exits 77 (skip) without openssl or a server built without TLS.
start_tls_sandbox() {
  local db=$1 c=$2 k
  command -v openssl >/dev/null || { echo "SKIP: openssl not installed"; exit 77; }
  SB="$TM_SRC/tests/support/mariadb-sandbox.sh"
  mkdir -p "$c"
  for k in ca otherca; do
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=tidemark test $k" \
      -keyout "$c/$k.key" -out "$c/$k.pem" 2>/dev/null
  done
  openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$c/server.key" -out "$c/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > "$c/ext"
  openssl x509 -req -in "$c/server.csr" -CA "$c/ca.pem" -CAkey "$c/ca.key" -CAcreateserial -days 2 \
    -extfile "$c/ext" -out "$c/server.pem" 2>/dev/null
  eval "$(TM_DB_BUFFER_POOL=64M "$SB" start "$db" 0 --ssl-ca="$c/ca.pem" --ssl-cert="$c/server.pem" \
    --ssl-key="$c/server.key")" || exit $?
  cleanup_hooks+=("'$SB' stop '$db'")
  [ "$(mariadb --socket="$TM_DB_SOCKET" -uroot -N -e "SELECT @@have_ssl")" = YES ] ||
    { echo "SKIP: server built without TLS"; exit 77; }
}

# start_dolibarr_sandbox: a MariaDB sandbox in $T/db (stopped at exit) with the
# Dolibarr fixture loaded into database `dolibarr` (309 tables); sets FIX (the
# fixture directory), SB, DB, TM_DB_* and sql(). Exits 77 (skip) without the fixture.
start_dolibarr_sandbox() {
  FIX=${TM_FIXTURES:-$TM_SRC/../shared/fixtures}/dolibarr
  [ -f "$FIX/dolibarr_23.0.0-beta_demo.sql" ] || { echo "SKIP: fixture not found at $FIX"; exit 77; }
  SB="$TM_SRC/tests/support/mariadb-sandbox.sh"
  DB="$T/db"
  eval "$(TM_DB_BUFFER_POOL=128M "$SB" start "$DB")" || exit $?
  cleanup_hooks+=("'$SB' stop '$DB'")
  sql() { mariadb --socket="$TM_DB_SOCKET" -uroot "$@"; }
  sql -e "CREATE DATABASE dolibarr CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
  sql dolibarr < "$FIX/dolibarr_23.0.0-beta_demo.sql"
  [ "$(sql -N -e "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA='dolibarr'")" = 309 ] \
    || fail "fixture did not load 309 tables"
}

#!/usr/bin/env bash
# mariadb-sandbox.sh: a throw-away MariaDB server on a temp datadir and a unix
# socket (plus a loopback port), binlog on, GTID strict. For tests, the demo
# and benchmarks. Nothing of the system's own MariaDB is touched.
#
#   eval "$(tests/support/mariadb-sandbox.sh start DIR [PORT] [extra mysqld options...])"
#     -> exports TM_DB_SOCKET TM_DB_PORT TM_DB_DIR TM_DB_PIDFILE (user root, no password
#        over the socket; user 'tidemark'@'%' with password in DIR/password over TCP)
#   tests/support/mariadb-sandbox.sh stop DIR
#   tests/support/mariadb-sandbox.sh client DIR [mariadb args...]
# Exit 77 when mariadbd is not installed (ctest's SKIP_RETURN_CODE).
set -euo pipefail

cmd=${1:-}; dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop|client DIR [PORT] [mysqld options]" >&2; exit 2; }

find_bin() { for b in "$@"; do command -v "$b" 2>/dev/null && return 0; [ -x "/usr/sbin/$b" ] && { echo "/usr/sbin/$b"; return 0; }; done; return 1; }

case "$cmd" in
start)
  port=${3:-0}; shift 3 2>/dev/null || shift $#
  mysqld=$(find_bin mariadbd mysqld) || { echo "mariadb-sandbox: mariadbd not installed (apt-get install mariadb-server)" >&2; exit 77; }
  installdb=$(find_bin mariadb-install-db mysql_install_db) || { echo "mariadb-sandbox: mariadb-install-db not found" >&2; exit 77; }
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [ "$port" = 0 ]; then
    # a free loopback port derived from the directory name, probed
    port=$(( 20000 + $(printf '%s' "$dir" | cksum | cut -d' ' -f1) % 20000 ))
    while (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; do port=$((port + 1)); done
  fi
  mkdir -p "$dir/data" "$dir/log" "$dir/tmp"
  # sockets have a 108-byte path limit: keep it short
  sock="$dir/sock"
  if [ ${#sock} -gt 100 ]; then sock=$(mktemp -u /tmp/tmdb.XXXXXX.sock); fi
  cat > "$dir/my.cnf" <<CNF
[mysqld]
datadir=$dir/data
socket=$sock
port=$port
bind-address=127.0.0.1
pid-file=$dir/mariadbd.pid
tmpdir=$dir/tmp
log-error=$dir/log/error.log
server-id=${TM_DB_SERVER_ID:-1}
log-bin=$dir/data/binlog
binlog-format=${TM_DB_BINLOG_FORMAT:-ROW}
gtid-strict-mode=1
log-slave-updates=1
innodb-buffer-pool-size=${TM_DB_BUFFER_POOL:-256M}
innodb-log-file-size=256M
innodb-flush-log-at-trx-commit=2
sync-binlog=0
skip-name-resolve
local-infile=1
max-allowed-packet=1G
character-set-server=utf8mb4
collation-server=utf8mb4_unicode_ci
CNF
  if [ ! -d "$dir/data/mysql" ]; then
    "$installdb" --defaults-file="$dir/my.cnf" --auth-root-authentication-method=socket \
      --skip-test-db --user="$(id -un)" >"$dir/log/install.log" 2>&1 \
      || { echo "mariadb-sandbox: install-db failed, see $dir/log/install.log" >&2; exit 1; }
  fi
  extra=("$@")
  "$mysqld" --defaults-file="$dir/my.cnf" --user="$(id -un)" "${extra[@]}" >>"$dir/log/stdout.log" 2>&1 &
  for _ in $(seq 1 300); do
    if mariadb --socket="$sock" -uroot -e 'SELECT 1' >/dev/null 2>&1; then break; fi
    if ! kill -0 $! 2>/dev/null; then echo "mariadb-sandbox: server died, see $dir/log/error.log" >&2; tail -5 "$dir/log/error.log" >&2; exit 1; fi
    sleep 0.1
  done
  mariadb --socket="$sock" -uroot -e 'SELECT 1' >/dev/null 2>&1 || { echo "mariadb-sandbox: server did not come up in 30 s, see $dir/log/error.log" >&2; exit 1; }
  if [ ! -f "$dir/password" ]; then
    (umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$dir/password")
    pw=$(cat "$dir/password")
    mariadb --socket="$sock" -uroot <<SQL
CREATE USER IF NOT EXISTS 'tidemark'@'%' IDENTIFIED BY '$pw';
CREATE USER IF NOT EXISTS 'tidemark'@'localhost' IDENTIFIED BY '$pw';
GRANT ALL PRIVILEGES ON *.* TO 'tidemark'@'%' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO 'tidemark'@'localhost' WITH GRANT OPTION;
SQL
  fi
  echo "$sock" > "$dir/socket.path"
  echo "export TM_DB_SOCKET='$sock' TM_DB_PORT='$port' TM_DB_DIR='$dir' TM_DB_PIDFILE='$dir/mariadbd.pid' TM_DB_PASSWORD_FILE='$dir/password'"
  ;;
stop)
  [ -f "$dir/mariadbd.pid" ] || exit 0
  pid=$(cat "$dir/mariadbd.pid" 2>/dev/null || true)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$dir/mariadbd.pid"
  ;;
client)
  shift 2
  exec mariadb --socket="$(cat "$dir/socket.path")" -uroot "$@"
  ;;
*) echo "usage: $0 start|stop|client DIR" >&2; exit 2 ;;
esac

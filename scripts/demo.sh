#!/usr/bin/env bash
# demo.sh: the README's main job on embedded defaults, on a fresh Debian 12:
# installs dependencies, builds, starts a throw-away MariaDB (temp datadir,
# unix socket), loads the Dolibarr fixture, backs up database + documents +
# conf.php into a local repository while the binlog follower archives,
# deletes the invoices "by mistake", finds that transaction in the archive,
# restores the database to just before it (snapshot + binlog replay) and the
# files into a new database and directory, and prints the verification verdict.
#   scripts/demo.sh            (DEMO_DIR=/path keeps everything there)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
FIX=${TM_FIXTURE_DIR:-$ROOT/../shared/fixtures/dolibarr}
[ -f "$FIX/dolibarr_23.0.0-beta_demo.sql" ] || { echo "demo: fixture not found at $FIX" >&2; exit 2; }
step() { printf '\n== %s\n' "$*"; }

step "install dependencies and build"
scripts/install-deps.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/release -j"$(nproc)" --target tidemark >/dev/null
TM=$ROOT/build/release/engine/cli/tidemark

D=${DEMO_DIR:-$(mktemp -d /tmp/tidemark-demo.XXXXXX)}
mkdir -p "$D"
cleanup() {
  [ -n "${FOLLOWER:-}" ] && kill "$FOLLOWER" 2>/dev/null && wait "$FOLLOWER" 2>/dev/null
  tests/support/mariadb-sandbox.sh stop "$D/db" || true
  [ -n "${DEMO_DIR:-}" ] || rm -rf "$D"
}
trap cleanup EXIT

step "start a throw-away MariaDB and load the Dolibarr fixture"
eval "$(tests/support/mariadb-sandbox.sh start "$D/db")"
sql() { mariadb --socket="$TM_DB_SOCKET" -uroot "$@"; }
sql -e "CREATE DATABASE dolibarr CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
sql dolibarr < "$FIX/dolibarr_23.0.0-beta_demo.sql"
echo "loaded: $(sql -N -e "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema='dolibarr'") tables," \
     "$(sql -N dolibarr -e 'SELECT COUNT(*) FROM llx_facture') invoices"

# the instance's files: documents directory and conf.php, as on a real host
mkdir -p "$D/instance/htdocs/conf" "$D/instance/htdocs/custom"
cp -a "$FIX/documents" "$D/instance/documents"
python3 - "$FIX/instance.json" "$D/instance" > "$D/instance/htdocs/conf/conf.php" <<'PY'
import json, sys
v = json.load(open(sys.argv[1]))["conf_php_values_at_dump_time"]
v["dolibarr_main_data_root"] = sys.argv[2] + "/documents"
print("<?php")
for k, val in v.items():
    print(f"${k}='{val}';")
PY

step "configure tidemark (a local repository, passphrase in a 0600 file)"
(umask 077; head -c 24 /dev/urandom | base64 > "$D/passphrase")
cat > "$D/tidemark.conf" <<CONF
[repository]
url = $D/repo
password_file = $D/passphrase
state_dir = $D/state

[instance demo]
db_socket = $TM_DB_SOCKET
db_user = root
databases = dolibarr
documents_dir = $D/instance/documents
conf_php = $D/instance/htdocs/conf/conf.php
custom_dir = $D/instance/htdocs/custom
binlog_server_id = 4242
binlog_flush_seconds = 1
spool_dir = $D/state/spool
CONF
export TIDEMARK_CONFIG=$D/tidemark.conf
export TIDEMARK_KDF=${TIDEMARK_KDF:-default}
cat "$D/tidemark.conf"
"$TM" init

step "nightly backup: consistent dump + documents + conf.php, one snapshot"
"$TM" backup --instance demo --tag nightly
"$TM" snapshots

step "start the binlog follower"
"$TM" binlog follow --instance demo > "$D/follower.log" 2>&1 &
FOLLOWER=$!
sleep 2

step "a working day, then a mistake: every invoice deleted, PDFs removed, work goes on"
sql dolibarr -e "UPDATE llx_societe SET note_private='called back' WHERE rowid <= 10;
                 INSERT INTO llx_const (name, entity, value, type, visible) VALUES ('DEMO_BEFORE_MISTAKE', 1, 'x', 'chaine', 0);"
sql dolibarr -e "SET FOREIGN_KEY_CHECKS=0; START TRANSACTION; DELETE FROM llx_facturedet; DELETE FROM llx_facture; COMMIT;"
rm -f "$D"/instance/documents/facture/*/*.pdf
sql dolibarr -e "INSERT INTO llx_const (name, entity, value, type, visible) VALUES ('DEMO_AFTER_MISTAKE', 1, 'x', 'chaine', 0);"
echo "now: $(sql -N dolibarr -e 'SELECT COUNT(*) FROM llx_facture') invoices"
sleep 4
"$TM" binlog status --instance demo

step "find the mistake in the binlog archive"
"$TM" binlog search --instance demo --type delete --table llx_facture
GTID=$("$TM" --json binlog search --instance demo --type delete --table llx_facture | python3 -c '
import json, sys
d = json.load(sys.stdin)
rows = d if isinstance(d, list) else d.get("transactions", [])
print(rows[0]["gtid"])')
echo "the transaction to undo: $GTID"
kill "$FOLLOWER"; wait "$FOLLOWER" 2>/dev/null || true; FOLLOWER=

step "restore the database to just before it, beside the damaged one"
"$TM" restore db --instance demo --before-gtid "$GTID" --target-db dolibarr_restored --plan
"$TM" restore db --instance demo --before-gtid "$GTID" --target-db dolibarr_restored
SNAP=$("$TM" --json snapshots --instance demo | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["id"])')
"$TM" restore files "$SNAP" --target "$D/restored"
echo "restored: $(sql -N dolibarr_restored -e 'SELECT COUNT(*) FROM llx_facture') invoices"
before=$(sql -N dolibarr_restored -e "SELECT COUNT(*) FROM llx_const WHERE name='DEMO_BEFORE_MISTAKE'")
after=$(sql -N dolibarr_restored -e "SELECT COUNT(*) FROM llx_const WHERE name='DEMO_AFTER_MISTAKE'")
echo "write made after the backup but before the mistake present: $before (expected 1)"
echo "write made after the mistake present: $after (expected 0)"

step "Dolibarr-native checks on the restored instance"
docs=$(find "$D/restored" -type d -name documents | head -1)
bad=0
# version constants, an active admin, every llx_ecm_files md5, logo files, install.lock
"$TM" verify instance --instance demo --target-db dolibarr_restored --data-root "$docs" \
  --expect-version "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["dolibarr_version"]["MAIN_VERSION_LAST_INSTALL"])' "$FIX/instance.json")" \
  || bad=$((bad + 1))
diff -r "$FIX/documents" "$docs" >/dev/null && echo "documents tree identical to the source" || { echo "documents tree differs"; bad=$((bad + 1)); }
[ "$before" = 1 ] && [ "$after" = 0 ] || { echo "point in time wrong"; bad=$((bad + 1)); }
[ "$(sql -N dolibarr_restored -e 'SELECT COUNT(*) FROM llx_facture')" = 50 ] || { echo "invoices missing"; bad=$((bad + 1)); }
"$TM" check --read-data
if [ "$bad" = 0 ]; then
  echo; echo "VERDICT: restore verified (point in time, table hashes, Dolibarr checks, documents tree, repository data)"
else
  echo; echo "VERDICT: FAILED ($bad problems)"; exit 6
fi

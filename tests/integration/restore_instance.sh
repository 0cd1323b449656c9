#!/usr/bin/env bash
# restore_instance.sh (issue 12, "Restore"): `restore instance` beside the
# original on the Dolibarr fixture. conf.php in the fixture's shape (TCP,
# account 'dolibarr' with a crypted: password) describes the instance;
# `backup` (db + documents + conf.php), the follower archives the binlog,
# then two changes: A (a business row) and B (a document file and its
# llx_ecm_files row, added after the snapshot):
#   1. --to-gtid A into a second database + an empty directory on the same
#      server: exit 0; `verify instance` passes on the copy; PHP reads the
#      copy's conf.php: the target database, the copy's data root, the
#      unique id kept; the row of A is there;
#   2. a non-empty target directory, and a non-empty target database, are
#      refused (exit 2) and nothing is written;
#   3. --to-gtid B: llx_ecm_files names a file the snapshot lacks: exit 6,
#      the report names it (the "documents between two snapshots" case).
source "$(dirname "$0")/lib.sh"
command -v php >/dev/null || { echo "SKIP: php-cli not installed"; exit 77; }
start_dolibarr_sandbox
sql -e "CREATE USER 'dolibarr'@'%' IDENTIFIED BY 'Dol-pass1'; GRANT ALL PRIVILEGES ON *.* TO 'dolibarr'@'%' WITH GRANT OPTION"
mkdir -p "$T/site"
cp -a "$FIX/documents" "$T/site/documents"
crypted() { python3 -c 'import base64,sys; print(base64.b64encode(bytes(b + 17 for b in sys.argv[1].encode())).decode())' "$1"; }
cat > "$T/site/conf.php" <<CONF
<?php
\$dolibarr_main_url_root='http://127.0.0.1:8080';
\$dolibarr_main_document_root='/var/www/dolibarr/htdocs';
\$dolibarr_main_data_root='$T/site/documents';
\$dolibarr_main_db_host='127.0.0.1';
\$dolibarr_main_db_port='$TM_DB_PORT';
\$dolibarr_main_db_name='dolibarr';
\$dolibarr_main_db_prefix='llx_';
\$dolibarr_main_db_user='dolibarr';
\$dolibarr_main_db_pass='crypted:$(crypted Dol-pass1)';
\$dolibarr_main_db_type='mysqli';
\$dolibarr_main_instance_unique_id='ed002dbc141a76b57d3a7e3fbe11e463';
CONF
printf 'integration test passphrase\n' > "$T/pw"; chmod 600 "$T/pw"
cat > "$T/tm.conf" <<CONF
[repository]
url = $T/repo
password_file = $T/pw
state_dir = $T/state

[instance shop]
conf_php = $T/site/conf.php
binlog_server_id = 779
binlog_flush_seconds = 1
spool_dir = $T/spool
CONF
export TIDEMARK_CONFIG=$T/tm.conf
unset TIDEMARK_REPOSITORY TIDEMARK_PASSWORD_FILE
"$TM_BIN" -q init >/dev/null
TM() { "$TM_BIN" --instance shop "$@"; }

TM --json backup > "$T/b.json" 2>"$T/b.err" || { cat "$T/b.err"; fail "backup"; }
START=$(python3 -c "import json;j=json.load(open('$T/b.json'));print(j['binlog']['file']+':'+str(j['binlog']['position']))")
"$TM_BIN" -q --instance shop binlog follow --start "$START" >>"$T/follow.log" 2>&1 & FPID=$!
cleanup_hooks+=("kill $FPID 2>/dev/null")

# A: a business row
sql dolibarr -e "INSERT INTO llx_const (name, entity, value, type, visible) VALUES ('RESTORE_INSTANCE_A', 1, 'a', 'chaine', 0)"
GA=$(sql -N -e "SELECT @@gtid_binlog_pos")
# B: a document uploaded after the snapshot, indexed in llx_ecm_files
mkdir -p "$T/site/documents/facture/LATE-0001"
printf 'a document the nightly snapshot does not hold\n' > "$T/site/documents/facture/LATE-0001/late.pdf"
MD5=$(md5sum "$T/site/documents/facture/LATE-0001/late.pdf" | cut -d' ' -f1)
sql dolibarr -e "INSERT INTO llx_ecm_files (label, entity, filepath, filename, gen_or_uploaded, date_c)
                 VALUES ('$MD5', 1, 'facture/LATE-0001', 'late.pdf', 'uploaded', NOW())"
GB=$(sql -N -e "SELECT @@gtid_binlog_pos")
stop_follower_at "$GB"

# 1. beside the original, to just after A
TM restore instance --to-gtid "$GA" --target-db copy1 --target-dir "$T/copy1" --url http://127.0.0.1:8081 \
  > "$T/r1.out" 2>"$T/r1.err" || { cat "$T/r1.out" "$T/r1.err"; fail "restore instance --to-gtid A"; }
cat "$T/r1.out"
grep -q "^restore verdict: OK" "$T/r1.out" || fail "no OK verdict"
[ "$(sql -N copy1 -e "SELECT COUNT(*) FROM llx_const WHERE name = 'RESTORE_INSTANCE_A'")" = 1 ] || fail "row of A missing"
[ "$(sql -N copy1 -e "SELECT COUNT(*) FROM llx_ecm_files WHERE filename = 'late.pdf'")" = 0 ] || fail "B is in the copy"
diff -r "$FIX/documents" "$T/copy1/documents" >/dev/null || fail "copy's documents differ from the snapshot's"
[ -f "$T/copy1/documents/install.lock" ] || fail "install.lock not kept"
TM verify instance --target-db copy1 --data-root "$T/copy1/documents" > "$T/v1.out" \
  || { cat "$T/v1.out"; fail "verify instance on the copy"; }
(cd "$T/copy1/conf" && php -r 'include "conf.php"; echo $dolibarr_main_db_name, "\n", $dolibarr_main_data_root, "\n",
   $dolibarr_main_instance_unique_id, "\n", $dolibarr_main_url_root, "\n";') > "$T/php.out" || fail "php reads conf.php"
printf 'copy1\n%s\ned002dbc141a76b57d3a7e3fbe11e463\nhttp://127.0.0.1:8081\n' "$T/copy1/documents" | diff - "$T/php.out" \
  || fail "conf.php of the copy as PHP reads it"
grep -q "dolibarr_main_data_root='$T/site/documents'" "$T/site/conf.php" || fail "the original conf.php changed"
pass "restore instance --to-gtid A: database, documents, conf.php (PHP reads copy1, the copy's data root, the id kept), verify passes"

# 2. refusals before anything is written
mkdir -p "$T/busy"; echo x > "$T/busy/keep"
expect_fail 2 "is not empty" TM restore instance --to-gtid "$GA" --target-db copy2 --target-dir "$T/busy"
[ -z "$(sql -N -e "SHOW DATABASES LIKE 'copy2'")" ] || fail "copy2 created by a refused restore"
[ "$(ls "$T/busy")" = keep ] || fail "the non-empty directory was written"
expect_fail 2 "target database copy1 is not empty" TM restore instance --to-gtid "$GA" --target-db copy1 --target-dir "$T/copy3"
[ ! -e "$T/copy3" ] || [ -z "$(ls -A "$T/copy3")" ] || fail "files written by a refused restore"
pass "a non-empty target directory or database is refused (exit 2), nothing written"

# 3. to just after B: the snapshot lacks the document
rc=0; TM restore instance --to-gtid "$GB" --target-db copy4 --target-dir "$T/copy4" > "$T/r4.out" 2>"$T/r4.err" || rc=$?
[ "$rc" = 6 ] || { cat "$T/r4.out" "$T/r4.err"; fail "expected exit 6, got $rc"; }
grep -q "facture/LATE-0001/late.pdf" "$T/r4.out" || { cat "$T/r4.out"; fail "the missing document is not named"; }
grep -q "^restore verdict: FAILED" "$T/r4.out" || fail "no FAILED verdict over a missing document"
rc=0; TM --json restore instance --to-gtid "$GB" --target-db copy5 --target-dir "$T/copy5" > "$T/r5.json" 2>/dev/null || rc=$?
[ "$rc" = 6 ] || fail "--json: expected exit 6, got $rc"
python3 - "$T/r5.json" <<'PY' || fail "JSON report: $(cat "$T/r5.json")"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["verdict"] == "failed", j["verdict"]
assert "ecm_files" in j["dolibarr"]["failed"], j["dolibarr"]
assert any("late.pdf" in o for c in j["dolibarr"]["checks"] for o in c.get("offenders", [])), j["dolibarr"]
assert set(j["phases"]) == {"load", "replay", "files", "conf_php", "verify"}, j["phases"]
assert j["parts"]["documents"]["restored"] and j["parts"]["conf_php"]["restored"], j["parts"]
PY
pass "restore instance --to-gtid B: llx_ecm_files names late.pdf, the snapshot lacks it: exit 6, named"

# 4. a snapshot without files items (`backup db`): the database is restored,
#    the report names what is missing, the verdict is not OK (exit 6)
SID=$(TM --json backup db | python3 -c 'import json,sys; print(json.load(sys.stdin)["snapshot"])')
rc=0; TM restore instance --snapshot "$SID" --target-db copy6 --target-dir "$T/copy6" > "$T/r6.out" 2>"$T/r6.err" || rc=$?
[ "$rc" = 6 ] || { cat "$T/r6.out" "$T/r6.err"; fail "db-only snapshot: expected exit 6, got $rc"; }
grep -q "^missing: $T/site/documents: the snapshot holds no files item of it" "$T/r6.out" || { cat "$T/r6.out"; fail "missing documents not named"; }
grep -q "^missing: $T/site/conf.php: the snapshot holds no files item of it" "$T/r6.out" || { cat "$T/r6.out"; fail "missing conf.php not named"; }
grep -q "^restore verdict: INCOMPLETE" "$T/r6.out" || { cat "$T/r6.out"; fail "no INCOMPLETE verdict"; }
[ "$(sql -N copy6 -e "SELECT COUNT(*) FROM llx_ecm_files WHERE filename = 'late.pdf'")" = 1 ] || fail "db-only snapshot not loaded"
pass "a snapshot without files items: the database restored, documents and conf.php named missing, exit 6"

# 5. a snapshot with the database and the documents but no conf.php (taken
#    while the config named no conf_php): every check passes, yet the copy
#    lacks conf.php, so the verdict is INCOMPLETE, exit 6, not OK
printf 'Dol-pass1\n' > "$T/dbpw"; chmod 600 "$T/dbpw"
sed "s|^conf_php = .*|db_host = 127.0.0.1\ndb_port = $TM_DB_PORT\ndb_user = dolibarr\ndb_password_file = $T/dbpw\ndatabases = dolibarr\ndocuments_dir = $T/site/documents|" \
  "$T/tm.conf" > "$T/tm-noconf.conf"
rm "$T/site/documents/facture/LATE-0001/late.pdf"
sql dolibarr -e "DELETE FROM llx_ecm_files WHERE filename = 'late.pdf'"
SID=$(TIDEMARK_CONFIG=$T/tm-noconf.conf "$TM_BIN" --instance shop --json backup | python3 -c 'import json,sys; print(json.load(sys.stdin)["snapshot"])')
rc=0; TM restore instance --snapshot "$SID" --target-db copy7 --target-dir "$T/copy7" > "$T/r7.out" 2>"$T/r7.err" || rc=$?
[ "$rc" = 6 ] || { cat "$T/r7.out" "$T/r7.err"; fail "snapshot without conf.php: expected exit 6, got $rc"; }
grep -q "^missing: $T/site/conf.php: the snapshot holds no files item of it" "$T/r7.out" || { cat "$T/r7.out"; fail "missing conf.php not named"; }
grep -q "^verdict: OK, every Dolibarr check passed" "$T/r7.out" || { cat "$T/r7.out"; fail "the checks of the copy did not pass"; }
grep -q "^restore verdict: INCOMPLETE" "$T/r7.out" || { cat "$T/r7.out"; fail "no INCOMPLETE verdict"; }
grep -q "incomplete: .*conf.php" "$T/r7.err" || { cat "$T/r7.err"; fail "the error does not name conf.php"; }
pass "a snapshot without conf.php: documents and database restored, checks pass, verdict INCOMPLETE, exit 6"
echo "restore_instance: all checks passed"

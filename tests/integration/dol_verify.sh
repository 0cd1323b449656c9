#!/usr/bin/env bash
# dol_verify.sh: `tidemark verify instance` (restore/dolibarr) on the Dolibarr
# fixture in a real MariaDB: passes on the intact instance (JSON: every
# check, 114 llx_ecm_files rows, 309 tables' row counts), then each failure
# injected on its own is named by the report and exits 6: a document
# altered (md5), a document missing, no active admin, a version constant
# not the expected one, a logo file missing, install.lock missing, and
# multi-company (an entity 2 row's file and logo live under DATA_ROOT/2/); a
# database that is not Dolibarr's is an error naming it (exit 3).
source "$(dirname "$0")/lib.sh"
start_dolibarr_sandbox
sql -e "CREATE DATABASE notdoli"
DOCS=$T/documents
cp -a "$FIX/documents" "$DOCS"
instance_config shop "$TM_DB_SOCKET" dolibarr 7301
printf 'documents_dir = %s\n' "$DOCS" >> "$T/tm.conf"
V() { "$TM_BIN" --instance shop verify instance "$@"; }
# jq-free JSON probe: python3 EXPR over the report j
jcheck() { python3 -c "import json,sys; j=json.load(open(sys.argv[1])); assert $2, j" "$1" || fail "$3"; }

# ---- intact -------------------------------------------------------------------
V > "$T/ok.out" || { cat "$T/ok.out"; fail "verify instance on the intact fixture"; }
grep -q "verdict: OK" "$T/ok.out" || fail "no OK verdict: $(cat "$T/ok.out")"
V --json --expect-version 23.0.0-beta > "$T/ok.json" || fail "verify --json"
jcheck "$T/ok.json" "j['verdict'] == 'verified' and j['failed'] == []" "verdict"
jcheck "$T/ok.json" "[c['status'] for c in j['checks']] == ['ok'] * 5" "every check ok"
jcheck "$T/ok.json" "j['checks'][2]['name'] == 'ecm_files' and j['checks'][2]['checked'] == 114" "114 ecm rows"
jcheck "$T/ok.json" "j['checks'][3]['checked'] == 3" "3 logo constants"
jcheck "$T/ok.json" "len(j['tables']) == 309 and j['tables']['llx_facture'] == 50 and j['tables']['llx_ecm_files'] == 114" "row counts"
jcheck "$T/ok.json" "j['version']['effective'] == '23.0.0-beta' and j['version']['last_upgrade'] is None" "versions"
jcheck "$T/ok.json" "j['entities'] == [{'entity': 1, 'files': 114, 'failed': 0}]" "entities"
pass "intact fixture: every check passes, 114 files, 309 tables counted"

# an explicit target: --socket/--user, --target-db, --data-root
"$TM_BIN" -q verify instance --socket "$TM_DB_SOCKET" --user root --target-db dolibarr --data-root "$DOCS/" \
  || fail "verify with an explicit target"
pass "explicit target (--socket, --target-db, --data-root)"

# ---- a document altered, then missing -----------------------------------------
read -r fp fn < <(sql -N dolibarr -e "SELECT filepath, filename FROM llx_ecm_files WHERE filename LIKE 'FA%.pdf' ORDER BY rowid LIMIT 1")
f="$DOCS/$fp/$fn"; [ -f "$f" ] || fail "fixture file $f"
cp -p "$f" "$T/saved"
printf 'x' >> "$f"
expect_fail 6 "ecm_files" V
grep -qF "$fp/$fn: md5" "$T/out" || fail "altered file not named: $(cat "$T/out")"
V --json > "$T/alt.json" && fail "exit 0 with an altered file"
jcheck "$T/alt.json" "j['failed'] == ['ecm_files'] and j['checks'][2]['failed'] == 1" "one ecm failure"
jcheck "$T/alt.json" "'$fp/$fn: md5' in j['checks'][2]['offenders'][0]" "offender named in JSON"
pass "altered document named (md5), exit 6"
rm "$f"
expect_fail 6 "$fp/$fn: missing" V
pass "missing document named, exit 6"
cp -p "$T/saved" "$f"
V -q || fail "not OK again after putting the file back"

# ---- no active admin -------------------------------------------------------------
sql dolibarr -e "UPDATE llx_user SET statut = 0 WHERE admin = 1"
expect_fail 6 "admin (no active admin user" V
grep -q "admin: disabled" "$T/out" || fail "disabled admin not named: $(cat "$T/out")"
sql dolibarr -e "UPDATE llx_user SET statut = 1 WHERE admin = 1"
sql dolibarr -e "UPDATE llx_user SET admin = 0 WHERE rowid = 1"
expect_fail 6 "no user has admin = 1" V
sql dolibarr -e "UPDATE llx_user SET admin = 1 WHERE rowid = 1"
V -q || fail "not OK again with the admin back"
pass "no active admin named, exit 6"

# ---- version: not the expected one, or changed ----------------------------------------
expect_fail 6 "version: '23.0.0-beta', expected '22.0.2'" V --expect-version 22.0.2
sql dolibarr -e "INSERT INTO llx_const (name, entity, value, type, visible) VALUES ('MAIN_VERSION_LAST_UPGRADE', 0, '24.0.0', 'chaine', 0)"
expect_fail 6 "version: '24.0.0', expected '23.0.0-beta'" V --expect-version 23.0.0-beta
sql dolibarr -e "DELETE FROM llx_const WHERE name = 'MAIN_VERSION_LAST_UPGRADE'"
sql dolibarr -e "DELETE FROM llx_const WHERE name = 'MAIN_VERSION_LAST_INSTALL'"
expect_fail 6 "MAIN_VERSION_LAST_INSTALL: absent" V
sql dolibarr -e "INSERT INTO llx_const (name, entity, value, type, visible) VALUES ('MAIN_VERSION_LAST_INSTALL', 0, '23.0.0-beta', 'chaine', 0)"
pass "wrong or missing version constants named, exit 6"

# ---- a logo file missing, install.lock missing ------------------------------------------
mv "$DOCS/mycompany/logos/thumbs/mybigcompany_mini.png" "$T/mini.png"
expect_fail 6 "logos" V
grep -q "MAIN_INFO_SOCIETE_LOGO_MINI (entity 1): .*/mycompany/logos/thumbs/mybigcompany_mini.png missing" "$T/out" \
  || fail "missing logo not named: $(cat "$T/out")"
mv "$T/mini.png" "$DOCS/mycompany/logos/thumbs/mybigcompany_mini.png"
pass "missing logo file named, exit 6"
mv "$DOCS/install.lock" "$T/install.lock"
expect_fail 6 "install_lock" V
mv "$T/install.lock" "$DOCS/install.lock"
pass "missing install.lock named, exit 6"

# ---- multi-company: entity 2 lives under DATA_ROOT/2/ ------------------------------------
mkdir -p "$DOCS/2/facture/FA-E2"
printf 'entity two invoice\n' > "$DOCS/2/facture/FA-E2/FA-E2.pdf"
md5=$(md5sum < "$DOCS/2/facture/FA-E2/FA-E2.pdf" | cut -d' ' -f1)
sql dolibarr -e "INSERT INTO llx_ecm_files (ref, label, share, entity, filepath, filename, src_object_type, src_object_id, fullpath_orig, gen_or_uploaded, date_c)
                 VALUES ('e2', '$md5', NULL, 2, '2/facture/FA-E2', 'FA-E2.pdf', 'facture', 1, '', 'generated', NOW())"
V --json > "$T/mc.json" || { cat "$T/mc.json"; fail "entity 2 row under DATA_ROOT/2/ refused"; }
jcheck "$T/mc.json" "j['entities'] == [{'entity': 1, 'files': 114, 'failed': 0}, {'entity': 2, 'files': 1, 'failed': 0}]" "per-entity counts"
printf 'x' >> "$DOCS/2/facture/FA-E2/FA-E2.pdf"
expect_fail 6 "2/facture/FA-E2/FA-E2.pdf (entity 2): md5" V
V --json > "$T/mc2.json" && fail "exit 0 with entity 2's file altered"
jcheck "$T/mc2.json" "j['entities'][1] == {'entity': 2, 'files': 1, 'failed': 1}" "entity 2 failure counted"
# the same file under DATA_ROOT/ instead of DATA_ROOT/2/ is not entity 2's
mkdir -p "$DOCS/facture/FA-E2b"
printf 'e2b\n' > "$DOCS/facture/FA-E2b/FA-E2b.pdf"
printf 'entity two invoice\n' > "$DOCS/2/facture/FA-E2/FA-E2.pdf"
sql dolibarr -e "INSERT INTO llx_ecm_files (ref, label, entity, filepath, filename, fullpath_orig, gen_or_uploaded, date_c)
                 VALUES ('e2b', '$(md5sum < "$DOCS/facture/FA-E2b/FA-E2b.pdf" | cut -d' ' -f1)', 2, 'facture/FA-E2b', 'FA-E2b.pdf', '', 'generated', NOW())"
expect_fail 6 "facture/FA-E2b/FA-E2b.pdf (entity 2): missing" V
mkdir -p "$DOCS/2/facture/FA-E2b"; mv "$DOCS/facture/FA-E2b/FA-E2b.pdf" "$DOCS/2/facture/FA-E2b/"
V -q || fail "entity 2 row relative to DATA_ROOT/2/ refused"
# entity 2's logo lives in DATA_ROOT/2/mycompany/logos/
sql dolibarr -e "INSERT INTO llx_const (name, entity, value, type, visible) VALUES ('MAIN_INFO_SOCIETE_LOGO', 2, 'e2.png', 'chaine', 0)"
cp "$DOCS/mycompany/logos/mybigcompany.png" "$DOCS/mycompany/logos/e2.png"
expect_fail 6 "MAIN_INFO_SOCIETE_LOGO (entity 2): $DOCS/2/mycompany/logos/e2.png missing" V
mkdir -p "$DOCS/2/mycompany/logos"; mv "$DOCS/mycompany/logos/e2.png" "$DOCS/2/mycompany/logos/"
V -q || fail "entity 2's logo under DATA_ROOT/2/ refused"
pass "multi-company: entity 2 files and logo under DATA_ROOT/2/, a mismatch there named with its entity"

# ---- not a Dolibarr database ---------------------------------------------------------------
expect_fail 3 "database 'notdoli' is not a Dolibarr database: no table llx_const" V --target-db notdoli
expect_fail 3 "database 'nosuchdb' does not exist" V --target-db nosuchdb
expect_fail 3 "no table xx_const (db prefix 'xx_')" V --db-prefix xx_
sql dolibarr -e "RENAME TABLE llx_ecm_files TO ecm_away"
expect_fail 3 "no table llx_ecm_files" V
sql dolibarr -e "RENAME TABLE ecm_away TO llx_ecm_files"
pass "a database that is not Dolibarr's is named (exit 3)"

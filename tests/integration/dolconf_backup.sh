#!/usr/bin/env bash
# dolconf_backup.sh (issue 12, "Instance configuration"): `conf_php = PATH`
# alone is enough for an instance. The Dolibarr fixture in a sandbox MariaDB,
# a conf.php in the fixture's shape (TCP address, account 'dolibarr' with a
# crypted: password, $dolibarr_main_data_root = the fixture's documents):
#   1. `instance show --json` says each value and the conf.php line it came from;
#   2. `backup` dumps exactly $dolibarr_main_db_name (309 tables, not the other
#      database on the server) and the documents of $dolibarr_main_data_root;
#   3. explicit db_user + db_password_file in the config override conf.php's
#      account (a dedicated backup account; conf.php's password, now wrong, is
#      not used) while the address still comes from conf.php;
#   4. an unreadable conf_php is a config error (exit 2) naming the key.
source "$(dirname "$0")/lib.sh"
start_dolibarr_sandbox
sql -e "CREATE DATABASE other; CREATE TABLE other.t (id INT PRIMARY KEY);
        CREATE USER 'dolibarr'@'%' IDENTIFIED BY 'Dol-pass1'; GRANT ALL PRIVILEGES ON *.* TO 'dolibarr'@'%'"

# crypted: as Dolibarr's dol_encode writes it (base64 of each byte + 17)
crypted() { python3 -c 'import base64,sys; print(base64.b64encode(bytes(b + 17 for b in sys.argv[1].encode())).decode())' "$1"; }
write_conf() {   # PASSWORD
  cat > "$T/conf.php" <<CONF
<?php
// Dolibarr's conf.php, as the installer writes it
\$dolibarr_main_url_root='http://127.0.0.1:8080';
\$dolibarr_main_document_root='/var/www/dolibarr/htdocs';
//\$dolibarr_main_document_root_alt='/var/www/dolibarr/htdocs/custom';
\$dolibarr_main_data_root='$FIX/documents';
\$dolibarr_main_db_host='127.0.0.1';
\$dolibarr_main_db_port='$TM_DB_PORT';
\$dolibarr_main_db_name='dolibarr';
\$dolibarr_main_db_prefix='llx_';
\$dolibarr_main_db_user='dolibarr';
\$dolibarr_main_db_pass='crypted:$(crypted "$1")';
\$dolibarr_main_db_type='mysqli';
\$dolibarr_main_instance_unique_id='ed002dbc141a76b57d3a7e3fbe11e463';
CONF
}
write_conf Dol-pass1
printf 'integration test passphrase\n' > "$T/pw"; chmod 600 "$T/pw"
cat > "$T/tm.conf" <<CONF
[repository]
url = $T/repo
password_file = $T/pw

[instance shop]
conf_php = $T/conf.php
CONF
export TIDEMARK_CONFIG=$T/tm.conf
unset TIDEMARK_REPOSITORY TIDEMARK_PASSWORD_FILE
"$TM_BIN" -q init >/dev/null

"$TM_BIN" --instance shop --json instance show > "$T/show.json" || fail "instance show"
python3 - "$T/show.json" "$T/conf.php" "$TM_DB_PORT" "$FIX/documents" <<'PY' || fail "instance show: $(cat "$T/show.json")"
import json, sys
s = json.load(open(sys.argv[1]))["settings"]
c = sys.argv[2]
want = {"db_host": ("127.0.0.1", c + ":7"), "db_port": (sys.argv[3], c + ":8"),
        "db_user": ("dolibarr", c + ":11"), "databases": ("dolibarr", c + ":9"),
        "documents_dir": (sys.argv[4], c + ":6"), "db_prefix": ("llx_", c + ":10")}
for k, (v, src) in want.items():
    assert (s[k]["value"], s[k]["source"]) == (v, src), (k, s[k])
assert s["db_password"]["value"] == "(secret, 9 bytes)", s["db_password"]
assert s["db_password"]["source"] == c + ":12 (crypted)", s["db_password"]
assert "Dol-pass1" not in open(sys.argv[1]).read()
assert s["instance_unique_id"]["value"] == "(secret, 32 bytes)"
PY
pass "instance show: every value with its conf.php line, secrets masked"

"$TM_BIN" --instance shop --json backup --tag nightly > "$T/backup.json" 2> "$T/backup.err" \
  || { cat "$T/backup.err"; fail "backup with conf_php alone"; }
python3 - "$T/backup.json" <<'PY' || fail "backup JSON: $(cat "$T/backup.json")"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["tables"] == 309, j    # only $dolibarr_main_db_name: other.t is not in it
PY
"$TM_BIN" --instance shop restore files latest --target "$T/restored" >/dev/null 2>"$T/rf.err" \
  || { cat "$T/rf.err"; fail "restore files"; }
diff -r "$FIX/documents" "$T/restored/documents" >/dev/null || fail "documents of the snapshot differ from \$dolibarr_main_data_root"
pass "backup with conf_php alone: the database of conf.php (309 tables) and its data root"

# verify instance with conf_php alone: database, prefix and data root from conf.php
"$TM_BIN" --instance shop --json verify instance > "$T/verify.json" 2> "$T/verify.err" \
  || { cat "$T/verify.err"; fail "verify instance with conf_php alone"; }
python3 - "$T/verify.json" <<'PY' || fail "verify instance JSON: $(cat "$T/verify.json")"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["verdict"] == "verified" and j["database"] == "dolibarr" and j["db_prefix"] == "llx_", j
assert [c["name"] for c in j["checks"] if c["name"] == "ecm_files" and c["checked"] == 114 and c["failed"] == 0], j
PY
pass "verify instance with conf_php alone: the database, prefix and data root of conf.php"

# a dedicated backup account in the config wins; conf.php's (now wrong) password is not sent
write_conf wrong-password
printf 'db_user = tidemark\ndb_password_file = %s\n' "$TM_DB_PASSWORD_FILE" >> "$T/tm.conf"
"$TM_BIN" --instance shop --json instance show > "$T/show2.json" || fail "instance show (override)"
python3 - "$T/show2.json" "$T/conf.php" <<'PY' || fail "override: $(cat "$T/show2.json")"
import json, sys
s = json.load(open(sys.argv[1]))["settings"]
assert (s["db_user"]["value"], s["db_user"]["source"]) == ("tidemark", "config db_user"), s["db_user"]
assert s["db_password"]["source"] == "config db_password_file", s["db_password"]
assert s["db_host"]["source"] == sys.argv[2] + ":7", s["db_host"]
PY
"$TM_BIN" --instance shop -q backup > /dev/null 2> "$T/backup2.err" || { cat "$T/backup2.err"; fail "backup with the override"; }
pass "explicit db_user/db_password_file override conf.php's account; the address still from conf.php"

# without the override, the wrong password of conf.php is what is sent: the server refuses it
sed -i '/^db_user\|^db_password_file/d' "$T/tm.conf"
rc=0; "$TM_BIN" --instance shop -q backup > /dev/null 2> "$T/err3" || rc=$?
[ "$rc" != 0 ] && grep -q "dolibarr" "$T/err3" || fail "a wrong conf.php password must fail (rc=$rc): $(cat "$T/err3")"
pass "conf.php's password is the one sent when the config has no account (wrong one refused, rc=$rc)"

sed -i "s|^conf_php = .*|conf_php = $T/missing.php|" "$T/tm.conf"
expect_fail 2 "conf_php" "$TM_BIN" --instance shop instance show
pass "a missing conf_php is a config error naming the key"

#!/usr/bin/env bash
# dol_backmeta.sh (issue 12, "Instance configuration", backup side): what an
# instance snapshot records beside its items, on the Dolibarr fixture:
#   1. files_window: the binlog point before and after the file trees
#      (start <= end, GTIDs parse, the dump's point <= start); a writer that
#      commits every few ms during the whole backup has commits between them;
#   2. dolibarr: the version constants of llx_const (23.0.0-beta), shown by
#      `snapshots` and `snapshots --json`;
#   3. app_dir (a releases/ layout's `current` symlink): not in a plain
#      backup, in one tagged pre-upgrade and one made with --with-app, as the
#      symlink target's tree with "app":true and the link recorded;
#   4. verify instance --snapshot ID passes, and fails (exit 6) once
#      llx_const's version changed after the backup;
#   5. a snapshot without the new fields (backup files: a manifest of the
#      old shape) lists and restores; --snapshot on it says nothing was
#      recorded (exit 3);
#   6. a server without binlog: the window is recorded as null, no failure.
source "$(dirname "$0")/lib.sh"
start_dolibarr_sandbox
DOCS=$T/documents
cp -a "$FIX/documents" "$DOCS"
make_tree "$T/bulk" 40    # enough bytes that the file trees take a while
mkdir -p "$T/releases/23.0.0-beta/htdocs/core" "$T/releases/22.0.2/htdocs"
printf '<?php // 23\n' > "$T/releases/23.0.0-beta/htdocs/index.php"
printf '<?php // core\n' > "$T/releases/23.0.0-beta/htdocs/core/main.inc.php"
ln -s releases/23.0.0-beta "$T/current"
instance_config shop "$TM_DB_SOCKET" dolibarr 7302
printf 'documents_dir = %s\nextra_paths = %s\napp_dir = %s\n' "$DOCS" "$T/bulk" "$T/current" >> "$T/tm.conf"
TM() { "$TM_BIN" --instance shop "$@"; }
snap_json() {   # ID: the snapshot's manifest as JSON (restore --list would be files only)
  TM --json snapshots | python3 -c "import json,sys; print(json.dumps([s for s in json.load(sys.stdin) if s['id'].startswith(sys.argv[1])][0]))" "$1"
}

# ---- 1 + 2: a backup with a writer running throughout ---------------------------------
sql -e "CREATE DATABASE w; CREATE TABLE w.t (id INT AUTO_INCREMENT PRIMARY KEY, at TIMESTAMP(6) DEFAULT NOW(6))"
( while [ ! -e "$T/stop" ]; do sql -e "INSERT INTO w.t () VALUES ()"; sleep 0.01; done ) &
writer=$!
sleep 0.3
TM --json backup --tag nightly > "$T/b1.json" 2> "$T/b1.err" || { cat "$T/b1.err"; fail "backup"; }
touch "$T/stop"; wait "$writer"
id1=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['snapshot'])" "$T/b1.json")
snap_json "$id1" > "$T/m1.json"
python3 - "$T/m1.json" "$T/b1.json" > "$T/win.txt" <<'PY' || fail "files_window: $(cat "$T/m1.json")"
import json, re, sys
m = json.load(open(sys.argv[1])); b = json.load(open(sys.argv[2]))
w = m["files_window"]; s, e = w["start"], w["end"]
g = re.compile(r"^\d+-\d+-\d+(,\d+-\d+-\d+)*$")
assert g.match(s["gtid"]) and g.match(e["gtid"]), w
assert s["file"] == e["file"] == b["binlog"]["file"], (w, b["binlog"])
assert b["binlog"]["position"] <= s["position"] < e["position"], (w, b["binlog"])
seq = lambda x: {d.split("-")[0]: int(d.split("-")[2]) for d in x.split(",")}
assert all(seq(s["gtid"])[k] <= v for k, v in seq(e["gtid"]).items() if k in seq(s["gtid"])), w
print(s["file"], s["position"], e["position"], b["binlog"]["position"])
PY
read -r f s e dump < "$T/win.txt"
# the writer's commits that landed between start and end: GTID events of the binlog in the window
between=$(sql -N -e "SHOW BINLOG EVENTS IN '$f' FROM $s" | awk -v e="$e" '$2 < e && $3 == "Gtid"' | wc -l)
[ "$between" -ge 1 ] || fail "no commit between files_window start ($s) and end ($e)"
inwin=$(sql -N -e "SHOW BINLOG EVENTS IN '$f' FROM $s" | awk -v e="$e" '$2 < e && $3 == "Table_map" && index($0, "(w.t)")' | wc -l)
[ "$inwin" -ge 1 ] || fail "no row event of the writer in the window"
pass "files_window: dump point $dump <= start $s < end $e in $f, $between commits of the writer between them"

python3 - "$T/m1.json" <<'PY' || fail "dolibarr versions: $(cat "$T/m1.json")"
import json, sys
d = json.load(open(sys.argv[1]))["dolibarr"]
assert d["database"] == "dolibarr" and d["prefix"] == "llx_", d
assert d["last_install"] == "23.0.0-beta" and d["last_upgrade"] is None, d
assert d["first_install"], d
PY
TM snapshots > "$T/list.out" || fail "snapshots"
grep "^${id1:0:12} " "$T/list.out" | grep -q "dolibarr=23.0.0-beta" || fail "snapshots lacks the version: $(cat "$T/list.out")"
pass "dolibarr: version constants recorded (23.0.0-beta), shown by snapshots and --json"

# ---- 3: app_dir only with the tag pre-upgrade or --with-app ------------------------------
python3 -c "import json,sys; m=json.load(open(sys.argv[1])); assert not [i for i in m['items'] if i.get('app')], m" "$T/m1.json" \
  || fail "app_dir backed up without the tag or --with-app"
TM -q backup --tag pre-upgrade > /dev/null 2> "$T/b2.err" || { cat "$T/b2.err"; fail "backup --tag pre-upgrade"; }
TM -q backup --with-app > /dev/null 2> "$T/b3.err" || { cat "$T/b3.err"; fail "backup --with-app"; }
TM --json snapshots > "$T/all.json"
python3 - "$T/all.json" "$T" <<'PY' || fail "app items: $(cat "$T/all.json")"
import json, sys, os
snaps = json.load(open(sys.argv[1]))
app = lambda s: [i for i in s["items"] if i.get("app")]
pre = [s for s in snaps if "pre-upgrade" in s["tags"]]
assert len(pre) == 1 and len(app(pre[0])) == 1, pre
assert app(pre[0])[0]["name"] == os.path.realpath(sys.argv[2] + "/releases/23.0.0-beta"), app(pre[0])
assert sum(1 for s in snaps if app(s)) == 2, snaps
PY
idpre=$(python3 -c "import json,sys; print([s['id'] for s in json.load(open(sys.argv[1])) if 'pre-upgrade' in s['tags']][0])" "$T/all.json")
TM restore files "$idpre" --target "$T/rapp" > /dev/null 2> "$T/rapp.err" || { cat "$T/rapp.err"; fail "restore files of the app"; }
diff -r "$T/releases/23.0.0-beta" "$T/rapp/23.0.0-beta" > /dev/null || fail "the app tree restored differs from the symlink's target"
TM snapshots | grep "^${idpre:0:12} " | grep -q "(app)" || fail "snapshots does not mark the app item"
pass "app_dir: absent from a plain backup, the symlink target's tree in pre-upgrade and --with-app snapshots"
python3 -c "
import json,sys
s=[s for s in json.load(open(sys.argv[1])) if s['id']==sys.argv[2]][0]
l=[i for i in s['items'] if i.get('app')][0]['app_link']
assert l=={'path':sys.argv[3]+'/current','target':'releases/23.0.0-beta'}, l" "$T/all.json" "$idpre" "$T" \
  || fail "app_link not recorded: $(cat "$T/all.json")"
pass "app_dir symlink recorded (path and target as read)"

# ---- 4: verify instance --snapshot -----------------------------------------------------
TM verify instance --snapshot "$id1" > "$T/v1.out" || { cat "$T/v1.out"; fail "verify instance --snapshot on the intact instance"; }
grep -q "verdict: OK" "$T/v1.out" || fail "no OK verdict: $(cat "$T/v1.out")"
sql dolibarr -e "UPDATE llx_const SET value = '24.0.0' WHERE name = 'MAIN_VERSION_LAST_INSTALL' AND entity = 0"
expect_fail 6 "version" TM verify instance --snapshot "$id1"
TM -q verify instance > /dev/null || fail "verify without --snapshot should not compare the version"
sql dolibarr -e "UPDATE llx_const SET value = '23.0.0-beta' WHERE name = 'MAIN_VERSION_LAST_INSTALL' AND entity = 0"
sql dolibarr -e "INSERT INTO llx_const (name, entity, value, type, visible) VALUES ('MAIN_VERSION_LAST_UPGRADE', 0, '23.0.1', 'chaine', 0)"
expect_fail 6 "version" TM verify instance --snapshot "$id1"
sql dolibarr -e "DELETE FROM llx_const WHERE name = 'MAIN_VERSION_LAST_UPGRADE' AND entity = 0"
TM -q verify instance --snapshot latest > /dev/null || fail "verify --snapshot latest after the constants were put back"
pass "verify instance --snapshot: passes, exit 6 when llx_const's version changed after the backup (install or upgrade)"

# ---- 5: a snapshot without the new fields -------------------------------------------------
TM -q backup files "$T/bulk/small" > /dev/null 2> "$T/bf.err" || { cat "$T/bf.err"; fail "backup files"; }
idf=$(TM --json snapshots | python3 -c "import json,sys; print(json.load(sys.stdin)[-1]['id'])")
snap_json "$idf" | python3 -c "import json,sys; m=json.load(sys.stdin); assert 'dolibarr' not in m and 'files_window' not in m, m" \
  || fail "backup files recorded instance metadata"
TM snapshots | grep -q "^${idf:0:12} .*files:$T/bulk/small" || fail "old-shape snapshot not listed"
TM restore files "$idf" --target "$T/rold" > /dev/null 2> "$T/rold.err" || { cat "$T/rold.err"; fail "restore of an old-shape snapshot"; }
diff -r "$T/bulk/small" "$T/rold/small" > /dev/null || fail "old-shape snapshot restored differently"
expect_fail 3 "recorded no Dolibarr version constants" TM verify instance --snapshot "$idf"
pass "a manifest without files_window/dolibarr lists and restores; --snapshot on it says so (exit 3)"

# ---- 6: a server without binlog -----------------------------------------------------------
NB="$T/nobin"
eval "$("$SB" start "$NB" 0 --skip-log-bin | sed 's/TM_DB_/NB_DB_/g')" || fail "start a server without binlog"
cleanup_hooks+=("'$SB' stop '$NB'")
mariadb --socket="$NB_DB_SOCKET" -uroot -e "CREATE DATABASE nb; CREATE TABLE nb.t (id INT PRIMARY KEY); INSERT INTO nb.t VALUES (1)"
cat >> "$T/tm.conf" <<CONF

[instance nobin]
db_socket = $NB_DB_SOCKET
db_user = root
databases = nb
documents_dir = $T/bulk/small
CONF
"$TM_BIN" --instance nobin --json backup > "$T/nb.json" 2> "$T/nb.err" || { cat "$T/nb.err"; fail "backup without binlog"; }
idn=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['snapshot'])" "$T/nb.json")
"$TM_BIN" --instance nobin --json snapshots | python3 -c "
import json,sys
m=[s for s in json.load(sys.stdin) if s['id']==sys.argv[1]][0]
assert m['files_window']=={'start':None,'end':None}, m
assert 'dolibarr' not in m, m" "$idn" || fail "files_window of a server without binlog"
pass "no binlog: files_window start/end null, no Dolibarr constants recorded for a non-Dolibarr database"

# ---- an account with the dump's privileges only (no BINLOG MONITOR): the window is still recorded
sql -e "CREATE USER 'weak'@'localhost' IDENTIFIED BY 'weak-pass1';
        GRANT SELECT, SHOW VIEW, TRIGGER, EVENT ON dolibarr.* TO 'weak'@'localhost'"
printf 'weak-pass1' > "$T/weakpw"; chmod 600 "$T/weakpw"
cat >> "$T/tm.conf" <<CONF

[instance weak]
db_socket = $TM_DB_SOCKET
db_user = weak
db_password_file = $T/weakpw
databases = dolibarr
dump_threads = 1
documents_dir = $T/bulk/small
CONF
"$TM_BIN" --instance weak --json backup > "$T/wk.json" 2> "$T/wk.err" || { cat "$T/wk.err"; fail "backup with the dump's privileges only"; }
idw=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['snapshot'])" "$T/wk.json")
"$TM_BIN" --instance weak --json snapshots | python3 -c "
import json,sys
m=[s for s in json.load(sys.stdin) if s['id']==sys.argv[1]][0]
w=m['files_window']
assert w['start']['file'].startswith('binlog.') and w['start']['position'] <= w['end']['position'], m
assert m['dolibarr']['last_install']=='23.0.0-beta', m" "$idw" || fail "window or versions of the weak account's backup"
pass "an account without BINLOG MONITOR: files_window and versions recorded"

# ---- --with-app without an app_dir or without file trees: refused before anything is written
n0=$("$TM_BIN" --json snapshots | python3 -c "import json,sys; print(len(json.load(sys.stdin)))")
expect_fail 2 "instance nobin has no app_dir" "$TM_BIN" --instance nobin backup --with-app
expect_fail 2 "--with-app needs the file trees" TM backup db --with-app
expect_fail 2 "--with-app needs the file trees" TM backup --no-files --with-app
n1=$("$TM_BIN" --json snapshots | python3 -c "import json,sys; print(len(json.load(sys.stdin)))")
[ "$n0" = "$n1" ] || fail "a refused --with-app backup committed a snapshot"
pass "--with-app without app_dir or without file trees: exit 2, nothing committed"

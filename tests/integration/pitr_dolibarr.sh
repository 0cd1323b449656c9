#!/usr/bin/env bash
# pitr_dolibarr.sh: the accidental-delete story end to end on the Dolibarr
# fixture (issue 6): backup, the follower running, a working day, then
# `DELETE FROM llx_facture` (and llx_facturedet, FOREIGN_KEY_CHECKS=0) by
# mistake, more writes; `binlog search --type delete --table llx_facture`
# finds the transaction; `restore db --before-gtid` onto another server brings
# every invoice back: all 309 tables equal (CHECKSUM TABLE) to the source just
# before the mistake, every earlier write present, no later one.
source "$(dirname "$0")/lib.sh"
FIX=${TM_FIXTURES:-$TM_SRC/../shared/fixtures}/dolibarr
[ -f "$FIX/dolibarr_23.0.0-beta_demo.sql" ] || { echo "SKIP: fixture not found at $FIX"; exit 77; }
SB="$TM_SRC/tests/support/mariadb-sandbox.sh"
eval "$(TM_DB_BUFFER_POOL=128M "$SB" start "$T/src")" || exit $?
S=$TM_DB_SOCKET; cleanup_hooks+=("'$SB' stop '$T/src'")
eval "$(TM_DB_BUFFER_POOL=128M TM_DB_SERVER_ID=2 "$SB" start "$T/tgt")"; TG=$TM_DB_SOCKET; cleanup_hooks+=("'$SB' stop '$T/tgt'")
q() { local s=$1; shift; mariadb --default-character-set=utf8mb4 -S "$s" -uroot "$@"; }
q $S -e "CREATE DATABASE dolibarr CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
q $S dolibarr < "$FIX/dolibarr_23.0.0-beta_demo.sql"
NINV=$(q $S -N dolibarr -e "SELECT COUNT(*) FROM llx_facture"); NDET=$(q $S -N dolibarr -e "SELECT COUNT(*) FROM llx_facturedet")
[ "$NINV" -gt 0 ] || fail "fixture has no invoices"

instance_config erp "$S" dolibarr 778
TM() { "$TM_BIN" --instance erp "$@"; }
TM --json backup db > "$T/b.json" || fail "backup"
START=$(python3 -c "import json;j=json.load(open('$T/b.json'));print(j['binlog']['file']+':'+str(j['binlog']['position']))")
"$TM_BIN" -q --instance erp binlog follow --start "$START" >>"$T/follow.log" 2>&1 & FPID=$!
cleanup_hooks+=("kill $FPID 2>/dev/null")

# a working day: customers, products, invoices, settings
for i in $(seq 1 40); do
  echo "UPDATE llx_societe SET note_private = CONCAT(COALESCE(note_private, ''), ' call $i') WHERE rowid = $(( i % 10 + 1 ));"
  echo "INSERT INTO llx_const (name, entity, value, type, visible) VALUES ('PITR_BEFORE_$i', 1, 'v$i', 'chaine', 0);"
  [ $(( i % 10 )) = 0 ] && echo "UPDATE llx_facture SET note_public = 'reviewed $i' WHERE rowid % 5 = $(( i / 10 ));"
done | q $S dolibarr || fail "workload"
"$SB" client "$T/src" -N -e "SET GLOBAL group_concat_max_len = 1000000"
sums() { # sock db -> checksums of every base table
  local tabs
  tabs=$(q "$1" -N -e "SELECT GROUP_CONCAT(CONCAT('\`$2\`.\`', TABLE_NAME, '\`') ORDER BY TABLE_NAME) FROM information_schema.TABLES WHERE TABLE_SCHEMA='$2' AND TABLE_TYPE='BASE TABLE'")
  q "$1" -N -e "CHECKSUM TABLE $tabs" | sed "s/^$2\.//"
}
sums $S dolibarr > "$T/before_mistake.sum"
# the mistake, then life goes on
q $S dolibarr -e "SET FOREIGN_KEY_CHECKS=0; BEGIN; DELETE FROM llx_facturedet; DELETE FROM llx_facture; COMMIT;"
for i in $(seq 1 20); do
  echo "INSERT INTO llx_const (name, entity, value, type, visible) VALUES ('PITR_AFTER_$i', 1, 'x', 'chaine', 0);"
done | q $S dolibarr || fail "later writes"
END=$(q $S -N -e "SELECT @@gtid_binlog_pos")
stop_follower_at "$END"

# 3 a.m.: find the transaction
TM binlog search --type delete --table llx_facture > "$T/search.txt" 2>"$T/search.err" || { cat "$T/search.err"; fail "binlog search"; }
cat "$T/search.txt"
TM --json binlog search --type delete --table llx_facture > "$T/search.json" || fail "binlog search --json"
G=$(python3 - "$T/search.json" "$NINV" "$NDET" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); ninv, ndet = int(sys.argv[2]), int(sys.argv[3])
assert len(r) == 1, f"expected one matching transaction, got {len(r)}"
t = r[0]; tabs = {x["name"]: x for x in t["tables"]}
assert tabs["dolibarr.llx_facture"]["delete"] == ninv, tabs
assert tabs["dolibarr.llx_facturedet"]["delete"] == ndet, tabs
assert any("DELETE FROM llx_facture" in s for s in t["statements"]), t["statements"]
print(t["gtid"])
PY
) || fail "search result"
pass "binlog search found the delete: $G ($NINV invoices, $NDET lines)"
TM binlog search --type ddl --table llx_facture > "$T/none.txt" 2>/dev/null; [ ! -s "$T/none.txt" ] || fail "ddl filter matched"
TM --json binlog search --grep PITR_AFTER_20 | python3 -c 'import json,sys; r=json.load(sys.stdin); assert len(r)==1 and r[0]["tables"][0]["insert"]==1, r' \
  || fail "--grep"
pass "search filters (--type ddl finds nothing, --grep finds one insert)"

# restore to just before it, on another server
TM restore db --before-gtid "$G" --plan --socket $TG --user root > "$T/plan.txt" || { cat "$T/plan.txt"; fail "--plan"; }
grep -q "first transaction NOT applied: $G" "$T/plan.txt" || { cat "$T/plan.txt"; fail "plan does not name $G"; }
[ -z "$(q $TG -N -e "SHOW DATABASES LIKE 'dolibarr'")" ] || fail "--plan touched the target"
TM restore db --before-gtid "$G" --socket $TG --user root > "$T/restore.out" 2>"$T/restore.err" \
  || { cat "$T/restore.out" "$T/restore.err"; fail "restore --before-gtid"; }
cat "$T/restore.out"
[ "$(q $TG -N dolibarr -e "SELECT COUNT(*) FROM llx_facture")" = "$NINV" ] || fail "invoices not back"
[ "$(q $TG -N dolibarr -e "SELECT COUNT(*) FROM llx_facturedet")" = "$NDET" ] || fail "invoice lines not back"
[ "$(q $TG -N dolibarr -e "SELECT COUNT(*) FROM llx_const WHERE name LIKE 'PITR_BEFORE_%'")" = 40 ] || fail "earlier writes missing"
[ "$(q $TG -N dolibarr -e "SELECT COUNT(*) FROM llx_const WHERE name LIKE 'PITR_AFTER_%'")" = 0 ] || fail "a later write is present"
q $TG -e "SET GLOBAL group_concat_max_len = 1000000"
sums $TG dolibarr > "$T/restored.sum"
[ "$(wc -l < "$T/restored.sum")" = 309 ] || fail "expected 309 tables"
diff "$T/before_mistake.sum" "$T/restored.sum" >&2 || fail "restored tables differ from the source just before the mistake"
[ -z "$(q $TG -N -e "SHOW ALL SLAVES STATUS")" ] || fail "replication connection left on the target"
pass "restore --before-gtid $G: $NINV invoices back, all 309 tables equal to the source just before the delete"
echo "pitr_dolibarr: all checks passed"

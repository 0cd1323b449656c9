#!/usr/bin/env bash
# db_names.sh: names (issue 10 item 10 a, b), real servers: a SOURCE
# (lower_case_table_names=0) and a TARGET started with lower_case_table_names=1.
#  (a) `databases` in the config lists names holding a space, a comma and a
#      quote (quoted: "my shop", `x,y`, "say ""hi"""), beside plain ones: the
#      backup takes exactly those, the restore loads and verifies them, and a
#      bad quote is a config error (exit 2);
#  (b) a snapshot holding `Dup` and `dup` (tables), `Shop2` and `shop2`
#      (databases), a view `V1` beside a table `v1`: `restore db --plan` and
#      `restore db` refuse them on the lower_case_table_names=1 target before
#      anything is created, naming the pair; a snapshot whose names differ in
#      more than case (a MixedCase table alone) restores there and verifies.
source "$(dirname "$0")/lib.sh"
SB="$TM_SRC/tests/support/mariadb-sandbox.sh"
eval "$(TM_DB_BUFFER_POOL=32M "$SB" start "$T/src")" || exit $?
S=$TM_DB_SOCKET; cleanup_hooks+=("'$SB' stop '$T/src'")
eval "$(TM_DB_BUFFER_POOL=32M TM_DB_SERVER_ID=2 "$SB" start "$T/tgt" 0 --lower-case-table-names=1)"
TG=$TM_DB_SOCKET; cleanup_hooks+=("'$SB' stop '$T/tgt'")
q() { local s=$1; shift; mariadb --default-character-set=utf8mb4 -S "$s" -uroot "$@"; }
[ "$(q $TG -N -e 'SELECT @@lower_case_table_names')" = 1 ] || fail "the target did not start with lower_case_table_names=1"

q $S <<'SQL'
CREATE DATABASE `my shop`; CREATE TABLE `my shop`.`MixedCase` (id INT PRIMARY KEY, v VARCHAR(20));
INSERT INTO `my shop`.`MixedCase` VALUES (1, 'a'), (2, 'b');
CREATE DATABASE `x,y`; CREATE TABLE `x,y`.t (id INT PRIMARY KEY); INSERT INTO `x,y`.t VALUES (7);
CREATE DATABASE `say "hi"`; CREATE TABLE `say "hi"`.t (id INT PRIMARY KEY); INSERT INTO `say "hi"`.t VALUES (8);
CREATE DATABASE plain; CREATE TABLE plain.t (id INT PRIMARY KEY); INSERT INTO plain.t VALUES (9);
CREATE DATABASE `my`; CREATE TABLE `my`.decoy (id INT PRIMARY KEY);   -- what "my shop" split on the space named
CREATE DATABASE cases; CREATE TABLE cases.`Dup` (id INT PRIMARY KEY); CREATE TABLE cases.dup (id INT PRIMARY KEY);
CREATE DATABASE utf; CREATE TABLE utf.`Été` (id INT PRIMARY KEY); CREATE TABLE utf.`été` (id INT PRIMARY KEY);
CREATE TABLE utf.`ÉtéX` (id INT PRIMARY KEY);
INSERT INTO cases.`Dup` VALUES (1); INSERT INTO cases.dup VALUES (2);
CREATE DATABASE `Shop2`; CREATE TABLE `Shop2`.t (id INT PRIMARY KEY);
CREATE DATABASE shop2; CREATE TABLE shop2.t (id INT PRIMARY KEY);
CREATE DATABASE viewcase; CREATE TABLE viewcase.v1 (id INT PRIMARY KEY); CREATE VIEW viewcase.`V1` AS SELECT id FROM viewcase.v1;
SQL

printf 'integration test passphrase\n' > "$T/pw"; chmod 600 "$T/pw"
cat > "$T/tm.conf" <<CONF
[repository]
url = $T/repo
password_file = $T/pw
state_dir = $T/state

[instance names]
db_socket = $S
db_user = root
databases = "my shop", \`x,y\` "say ""hi""",plain

[instance cases]
db_socket = $S
db_user = root
databases = cases

[instance utf]
db_socket = $S
db_user = root
databases = utf

[instance dbcase]
db_socket = $S
db_user = root
databases = Shop2 shop2

[instance viewcase]
db_socket = $S
db_user = root
databases = viewcase

[instance badquote]
db_socket = $S
db_user = root
databases = "my shop, plain
CONF
export TIDEMARK_CONFIG=$T/tm.conf
"$TM_BIN" -q init >/dev/null

# ---- (a) names with a space, a comma, a quote ---------------------------------------------
"$TM_BIN" --instance names --json backup db > "$T/b.json" 2>"$T/b.err" || { cat "$T/b.err"; fail "backup of quoted database names"; }
got=$(python3 -c "
import json; j=json.load(open('$T/b.json')); print(j['tables'])")
[ "$got" = 4 ] || fail "backup took $got tables, expected the 4 of the 4 listed databases"
SNAP=$(python3 -c "import json;print(json.load(open('$T/b.json'))['snapshot'])")
"$TM_BIN" --instance names restore db --snapshot "$SNAP" --socket $TG --user root > "$T/r.out" 2>"$T/r.err" \
  || { cat "$T/r.out" "$T/r.err"; fail "restore of quoted database names"; }
grep -q "verification: OK" "$T/r.out" "$T/r.err" || { cat "$T/r.out" "$T/r.err"; fail "no verification verdict"; }
[ "$(q $TG -N -e 'SELECT v FROM `my shop`.mixedcase ORDER BY id' | tr '\n' ' ')" = "a b " ] || fail "my shop content"
[ "$(q $TG -N -e 'SELECT id FROM `x,y`.t')" = 7 ] && [ "$(q $TG -N -e 'SELECT id FROM `say "hi"`.t')" = 8 ] || fail "x,y / say \"hi\" content"
[ -z "$(q $TG -N -e "SHOW DATABASES LIKE 'my'")" ] || fail "the decoy database was restored"
pass "databases = \"my shop\", \`x,y\` \"say \"\"hi\"\"\",plain: 4 databases backed up, restored and verified"
expect_fail 2 "quote is not closed" "$TM_BIN" --instance badquote backup db
pass "an unclosed quote in databases is a config error: $(tail -1 "$T/err")"

# ---- (b) names a lower_case_table_names=1 target cannot hold apart ------------------------
# clash CODE A B cmd...: refused naming both A and B (their order follows the catalog)
clash() {
  local code=$1 a=$2 b=$3; shift 3
  expect_fail "$code" "cannot hold apart" "$@"
  grep -qF -- "$a" "$T/err" && grep -qF -- "$b" "$T/err" || { cat "$T/err"; fail "the refusal does not name $a and $b"; }
}
nodb() { [ -z "$(q $TG -N -e "SHOW DATABASES LIKE '$1'")" ] || fail "$2: database $1 was created on the target"; }
"$TM_BIN" --instance cases -q backup db >/dev/null || fail "backup of cases"
clash 8 'table `Dup`' 'table `dup`' "$TM_BIN" --instance cases restore db --snapshot latest --plan --socket $TG --user root
grep -q "lower_case_table_names=1" "$T/err" && grep -q "nothing was touched" "$T/err" || { cat "$T/err"; fail "plan refusal wording"; }
nodb cases "--plan"
pass "--plan refuses Dup/dup: $(tail -1 "$T/err" | cut -c1-220)"
clash 8 'table `Dup`' 'table `dup`' "$TM_BIN" --instance cases restore db --snapshot latest --socket $TG --user root
nodb cases "restore db"
clash 8 'table `Dup`' 'table `dup`' "$TM_BIN" --instance cases restore db --snapshot latest --target-db other --socket $TG --user root
nodb other "restore db --target-db"
pass "restore db refuses Dup/dup before creating anything (also with --target-db)"

"$TM_BIN" --instance utf -q backup db >/dev/null || fail "backup of utf"
clash 8 'table `été`' 'table `Été`' "$TM_BIN" --instance utf restore db --snapshot latest --plan --socket $TG --user root
grep -q "1 pair" "$T/err" || { cat "$T/err"; fail "ÉtéX is not a clash"; }
nodb utf "Été/été"
pass "UTF-8 names folded by the server: Été and été refused, ÉtéX not"

"$TM_BIN" --instance dbcase -q backup db >/dev/null || fail "backup of Shop2/shop2"
clash 8 'database `Shop2`' 'database `shop2`' "$TM_BIN" --instance dbcase restore db --snapshot latest --plan --socket $TG --user root
clash 8 'database `Shop2`' 'database `shop2`' "$TM_BIN" --instance dbcase restore db --snapshot latest --socket $TG --user root
nodb shop2 "Shop2/shop2"
pass "databases Shop2 and shop2 refused by --plan and restore db"

"$TM_BIN" --instance viewcase -q backup db >/dev/null || fail "backup of viewcase"
clash 8 'table `v1`' 'view `V1`' "$TM_BIN" --instance viewcase restore db --snapshot latest --socket $TG --user root
nodb viewcase "V1/v1"
pass "a view V1 beside a table v1 refused by restore db"
echo "db_names: all checks passed"

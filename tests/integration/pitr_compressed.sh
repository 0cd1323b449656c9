#!/usr/bin/env bash
# pitr_compressed.sh: `binlog search` and `restore db --to-gtid` over an
# archive of MariaDB compressed events (log_bin_compress=ON, min length 10):
#  - the server's binlog really holds Query_compressed and
#    Write/Update/Delete_rows_compressed events (walked by event type);
#  - search reports the exact row counts of INSERT/UPDATE/DELETE (row
#    events split over many compressed events, one row image > 64 KiB),
#    the statement text of compressed Query events (DDL, a STATEMENT-format
#    UPDATE), nothing "not decoded", and --grep/--type/--table see them;
#  - restore --to-gtid over that archive gives the source's tables as they
#    were at that GTID (the replay sends the compressed events as they are).
source "$(dirname "$0")/lib.sh"
SB="$TM_SRC/tests/support/mariadb-sandbox.sh"
eval "$(TM_DB_BUFFER_POOL=64M "$SB" start "$T/src" 0 --log-bin-compress=ON --log-bin-compress-min-len=10)" || exit $?
S=$TM_DB_SOCKET; SRCDIR=$TM_DB_DIR; cleanup_hooks+=("'$SB' stop '$T/src'")
eval "$(TM_DB_BUFFER_POOL=64M TM_DB_SERVER_ID=2 "$SB" start "$T/tgt")"; TG=$TM_DB_SOCKET; cleanup_hooks+=("'$SB' stop '$T/tgt'")
q() { local s=$1; shift; mariadb --default-character-set=utf8mb4 -S "$s" -uroot "$@"; }
[ "$(q $S -N -e "SELECT @@log_bin_compress")" = 1 ] || fail "log_bin_compress is not on"

q $S <<'SQL'
CREATE DATABASE shop CHARACTER SET utf8mb4;
USE shop;
CREATE TABLE shop.items (id INT PRIMARY KEY, name VARCHAR(60), qty INT NOT NULL, note MEDIUMTEXT) ENGINE=InnoDB;
INSERT INTO shop.items SELECT seq, CONCAT('item ', seq), seq, REPEAT('n', seq % 50) FROM seq_1_to_50;
SQL
instance_config shop "$S" shop 779
TM() { "$TM_BIN" --instance shop "$@"; }
TM --json backup db > "$T/b.json" || fail "backup"
START=$(python3 -c "import json;j=json.load(open('$T/b.json'));print(j['binlog']['file']+':'+str(j['binlog']['position']))")
"$TM_BIN" -q --instance shop binlog follow --start "$START" >>"$T/follow.log" 2>&1 & FPID=$!
cleanup_hooks+=("kill $FPID 2>/dev/null")

# the workload: each statement its own transaction; counts known in advance
q $S shop <<'SQL' || fail "workload"
SET SESSION binlog_format=ROW;
INSERT INTO items SELECT seq, CONCAT('bulk ', seq), seq % 7, REPEAT('b', 40) FROM seq_1001_to_3000;
UPDATE items SET qty = qty + 1 WHERE id <= 23;
UPDATE items SET note = REPEAT('y', 100000) WHERE id = 7;
DELETE FROM items WHERE id > 2900;
ALTER TABLE items ADD COLUMN extra INT DEFAULT 5;
SET SESSION binlog_format=STATEMENT;
UPDATE items SET name = 'stmt_marker_42' WHERE id = 3;
SQL
sums() { q "$1" -N -e "CHECKSUM TABLE shop.items" | awk '{print $2}'; }
G=$(q $S -N -e "SELECT @@gtid_binlog_pos"); SUM_G=$(sums $S); N_G=$(q $S -N -e "SELECT COUNT(*) FROM shop.items")
q $S shop -e "INSERT INTO items (id, name, qty) VALUES (5000, 'after the target', 1); DELETE FROM items WHERE id = 1" \
  || fail "later writes"
END=$(q $S -N -e "SELECT @@gtid_binlog_pos")
stop_follower_at "$END"

# the server's binlog holds compressed events (165 Query, 166-171 rows)
mapfile -t FILES < <(sed 's|^\./||' "$SRCDIR/data/binlog.index" | while read -r f; do echo "$SRCDIR/data/${f##*/}"; done)
python3 - "${FILES[@]}" > "$T/types.txt" <<'PY' || fail "walk of the server binlog"
import struct, sys, collections
c = collections.Counter(); lenlen = collections.Counter()
for f in sys.argv[1:]:
    b = open(f, 'rb').read(); assert b[:4] == b'\xfebin', f; p = 4
    while p + 19 <= len(b):
        t = b[p + 4]; n = struct.unpack_from('<I', b, p + 9)[0]; c[t] += 1
        if t in (166, 167, 168):   # v1 rows: table id, flags, column count (< 251 here), bitmap(s)
            ncols = b[p + 27]; h = b[p + 28 + (ncols + 7) // 8 * (2 if t == 167 else 1)]
            assert h & 0x80, hex(h); lenlen[h & 7] += 1
        p += n
print(' '.join(f'{t}:{c[t]}' for t in sorted(c)), 'record length bytes', dict(sorted(lenlen.items())))
assert lenlen[2] and lenlen[3], "expected 2- and 3-byte uncompressed lengths"
q = c[165]; rows = sum(c[t] for t in range(166, 172)); plain_rows = sum(c[t] for t in (23, 24, 25, 30, 31, 32))
assert q >= 2 and rows >= 10 and plain_rows == 0, f"compressed query {q}, compressed rows {rows}, plain rows {plain_rows}"
PY
pass "server binlog event types: $(cat "$T/types.txt")"

TM --json binlog search > "$T/all.json" 2>"$T/search.err" || { cat "$T/search.err"; fail "binlog search"; }
python3 - "$T/all.json" <<'PY' || fail "search results"
import json, sys
r = json.load(open(sys.argv[1]))
def one(pred, what):
    m = [t for t in r if pred(t)]
    assert len(m) == 1, f"{what}: {len(m)} matches in {json.dumps(r)[:3000]}"
    return m[0]
def tab(t):
    assert len(t["tables"]) == 1 and t["tables"][0]["name"] == "shop.items", t["tables"]
    x = t["tables"][0]; assert not x.get("rows_unknown"), t; return (x["insert"], x["update"], x["delete"])
for t in r:
    for s in t["statements"]: assert "not decoded" not in s, t
    for x in t["tables"]: assert not x.get("rows_unknown"), t
ins = one(lambda t: any("bulk " in s for s in t["statements"]), "bulk insert")
assert tab(ins) == (2000, 0, 0) and ins["types"] == ["insert"], ins
up = one(lambda t: any("qty = qty + 1" in s for s in t["statements"]), "update")
assert tab(up) == (0, 23, 0) and up["types"] == ["update"], up
big = one(lambda t: any("REPEAT('y', 100000)" in s for s in t["statements"]), "big update")
assert tab(big) == (0, 1, 0), big
de = one(lambda t: any("DELETE FROM items WHERE id > 2900" in s for s in t["statements"]), "delete")
assert tab(de) == (0, 0, 100) and de["types"] == ["delete"], de
ddl = one(lambda t: any("ADD COLUMN extra INT DEFAULT 5" in s for s in t["statements"]), "ddl")
assert ddl["types"] == ["ddl"], ddl
st = one(lambda t: any("stmt_marker_42" in s for s in t["statements"]), "statement update")
assert st["types"] == ["update"] and st["tables"] == [], st
late = one(lambda t: any("after the target" in s for s in t["statements"]), "late insert")
print(f"{len(r)} transactions; bulk insert {ins['gtid']} 2000 rows, update 23, delete 100, ddl {ddl['gtid']}")
PY
pass "search over compressed events: $(python3 -c "import json;print(len(json.load(open('$T/all.json'))))" ) transactions, row counts and statement text decoded"

TM --json binlog search --grep stmt_marker_42 > "$T/g.json" || fail "--grep"
python3 -c "import json,sys; r=json.load(open('$T/g.json')); assert len(r)==1 and 'stmt_marker_42' in r[0]['statements'][0], r" || fail "--grep on a compressed statement"
TM --json binlog search --type ddl --table items > "$T/d.json" || fail "--type ddl"
python3 -c "import json,sys; r=json.load(open('$T/d.json')); assert len(r)==1 and 'ADD COLUMN extra' in r[0]['statements'][0], r" || fail "--type ddl --table items"
TM --json binlog search --type delete --table shop.items > "$T/x.json" || fail "--type delete"
python3 -c "import json,sys; r=json.load(open('$T/x.json')); assert [t['tables'][0]['delete'] for t in r]==[100,1], r" || fail "--type delete counts"
TM binlog search --type update --table items > "$T/u.txt" 2>/dev/null || fail "text output"
grep -q "shop.items: 0 inserted, 23 updated, 0 deleted" "$T/u.txt" && ! grep -q "not decoded" "$T/u.txt" || { cat "$T/u.txt"; fail "text output"; }
pass "filters see the decoded text and counts (--grep, --type ddl/delete/update, --table)"

# restore to G over the compressed archive
TM --json restore db --to-gtid "$G" --socket $TG --user root > "$T/r.json" 2>"$T/r.err" || { cat "$T/r.err" "$T/r.json"; fail "restore --to-gtid $G"; }
python3 -c "import json; j=json.load(open('$T/r.json')); assert j['verdict']=='verified' and j['reached'], j" || { cat "$T/r.json"; fail "restore verdict"; }
[ "$(sums $TG)" = "$SUM_G" ] || fail "restored table differs from the source at $G"
[ "$(q $TG -N -e "SELECT COUNT(*) FROM shop.items")" = "$N_G" ] || fail "row count"
[ "$(q $TG -N -e "SELECT name FROM shop.items WHERE id = 3")" = stmt_marker_42 ] || fail "statement update missing"
[ "$(q $TG -N -e "SELECT COUNT(*) FROM shop.items WHERE id = 5000")" = 0 ] || fail "a later write is present"
pass "restore --to-gtid $G over compressed events: CHECKSUM TABLE equal to the source at that GTID ($N_G rows)"
echo "pitr_compressed: all checks passed"

#!/usr/bin/env bash
# binlog_catalog_day.sh: a day of the binlog follower in two minutes (issue 10
# item 0). At the default 5 s seal a day is 16,384 segments, and the level-2
# catalog compact holding them was a 16.5 MB object every catalog load refused
# ("buffer limit of 1048576 bytes reached"): status, list, search, every
# restore, the follower's own compaction and its restart. Here: a real server,
# the follower live under a steady mixed workload, one segment per transaction
# (binlog_flush_bytes=1) and compaction every 32 entries, so the level-2
# compact (64 x 32 = 2,048 entries) is written and is over 1 MiB; the run goes
# on past it (level-1 compacts after it). Then, all on that catalog:
#   status (running, no alarm) and list (every segment, one chain); search
#   (one marked transaction, by text); restore db --snapshot --plan and
#   --to-gtid --plan; a real restore db --to-gtid into a target, compared
#   (CHECKSUM TABLE of every table) with the snapshot plus
#   `mariadb-binlog --stop-position | mariadb` on a reference server; a
#   follower restart that resumes and archives new transactions.
source "$(dirname "$0")/lib.sh"
command -v mariadb-binlog >/dev/null || { echo "SKIP: mariadb-binlog missing"; exit 77; }
start_src_tgt_ref
export TZ=UTC
instance_config shop "$S" shop 778
TM() { "$TM_BIN" --instance shop "$@"; }
# one segment per transaction, a compact every 32 entries: the level-2 compact
# comes after 2,048 segments
export TIDEMARK_BINLOG_FLUSH_BYTES=1 TIDEMARK_BINLOG_COMPACT_ENTRIES=32
NTRX=2600

q $S <<'SQL'
CREATE DATABASE shop CHARACTER SET utf8mb4;
USE shop;
CREATE TABLE items (id INT AUTO_INCREMENT PRIMARY KEY, tag VARCHAR(40), qty INT NOT NULL DEFAULT 0,
                    price DECIMAL(10,2), note VARCHAR(200)) ENGINE=InnoDB;
CREATE TABLE log (n INT, msg VARCHAR(60), v DOUBLE) ENGINE=InnoDB;   -- no key at all
INSERT INTO items (tag, qty, price) SELECT CONCAT('seed ', seq), seq, seq * 1.5 FROM seq_1_to_300;
INSERT INTO log SELECT seq, 'seed', seq / 3 FROM seq_1_to_300;
SQL
TM --json backup db > "$T/b1.json" || fail "backup"
read -r SNAP SPOS SGTID <<<"$(python3 -c "import json;j=json.load(open('$T/b1.json'));b=j['binlog'];print(j['snapshot'], b['file']+':'+str(b['position']), b['gtid'])")"
"$TM_BIN" --instance shop binlog follow --start "$SPOS" >>"$T/follow.log" 2>&1 & FPID=$!
cleanup_hooks+=("kill $FPID 2>/dev/null")

# the steady workload: NTRX transactions of mixed shapes, a few ms apart
workload() { # FROM TO
  local i
  echo "USE shop;"
  for i in $(seq "$1" "$2"); do
    case $(( i % 8 )) in
      0) echo "BEGIN; INSERT INTO items (tag, qty, price) VALUES ('t$i', $i, $i.25); INSERT INTO log VALUES ($i, 'with t$i', $i / 7); COMMIT;" ;;
      1) echo "UPDATE items SET qty = qty + 1, price = price * 1.01 WHERE id % 17 = $(( i % 17 ));" ;;
      2) echo "SET SESSION binlog_format=STATEMENT; INSERT INTO log VALUES ($i, CONCAT('stmt ', $i), $i * 2); SET SESSION binlog_format=ROW;" ;;
      3) echo "DELETE FROM log WHERE n % 31 = $(( i % 31 )) AND n < $(( i / 2 ));" ;;
      4) echo "INSERT INTO items (tag, qty, note) VALUES ('t$i', $i, REPEAT('n', $(( i % 150 ))));" ;;
      5) echo "UPDATE log SET v = v + 1 WHERE n = $(( i % 300 ));" ;;
      6) echo "SET SESSION binlog_format=MIXED; UPDATE items SET note = CONCAT('m', $i) WHERE id = $(( i % 250 + 1 )); SET SESSION binlog_format=ROW;" ;;
      7) echo "INSERT INTO items (tag, qty) VALUES ('t$i', -$i);" ;;
    esac
    [ "$i" = 1717 ] && echo "INSERT INTO items (tag, note) VALUES ('needle', 'day_needle_1717');"
    [ "$i" = 1300 ] && echo "ALTER TABLE items ADD COLUMN extra INT DEFAULT 3;"
    [ $(( i % 4 )) = 0 ] && echo "DO SLEEP(0.004);"
  done
  return 0
}
t0=$(date +%s)
workload 1 "$NTRX" | q $S || fail "workload"
END=$(q $S -N -e "SELECT @@gtid_binlog_pos")
echo "# workload: $NTRX statements in $(( $(date +%s) - t0 )) s, up to $END"

# the follower catches up; status of a running follower: exit 0, no alarm
for _ in $(seq 1 240); do
  rc=0; TM --json binlog status > "$T/st.json" 2>"$T/st.err" || rc=$?
  [ "$rc" = 0 ] && [ "$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["last_archived_gtid"])' "$T/st.json")" = "$END" ] && break
  sleep 0.5
done
[ "$rc" = 0 ] || { cat "$T/st.err" "$T/st.json"; tail -5 "$T/follow.log"; fail "binlog status exit $rc"; }
python3 - "$T/st.json" "$END" <<'PY' || { cat "$T/st.json"; tail -5 "$T/follow.log"; fail "status of the running follower"; }
import json, sys
j = json.loads(open(sys.argv[1]).readline())
assert j["last_archived_gtid"] == sys.argv[2], (j["last_archived_gtid"], sys.argv[2])
assert j["running"] and j["alarms"] == [] and j.get("alarm") is None, j
c = j["catalog"]
# the level-2 compact 1-2048 and level-1 compacts after it
assert c["compacted_to"] > 2048 and c["compacts"] >= 2, c
print(f'{j["segments"]} segments from {c["objects_read"]} objects ({c["compacts"]} compacts, to {c["compacted_to"]})')
PY
kill -TERM "$FPID"; wait "$FPID" || { tail "$T/follow.log"; fail "follower exit $?"; }
! grep -q "compaction of shop failed" "$T/follow.log" || { grep "compaction" "$T/follow.log" | head -3; fail "the follower's compaction failed"; }
L2=$T/repo/catalog/shop/compact-000000000001-000000002048
[ -f "$L2" ] || fail "no level-2 compact: $(ls "$T/repo/catalog/shop" | grep compact | tail -3)"
l2size=$(stat -c %s "$L2")
[ "$l2size" -gt $(( (1 << 20) + 4096 )) ] || fail "the level-2 compact is only $l2size bytes: the test does not pass the old 1 MiB limit"
pass "status of the running follower: exit 0, no alarm; level-2 compact of 2048 entries is $l2size bytes, compaction went on past it"

TM --json binlog list > "$T/list.json" || fail "binlog list"
NSEG=$(python3 - "$T/list.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert len(s) > 2048 + 100, len(s)
assert [e["seq"] for e in s] == list(range(1, len(s) + 1))
assert all(e["connects"] for e in s), [e for e in s if not e["connects"]][:1]
print(len(s))
PY
) || fail "binlog list"
pass "binlog list: $NSEG segments, one unbroken chain"

TM --json binlog search --grep day_needle_1717 > "$T/search.json" 2>"$T/search.err" || { cat "$T/search.err"; fail "binlog search"; }
NEEDLE=$(python3 -c "
import json; r=json.load(open('$T/search.json'))
assert len(r) == 1 and 'day_needle_1717' in r[0]['statements'][0], r
print(r[0]['gtid'])") || fail "search result"
pass "binlog search: the marked transaction is $NEEDLE"

TM restore db --snapshot "$SNAP" --plan --socket $TG --user root --drop-existing > "$T/plan1.txt" 2>&1 \
  || { cat "$T/plan1.txt"; fail "restore db --snapshot --plan"; }
TM restore db --to-gtid "$END" --plan --socket $TG --user root --drop-existing > "$T/plan2.txt" 2>&1 \
  || { cat "$T/plan2.txt"; fail "restore db --to-gtid --plan"; }
grep -q "plan: replay" "$T/plan2.txt" || { cat "$T/plan2.txt"; fail "the plan does not replay"; }
pass "restore db --snapshot --plan and --to-gtid $END --plan"

# a real restore to a GTID inside the level-2 compact, against mariadb-binlog
mapfile -t FILES < <(sed 's|^\./||' "$SRCDIR/data/binlog.index" | while read -r f; do echo "$SRCDIR/data/${f##*/}"; done)
D=${END%%-*}; r=${END#*-}; SID=${r%%-*}; LAST=${r#*-}; B=${SGTID##*-}
sums() { # sock -> "table checksum" of every base table of shop
  for t in $(q "$1" -N -e "SELECT table_name FROM information_schema.tables WHERE table_schema='shop' AND table_type='BASE TABLE' ORDER BY 1"); do
    q "$1" -N -e "CHECKSUM TABLE shop.\`$t\`" | awk -v t="$t" '{print t, $2}'
  done
}
G=$D-$SID-$(( B + 1200 + RANDOM % 700 ))
TM --json restore db --to-gtid "$G" --socket $TG --user root --drop-existing > "$T/r.json" 2>"$T/r.err" \
  || { cat "$T/r.err" "$T/r.json"; fail "restore db --to-gtid $G"; }
python3 -c "
import json; j=json.load(open('$T/r.json'))
assert j['verdict']=='verified' and j['reached'] and j['load_verified'], j" || { cat "$T/r.json"; fail "restore verdict"; }
TM -q restore db --snapshot "$SNAP" --socket $RF --user root --drop-existing >/dev/null 2>"$T/ref.err" || { cat "$T/ref.err"; fail "reference load"; }
mariadb-binlog --start-position="$SGTID" --stop-position="$G" "${FILES[@]}" 2>"$T/mb.err" \
  | q $RF --init-command="SET sql_log_bin=0" || { cat "$T/mb.err"; fail "reference apply"; }
sums $TG > "$T/t.sum"; sums $RF > "$T/r.sum"
[ "$(wc -l < "$T/t.sum")" = 2 ] || fail "tables restored: $(cat "$T/t.sum")"
diff "$T/t.sum" "$T/r.sum" >&2 || fail "--to-gtid $G: CHECKSUM TABLE differs from mariadb-binlog's"
pass "restore db --to-gtid $G: equal to the snapshot + mariadb-binlog ($(tr '\n' ' ' < "$T/t.sum"))"

# the follower restarts on that catalog and goes on
"$TM_BIN" --instance shop binlog follow >>"$T/follow2.log" 2>&1 & FPID=$!
cleanup_hooks+=("kill $FPID 2>/dev/null")
workload $(( NTRX + 1 )) $(( NTRX + 80 )) | q $S || fail "second workload"
END2=$(q $S -N -e "SELECT @@gtid_binlog_pos")
stop_follower_at "$END2"
! grep -qi "error\|failed" "$T/follow2.log" || { cat "$T/follow2.log"; fail "the restarted follower reported a failure"; }
TM --json binlog list | python3 -c 'import json,sys; s=json.load(sys.stdin); assert all(e["connects"] for e in s) and len(s) > '"$NSEG"', len(s)' \
  || fail "chain after the restart"
pass "follower restart: resumed on the compacted catalog and archived up to $END2"

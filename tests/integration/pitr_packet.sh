#!/usr/bin/env bash
# pitr_packet.sh: an event larger than the target's slave_max_allowed_packet
# (issue 10 item 8), real servers: SOURCE (server-id 1) archived by the
# follower, TARGET (server-id 2) with slave_max_allowed_packet = 1 MiB, a
# 3 MiB row written after the snapshot.
#  (1) --plan and the restore (transaction path) refuse before anything is
#      loaded, naming the event's size, its GTID and the SET GLOBAL that
#      allows it;
#  (2) the replay itself (tm-replay over the source's binlog files, no plan
#      in front of it) fails within seconds naming the IO thread's error
#      1153, instead of waiting;
#  (3) with slave_max_allowed_packet raised as the refusal says, the restore
#      succeeds and holds the row.
source "$(dirname "$0")/lib.sh"
SB="$TM_SRC/tests/support/mariadb-sandbox.sh"
TOOL=${TM_BUILD:-$TM_SRC/build/release}/restore/replay/tm-replay
[ -x "$TOOL" ] || { echo "SKIP: tm-replay not built ($TOOL)"; exit 77; }
eval "$(TM_DB_BUFFER_POOL=64M "$SB" start "$T/src")" || exit $?
S=$TM_DB_SOCKET; SRCDIR=$TM_DB_DIR; cleanup_hooks+=("'$SB' stop '$T/src'")
eval "$(TM_DB_BUFFER_POOL=64M TM_DB_SERVER_ID=2 "$SB" start "$T/tgt")"; TG=$TM_DB_SOCKET
cleanup_hooks+=("'$SB' stop '$T/tgt'")
export TZ=UTC

instance_config shop "$S" shop 777
TM() { "$TM_BIN" --instance shop "$@"; }
q $S -e "CREATE DATABASE shop; CREATE TABLE shop.b (id INT PRIMARY KEY, v LONGBLOB) ENGINE=InnoDB; INSERT INTO shop.b VALUES (1, 'small');"
TM --json backup db > "$T/a.json" || fail "snapshot"
SA=$(python3 -c "import json;j=json.load(open('$T/a.json'));print(j['binlog']['file']+':'+str(j['binlog']['position']))")
GA=$(python3 -c "import json;print(json.load(open('$T/a.json'))['binlog']['gtid'])")
"$TM_BIN" -q --instance shop binlog follow --start "$SA" >>"$T/follow.log" 2>&1 & FPID=$!
cleanup_hooks+=("kill $FPID 2>/dev/null")
q $S -e "INSERT INTO shop.b VALUES (2, REPEAT('x', 3 * 1024 * 1024)); INSERT INTO shop.b VALUES (3, 'after');"
END=$(q $S -N -e "SELECT @@gtid_binlog_pos")
stop_follower_at "$END"
q $TG -e "SET GLOBAL slave_max_allowed_packet = 1048576"

# ---- (1) refused before the load ---------------------------------------------------------
expect_fail 2 "larger than the target's slave_max_allowed_packet (1048576)" \
  TM restore db --to-gtid "$END" --plan --socket $TG --user root
grep -q "SET GLOBAL slave_max_allowed_packet = " "$T/err" && grep -q "GTID 0-1-" "$T/err" \
  || { cat "$T/err"; fail "the --plan refusal does not say what to set or which event"; }
pass "--plan refused: $(grep -o 'the range holds.*' "$T/err")"
expect_fail 2 "larger than the target's slave_max_allowed_packet" \
  TM restore db --to-gtid "$END" --apply transactions --socket $TG --user root
grep -q "nothing was touched" "$T/err" || { cat "$T/err"; fail "not refused before the load"; }
[ -z "$(q $TG -N -e "SHOW DATABASES LIKE 'shop'")" ] || fail "refused, but shop was loaded"
pass "the restore refused before the load"

# ---- (2) the replay fails promptly on the IO thread's error ----------------------------
TM -q restore db --snapshot "$(python3 -c "import json;print(json.load(open('$T/a.json'))['snapshot'])")" \
  --socket $TG --user root >/dev/null || fail "load the snapshot for tm-replay"
q $S -e "FLUSH BINARY LOGS"   # the files closed (an open one carries the in-use flag)
mapfile -t FILES < <(sed 's|^\./||' "$SRCDIR/data/binlog.index" | while read -r f; do echo "$SRCDIR/data/${f##*/}"; done)
t0=$(date +%s); rc=0
timeout 120 "$TOOL" run --socket "$TG" --user root --start "$GA" --until "$END" "${FILES[@]}" \
  > "$T/tool.out" 2> "$T/tool.err" || rc=$?
el=$(( $(date +%s) - t0 ))
[ "$rc" != 0 ] && [ "$rc" != 124 ] || { cat "$T/tool.err"; fail "tm-replay exit $rc (124: it waited)"; }
grep -q "IO thread stopped at .*error 1153" "$T/tool.err" || { cat "$T/tool.err"; fail "the replay error does not name error 1153"; }
(( el < 60 )) || fail "the replay took $el s to give up"
[ -z "$(q $TG -N -e "SHOW ALL SLAVES STATUS")" ] || fail "replication connection left on the target"
pass "the replay failed in $el s: $(grep -o 'the target.s replica IO thread.*' "$T/tool.err" | cut -c1-160)"

# ---- (3) raised as told: the restore succeeds ----------------------------------------------
set_to=$(grep -o 'SET GLOBAL slave_max_allowed_packet = [0-9]*' "$T/err" | head -1)
q $TG -e "$set_to"
TM --json restore db --to-gtid "$END" --apply transactions --socket $TG --user root --drop-existing > "$T/r.json" 2> "$T/r.err" \
  || { cat "$T/r.err"; fail "restore after $set_to"; }
[ "$(q $TG -N -e "SELECT LENGTH(v) FROM shop.b WHERE id = 2")" = $((3 * 1024 * 1024)) ] || fail "the large row is missing"
[ "$(q $TG -N -e "SELECT COUNT(*) FROM shop.b")" = 3 ] || fail "rows missing"
pass "after '$set_to' the restore holds the 3 MiB row"

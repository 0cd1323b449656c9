#!/usr/bin/env bash
# binlog_follower_alarm.sh: `binlog status` must not say all is well when
# nothing is being archived (issue 10 item 7). Against a real server:
#   1. an instance the config does not have: exit 2 naming the instances it
#      has (status, list, export; the global --instance too);
#   2. a follower that never ran, one that failed to start: exit 6, the
#      alarm (with the error) in text and --json;
#   3. a running follower: exit 0, no alarm;
#   4. stopped by SIGTERM, killed by SIGKILL (its status still says
#      "streaming"), hung (SIGSTOP: alive, status no longer rewritten):
#      each exit 6 with an alarm that says which; the window stays shown;
#      SIGCONT: running again, exit 0;
#   5. a running follower cut from its server (the server stopped) for
#      longer than 60 s: exit 4 with an alarm naming the last error; the
#      server back: connected again, exit 0.
source "$(dirname "$0")/lib.sh"
SB="$TM_SRC/tests/support/mariadb-sandbox.sh"
eval "$("$SB" start "$T/db")" || exit $?
cleanup_hooks+=("'$SB' stop '$T/db'")
instance_config shop "$TM_DB_SOCKET" shop 779
TM() { "$TM_BIN" --instance shop "$@"; }
q() { mariadb --socket="$TM_DB_SOCKET" -uroot "$@"; }
jst() { python3 -c 'import json,sys; j=json.loads(open(sys.argv[1]).readline()); print(eval(sys.argv[2], {"j": j}))' "$T/st.json" "$1"; }
status() { # -> rc (both exits), $T/st.json (--json), $T/st.txt (text), $T/st.err
  local r1=0 r2=0
  "$TM_BIN" --json binlog status --instance shop > "$T/st.json" 2>/dev/null || r1=$?
  "$TM_BIN" binlog status --instance shop > "$T/st.txt" 2>"$T/st.err" || r2=$?
  rc=$r1; [ "$r1" = "$r2" ] || rc="$r1 with --json, $r2 without"   # (a follower starting between the two)
}
alarmed() { # LABEL FRAGMENT: exit 6, the alarm in --json (alarm, alarms) and in the text
  status
  [ "$rc" = 6 ] || { cat "$T/st.txt" "$T/st.err"; fail "$1: status exited $rc, expected 6"; }
  [ "$(jst 'j["running"]')" = False ] || fail "$1: --json says running"
  jst 'j["alarm"]' | grep -qF -- "$2" || { cat "$T/st.json"; fail "$1: --json alarm lacks '$2'"; }
  python3 -c 'import json,sys; j=json.loads(open(sys.argv[1]).readline()); assert any(sys.argv[2] in a for a in j["alarms"]), j["alarms"]' "$T/st.json" "$2" \
    || fail "$1: --json alarms lack '$2'"
  grep -F "ALARM:" "$T/st.txt" | grep -qF -- "$2" || { cat "$T/st.txt"; fail "$1: no ALARM line with '$2'"; }
  grep -qF -- "$2" "$T/st.err" || { cat "$T/st.err"; fail "$1: the error message lacks '$2'"; }
}
running_ok() { # LABEL [SECONDS]: wait (15 s) until status says running and connected, exit 0, no alarm
  for _ in $(seq 1 $(( ${2:-15} * 5 ))); do
    status
    [ "$rc" = 0 ] && [ "$(jst 'j["running"] and j["connected"]')" = True ] && break
    sleep 0.2
  done
  [ "$rc" = 0 ] || { cat "$T/st.txt" "$T/st.err" "$T/follow.log"; fail "$1: status exited $rc"; }
  [ "$(jst 'j["alarms"] == [] and j.get("alarm") is None and j["running"] and j["connected"]')" = True ] \
    || { cat "$T/st.json"; fail "$1: not running/connected, or an alarm"; }
  ! grep -q ALARM "$T/st.txt" || fail "$1: ALARM in the text"
}
follow() { "$TM_BIN" --instance shop binlog follow >>"$T/follow.log" 2>&1 & FPID=$!; cleanup_hooks+=("kill -9 $FPID 2>/dev/null"); }

# ---- 1. an instance the config does not have ----------------------------------
for cmd in status list "export $T/x"; do
  # shellcheck disable=SC2086
  expect_fail 2 "instance 'nosuch' is not in the config (its instances: shop)" "$TM_BIN" binlog $cmd --instance nosuch
done
expect_fail 2 "instance 'nosuch' is not in the config (its instances: shop)" "$TM_BIN" --instance nosuch binlog status
rc=0; "$TM_BIN" --json binlog status --instance nosuch > "$T/nosuch.json" 2>/dev/null || rc=$?
[ "$rc" = 2 ] && grep -q '"exit":2' "$T/nosuch.json" && ! grep -q '"alarms"' "$T/nosuch.json" \
  || { cat "$T/nosuch.json"; fail "--json status of an unknown instance: exit $rc"; }
pass "unknown instance: exit 2 naming the configured ones (status, list, export, --json)"

# ---- 2. never ran -------------------------------------------------------------
alarmed "never ran" "no binlog follower runs for instance shop"
grep -q "nothing archived yet" "$T/st.txt" || fail "never ran: the window line"
pass "a follower that never ran: exit 6, alarm in text and --json"
# a follower that fails before following (no snapshot to start from yet)
expect_fail 2 "no binlog archive and no snapshot to start from" "$TM_BIN" binlog follow --instance shop
alarmed "failed start" "it ended in state \"error\": instance shop has no binlog archive and no snapshot"
pass "a follower that failed to start: exit 6, the alarm carries its error"

# ---- 3. running ---------------------------------------------------------------
q -e "CREATE DATABASE shop; CREATE TABLE shop.t (id INT PRIMARY KEY AUTO_INCREMENT, v INT)"
TM -q backup db >/dev/null || fail "backup"
follow
q -e "INSERT INTO shop.t (v) VALUES (1), (2)"
running_ok "running follower"
pass "a running follower: exit 0, no alarm"

# ---- 4. stopped, killed, hung ---------------------------------------------------
kill -TERM "$FPID"; wait "$FPID" || fail "follower exit $?"
alarmed "stopped" "binlog follower of instance shop is not running (it ended in state \"stopped\""
grep -q "^recoverable: .* UTC$" "$T/st.txt" || { cat "$T/st.txt"; fail "stopped: the window is not shown"; }
jst 'j["window"]["to_gtid"]' | grep -q "^0-1-" || fail "stopped: --json window"
pass "stopped follower (SIGTERM): exit 6, alarm, window still shown"

follow
running_ok "restarted follower"
kill -KILL "$FPID"; wait "$FPID" 2>/dev/null || true
alarmed "killed" "binlog follower of instance shop is not running (it died in state \"streaming\""
pass "killed follower (SIGKILL, its status file still says streaming): exit 6, alarm"

follow
running_ok "follower after the kill"
kill -STOP "$FPID"
python3 - "$T/spool/shop/status.json" <<'PY'
import json, sys, time
j = json.load(open(sys.argv[1])); j["updated"] = int(time.time()) - 100
json.dump(j, open(sys.argv[1], "w"))
PY
alarmed "hung" "has not updated its status since"
grep -qF "hung?" "$T/st.txt" || fail "hung: the alarm does not say so"
kill -CONT "$FPID"
running_ok "follower continued"
kill -TERM "$FPID"; wait "$FPID" || fail "follower exit $?"
pass "hung follower (alive, status 100 s old): exit 6, alarm; once it goes on: exit 0"

# ---- 5. running, but cut from the server ------------------------------------------
follow
running_ok "follower before the server stops"
"$SB" stop "$T/db"
t0=$(date +%s)
for _ in $(seq 1 100); do status; [ "$rc" = 4 ] && break; sleep 1; done
waited=$(( $(date +%s) - t0 ))
[ "$rc" = 4 ] || { cat "$T/st.txt" "$T/st.err"; fail "server down ${waited} s: status exited $rc, expected 4"; }
[ "$waited" -ge 55 ] || fail "the disconnected alarm came after $waited s, before its 60 s"
grep -q "^ALARM: .* runs but has not been connected to its server for [0-9]* s (since .* UTC; last error: " "$T/st.txt" \
  || { cat "$T/st.txt"; fail "disconnected: the ALARM line"; }
[ "$(jst 'j["running"] and not j["connected"] and len(j["alarms"]) == 1')" = True ] || { cat "$T/st.json"; fail "disconnected: --json"; }
eval "$("$SB" start "$T/db")" || fail "server restart"
running_ok "follower after the server came back" 45   # (its backoff has reached 30 s)
kill -TERM "$FPID"; wait "$FPID" || fail "follower exit $?"
pass "server down for $waited s under a running follower: exit 4 with the last error; back: exit 0"

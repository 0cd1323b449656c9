#!/usr/bin/env bash
# db_consistency.sh: consistency under load (issue 4 tests). A writer commits
# transactions touching several tables continuously while `backup db` runs
# with 2 connections (lock-free point, then --force-lock: BACKUP STAGE) and
# with 1. Each snapshot is restored into a second server, then the source's
# binlog from the snapshot's recorded file:position is applied with
# `mariadb-binlog --start-position ... | mariadb`: CHECKSUM TABLE must equal
# the source's final state. A coordinate off by one transaction would lose or
# repeat a non-idempotent update (amount = amount + 1) and show here.
source "$(dirname "$0")/lib.sh"
SB="$TM_SRC/tests/support/mariadb-sandbox.sh"
command -v mariadb-binlog >/dev/null || { echo "SKIP: mariadb-binlog not installed"; exit 77; }
A="$T/a" B="$T/b"
eval "$(TM_DB_BUFFER_POOL=128M "$SB" start "$A")" || exit $?
cleanup_hooks+=("'$SB' stop '$A'")
SA=$TM_DB_SOCKET
eval "$(TM_DB_BUFFER_POOL=64M TM_DB_SERVER_ID=2 "$SB" start "$B" 0 --skip-log-bin)" || exit $?
cleanup_hooks+=("'$SB' stop '$B'")
SBK=$TM_DB_SOCKET
sa() { mariadb --socket="$SA" -uroot "$@"; }
sb() { mariadb --socket="$SBK" -uroot "$@"; }

sa <<'SQL'
CREATE DATABASE shop;
USE shop;
CREATE TABLE inv (id INT PRIMARY KEY AUTO_INCREMENT, ref VARCHAR(40), amount DECIMAL(14,2), note TEXT, KEY k_ref (ref)) ENGINE=InnoDB;
CREATE TABLE line (id INT PRIMARY KEY AUTO_INCREMENT, inv_id INT NOT NULL, qty INT, label VARCHAR(100), KEY k_inv (inv_id)) ENGINE=InnoDB;
CREATE TABLE stock (sku INT PRIMARY KEY, qty BIGINT NOT NULL) ENGINE=InnoDB;
INSERT INTO inv (ref, amount, note) SELECT CONCAT('INV', seq), seq / 3, REPEAT(MD5(seq), 4) FROM seq_1_to_60000;
INSERT INTO line (inv_id, qty, label) SELECT 1 + seq % 60000, seq % 9, CONCAT('item ', MD5(seq)) FROM seq_1_to_120000;
INSERT INTO stock SELECT seq, 1000 FROM seq_1_to_500;
SQL

# the writer: each transaction moves stock, adds an invoice with a line, bumps
# an old invoice (not idempotent) and sometimes deletes a line
writer() {   # until $T/stop exists (then the client finishes what it got)
  rm -f "$T/stop"
  STOP="$T/stop" python3 - <<'PY' | mariadb --socket="$SA" -uroot shop
import os, random, sys
r = random.Random(7)
for i in range(1, 10**7):
    if i % 50 == 0 and os.path.exists(os.environ["STOP"]):
        break
    s = r.randint(1, 500)
    print(f"BEGIN; UPDATE stock SET qty = qty - 1 WHERE sku = {s}; "
          f"INSERT INTO inv (ref, amount, note) VALUES ('W{i}', {i % 1000}.5, 'w'); "
          f"INSERT INTO line (inv_id, qty, label) VALUES (LAST_INSERT_ID(), {i % 7}, 'wl{i}'); "
          f"UPDATE inv SET amount = amount + 1 WHERE id = {r.randint(1, 60000)}; "
          + (f"DELETE FROM line WHERE id = {r.randint(1, 120000)}; " if i % 5 == 0 else "")
          + "COMMIT;")
PY
}

setup_repo
export TIDEMARK_DB_SOCKET="$SA" TIDEMARK_DB_USER=root TIDEMARK_DATABASES=shop

run_case() {   # NAME OPTIONS...: dump under load, restore on B, replay the binlog, compare
  local name=$1; shift
  writer & local wpid=$!
  sleep 1
  "$TM_BIN" --instance it --json backup db "$@" > "$T/$name.json" 2> "$T/$name.err" \
    || { touch "$T/stop"; wait "$wpid"; cat "$T/$name.err"; fail "$name: backup"; }
  sleep 1
  touch "$T/stop"; wait "$wpid" || fail "$name: the writer failed"
  local snap file pos method lock
  read -r snap file pos method lock < <(python3 -c "
import json; j = json.load(open('$T/$name.json'))
print(j['snapshot'], j['binlog']['file'], j['binlog']['position'], j['method'], j['lock_ms'])")
  local committed_after
  committed_after=$(sa -N -e "SELECT COUNT(*) FROM shop.inv WHERE ref LIKE 'W%'")
  sb -e "DROP DATABASE IF EXISTS shop"
  "$TM_BIN" -q --instance it restore db --snapshot "$snap" --socket "$SBK" --user root \
    || fail "$name: restore db"
  # every binlog file from the recorded one on
  local files=()
  for f in $(sa -N -e "SHOW BINARY LOGS" | cut -f1); do
    if [[ "$f" > "$file" || "$f" == "$file" ]]; then files+=("$A/data/$f"); fi
  done
  mariadb-binlog --start-position="$pos" "${files[0]}" > "$T/$name.replay.sql"
  for f in "${files[@]:1}"; do mariadb-binlog "$f" >> "$T/$name.replay.sql"; done
  sb < "$T/$name.replay.sql" || fail "$name: applying the binlog from $file:$pos failed"
  local ca cb
  ca=$(sa -N -e "CHECKSUM TABLE shop.inv, shop.line, shop.stock EXTENDED" | cut -f2 | tr '\n' ' ')
  cb=$(sb -N -e "CHECKSUM TABLE shop.inv, shop.line, shop.stock EXTENDED" | cut -f2 | tr '\n' ' ')
  [ "$ca" = "$cb" ] || fail "$name: restored + binlog from $file:$pos differs from the source ($ca vs $cb)"
  pass "$name: point by $method (lock $lock ms), $file:$pos + binlog = final state ($committed_after writer transactions in all)"
}

run_case two_connections --threads 2
run_case forced_lock --threads 2 --force-lock
grep -q '"method":"backup-stage"' "$T/forced_lock.json" || fail "--force-lock did not take the lock path"
run_case one_connection --threads 1
grep -q '"method":"snapshot"' "$T/one_connection.json" || fail "one connection should need no lock"

#!/usr/bin/env bash
# cli_errors.sh (issue 11): configuration errors are exit 2 and name the
# file and line or the environment variable (a missing password file, an
# out-of-range value, a bad number); an instance name that is not in the
# config is refused by every command, listing the configured instances; no
# failure exits with the undocumented 1.
. "$(dirname "$0")/lib.sh"
passed=0
printf 'integration test passphrase\n' > "$T/pw"; chmod 600 "$T/pw"
unset TIDEMARK_REPOSITORY TIDEMARK_PASSWORD_FILE TIDEMARK_CONFIG
conf() {   # conf FILE EXTRA-LINES...: a config with two instances
  local f=$1; shift
  { printf '[repository]\nurl = %s\npassword_file = %s\n' "$T/repo" "$T/pw"
    for l in "$@"; do printf '%s\n' "$l"; done
    printf '\n[instance shop]\ndb_socket = /nonexistent/sock\n\n[instance crm]\ndb_socket = /nonexistent/sock2\n'; } > "$f"
}
conf "$T/ok.conf"
"$TM_BIN" -c "$T/ok.conf" -q init >/dev/null

# a missing password file: exit 2, naming the config line or the variable
conf "$T/nopw.conf"; sed -i "s|^password_file = .*|password_file = $T/missing-pw|" "$T/nopw.conf"
expect_fail 2 "$T/nopw.conf:3: password_file: password file $T/missing-pw" "$TM_BIN" -c "$T/nopw.conf" snapshots
expect_fail 2 "environment variable TIDEMARK_PASSWORD_FILE (password_file)" \
  env TIDEMARK_PASSWORD_FILE="$T/missing-pw" "$TM_BIN" -c "$T/ok.conf" snapshots
passed=$((passed + 1)); pass "missing password file: exit 2, names file:line or the variable"

# out of range and bad numbers, in the file and in the environment
conf "$T/range.conf" "compression_level = 99"
expect_fail 2 "$T/range.conf:4: compression_level = 99 is out of range: expected 0..19" "$TM_BIN" -c "$T/range.conf" snapshots
conf "$T/workers.conf" "workers = 0"
expect_fail 2 "$T/workers.conf:4: workers = 0 is out of range: expected 1..64" "$TM_BIN" -c "$T/workers.conf" check
conf "$T/pack.conf" "pack_size = 1G"
expect_fail 2 "$T/pack.conf:4: pack_size = 1G is out of range" "$TM_BIN" -c "$T/pack.conf" snapshots
conf "$T/nan.conf" "workers = many"
expect_fail 2 "$T/nan.conf:4: bad value for 'workers': expected a whole number" "$TM_BIN" -c "$T/nan.conf" snapshots
expect_fail 2 "environment variable TIDEMARK_COMPRESSION_LEVEL (compression_level): 20 is out of range" \
  env TIDEMARK_COMPRESSION_LEVEL=20 "$TM_BIN" -c "$T/ok.conf" snapshots
expect_fail 2 "environment variable TIDEMARK_WORKERS (workers): bad value 'x2'" \
  env TIDEMARK_WORKERS=x2 "$TM_BIN" -c "$T/ok.conf" snapshots
expect_fail 2 "environment variable TIDEMARK_DUMP_THREADS (dump_threads): bad value 'two'" \
  env TIDEMARK_DUMP_THREADS=two "$TM_BIN" -c "$T/ok.conf" --instance shop backup db
expect_fail 2 "missing-conf" "$TM_BIN" -c "$T/missing-conf" snapshots
passed=$((passed + 1)); pass "out-of-range and bad values: exit 2, naming file:line or the variable"

# an instance typo, in every command, before or after the command word
n=0
mapfile -t firsts < <("$TM_BIN" __complete commands)
for w in "${firsts[@]}"; do
  [ "$w" = help ] && continue
  mapfile -t subs < <("$TM_BIN" __complete subcommands "$w")
  words=()
  "$TM_BIN" __complete options "$w" >/dev/null 2>&1 && words+=("$w")
  for s in "${subs[@]}"; do words+=("$w $s"); done
  for c in "${words[@]}"; do
    # shellcheck disable=SC2086
    expect_fail 2 "instance 'prod' is not in the config (its instances: shop, crm)" \
      "$TM_BIN" -c "$T/ok.conf" $c --instance prod
    expect_fail 2 "instance 'prod' is not in the config" "$TM_BIN" -c "$T/ok.conf" -i prod $c
    n=$((n + 1))
  done
done
# the two cases of the issue, with the arguments they would run with
expect_fail 2 "its instances: shop, crm" "$TM_BIN" -c "$T/ok.conf" restore db --instance prod --snapshot latest
expect_fail 2 "its instances: shop, crm" "$TM_BIN" -c "$T/ok.conf" snapshots --instance prod
passed=$((passed + 1)); pass "instance typo refused by all $n commands, listing the configured instances"

# the documented codes: an existing repository (2), a repository on a
# failing disk is not testable here; a locked-out file (2) needs a non-root user
expect_fail 2 "already exists" "$TM_BIN" -c "$T/ok.conf" init
passed=$((passed + 1)); pass "init on an existing repository: exit 2 (was the undocumented 1)"
echo "$passed passed, 0 failed"

#!/usr/bin/env bash
# The sample configuration parses, and documents every key tidemark knows
# (engine/common/conf_keys.c): a key added without a sample line fails here.
. "$(dirname "$0")/lib.sh"
S=$TM_SRC/conf/tidemark.conf.sample
"$TM_BIN" -c "$S" version >/dev/null || fail "the sample config does not load"
missing=0
for k in $(grep -oE '\{CONF_SEC_[A-Z]+, "[a-z_]+"' "$TM_SRC/engine/common/conf_keys.c" | sed -E 's/.*"([a-z_]+)"/\1/'); do
  grep -qE "^#? ?$k =" "$S" || { echo "not in the sample: $k" >&2; missing=$((missing + 1)); }
done
[ "$missing" = 0 ] || fail "$missing keys missing from conf/tidemark.conf.sample"
pass "sample config loads and documents every key"
printf '[instance x]\ndb_port = many\n' > "$T/bad.conf"
expect_fail 2 "bad.conf:2: bad value for 'db_port'" "$TM_BIN" -c "$T/bad.conf" version
pass "bad value names file:line:key"
echo "2 passed, 0 failed"

#!/usr/bin/env bash
# s3_ops.sh S3_OPS_BINARY: every S3 driver op against a real Ceph RGW, then
# the bad inputs (wrong secret, unknown key id, clock skew, missing bucket,
# unreachable endpoint, an HTML server, no credentials, credentials file,
# credentials in the URL), each one clear line with the right code.
set -euo pipefail
OPS=$1
. "$(dirname "$0")/s3_lib.sh"
HTTP_PID=
cleanup() {
    [ -n "$HTTP_PID" ] && kill "$HTTP_PID" 2>/dev/null
    s3_stop
}
trap cleanup EXIT
s3_start
URL=s3:$S3_ENDPOINT/$S3_BUCKET/ops-$$
fails=0
run() { local line="$*"; echo "== ${line//$AWS_SECRET_ACCESS_KEY/***}"; "$@" || fails=$((fails + 1)); }

# all ops; a low multipart threshold so a 17 MiB object goes multipart
run env TIDEMARK_S3_MULTIPART_THRESHOLD=6M TIDEMARK_S3_PART_SIZE=5M "$OPS" ops "$URL"

# ranged reads through the block cache; with only two blocks (eviction under threads); with the cache off
run "$OPS" cache "$URL" count
run env TIDEMARK_S3_READ_CACHE=8M "$OPS" cache "$URL" any
run env TIDEMARK_S3_READ_CACHE=0 "$OPS" cache "$URL" any

# bad input: each a one-line error with the right code
run env AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY}x" "$OPS" expect-error "$URL" auth "wrong secret key"
run env AWS_ACCESS_KEY_ID=AKIANOSUCHKEY0000000 "$OPS" expect-error "$URL" auth InvalidAccessKeyId
run env TIDEMARK_S3_CLOCK_OFFSET=3600 "$OPS" expect-error "$URL" auth "clock skew"
run "$OPS" expect-error "s3:$S3_ENDPOINT/no-such-bucket-$$/p" notfound "bucket 'no-such-bucket-$$' does not exist"
closed=$(s3_pick_port)
run env TIDEMARK_S3_MAX_RETRIES=1 "$OPS" expect-error "s3:http://127.0.0.1:$closed/$S3_BUCKET" net "Couldn't connect"
run env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY HOME=/nonexistent "$OPS" expect-error "$URL" auth "no S3 credentials"
run env -u AWS_SECRET_ACCESS_KEY "$OPS" expect-error "$URL" auth "AWS_SECRET_ACCESS_KEY is not"
run "$OPS" expect-error "s3:http://someone:hunter2@127.0.0.1:1/$S3_BUCKET" invalid "credentials in the URL"
run env TIDEMARK_S3_PART_SIZE=1K "$OPS" expect-error "$URL" invalid "TIDEMARK_S3_PART_SIZE"

# an HTTP server that is not S3
hport=$(s3_pick_port)
mkdir -p "$S3_DIR.www"
python3 -m http.server "$hport" --bind 127.0.0.1 --directory "$S3_DIR.www" >/dev/null 2>&1 &
HTTP_PID=$!
for _ in $(seq 1 50); do port_free "$hport" || break; sleep 0.1; done
run "$OPS" expect-error "s3:http://127.0.0.1:$hport/$S3_BUCKET/p" invalid "is not an S3 endpoint"
kill "$HTTP_PID"; HTTP_PID=
rm -rf "$S3_DIR.www"

# credentials from a shared credentials file and a named profile
cred=$(mktemp)
printf '[default]\naws_access_key_id = nope\naws_secret_access_key = nope\n[tm]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
    "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" >"$cred"
run env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY AWS_SHARED_CREDENTIALS_FILE="$cred" AWS_PROFILE=tm \
    "$OPS" stress "$URL-credfile" 20 2
rm -f "$cred"
# a session token is signed (x-amz-security-token); RGW without STS ignores it
run env AWS_SESSION_TOKEN=not-checked-by-rgw "$OPS" stress "$URL-token" 10 2

echo "s3_ops.sh: $fails failed step(s)"
[ "$fails" = 0 ]

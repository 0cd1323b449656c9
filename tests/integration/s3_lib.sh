# s3_lib.sh: sourced by the S3 integration tests. s3_start starts a private
# Ceph RGW (../shared/tools/s3-real/start.sh, next to the repository) on a
# free loopback port and exports AWS_* for the driver; s3_stop (run from the
# EXIT trap) stops it. Exit 77 only when RGW truly cannot be installed.
S3_TOOLS=${S3_TOOLS:-$TM_SRC/../shared/tools/s3-real}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A base port whose S3 port, monitor port (+10000) and OSD window (+10001..9)
# are all free.
s3_pick_port() {
    local p i
    for i in $(seq 1 40); do
        p=$(( (20000 + RANDOM % 9000) / 10 * 10 ))
        port_free "$p" && port_free $((p + 10000)) && port_free $((p + 10001)) && { echo "$p"; return 0; }
    done
    return 1
}

s3_start() {
    local tries
    if [ ! -x "$S3_TOOLS/start.sh" ]; then
        echo "skip: $S3_TOOLS/start.sh not found (the shared/ tree must sit beside the repository)" >&2
        exit 77
    fi
    S3_DIR=$(mktemp -d "${TMPDIR:-/tmp}/tm-s3-test.XXXXXX")
    for tries in 1 2 3; do
        S3_PORT=$(s3_pick_port) || { echo "no free port for RGW" >&2; exit 1; }
        export S3_PORT
        if S3_ENV=$("$S3_TOOLS/start.sh" "$S3_DIR" 2>"$S3_DIR.start.log"); then
            eval "$S3_ENV"
            export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET_KEY AWS_REGION=$S3_REGION
            unset AWS_SESSION_TOKEN AWS_PROFILE AWS_DEFAULT_REGION
            rm -f "$S3_DIR.start.log"
            return 0
        fi
        if ! command -v radosgw >/dev/null 2>&1; then
            echo "skip: Ceph RGW cannot be installed here:" >&2
            tail -n 5 "$S3_DIR.start.log" >&2
            exit 77
        fi
        echo "start.sh failed (try $tries):" >&2
        tail -n 20 "$S3_DIR.start.log" >&2
        "$S3_TOOLS/stop.sh" "$S3_DIR" >/dev/null 2>&1 || true
        mkdir -p "$S3_DIR"
    done
    exit 1
}

s3_stop() {
    [ -n "${S3_DIR:-}" ] || return 0
    "$S3_TOOLS/stop.sh" "$S3_DIR" >/dev/null 2>&1 || true
    rm -f "$S3_DIR.start.log"
    rmdir "$S3_DIR" 2>/dev/null || true
}

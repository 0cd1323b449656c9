/* compress.c: one zstd frame per blob, or the bytes as they are (COMP_RAW)
 * when zstd does not make them smaller. Blob = type byte || payload.
 * Frames carry zstd's 4-byte checksum, so a damaged payload is reported as
 * ERR_CORRUPT here rather than only later by the chunk id check.
 * Invariant: comp_unblob never writes past cap, whatever the payload
 * claims: zstd is bounded by dstCapacity, the declared content size is
 * checked against cap first, and the payload must be exactly one frame. */
#include "engine/compress/compress.h"

#include <stdlib.h>
#include <string.h>
#include <zstd.h>
#include <zstd_errors.h>

struct CompCtx {
    int level;         /* 0: store only */
    ZSTD_CCtx *cctx;   /* NULL when level is 0 */
    ZSTD_DCtx *dctx;
};

int comp_ctx_new(int level, CompCtx **out, Err *err)
{
    CompCtx *c = NULL;
    int rc = 0;

    if (level < 0 || level > 19)
        return err_set(err, ERR_INVALID, "compression level %d is out of range (0..19)", level);
    c = calloc(1, sizeof *c);
    if (!c) return err_set(err, ERR_NOMEM, "out of memory creating compression context");
    c->level = level;
    c->dctx = ZSTD_createDCtx();
    if (!c->dctx) { rc = err_set(err, ERR_NOMEM, "out of memory creating zstd context"); goto out; }
    if (level > 0) {
        c->cctx = ZSTD_createCCtx();
        if (!c->cctx) { rc = err_set(err, ERR_NOMEM, "out of memory creating zstd context"); goto out; }
        if (ZSTD_isError(ZSTD_CCtx_setParameter(c->cctx, ZSTD_c_compressionLevel, level)) ||
            ZSTD_isError(ZSTD_CCtx_setParameter(c->cctx, ZSTD_c_contentSizeFlag, 1)) ||
            ZSTD_isError(ZSTD_CCtx_setParameter(c->cctx, ZSTD_c_checksumFlag, 1))) {
            /* uncovered: these values are valid for every zstd >= 1.4 */
            rc = err_set(err, ERR_INVALID, "zstd refused compression level %d", level);
            goto out;
        }
    }
    *out = c;
    c = NULL;
out:
    comp_ctx_free(c);
    return rc;
}

void comp_ctx_free(CompCtx *c)
{
    if (!c) return;
    ZSTD_freeCCtx(c->cctx);
    ZSTD_freeDCtx(c->dctx);
    free(c);
}

size_t comp_bound(size_t len)
{
    size_t z = ZSTD_compressBound(len);   /* >= len */
    return 1 + (z > len ? z : len);
}

int comp_blob(CompCtx *c, const void *in, size_t len, uint8_t *out, size_t cap, size_t *out_len,
              Err *err)
{
    size_t z;

    if (len > ZSTD_MAX_INPUT_SIZE)
        return err_set(err, ERR_INVALID, "cannot compress %zu bytes: too large", len);
    if (cap < comp_bound(len))
        return err_set(err, ERR_INVALID, "compression output buffer of %zu bytes is below the "
                       "bound of %zu", cap, comp_bound(len));
    if (c->cctx && len > 1) {
        /* Give zstd at most len-1 bytes: if the frame does not fit, it
         * would not be smaller, and the blob is stored as is. */
        z = ZSTD_compress2(c->cctx, out + 1, len - 1, in, len);
        if (!ZSTD_isError(z)) {
            out[0] = COMP_ZSTD;
            *out_len = 1 + z;
            return 0;
        }
        if (ZSTD_getErrorCode(z) != ZSTD_error_dstSize_tooSmall) {
            /* uncovered: only an allocation failure inside zstd lands here */
            return err_set(err, ZSTD_getErrorCode(z) == ZSTD_error_memory_allocation ? ERR_NOMEM
                                                                                     : ERR_CORRUPT,
                           "zstd compression failed: %s", ZSTD_getErrorName(z));
        }
    }
    out[0] = COMP_RAW;
    if (len) memcpy(out + 1, in, len);
    *out_len = 1 + len;
    return 0;
}

/* Content size of the single zstd frame in p[0..n). */
static int frame_size(const uint8_t *p, size_t n, size_t *out, Err *err)
{
    unsigned long long fs = ZSTD_getFrameContentSize(p, n);
    if (fs == ZSTD_CONTENTSIZE_ERROR)
        return err_set(err, ERR_CORRUPT, "compressed blob: not a zstd frame");
    if (fs == ZSTD_CONTENTSIZE_UNKNOWN)
        return err_set(err, ERR_CORRUPT, "compressed blob: zstd frame without content size");
    if (fs > SIZE_MAX) return err_set(err, ERR_CORRUPT, "compressed blob: content size %llu too large", fs);
    *out = (size_t)fs;
    return 0;
}

int comp_blob_size(const uint8_t *in, size_t len, size_t *out_size, Err *err)
{
    if (len < 1) return err_set(err, ERR_CORRUPT, "compressed blob is empty (no type byte)");
    switch (in[0]) {
    case COMP_RAW:
        *out_size = len - 1;
        return 0;
    case COMP_ZSTD:
        return frame_size(in + 1, len - 1, out_size, err);
    default:
        return err_set(err, ERR_CORRUPT, "compressed blob: unknown type %u", in[0]);
    }
}

int comp_unblob(CompCtx *c, const uint8_t *in, size_t len, uint8_t *out, size_t cap,
                size_t *out_len, Err *err)
{
    size_t want = 0, fsz, got;
    int rc = comp_blob_size(in, len, &want, err);
    if (rc) return rc;
    if (want > cap)
        return err_set(err, ERR_INVALID, "decompression buffer of %zu bytes is too small for %zu",
                       cap, want);
    if (in[0] == COMP_RAW) {
        if (want) memcpy(out, in + 1, want);
        *out_len = want;
        return 0;
    }
    /* Exactly one frame: a second one would decompress past the declared size. */
    fsz = ZSTD_findFrameCompressedSize(in + 1, len - 1);
    if (ZSTD_isError(fsz))
        return err_set(err, ERR_CORRUPT, "compressed blob: %s", ZSTD_getErrorName(fsz));
    if (fsz != len - 1)
        return err_set(err, ERR_CORRUPT, "compressed blob: %zu bytes after the zstd frame",
                       len - 1 - fsz);
    got = ZSTD_decompressDCtx(c->dctx, out, want, in + 1, len - 1);
    if (ZSTD_isError(got))
        return err_set(err, ERR_CORRUPT, "zstd decompression failed: %s", ZSTD_getErrorName(got));
    if (got != want)   /* uncovered: zstd checks the content size itself */
        return err_set(err, ERR_CORRUPT, "compressed blob: %zu bytes instead of %zu", got, want);
    *out_len = got;
    return 0;
}

/* db_infile.c: LOAD DATA LOCAL INFILE fed straight from the repository:
 * libmariadb's local-infile callbacks pull one chunk at a time through
 * repo_blob_get (memory: one chunk), no temp file.
 * Invariant: the handler serves only the stream it was armed with; any
 * file name the server asks for gets that stream, never a local file. */
#include <mysql.h>
#include <stdlib.h>
#include <string.h>

#include "restore/db/db_int.h"

static int inf_init(void **ptr, const char *filename, void *userdata)
{
    (void)filename;
    *ptr = userdata;
    return 0;
}

static int inf_read(void *ptr, char *buf, unsigned int buf_len)
{
    DbInfile *f = ptr;

    while (f->off >= f->blob.len) {
        if (f->next >= f->ref.nchunks) return 0;   /* end of stream */
        buf_reset(&f->blob);
        f->off = 0;
        if (repo_blob_get(f->r, &f->ref.chunks[f->next], &f->blob, &f->err)) {
            f->failed = true;
            return -1;
        }
        f->next++;
        if (f->prog) {
            uint64_t rows = 0;
            const uint8_t *p = f->blob.data, *e = p + f->blob.len;
            while ((p = memchr(p, '\n', (size_t)(e - p)))) {
                rows++;
                p++;
            }
            progress_add(f->prog, f->blob.len, rows);
        }
    }
    size_t n = f->blob.len - f->off;
    if (n > buf_len) n = buf_len;
    memcpy(buf, f->blob.data + f->off, n);
    f->off += n;
    return (int)n;
}

static void inf_end(void *ptr)
{
    (void)ptr;
}

static int inf_error(void *ptr, char *msg, unsigned int len)
{
    DbInfile *f = ptr;
    snprintf(msg, len, "%s", f->failed ? f->err.msg : "local infile error");
    return 2000;   /* CR_UNKNOWN_ERROR */
}

int db_infile_load(MYSQL *m, Repo *r, const json_t *part, const char *load_sql, Progress *prog,
                   Err *err)
{
    DbInfile f;
    int rc;

    memset(&f, 0, sizeof f);
    f.r = r;
    f.prog = prog;
    buf_init(&f.blob, 128u << 20);
    if ((rc = repo_streamref_from_json(part, &f.ref, err))) goto out;
    mysql_set_local_infile_handler(m, inf_init, inf_read, inf_end, inf_error, &f);
    if (mysql_real_query(m, load_sql, strlen(load_sql))) {
        if (f.failed) {
            *err = f.err;
            rc = err_wrap(err, "read rows from the repository");
        } else {
            rc = mdb_err(m, err, "LOAD DATA");
        }
    } else if (f.next < f.ref.nchunks || f.off < f.blob.len) {
        rc = err_set(err, ERR_DB, "LOAD DATA ended before the end of the rows stream");
    }
    mysql_set_local_infile_default(m);
out:
    repo_streamref_free(&f.ref);
    buf_free(&f.blob);
    return rc;
}

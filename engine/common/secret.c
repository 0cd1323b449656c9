/* secret.c: the one reader of secret files (see secret.h).
 * Invariant: the content lives only in sodium_malloc'd memory (guarded,
 * wiped on free); the read buffer is that memory, never the stack. */
#include "engine/common/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/common/log.h"

void secret_free(char *s)
{
    if (s) sodium_free(s);   /* wipes */
}

char *secret_dup(const char *s)
{
    size_t n = strlen(s);
    char *p;
    if (sodium_init() < 0) return NULL;
    p = sodium_malloc(n + 1);
    if (p) memcpy(p, s, n + 1);
    return p;
}

int secret_file_read(const char *path, const char *what, char **out, size_t *out_len, Err *err)
{
    struct stat st;
    char *s = NULL;
    size_t n = 0;
    int fd = -1, rc = 0;

    *out = NULL;
    if (sodium_init() < 0) return err_set(err, ERR_IO, "libsodium failed to initialise");
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return err_set(err, ERR_INVALID, "%s %s: %s", what, path, strerror(errno));
    if (fstat(fd, &st) == 0 && (st.st_mode & 077))
        log_warn("%s %s is readable by others (mode %03o); chmod 600 it", what, path,
                 (unsigned)(st.st_mode & 0777));
    /* one byte more than allowed, to see a file that is too long */
    if (!(s = sodium_malloc(SECRET_MAX + 2))) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    while (n < SECRET_MAX + 1) {
        ssize_t r = read(fd, s + n, SECRET_MAX + 1 - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            rc = err_sys(err, errno, "read %s %s", what, path);
            goto out;
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    if (n > SECRET_MAX) {
        rc = err_set(err, ERR_INVALID, "%s %s is longer than %d bytes", what, path, SECRET_MAX);
        goto out;
    }
    if (n && s[n - 1] == '\n') {
        n--;
        if (n && s[n - 1] == '\r') n--;
    }
    s[n] = '\0';
    if (n == 0) {
        rc = err_set(err, ERR_INVALID, "%s %s is empty", what, path);
        goto out;
    }
    *out = s;
    s = NULL;
    if (out_len) *out_len = n;
out:
    secret_free(s);
    if (fd >= 0) close(fd);
    return rc;
}

/* dol_files.c: where Dolibarr keeps a document (per entity) and the md5 of
 * a file, the pure parts of the documents checks.
 * Invariant: a path built here never leaves data_root (no absolute part, no
 * ".." component), whatever the database holds. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "restore/dolibarr/rst_dolibarr.h"

int rst_dol_entity_root(const char *data_root, long entity, char *out, size_t cap, Err *err)
{
    int n;
    size_t len = strlen(data_root);

    while (len > 1 && data_root[len - 1] == '/') len--;   /* "docs/" and "docs" alike */
    if (entity > 1)
        n = snprintf(out, cap, "%.*s/%ld", (int)len, data_root, entity);
    else
        n = snprintf(out, cap, "%.*s", (int)len, data_root);
    if (n < 0 || (size_t)n >= cap)
        return err_set(err, ERR_INVALID, "documents root of entity %ld under %s: path too long",
                       entity, data_root);
    return 0;
}

/* Does rel (a relative path) hold a ".." component? */
static bool has_dotdot(const char *rel)
{
    const char *p = rel;

    while (*p) {
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.') return true;
        p += n;
        while (*p == '/') p++;
    }
    return false;
}

/* Does filepath start with the component "N/" (or equal "N") for entity? */
static bool starts_with_entity(const char *filepath, long entity)
{
    char pre[32];
    int n = snprintf(pre, sizeof pre, "%ld", entity);

    return strncmp(filepath, pre, (size_t)n) == 0 &&
           (filepath[n] == '/' || filepath[n] == '\0');
}

int rst_dol_ecm_path(const char *data_root, long entity, const char *filepath,
                     const char *filename, char *out, size_t cap, Err *err)
{
    char root[4096];
    int rc, n;

    if (!filename || !*filename || strchr(filename, '/') || !strcmp(filename, "..") ||
        !strcmp(filename, "."))
        return err_set(err, ERR_INVALID, "filename '%s' is not a file name",
                       filename ? filename : "");
    if (!filepath) filepath = "";
    if (filepath[0] == '/' || has_dotdot(filepath))
        return err_set(err, ERR_INVALID, "filepath '%s' leaves the documents directory", filepath);
    /* Dolibarr writes filepath relative to DOL_DATA_ROOT, entity prefix
     * included; a row without it is relative to its entity's root */
    if (entity > 1 && !starts_with_entity(filepath, entity))
        rc = rst_dol_entity_root(data_root, entity, root, sizeof root, err);
    else
        rc = rst_dol_entity_root(data_root, 1, root, sizeof root, err);
    if (rc) return rc;
    if (*filepath)
        n = snprintf(out, cap, "%s/%s/%s", root, filepath, filename);
    else
        n = snprintf(out, cap, "%s/%s", root, filename);
    if (n < 0 || (size_t)n >= cap)
        return err_set(err, ERR_INVALID, "path of %s/%s too long", filepath, filename);
    return 0;
}

int rst_dol_file_md5(const char *path, char hex[RST_DOL_MD5_HEX + 1], uint64_t *out_size,
                     Err *err)
{
    static const char digits[] = "0123456789abcdef";
    unsigned char buf[64 * 1024], md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    EVP_MD_CTX *ctx = NULL;
    uint64_t size = 0;
    struct stat st;
    int fd = -1, rc = 0;
    ssize_t got;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) return err_sys(err, errno, "open %s", path);
    if (fstat(fd, &st)) {
        rc = err_sys(err, errno, "stat %s", path);
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = err_set(err, ERR_INVALID, "%s is not a regular file", path);
        goto out;
    }
    ctx = EVP_MD_CTX_new();
    if (!ctx || !EVP_DigestInit_ex(ctx, EVP_md5(), NULL)) {
        rc = err_set(err, ERR_NOMEM, "md5 of %s: libcrypto could not start a digest", path);
        goto out;
    }
    while ((got = read(fd, buf, sizeof buf)) != 0) {
        if (got < 0) {
            if (errno == EINTR) continue;
            rc = err_sys(err, errno, "read %s", path);
            goto out;
        }
        EVP_DigestUpdate(ctx, buf, (size_t)got);
        size += (uint64_t)got;
    }
    EVP_DigestFinal_ex(ctx, md, &mdlen);
    for (unsigned i = 0; i < 16 && i < mdlen; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[RST_DOL_MD5_HEX] = '\0';
    if (out_size) *out_size = size;
out:
    EVP_MD_CTX_free(ctx);
    if (fd >= 0) close(fd);
    return rc;
}

bool rst_dol_md5_valid(const char *label)
{
    if (!label || strlen(label) != RST_DOL_MD5_HEX) return false;
    for (size_t i = 0; i < RST_DOL_MD5_HEX; i++)
        if (!isxdigit((unsigned char)label[i])) return false;
    return true;
}

bool rst_dol_md5_equal(const char *hex, const char *label)
{
    if (!rst_dol_md5_valid(hex) || !rst_dol_md5_valid(label)) return false;
    for (size_t i = 0; i < RST_DOL_MD5_HEX; i++)
        if (tolower((unsigned char)hex[i]) != tolower((unsigned char)label[i])) return false;
    return true;
}

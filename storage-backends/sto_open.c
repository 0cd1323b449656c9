/* sto_open.c: the only place that knows every driver: turns a repository
 * URL into an open Sto. */
#include <string.h>

#include "storage-backends/local/local.h"
#include "storage-backends/s3/s3.h"
#include "storage-backends/storage.h"

int sto_open_url(const char *url, unsigned flags, Sto **out, Err *err)
{
    return sto_open_url_with(url, flags, NULL, out, err);
}

int sto_open_url_with(const char *url, unsigned flags, const StoS3Options *s3, Sto **out, Err *err)
{
    if (!url || !*url)
        return err_set(err, ERR_INVALID, "no repository given (set --repo, TIDEMARK_REPOSITORY or repository= in the config)");
    if (strncmp(url, "s3:", 3) == 0) return sto_s3_open(url, flags, s3, out, err);
    if (strncmp(url, "local:", 6) == 0) url += 6;
    if (url[0] != '/')
        return err_set(err, ERR_INVALID, "repository '%s': a local repository needs an absolute path", url);
    return sto_local_open(url, flags, out, err);
}

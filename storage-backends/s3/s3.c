/* s3.c: placeholder until the S3 driver lands (issue 3): refuses clearly. */
#include "storage-backends/s3/s3.h"

int sto_s3_open_url(const char *url, unsigned flags, Sto **out, Err *err)
{
    (void)flags;
    (void)out;
    return err_set(err, ERR_UNSUPPORTED, "repository '%s': the S3 driver is not built yet", url);
}

/* local.h: the local-filesystem storage driver. */
#ifndef TM_STORAGE_LOCAL_H
#define TM_STORAGE_LOCAL_H

#include "storage-backends/storage.h"

/* Open (or with STO_OPEN_CREATE create, mode 0700) the directory root.
 * Objects are files under root, mode 0600; keys with a directory part
 * create sub-directories (0700) on demand. */
int sto_local_open(const char *root, unsigned flags, Sto **out, Err *err);

#endif

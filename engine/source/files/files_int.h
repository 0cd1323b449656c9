/* files_int.h: helpers shared inside engine/source/files (not for other
 * modules): metadata from libarchive, content reading with holes. */
#ifndef TM_SOURCE_FILES_FILES_INT_H
#define TM_SOURCE_FILES_FILES_INT_H

#include <archive.h>
#include <sys/stat.h>

#include "engine/common/progress.h"
#include "engine/source/files/src_files.h"

#define FILES_IOBUF_SIZE ((size_t)4 << 20)

/* Fill e's metadata (type, mode, owner, times, link target, xattrs, ACLs,
 * fflags) for the object at abs with lstat result st, using the
 * archive_read_disk handle rd. e->path must be set by the caller. Returns
 * ERR_UNSUPPORTED for sockets (not restorable; the caller skips them). */
int files_meta_fill(struct archive *rd, const char *abs, const struct stat *st, SrcFilesEntry *e,
                    Err *err);

/* Read the regular file open on fd (lstat result st) into a new stream;
 * sets e->data, e->size, e->sparse/e->nsparse. iobuf has FILES_IOBUF_SIZE
 * bytes. *bytes_read gets the bytes read from disk. */
int files_read_content(Repo *r, int fd, const struct stat *st, uint8_t *iobuf, Progress *prog,
                       SrcFilesEntry *e, uint64_t *bytes_read, Err *err);

#endif

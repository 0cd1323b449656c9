/* binlog_conn_probe.c: the binlog follower's connection (binlog_conn_open,
 * the one the follower uses) opened from an instance's settings as
 * `binlog follow` builds them (inst_follow_options: socket/host, option
 * file, TLS, as for the dump),
 * then a non-blocking binlog dump from the server's first file read to its
 * end. Usage: binlog_conn_probe CONFIG INSTANCE. Prints
 * "connected IDENTITY events N gtids M"; on failure the error on stderr,
 * exit 4 for ERR_NET, 1 otherwise. */
#include <stdio.h>
#include <stdlib.h>

#include "engine/common/conf.h"
#include "engine/source/binlog/binlog_int.h"
#include "engine/instance/inst.h"

int main(int argc, char **argv)
{
    Conf *conf = NULL;
    Inst *in = NULL;
    BinlogFollowOpts fo;
    BinlogConn *c = NULL;
    BinlogServerFile *files = NULL;
    size_t nfiles = 0;
    uint64_t events = 0, gtids = 0;
    Err err;
    int rc;

    if (argc != 3) {
        fprintf(stderr, "usage: binlog_conn_probe CONFIG INSTANCE\n");
        return 2;
    }
    err_clear(&err);
    if ((rc = conf_load(argv[1], false, &conf, &err)) ||
        (rc = inst_open(conf, argv[2], &in, &err)) ||
        (rc = inst_follow_options(in, &fo, &err)) ||
        (rc = binlog_conn_open(&fo.db, 30, &c, &err)) ||
        (rc = binlog_conn_files(c, &files, &nfiles, &err)))
        goto out;
    if (nfiles == 0) {
        rc = err_set(&err, ERR_DB, "the server lists no binlog file");
        goto out;
    }
    if ((rc = binlog_conn_dump(c, files[0].name, 4, NULL, 4000000001u, 1000, true, &err)))
        goto out;
    for (;;) {
        const uint8_t *ev;
        size_t len;
        if ((rc = binlog_conn_fetch(c, &ev, &len, &err))) goto out;
        if (!ev) break;
        events++;
        if (ev[MDB_HDR_TYPE_OFF] == MDB_EV_GTID) gtids++;
    }
    printf("connected %s events %llu gtids %llu\n", binlog_conn_identity(c),
           (unsigned long long)events, (unsigned long long)gtids);
out:
    if (rc) fprintf(stderr, "binlog_conn_probe: %s\n", err.msg);
    free(files);
    binlog_conn_close(c);
    inst_free(in);
    conf_free(conf);
    return rc == 0 ? 0 : rc == ERR_NET ? 4 : 1;
}

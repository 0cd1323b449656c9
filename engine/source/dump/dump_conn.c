/* dump_conn.c: the session settings of every dump and verify connection
 * (connections themselves: mdb_connect, engine/mariadb).
 * Invariant: values arrive in their column's own charset, untouched. */

#include "engine/source/dump/src_dump.h"

int src_dump_session_setup(MYSQL *m, Err *err)
{
    /* binary: values arrive in their column's own charset, untouched;
     * time_zone: TIMESTAMP values independent of the server's zone;
     * sql_mode '': SHOW CREATE and SELECT in their plain form */
    if (mdb_exec(m,
                    "SET NAMES binary, time_zone = '+00:00', sql_mode = '', "
                    "SESSION net_write_timeout = 3600, SESSION net_read_timeout = 3600, "
                    "SESSION sql_quote_show_create = 1",
                    err))
        return err_wrap(err, "set up dump session");
    return 0;
}

/* dump_xa.c: the XA transactions prepared at the dump's point. Their
 * changes are in no snapshot (a prepared transaction is invisible to the
 * dump's reads) and their XA COMMIT may come after the point, so a backup
 * names them (a point-in-time restore past such a COMMIT replays it only
 * when the archive holds the XA PREPARE, restore/pitr/pitr_range.c).
 * Invariant: read-only, and a server that will not answer leaves the list
 * unknown (NULL), never empty. */
#include <mysql.h>
#include <stdlib.h>

#include "engine/source/dump/dump_int.h"

int dump_prepared_xa(MYSQL *m, json_t **out, Err *err)
{
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;
    json_t *list = NULL;
    int rc = 0;

    *out = NULL;
    if (mysql_query(m, "XA RECOVER FORMAT='SQL'") || !(res = mysql_store_result(m)))
        return 0;   /* a server or account that cannot list them: unknown */
    if (!(list = json_array())) {
        rc = err_set(err, ERR_NOMEM, "out of memory");
        goto out;
    }
    while ((row = mysql_fetch_row(res))) {
        if (mysql_num_fields(res) < 4 || !row[3]) continue;
        if (json_array_append_new(list, json_string(row[3]))) {
            rc = err_set(err, ERR_NOMEM, "out of memory");
            goto out;
        }
    }
    *out = list;
    list = NULL;
out:
    json_decref(list);
    mysql_free_result(res);
    return rc;
}

/* conf_keys.c: every configuration key tidemark knows. One line per key;
 * modules add theirs here (keep conf/tidemark.conf.sample in step). */
#include "engine/common/conf.h"

const ConfKey conf_keys[] = {
    /* [repository] */
    {CONF_SEC_REPOSITORY, "url", CONF_STR, "TIDEMARK_REPOSITORY", NULL,
     "repository location: /abs/path, local:/abs/path or s3:https://host/bucket/prefix"},
    {CONF_SEC_REPOSITORY, "password_file", CONF_PATH, "TIDEMARK_PASSWORD_FILE", NULL,
     "file holding the repository passphrase (mode 0600)"},
    {CONF_SEC_REPOSITORY, "password_command", CONF_STR, "TIDEMARK_PASSWORD_COMMAND", NULL,
     "command whose standard output is the passphrase"},
    {CONF_SEC_REPOSITORY, "compression_level", CONF_UINT, "TIDEMARK_COMPRESSION_LEVEL", "3",
     "zstd level 1..19, 0 stores without compression"},
    {CONF_SEC_REPOSITORY, "workers", CONF_UINT, "TIDEMARK_WORKERS", "2",
     "compress+encrypt threads"},
    {CONF_SEC_REPOSITORY, "pack_size", CONF_SIZE, "TIDEMARK_PACK_SIZE", "16M",
     "target size of pack objects"},
    {CONF_SEC_REPOSITORY, "state_dir", CONF_PATH, "TIDEMARK_STATE_DIR", "/var/lib/tidemark",
     "local state: spool, follower status"},

    /* [instance NAME]: the Dolibarr instance's files */
    {CONF_SEC_INSTANCE, "documents_dir", CONF_PATH, NULL, NULL,
     "Dolibarr's DOL_DATA_ROOT ($dolibarr_main_data_root)"},
    {CONF_SEC_INSTANCE, "conf_php", CONF_PATH, NULL, NULL, "Dolibarr's conf.php"},
    {CONF_SEC_INSTANCE, "custom_dir", CONF_PATH, NULL, NULL, "htdocs/custom (add-on modules)"},
    {CONF_SEC_INSTANCE, "extra_paths", CONF_LIST, NULL, NULL, "more paths to back up with the instance"},
    /* [instance NAME]: the binlog follower */
    {CONF_SEC_INSTANCE, "binlog_server_id", CONF_UINT, NULL, NULL,
     "replica server_id of the follower, unique among the server's replicas (default: derived from the instance name)"},
    {CONF_SEC_INSTANCE, "binlog_flush_seconds", CONF_UINT, NULL, "5",
     "seal a binlog segment at least this often (seconds)"},
    {CONF_SEC_INSTANCE, "binlog_flush_bytes", CONF_SIZE, NULL, "16M",
     "or when this many binlog bytes are open"},
    {CONF_SEC_INSTANCE, "spool_dir", CONF_PATH, NULL, NULL,
     "local spool of sealed segments before upload (default: state_dir/spool)"},
    {CONF_SEC_INSTANCE, "spool_max", CONF_SIZE, NULL, "1G",
     "spool size that raises the alarm and pauses reading"},
    {0, NULL, 0, NULL, NULL, NULL},
};

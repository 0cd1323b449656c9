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
    {0, NULL, 0, NULL, NULL, NULL},
};

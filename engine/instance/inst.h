/* inst.h: an instance as the config describes it: every option the instance
 * needs, built once from the config (repository, S3, database connection,
 * dump, follower, spool and state directories), the repository opened with
 * its passphrase, the instance backup (database dump + file trees -> one
 * snapshot), the recoverable window and follower state, and the connection
 * to a restore target, and Dolibarr's conf.php read (what the config leaves
 * unset comes from it) and rewritten for a restored copy. What the CLI, the
 * daemon and the drills share.
 *
 * Invariants a user of this API relies on:
 *  1. An Inst never changes the process environment (no setenv): S3
 *     settings reach the driver as StoS3Options; an environment variable is
 *     still read where the config leaves a setting unset.
 *  2. Secrets (passphrase, database passwords) are read with
 *     secret_file_read into sodium_malloc'd memory held by the Inst (or
 *     returned to the caller) and wiped by inst_free; never from argv.
 *  3. inst_backup puts the snapshot only when the dump and every files item
 *     succeeded. */
#ifndef TM_INSTANCE_INST_H
#define TM_INSTANCE_INST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/common/conf.h"
#include "engine/common/err.h"
#include "engine/common/id.h"
#include "engine/repo/repo.h"
#include "engine/source/binlog/src_binlog.h"
#include "engine/source/dump/src_dump.h"
#include "engine/source/files/src_files.h"
#include "storage-backends/s3/s3.h"

typedef struct Inst Inst;

/* ---- options ------------------------------------------------------------ */

/* Is name an instance of the config? 0 when it is, when name is NULL or
 * when the config declares no instance (the environment only); else
 * ERR_INVALID "instance 'x' is not in the config (its instances: a, b)". */
int inst_check_name(const Conf *conf, const char *name, Err *err);
/* The config's instance names ([instance NAME] sections), *out borrowed
 * from conf; the count. */
size_t inst_names(const Conf *conf, const char *const **out);

/* The instance a command works on: local (its own --instance), else global
 * (the global --instance), else the config's only instance. NULL with
 * ERR_INVALID "which instance? give --instance NAME" when none can be
 * chosen. Borrowed string (one of the arguments, or from conf). */
const char *inst_pick(const Conf *conf, const char *local, const char *global, Err *err);

/* Build the options of instance name (NULL: repository-only use, for
 * commands that work on no instance) from conf, which is borrowed and must
 * outlive the Inst. When the config declares instances, name must be one of
 * them: ERR_INVALID "instance 'x' is not in the config (its instances: a,
 * b)". ERR_INVALID for an out-of-range repository setting (compression_level,
 * workers, pack_size). The database connection is built on first use
 * (inst_db_conn), so a command that needs none does not need it set. */
int inst_open(const Conf *conf, const char *name, Inst **out, Err *err);
/* Wipe the secrets and free (accepts NULL). */
void inst_free(Inst *in);

/* Borrowed accessors, valid while in lives. inst_name may be NULL. */
const char *inst_name(const Inst *in);
const Conf *inst_conf(const Inst *in);
const RepoOptions *inst_repo_options(const Inst *in);
const StoS3Options *inst_s3_options(const Inst *in);
/* The repository URL (url / TIDEMARK_REPOSITORY / --repo), or NULL. */
const char *inst_repo_url(const Inst *in);
/* state_dir (default /var/lib/tidemark), NULL when set empty. */
const char *inst_state_dir(const Inst *in);
/* The follower's spool directory (binlog follow, binlog status and the
 * archive-end proof share it): spool_dir of the instance (or
 * TIDEMARK_SPOOL_DIR while the config has none), else <state_dir>/spool,
 * else /var/lib/tidemark/spool. "" for an Inst without an instance. */
const char *inst_spool_dir(const Inst *in);

/* The instance's database connection (db_host, db_port, db_socket, db_user,
 * db_password_file, db_password, db_defaults_file, db_defaults_group,
 * db_tls, db_tls_verify, db_tls_ca, db_tls_cert, db_tls_key; what they leave
 * unset from conf_php: the address ($dolibarr_main_db_host, _port) when no
 * db_host, db_socket or db_defaults_file is set, the account (user and its
 * password, decoded) when no db_user is; nothing with db_defaults_file), built on the
 * first call and kept: *out is borrowed, valid while in lives; its password
 * read from db_password_file is held by in. ERR_INVALID when none is
 * configured ("instance X: no database connection configured ..."), for a
 * bad db_port and for a missing or empty db_password_file. */
int inst_db_conn(Inst *in, const MdbConn **out, Err *err);

/* load_threads of the instance (default 2). */
int inst_load_threads(const Inst *in, unsigned *out, Err *err);

/* The follower's settings: o is zeroed, then instance, db (db_host,
 * db_port, db_socket, db_user, db_password_file / db_password), server_id
 * (binlog_server_id, or one derived from the instance name), flush_seconds,
 * flush_bytes, compact_entries, spool_dir and spool_max are filled; strings
 * borrowed from in. The caller sets start, until_idle and stop.
 * ERR_INVALID for a bad value or when neither db_socket nor db_host is set. */
int inst_follow_options(Inst *in, BinlogFollowOpts *o, Err *err);

/* ---- repository ------------------------------------------------------------ */

/* Ask for a passphrase on the terminal without echo (the CLI's; a daemon
 * passes NULL and needs one of the other sources). prompt: the question;
 * buf: cap bytes; *out_len: the length read, without the newline. */
typedef int (*InstPromptFn)(const char *prompt, char *buf, size_t cap, size_t *out_len, Err *err);

/* The repository passphrase: password_file (TIDEMARK_PASSWORD_FILE),
 * password_command (TIDEMARK_PASSWORD_COMMAND), TIDEMARK_PASSWORD, else
 * prompt (ERR_INVALID "no passphrase: ..." when prompt is NULL or fails to
 * reach a terminal). *out: sodium_malloc'd, free with secret_free. */
int inst_passphrase_read(const Inst *in, InstPromptFn prompt, char **out, size_t *out_len,
                         Err *err);
/* A new passphrase (init, key add, key passwd): TIDEMARK_NEW_PASSWORD_FILE,
 * else asked twice through prompt. Free with secret_free. */
int inst_new_passphrase_read(InstPromptFn prompt, char **out, size_t *out_len, Err *err);

/* Open the configured repository with the passphrase. No lock is taken: the
 * caller decides. *out owned by the caller (repo_close / repo_free). */
int inst_repo_open(Inst *in, InstPromptFn prompt, Repo **out, Err *err);
/* Create the configured repository: the passphrase of the config when one
 * is configured (file, command, TIDEMARK_PASSWORD), else a new one. */
int inst_repo_init(Inst *in, InstPromptFn prompt, Err *err);

/* ---- backup ---------------------------------------------------------------- */

/* A backup's start on an open repository: the shared lock, then the packs an
 * interrupted backup left are indexed (repo_adopt_packs); *out_adopted:
 * how many. */
int inst_backup_begin(Repo *r, uint64_t *out_adopted, Err *err);

typedef enum InstBackupEvent {
    INST_BACKUP_ADOPTED,   /* packs of an interrupted backup indexed (adopted > 0) */
    INST_BACKUP_DB,        /* the dump is done (db) */
    INST_BACKUP_FILES,     /* one file tree is done (path, files) */
} InstBackupEvent;

typedef struct InstBackupItem {
    InstBackupEvent kind;
    uint64_t adopted;
    const SrcDumpStats *db;
    const char *path;              /* the files item's name (absolute root of the tree) */
    const SrcFilesStats *files;
} InstBackupItem;

/* Called as each part ends (pointers valid during the call only). */
typedef void (*InstBackupFn)(void *ctx, const InstBackupItem *it);

/* The tag whose snapshots hold app_dir (the code a rollback brings back). */
#define INST_TAG_PRE_UPGRADE "pre-upgrade"

typedef struct InstBackupOptions {
    const char *const *tags;       /* snapshot tags */
    size_t ntags;
    bool with_files;               /* documents_dir, conf_php, custom_dir, extra_paths */
    bool with_grants;              /* users and grants with the dump */
    bool with_app;                 /* app_dir too (also when a tag is INST_TAG_PRE_UPGRADE) */
    unsigned threads;              /* dump connections; 0 = dump_threads */
    bool force_lock;               /* take the point under the global lock */
    bool progress;                 /* progress lines on stderr */
    bool skip_unreadable;          /* files: warn and skip unreadable files */
    InstBackupFn on_item;          /* may be NULL */
    void *ctx;
} InstBackupOptions;

typedef struct InstBackupResult {
    char snapshot[ID_HEX_LEN + 1]; /* the new snapshot's id (hex) */
    SrcDumpStats db;
    json_t *binlog;                /* the dump's binlog coordinates (new reference) or NULL */
    json_t *prepared_xa;           /* XA transactions prepared at the point (array, new reference) */
    RepoStats repo;                /* after the snapshot was put */
} InstBackupResult;

/* One snapshot of the instance into r (open, no lock held): the shared lock
 * and the interrupted backup's packs (inst_backup_begin), a consistent dump
 * of its databases (databases, dump_threads, db_lock_wait_timeout,
 * dump_part_size), then with with_files each configured file tree (and
 * app_dir with with_app or the tag pre-upgrade) between two binlog points,
 * then the snapshot (the commit point). The manifest records the Dolibarr
 * version constants and the points ("dolibarr", "files_window":
 * docs/FORMAT.md). The caller closes r (repo_close) afterwards.
 * On error nothing is committed and *out holds nothing to free. Free a
 * result with inst_backup_result_free. */
int inst_backup(Inst *in, Repo *r, const InstBackupOptions *o, InstBackupResult *out, Err *err);
void inst_backup_result_free(InstBackupResult *res);

/* One snapshot of the instance holding one files item per path (named by
 * its absolute path, or name with exactly one path), each with the same
 * item of the instance's newest snapshot as its files cache; o's tags,
 * progress, skip_unreadable and on_item apply (the dump's do not). The
 * shared lock and the interrupted backup's packs as inst_backup. ERR_INVALID
 * for no path, name with several, or two paths with the same last
 * component (they would restore to the same place), before anything is
 * written (inst_backup_files_check says so alone). Only snapshot and repo of
 * *out are set. */
int inst_backup_files_check(const char *const *paths, size_t npaths, const char *name, Err *err);
int inst_backup_files(Inst *in, Repo *r, const InstBackupOptions *o, const char *const *paths,
                      size_t npaths, const char *name, InstBackupResult *out, Err *err);

/* ---- what a snapshot records about the instance (inst_backmeta.c) ---------- */

/* The Dolibarr version constants a snapshot recorded (manifest "dolibarr",
 * docs/FORMAT.md). Strings borrowed from the manifest; "" for a constant
 * that was absent; database and prefix may be NULL. */
typedef struct InstDolVersions {
    const char *database, *prefix;
    const char *first_install, *last_install, *last_upgrade;
} InstDolVersions;

/* Fill *out from manifest; ERR_NOTFOUND (no Err: the caller names the
 * snapshot) when the snapshot recorded none (made before they were, or not
 * a Dolibarr database). Pure. */
int inst_snapshot_dol_versions(const json_t *manifest, InstDolVersions *out);

/* ---- binlog archive status ------------------------------------------------ */

#define INST_ALARMS_MAX 4

typedef struct InstBinlogWindow {
    char from_utc[32], to_utc[32];     /* "YYYY-MM-DD HH:MM:SS" */
    int64_t from, to;                  /* seconds since the epoch */
    char from_position[BINLOG_FILE_MAX];
    uint64_t from_start;
    char from_gtid[1100];
    char to_position[BINLOG_FILE_MAX];
    uint64_t to_end;
    char to_gtid[1100];
} InstBinlogWindow;

typedef struct InstBinlogStatus {
    const char *instance;          /* borrowed from the Inst */
    bool running;                  /* the follower process runs */
    bool connected;                /* running and connected to its server now */
    bool reaches;                  /* not running, or connected within the alarm time */
    size_t segments;
    bool has_window;               /* false: nothing archived yet */
    InstBinlogWindow window;       /* the recoverable window: after the last break */
    char last_gtid[1100];          /* GTID state after the last segment ("" none) */
    int64_t last_time;             /* last archived event (0 none) */
    bool is_gap;                   /* the chain is broken (or the follower says so) */
    const char *problem;           /* the first alarm, or NULL when all is well */
    size_t nalarms;
    const char *alarms[INST_ALARMS_MAX];   /* every alarm, borrowed from this struct */
    json_t *follower;              /* its status.json or JSON null (owned) */
    size_t catalog_objects, catalog_compacts;
    uint64_t compacted_to;
    char gap[1400], down[1600], cut[2800];   /* texts the alarms point to */
} InstBinlogStatus;

/* The follower state and the recoverable window of the instance: the
 * follower's status file in the spool, the catalog in r (open; no lock
 * needed). Fills *out (free with inst_binlog_status_free) or returns the
 * error of loading the catalog. */
int inst_binlog_status(Inst *in, Repo *r, InstBinlogStatus *out, Err *err);
/* The status as one JSON object ({"instance", "running", "connected",
 * "segments", "window", "alarm", "lag_seconds", "lag_bytes", "spool_bytes",
 * "spool_max", "last_archived_gtid", "last_archived_time", "alarms",
 * "catalog", "follower"}): a new reference. */
json_t *inst_binlog_status_json(const InstBinlogStatus *st);
/* What the status means for monitoring: 0 when all is well; ERR_GAP for a
 * broken chain or a follower that does not run (the archive does not reach
 * the present), ERR_NET for a running follower cut from its server,
 * ERR_NOSPACE for another alarm (spool full); err gets the alarm. */
int inst_binlog_status_verdict(const InstBinlogStatus *st, Err *err);
void inst_binlog_status_free(InstBinlogStatus *st);

/* What a binlog export wrote: segments from first_file:first_start to
 * last_file:last_end. */
typedef struct InstBinlogExport {
    char first_file[BINLOG_FILE_MAX], last_file[BINLOG_FILE_MAX];
    uint64_t first_start, last_end;
    size_t segments;
} InstBinlogExport;

/* Rebuild the instance's archived binlog between from and to (each NULL
 * for the archive's start / end, else FILE:POS, a GTID d-s-n, "YYYY-MM-DD
 * HH:MM:SS" UTC or @epoch) as binlog files in dir (binlog_export): whole
 * segments. ERR_NOTFOUND when nothing is archived or a point is not in the
 * archive, ERR_INVALID for a point that does not parse or from after to.
 * progress: a progress line on stderr (total: the segments' bytes). */
int inst_binlog_export(Inst *in, Repo *r, const char *from, const char *to, const char *dir,
                       bool progress, InstBinlogExport *out, Err *err);

/* ---- restore target -------------------------------------------------------- */

/* What the command line says about the target server. Strings borrowed. */
typedef struct InstTarget {
    const char *host, *socket, *defaults_file;   /* any of them: an explicit address */
    unsigned port;                               /* 0: not given */
    const char *user;
    const char *password_file;                   /* --password-file */
    bool require_explicit;                       /* a scratch server: never the instance's */
} InstTarget;

/* The target connection: the instance's own (inst_db_conn) with t->port and
 * t->user overriding; or, when t gives a host, socket or defaults file, that
 * address instead of the instance's (the instance's password is not sent to
 * it; t->user overrides the instance's user). t->password_file is read with
 * the secret reader and held by in. *out's strings are borrowed from in and
 * t. ERR_INVALID when require_explicit and no address is given, or when the
 * instance has no connection and none is given. */
int inst_target_conn(Inst *in, const InstTarget *t, MdbConn *out, Err *err);

/* ---- Dolibarr's conf.php (inst_dolconf.c, inst_dolconf_rewrite.c) ---------- */

/* The conf.php variables tidemark reads or rewrites. */
typedef enum InstDolVar {
    INST_DOL_DB_TYPE, INST_DOL_DB_HOST, INST_DOL_DB_PORT, INST_DOL_DB_NAME, INST_DOL_DB_USER,
    INST_DOL_DB_PASS, INST_DOL_DB_ENCRYPTED_PASS, INST_DOL_DB_PREFIX, INST_DOL_DATA_ROOT,
    INST_DOL_DOCUMENT_ROOT, INST_DOL_DOCUMENT_ROOT_ALT, INST_DOL_URL_ROOT, INST_DOL_URL_ROOT_ALT,
    INST_DOL_INSTANCE_UNIQUE_ID, INST_DOL_DOLCRYPT_KEY,
    INST_DOL_NVARS
} InstDolVar;

/* "dolibarr_main_db_host"... (without '$'). */
const char *inst_dol_var_name(InstDolVar v);

/* How the database password is stored. */
typedef enum InstDolPassEnc {
    INST_DOL_PASS_NONE,       /* no password assigned */
    INST_DOL_PASS_PLAIN,      /* $dolibarr_main_db_pass='secret' */
    INST_DOL_PASS_CRYPTED,    /* $dolibarr_main_db_pass='crypted:BASE64' (dol_encode) */
    INST_DOL_PASS_ENCRYPTED,  /* $dolibarr_main_db_encrypted_pass='BASE64' (dol_encode, older) */
    INST_DOL_PASS_DOLCRYPT,   /* $dolibarr_main_db_pass='dolcrypt:AES-256-CTR:IV:BASE64' */
} InstDolPassEnc;
const char *inst_dol_pass_enc_name(InstDolPassEnc e);

typedef struct InstDolConfVar {
    char *value;          /* as PHP reads it (owned); NULL: not assigned or not a literal */
    unsigned line;        /* the last assignment's line; 0: not assigned */
    unsigned nassign;     /* how many assignments */
    bool is_literal;      /* every assignment is an unconditional `$v = LITERAL;` */
} InstDolConfVar;

typedef struct InstDolConf {
    char path[1024];                  /* for messages: "PATH:LINE" */
    InstDolConfVar v[INST_DOL_NVARS];
    unsigned include_line;            /* an include/require (may assign anything); 0 none */
} InstDolConf;

/* Parse conf.php text (never run): the literal assignments of the
 * variables above; the last assignment wins as in PHP. path names it in
 * messages. *out owned by the caller (inst_dolconf_free), wiped on free.
 * ERR_NOMEM only: a variable that is not a literal is kept as such and
 * reported by inst_dolconf_get. */
int inst_dolconf_parse(const char *text, size_t len, const char *path, InstDolConf **out, Err *err);
/* Read and parse the file at path (ERR_NOTFOUND, ERR_PERM, ERR_IO). */
int inst_dolconf_read(const char *path, InstDolConf **out, Err *err);
void inst_dolconf_free(InstDolConf *c);   /* accepts NULL */
/* A variable's value (borrowed) or NULL when not assigned (*out_line 0);
 * ERR_UNSUPPORTED "PATH:LINE: $dolibarr_main_db_host is not a literal"
 * when an assignment of it is not one. */
int inst_dolconf_get(const InstDolConf *c, InstDolVar v, const char **out, unsigned *out_line,
                     Err *err);
/* The database password as PHP (filefunc.inc.php) decodes it: *out
 * sodium_malloc'd (secret_free), NULL with INST_DOL_PASS_NONE; *out_var the
 * variable it came from. ERR_UNSUPPORTED for a value that is not a literal
 * or an unknown cipher, ERR_AUTH when dolcrypt: does not decrypt with the
 * key ($dolibarr_main_dolcrypt_key, else $dolibarr_main_instance_unique_id). */
int inst_dolconf_password(const InstDolConf *c, char **out, InstDolPassEnc *out_enc,
                          InstDolVar *out_var, Err *err);

/* New values for a restored copy; NULL keeps a variable as it is. */
typedef struct InstDolConfNew {
    const char *db_host, *db_port, *db_name, *db_user, *db_pass;
    const char *data_root, *document_root, *document_root_alt, *url_root;
} InstDolConfNew;

/* conf.php text for a restored copy: only the values of the assignments of
 * the variables nv sets change (every assignment of such a variable, so no
 * stale value is left behind; one not assigned is appended), every other
 * byte is kept (comments, BOM, CRLF, other variables, the instance unique id
 * and the dolcrypt key). Strings are written with the quote the original
 * used. The password keeps its encoding (crypted:, the encrypted_pass
 * variable, dolcrypt: with the file's key), else plain when it cannot
 * (non-ASCII); *out_enc says which. ERR_UNSUPPORTED naming the variable when
 * an assignment to change is not a literal. *out malloc'd (NUL-terminated, *out_len bytes). */
int inst_dolconf_rewrite(const char *text, size_t len, const InstDolConfNew *nv, char **out,
                         size_t *out_len, InstDolPassEnc *out_enc, Err *err);

/* ---- the instance described by its conf.php (inst_dolconf_use.c) ---------- */

/* The instance's conf_php, read on first use and kept: *out borrowed (valid
 * while in lives), NULL when conf_php is not set. ERR_INVALID (blaming the
 * conf_php key) when it cannot be read. */
int inst_dolconf(Inst *in, const InstDolConf **out, Err *err);
/* A path setting: documents_dir (the config's, else $dolibarr_main_data_root)
 * or custom_dir (the config's, else $dolibarr_main_document_root_alt when it
 * names one existing directory); other keys: the config's only. *out
 * borrowed or NULL; from (cap bytes, may be NULL): "config KEY" or
 * "PATH:LINE". ERR_UNSUPPORTED when conf.php's assignment is not a literal. */
int inst_path(Inst *in, const char *key, const char **out, char *from, size_t cap, Err *err);
/* The databases to dump: the config's databases, else conf.php's
 * $dolibarr_main_db_name, else none (*out NULL: every non-system database).
 * *out as conf_get_list's (conf_list_free); from as inst_path's. */
int inst_databases(Inst *in, char ***out, size_t *n, char *from, size_t cap, Err *err);
/* The instance's one database (inst_databases names exactly one): *out
 * malloc'd. ERR_INVALID naming the count otherwise (the caller asks for an
 * explicit name). */
int inst_only_database(Inst *in, char **out, Err *err);
/* The database's table prefix: conf.php's $dolibarr_main_db_prefix, else
 * "llx_" (borrowed). ERR_UNSUPPORTED when that assignment is not a literal. */
int inst_db_prefix(Inst *in, const char **out, Err *err);

/* One setting of the instance and where its value came from. */
typedef struct InstSource {
    const char *setting;   /* db_host, db_port, db_socket, db_defaults_file, db_user, db_password,
                              databases, documents_dir, custom_dir, conf_php; conf.php's db_type,
                              db_prefix, document_root, url_root, instance_unique_id, dolcrypt_key;
                              "include" for conf.php's first include (not followed) */
    char value[1024];      /* "" unset; secrets as "(secret, N bytes)" */
    char from[1100];       /* "config KEY", "PATH:LINE" (conf.php; the password adds its
                              encoding), "default", "" unset */
} InstSource;
/* What the instance's connection and paths are and where each came from
 * (explicit config keys override conf.php: inst_db_conn's rules). *out
 * malloc'd (free), *n entries. Errors of inst_db_conn, inst_dolconf. */
int inst_sources(Inst *in, InstSource **out, size_t *n, Err *err);

#endif

/* cli_cmds.c: every command with its option table and help text. The
 * parser of a command (cli_getopt) and its --help are both made from these
 * rows: add an option here, with its help line, and handle its key in the
 * command's switch. The man page (docs/tidemark.1) follows this file; the
 * test cli_help checks that it does. */
#include "engine/cli/cli_opts.h"

#include "engine/cli/commands.h"

#define S CLI_OPT_SHORT

const CliOpt cli_global_opts[] = {
    {"config", 'c', "FILE", "configuration file (default " CONF_DEFAULT_PATH ", or TIDEMARK_CONFIG)", S},
    {"repo", 'r', "URL", "repository (overrides the config and TIDEMARK_REPOSITORY)", S},
    {"instance", 'i', "NAME", "the instance ([instance NAME] in the config; default: the only one)", S},
    {"json", CLI_KEY_JSON, NULL, "machine-readable output: one JSON document on stdout", 0},
    {"quiet", 'q', NULL, "no progress or notes, only errors", S},
    {"verbose", 'v', NULL, "debug logging", S},
    {NULL, 0, NULL, NULL, 0},
};

/* --host ... --defaults-file: the target server of restore db and verify-chain */
#define TARGET_ROWS(what)                                                                          \
    {"host", 'H', "H", what " server's host (TCP)", 0},                                            \
    {"port", 'P', "P", what " server's port", 0},                                                  \
    {"socket", 'S', "S", what " server's unix socket", 0},                                         \
    {"user", 'u', "U", "user on " what " server", 0},                                              \
    {"password-file", 'p', "F", "file holding that user's password", 0},                           \
    {"defaults-file", 'f', "F", "MariaDB option file naming " what " server ([client] group)", 0}

static const CliOpt check_opts[] = {
    {"read-data", 'd', NULL, "also read every pack: each blob must authenticate, expand and hash to its id", 0},
    {"read-data-subset", 's', "N%", "read N percent of the packs (0 < N <= 100)", 0},
    {NULL, 0, NULL, NULL, 0},
};

static const CliOpt key_add_opts[] = {
    {"label", 'l', "TEXT", "a label stored with the key (who or what it is for)", 0},
    {NULL, 0, NULL, NULL, 0},
};

static const CliOpt backup_files_opts[] = {
    {"tag", 't', "T", "tag the snapshot (repeatable)", S},
    {"name", 'n', "ITEM", "name of the item (with exactly one PATH; default: the absolute PATH)", S},
    {"skip-unreadable", 'S', NULL, "warn about an unreadable file instead of failing the backup", 0},
    {NULL, 0, NULL, NULL, 0},
};

static const CliOpt restore_files_opts[] = {
    {"target", 'T', "DIR", "restore under DIR (created if missing; required)", S},
    {"include", 'I', "PATH", "restore only this entry path and its subtree (repeatable)", S},
    {"snapshot", 's', "ID", "the snapshot (id, unique id prefix or \"latest\"; or as the argument)", S},
    {"tag", 't', "T", "with \"latest\": the newest snapshot carrying every tag T (repeatable)", S},
    {"overwrite", 'O', NULL, "replace files in DIR that differ from the snapshot's (refused otherwise)", 0},
    {NULL, 0, NULL, NULL, 0},
};

static const CliOpt export_tar_opts[] = {
    {"snapshot", 's', "ID", "the snapshot (id, unique id prefix or \"latest\"; or as the argument)", S},
    {"tag", 't', "T", "with \"latest\": the newest snapshot carrying every tag T (repeatable)", S},
    {NULL, 0, NULL, NULL, 0},
};

static const CliOpt snapshots_opts[] = {
    {"tag", 't', "T", "only the snapshots carrying every tag T (repeatable)", S},
    {NULL, 0, NULL, NULL, 0},
};

static const CliOpt backup_opts[] = {
    {"tag", 't', "T", "tag the snapshot (repeatable)", S},
    {"with-grants", 'G', NULL, "also dump the accounts and grants of the databases", S},
    {"threads", 'T', "N", "dump connections, 1..64 (default: dump_threads, else 2)", S},
    {"no-files", 'F', NULL, "database only, no file trees (as `backup db`)", S},
    {"force-lock", 'L', NULL, "take the point under a short global lock (BACKUP STAGE BLOCK_COMMIT)\n"
                              "even when the connections agree on it without one", 0},
    {"with-app", 'A', NULL, "also back up app_dir, the application code (always with --tag pre-upgrade)", 0},
    {NULL, 0, NULL, NULL, 0},
};

static const CliOpt restore_db_opts[] = {
    {"snapshot", 's', "ID", "the snapshot to load (id, unique id prefix or \"latest\"); with --to...:\n"
                            "the snapshot to start from (default: the newest before the target)", S},
    {"to", 't', "TIME", "point in time: every transaction stamped at or before TIME's second\n"
                        "(ISO 8601, '2026-11-21 14:03:00+01:00', local time, or @EPOCH)", S},
    {"to-gtid", 'g', "GTID", "point in time: up to and including transaction GTID", S},
    {"before-gtid", 'b', "GTID", "point in time: everything before transaction GTID (find it with\n"
                                 "`binlog search`)", S},
    {"plan", 'n', NULL, "print the plan and the checks, touch nothing", S},
    {"tag", CLI_KEY_TAG, "T", "with --snapshot latest: the newest snapshot carrying every tag T\n"
                              "(repeatable; snapshot load only)", 0},
    {"target-db", 'd', "NAME", "load into database NAME instead of the snapshot's own name", S},
    {"drop-existing", 'D', NULL, "drop a non-empty target database first (refused otherwise)", S},
    {"threads", 'T', "N", "tables loaded in parallel (default: load_threads, else 2)", S},
    {"with-grants", 'G', NULL, "also restore the accounts and grants (snapshot load only)", S},
    {"no-verify", 'N', NULL, "skip the content hash comparison after the load (snapshot load only)", S},
    {"write-binlog", 'B', NULL, "let the load go into the target's binlog (snapshot load only;\n"
                                "default sql_log_bin=0 when the account may)", 0},
    TARGET_ROWS("the target"),
    {"listen-host", 'L', "A", "address the replay's binlog server listens on (point in time)", 0},
    {"advertise-host", 'A', "A", "address the target server connects to for the replay (point in time)", 0},
    {"timeout", 'W', "S", "seconds to wait for the replay to make progress (point in time)", 0},
    {"durability", 'Y', "MODE", "relaxed: innodb_flush_log_at_trx_commit=2 and sync_binlog=0 on the\n"
                                "target during the replay, put back and flushed after it; keep: leave\n"
                                "them. Default: relaxed when the target holds no other database", 0},
    {"apply", 'M', "MODE", "net: the net change per primary key in bulk, refused after the load\n"
                           "when an event or the target does not allow it; transactions: one by\n"
                           "one through the SQL thread; auto (default): net when possible", 0},
    {"accept-archive-end", 'E', NULL, "restore a --to TIME past the last archived transaction to the\n"
                                      "archive's end and say so (refused with exit 6 otherwise, unless the\n"
                                      "follower's status shows the server had nothing more)", 0},
    {NULL, 0, NULL, NULL, 0},
};

static const CliOpt export_sql_opts[] = {
    {"snapshot", 's', "ID", "the snapshot (id, unique id prefix or \"latest\"; required)", S},
    {"target-db", 'd', "NAME", "write the database under this name", S},
    {"tag", 't', "T", "with \"latest\": the newest snapshot carrying every tag T (repeatable)", S},
    {NULL, 0, NULL, NULL, 0},
};

static const CliOpt verify_db_opts[] = {
    {"snapshot", 's', "ID", "the snapshot (id, unique id prefix or \"latest\"; required)", S},
    {"target-db", 'd', "NAME", "compare database NAME instead of the snapshot's own name", S},
    {"tag", 't', "T", "with \"latest\": the newest snapshot carrying every tag T (repeatable)", S},
    {"threads", 'T', "N", "tables hashed in parallel (default 2)", S},
    {NULL, 0, NULL, NULL, 0},
};

static const CliOpt verify_chain_opts[] = {
    {"from", 'F', "SNAP", "start at this snapshot (default: the oldest)", S},
    {"threads", 'T', "N", "tables loaded in parallel (default 2)", S},
    {"timeout", 'W', "S", "seconds to wait for a replay to make progress", 0},
    TARGET_ROWS("the scratch"),
    {NULL, 0, NULL, NULL, 0},
};

static const CliOpt verify_instance_opts[] = {
    {"target-db", 'd', "NAME", "the Dolibarr database (default: the instance's only one in 'databases')", S},
    {"data-root", 'D', "DIR", "the documents directory, DOL_DATA_ROOT (default: documents_dir,\n"
                              "else conf.php's data root)", S},
    {"db-prefix", 'x', "P", "the tables' prefix (default: conf.php's, else llx_)", 0},
    {"expect-version", 'V', "V", "the Dolibarr version the database must have (the backed-up one's)", 0},
    {"snapshot", 's', "ID", "expect the version constants this snapshot recorded (id, prefix or \"latest\")", 0},
    TARGET_ROWS("the"),
    {NULL, 0, NULL, NULL, 0},
};

static const CliOpt restore_instance_opts[] = {
    {"snapshot", 's', "ID", "the snapshot (id, unique id prefix or \"latest\"); alone: that snapshot's\n"
                            "point; with --to...: the snapshot to start from", S},
    {"to", 't', "TIME", "point in time: every transaction stamped at or before TIME's second", S},
    {"to-gtid", 'g', "GTID", "point in time: up to and including transaction GTID", S},
    {"before-gtid", 'b', "GTID", "point in time: everything before transaction GTID", S},
    {"target-dir", 'T', "DIR", "the copy's directory, absent or empty (required): DIR/documents,\n"
                               "DIR/custom, DIR/conf/conf.php", S},
    {"target-db", 'd', "NAME", "the copy's database on the target server (required)", S},
    {"drop-existing", 'D', NULL, "drop a non-empty target database first (refused otherwise)", S},
    {"url", 'U', "URL", "$dolibarr_main_url_root of the copy (default: kept)", S},
    TARGET_ROWS("the target"),
    {NULL, 0, NULL, NULL, 0},
};

static const CliOpt binlog_follow_opts[] = {
    {"start", 's', "FILE:POS", "start at this binlog position (first run only)", S},
    {"start-gtid", 'g', "G", "start after this GTID position (first run only)", S},
    {"until-idle", 'u', NULL, "stop once the server has nothing more to send", S},
    {"non-blocking", 'u', NULL, "the same as --until-idle", 0},
    {NULL, 0, NULL, NULL, 0},
};

static const CliOpt binlog_export_opts[] = {
    {"from", 'f', "X", "first segment: the one holding X (FILE:POS, a GTID, 'YYYY-MM-DD HH:MM:SS'\n"
                       "UTC or @EPOCH; default: the first)", S},
    {"to", 't', "Y", "last segment: the one holding Y (as X; default: the last)", S},
    {NULL, 0, NULL, NULL, 0},
};

static const CliOpt binlog_search_opts[] = {
    {"table", 't', "[DB.]T", "transactions touching this table", S},
    {"type", 'y', "TYPES", "insert, update, delete and/or ddl (comma-separated)", S},
    {"since", 's', "TIME", "transactions at or after TIME", S},
    {"until", 'u', "TIME", "transactions at or before TIME", S},
    {"grep", 'g', "TEXT", "transactions whose statement or Annotate_rows text holds TEXT", S},
    {"limit", 'l', "N", "stop after N matches", S},
    {NULL, 0, NULL, NULL, 0},
};

const CliCmd cli_commands[] = {
    {"init", NULL, cmd_init, "create a repository", NULL,
     "Create an empty repository at the configured location. The passphrase comes from\n"
     "TIDEMARK_PASSWORD_FILE / password_file / password_command, or is asked twice.\n", NULL, 0},
    {"snapshots", NULL, cmd_snapshots, "list snapshots", NULL,
     "List snapshots, oldest first: id, time (UTC), instance, tags, items (with --instance:\n"
     "that instance's only; with --tag, only those carrying every tag T).\n", snapshots_opts, 0},
    {"check", NULL, cmd_check, "verify the repository (--read-data to read every blob)", NULL,
     "Verify the structure: every snapshot's chunks are in the index and every indexed pack\n"
     "exists. --read-data also reads every pack and checks that each blob authenticates,\n"
     "expands and hashes to its id. Exit 0 when no error was found, 3 otherwise.\n", check_opts, 0},
    {"repair", "index", cmd_repair_index, "rebuild the index from the packs", NULL,
     "Add every pack that no index names (after an interrupted backup or a lost index\n"
     "object) to a new index object, reading only the packs' own tables.\n", NULL, 0},
    {"key", "list", cmd_key_list, "list key objects (passphrases)", NULL,
     "List key objects; * marks the one in use.\n", NULL, 0},
    {"key", "add", cmd_key_add, "add a passphrase", NULL,
     "Add a passphrase (from TIDEMARK_NEW_PASSWORD_FILE, or asked twice).\n", key_add_opts, 0},
    {"key", "remove", cmd_key_remove, "remove a passphrase", "ID",
     "Remove a key object (by id prefix). The last key and the key in use cannot be removed.\n", NULL, 0},
    {"key", "passwd", cmd_key_passwd, "change the passphrase in use", NULL,
     "Replace the passphrase in use (new one from TIDEMARK_NEW_PASSWORD_FILE, or asked twice).\n", NULL, 0},
    {"backup", "files", cmd_backup_files, "back up directory trees (one files item per PATH)", "PATH...",
     "Back up each PATH (directory, file or symlink, never followed) as one files item of\n"
     "one new snapshot. An item is named by the absolute PATH (or --name, with one PATH);\n"
     "its entries start with PATH's last component. The previous snapshot's item of the\n"
     "same name is the files cache: unchanged files are not read again.\n"
     "An unreadable file fails the backup (nothing is committed) unless --skip-unreadable.\n",
     backup_files_opts, 0},
    {"restore", "files", cmd_restore_files, "restore files items to --target DIR", "[SNAPSHOT]",
     "Restore the files items of --snapshot ID (an id, a unique id prefix, or \"latest\": the\n"
     "newest snapshot of the instance with every --tag T that holds a files item and the top\n"
     "directory of every --include) under DIR (created if missing). --include restores only\n"
     "that entry path (e.g. documents/x.pdf or documents/invoices) and its subtree, reading\n"
     "only the chunks it needs. A file already in DIR that differs from the snapshot's (type,\n"
     "size or modification time) is refused, before anything is written, unless --overwrite;\n"
     "identical files and files the snapshot does not hold are left. The snapshot may also be\n"
     "given as the argument. Nothing is ever written outside DIR; damaged files are named and\n"
     "the exit is non-zero.\n",
     restore_files_opts, 0},
    {"export", "tar", cmd_export_tar, "write a snapshot's files as a pax tar on stdout", "[SNAPSHOT] > file.tar",
     "Write the files items of --snapshot ID (or the argument; \"latest\": the newest with a\n"
     "files item and every --tag T) as a pax tar on stdout (GNU tar and bsdtar read it).\n"
     "With --json, the summary (or the error) goes to stderr: stdout carries the tar.\n", export_tar_opts,
     CLI_CMD_DATA_STDOUT},
    {"binlog", "follow", cmd_binlog_follow, "follow the server's binlog into the archive (foreground)", NULL,
     "Follow the instance's server as a replica and archive its binlog in the repository,\n"
     "in the foreground (systemd: tidemark-binlog@.service). SIGTERM or SIGINT seal what is\n"
     "complete, upload it and exit 0.\n", binlog_follow_opts, 0},
    {"instance", "show", cmd_instance_show, "the instance's settings and where each was read", NULL,
     "The instance's database connection, databases, documents_dir and custom_dir, and what\n"
     "its conf_php says (db_type, db_prefix, document_root, url_root, the instance keys),\n"
     "each with its source: the config key, or conf.php:LINE. Explicit db_* keys override\n"
     "conf.php. Secrets are shown only as their length.\n", NULL, 0},
    {"binlog", "status", cmd_binlog_status, "follower state, lag, recoverable window, alarms", NULL,
     "The follower's state, lag, the recoverable window and every alarm. Exit 6 when the\n"
     "chain is broken or the follower does not run, 4 when it cannot reach its server,\n"
     "7 when its spool is full.\n", NULL, 0},
    {"binlog", "list", cmd_binlog_list, "list archived binlog segments", NULL,
     "The archived binlog segments of the instance, with their positions, times, GTIDs and\n"
     "whether each connects to the one before.\n", NULL, 0},
    {"binlog", "export", cmd_binlog_export, "rebuild binlog files from the archive into DIR", "DIR",
     "Rebuild binlog files (readable by mariadb-binlog) from the archive into DIR; whole\n"
     "segments are written.\n", binlog_export_opts, 0},
    {"binlog", "search", cmd_binlog_search, "find transactions in the archive (table, type, time, text)", NULL,
     "Transactions of the binlog archive with GTID, time, tables, row counts and the statement\n"
     "(or Annotate_rows) text; restore to just before one with `restore db --before-gtid GTID`.\n",
     binlog_search_opts, 0},
    {"backup", NULL, cmd_backup, "one snapshot of an instance: database dump + its file trees", NULL,
     "One snapshot of the instance: a consistent dump of its database(s) (config key\n"
     "'databases', default all) with the binlog coordinates of the dump's point, plus its\n"
     "file trees (documents_dir, conf_php, custom_dir, extra_paths) unless --no-files or\n"
     "'backup db'. Nothing is committed unless every part succeeds.\n", backup_opts, 0},
    {"backup", "db", cmd_backup_db, "one snapshot of an instance's database(s) only", NULL,
     "One snapshot of the instance's database(s) only: a consistent dump (config key\n"
     "'databases', default all) with the binlog coordinates of the dump's point.\n"
     "Nothing is committed unless the dump succeeds.\n", backup_opts, 0},
    {"restore", "db", cmd_restore_db, "load a snapshot's database(s) into a server and verify", NULL,
     "Snapshot load (--snapshot ID): load the snapshot's database(s) into the target server\n"
     "(default: the instance's own connection), rows through LOAD DATA LOCAL INFILE straight\n"
     "from the repository, tables in parallel, then recompute every table's content hash and\n"
     "compare (exit 0 only when all match). A non-empty target database is refused unless\n"
     "--drop-existing. The load is kept out of the target's binlog unless --write-binlog.\n"
     "Point in time (--to, --to-gtid, --before-gtid; --plan): the newest snapshot at or before\n"
     "the target is loaded (sql_log_bin=0, verified by content hash), then the archived binlog\n"
     "is replayed on the target server up to exactly the target. The plan is printed and every\n"
     "check made before anything is written.\n", restore_db_opts, 0},
    {"restore", "instance", cmd_restore_instance, "rebuild a Dolibarr instance beside the original", NULL,
     "Rebuild the instance beside the original: its database to the point (--snapshot, --to,\n"
     "--to-gtid or --before-gtid, as `restore db`) into --target-db on the target server, the\n"
     "documents, custom and conf.php file trees of the snapshot the database came from under\n"
     "--target-dir, conf.php rewritten for the copy (target database, account, data root, custom\n"
     "directory, --url; the instance unique id and dolcrypt key kept), then the checks of `verify\n"
     "instance` on the copy. A non-empty DIR or target database is refused before anything is\n"
     "written (exit 2). Exit 0 only when every part was restored and every check passed; 6 when a\n"
     "check failed or a part is missing from the snapshot (named in the report). Not yet: --in-place,\n"
     "fencing of the copy (mail, cron jobs), rollback.\n", restore_instance_opts, 0},
    {"export", "sql", cmd_export_sql, "write a snapshot's database(s) as plain SQL on stdout", "> dump.sql",
     "Write the snapshot's database(s) as plain SQL for the stock `mariadb` client. With\n"
     "--json, an error goes to stderr as JSON: stdout carries the SQL.\n", export_sql_opts,
     CLI_CMD_DATA_STDOUT},
    {"verify", "db", cmd_verify_db, "compare a server's tables with a snapshot's content hashes", NULL,
     "Recompute the content hash of every table of the snapshot on the instance's server\n"
     "(in --target-db when given) and compare; exit 0 only when all match, 6 otherwise.\n",
     verify_db_opts, 0},
    {"verify-chain", NULL, cmd_verify_chain, "restore snapshot N + binlog to N+1 on a scratch server, compare hashes",
     NULL,
     "For each consecutive pair of snapshots: load N into a throw-away database on the given\n"
     "scratch server (--socket or --host: never the production server), replay the binlog\n"
     "archive to N+1's coordinates, compare every table with N+1's recorded content hashes,\n"
     "drop the database. One verdict per pair; exit 6 when any pair fails.\n", verify_chain_opts, 0},
    {"verify", "instance", cmd_verify_instance, "the Dolibarr checks of a database and its documents", NULL,
     "Check a Dolibarr instance (the instance's own database and documents_dir, or --target-db,\n"
     "--data-root and a target server): the version constants (equal to --expect-version when\n"
     "given), at least one active admin user, every llx_ecm_files row's file under the documents\n"
     "directory of its entity (DATA_ROOT/N/ for entity N > 1) with the md5 of its label, the\n"
     "logo files named in llx_const, install.lock, and the row count of every table. Nothing is\n"
     "written. Exit 0 when every check passes, 6 naming the failed ones, 3 when the database is\n"
     "not Dolibarr's.\n", verify_instance_opts, 0},
    {"version", NULL, cmd_version, "print the version", NULL,
     "Print the version and the repository format this binary writes.\n", NULL, 0},
    {NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0},
};

/* commands.h: every subcommand's entry point (see the table in cli_main.c). */
#ifndef TM_CLI_COMMANDS_H
#define TM_CLI_COMMANDS_H

#include "engine/cli/cli.h"

/* cmd_repo.c */
int cmd_init(CliCtx *ctx, int argc, char **argv, Err *err);
int cmd_snapshots(CliCtx *ctx, int argc, char **argv, Err *err);
int cmd_check(CliCtx *ctx, int argc, char **argv, Err *err);
int cmd_repair_index(CliCtx *ctx, int argc, char **argv, Err *err);
int cmd_version(CliCtx *ctx, int argc, char **argv, Err *err);
/* cmd_key.c */
int cmd_key_list(CliCtx *ctx, int argc, char **argv, Err *err);
int cmd_key_add(CliCtx *ctx, int argc, char **argv, Err *err);
int cmd_key_remove(CliCtx *ctx, int argc, char **argv, Err *err);
int cmd_key_passwd(CliCtx *ctx, int argc, char **argv, Err *err);
/* cmd_files.c */
int cmd_backup_files(CliCtx *ctx, int argc, char **argv, Err *err);
int cmd_restore_files(CliCtx *ctx, int argc, char **argv, Err *err);
int cmd_export_tar(CliCtx *ctx, int argc, char **argv, Err *err);
/* cmd_binlog.c */
int cmd_binlog_follow(CliCtx *ctx, int argc, char **argv, Err *err);
int cmd_binlog_status(CliCtx *ctx, int argc, char **argv, Err *err);
int cmd_binlog_list(CliCtx *ctx, int argc, char **argv, Err *err);
int cmd_binlog_export(CliCtx *ctx, int argc, char **argv, Err *err);
/* cmd_instance.c */
int cmd_instance_show(CliCtx *ctx, int argc, char **argv, Err *err);
/* cmd_db.c */
int cmd_backup(CliCtx *ctx, int argc, char **argv, Err *err);
int cmd_backup_db(CliCtx *ctx, int argc, char **argv, Err *err);
int cmd_restore_db(CliCtx *ctx, int argc, char **argv, Err *err);
int cmd_export_sql(CliCtx *ctx, int argc, char **argv, Err *err);
int cmd_verify_db(CliCtx *ctx, int argc, char **argv, Err *err);
/* cmd_pitr.c */
int cmd_restore_pitr(CliCtx *ctx, int argc, char **argv, Err *err);
int cmd_binlog_search(CliCtx *ctx, int argc, char **argv, Err *err);
int cmd_verify_chain(CliCtx *ctx, int argc, char **argv, Err *err);
/* cmd_verify.c */
int cmd_verify_instance(CliCtx *ctx, int argc, char **argv, Err *err);
/* cmd_instance_restore.c */
int cmd_restore_instance(CliCtx *ctx, int argc, char **argv, Err *err);

#endif

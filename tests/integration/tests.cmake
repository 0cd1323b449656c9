# One block per integration test: tm_integration_test(NAME COMMAND ... LABELS ...)

# S3 driver against a real Ceph RGW (../shared/tools/s3-real), label s3.
add_executable(s3_ops integration/s3_ops.c)
target_compile_options(s3_ops PRIVATE ${TM_WARNINGS} ${TM_EXTRA_FLAGS})
target_include_directories(s3_ops PRIVATE ${PROJECT_SOURCE_DIR})
target_link_libraries(s3_ops PRIVATE tm_sto_open tm_sto_s3 tm_testsupport Threads::Threads)
tm_integration_test(s3_ops COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/s3_ops.sh $<TARGET_FILE:s3_ops>
  LABELS s3 sanitize TIMEOUT 600)
tm_integration_test(s3_faults COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/s3_faults.sh $<TARGET_FILE:s3_ops>
  $<TARGET_FILE:faultproxy> LABELS s3 sanitize TIMEOUT 900)
tm_integration_test(s3_cli COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/s3_cli.sh $<TARGET_FILE:faultproxy>
  LABELS s3 TIMEOUT 900)
# The local driver's round trip, crash safety and tamper tests, run on S3 (TM_REPO_KIND=s3).
tm_integration_test(files_roundtrip_s3 COMMAND env TM_REPO_KIND=s3 ${CMAKE_CURRENT_SOURCE_DIR}/integration/files_roundtrip.sh
  LABELS s3 TIMEOUT 600)
tm_integration_test(crash_backup_s3 COMMAND env TM_REPO_KIND=s3 TM_CRASH_RUNS=10
  TIDEMARK_S3_MULTIPART_THRESHOLD=6M TIDEMARK_S3_PART_SIZE=5M ${CMAKE_CURRENT_SOURCE_DIR}/integration/crash_backup.sh
  LABELS s3 TIMEOUT 900)
tm_integration_test(files_tamper_s3 COMMAND env TM_REPO_KIND=s3 ${CMAKE_CURRENT_SOURCE_DIR}/integration/files_tamper.sh
  LABELS s3 TIMEOUT 300)
tm_integration_test(crash_backup COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/crash_backup.sh LABELS repo TIMEOUT 900)
tm_integration_test(crash_reuse COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/crash_reuse.sh LABELS repo TIMEOUT 300)
tm_integration_test(bad_input COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/bad_input.sh LABELS repo sanitize TIMEOUT 300)
tm_integration_test(cli_help COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/cli_help.sh LABELS repo TIMEOUT 300)
tm_integration_test(cli_errors COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/cli_errors.sh LABELS repo TIMEOUT 300)
tm_integration_test(cli_json COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/cli_json.sh LABELS repo db TIMEOUT 300)
tm_integration_test(cli_install COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/cli_install.sh LABELS repo TIMEOUT 120)

# File trees (issue 2 acceptance 1, 4, 5 "malicious manifest path"), label files.
add_executable(files_craft integration/files_craft.c)
target_compile_options(files_craft PRIVATE ${TM_WARNINGS} ${TM_EXTRA_FLAGS})
target_include_directories(files_craft PRIVATE ${PROJECT_SOURCE_DIR})
target_link_libraries(files_craft PRIVATE tm_src_files tm_repo tm_sto_open)
tm_integration_test(files_roundtrip COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/files_roundtrip.sh
  LABELS files TIMEOUT 600)
tm_integration_test(files_tar_gnu COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/files_tar_gnu.sh
  LABELS files TIMEOUT 120)
tm_integration_test(cli_snapshot_pick COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/cli_snapshot_pick.sh
  LABELS files db TIMEOUT 300)
tm_integration_test(files_safety COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/files_safety.sh $<TARGET_FILE:files_craft>
  LABELS files TIMEOUT 300)

# Binlog follower against a real MariaDB (issue 5), label binlog.
tm_integration_test(binlog_row_crc32_heavy COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/binlog_archive.sh ROW CRC32 OFF 1
  LABELS binlog TIMEOUT 900)
tm_integration_test(binlog_mixed_none COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/binlog_archive.sh MIXED NONE OFF 0
  LABELS binlog TIMEOUT 600)
tm_integration_test(binlog_row_compressed COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/binlog_archive.sh ROW CRC32 ON 0
  LABELS binlog TIMEOUT 600)
tm_integration_test(binlog_mixed_crc32_compressed COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/binlog_archive.sh MIXED CRC32 ON 0
  LABELS binlog TIMEOUT 600)
tm_integration_test(binlog_ops COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/binlog_ops.sh
  LABELS binlog TIMEOUT 600)
tm_integration_test(binlog_catalog_day COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/binlog_catalog_day.sh
  LABELS binlog TIMEOUT 600)
# The follower's connection: option file and TLS as for the dump (issue 11).
add_executable(binlog_conn_probe integration/binlog_conn_probe.c)
target_compile_options(binlog_conn_probe PRIVATE ${TM_WARNINGS} ${TM_EXTRA_FLAGS})
target_include_directories(binlog_conn_probe PRIVATE ${PROJECT_SOURCE_DIR})
target_link_libraries(binlog_conn_probe PRIVATE tm_instance tm_src_binlog tm_mariadb)
tm_integration_test(binlog_conn COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/binlog_conn.sh
  $<TARGET_FILE:binlog_conn_probe> LABELS binlog TIMEOUT 300)
tm_integration_test(binlog_follower_alarm COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/binlog_follower_alarm.sh
  LABELS binlog TIMEOUT 300)
tm_integration_test(files_tamper COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/files_tamper.sh
  LABELS files TIMEOUT 300)

# Point-in-time replay through a real replica SQL thread, tidemark as the source (issue 6), label replay.
tm_integration_test(replay_pitr COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/replay_pitr.sh $<TARGET_FILE:tm-replay>
  LABELS replay TIMEOUT 900)
tm_integration_test(conf_sample COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/conf_sample.sh LABELS repo TIMEOUT 60)

# MariaDB dump, load, verification, SQL export against a real server (issue 4), label db.
tm_integration_test(db_dolibarr COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/db_dolibarr.sh LABELS db TIMEOUT 600)
tm_integration_test(db_types COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/db_types.sh LABELS db TIMEOUT 600)
tm_integration_test(db_consistency COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/db_consistency.sh LABELS db TIMEOUT 900)
tm_integration_test(db_failures COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/db_failures.sh LABELS db TIMEOUT 600)
tm_integration_test(db_sequences COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/db_sequences.sh LABELS db pitr TIMEOUT 600)
tm_integration_test(db_names COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/db_names.sh LABELS db TIMEOUT 300)

# Point-in-time restore (issue 6): plan, replay from the archive, search, verify-chain; label pitr.
tm_integration_test(pitr_oracle COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/pitr_oracle.sh LABELS pitr TIMEOUT 600)
tm_integration_test(pitr_dolibarr COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/pitr_dolibarr.sh LABELS pitr TIMEOUT 600)
tm_integration_test(pitr_compressed COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/pitr_compressed.sh LABELS pitr TIMEOUT 600)
tm_integration_test(pitr_domains COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/pitr_domains.sh LABELS pitr TIMEOUT 600)
tm_integration_test(pitr_durability COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/pitr_durability.sh LABELS pitr TIMEOUT 600)
tm_integration_test(pitr_net COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/pitr_net.sh LABELS pitr TIMEOUT 900)
tm_integration_test(pitr_exact COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/pitr_exact.sh LABELS pitr TIMEOUT 600)
tm_integration_test(pitr_interrupt COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/pitr_interrupt.sh LABELS pitr TIMEOUT 600)
tm_integration_test(pitr_archive_end COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/pitr_archive_end.sh LABELS pitr TIMEOUT 600)
tm_integration_test(db_exact COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/db_exact.sh LABELS db TIMEOUT 600)
tm_integration_test(db_shapes COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/db_shapes.sh LABELS db TIMEOUT 600)
tm_integration_test(db_tls COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/db_tls.sh LABELS db TIMEOUT 300)
# Issue 10: statements naming the restored database from another default database, XA across
# the snapshot point, an event over the target's slave_max_allowed_packet; label pitr.
tm_integration_test(pitr_crossdb COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/pitr_crossdb.sh LABELS pitr TIMEOUT 900)
tm_integration_test(pitr_xa COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/pitr_xa.sh LABELS pitr TIMEOUT 900)
tm_integration_test(pitr_packet COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/pitr_packet.sh LABELS pitr TIMEOUT 600)

# The data-shape torture suite (issue 10, acceptance 2): every column type, charset, key shape and
# object of MariaDB 10.11 through backup + restore db, export sql | mariadb and point-in-time restore
# on both apply paths, against a physical copy of the source + mariadb-binlog as the oracle.
# It failed on the code of 71fb30c (24 silent losses); a fixed seed by default, TORTURE_SEED=random
# or any other seed for more (scripts/test.sh runs it in the release pass, about 2.5 minutes).
tm_integration_test(torture COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/torture.sh LABELS torture TIMEOUT 900)

# Config errors found by engine/instance: exit 2 naming the key, option or variable (issue 11).
tm_integration_test(inst_config COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/inst_config.sh LABELS repo TIMEOUT 120)

# engine/instance as a library, without the CLI (issue 11 acceptance 2), label db.
add_executable(inst_lib integration/inst_lib.c)
target_compile_options(inst_lib PRIVATE ${TM_WARNINGS} ${TM_EXTRA_FLAGS})
target_include_directories(inst_lib PRIVATE ${PROJECT_SOURCE_DIR})
target_link_libraries(inst_lib PRIVATE tm_instance)
tm_integration_test(inst_lib COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/inst_lib.sh $<TARGET_FILE:inst_lib>
  LABELS db binlog TIMEOUT 300)

# The point-in-time restore as a library (issue 11, acceptance 2): pitr_library
# calls rst_pitr_restore without the tidemark binary; label pitr.
add_executable(pitr_library integration/pitr_library.c)
target_compile_options(pitr_library PRIVATE ${TM_WARNINGS} ${TM_EXTRA_FLAGS})
target_include_directories(pitr_library PRIVATE ${PROJECT_SOURCE_DIR})
target_link_libraries(pitr_library PRIVATE tm_rst_pitr tm_sto_open)
tm_integration_test(pitr_library COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/pitr_library.sh
  $<TARGET_FILE:pitr_library> LABELS pitr TIMEOUT 600)

# The release pass runs two tests at a time (scripts/test.sh: ctest -j2). That is safe because
# every test works in its own mktemp directory, starts its own MariaDB (a probed free port, a socket
# in that directory) and its own RGW (a probed free port, its own directory), and writes no fixed
# path (state_dir and spool_dir are in the test's directory). Two properties keep the heavy ones
# from starving each other: one Ceph RGW at a time (a mon, an OSD and an RGW each), and the
# torture suite and the heavy binlog archive run alone (both slots).
set_tests_properties(integration.s3_ops integration.s3_faults integration.s3_cli
  integration.files_roundtrip_s3 integration.crash_backup_s3 integration.files_tamper_s3
  PROPERTIES RESOURCE_LOCK s3)
set_tests_properties(integration.torture integration.binlog_row_crc32_heavy PROPERTIES PROCESSORS 2)
# The Dolibarr checks (issue 12, verify instance) on the fixture, label dolibarr.
tm_integration_test(dol_verify COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/dol_verify.sh LABELS dolibarr db TIMEOUT 300)
# What an instance snapshot records (issue 12): files_window, Dolibarr versions, app_dir.
tm_integration_test(dol_backmeta COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/dol_backmeta.sh
  LABELS dolibarr db TIMEOUT 600)

# Dolibarr's conf.php (issue 12): PHP itself reads back what the rewriter wrote (php-cli).
add_executable(dolconf_tool integration/dolconf_tool.c)
target_compile_options(dolconf_tool PRIVATE ${TM_WARNINGS} ${TM_EXTRA_FLAGS})
target_include_directories(dolconf_tool PRIVATE ${PROJECT_SOURCE_DIR})
target_link_libraries(dolconf_tool PRIVATE tm_instance)
tm_integration_test(dolconf_php COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/dolconf_php.sh $<TARGET_FILE:dolconf_tool>
  LABELS dolibarr sanitize TIMEOUT 120)
tm_integration_test(dolconf_backup COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/dolconf_backup.sh
  LABELS db dolibarr TIMEOUT 600)
# restore instance beside the original (issue 12): database + files + conf.php + checks.
tm_integration_test(restore_instance COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/restore_instance.sh
  LABELS db dolibarr TIMEOUT 600)

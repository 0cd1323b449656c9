# One block per integration test: tm_integration_test(NAME COMMAND ... LABELS ...)

# S3 driver against a real Ceph RGW (../shared/tools/s3-real), label s3.
add_executable(s3_ops integration/s3_ops.c)
target_compile_options(s3_ops PRIVATE ${TM_WARNINGS} ${TM_EXTRA_FLAGS})
target_include_directories(s3_ops PRIVATE ${PROJECT_SOURCE_DIR})
target_link_libraries(s3_ops PRIVATE tm_sto_open tm_sto_s3 tm_testsupport Threads::Threads)
tm_integration_test(s3_ops COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/s3_ops.sh $<TARGET_FILE:s3_ops>
  LABELS s3 TIMEOUT 600)

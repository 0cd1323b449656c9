# One block per integration test: tm_integration_test(NAME COMMAND ... LABELS ...)

# One line per unit test: tm_unit_test(NAME LIBS ...) -> tests/unit/test_NAME.c

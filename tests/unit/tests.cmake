# One line per unit test: tm_unit_test(NAME LIBS ...) -> tests/unit/test_NAME.c
tm_unit_test(chunker LIBS tm_chunk)
tm_unit_test(crypto LIBS tm_crypto)
tm_unit_test(compress LIBS tm_compress)

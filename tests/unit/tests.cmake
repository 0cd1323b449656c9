# One line per unit test: tm_unit_test(NAME LIBS ...) -> tests/unit/test_NAME.c
tm_unit_test(chunker LIBS tm_chunk)
tm_unit_test(crypto LIBS tm_crypto)
tm_unit_test(compress LIBS tm_compress)
tm_unit_test(sto_local LIBS tm_sto_local tm_sto_open)
tm_unit_test(sto_fault LIBS tm_sto_local)
tm_unit_test(files_entry LIBS tm_src_files)
tm_unit_test(rst_files_path LIBS tm_rst_files)

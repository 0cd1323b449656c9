/* sto_fault.h: a storage driver that wraps a real one and fails chosen
 * calls (SQLite's test_vfs idea): loop N over every call of a scenario to
 * prove that an error at any point leaves a consistent repository. */
#ifndef TM_TESTS_STO_FAULT_H
#define TM_TESTS_STO_FAULT_H

#include <stdbool.h>

#include "storage-backends/storage.h"

/* Wrap inner (takes ownership: closed with *out). The wrapper has inner's
 * kind, features and location; it passes every call through until told
 * otherwise by sto_fault_set. */
int sto_fault_wrap(Sto *inner, Sto **out, Err *err);

/* Arm a fault: the nth (1-based) call from now on whose op matches op
 * ("put", "get", "stat", "del", "list", "del_many"; NULL for any) fails
 * with code, without reaching the inner driver; once, or for that call and
 * every matching call after it when sticky. nth 0 disarms. Replaces the
 * previous rule; does not reset the counters of sto_fault_calls. */
void sto_fault_set(Sto *fault, const char *op, unsigned nth, bool sticky, int code);

/* Calls seen so far (failed ones included) for op, or for all ops when op
 * is NULL. */
unsigned sto_fault_calls(Sto *fault, const char *op);

#endif

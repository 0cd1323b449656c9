/* sto_fault.c: fault-injecting storage wrapper for tests. Counts every call
 * per op and fails the armed one(s) before they reach the inner driver.
 * Invariant: a failed call has no effect on the inner storage. */
#include "tests/support/sto_fault.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { OP_PUT, OP_GET, OP_STAT, OP_DEL, OP_LIST, OP_DEL_MANY, OP__N };
static const char *const op_names[OP__N] = {"put", "get", "stat", "del", "list", "del_many"};

typedef struct Fault {
    StoOps ops;   /* inner's kind and features, our functions */
    Sto *inner;
    pthread_mutex_t mu;
    unsigned calls[OP__N];
    int rule_op;      /* -1: any op */
    unsigned nth;     /* 0: disarmed */
    unsigned seen;    /* matching calls since the rule was set */
    bool sticky;
    int code;
} Fault;

static int op_index(const char *op)
{
    for (int i = 0; i < OP__N; i++)
        if (strcmp(op, op_names[i]) == 0) return i;
    fprintf(stderr, "sto_fault: unknown op '%s'\n", op);
    abort();   /* a bug in the test itself */
}

/* Count the call; fail it when the rule says so. */
static int gate(Fault *f, int op, const char *what, Err *err)
{
    bool fire = false;
    unsigned n = 0;
    pthread_mutex_lock(&f->mu);
    f->calls[op]++;
    if (f->nth && (f->rule_op < 0 || f->rule_op == op)) {
        n = ++f->seen;
        fire = n == f->nth || (f->sticky && n > f->nth);
    }
    pthread_mutex_unlock(&f->mu);
    if (!fire) return 0;
    err_set(err, f->code, "injected fault: %s %s (matching call %u)", op_names[op], what, n);
    err->retryable = f->code == ERR_NET;
    return f->code;
}

static int fault_put(void *self, const char *key, const void *buf, size_t len, Err *err)
{
    Fault *f = self;
    int rc = gate(f, OP_PUT, key, err);
    return rc ? rc : f->inner->ops->put(f->inner->self, key, buf, len, err);
}

static int fault_get(void *self, const char *key, uint64_t off, size_t len, Buf *out, Err *err)
{
    Fault *f = self;
    int rc = gate(f, OP_GET, key, err);
    return rc ? rc : f->inner->ops->get(f->inner->self, key, off, len, out, err);
}

static int fault_stat(void *self, const char *key, StoStat *out, Err *err)
{
    Fault *f = self;
    int rc = gate(f, OP_STAT, key, err);
    return rc ? rc : f->inner->ops->stat(f->inner->self, key, out, err);
}

static int fault_del(void *self, const char *key, Err *err)
{
    Fault *f = self;
    int rc = gate(f, OP_DEL, key, err);
    return rc ? rc : f->inner->ops->del(f->inner->self, key, err);
}

static int fault_list(void *self, const char *prefix, StoListFn fn, void *ctx, Err *err)
{
    Fault *f = self;
    int rc = gate(f, OP_LIST, *prefix ? prefix : "/", err);
    return rc ? rc : f->inner->ops->list(f->inner->self, prefix, fn, ctx, err);
}

static int fault_del_many(void *self, const char *const *keys, size_t n, Err *err)
{
    Fault *f = self;
    int rc = gate(f, OP_DEL_MANY, n ? keys[0] : "(none)", err);
    return rc ? rc : f->inner->ops->del_many(f->inner->self, keys, n, err);
}

static void fault_close(void *self)
{
    Fault *f = self;
    if (!f) return;
    sto_close(f->inner);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

int sto_fault_wrap(Sto *inner, Sto **out, Err *err)
{
    Fault *f = calloc(1, sizeof *f);
    if (!f) {
        sto_close(inner);
        return err_set(err, ERR_NOMEM, "out of memory wrapping storage");
    }
    f->inner = inner;
    f->rule_op = -1;
    pthread_mutex_init(&f->mu, NULL);
    f->ops = (StoOps){
        .version = STO_OPS_V1,
        .features = inner->ops->features,
        .kind = inner->ops->kind,
        .put = fault_put,
        .get = fault_get,
        .stat = fault_stat,
        .del = fault_del,
        .list = fault_list,
        .close = fault_close,
        /* Without a native del_many, sto_del_many falls back to del. */
        .del_many = inner->ops->del_many ? fault_del_many : NULL,
    };
    return sto_new(&f->ops, f, inner->location, out, err);   /* closes f on failure */
}

static Fault *fault_of(Sto *s)
{
    if (!s || s->ops->put != fault_put) {
        fprintf(stderr, "sto_fault: not a fault-injecting storage\n");
        abort();
    }
    return s->self;
}

void sto_fault_set(Sto *fault, const char *op, unsigned nth, bool sticky, int code)
{
    Fault *f = fault_of(fault);
    int idx = op ? op_index(op) : -1;
    pthread_mutex_lock(&f->mu);
    f->rule_op = idx;
    f->nth = nth;
    f->seen = 0;
    f->sticky = sticky;
    f->code = code;
    pthread_mutex_unlock(&f->mu);
}

unsigned sto_fault_calls(Sto *fault, const char *op)
{
    Fault *f = fault_of(fault);
    unsigned n = 0;
    int idx = op ? op_index(op) : -1;
    pthread_mutex_lock(&f->mu);
    for (int i = 0; i < OP__N; i++)
        if (idx < 0 || idx == i) n += f->calls[i];
    pthread_mutex_unlock(&f->mu);
    return n;
}

/*
 * The benchmark harness's plumbing, shared by bench.c and bench_sync.c.
 */
#ifndef CRDT_BENCH_H
#define CRDT_BENCH_H

#include <stddef.h>

#include "crdt/crdt.h"

/* Timed parts run this many times on fresh copies; the median is reported. */
#define RUNS 5

/* Prints "crdt_bench: WHAT: error" and exits 1. */
void die(const char *what, int rc);
#define CHECK(call)                                                            \
  do {                                                                         \
    int rc_ = (call);                                                          \
    if (rc_) die(#call, rc_);                                                  \
  } while (0)

/* Monotonic seconds. */
double now(void);

typedef struct stats {
  double median, min, max;
} stats;

/* Sorts t and returns median, min and max. */
stats summarize(double *t, int n);

/* One output line: case=NAME n=N seconds=... min=... max=... [EXTRA]. */
void report(const char *name, size_t n, stats s, const char *extra);

/* "item-i" (i < 3N + 200). */
const char *item(size_t i);

/* The sync_* cases (bench_sync.c), on an OR-set and on a cart. */
void case_sync_orset(size_t n);
void case_sync_cart(size_t n);

#endif

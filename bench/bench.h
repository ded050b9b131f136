/*
 * The benchmark harness's plumbing, shared by its case files (bench.c: the
 * flat types; bench_map.c: the map; bench_sync.c: sync sessions).
 */
#ifndef CRDT_BENCH_H
#define CRDT_BENCH_H

#include <stddef.h>

#include "crdt/crdt.h"

/* Each case repeats its timed part this many times and reports the median. */
#define RUNS 5

/* Prints "crdt_bench: what: error" and exits 1. */
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

/* Sorts t[0 .. n) and summarizes it. */
stats summarize(double *t, int n);

/* One output line: case=<name> n=<n> seconds=<median> min= max= [extra]. */
void report(const char *name, size_t n, stats s, const char *extra);

/* Live heap bytes, counted through the library's allocator hook. */
extern size_t live_bytes;

/* "item-<i>", for i < 3 N + 200. */
const char *item(size_t i);

/* The cart case's set-up (shared/BENCH-CASES.md): A and B, untimed. */
void cart_setup(size_t n, crdt_cart **a, crdt_cart **b);

/* The map's cases (bench_map.c). */
void case_map_counter_merge(size_t n);
void case_map_nested_update(size_t n);
void case_map_mem(size_t n);

/* The sync_* cases (bench_sync.c), on an OR-set and on a cart. */
void case_sync_orset(size_t n);
void case_sync_cart(size_t n);
void case_sync_map(size_t n);

#endif

/*
 * In-place heapsort with a context pointer (C11's qsort has none): canonical
 * orders depend on the object's replica table, and the library must stay
 * thread-safe, so no global comparator state. O(n log n), no allocation.
 */
#ifndef CRDT_SRC_SORT_H
#define CRDT_SRC_SORT_H

#include <stdbool.h>
#include <stddef.h>

#include "ctx.h"

typedef int (*crdt__cmp_fn)(const void *a, const void *b, const void *ctx);

void crdt__sort(void *base, size_t n, size_t size, crdt__cmp_fn cmp,
                const void *ctx);

/* Does a dot occur twice in dots[0 .. n)? (A dot is one event: a decoder
 * that finds one in two places rejects the input.) Every dot's replica
 * must be below `ranks`. The dots are grouped by replica with a counting
 * pass; a replica whose counters are dense (a span of at most 2 per dot
 * + 64) is checked with a bitmap, others are sorted: O(n + ranks) for the
 * states replicas make, O(n log n) at worst. Allocates O(n + ranks); the
 * array is not changed.
 * @return 0 (*repeat set) or CRDT_ENOMEM. */
int crdt__dots_repeat(const crdt__dot *dots, size_t n, uint32_t ranks,
                      const crdt_allocator *m, bool *repeat);

#endif

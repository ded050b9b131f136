/*
 * In-place heapsort with a context pointer (C11's qsort has none): canonical
 * orders depend on the object's replica table, and the library must stay
 * thread-safe, so no global comparator state. O(n log n), no allocation.
 */
#ifndef CRDT_SRC_SORT_H
#define CRDT_SRC_SORT_H

#include <stddef.h>

typedef int (*crdt__cmp_fn)(const void *a, const void *b, const void *ctx);

void crdt__sort(void *base, size_t n, size_t size, crdt__cmp_fn cmp,
                const void *ctx);

#endif

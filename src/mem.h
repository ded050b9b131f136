/*
 * Internal allocation helpers: every allocation of the library goes through
 * the allocator an object captured at creation (crdt__mem_default() at that
 * moment). Sizes travel with every call so counting hooks stay exact.
 */
#ifndef CRDT_SRC_MEM_H
#define CRDT_SRC_MEM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "crdt/common.h"

/* The default allocator in force now (copy it into new objects). */
const crdt_allocator *crdt__mem_default(void);

static inline void *crdt__alloc(const crdt_allocator *m, size_t n) {
  return n ? m->alloc(m->user, n) : NULL;
}

/* Asks the kernel to back the whole 2 MiB pages inside a large block (4 MiB
 * or more) with transparent huge pages, where the platform has them: the
 * element index and entry array of a large store are read at random, and
 * with 4 KiB pages nearly every access would also miss the TLB. Only a hint
 * about memory the block owns; nothing depends on it being taken. */
void crdt__advise_huge(void *p, size_t n);
/* The smallest block crdt__advise_huge does anything for. */
#define CRDT__HUGE_MIN ((size_t)4 << 20)

static inline void *crdt__calloc(const crdt_allocator *m, size_t count,
                                 size_t size) {
  if (count && size > SIZE_MAX / count) return NULL;
  void *p = crdt__alloc(m, count * size);
  if (p) {
    crdt__advise_huge(p, count * size); /* before the pages are touched */
    memset(p, 0, count * size);
  }
  return p;
}

/* realloc that tolerates NULL (alloc) and keeps `p` valid on failure. */
static inline void *crdt__realloc(const crdt_allocator *m, void *p,
                                  size_t old_n, size_t new_n) {
  if (!p) return crdt__alloc(m, new_n);
  return m->realloc(m->user, p, old_n, new_n);
}

static inline void crdt__free(const crdt_allocator *m, void *p, size_t n) {
  if (p) m->free(m->user, p, n);
}

/* The capacity an array of `cap` elements grows to (from `first` when
 * empty) by doubling until it holds `need`; `need` itself when doubling
 * would pass 2^32. */
static inline uint32_t crdt__grow_cap(uint32_t cap, uint32_t first,
                                      uint32_t need) {
  if (!cap) cap = first;
  while (cap < need) cap = cap > UINT32_MAX / 2 ? need : cap * 2;
  return cap;
}

/* n * size without overflow; SIZE_MAX when it would overflow (allocation of
 * SIZE_MAX then fails cleanly). */
static inline size_t crdt__mul(size_t n, size_t size) {
  return (size && n > SIZE_MAX / size) ? SIZE_MAX : n * size;
}

#endif

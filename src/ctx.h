/*
 * Causal kernel, internal: dense version vectors indexed by replica index,
 * the dot cloud, and causal contexts (vector + cloud).
 *
 * A context is a set of dots. `vv[r] = n` says dots (r,1)..(r,n) are in the
 * set; the cloud holds the dots beyond that prefix. Invariant: no cloud dot
 * (r,k) has k <= vv[r] + 1 (it would be part of the prefix: adding a dot that
 * fills a gap compacts the cloud). `top[r]` is the highest counter of r in
 * the set, so the next dot a replica creates is top[r] + 1 in O(1).
 *
 * Fallible steps (allocation) are separated from infallible ones: callers
 * reserve first, then apply, so that every public operation is atomic.
 */
#ifndef CRDT_SRC_CTX_H
#define CRDT_SRC_CTX_H

#include <stdbool.h>
#include <stdint.h>

#include "mem.h"
#include "replicas.h"

typedef struct crdt__dot {
  uint64_t counter; /* >= 1 */
  uint32_t replica; /* index in the owning object's replica table */
} crdt__dot;

/* Dense vector: n[i] for replica index i < len; absent entries are 0. */
typedef struct crdt__vv {
  uint64_t *n;
  uint32_t len, cap;
} crdt__vv;

static inline uint64_t crdt__vv_get(const crdt__vv *v, uint32_t i) {
  return i < v->len ? v->n[i] : 0;
}

/* Makes len >= `len` (new entries 0). On CRDT_ENOMEM v is unchanged. */
int crdt__vv_reserve(crdt__vv *v, const crdt_allocator *m, uint32_t len);
void crdt__vv_free(crdt__vv *v, const crdt_allocator *m);
/* Deep copy into an empty vector. */
int crdt__vv_copy(crdt__vv *dst, const crdt_allocator *m, const crdt__vv *src);

/* Open-addressing set of dots (linear probing, backward-shift deletion;
 * counter 0 marks an empty slot). */
typedef struct crdt__cloud {
  crdt__dot *slots;
  uint32_t cap; /* 0 or a power of two */
  uint32_t count;
} crdt__cloud;

bool crdt__cloud_has(const crdt__cloud *c, crdt__dot d);

typedef struct crdt__ctx {
  crdt__vv vv;
  crdt__vv top;
  crdt__cloud cloud;
} crdt__ctx;

void crdt__ctx_free(crdt__ctx *c, const crdt_allocator *m);
int crdt__ctx_copy(crdt__ctx *dst, const crdt_allocator *m,
                   const crdt__ctx *src);

static inline bool crdt__ctx_has(const crdt__ctx *c, crdt__dot d) {
  return d.counter <= crdt__vv_get(&c->vv, d.replica) ||
         (c->cloud.count && crdt__cloud_has(&c->cloud, d));
}

/* Counter of the next dot `replica` would create (top + 1); CRDT_ERANGE when
 * the counter space is exhausted. */
int crdt__ctx_next(const crdt__ctx *c, uint32_t replica, uint64_t *counter);

/* Makes room so that `dots` further crdt__ctx_add calls for replicas with
 * index < nreplicas cannot fail. On CRDT_ENOMEM the context is unchanged
 * (capacity may have grown, the set has not). */
int crdt__ctx_grow(crdt__ctx *c, const crdt_allocator *m, uint32_t nreplicas,
                   uint32_t dots);
static inline int crdt__ctx_reserve(crdt__ctx *c, const crdt_allocator *m,
                                    uint32_t nreplicas, uint32_t dots) {
  if (nreplicas <= c->vv.len && nreplicas <= c->top.len &&
      ((uint64_t)c->cloud.count + dots) * 4 <= (uint64_t)c->cloud.cap * 3)
    return 0; /* the usual case: room already */
  return crdt__ctx_grow(c, m, nreplicas, dots);
}

/* Room so that crdt__ctx_add(c, d) cannot fail, for tables of `nreplicas`:
 * none is needed when d extends its replica's prefix (an update's own next
 * dot, usually), which crdt__ctx_add then only raises. */
static inline int crdt__ctx_reserve_dot(crdt__ctx *c, const crdt_allocator *m,
                                        uint32_t nreplicas, crdt__dot d) {
  if (d.replica < c->vv.len && d.replica < c->top.len &&
      c->vv.n[d.replica] + 1 == d.counter)
    return 0;
  return crdt__ctx_reserve(c, m, nreplicas, 1);
}

/* Adds a dot (after crdt__ctx_reserve); never fails. Compacts the cloud. */
void crdt__ctx_add(crdt__ctx *c, crdt__dot d);

/* Convenience: reserve + add. */
int crdt__ctx_insert(crdt__ctx *c, const crdt_allocator *m, crdt__dot d);

/* Reserves room in dst for joining src whose replica i maps to dst index
 * map[i] (map may be NULL when src has no replicas). */
int crdt__ctx_reserve_join(crdt__ctx *dst, const crdt_allocator *m,
                           uint32_t dst_replicas, const crdt__ctx *src);

/* dst := dst ∪ src (after crdt__ctx_reserve_join); never fails. map[i] is
 * the dst index of src replica i, for the nmap replicas of src's table (a
 * vector may be longer than its table after an undone intern; such entries
 * are 0). Linear in the size of src's representation, plus dst's cloud when
 * a prefix rose and dst has a cloud. */
void crdt__ctx_join(crdt__ctx *dst, const crdt__ctx *src, const uint32_t *map,
                    uint32_t nmap);


/* Compares two contexts as sets of dots. The replica tables give the ids, so
 * contexts of different objects compare by replica id. */
crdt_order crdt__ctx_compare(const crdt__ctx *a, const crdt__replicas *ra,
                             const crdt__ctx *b, const crdt__replicas *rb);

struct crdt__text;
/* Appends the context as text in canonical order: `{A:2, B:1}`, followed by
 * ` + {A:4, C:7}` when the cloud is not empty. Counters of 0 are omitted. */
int crdt__ctx_format(struct crdt__text *t, const crdt__ctx *c,
                     const crdt__replicas *r, const crdt_allocator *m);

#endif

/*
 * Version vectors, dot cloud and causal contexts (see ctx.h).
 */
#include <string.h>

#include "ctx.h"

/* ---- dense version vectors ---------------------------------------------- */

int crdt__vv_reserve(crdt__vv *v, const crdt_allocator *m, uint32_t len) {
  if (len <= v->len) return 0;
  if (len > v->cap) {
    uint32_t cap = crdt__grow_cap(v->cap, 4, len);
    uint64_t *n = crdt__realloc(m, v->n, v->cap * sizeof *n,
                                crdt__mul(cap, sizeof *n));
    if (!n) return CRDT_ENOMEM;
    v->n = n;
    v->cap = cap;
  }
  memset(v->n + v->len, 0, (len - v->len) * sizeof *v->n);
  v->len = len;
  return 0;
}

void crdt__vv_free(crdt__vv *v, const crdt_allocator *m) {
  crdt__free(m, v->n, v->cap * sizeof *v->n);
  memset(v, 0, sizeof *v);
}

int crdt__vv_copy(crdt__vv *dst, const crdt_allocator *m, const crdt__vv *src) {
  memset(dst, 0, sizeof *dst);
  if (crdt__vv_reserve(dst, m, src->len)) return CRDT_ENOMEM;
  if (src->len) memcpy(dst->n, src->n, src->len * sizeof *src->n);
  return 0;
}

/* ---- dot cloud -------------------------------------------------------------- */

static inline uint32_t dot_hash(crdt__dot d) {
  uint64_t h = d.counter * 0x9E3779B97F4A7C15ull ^
               ((uint64_t)d.replica + 1) * 0xC2B2AE3D27D4EB4Full;
  h ^= h >> 29;
  h *= 0xBF58476D1CE4E5B9ull;
  return (uint32_t)(h ^ (h >> 32));
}

static inline bool dot_eq(crdt__dot a, crdt__dot b) {
  return a.counter == b.counter && a.replica == b.replica;
}

bool crdt__cloud_has(const crdt__cloud *c, crdt__dot d) {
  if (!c->count) return false;
  uint32_t mask = c->cap - 1;
  for (uint32_t i = dot_hash(d) & mask;; i = (i + 1) & mask) {
    if (c->slots[i].counter == 0) return false;
    if (dot_eq(c->slots[i], d)) return true;
  }
}

/* Inserts a dot known to be absent; capacity must allow it. */
static void cloud_put(crdt__cloud *c, crdt__dot d) {
  uint32_t mask = c->cap - 1;
  uint32_t i = dot_hash(d) & mask;
  while (c->slots[i].counter != 0) i = (i + 1) & mask;
  c->slots[i] = d;
  c->count++;
}

/* Removes the dot in slot i and closes the gap (backward shift), so lookups
 * never meet a tombstone. */
static void cloud_remove_at(crdt__cloud *c, uint32_t i) {
  uint32_t mask = c->cap - 1;
  uint32_t hole = i;
  for (uint32_t j = (i + 1) & mask; c->slots[j].counter != 0;
       j = (j + 1) & mask) {
    uint32_t home = dot_hash(c->slots[j]) & mask;
    /* Move j into the hole when its home is not in (hole, j] cyclically. */
    if (((j - home) & mask) >= ((j - hole) & mask)) {
      c->slots[hole] = c->slots[j];
      hole = j;
    }
  }
  c->slots[hole].counter = 0;
  c->slots[hole].replica = 0;
  c->count--;
}

static bool cloud_remove(crdt__cloud *c, crdt__dot d) {
  if (!c->count) return false;
  uint32_t mask = c->cap - 1;
  for (uint32_t i = dot_hash(d) & mask;; i = (i + 1) & mask) {
    if (c->slots[i].counter == 0) return false;
    if (dot_eq(c->slots[i], d)) {
      cloud_remove_at(c, i);
      return true;
    }
  }
}

/* Room for `extra` more dots at a load factor of at most 3/4. */
static int cloud_reserve(crdt__cloud *c, const crdt_allocator *m,
                         uint32_t extra) {
  uint64_t need = (uint64_t)c->count + extra;
  if (need * 4 <= (uint64_t)c->cap * 3) return 0;
  uint64_t cap = c->cap ? c->cap : 8;
  while (need * 4 > cap * 3) cap *= 2;
  if (cap > (UINT32_MAX / 2) + 1) return CRDT_ETOOMANY;
  crdt__dot *slots = crdt__calloc(m, (size_t)cap, sizeof *slots);
  if (!slots) return CRDT_ENOMEM;
  crdt__cloud grown = {slots, (uint32_t)cap, 0};
  for (uint32_t i = 0; i < c->cap; i++)
    if (c->slots[i].counter) cloud_put(&grown, c->slots[i]);
  crdt__free(m, c->slots, c->cap * sizeof *c->slots);
  *c = grown;
  return 0;
}

/* ---- causal contexts -------------------------------------------------------- */

void crdt__ctx_free(crdt__ctx *c, const crdt_allocator *m) {
  crdt__vv_free(&c->vv, m);
  crdt__vv_free(&c->top, m);
  crdt__free(m, c->cloud.slots, c->cloud.cap * sizeof *c->cloud.slots);
  memset(c, 0, sizeof *c);
}

int crdt__ctx_copy(crdt__ctx *dst, const crdt_allocator *m,
                   const crdt__ctx *src) {
  memset(dst, 0, sizeof *dst);
  if (crdt__vv_copy(&dst->vv, m, &src->vv) ||
      crdt__vv_copy(&dst->top, m, &src->top))
    goto fail;
  if (src->cloud.cap) {
    dst->cloud.slots = crdt__alloc(m, src->cloud.cap * sizeof *src->cloud.slots);
    if (!dst->cloud.slots) goto fail;
    memcpy(dst->cloud.slots, src->cloud.slots,
           src->cloud.cap * sizeof *src->cloud.slots);
    dst->cloud.cap = src->cloud.cap;
    dst->cloud.count = src->cloud.count;
  }
  return 0;
fail:
  crdt__ctx_free(dst, m);
  return CRDT_ENOMEM;
}

int crdt__ctx_next(const crdt__ctx *c, uint32_t replica, uint64_t *counter) {
  uint64_t top = crdt__vv_get(&c->top, replica);
  if (top == UINT64_MAX) return CRDT_ERANGE;
  *counter = top + 1;
  return 0;
}

int crdt__ctx_grow(crdt__ctx *c, const crdt_allocator *m, uint32_t nreplicas,
                   uint32_t dots) {
  if (crdt__vv_reserve(&c->vv, m, nreplicas) ||
      crdt__vv_reserve(&c->top, m, nreplicas) ||
      cloud_reserve(&c->cloud, m, dots))
    return CRDT_ENOMEM;
  return 0;
}

/* Pulls cloud dots (r, vv[r]+1), (r, vv[r]+2), ... into the prefix. */
static void compact_replica(crdt__ctx *c, uint32_t r) {
  while (c->cloud.count &&
         cloud_remove(&c->cloud, (crdt__dot){c->vv.n[r] + 1, r}))
    c->vv.n[r]++;
}

void crdt__ctx_add(crdt__ctx *c, crdt__dot d) {
  uint32_t r = d.replica;
  if (d.counter <= c->vv.n[r]) return;
  if (d.counter > c->top.n[r]) c->top.n[r] = d.counter;
  if (d.counter == c->vv.n[r] + 1) {
    c->vv.n[r] = d.counter;
    compact_replica(c, r);
  } else if (!crdt__cloud_has(&c->cloud, d)) {
    cloud_put(&c->cloud, d);
  }
}

int crdt__ctx_insert(crdt__ctx *c, const crdt_allocator *m, crdt__dot d) {
  uint32_t n = d.replica + 1;
  if (n < c->vv.len) n = c->vv.len;
  int rc = crdt__ctx_reserve(c, m, n, 1);
  if (rc) return rc;
  crdt__ctx_add(c, d);
  return 0;
}

int crdt__ctx_reserve_join(crdt__ctx *dst, const crdt_allocator *m,
                           uint32_t dst_replicas, const crdt__ctx *src) {
  if (dst_replicas < dst->vv.len) dst_replicas = dst->vv.len;
  return crdt__ctx_reserve(dst, m, dst_replicas, src->cloud.count);
}

void crdt__ctx_join(crdt__ctx *dst, const crdt__ctx *src, const uint32_t *map,
                    uint32_t nmap) {
  bool raised = false;
  for (uint32_t i = 0; i < nmap; i++) {
    uint32_t r = map[i];
    uint64_t n = crdt__vv_get(&src->vv, i), top = crdt__vv_get(&src->top, i);
    if (n > dst->vv.n[r]) {
      dst->vv.n[r] = n;
      raised = true;
    }
    if (top > dst->top.n[r]) dst->top.n[r] = top;
  }
  if (raised && dst->cloud.count) {
    /* Drop cloud dots the raised prefixes now cover. Removing at i shifts
     * later dots into i, so i is examined again. */
    for (uint32_t i = 0; i < dst->cloud.cap;) {
      crdt__dot d = dst->cloud.slots[i];
      if (d.counter != 0 && d.counter <= dst->vv.n[d.replica])
        cloud_remove_at(&dst->cloud, i);
      else
        i++;
    }
  }
  for (uint32_t i = 0; i < src->cloud.cap; i++) {
    crdt__dot d = src->cloud.slots[i];
    if (d.counter == 0) continue;
    crdt__ctx_add(dst, (crdt__dot){d.counter, map[d.replica]});
  }
  if (raised && dst->cloud.count)
    for (uint32_t i = 0; i < nmap; i++) compact_replica(dst, map[i]);
}

/* Is every dot of a also in b? Replica ids are matched through the tables. */
static bool ctx_subset(const crdt__ctx *a, const crdt__replicas *ra,
                       const crdt__ctx *b, const crdt__replicas *rb) {
  for (uint32_t i = 0; i < a->vv.len; i++) {
    uint64_t have = a->vv.n[i];
    if (!have) continue;
    size_t len;
    const char *id = crdt__replicas_id(ra, i, &len);
    uint32_t j = crdt__replicas_find(rb, id, len);
    if (j == CRDT__NO_REPLICA) return false;
    uint64_t prefix = crdt__vv_get(&b->vv, j);
    if (have <= prefix) continue;
    /* (prefix, have] must all be in b's cloud: impossible if it has fewer. */
    if (have - prefix > b->cloud.count) return false;
    for (uint64_t k = prefix + 1; k <= have; k++)
      if (!crdt__cloud_has(&b->cloud, (crdt__dot){k, j})) return false;
  }
  for (uint32_t i = 0; i < a->cloud.cap; i++) {
    crdt__dot d = a->cloud.slots[i];
    if (d.counter == 0) continue;
    size_t len;
    const char *id = crdt__replicas_id(ra, d.replica, &len);
    uint32_t j = crdt__replicas_find(rb, id, len);
    if (j == CRDT__NO_REPLICA || !crdt__ctx_has(b, (crdt__dot){d.counter, j}))
      return false;
  }
  return true;
}

crdt_order crdt__ctx_compare(const crdt__ctx *a, const crdt__replicas *ra,
                             const crdt__ctx *b, const crdt__replicas *rb) {
  bool le = ctx_subset(a, ra, b, rb);
  bool ge = ctx_subset(b, rb, a, ra);
  if (le && ge) return CRDT_EQUAL;
  if (le) return CRDT_BEFORE;
  if (ge) return CRDT_AFTER;
  return CRDT_CONCURRENT;
}

/* ---- canonical text ----------------------------------------------------- */

#include <stdlib.h>

#include "text.h"

typedef struct named_dot {
  const crdt__rid *rid;
  uint64_t counter;
} named_dot;

static int named_dot_cmp(const void *a, const void *b) {
  const named_dot *x = a, *y = b;
  int c = crdt__replica_cmp(x->rid->id, x->rid->len, y->rid->id, y->rid->len);
  if (c) return c;
  return (x->counter > y->counter) - (x->counter < y->counter);
}

int crdt__ctx_format(crdt__text *t, const crdt__ctx *c,
                     const crdt__replicas *r, const crdt_allocator *m) {
  uint32_t *order;
  int rc = crdt__replicas_sorted(r, m, &order);
  if (rc) return rc;
  named_dot *cloud = NULL;
  if (c->cloud.count) {
    cloud = crdt__alloc(m, crdt__mul(c->cloud.count, sizeof *cloud));
    if (!cloud) {
      crdt__free(m, order, r->count * sizeof *order);
      return CRDT_ENOMEM;
    }
    uint32_t n = 0;
    for (uint32_t i = 0; i < c->cloud.cap; i++)
      if (c->cloud.slots[i].counter)
        cloud[n++] = (named_dot){r->by_index[c->cloud.slots[i].replica],
                                 c->cloud.slots[i].counter};
    qsort(cloud, n, sizeof *cloud, named_dot_cmp);
  }
  crdt__text_put(t, "{", 1);
  bool first = true;
  for (uint32_t k = 0; k < r->count; k++) {
    uint64_t n = crdt__vv_get(&c->vv, order[k]);
    if (!n) continue;
    if (!first) crdt__text_put(t, ", ", 2);
    first = false;
    const crdt__rid *rid = r->by_index[order[k]];
    crdt__text_put(t, rid->id, rid->len);
    crdt__text_put(t, ":", 1);
    crdt__text_u64(t, n);
  }
  crdt__text_put(t, "}", 1);
  if (cloud) {
    crdt__text_put(t, " + {", 4);
    for (uint32_t k = 0; k < c->cloud.count; k++) {
      if (k) crdt__text_put(t, ", ", 2);
      crdt__text_put(t, cloud[k].rid->id, cloud[k].rid->len);
      crdt__text_put(t, ":", 1);
      crdt__text_u64(t, cloud[k].counter);
    }
    crdt__text_put(t, "}", 1);
    crdt__free(m, cloud, c->cloud.count * sizeof *cloud);
  }
  crdt__free(m, order, r->count * sizeof *order);
  return 0;
}

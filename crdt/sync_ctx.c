/*
 * Sync sessions: the canonical contexts of HELLO snapshots, a set of 64-bit
 * values, and the cold round's plan (see syncops.h).
 */
#include <string.h>

#include "syncops.h"

void crdt__sctx_free(crdt__sctx *s, const crdt_allocator *m) {
  crdt__ctx_free(&s->c, m);
  crdt__replicas_free(&s->r, m);
  memset(s, 0, sizeof *s);
}

void crdt__sctx_put(crdt__wbuf *w, const crdt__sctx *s) {
  crdt__wire_put_context(w, &s->c, &s->r);
}

int crdt__sctx_get(crdt__rbuf *r, const crdt_allocator *m, crdt__sctx *out) {
  memset(out, 0, sizeof *out);
  int rc = crdt__wire_get_context(r, m, &out->c, &out->r, crdt__r_left(r));
  if (rc) crdt__sctx_free(out, m);
  return rc;
}

int crdt__sctx_from(crdt__sctx *out, const crdt_allocator *m,
                    const crdt__ctx *ctx, const crdt__replicas *r) {
  crdt__wbuf w = crdt__wbuf_into(NULL, 0, m);
  crdt__wire_put_context(&w, ctx, r);
  int rc = w.err;
  if (!rc) {
    crdt__rbuf in = {w.data, w.data + w.len};
    rc = crdt__wire_get_context(&in, m, &out->c, &out->r, SIZE_MAX / 32);
    if (rc) crdt__sctx_free(out, m);
  }
  crdt__wbuf_free(&w);
  return rc;
}

uint64_t crdt__sctx_size(const crdt__sctx *s) {
  uint64_t n = s->c.cloud.count;
  for (uint32_t i = 0; i < s->r.count; i++) {
    uint64_t p = crdt__vv_get(&s->c.vv, i);
    n = n + p < n ? UINT64_MAX : n + p;
  }
  return n;
}

static uint32_t index_in(const crdt__sctx *b, const crdt__sctx *a, uint32_t i) {
  return crdt__replicas_find_rid(&b->r, a->r.by_index[i]);
}

uint64_t crdt__sctx_minus(const crdt__sctx *a, const crdt__sctx *b) {
  uint64_t n = 0;
  for (uint32_t i = 0; i < a->r.count; i++) {
    uint64_t have = crdt__vv_get(&a->c.vv, i);
    uint32_t j = index_in(b, a, i);
    uint64_t theirs = j == CRDT__NO_REPLICA ? 0 : crdt__vv_get(&b->c.vv, j);
    if (have <= theirs) continue;
    uint64_t extra = have - theirs;
    /* b's cloud dots inside (theirs, have] are not missing */
    if (j != CRDT__NO_REPLICA && b->c.cloud.count) {
      const crdt__cloud *cl = &b->c.cloud;
      for (uint32_t s = 0; s < cl->cap; s++)
        if (cl->slots[s].counter && cl->slots[s].replica == j &&
            cl->slots[s].counter <= have)
          extra--;
    }
    n += extra;
  }
  const crdt__cloud *cl = &a->c.cloud;
  for (uint32_t s = 0; s < cl->cap; s++) {
    crdt__dot d = cl->slots[s];
    if (!d.counter) continue;
    uint32_t j = index_in(b, a, d.replica);
    if (j == CRDT__NO_REPLICA || !crdt__ctx_has(&b->c, (crdt__dot){d.counter, j}))
      n++;
  }
  return n;
}

bool crdt__sctx_equal(const crdt__sctx *a, const crdt__sctx *b) {
  return crdt__ctx_compare(&a->c, &a->r, &b->c, &b->r) == CRDT_EQUAL;
}

bool crdt__sctx_covers(const crdt__sctx *a, const crdt__sctx *b) {
  crdt_order o = crdt__ctx_compare(&a->c, &a->r, &b->c, &b->r);
  return o == CRDT_EQUAL || o == CRDT_AFTER;
}

/* ---- a set of 64-bit values ---------------------------------------------- */

static uint32_t mix(uint64_t v) {
  v ^= v >> 33;
  v *= UINT64_C(0xff51afd7ed558ccd);
  v ^= v >> 33;
  return (uint32_t)v;
}

static void put_slot(uint64_t *slots, uint32_t cap, uint64_t v) {
  for (uint32_t i = mix(v) & (cap - 1);; i = (i + 1) & (cap - 1))
    if (!slots[i]) {
      slots[i] = v;
      return;
    }
}

int crdt__u64set_add(crdt__u64set *s, const crdt_allocator *m, uint64_t v) {
  if (v == 0) {
    s->zero = true;
    return 0;
  }
  if (crdt__u64set_has(s, v)) return 0;
  if ((uint64_t)(s->count + 1) * 2 > s->cap) {
    if (s->cap >= (UINT32_C(1) << 31)) return CRDT_ETOOMANY;
    uint32_t cap = s->cap ? s->cap * 2 : 64;
    uint64_t *slots = crdt__calloc(m, cap, sizeof *slots);
    if (!slots) return CRDT_ENOMEM;
    for (uint32_t i = 0; i < s->cap; i++)
      if (s->slots[i]) put_slot(slots, cap, s->slots[i]);
    crdt__free(m, s->slots, s->cap * sizeof *s->slots);
    s->slots = slots;
    s->cap = cap;
  }
  put_slot(s->slots, s->cap, v);
  s->count++;
  return 0;
}

bool crdt__u64set_has(const crdt__u64set *s, uint64_t v) {
  if (v == 0) return s->zero;
  if (!s->cap) return false;
  for (uint32_t i = mix(v) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
    if (s->slots[i] == v) return true;
    if (!s->slots[i]) return false;
  }
}

void crdt__u64set_free(crdt__u64set *s, const crdt_allocator *m) {
  crdt__free(m, s->slots, s->cap * sizeof *s->slots);
  memset(s, 0, sizeof *s);
}

/* ---- the cold round -------------------------------------------------------- */

void crdt__cold_free(crdt__cold *k, const crdt_allocator *m) {
  crdt__free(m, k->mine_common, k->mine ? k->mine->r.count * sizeof(uint32_t) : 0);
  crdt__free(m, k->peer_common, k->peer ? k->peer->r.count * sizeof(uint32_t) : 0);
  crdt__free(m, k->cells, k->m_store * sizeof *k->cells);
  crdt__free(m, k->peer_cells, k->m_store * sizeof *k->peer_cells);
  crdt__riblt_diff_free(&k->diff, m);
  crdt__free(m, k->dead, k->dead_cap * sizeof *k->dead);
  crdt__free(m, k->keys, k->keys_cap);
  crdt__free(m, k->offs, k->offs_cap * sizeof *k->offs);
  crdt__free(m, k->live, k->live_cap * sizeof *k->live);
  crdt__free(m, k->runs, k->runs_cap * sizeof *k->runs);
  crdt__sctx_free(&k->dead_in, m);
  for (uint32_t i = 0; i < k->npend; i++)
    crdt__free(m, k->pend[i].body, k->pend[i].len);
  crdt__free(m, k->pend, k->pend_cap * sizeof *k->pend);
  memset(k, 0, sizeof *k);
}

int crdt__sync_grow(const crdt_allocator *m, void *p, uint32_t *cap,
                    uint32_t need, size_t size, uint32_t first) {
  if (need <= *cap) return 0;
  if (need > UINT32_MAX / 2) return CRDT_ETOOMANY;
  const uint32_t n = crdt__grow_cap(*cap, first, need);
  void *old; /* *p is some T *: copied, not read through a void * lvalue */
  memcpy(&old, p, sizeof old);
  void *q = crdt__realloc(m, old, (size_t)*cap * size, crdt__mul(n, size));
  if (!q) return CRDT_ENOMEM;
  memcpy(p, &q, sizeof q);
  *cap = n;
  return 0;
}

int crdt__cold_plan_key(crdt__cold *k, const crdt_allocator *m,
                        const void *key, size_t len) {
  const bool first = !k->offs_cap;
  int rc = crdt__sync_grow(m, &k->offs, &k->offs_cap, k->nkeys + 2,
                           sizeof *k->offs, 64);
  if (rc) return rc;
  if (first) k->offs[0] = 0;
  if (!k->keys || k->keys_len + len > k->keys_cap) { /* never NULL */
    size_t cap = k->keys_cap ? k->keys_cap : 1024;
    while (cap < k->keys_len + len) cap *= 2;
    if (cap > UINT32_MAX) return CRDT_ETOOMANY;
    uint8_t *p = crdt__realloc(m, k->keys, k->keys_cap, cap);
    if (!p) return CRDT_ENOMEM;
    k->keys = p;
    k->keys_cap = cap;
  }
  if (len) memcpy(k->keys + k->keys_len, key, len);
  k->keys_len += len;
  k->offs[++k->nkeys] = (uint32_t)k->keys_len;
  return 0;
}

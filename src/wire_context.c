/*
 * Replica tables and causal contexts on the wire (docs/format.md, "Replica
 * table", "Causal context", "Context token").
 */
#include <string.h>

#include "sort.h"
#include "wire_priv.h"

/* ---- contexts ------------------------------------------------------------- */

static int cloud_cmp(const void *a, const void *b, const void *ctx) {
  (void)ctx;
  const cloud_dot *x = a, *y = b;
  if (x->rank != y->rank) return x->rank < y->rank ? -1 : 1;
  return (x->counter > y->counter) - (x->counter < y->counter);
}

/* Idempotent: ranking_make frees on failure, and its callers free again. */
void crdt__ranking_free(ranking *k, const crdt_allocator *m) {
  crdt__free(m, k->list, k->count * sizeof *k->list);
  crdt__free(m, k->rank, k->count * sizeof *k->rank);
  k->list = k->rank = NULL;
}

int crdt__ranking_make(ranking *k, const crdt__ctx *ctx,
                       const crdt__replicas *reps, const crdt_allocator *m) {
  memset(k, 0, sizeof *k);
  k->count = reps->count;
  if (!k->count) return 0;
  int rc = crdt__replicas_sorted(reps, m, &k->list);
  if (rc) return rc;
  k->rank = crdt__alloc(m, crdt__mul(k->count, sizeof *k->rank));
  if (!k->rank) {
    crdt__ranking_free(k, m);
    return CRDT_ENOMEM;
  }
  for (uint32_t i = 0; i < k->count; i++) k->rank[i] = 0; /* 1 = referenced */
  for (uint32_t i = 0; i < k->count; i++)
    if (crdt__vv_get(&ctx->vv, i)) k->rank[i] = 1;
  for (uint32_t i = 0; i < ctx->cloud.cap; i++)
    if (ctx->cloud.slots[i].counter) k->rank[ctx->cloud.slots[i].replica] = 1;
  uint32_t n = 0;
  for (uint32_t i = 0; i < k->count; i++) {
    uint32_t r = k->list[i];
    if (k->rank[r]) k->list[n++] = r;
  }
  k->n = n;
  for (uint32_t i = 0; i < k->count; i++) k->rank[i] = UINT32_MAX;
  for (uint32_t i = 0; i < n; i++) k->rank[k->list[i]] = i;
  return 0;
}

/* The cloud's dots sorted by (rank, counter), into *out (ctx->cloud.count
 * of them, allocated with m; NULL when the cloud is empty). */
int crdt__cloud_sorted(const crdt__ctx *ctx, const ranking *k,
                       const crdt_allocator *m, cloud_dot **out) {
  *out = NULL;
  if (!ctx->cloud.count) return 0;
  cloud_dot *cloud = crdt__alloc(m, crdt__mul(ctx->cloud.count, sizeof *cloud));
  if (!cloud) return CRDT_ENOMEM;
  uint32_t n = 0;
  for (uint32_t i = 0; i < ctx->cloud.cap; i++) {
    crdt__dot d = ctx->cloud.slots[i];
    if (d.counter) cloud[n++] = (cloud_dot){d.counter, k->rank[d.replica]};
  }
  crdt__sort(cloud, n, sizeof *cloud, cloud_cmp, NULL);
  *out = cloud;
  return 0;
}

/* Replica table and context, from the cloud in canonical order. */
void crdt__put_context(sink *o, const crdt__ctx *ctx,
                       const crdt__replicas *reps, const ranking *k,
                       const cloud_dot *cloud) {
  sink_varint(o, k->n);
  for (uint32_t i = 0; i < k->n; i++) {
    size_t len;
    const char *id = crdt__replicas_id(reps, k->list[i], &len);
    sink_varint(o, len);
    sink_bytes(o, id, len);
  }
  uint32_t c = 0;
  for (uint32_t i = 0; i < k->n; i++) {
    uint64_t prefix = crdt__vv_get(&ctx->vv, k->list[i]);
    sink_varint(o, prefix);
    /* The replica's cloud as maximal runs: count them first. */
    uint32_t first = c, runs = 0;
    while (c < ctx->cloud.count && cloud[c].rank == i) {
      if (c == first || cloud[c].counter != cloud[c - 1].counter + 1) runs++;
      c++;
    }
    sink_varint(o, runs);
    uint64_t prev = prefix;
    for (uint32_t j = first; j < c;) {
      uint32_t end = j + 1;
      while (end < c && cloud[end].counter == cloud[end - 1].counter + 1) end++;
      sink_varint(o, cloud[j].counter - prev - 2);
      sink_varint(o, end - j - 1);
      prev = cloud[end - 1].counter;
      j = end;
    }
  }
}

void crdt__w_context(crdt__wbuf *w, const crdt__ctx *ctx,
                     const crdt__replicas *reps, const ranking *k,
                     const cloud_dot *cloud) {
  sink o = {NULL, 0};
  crdt__put_context(&o, ctx, reps, k, cloud);
  uint8_t *at = crdt__w_take(w, o.size);
  if (!at) return;
  o = (sink){at, 0};
  crdt__put_context(&o, ctx, reps, k, cloud);
}

void crdt__wire_put_context(crdt__wbuf *w, const crdt__ctx *ctx,
                            const crdt__replicas *r) {
  ranking k;
  cloud_dot *cloud = NULL;
  int rc = crdt__ranking_make(&k, ctx, r, w->mem);
  if (!rc) rc = crdt__cloud_sorted(ctx, &k, w->mem, &cloud);
  if (rc) {
    if (!w->err) w->err = rc;
  } else {
    sink o = {NULL, 0};
    crdt__put_context(&o, ctx, r, &k, cloud);
    if (crdt__frame_body(w, o.size)) {
      o = (sink){w->data + w->len, 0};
      crdt__put_context(&o, ctx, r, &k, cloud);
      w->len += o.size;
    }
  }
  crdt__free(w->mem, cloud, ctx->cloud.count * sizeof *cloud);
  crdt__ranking_free(&k, w->mem);
}

/* Reads the replica table (interned in canonical order, so index = rank) and
 * the context. */
int crdt__wire_get_context(crdt__rbuf *r, const crdt_allocator *m,
                           crdt__ctx *ctx, crdt__replicas *reps,
                           size_t input_len) {
  uint64_t n;
  int rc = crdt__r_count(r, 2, &n);
  if (rc) return rc;
  const uint8_t *prev_id = NULL;
  size_t prev_len = 0;
  for (uint64_t i = 0; i < n; i++) {
    uint64_t len;
    const uint8_t *id;
    if ((rc = crdt__r_varint(r, &len))) return rc;
    if (len == 0 || len > CRDT_REPLICA_MAX) return CRDT_EFORMAT;
    if ((rc = crdt__r_bytes(r, (size_t)len, &id))) return rc;
    if (memchr(id, 0, (size_t)len)) return CRDT_EFORMAT;
    if (prev_id && crdt__replica_cmp((const char *)prev_id, prev_len,
                                     (const char *)id, (size_t)len) >= 0)
      return CRDT_EORDER;
    uint32_t index;
    if ((rc = crdt__replicas_intern(reps, m, (const char *)id, (size_t)len,
                                    &index)))
      return rc;
    prev_id = id;
    prev_len = (size_t)len;
  }
  if ((rc = crdt__ctx_reserve(ctx, m, (uint32_t)n, 0))) return rc;
  uint64_t budget =
      (uint64_t)input_len * CRDT__WIRE_CLOUD_PER_BYTE + CRDT__WIRE_CLOUD_SLACK;
  uint64_t cloud_total = 0;
  for (uint32_t i = 0; i < (uint32_t)n; i++) {
    uint64_t prefix, runs;
    if ((rc = crdt__r_varint(r, &prefix)) || (rc = crdt__r_count(r, 2, &runs)))
      return rc;
    if (prefix == 0 && runs == 0) return CRDT_EFORMAT; /* unreferenced id */
    ctx->vv.n[i] = prefix;
    ctx->top.n[i] = prefix;
    uint64_t prev = prefix;
    for (uint64_t j = 0; j < runs; j++) {
      uint64_t gap, extra;
      if ((rc = crdt__r_varint(r, &gap)) || (rc = crdt__r_varint(r, &extra)))
        return rc;
      /* start = prev + 2 + gap, end = start + extra, all within 64 bits.
       * Test prev first: UINT64_MAX - 2 - prev wraps when prev > 2^64 - 3. */
      if (prev > UINT64_MAX - 2 || gap > UINT64_MAX - 2 - prev)
        return CRDT_EOVERFLOW;
      uint64_t start = prev + 2 + gap;
      if (extra > UINT64_MAX - start) return CRDT_EOVERFLOW;
      if (extra + 1 > budget - cloud_total || extra >= UINT32_MAX / 2)
        return CRDT_ETOOMANY;
      cloud_total += extra + 1;
      if ((rc = crdt__ctx_reserve(ctx, m, (uint32_t)n, (uint32_t)(extra + 1))))
        return rc;
      for (uint64_t k = 0; k <= extra; k++)
        crdt__ctx_add(ctx, (crdt__dot){start + k, i});
      prev = start + extra;
    }
  }
  return 0;
}


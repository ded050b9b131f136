/*
 * Public version vectors and causal contexts. Both are a replica table plus
 * a kernel context; a version vector simply never has a cloud.
 */
#include <string.h>

#include "crdt/context.h"
#include "crdt/vv.h"
#include "ctx.h"
#include "sort.h"
#include "text.h"
#include "vector.h"

typedef struct dots {
  crdt_allocator mem;
  crdt__replicas replicas;
  crdt__ctx ctx;
} dots;

struct crdt_vv {
  dots d;
};
struct crdt_context {
  dots d;
};

static int dots_new(dots **out, size_t size) {
  const crdt_allocator *m = crdt__mem_default();
  dots *d = crdt__calloc(m, 1, size);
  if (!d) return CRDT_ENOMEM;
  d->mem = *m;
  *out = d;
  return 0;
}

static void dots_free(dots *d, size_t size) {
  if (!d) return;
  crdt_allocator mem = d->mem;
  crdt__replicas_free(&d->replicas, &mem);
  crdt__ctx_free(&d->ctx, &mem);
  crdt__free(&mem, d, size);
}

static int dots_copy(const dots *src, dots **out, size_t size) {
  dots *d;
  int rc = dots_new(&d, size);
  if (rc) return rc;
  if ((rc = crdt__replicas_copy(&d->replicas, &d->mem, &src->replicas)) ||
      (rc = crdt__ctx_copy(&d->ctx, &d->mem, &src->ctx))) {
    dots_free(d, size);
    return rc;
  }
  *out = d;
  return 0;
}

/* Index of `replica` in d, interning it and growing the vectors (and the
 * cloud, for `cloud_dots` more dots); on error d is unchanged. */
static int dots_slot(dots *d, const char *replica, uint32_t *index,
                     uint32_t cloud_dots) {
  size_t len;
  int rc = crdt__replica_check(replica, &len);
  if (rc) return rc;
  uint32_t before = d->replicas.count;
  rc = crdt__replicas_intern(&d->replicas, &d->mem, replica, len, index);
  if (rc) return rc;
  rc = crdt__ctx_reserve(&d->ctx, &d->mem, d->replicas.count, cloud_dots);
  if (rc) crdt__replicas_truncate(&d->replicas, &d->mem, before);
  return rc;
}

static uint32_t dots_find(const dots *d, const char *replica) {
  size_t len;
  if (crdt__replica_check(replica, &len)) return CRDT__NO_REPLICA;
  return crdt__replicas_find(&d->replicas, replica, len);
}

static int dots_join(dots *dst, const dots *src) {
  if (dst == src) return 0;
  uint32_t before = dst->replicas.count;
  uint32_t *map;
  int rc = crdt__replicas_map(&dst->replicas, &dst->mem, &src->replicas, &map);
  if (rc) return rc;
  rc = crdt__ctx_reserve_join(&dst->ctx, &dst->mem, dst->replicas.count,
                              &src->ctx);
  if (rc)
    crdt__replicas_truncate(&dst->replicas, &dst->mem, before);
  else
    crdt__ctx_join(&dst->ctx, &src->ctx, map, src->replicas.count);
  crdt__free(&dst->mem, map, src->replicas.count * sizeof *map);
  return rc;
}

static int dots_format(const dots *d, char *buf, size_t cap, size_t *needed) {
  if (!buf && cap) return CRDT_EINVAL;
  crdt__text t = {buf, cap, 0};
  int rc = crdt__ctx_format(&t, &d->ctx, &d->replicas, &d->mem);
  if (rc) return rc;
  return crdt__text_finish(&t, needed);
}

/* ---- version vectors ------------------------------------------------------ */

int crdt_vv_new(crdt_vv **out) {
  if (!out) return CRDT_EINVAL;
  return dots_new((dots **)out, sizeof(crdt_vv));
}

void crdt_vv_free(crdt_vv *vv) { dots_free(vv ? &vv->d : NULL, sizeof *vv); }

int crdt_vv_tick(crdt_vv *vv, const char *replica, uint64_t *counter) {
  if (!vv) return CRDT_EINVAL;
  uint32_t i;
  int rc = dots_slot(&vv->d, replica, &i, 0);
  if (rc) return rc;
  uint64_t next;
  if ((rc = crdt__ctx_next(&vv->d.ctx, i, &next))) return rc;
  crdt__ctx_add(&vv->d.ctx, (crdt__dot){next, i});
  if (counter) *counter = next;
  return 0;
}

uint64_t crdt_vv_get(const crdt_vv *vv, const char *replica) {
  if (!vv) return 0;
  uint32_t i = dots_find(&vv->d, replica);
  return i == CRDT__NO_REPLICA ? 0 : crdt__vv_get(&vv->d.ctx.vv, i);
}

int crdt_vv_observe(crdt_vv *vv, const char *replica, uint64_t counter) {
  if (!vv) return CRDT_EINVAL;
  uint32_t i;
  int rc = dots_slot(&vv->d, replica, &i, 0);
  if (rc) return rc;
  /* A vector has no cloud, so raising the prefix keeps top == vv. */
  if (counter > vv->d.ctx.vv.n[i]) {
    vv->d.ctx.vv.n[i] = counter;
    vv->d.ctx.top.n[i] = counter;
  }
  return 0;
}

int crdt_vv_merge(crdt_vv *dst, const crdt_vv *src) {
  if (!dst || !src) return CRDT_EINVAL;
  return dots_join(&dst->d, &src->d);
}

crdt_order crdt_vv_compare(const crdt_vv *a, const crdt_vv *b) {
  return crdt__ctx_compare(&a->d.ctx, &a->d.replicas, &b->d.ctx,
                           &b->d.replicas);
}

bool crdt_vv_equal(const crdt_vv *a, const crdt_vv *b) {
  return crdt_vv_compare(a, b) == CRDT_EQUAL;
}

int crdt_vv_copy(const crdt_vv *src, crdt_vv **out) {
  if (!src || !out) return CRDT_EINVAL;
  return dots_copy(&src->d, (dots **)out, sizeof(crdt_vv));
}

size_t crdt_vv_size(const crdt_vv *vv) {
  size_t n = 0;
  for (uint32_t i = 0; vv && i < vv->d.ctx.vv.len; i++) n += vv->d.ctx.vv.n[i] != 0;
  return n;
}

int crdt_vv_foreach(const crdt_vv *vv, crdt_vv_visit visit, void *user) {
  if (!vv || !visit) return CRDT_EINVAL;
  uint32_t *order;
  const crdt__replicas *r = &vv->d.replicas;
  int rc = crdt__replicas_sorted(r, &vv->d.mem, &order);
  if (rc) return rc;
  for (uint32_t k = 0; k < r->count && !rc; k++) {
    uint64_t n = crdt__vv_get(&vv->d.ctx.vv, order[k]);
    if (n) rc = visit(crdt__replicas_id(r, order[k], NULL), n, user);
  }
  crdt__free(&vv->d.mem, order, r->count * sizeof *order);
  return rc;
}

int crdt_vv_format(const crdt_vv *vv, char *buf, size_t cap, size_t *needed) {
  if (!vv) return CRDT_EINVAL;
  return dots_format(&vv->d, buf, cap, needed);
}

/* ---- causal contexts -------------------------------------------------------- */

int crdt_context_new(crdt_context **out) {
  if (!out) return CRDT_EINVAL;
  return dots_new((dots **)out, sizeof(crdt_context));
}

void crdt_context_free(crdt_context *ctx) {
  dots_free(ctx ? &ctx->d : NULL, sizeof *ctx);
}

int crdt_context_add(crdt_context *ctx, const char *replica, uint64_t counter) {
  if (!ctx || counter == 0) return CRDT_EINVAL;
  uint32_t i;
  int rc = dots_slot(&ctx->d, replica, &i, 1);
  if (rc) return rc;
  crdt__ctx_add(&ctx->d.ctx, (crdt__dot){counter, i});
  return 0;
}

bool crdt_context_has(const crdt_context *ctx, const char *replica,
                      uint64_t counter) {
  if (!ctx || counter == 0) return false;
  uint32_t i = dots_find(&ctx->d, replica);
  return i != CRDT__NO_REPLICA &&
         crdt__ctx_has(&ctx->d.ctx, (crdt__dot){counter, i});
}

int crdt_context_next(const crdt_context *ctx, const char *replica,
                      uint64_t *counter) {
  size_t len;
  if (!ctx || !counter || crdt__replica_check(replica, &len))
    return CRDT_EINVAL;
  uint32_t i = crdt__replicas_find(&ctx->d.replicas, replica, len);
  if (i == CRDT__NO_REPLICA) {
    *counter = 1;
    return 0;
  }
  return crdt__ctx_next(&ctx->d.ctx, i, counter);
}

uint64_t crdt_context_prefix(const crdt_context *ctx, const char *replica) {
  if (!ctx) return 0;
  uint32_t i = dots_find(&ctx->d, replica);
  return i == CRDT__NO_REPLICA ? 0 : crdt__vv_get(&ctx->d.ctx.vv, i);
}

size_t crdt_context_cloud_size(const crdt_context *ctx) {
  return ctx ? ctx->d.ctx.cloud.count : 0;
}

int crdt_context_join(crdt_context *dst, const crdt_context *src) {
  if (!dst || !src) return CRDT_EINVAL;
  return dots_join(&dst->d, &src->d);
}

crdt_order crdt_context_compare(const crdt_context *a, const crdt_context *b) {
  return crdt__ctx_compare(&a->d.ctx, &a->d.replicas, &b->d.ctx,
                           &b->d.replicas);
}

bool crdt_context_equal(const crdt_context *a, const crdt_context *b) {
  return crdt_context_compare(a, b) == CRDT_EQUAL;
}

int crdt_context_copy(const crdt_context *src, crdt_context **out) {
  if (!src || !out) return CRDT_EINVAL;
  return dots_copy(&src->d, (dots **)out, sizeof(crdt_context));
}

int crdt_context_format(const crdt_context *ctx, char *buf, size_t cap,
                        size_t *needed) {
  if (!ctx) return CRDT_EINVAL;
  return dots_format(&ctx->d, buf, cap, needed);
}

/* One "replica": n member of the vector, or one [replica, n] pair of the
 * cloud, for crdt_context_format_json. */
typedef struct json_dots {
  crdt__text *t;
  bool first;
  bool pairs;
} json_dots;

static int put_json_dot(const char *replica, uint64_t counter, void *user) {
  json_dots *j = user;
  if (!j->first) crdt__text_put(j->t, ", ", 2);
  j->first = false;
  if (j->pairs) crdt__text_put(j->t, "[", 1);
  crdt__text_json(j->t, replica, strlen(replica));
  crdt__text_put(j->t, j->pairs ? ", " : ": ", 2);
  crdt__text_u64(j->t, counter);
  if (j->pairs) crdt__text_put(j->t, "]", 1);
  return 0;
}

int crdt_context_format_json(const crdt_context *ctx, char *buf, size_t cap,
                             size_t *needed) {
  if (!ctx || (!buf && cap)) return CRDT_EINVAL;
  crdt__text t = {buf, cap, 0};
  json_dots j = {&t, true, false};
  crdt__text_str(&t, "{\"vv\": {");
  int rc = crdt_context_foreach_prefix(ctx, put_json_dot, &j);
  crdt__text_put(&t, "}", 1);
  if (!rc && ctx->d.ctx.cloud.count) {
    j = (json_dots){&t, true, true};
    crdt__text_str(&t, ", \"cloud\": [");
    rc = crdt_context_foreach_cloud(ctx, put_json_dot, &j);
    crdt__text_put(&t, "]", 1);
  }
  crdt__text_put(&t, "}", 1);
  if (rc) return rc;
  return crdt__text_finish(&t, needed);
}

/* ---- internal access (vector.h) -------------------------------------------- */

const crdt__ctx *crdt__context_ctx(const crdt_context *c) { return &c->d.ctx; }

const crdt__replicas *crdt__context_replicas(const crdt_context *c) {
  return &c->d.replicas;
}

int crdt__context_from(const crdt__ctx *ctx, const crdt__replicas *r,
                       crdt_context **out) {
  dots *d;
  int rc = dots_new(&d, sizeof(crdt_context));
  if (rc) return rc;
  if ((rc = crdt__replicas_copy(&d->replicas, &d->mem, r)) ||
      (rc = crdt__ctx_copy(&d->ctx, &d->mem, ctx))) {
    dots_free(d, sizeof(crdt_context));
    return rc;
  }
  *out = (crdt_context *)d;
  return 0;
}

/* ---- canonical walks ------------------------------------------------------ */

int crdt_context_foreach_prefix(const crdt_context *ctx,
                                crdt_context_visit visit, void *user) {
  if (!ctx || !visit) return CRDT_EINVAL;
  const crdt__replicas *r = &ctx->d.replicas;
  uint32_t *order;
  int rc = crdt__replicas_sorted(r, &ctx->d.mem, &order);
  if (rc) return rc;
  for (uint32_t k = 0; k < r->count && !rc; k++) {
    uint64_t n = crdt__vv_get(&ctx->d.ctx.vv, order[k]);
    if (n) rc = visit(crdt__replicas_id(r, order[k], NULL), n, user);
  }
  crdt__free(&ctx->d.mem, order, r->count * sizeof *order);
  return rc;
}

typedef struct ranked {
  uint32_t rank;
  uint64_t counter;
  const char *id;
} ranked;

static int ranked_cmp(const void *a, const void *b, const void *ctx) {
  (void)ctx;
  const ranked *x = a, *y = b;
  if (x->rank != y->rank) return x->rank < y->rank ? -1 : 1;
  return (x->counter > y->counter) - (x->counter < y->counter);
}

int crdt_context_foreach_cloud(const crdt_context *ctx,
                               crdt_context_visit visit, void *user) {
  if (!ctx || !visit) return CRDT_EINVAL;
  const crdt__cloud *c = &ctx->d.ctx.cloud;
  const crdt__replicas *r = &ctx->d.replicas;
  const crdt_allocator *m = &ctx->d.mem;
  if (!c->count) return 0;
  uint32_t *order, *rank;
  int rc = crdt__replicas_sorted(r, m, &order);
  if (rc) return rc;
  rank = crdt__alloc(m, crdt__mul(r->count, sizeof *rank));
  ranked *cloud = crdt__alloc(m, crdt__mul(c->count, sizeof *cloud));
  if (!rank || !cloud) {
    rc = CRDT_ENOMEM;
  } else {
    for (uint32_t k = 0; k < r->count; k++) rank[order[k]] = k;
    uint32_t n = 0;
    for (uint32_t i = 0; i < c->cap; i++)
      if (c->slots[i].counter)
        cloud[n++] = (ranked){rank[c->slots[i].replica], c->slots[i].counter,
                             crdt__replicas_id(r, c->slots[i].replica, NULL)};
    crdt__sort(cloud, n, sizeof *cloud, ranked_cmp, NULL);
    for (uint32_t i = 0; i < n && !rc; i++)
      rc = visit(cloud[i].id, cloud[i].counter, user);
  }
  crdt__free(m, cloud, c->count * sizeof *cloud);
  crdt__free(m, rank, r->count * sizeof *rank);
  crdt__free(m, order, r->count * sizeof *order);
  return rc;
}

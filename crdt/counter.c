/*
 * The shared base of the counters (see counter.h).
 */
#include <string.h>

#include "counter.h"
#include "vector.h"
#include "wire.h"

int crdt__counter_create(const crdt__type *t, const char *replica,
                         crdt_object **out) {
  size_t len = 0;
  if (!out || (replica && crdt__replica_check(replica, &len)))
    return CRDT_EINVAL;
  const crdt_allocator *m = crdt__mem_default();
  crdt__counter *c = crdt__calloc(m, 1, sizeof *c);
  if (!c) return CRDT_ENOMEM;
  crdt__object_init(&c->base, t, m);
  c->self = CRDT__NO_REPLICA;
  if (replica) {
    int rc = crdt__pervec_slot(&c->v, &c->base.mem, replica, len, &c->self);
    if (rc) {
      /* the slot is undone, but the replica table may keep its storage */
      crdt__pervec_free(&c->v, &c->base.mem);
      crdt__free(m, c, sizeof *c);
      return rc;
    }
  }
  *out = &c->base;
  return 0;
}

int crdt__counter_merge(crdt_object *dst, const crdt_object *src) {
  return crdt__pervec_join(&crdt__counter_of(dst)->v, &dst->mem,
                           &crdt__counter_cof(src)->v);
}

bool crdt__counter_equal(const crdt_object *a, const crdt_object *b) {
  return crdt__pervec_equal(&crdt__counter_cof(a)->v, &crdt__counter_cof(b)->v);
}

int crdt__counter_copy(const crdt_object *src, crdt_object **out) {
  const crdt_allocator *m = crdt__mem_default();
  crdt__counter *c = crdt__calloc(m, 1, sizeof *c);
  if (!c) return CRDT_ENOMEM;
  crdt__object_init(&c->base, src->type, m);
  int rc = crdt__pervec_copy(&c->v, &c->base.mem, &crdt__counter_cof(src)->v);
  if (rc) {
    crdt__free(m, c, sizeof *c);
    return rc;
  }
  c->self = crdt__counter_cof(src)->self; /* the copy keeps replica indexes */
  *out = &c->base;
  return 0;
}

int crdt__counter_compare(const crdt_object *a, const crdt_object *b,
                          crdt_order *out) {
  *out = crdt__pervec_compare(&crdt__counter_cof(a)->v, &crdt__counter_cof(b)->v);
  return 0;
}

void crdt__counter_destroy(crdt_object *o) {
  crdt_allocator m = o->mem;
  crdt__pervec_free(&crdt__counter_of(o)->v, &m);
  crdt__free(&m, o, sizeof(crdt__counter));
}

const char *crdt__counter_replica(const crdt_object *o) {
  const crdt__counter *c = crdt__counter_cof(o);
  if (c->self == CRDT__NO_REPLICA) return NULL;
  return crdt__replicas_id(&c->v.replicas, c->self, NULL);
}

int crdt__counter_context_text(const crdt_object *o, crdt__text *t) {
  return crdt__pervec_format(t, &crdt__counter_cof(o)->v, &o->mem);
}

/* Replica r's events 1..n form the context: a prefix vector, no cloud. */
int crdt__counter_context(const crdt_object *o, crdt_context **out) {
  const crdt__pervec *v = &crdt__counter_cof(o)->v;
  const crdt_allocator *m = &o->mem;
  crdt__ctx ctx = {0};
  int rc = crdt__ctx_reserve(&ctx, m, v->replicas.count, 0);
  if (!rc) {
    for (uint32_t i = 0; i < v->replicas.count; i++)
      ctx.vv.n[i] = ctx.top.n[i] = crdt__pervec_get(v, i).events;
    rc = crdt__context_from(&ctx, &v->replicas, out);
  }
  crdt__ctx_free(&ctx, m);
  return rc;
}

int crdt__counter_check(const crdt__counter *c, uint64_t n,
                        const crdt_object *delta) {
  if (!c || n == 0 || delta == &c->base) return CRDT_EINVAL;
  if (delta && delta->type != c->base.type) return CRDT_ETYPE;
  if (c->self == CRDT__NO_REPLICA) return CRDT_ENOREPLICA;
  return 0;
}

/* The delta of an update is the owner's new entry. Setting the owner's entry
 * cannot fail (it was reserved at creation). */
int crdt__counter_apply(crdt__counter *c, unsigned k, uint64_t n,
                        crdt_object *delta) {
  crdt__pvent e;
  int rc = crdt__pervec_bump(&c->v, c->self, k, n, &e);
  if (rc) return rc;
  if (delta) {
    size_t len;
    const char *id = crdt__replicas_id(&c->v.replicas, c->self, &len);
    if ((rc = crdt__pervec_join_one(&crdt__counter_of(delta)->v, &delta->mem,
                                    id, len, &e)))
      return rc;
  }
  crdt__pervec_set(&c->v, c->self, e);
  return 0;
}

/* ---- wire format (docs/format.md, "Counters") --------------------------- */

typedef struct encode_closure {
  crdt__wbuf *w;
  unsigned words;
} encode_closure;

static int count_entry(const char *id, const crdt__pvent *e, void *user) {
  (void)id;
  *(uint64_t *)user += e->events != 0;
  return 0;
}

static int put_entry(const char *id, const crdt__pvent *e, void *user) {
  const encode_closure *k = user;
  if (!e->events) return 0;
  size_t len = strlen(id);
  crdt__w_varint(k->w, len);
  crdt__w_bytes(k->w, id, len);
  return 0;
}

static int put_totals(const char *id, const crdt__pvent *e, void *user) {
  const encode_closure *k = user;
  (void)id;
  if (!e->events) return 0;
  crdt__w_varint(k->w, e->events);
  for (unsigned i = 0; i < k->words; i++) crdt__w_varint(k->w, e->payload[i]);
  return 0;
}

void crdt__counter_encode(const crdt_object *o, crdt__wbuf *w, unsigned words) {
  const crdt__pervec *v = &crdt__counter_cof(o)->v;
  encode_closure k = {w, words};
  uint64_t n = 0;
  int rc = crdt__pervec_foreach(v, w->mem, count_entry, &n);
  if (!rc) crdt__w_varint(w, n);
  if (!rc) rc = crdt__pervec_foreach(v, w->mem, put_entry, &k);
  if (!rc) rc = crdt__pervec_foreach(v, w->mem, put_totals, &k);
  if (rc && !w->err) w->err = rc;
}

int crdt__counter_decode(const crdt__type *t, crdt__rbuf *body,
                         const char *replica, unsigned words,
                         crdt_object **out) {
  size_t own_len = 0;
  if (replica && crdt__replica_check(replica, &own_len)) return CRDT_EINVAL;
  crdt_object *o;
  int rc = crdt__counter_create(t, NULL, &o);
  if (rc) return rc;
  crdt__counter *c = crdt__counter_of(o);
  uint64_t n;
  const uint8_t *prev = NULL;
  size_t prev_len = 0;
  if ((rc = crdt__r_count(body, 2 + 1 + words, &n))) goto fail;
  for (uint64_t i = 0; i < n; i++) {
    uint64_t len;
    const uint8_t *id;
    uint32_t index;
    if ((rc = crdt__r_varint(body, &len))) goto fail;
    if (len == 0 || len > CRDT_REPLICA_MAX) {
      rc = CRDT_EFORMAT;
      goto fail;
    }
    if ((rc = crdt__r_bytes(body, (size_t)len, &id))) goto fail;
    if (memchr(id, 0, (size_t)len)) {
      rc = CRDT_EFORMAT;
      goto fail;
    }
    if (prev && crdt__replica_cmp((const char *)prev, prev_len,
                                  (const char *)id, (size_t)len) >= 0) {
      rc = CRDT_EORDER;
      goto fail;
    }
    prev = id;
    prev_len = (size_t)len;
    if ((rc = crdt__pervec_slot(&c->v, &o->mem, (const char *)id, (size_t)len,
                                &index)))
      goto fail;
  }
  for (uint32_t i = 0; i < (uint32_t)n; i++) {
    crdt__pvent e = {0, {0, 0}};
    if ((rc = crdt__r_varint(body, &e.events))) goto fail;
    if (e.events == 0) {
      rc = CRDT_EFORMAT;
      goto fail;
    }
    for (unsigned k = 0; k < words; k++)
      if ((rc = crdt__r_varint(body, &e.payload[k]))) goto fail;
    crdt__pervec_set(&c->v, i, e);
  }
  if (crdt__r_left(body)) {
    rc = CRDT_ETRAILING;
    goto fail;
  }
  if (replica &&
      (rc = crdt__pervec_slot(&c->v, &o->mem, replica, own_len, &c->self)))
    goto fail;
  *out = o;
  return 0;
fail:
  crdt__counter_destroy(o);
  return rc;
}

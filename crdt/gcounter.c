/*
 * G-Counter on the kernel's per-replica vector: entry (events, {P, 0}) per
 * replica, P its total. The kernel's join keeps the entry with more events;
 * this file only says what an increment does.
 */
#include "crdt/gcounter.h"
#include "counter.h"
#include "wire.h"

struct crdt_gcounter {
  crdt__counter c;
};

static const crdt__pervec *vec(const crdt_object *o) {
  return &crdt__counter_cof(o)->v;
}

static int gcounter_create(const char *replica, crdt_object **out) {
  return crdt__counter_create(&crdt__gcounter_type, replica, out);
}

/* Exact even when the sum passes UINT64_MAX (JSON integers are unbounded). */
static int gcounter_value_json(const crdt_object *o, crdt__text *t) {
  crdt__wide zero = {0, 0};
  crdt__wide_text_diff(t, vec(o)->total[0], zero);
  return 0;
}

const crdt__type crdt__gcounter_type = {
    CRDT_TYPE_GCOUNTER,         "gcounter",
    gcounter_create,            crdt__counter_merge,
    crdt__counter_equal,        crdt__counter_copy,
    crdt__counter_compare,      crdt__counter_destroy,
    crdt__counter_replica,      gcounter_value_json,
    crdt__counter_context_text,
    crdt__counter_context,
};

static void gcounter_encode(const crdt_object *o, crdt__wbuf *w) {
  crdt__counter_encode(o, w, 1);
}

static uint8_t gcounter_wire_flags(const crdt_object *o) {
  (void)o;
  return 0;
}

static int gcounter_decode(crdt__rbuf *body, uint8_t flags,
                           const char *replica, crdt_object **out) {
  if (flags) return CRDT_EFORMAT;
  return crdt__counter_decode(&crdt__gcounter_type, body, replica, 1, out);
}

const crdt__codec crdt__gcounter_codec = {
    &crdt__gcounter_type, gcounter_wire_flags, gcounter_encode,
    gcounter_decode};

CRDT__TYPED_API(gcounter, crdt__gcounter_type)
CRDT__TYPED_COMPARE(gcounter)

/* Never wrap: the counter's total must stay within uint64_t. */
int crdt_gcounter_inc(crdt_gcounter *c, uint64_t n, crdt_gcounter *delta) {
  if (!c) return CRDT_EINVAL;
  int rc = crdt__counter_check(&c->c, n, (crdt_object *)delta);
  if (rc) return rc;
  const crdt__wide total = c->c.v.total[0];
  if (total.hi || total.lo > UINT64_MAX - n) return CRDT_ERANGE;
  return crdt__counter_apply(&c->c, 0, n, (crdt_object *)delta);
}

int crdt_gcounter_value(const crdt_gcounter *c, uint64_t *out) {
  if (!c || !out) return CRDT_EINVAL;
  if (c->c.v.total[0].hi) return CRDT_ERANGE;
  *out = c->c.v.total[0].lo;
  return 0;
}

uint64_t crdt_gcounter_get(const crdt_gcounter *c, const char *replica) {
  size_t len;
  if (!c || crdt__replica_check(replica, &len)) return 0;
  uint32_t i = crdt__replicas_find(&c->c.v.replicas, replica, len);
  return i == CRDT__NO_REPLICA ? 0 : crdt__pervec_get(&c->c.v, i).payload[0];
}

typedef struct visit_closure {
  crdt_gcounter_visit visit;
  void *user;
} visit_closure;

static int visit_entry(const char *id, const crdt__pvent *e, void *user) {
  const visit_closure *k = user;
  return k->visit(id, e->payload[0], k->user);
}

int crdt_gcounter_foreach(const crdt_gcounter *c, crdt_gcounter_visit visit,
                          void *user) {
  if (!c || !visit) return CRDT_EINVAL;
  visit_closure k = {visit, user};
  return crdt__pervec_foreach(&c->c.v, &c->c.base.mem, visit_entry, &k);
}

/*
 * PN-Counter on the kernel's per-replica vector: entry (events, {P, N}) per
 * replica. The kernel's join keeps the entry with more events; this file only
 * says what an increment and a decrement do, and how P - N is read.
 */
#include "crdt/pncounter.h"
#include "counter.h"
#include "wire.h"

/* Indexes of the two totals in an entry's payload. */
enum { TOTAL_P = 0, TOTAL_N = 1 };

struct crdt_pncounter {
  crdt__counter c;
};

static const crdt__pervec *vec(const crdt_object *o) {
  return &crdt__counter_cof(o)->v;
}

static int pncounter_create(const char *replica, crdt_object **out) {
  return crdt__counter_create(&crdt__pncounter_type, replica, out);
}

/* Exact even outside int64_t (JSON integers are unbounded). */
static int pncounter_value_json(const crdt_object *o, crdt__text *t) {
  crdt__wide_text_diff(t, vec(o)->total[TOTAL_P], vec(o)->total[TOTAL_N]);
  return 0;
}

const crdt__type crdt__pncounter_type = {
    CRDT_TYPE_PNCOUNTER,        "pncounter",
    pncounter_create,           crdt__counter_merge,
    crdt__counter_equal,        crdt__counter_copy,
    crdt__counter_compare,      crdt__counter_destroy,
    crdt__counter_replica,      pncounter_value_json,
    crdt__counter_context_text,
    crdt__counter_context,
};

static void pncounter_encode(const crdt_object *o, crdt__wbuf *w) {
  crdt__counter_encode(o, w, 2);
}

static uint8_t pncounter_wire_flags(const crdt_object *o) {
  (void)o;
  return 0;
}

static int pncounter_decode(crdt__rbuf *body, uint8_t flags,
                            const char *replica, crdt_object **out) {
  if (flags) return CRDT_EFORMAT;
  return crdt__counter_decode(&crdt__pncounter_type, body, replica, 2, out);
}

const crdt__codec crdt__pncounter_codec = {
    &crdt__pncounter_type, pncounter_wire_flags, pncounter_encode,
    pncounter_decode};

CRDT__TYPED_API(pncounter, crdt__pncounter_type)
CRDT__TYPED_COMPARE(pncounter)

/* a - b > INT64_MAX */
static bool above_int64(crdt__wide a, crdt__wide b) {
  if (crdt__wide_cmp(a, b) <= 0) return false;
  crdt__wide d = crdt__wide_sub(a, b);
  return d.hi || d.lo > (uint64_t)INT64_MAX;
}

/* a - b < INT64_MIN, i.e. b - a > 2^63 */
static bool below_int64(crdt__wide a, crdt__wide b) {
  if (crdt__wide_cmp(b, a) <= 0) return false;
  crdt__wide d = crdt__wide_sub(b, a);
  return d.hi || d.lo > (uint64_t)INT64_MAX + 1;
}

/* One update adding n to total k (P for inc, N for dec); the value P - N
 * must stay within int64_t (an update towards the range is allowed). */
static int update(crdt_pncounter *c, unsigned k, uint64_t n,
                  crdt_pncounter *delta) {
  if (!c) return CRDT_EINVAL;
  int rc = crdt__counter_check(&c->c, n, (crdt_object *)delta);
  if (rc) return rc;
  crdt__wide p = c->c.v.total[TOTAL_P], neg = c->c.v.total[TOTAL_N];
  if (k == TOTAL_P ? above_int64(crdt__wide_add(p, n), neg)
                   : below_int64(p, crdt__wide_add(neg, n)))
    return CRDT_ERANGE;
  return crdt__counter_apply(&c->c, k, n, (crdt_object *)delta);
}

int crdt_pncounter_inc(crdt_pncounter *c, uint64_t n, crdt_pncounter *delta) {
  return update(c, TOTAL_P, n, delta);
}

int crdt_pncounter_dec(crdt_pncounter *c, uint64_t n, crdt_pncounter *delta) {
  return update(c, TOTAL_N, n, delta);
}

int crdt_pncounter_value(const crdt_pncounter *c, int64_t *out) {
  if (!c || !out) return CRDT_EINVAL;
  crdt__wide p = c->c.v.total[TOTAL_P], neg = c->c.v.total[TOTAL_N];
  if (above_int64(p, neg) || below_int64(p, neg)) return CRDT_ERANGE;
  if (crdt__wide_cmp(p, neg) >= 0) {
    *out = (int64_t)crdt__wide_sub(p, neg).lo;
  } else {
    /* 1 <= magnitude <= 2^63: negate without overflowing int64_t. */
    uint64_t magnitude = crdt__wide_sub(neg, p).lo;
    *out = -(int64_t)(magnitude - 1) - 1;
  }
  return 0;
}

typedef struct visit_closure {
  crdt_pncounter_visit visit;
  void *user;
} visit_closure;

static int visit_entry(const char *id, const crdt__pvent *e, void *user) {
  const visit_closure *k = user;
  return k->visit(id, e->payload[TOTAL_P], e->payload[TOTAL_N], k->user);
}

int crdt_pncounter_foreach(const crdt_pncounter *c, crdt_pncounter_visit visit,
                           void *user) {
  if (!c || !visit) return CRDT_EINVAL;
  visit_closure k = {visit, user};
  return crdt__pervec_foreach(&c->c.v, &c->c.base.mem, visit_entry, &k);
}

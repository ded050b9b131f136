/*
 * The map on the wire (docs/format.md, "Map"): the replica table and
 * context, then the fields as a tree, each level in canonical order.
 *
 *   fields    count, then per field: head = name length << 3 | type,
 *             name bytes, and the value:
 *               counter        dots with values (the amounts)
 *               flag           dots
 *               orset, mvreg   items: count, then per item: key bytes, dots
 *               lwwreg         items whose dots carry timestamps
 *               map            fields
 *   dots      count, then per dot: replica rank, top - counter[, value
 *             zigzag], where top is the replica's highest counter in the
 *             context: a delta's own dots cost a byte
 *
 * The decoder treats input as hostile: every count is checked against the
 * bytes left before anything is allocated for it, nesting is bounded
 * (CRDT_MAP_DEPTH_MAX), every order is strict, every dot must be in the
 * context and appear once.
 */
#include <string.h>

#include "leaf.h"
#include "map_impl.h"
#include "sort.h"
#include "wire_priv.h"

/* ---- encoding ----------------------------------------------------------- */

typedef struct put {
  crdt__wbuf *w;
  const crdt__replicas *reps;
  const ranking *k;
  const uint64_t *top; /* by rank: the highest counter in the context */
  crdt__dv *scratch;   /* room for the largest entry's dots */
  int err;
} put;

static uint32_t max_dots(const crdt__store *s) {
  uint32_t most = 0;
  for (uint32_t n = 0; n < s->count; n++) {
    const crdt__entry *e = &s->entries[n];
    uint32_t here = crdt__entry_nested(e) ? max_dots(crdt__entry_child(e))
                                          : e->ndots;
    if (here > most) most = here;
  }
  return most;
}

static void put_dots(put *p, const crdt__entry *e, bool values) {
  /* a delta's marker has no dots, and scratch is NULL when no key has any */
  if (e->ndots) crdt__entry_sorted_dots(e, p->reps, p->scratch);
  crdt__w_varint(p->w, e->ndots);
  for (uint32_t i = 0; i < e->ndots; i++) {
    const uint32_t rank = p->k->rank[p->scratch[i].replica];
    crdt__w_varint(p->w, rank);
    crdt__w_varint(p->w, p->top[rank] - p->scratch[i].counter);
    if (values) crdt__w_zigzag(p->w, p->scratch[i].value);
  }
}

static void put_fields(put *p, const crdt__store *s);

static void put_items(put *p, const crdt__store *s, bool values) {
  const crdt_allocator *m = p->w->mem;
  const crdt__entry **sorted;
  int rc = crdt__store_sorted(s, m, &sorted);
  if (rc) {
    p->err = rc;
    return;
  }
  crdt__w_varint(p->w, s->count);
  for (uint32_t i = 0; i < s->count; i++) {
    crdt__w_varint(p->w, sorted[i]->keylen);
    crdt__w_bytes(p->w, crdt__entry_key(sorted[i]), sorted[i]->keylen);
    put_dots(p, sorted[i], values);
  }
  crdt__free(m, sorted, s->count * sizeof *sorted);
}

static void put_fields(put *p, const crdt__store *s) {
  const crdt_allocator *m = p->w->mem;
  const crdt__entry **sorted;
  int rc = crdt__map_sorted_fields(s, m, &sorted);
  if (rc) {
    p->err = rc;
    return;
  }
  crdt__w_varint(p->w, s->count);
  for (uint32_t i = 0; i < s->count && !p->err; i++) {
    const crdt__entry *f = sorted[i];
    const uint8_t *key = crdt__entry_key(f);
    crdt__w_varint(p->w, (uint64_t)(f->keylen - 1) << 3 | key[0]);
    crdt__w_bytes(p->w, key + 1, f->keylen - 1);
    switch (key[0]) {
    case CRDT_FIELD_COUNTER:
    case CRDT_FIELD_FLAG:
      put_dots(p, f, key[0] == CRDT_FIELD_COUNTER);
      break;
    case CRDT_FIELD_MAP:
      put_fields(p, crdt__entry_child(f));
      break;
    default:
      put_items(p, crdt__entry_child(f), key[0] == CRDT_FIELD_LWWREG);
      break;
    }
  }
  crdt__free(m, sorted, s->count * sizeof *sorted);
}

void crdt__map_put_body(crdt__wbuf *w, const crdt__causal *c) {
  const crdt_allocator *m = w->mem;
  ranking k;
  cloud_dot *cloud = NULL;
  uint64_t *top = NULL;
  put p = {w, &c->replicas, &k, NULL, NULL, 0};
  uint32_t most = max_dots(&c->store);
  int rc;
  if (!(rc = crdt__ranking_make(&k, &c->ctx, &c->replicas, m)) &&
      !(rc = crdt__cloud_sorted(&c->ctx, &k, m, &cloud)) &&
      ((most && !(p.scratch = crdt__alloc(m, crdt__mul(most, sizeof *p.scratch)))) ||
       (k.n && !(top = crdt__alloc(m, crdt__mul(k.n, sizeof *top))))))
    rc = CRDT_ENOMEM;
  if (!rc) {
    /* From the context as encoded, so that equal contexts give equal tops
     * whatever the in-memory history. */
    for (uint32_t i = 0; i < k.n; i++) top[i] = crdt__vv_get(&c->ctx.vv, k.list[i]);
    for (uint32_t i = 0; i < c->ctx.cloud.count; i++)
      if (cloud[i].counter > top[cloud[i].rank])
        top[cloud[i].rank] = cloud[i].counter;
    p.top = top;
    crdt__w_context(w, &c->ctx, &c->replicas, &k, cloud);
    put_fields(&p, &c->store);
    rc = p.err;
  }
  if (rc && !w->err) w->err = rc;
  crdt__free(m, p.scratch, most * sizeof *p.scratch);
  crdt__free(m, top, k.n * sizeof *top);
  crdt__free(m, cloud, c->ctx.cloud.count * sizeof *cloud);
  crdt__ranking_free(&k, m);
}

static void map_encode(const crdt_object *o, crdt__wbuf *w) {
  crdt__map_put_body(w, &((const crdt_map *)o)->d.c);
}

static uint8_t map_wire_flags(const crdt_object *o) {
  return ((const crdt_map *)o)->d.c.keyed ? CRDT__WIRE_FLAG_KEYED : 0;
}

/* ---- decoding ----------------------------------------------------------- */

typedef struct get {
  crdt__rbuf *r;
  crdt__causal *c;
  const crdt_allocator *m;
  bool keyed;
  crdt__dot *seen; /* every dot read, to find one read twice */
  size_t nseen, cap;
} get;

static int dot_cmp(const void *a, const void *b, const void *ctx) {
  (void)ctx;
  const crdt__dot *x = a, *y = b;
  if (x->replica != y->replica) return x->replica < y->replica ? -1 : 1;
  return (x->counter > y->counter) - (x->counter < y->counter);
}

static int get_dots(get *g, crdt__entry *e, bool values) {
  uint64_t n;
  int rc = crdt__r_count(g->r, 2, &n);
  if (rc) return rc;
  if (!n && !g->keyed) return CRDT_EFORMAT; /* a marker outside a delta */
  if (n > g->cap - g->nseen) {
    size_t cap = g->cap ? g->cap : 64;
    while (cap - g->nseen < n) cap *= 2;
    crdt__dot *grown = crdt__realloc(g->m, g->seen, g->cap * sizeof *grown,
                                     crdt__mul(cap, sizeof *grown));
    if (!grown) return CRDT_ENOMEM;
    g->seen = grown;
    g->cap = cap;
  }
  crdt__dot prev = {0, 0};
  for (uint64_t i = 0; i < n; i++) {
    uint64_t rank, below;
    crdt__dv dv = {0, 0, 0};
    if ((rc = crdt__r_varint(g->r, &rank)) ||
        (rc = crdt__r_varint(g->r, &below)) ||
        (values && (rc = crdt__r_zigzag(g->r, &dv.value))))
      return rc;
    if (rank >= g->c->replicas.count) return CRDT_EFORMAT;
    const uint64_t top = crdt__vv_get(&g->c->ctx.top, (uint32_t)rank);
    if (below >= top) return CRDT_EDOT; /* counter 0 or not in the context */
    const uint64_t counter = top - below;
    crdt__dot dot = {counter, (uint32_t)rank};
    if (i && dot_cmp(&prev, &dot, NULL) >= 0) return CRDT_EORDER;
    if (!crdt__ctx_has(&g->c->ctx, dot)) return CRDT_EDOT;
    prev = dot;
    g->seen[g->nseen++] = dot;
    dv.counter = counter;
    dv.replica = (uint32_t)rank; /* the decoder interns in rank order */
    if ((rc = crdt__entry_add(e, g->m, dv))) return rc;
  }
  return 0;
}

/* Reads a key (a field's type byte and name, or an item) into `s`, which
 * must not hold it: the strict order checked by the caller ensures it. */
static int get_key(get *g, crdt__store *s, const uint8_t *prefix,
                   const uint8_t *bytes, size_t len, crdt__entry **out) {
  uint8_t small[64];
  uint8_t *key = small;
  size_t total = len + (prefix ? 1 : 0);
  if (total > sizeof small && !(key = crdt__alloc(g->m, total)))
    return CRDT_ENOMEM;
  if (prefix) key[0] = *prefix;
  if (len) memcpy(key + (prefix ? 1 : 0), bytes, len);
  int rc = crdt__store_insert(s, g->m, key, total, crdt__key_hash(key, total),
                              out);
  if (key != small) crdt__free(g->m, key, total);
  return rc;
}

static int get_fields(get *g, crdt__store *s, uint32_t depth);

/* Gives entry e a nested store and reads its fields (at `depth`) or its
 * items. */
static int get_nested(get *g, crdt__entry *e, uint32_t depth, bool values,
                      bool fields);

static int get_items(get *g, crdt__store *s, bool values) {
  uint64_t n;
  int rc = crdt__r_count(g->r, 2, &n);
  if (rc) return rc;
  if (!n) return CRDT_EFORMAT; /* an empty field is no field */
  const uint8_t *prev = NULL;
  size_t prev_len = 0;
  for (uint64_t i = 0; i < n; i++) {
    uint64_t len;
    const uint8_t *item;
    if ((rc = crdt__r_varint(g->r, &len))) return rc;
    if (len > CRDT__KEY_MAX) return CRDT_ELENGTH;
    if ((rc = crdt__r_bytes(g->r, (size_t)len, &item))) return rc;
    if (prev) {
      size_t common = prev_len < len ? prev_len : (size_t)len;
      int cmp = common ? memcmp(prev, item, common) : 0;
      if (cmp > 0 || (cmp == 0 && prev_len >= len)) return CRDT_EORDER;
    }
    prev = item;
    prev_len = (size_t)len;
    crdt__entry *e;
    if ((rc = get_key(g, s, NULL, item, (size_t)len, &e)) ||
        (rc = get_dots(g, e, values)))
      return rc;
  }
  return 0;
}

static int get_nested(get *g, crdt__entry *e, uint32_t depth, bool values,
                      bool fields) {
  crdt__store *child = crdt__store_new(g->m);
  if (!child) return CRDT_ENOMEM;
  crdt__entry_set_child(e, child); /* freed with the entry from here */
  int rc = fields ? get_fields(g, child, depth) : get_items(g, child, values);
  crdt__entry_refresh(e);
  return rc;
}

static int get_fields(get *g, crdt__store *s, uint32_t depth) {
  uint64_t n;
  int rc = crdt__r_count(g->r, 2, &n);
  if (rc) return rc;
  if (!n && depth > 1) return CRDT_EFORMAT; /* an empty map is no field */
  const uint8_t *prev = NULL;
  size_t prev_len = 0;
  uint8_t prev_type = 0;
  for (uint64_t i = 0; i < n; i++) {
    uint64_t head;
    const uint8_t *name;
    if ((rc = crdt__r_varint(g->r, &head))) return rc;
    const uint8_t type = (uint8_t)(head & 7);
    const uint64_t len = head >> 3;
    if (!crdt__field_known(type)) return CRDT_EFORMAT;
    if (len >= CRDT__KEY_MAX) return CRDT_ELENGTH;
    if ((rc = crdt__r_bytes(g->r, (size_t)len, &name))) return rc;
    if (prev) {
      size_t common = prev_len < len ? prev_len : (size_t)len;
      int cmp = common ? memcmp(prev, name, common) : 0;
      if (!cmp) cmp = (prev_len > len) - (prev_len < len);
      if (!cmp) cmp = (prev_type > type) - (prev_type < type);
      if (cmp >= 0) return CRDT_EORDER;
    }
    prev = name;
    prev_len = (size_t)len;
    prev_type = type;
    crdt__entry *e;
    if ((rc = get_key(g, s, &type, name, (size_t)len, &e))) return rc;
    if (type == CRDT_FIELD_MAP && depth >= CRDT_MAP_DEPTH_MAX)
      return CRDT_ETOOMANY;
    switch (type) {
    case CRDT_FIELD_COUNTER:
    case CRDT_FIELD_FLAG:
      rc = get_dots(g, e, type == CRDT_FIELD_COUNTER);
      break;
    case CRDT_FIELD_MAP:
      rc = get_nested(g, e, depth + 1, false, true);
      break;
    default:
      rc = get_nested(g, e, depth, type == CRDT_FIELD_LWWREG, false);
      break;
    }
    if (rc) return rc;
  }
  return 0;
}

int crdt__map_get_body(crdt__rbuf *r, const crdt_allocator *m,
                       crdt__causal *c, bool keyed) {
  get g = {r, c, m, keyed, NULL, 0, 0};
  c->keyed = keyed;
  int rc = crdt__wire_get_context(r, m, &c->ctx, &c->replicas, crdt__r_left(r));
  if (!rc) rc = get_fields(&g, &c->store, 1);
  if (!rc && crdt__r_left(r)) rc = CRDT_ETRAILING;
  bool repeat = false; /* a dot is one event: it cannot be in two places */
  if (!rc) rc = crdt__dots_repeat(g.seen, g.nseen, c->replicas.count, m, &repeat);
  if (!rc && repeat) rc = CRDT_EORDER;
  crdt__free(m, g.seen, g.cap * sizeof *g.seen);
  return rc;
}

static int map_decode(crdt__rbuf *body, uint8_t flags, const char *replica,
                      crdt_object **out) {
  size_t len = 0;
  if (replica && crdt__replica_check(replica, &len)) return CRDT_EINVAL;
  crdt_object *o;
  int rc = crdt__dotted_create(&crdt__map_type, NULL, &o);
  if (rc) return rc;
  crdt__dotted *d = crdt__dotted_of(o);
  const crdt_allocator *m = &d->base.mem;
  rc = crdt__map_get_body(body, m, &d->c, (flags & CRDT__WIRE_FLAG_KEYED) != 0);
  if (!rc && replica)
    rc = crdt__causal_replica(&d->c, m, replica, len, &d->self);
  if (rc) {
    crdt__dotted_destroy(o);
    return rc;
  }
  if (replica && d->c.keyed) { /* a delta that gets an owner: a state */
    crdt__store_drop_markers(&d->c.store, m);
    d->c.keyed = false;
  }
  *out = o;
  return 0;
}

const crdt__codec crdt__map_codec = {&crdt__map_type, map_wire_flags,
                                     map_encode, map_decode};

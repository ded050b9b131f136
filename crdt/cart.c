/*
 * Shopping cart on the kernel's dot store: key = item, one dot per increment
 * or decrement, each carrying its amount as the dot's value. The kernel's
 * join decides which amounts survive a merge; this file only says what add,
 * dec and remove do and how quantities are read.
 *
 * Why one dot per change and not one running total per replica: a remove
 * drops the dots it observed. With a running total, a later increment at the
 * same replica would replace the observed dot by a bigger total that the
 * remove did not observe, and the removed amount would come back.
 */
#include "crdt/cart.h"
#include "dotted.h"
#include "journal.h"
#include "wire.h"

struct crdt_cart {
  crdt__dotted d;
};

/* An item's quantity: the exact sum of its dots' amounts, clamped to int64
 * (the kernel's sum does not depend on the order of the dots, which differs
 * between replicas holding equal states). */
static int64_t quantity_of(const crdt__entry *e) { return crdt__entry_sum(e); }

static int cart_create(const char *replica, crdt_object **out) {
  return crdt__dotted_create(&crdt__cart_type, replica, out);
}

/* {"apple": 2, "pear": 1}: the listed items (quantity > 0), sorted. */
static int cart_value_json(const crdt_object *o, crdt__text *t) {
  const crdt__dotted *d = crdt__dotted_cof(o);
  const crdt__entry **sorted;
  int rc = crdt__store_sorted(&d->c.store, &d->base.mem, &sorted);
  if (rc) return rc;
  crdt__text_put(t, "{", 1);
  uint32_t shown = 0;
  for (uint32_t i = 0; i < d->c.store.count; i++) {
    int64_t q = quantity_of(sorted[i]);
    if (q <= 0) continue;
    if (shown++) crdt__text_put(t, ", ", 2);
    crdt__text_json(t, crdt__entry_key(sorted[i]), sorted[i]->keylen);
    crdt__text_put(t, ": ", 2);
    crdt__text_i64(t, q);
  }
  crdt__text_put(t, "}", 1);
  crdt__free(&d->base.mem, sorted, d->c.store.count * sizeof *sorted);
  return 0;
}

const crdt__type crdt__cart_type = {
    CRDT_TYPE_CART,          "cart",
    cart_create,             crdt__dotted_merge,
    crdt__dotted_equal,      crdt__dotted_copy,
    crdt__dotted_compare,    crdt__dotted_destroy,
    crdt__dotted_replica,    cart_value_json,
    crdt__dotted_context_text,
    crdt__dotted_context,
};

CRDT__TYPED_API(cart, crdt__cart_type)
CRDT__DOTTED_CODEC(cart, true)
CRDT__TYPED_COMPARE(cart)


/* One increment or decrement of `amount` (non-zero): a new dot carrying it.
 * Delta: ({item: {dot: amount}}, {dot}); the item's other dots are neither
 * replaced nor observed. `e` is the item's entry or NULL. Fallible work first
 * (dot, room, key copy, delta), then the change. */
static int cart_change(crdt_cart *cart, const void *item, size_t len,
                       crdt__entry *e, uint32_t hash, int64_t amount,
                       crdt_cart *delta) {
  crdt__dotted *d = &cart->d;
  crdt__dot dot;
  int rc;
  if ((rc = crdt__dotted_next(d, &dot))) return rc;
  crdt__dv change = {dot.counter, dot.replica, amount};
  crdt__slot slot; /* dots with amounts live in an array: not packable */
  if ((rc = crdt__dotted_slot_prepare(d, &slot, item, len, hash, e,
                                      (e ? e->ndots : 0) + 1, false)))
    return rc;
  crdt__op op = {dot, item, len, hash, &change, 1, NULL, 0, NULL, NULL};
  if (delta && (rc = crdt__causal_record(&delta->d.c, &delta->d.base.mem,
                                         &d->c.replicas, &op))) {
    crdt__dotted_slot_drop(d, &slot);
    return rc;
  }
  if (d->base.journal) crdt__journal_op(&d->base, &d->c.replicas, &op);
  e = crdt__dotted_slot_take(d, &slot);
  crdt__entry_push(e, change);
  crdt__ctx_add(&d->c.ctx, dot);
  return 0;
}

int crdt_cart_add(crdt_cart *cart, const void *item, size_t len, uint64_t n,
                  crdt_cart *delta) {
  if (!cart || n == 0) return CRDT_EINVAL;
  int rc;
  if ((rc = crdt__dotted_check_key(item, len)) ||
      (rc = crdt__dotted_check_delta(&cart->d, (crdt_object *)delta)))
    return rc;
  if (n > INT64_MAX) return CRDT_ERANGE;
  uint32_t hash;
  crdt__entry *e = crdt__dotted_find(&cart->d, item, len, &hash);
  if (e && quantity_of(e) > INT64_MAX - (int64_t)n) return CRDT_ERANGE;
  return cart_change(cart, item, len, e, hash, (int64_t)n, delta);
}

int crdt_cart_dec(crdt_cart *cart, const void *item, size_t len, uint64_t n,
                  crdt_cart *delta, uint64_t *taken) {
  if (!cart || n == 0) return CRDT_EINVAL;
  int rc;
  if ((rc = crdt__dotted_check_key(item, len)) ||
      (rc = crdt__dotted_check_delta(&cart->d, (crdt_object *)delta)))
    return rc;
  uint32_t hash;
  crdt__entry *e = crdt__dotted_find(&cart->d, item, len, &hash);
  int64_t have = e ? quantity_of(e) : 0;
  if (have <= 0) return CRDT_ENOENT;
  uint64_t take = n < (uint64_t)have ? n : (uint64_t)have;
  if ((rc = cart_change(cart, item, len, e, hash, -(int64_t)take, delta)))
    return rc;
  if (taken) *taken = take;
  return 0;
}

/* Exact reset: only the increments this replica observed go (see
 * crdt__dotted_remove). */
int crdt_cart_remove(crdt_cart *cart, const void *item, size_t len,
                     crdt_cart *delta) {
  if (!cart) return CRDT_EINVAL;
  return crdt__dotted_remove(&cart->d, item, len, (crdt_object *)delta);
}

int64_t crdt_cart_quantity(const crdt_cart *cart, const void *item,
                           size_t len) {
  if (!cart || crdt__dotted_check_key(item, len)) return 0;
  uint32_t hash;
  const crdt__entry *e = crdt__dotted_find(&cart->d, item, len, &hash);
  return e ? quantity_of(e) : 0;
}

size_t crdt_cart_size(const crdt_cart *cart) {
  if (!cart) return 0;
  const crdt__store *s = &cart->d.c.store;
  size_t n = 0;
  for (uint32_t i = 0; i < s->count; i++) n += quantity_of(&s->entries[i]) > 0;
  return n;
}

int crdt_cart_foreach(const crdt_cart *cart, crdt_cart_visit visit,
                      void *user) {
  if (!cart || !visit) return CRDT_EINVAL;
  const crdt__entry **sorted;
  const crdt__store *s = &cart->d.c.store;
  int rc = crdt__store_sorted(s, &cart->d.base.mem, &sorted);
  if (rc) return rc;
  for (uint32_t i = 0; i < s->count && !rc; i++) {
    int64_t q = quantity_of(sorted[i]);
    if (q > 0)
      rc = visit((crdt_bytes){crdt__entry_key(sorted[i]), sorted[i]->keylen}, q, user);
  }
  crdt__free(&cart->d.base.mem, sorted, s->count * sizeof *sorted);
  return rc;
}

/*
 * libcrdt: shopping cart, an observed-remove map from items to causal
 * counters.
 */
#ifndef CRDT_CART_H
#define CRDT_CART_H

#include <stdbool.h>

#include "crdt/common.h"
#include "crdt/object.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @file cart.h
 * A map from items (byte strings) to quantities that replicas update
 * independently: the Dynamo shopping cart, without its anomalies. Every
 * increment and every decrement is its own dot carrying its amount, so
 * concurrent changes add up, and a remove resets exactly the amounts its
 * replica has observed: an increment concurrent with a remove survives with
 * its own amount (the item comes back with only that amount; removed items
 * never resurrect their old quantity). Every update, removals included,
 * creates a dot at the acting replica, so comparing two carts' histories is
 * exact.
 *
 * quantity(item) is the sum of the amounts of the item's increments and
 * decrements that no remove of the item has observed. A decrement takes at
 * most what its replica sees, but concurrent decrements can still drive a
 * quantity to zero or below; items with quantity <= 0 are not listed.
 * Concurrent increments at different replicas can in principle sum beyond
 * INT64_MAX; quantities then read as INT64_MAX (the sum is computed exactly
 * and clamped, so equal states read equal quantities).
 *
 * Items are byte strings of 0 .. UINT32_MAX bytes (they need not be text).
 * Each update costs expected O(1) plus the item's number of dots. An item
 * keeps one dot per increment or decrement until a remove of it is merged
 * everywhere; crdt_cart_remove() also compacts that history.
 *
 * Deltas: pass a delta object (created with a NULL replica) to a mutator and
 * it joins the update's delta into it. Deltas join each other and full
 * states in any order, duplicated or not, with the same result as merging
 * full states; joining a delta that was never merged with a full state costs
 * time linear in the delta, not in the cart it is joined into.
 */

/** Opaque cart. Not thread-safe; distinct carts are independent. */
typedef struct crdt_cart crdt_cart;

/** Creates an empty cart.
 * @param replica the id this replica stamps its updates with (1..64 bytes),
 *   or NULL for a cart that only collects deltas or receives states.
 * @param[out] out receives the cart; the caller frees it with
 *   crdt_cart_free().
 * @return 0, CRDT_EINVAL (bad id, out NULL) or CRDT_ENOMEM. */
CRDT_API int crdt_cart_new(const char *replica, crdt_cart **out);

/** Frees a cart; NULL does nothing. */
CRDT_API void crdt_cart_free(crdt_cart *cart);

/** Adds `n` of `item`: a new dot carrying +n.
 * @param cart the cart; needs a replica id.
 * @param item item bytes (may be NULL when len is 0); copied.
 * @param len the item's size, 0 .. UINT32_MAX.
 * @param n amount, 1 .. INT64_MAX.
 * @param delta NULL, or a cart (not `cart`) into which the update's delta is
 *   joined.
 * @return 0, CRDT_EINVAL (n is 0, bad arguments), CRDT_ETYPE (delta of
 *   another type), CRDT_ENOREPLICA (cart has no replica id), CRDT_ERANGE (n
 *   above INT64_MAX, the item's quantity would exceed INT64_MAX, or the
 *   counter space is exhausted), CRDT_ETOOMANY or CRDT_ENOMEM. On error
 *   neither cart nor delta changes. */
CRDT_API int crdt_cart_add(crdt_cart *cart, const void *item, size_t len,
                           uint64_t n, crdt_cart *delta);

/** Takes up to `n` of `item`: min(n, the quantity this replica sees), as a
 * new dot carrying minus that amount. A larger n simply takes everything
 * seen (UINT64_MAX is fine).
 * @param cart the cart; needs a replica id.
 * @param item item bytes (may be NULL when len is 0); not retained.
 * @param len the item's size, 0 .. UINT32_MAX.
 * @param n >= 1.
 * @param delta NULL, or a cart (not `cart`) into which the update's delta is
 *   joined.
 * @param[out] taken if not NULL, receives the amount taken (on success only).
 * @return 0, CRDT_ENOENT (the item's quantity here is 0 or less, absent
 *   items included: nothing changes and no dot is created), CRDT_EINVAL (n
 *   is 0, bad arguments), CRDT_ETYPE, CRDT_ENOREPLICA, CRDT_ERANGE (counter
 *   space exhausted), CRDT_ETOOMANY or CRDT_ENOMEM. On error neither cart
 *   nor delta changes. */
CRDT_API int crdt_cart_dec(crdt_cart *cart, const void *item, size_t len,
                           uint64_t n, crdt_cart *delta, uint64_t *taken);

/** Removes `item`: drops every increment and decrement of it this replica
 * has seen and records the removal as a new dot. Amounts added at other
 * replicas that this one has not seen survive the merge. An item whose
 * quantity is 0 or less but that still has history here (e.g. after
 * decrements took everything) can be removed; this clears that history.
 * @return 0, CRDT_ENOENT (the item has no history here at all: nothing
 *   changes and no dot is created), CRDT_EINVAL, CRDT_ETYPE,
 *   CRDT_ENOREPLICA, CRDT_ERANGE (counter space exhausted), CRDT_ETOOMANY or
 *   CRDT_ENOMEM. On error neither cart nor delta changes. */
CRDT_API int crdt_cart_remove(crdt_cart *cart, const void *item, size_t len,
                              crdt_cart *delta);

/** The quantity of `item`: the sum of its increments and decrements that no
 * remove observed, clamped to the int64 range; 0 when absent. May be
 * negative after concurrent decrements. */
CRDT_API int64_t crdt_cart_quantity(const crdt_cart *cart, const void *item,
                                    size_t len);

/** Number of items with a quantity above 0. Walks the cart: O(items + dots). */
CRDT_API size_t crdt_cart_size(const crdt_cart *cart);

/** Callback for crdt_cart_foreach: `item` is valid during the call only.
 * Return non-zero to stop. */
typedef int (*crdt_cart_visit)(crdt_bytes item, int64_t quantity, void *user);

/** Calls `visit` for each item with a quantity above 0, in canonical order
 * (sorted by bytes, shorter first on a common prefix), the same on every
 * replica. The cart must not change during the walk.
 * @return 0, the callback's non-zero value, CRDT_EINVAL or CRDT_ENOMEM. */
CRDT_API int crdt_cart_foreach(const crdt_cart *cart, crdt_cart_visit visit,
                               void *user);

/** dst := dst ⊔ src; see crdt_object_merge(). */
CRDT_API int crdt_cart_merge(crdt_cart *dst, const crdt_cart *src);

/** true when both hold the same increments, decrements and causal
 * history. */
CRDT_API bool crdt_cart_equal(const crdt_cart *a, const crdt_cart *b);

/** Deep copy; see crdt_object_copy(). */
CRDT_API int crdt_cart_copy(const crdt_cart *src, crdt_cart **out);

/** Compares histories; see crdt_object_compare(). */
CRDT_API int crdt_cart_compare(const crdt_cart *a, const crdt_cart *b,
                               crdt_order *order);

/** The cart as a generic object (same pointer, no copy; do not free both).
 * Its value JSON is an object item -> quantity of the listed items, sorted
 * by bytes: {"apple": 2, "pear": 1}. */
CRDT_API crdt_object *crdt_cart_object(crdt_cart *cart);

/** The object as a cart, or NULL when it is of another type. */
CRDT_API crdt_cart *crdt_object_cart(crdt_object *obj);

#ifdef __cplusplus
}
#endif
#endif /* CRDT_CART_H */

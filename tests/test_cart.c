/*
 * Cart (OR-map item -> causal counter): the Dynamo cart merge, exact resets
 * under concurrency, decrements bounded by what was seen, error paths that
 * change nothing, a reference model checked against random histories (laws,
 * deltas, delta groups, compare), keyed deltas, atomicity under OOM.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crdt/crdt.h"
#include "dotted.h" /* white box: is a delta keyed? */
#include "testutil.h"

#define S(x) (x), strlen(x)

/* ---- helpers ---------------------------------------------------------------- */

static crdt_cart *cart_at(const char *replica) {
  crdt_cart *c = NULL;
  assert_int_equal(crdt_cart_new(replica, &c), 0);
  return c;
}

static void add(crdt_cart *c, const char *item, uint64_t n) {
  assert_int_equal(crdt_cart_add(c, S(item), n, NULL), 0);
}

static uint64_t dec(crdt_cart *c, const char *item, uint64_t n) {
  uint64_t taken = 0;
  assert_int_equal(crdt_cart_dec(c, S(item), n, NULL, &taken), 0);
  return taken;
}

static void rem(crdt_cart *c, const char *item) {
  assert_int_equal(crdt_cart_remove(c, S(item), NULL), 0);
}

static void sync_into(crdt_cart *dst, const crdt_cart *src) {
  assert_int_equal(crdt_cart_merge(dst, src), 0);
}

static char *obj_format(const crdt_object *o,
                        int (*fmt)(const crdt_object *, char *, size_t,
                                   size_t *)) {
  size_t need = 0;
  assert_int_equal(fmt(o, NULL, 0, &need), CRDT_ENOSPC);
  char *buf = malloc(need + 1);
  assert_non_null(buf);
  assert_int_equal(fmt(o, buf, need + 1, NULL), 0);
  return buf;
}

static void assert_value(crdt_cart *c, const char *json) {
  char *v = obj_format(crdt_cart_object(c), crdt_object_value_json);
  assert_string_equal(v, json);
  free(v);
}

static void assert_ctx(crdt_cart *c, const char *text) {
  char *v = obj_format(crdt_cart_object(c), crdt_object_context_text);
  assert_string_equal(v, text);
  free(v);
}

static crdt_order order_of(crdt_cart *a, crdt_cart *b) {
  crdt_order o;
  assert_int_equal(crdt_cart_compare(a, b, &o), 0);
  return o;
}

static bool keyed(crdt_cart *c) {
  return crdt__dotted_cof(crdt_cart_object(c))->c.keyed;
}

/* Runs `op` and checks it returns `rc` and leaves the cart's text as it
 * was (no dot created, nothing changed). */
#define ASSERT_NOTHING_CHANGES(cart, rc, op)                                   \
  do {                                                                         \
    char *before_ = tu_object_text(crdt_cart_object(cart));                    \
    assert_int_equal((op), (rc));                                              \
    char *after_ = tu_object_text(crdt_cart_object(cart));                     \
    assert_string_equal(before_, after_);                                      \
    free(before_);                                                             \
    free(after_);                                                              \
  } while (0)

/* ---- scenarios ---------------------------------------------------------------- */

/* Dynamo's cart: two replicas fill the cart independently; the merge is the
 * union of the items. */
static void test_cart_dynamo_merge_is_union_of_items(void **state) {
  (void)state;
  crdt_cart *a = cart_at("A"), *b = cart_at("B");
  add(a, "apple", 2);
  add(b, "pear", 1);
  assert_int_equal(order_of(a, b), CRDT_CONCURRENT);
  sync_into(a, b);
  sync_into(b, a);
  assert_value(a, "{\"apple\": 2, \"pear\": 1}");
  assert_ctx(a, "{A:1, B:1}");
  assert_true(crdt_cart_equal(a, b));
  assert_int_equal(crdt_cart_size(a), 2);
  crdt_cart_free(a);
  crdt_cart_free(b);
}

static void test_cart_concurrent_increments_add_up(void **state) {
  (void)state;
  crdt_cart *a = cart_at("A"), *b = cart_at("B");
  add(a, "apple", 1);
  sync_into(b, a);
  add(a, "apple", 2);
  add(b, "apple", 3);
  add(b, "apple", 4);
  sync_into(a, b);
  sync_into(b, a);
  assert_int_equal(crdt_cart_quantity(a, S("apple")), 10);
  assert_value(b, "{\"apple\": 10}");
  assert_true(crdt_cart_equal(a, b));
  crdt_cart_free(a);
  crdt_cart_free(b);
}

/* B removes the apples it saw (3) while A adds 2 more: the merge keeps
 * exactly A's concurrent 2. A running total per replica would give 5 back
 * (A's total 5 replaces the 3 that B observed). */
static void test_cart_remove_concurrent_with_add_keeps_only_that_add(void **state) {
  (void)state;
  for (int way = 0; way < 2; way++) {
    crdt_cart *a = cart_at("A"), *b = cart_at("B");
    add(a, "apple", 1);
    add(a, "apple", 2);
    add(a, "pear", 1);
    sync_into(b, a);
    rem(b, "apple");
    add(a, "apple", 2);
    assert_int_equal(order_of(a, b), CRDT_CONCURRENT);
    if (way == 0) {
      sync_into(a, b);
      sync_into(b, a);
    } else {
      sync_into(b, a);
      sync_into(a, b);
    }
    assert_int_equal(crdt_cart_quantity(a, S("apple")), 2);
    assert_value(a, "{\"apple\": 2, \"pear\": 1}");
    assert_ctx(a, "{A:4, B:1}");
    assert_true(crdt_cart_equal(a, b));
    crdt_cart_free(a);
    crdt_cart_free(b);
  }
}

/* A remove that saw everything wins; adding again starts from zero. */
static void test_cart_remove_then_add_starts_from_zero(void **state) {
  (void)state;
  crdt_cart *a = cart_at("A"), *b = cart_at("B");
  add(a, "apple", 5);
  sync_into(b, a);
  rem(b, "apple");
  assert_int_equal(order_of(a, b), CRDT_BEFORE);
  sync_into(a, b);
  assert_value(a, "{}");
  assert_int_equal(crdt_cart_quantity(a, S("apple")), 0);
  add(a, "apple", 1);
  sync_into(b, a);
  assert_value(b, "{\"apple\": 1}");
  assert_ctx(b, "{A:2, B:1}");
  crdt_cart_free(a);
  crdt_cart_free(b);
}

/* dec takes min(n, what this replica sees). Concurrent decrements can still
 * drive a quantity below zero: it is then not listed, reads negative, and
 * later additions count from there. */
static void test_cart_dec_takes_at_most_what_was_seen(void **state) {
  (void)state;
  crdt_cart *a = cart_at("A"), *b = cart_at("B");
  add(a, "apple", 3);
  assert_int_equal(dec(a, "apple", 1), 1);
  assert_int_equal(dec(a, "apple", 5), 2); /* only 2 left */
  assert_int_equal(crdt_cart_quantity(a, S("apple")), 0);
  assert_value(a, "{}");
  assert_int_equal(crdt_cart_size(a), 0);
  ASSERT_NOTHING_CHANGES(a, CRDT_ENOENT,
                         crdt_cart_dec(a, S("apple"), 1, NULL, NULL));

  add(a, "pear", 3);
  sync_into(b, a);
  assert_int_equal(dec(a, "pear", 2), 2);
  assert_int_equal(dec(b, "pear", UINT64_MAX), 3); /* everything it saw */
  sync_into(a, b);
  assert_int_equal(crdt_cart_quantity(a, S("pear")), -2);
  assert_value(a, "{}");
  add(a, "pear", 3);
  assert_int_equal(crdt_cart_quantity(a, S("pear")), 1);
  assert_value(a, "{\"pear\": 1}");
  crdt_cart_free(a);
  crdt_cart_free(b);
}

/* Removing an item with no quantity left but with history clears that
 * history (a dot is created); removing an item with no history at all is
 * ENOENT and changes nothing. */
static void test_cart_remove_clears_history_of_emptied_item(void **state) {
  (void)state;
  crdt_cart *a = cart_at("A"), *b = cart_at("B");
  add(a, "apple", 2);
  assert_int_equal(dec(a, "apple", 2), 2);
  sync_into(b, a);
  add(b, "apple", 1); /* concurrent with A's remove below */
  rem(a, "apple");
  assert_ctx(a, "{A:3}");
  ASSERT_NOTHING_CHANGES(a, CRDT_ENOENT, crdt_cart_remove(a, S("apple"), NULL));
  sync_into(a, b);
  assert_value(a, "{\"apple\": 1}");
  crdt_cart_free(a);
  crdt_cart_free(b);
}

static void test_cart_enoent_changes_nothing(void **state) {
  (void)state;
  crdt_cart *a = cart_at("A"), *delta = cart_at(NULL);
  add(a, "apple", 2);
  char *before = tu_object_text(crdt_cart_object(delta));
  ASSERT_NOTHING_CHANGES(a, CRDT_ENOENT,
                         crdt_cart_dec(a, S("pear"), 1, delta, NULL));
  ASSERT_NOTHING_CHANGES(a, CRDT_ENOENT, crdt_cart_remove(a, S("pear"), delta));
  ASSERT_NOTHING_CHANGES(a, CRDT_ENOENT, crdt_cart_remove(a, "", 0, delta));
  char *after = tu_object_text(crdt_cart_object(delta));
  assert_string_equal(before, after);
  free(before);
  free(after);
  crdt_cart_free(a);
  crdt_cart_free(delta);
}

static void test_cart_invalid_amounts_and_overflow(void **state) {
  (void)state;
  crdt_cart *a = cart_at("A"), *delta = cart_at(NULL);
  add(a, "apple", 1);
  ASSERT_NOTHING_CHANGES(a, CRDT_EINVAL, crdt_cart_add(a, S("apple"), 0, delta));
  ASSERT_NOTHING_CHANGES(a, CRDT_EINVAL,
                         crdt_cart_dec(a, S("apple"), 0, delta, NULL));
  ASSERT_NOTHING_CHANGES(a, CRDT_ERANGE,
                         crdt_cart_add(a, S("pear"), (uint64_t)INT64_MAX + 1, delta));
  ASSERT_NOTHING_CHANGES(a, CRDT_ERANGE,
                         crdt_cart_add(a, S("apple"), INT64_MAX, delta));
  assert_int_equal(crdt_cart_add(a, S("pear"), INT64_MAX, NULL), 0);
  ASSERT_NOTHING_CHANGES(a, CRDT_ERANGE, crdt_cart_add(a, S("pear"), 1, delta));
  assert_int_equal(crdt_cart_quantity(a, S("pear")), INT64_MAX);
  assert_value(a, "{\"apple\": 1, \"pear\": 9223372036854775807}");
  assert_value(delta, "{}");
  assert_ctx(delta, "{}");
  crdt_cart_free(a);
  crdt_cart_free(delta);
}

/* Concurrent increments at different replicas can exceed INT64_MAX. The
 * quantity is then the exact sum clamped, whatever order the dots were
 * merged in: equal states read and print the same. (Saturating as one sums
 * would give INT64_MAX - 5 in one merge order and INT64_MAX - 4 in
 * another.) */
static void test_cart_quantity_is_exact_in_any_merge_order(void **state) {
  (void)state;
  crdt_cart *a = cart_at("A"), *b = cart_at("B"), *c = cart_at("C");
  add(a, "x", INT64_MAX);
  sync_into(b, a);
  assert_int_equal(dec(b, "x", 5), 5);
  add(c, "x", 1);
  crdt_cart *abc = cart_at(NULL), *cab = cart_at(NULL);
  sync_into(abc, a);
  sync_into(abc, b);
  sync_into(abc, c);
  sync_into(cab, c);
  sync_into(cab, a);
  sync_into(cab, b);
  assert_true(crdt_cart_equal(abc, cab));
  assert_int_equal(crdt_cart_quantity(abc, S("x")), INT64_MAX - 4);
  assert_int_equal(crdt_cart_quantity(cab, S("x")), INT64_MAX - 4);
  assert_value(cab, "{\"x\": 9223372036854775803}");

  add(c, "x", 10); /* now 2^63 + 5 in total: reads as INT64_MAX */
  sync_into(abc, c);
  assert_int_equal(crdt_cart_quantity(abc, S("x")), INT64_MAX);
  sync_into(c, abc);
  ASSERT_NOTHING_CHANGES(c, CRDT_ERANGE, crdt_cart_add(c, S("x"), 1, NULL));
  uint64_t taken = dec(c, "x", UINT64_MAX);
  assert_int_equal(taken, INT64_MAX);
  assert_int_equal(crdt_cart_quantity(c, S("x")), 6); /* exact: 2^63+5 - (2^63-1) */
  crdt_cart_free(a);
  crdt_cart_free(b);
  crdt_cart_free(c);
  crdt_cart_free(abc);
  crdt_cart_free(cab);
}

/* ---- deltas ------------------------------------------------------------------ */

/* Cart deltas are keyed: their contexts only name dots of the items they
 * list, so joining one into a cart visits only those items, not the whole
 * cart. Groups of deltas stay keyed; a delta object that absorbed a full
 * state does not (and then joins like a state). */
static void test_cart_deltas_are_keyed_and_join_like_states(void **state) {
  (void)state;
  crdt_cart *big = cart_at("A"), *b = cart_at("B");
  char item[16];
  for (int i = 0; i < 2000; i++) {
    snprintf(item, sizeof item, "item-%04d", i);
    add(big, item, 1 + (uint64_t)(i % 3));
  }
  sync_into(b, big);
  crdt_cart *d1 = cart_at(NULL), *d2 = cart_at(NULL), *d3 = cart_at(NULL);
  crdt_cart *group = cart_at(NULL);
  assert_int_equal(crdt_cart_add(b, S("item-0001"), 4, d1), 0);
  uint64_t taken;
  assert_int_equal(crdt_cart_dec(b, S("item-0002"), 1, d2, &taken), 0);
  assert_int_equal(crdt_cart_remove(b, S("item-0003"), d3), 0);
  assert_int_equal(crdt_cart_add(b, S("item-0003"), 7, d3), 0);
  assert_true(keyed(d1) && keyed(d2) && keyed(d3));
  assert_value(d2, "{}");
  sync_into(group, d3);
  sync_into(group, d1);
  sync_into(group, d2);
  sync_into(group, d3);
  assert_true(keyed(group));
  assert_false(keyed(big));

  crdt_cart *via_group = NULL, *via_deltas = NULL;
  assert_int_equal(crdt_cart_copy(big, &via_group), 0);
  assert_int_equal(crdt_cart_copy(big, &via_deltas), 0);
  sync_into(via_group, group);
  sync_into(via_deltas, d2);
  sync_into(via_deltas, d3);
  sync_into(via_deltas, d1);
  assert_true(crdt_cart_equal(via_group, b));
  assert_true(crdt_cart_equal(via_deltas, b));
  assert_int_equal(crdt_cart_quantity(via_group, S("item-0001")), 6);
  assert_int_equal(crdt_cart_quantity(via_group, S("item-0002")), 2);
  assert_int_equal(crdt_cart_quantity(via_group, S("item-0003")), 7);
  assert_int_equal(crdt_cart_size(via_group), 2000);

  sync_into(group, big); /* absorbs a full state: no longer keyed */
  assert_false(keyed(group));
  crdt_cart_free(big);
  crdt_cart_free(b);
  crdt_cart_free(d1);
  crdt_cart_free(d2);
  crdt_cart_free(d3);
  crdt_cart_free(group);
  crdt_cart_free(via_group);
  crdt_cart_free(via_deltas);
}

/* ---- readers and errors ---------------------------------------------------------- */

typedef struct seen_items {
  char text[128];
  int stop_after;
} seen_items;

static int collect(crdt_bytes item, int64_t quantity, void *user) {
  seen_items *s = user;
  char line[48];
  snprintf(line, sizeof line, "%.*s=%lld;", (int)item.size,
           item.size ? (const char *)item.data : "", (long long)quantity);
  strcat(s->text, line);
  return --s->stop_after == 0 ? 42 : 0;
}

static void test_cart_foreach_order_and_binary_items(void **state) {
  (void)state;
  crdt_cart *a = cart_at("A");
  add(a, "pear", 2);
  add(a, "apple", 1);
  add(a, "ap", 4);
  assert_int_equal(crdt_cart_add(a, "", 0, 3, NULL), 0);
  assert_int_equal(crdt_cart_add(a, "a\"\n", 3, 1, NULL), 0);
  add(a, "gone", 1);
  assert_int_equal(dec(a, "gone", 1), 1);
  seen_items s = {"", -1};
  assert_int_equal(crdt_cart_foreach(a, collect, &s), 0);
  assert_string_equal(s.text, "=3;a\"\n=1;ap=4;apple=1;pear=2;");
  assert_value(a, "{\"\": 3, \"a\\\"\\n\": 1, \"ap\": 4, \"apple\": 1, \"pear\": 2}");
  assert_int_equal(crdt_cart_size(a), 5);
  seen_items early = {"", 2};
  assert_int_equal(crdt_cart_foreach(a, collect, &early), 42);
  assert_string_equal(early.text, "=3;a\"\n=1;");
  assert_int_equal(crdt_cart_foreach(a, NULL, NULL), CRDT_EINVAL);
  assert_int_equal(crdt_cart_quantity(a, NULL, 1), 0);
  assert_int_equal(crdt_cart_quantity(NULL, S("pear")), 0);
  crdt_cart_free(a);
}

static void test_cart_errors(void **state) {
  (void)state;
  crdt_cart *a = cart_at("A"), *none = cart_at(NULL);
  crdt_orset *set = NULL;
  assert_int_equal(crdt_orset_new(NULL, &set), 0);
  add(a, "apple", 1);
  sync_into(none, a);
  ASSERT_NOTHING_CHANGES(a, CRDT_EINVAL, crdt_cart_add(a, NULL, 1, 1, NULL));
  ASSERT_NOTHING_CHANGES(a, CRDT_EINVAL, crdt_cart_add(a, S("x"), 1, a));
  ASSERT_NOTHING_CHANGES(a, CRDT_ETYPE,
                         crdt_cart_add(a, S("x"), 1, (crdt_cart *)set));
  ASSERT_NOTHING_CHANGES(a, CRDT_ETYPE,
                         crdt_cart_remove(a, S("apple"), (crdt_cart *)set));
  ASSERT_NOTHING_CHANGES(none, CRDT_ENOREPLICA,
                         crdt_cart_add(none, S("x"), 1, NULL));
  ASSERT_NOTHING_CHANGES(none, CRDT_ENOREPLICA,
                         crdt_cart_dec(none, S("apple"), 1, NULL, NULL));
  ASSERT_NOTHING_CHANGES(none, CRDT_ENOREPLICA,
                         crdt_cart_remove(none, S("apple"), NULL));
  assert_int_equal(crdt_cart_add(NULL, S("x"), 1, NULL), CRDT_EINVAL);
  assert_null(crdt_object_cart(crdt_orset_object(set)));
  assert_ptr_equal(crdt_object_cart(crdt_cart_object(a)), a);
  crdt_object *generic = NULL;
  assert_int_equal(crdt_object_new(CRDT_TYPE_CART, "G", &generic), 0);
  assert_string_equal(crdt_type_name(crdt_object_type(generic)), "cart");
  assert_non_null(crdt_object_cart(generic));
  crdt_object_free(generic);
  crdt_orset_free(set);
  crdt_cart_free(a);
  crdt_cart_free(none);
}

/* ---- reference model and random histories ------------------------------------ */

#define NR 4
#define MAXK 60
static const char *const RID[NR] = {"A", "B", "C", "D"};
/* In byte order, so the model's JSON comes out sorted. */
static const char *const ITEM[] = {"", "apple", "fig", "pear"};
#define NI 4

typedef struct dotset {
  uint64_t bits[NR]; /* bit k-1: dot (RID[r], k) */
} dotset;

static void ds_add(dotset *s, int r, unsigned k) { s->bits[r] |= 1ull << (k - 1); }
static bool ds_has(const dotset *s, int r, unsigned k) {
  return (s->bits[r] >> (k - 1)) & 1;
}
static void ds_union(dotset *s, const dotset *t) {
  for (int r = 0; r < NR; r++) s->bits[r] |= t->bits[r];
}
static bool ds_subset(const dotset *s, const dotset *t) {
  for (int r = 0; r < NR; r++)
    if (s->bits[r] & ~t->bits[r]) return false;
  return true;
}

static char *ds_text(const dotset *s) {
  crdt_context *c = NULL;
  assert_int_equal(crdt_context_new(&c), 0);
  for (int r = 0; r < NR; r++)
    for (unsigned k = 1; k <= 64; k++)
      if (ds_has(s, r, k)) assert_int_equal(crdt_context_add(c, RID[r], k), 0);
  size_t need = 0;
  assert_int_equal(crdt_context_format(c, NULL, 0, &need), CRDT_ENOSPC);
  char *t = malloc(need + 1);
  assert_non_null(t);
  assert_int_equal(crdt_context_format(c, t, need + 1, NULL), 0);
  crdt_context_free(c);
  return t;
}

enum { OP_ADD, OP_DEC, OP_REMOVE };

typedef struct cop {
  int kind;
  int item;
  int64_t amount;  /* +n for an add, -taken for a dec */
  dotset observed; /* a remove: the item's dots it dropped */
  dotset delta;    /* {its dot} ∪ observed: what its delta makes known */
  crdt_cart *d;
} cop;

typedef struct world {
  crdt_cart *cart[NR];
  dotset seen[NR];
  unsigned next[NR];
  cop op[NR][MAXK + 1]; /* op[r][k]: the operation with dot (r, k) */
  tu_rng rng;
} world;

/* The model: the item's changes seen and not observed by a remove seen. */
static dotset live(const world *w, const dotset *seen, int item) {
  dotset out = {{0}};
  for (int r = 0; r < NR; r++)
    for (unsigned k = 1; k <= w->next[r]; k++) {
      const cop *o = &w->op[r][k];
      if (!ds_has(seen, r, k) || o->kind == OP_REMOVE || o->item != item)
        continue;
      bool removed = false;
      for (int r2 = 0; r2 < NR && !removed; r2++)
        for (unsigned k2 = 1; k2 <= w->next[r2] && !removed; k2++)
          removed = ds_has(seen, r2, k2) && w->op[r2][k2].kind == OP_REMOVE &&
                    ds_has(&w->op[r2][k2].observed, r, k);
      if (!removed) ds_add(&out, r, k);
    }
  return out;
}

static int64_t model_quantity(const world *w, const dotset *seen, int item) {
  dotset l = live(w, seen, item);
  int64_t q = 0;
  for (int r = 0; r < NR; r++)
    for (unsigned k = 1; k <= w->next[r]; k++)
      if (ds_has(&l, r, k)) q += w->op[r][k].amount;
  return q;
}

static bool ds_empty(const dotset *s) {
  for (int r = 0; r < NR; r++)
    if (s->bits[r]) return false;
  return true;
}

static void check_against_model(const world *w, crdt_cart *cart,
                                const dotset *seen) {
  char want[256] = "{";
  bool first = true;
  for (int i = 0; i < NI; i++) {
    int64_t q = model_quantity(w, seen, i);
    assert_int_equal(crdt_cart_quantity(cart, S(ITEM[i])), q);
    if (q <= 0) continue;
    char part[64];
    snprintf(part, sizeof part, "%s\"%s\": %lld", first ? "" : ", ", ITEM[i],
             (long long)q);
    strcat(want, part);
    first = false;
  }
  strcat(want, "}");
  char *got = obj_format(crdt_cart_object(cart), crdt_object_value_json);
  char *want_ctx = ds_text(seen);
  char *got_ctx = obj_format(crdt_cart_object(cart), crdt_object_context_text);
  if (strcmp(want, got) || strcmp(want_ctx, got_ctx))
    fail_msg("model: %s %s\nstate: %s %s", want, want_ctx, got, got_ctx);
  free(got);
  free(want_ctx);
  free(got_ctx);
}

/* One random operation at replica r; the model predicts its outcome. */
static void random_op(world *w, int r) {
  crdt_cart *cart = w->cart[r];
  int item = (int)tu_below(&w->rng, NI);
  const char *name = ITEM[item];
  unsigned kind = tu_below(&w->rng, 4);
  unsigned k = w->next[r] + 1;
  cop *op = &w->op[r][k];
  memset(op, 0, sizeof *op);
  op->item = item;
  op->d = cart_at(NULL);
  int rc;
  if (kind <= 1) {
    op->kind = OP_ADD;
    op->amount = 1 + tu_below(&w->rng, 5);
    rc = crdt_cart_add(cart, S(name), (uint64_t)op->amount, op->d);
  } else if (kind == 2) {
    op->kind = OP_DEC;
    uint64_t n = 1 + tu_below(&w->rng, 6), taken = 0;
    int64_t q = model_quantity(w, &w->seen[r], item);
    rc = crdt_cart_dec(cart, S(name), n, op->d, &taken);
    if (q <= 0) {
      assert_int_equal(rc, CRDT_ENOENT);
    } else {
      assert_int_equal(taken, n < (uint64_t)q ? n : (uint64_t)q);
      op->amount = -(int64_t)taken;
    }
  } else {
    op->kind = OP_REMOVE;
    op->observed = live(w, &w->seen[r], item);
    rc = crdt_cart_remove(cart, S(name), op->d);
    if (ds_empty(&op->observed)) assert_int_equal(rc, CRDT_ENOENT);
  }
  if (rc == CRDT_ENOENT) {
    char *t = tu_object_text(crdt_cart_object(op->d));
    assert_string_equal(t, "cart {} {}");
    free(t);
    crdt_cart_free(op->d);
    return;
  }
  assert_int_equal(rc, 0);
  assert_true(keyed(op->d));
  op->delta = op->observed;
  ds_add(&op->delta, r, k);
  ds_union(&w->seen[r], &op->delta);
  w->next[r] = k;
}

static unsigned ops_total(const world *w) {
  unsigned n = 0;
  for (int r = 0; r < NR; r++) n += w->next[r];
  return n;
}

static cop *nth_op(world *w, unsigned i) {
  for (int r = 0; r < NR; r++) {
    if (i < w->next[r]) return &w->op[r][i + 1];
    i -= w->next[r];
  }
  return NULL;
}

static void shuffle(tu_rng *rng, crdt_cart **v, unsigned n) {
  for (unsigned i = n; i > 1; i--) {
    unsigned j = tu_below(rng, i);
    crdt_cart *t = v[i - 1];
    v[i - 1] = v[j];
    v[j] = t;
  }
}

static void assert_equal_states(crdt_cart *x, crdt_cart *y, const char *what) {
  if (!crdt_cart_equal(x, y)) {
    char *tx = tu_object_text(crdt_cart_object(x));
    char *ty = tu_object_text(crdt_cart_object(y));
    fail_msg("%s:\n  %s\n  %s", what, tx, ty);
  }
}

static void check_compare(crdt_cart *x, const dotset *sx, crdt_cart *y,
                          const dotset *sy) {
  bool le = ds_subset(sx, sy), ge = ds_subset(sy, sx);
  crdt_order want = le && ge ? CRDT_EQUAL
                    : le     ? CRDT_BEFORE
                    : ge     ? CRDT_AFTER
                             : CRDT_CONCURRENT;
  crdt_order got = order_of(x, y);
  if (got != want) {
    char *tx = obj_format(crdt_cart_object(x), crdt_object_context_text);
    char *ty = obj_format(crdt_cart_object(y), crdt_object_context_text);
    fail_msg("compare %s vs %s: %s, expected %s", tx, ty, crdt_order_name(got),
             crdt_order_name(want));
  }
}

static void run_history(unsigned long long seed, unsigned steps) {
  world *w = calloc(1, sizeof *w);
  assert_non_null(w);
  w->rng.s = seed;
  for (int r = 0; r < NR; r++) w->cart[r] = cart_at(RID[r]);

  for (unsigned step = 0; step < steps; step++) {
    int r = (int)tu_below(&w->rng, NR);
    unsigned what = tu_below(&w->rng, 20);
    if (what < 11) {
      if (w->next[r] >= MAXK) continue;
      random_op(w, r);
    } else if (what < 15) {
      int src = (int)tu_below(&w->rng, NR);
      sync_into(w->cart[r], w->cart[src]);
      ds_union(&w->seen[r], &w->seen[src]);
    } else if (ops_total(w)) {
      cop *op = nth_op(w, tu_below(&w->rng, ops_total(w)));
      sync_into(w->cart[r], op->d);
      ds_union(&w->seen[r], &op->delta);
    }
    check_against_model(w, w->cart[r], &w->seen[r]);
  }

  crdt_cart *all = cart_at(NULL);
  dotset everything = {{0}};
  for (int r = 0; r < NR; r++) {
    sync_into(all, w->cart[r]);
    ds_union(&everything, &w->seen[r]);
    check_against_model(w, w->cart[r], &w->seen[r]);
  }
  check_against_model(w, all, &everything);

  /* (2) every delta, shuffled, some twice, into an empty object, then into a
   * fresh replica. */
  unsigned n = ops_total(w), nlist = 0;
  crdt_cart **list = calloc(2 * n + 1, sizeof *list);
  assert_non_null(list);
  for (unsigned i = 0; i < n; i++) {
    list[nlist++] = nth_op(w, i)->d;
    if (tu_below(&w->rng, 4) == 0) list[nlist++] = nth_op(w, i)->d;
  }
  shuffle(&w->rng, list, nlist);
  crdt_cart *collected = cart_at(NULL), *fresh = cart_at("Z");
  for (unsigned i = 0; i < nlist; i++) sync_into(collected, list[i]);
  assert_true(keyed(collected));
  assert_equal_states(collected, all, "all deltas vs full merge");
  sync_into(fresh, collected);
  assert_equal_states(fresh, all, "deltas into a fresh replica vs full merge");

  /* (3) delta groups, joined together first, groups in any order. */
  shuffle(&w->rng, list, nlist);
  crdt_cart *groups[5];
  for (int g = 0; g < 5; g++) groups[g] = cart_at(NULL);
  for (unsigned i = 0; i < nlist; i++)
    sync_into(groups[tu_below(&w->rng, 5)], list[i]);
  crdt_cart *regrouped = cart_at("Y"), *group_of_groups = cart_at(NULL);
  for (int g = 4; g >= 0; g--) {
    assert_true(keyed(groups[g]));
    sync_into(regrouped, groups[g]);
    sync_into(group_of_groups, groups[(g + 2) % 5]);
  }
  assert_equal_states(regrouped, all, "delta groups vs full merge");
  assert_equal_states(group_of_groups, all, "group of groups vs full merge");

  /* (1) laws over replicas, a delta group and a single delta. */
  crdt_object *states[6];
  for (int r = 0; r < NR; r++) states[r] = crdt_cart_object(w->cart[r]);
  states[4] = crdt_cart_object(groups[0]);
  states[5] = crdt_cart_object(n ? list[0] : all);
  tu_check_laws(states, 6);

  /* (4) compare agrees with inclusion of the sets of dots seen. */
  for (int x = 0; x < NR; x++) {
    for (int y = 0; y < NR; y++)
      check_compare(w->cart[x], &w->seen[x], w->cart[y], &w->seen[y]);
    check_compare(w->cart[x], &w->seen[x], all, &everything);
  }

  for (int g = 0; g < 5; g++) crdt_cart_free(groups[g]);
  crdt_cart_free(regrouped);
  crdt_cart_free(group_of_groups);
  crdt_cart_free(collected);
  crdt_cart_free(fresh);
  crdt_cart_free(all);
  free(list);
  for (int r = 0; r < NR; r++) {
    for (unsigned k = 1; k <= w->next[r]; k++) crdt_cart_free(w->op[r][k].d);
    crdt_cart_free(w->cart[r]);
  }
  free(w);
}

static void test_cart_random_histories_match_model(void **state) {
  (void)state;
  for (unsigned long long seed = 1; seed <= 40; seed++)
    run_history(seed * 0x9E3779B97F4A7C15ull, 150);
}

/* ---- atomicity under allocation failure ---------------------------------------- */

typedef struct fx {
  crdt_cart *a, *b, *delta, *group, *out;
} fx;

/* A: apple with three dots, pear removed, fig; B: concurrent changes and a
 * replica A has not heard of; delta and group already hold deltas. */
static void *fx_setup(void) {
  fx *f = calloc(1, sizeof *f);
  assert_non_null(f);
  f->a = cart_at("A");
  f->b = cart_at("B");
  f->delta = cart_at(NULL);
  f->group = cart_at(NULL);
  add(f->a, "apple", 2);
  assert_int_equal(crdt_cart_add(f->a, S("apple"), 3, f->delta), 0);
  assert_int_equal(dec(f->a, "apple", 1), 1);
  add(f->a, "pear", 1);
  sync_into(f->b, f->a);
  rem(f->a, "pear");
  add(f->a, "fig", 4);
  assert_int_equal(crdt_cart_remove(f->b, S("apple"), f->group), 0);
  assert_int_equal(crdt_cart_add(f->b, S("kiwi"), 2, f->group), 0);
  return f;
}

static char *fx_snapshot(void *p) {
  fx *f = p;
  crdt_cart *objs[5] = {f->a, f->b, f->delta, f->group, f->out};
  char *s = calloc(1, 1);
  size_t len = 0;
  assert_non_null(s);
  for (int i = 0; i < 5; i++) {
    char *t = objs[i] ? tu_object_text(crdt_cart_object(objs[i])) : NULL;
    const char *part = t ? t : "-";
    s = realloc(s, len + strlen(part) + 4);
    assert_non_null(s);
    strcpy(s + len, part);
    strcat(s + len, " | ");
    len += strlen(s + len);
    free(t);
  }
  return s;
}

static void fx_teardown(void *p) {
  fx *f = p;
  crdt_cart_free(f->a);
  crdt_cart_free(f->b);
  crdt_cart_free(f->delta);
  crdt_cart_free(f->group);
  crdt_cart_free(f->out);
  free(f);
}

#define RUN(name, expr)                                                        \
  static int name(void *p) {                                                   \
    fx *f = p;                                                                 \
    return (expr);                                                             \
  }
RUN(run_add_new, crdt_cart_add(f->a, S("kiwi"), 1, NULL))
RUN(run_add_new_delta, crdt_cart_add(f->a, S("kiwi"), 1, f->delta))
RUN(run_add_existing, crdt_cart_add(f->a, S("apple"), 1, NULL))
RUN(run_add_existing_delta, crdt_cart_add(f->a, S("apple"), 1, f->delta))
RUN(run_add_inline_delta, crdt_cart_add(f->a, S("fig"), 1, f->delta))
RUN(run_dec, crdt_cart_dec(f->a, S("fig"), 2, NULL, NULL))
RUN(run_dec_delta, crdt_cart_dec(f->a, S("fig"), 9, f->delta, NULL))
RUN(run_remove, crdt_cart_remove(f->a, S("apple"), NULL))
RUN(run_remove_delta, crdt_cart_remove(f->a, S("apple"), f->delta))
RUN(run_merge_full, crdt_cart_merge(f->a, f->b))
RUN(run_merge_delta, crdt_cart_merge(f->a, f->group))
RUN(run_merge_delta_group, crdt_cart_merge(f->delta, f->group))
RUN(run_merge_state_into_delta, crdt_cart_merge(f->delta, f->b))
RUN(run_copy, crdt_cart_copy(f->a, &f->out))

static void test_cart_oom_leaves_everything_unchanged(void **state) {
  (void)state;
  /* allocates: whether the run must allocate at all (a remove without a
   * delta frees only; an add or dec on an item whose dot array has room
   * neither: dots with amounts live in an array from the item's first add,
   * which starts with room for two). */
  static const struct {
    const char *name;
    int (*run)(void *);
    bool allocates;
  } cases[] = {
      {"add new item", run_add_new, true},
      {"add new item with delta", run_add_new_delta, true},
      {"add to item with room", run_add_existing, false},
      /* The delta's entry for apple has room for a second dot: recorded in
       * place, nothing to allocate. */
      {"add to item with delta", run_add_existing_delta, false},
      {"add to single-dot item with delta", run_add_inline_delta, true},
      {"dec", run_dec, false},
      {"dec with delta", run_dec_delta, true},
      {"remove", run_remove, false},
      /* The delta lists apple already: its dots go, the key stays as a
       * marker, the context has the room. */
      {"remove with delta", run_remove_delta, false},
      {"merge full state", run_merge_full, true},
      {"merge delta", run_merge_delta, true},
      {"merge delta group", run_merge_delta_group, true},
      {"merge state into delta", run_merge_state_into_delta, true},
      {"copy", run_copy, true},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    tu_oom_case c = {cases[i].name, fx_setup, cases[i].run, fx_snapshot,
                     fx_teardown};
    unsigned points = tu_check_oom(&c);
    if (cases[i].allocates && points == 0)
      fail_msg("%s: no allocation exercised", cases[i].name);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cart_dynamo_merge_is_union_of_items),
      cmocka_unit_test(test_cart_concurrent_increments_add_up),
      cmocka_unit_test(test_cart_remove_concurrent_with_add_keeps_only_that_add),
      cmocka_unit_test(test_cart_remove_then_add_starts_from_zero),
      cmocka_unit_test(test_cart_dec_takes_at_most_what_was_seen),
      cmocka_unit_test(test_cart_remove_clears_history_of_emptied_item),
      cmocka_unit_test(test_cart_enoent_changes_nothing),
      cmocka_unit_test(test_cart_invalid_amounts_and_overflow),
      cmocka_unit_test(test_cart_quantity_is_exact_in_any_merge_order),
      cmocka_unit_test(test_cart_deltas_are_keyed_and_join_like_states),
      cmocka_unit_test(test_cart_foreach_order_and_binary_items),
      cmocka_unit_test(test_cart_errors),
      cmocka_unit_test(test_cart_random_histories_match_model),
      cmocka_unit_test(test_cart_oom_leaves_everything_unchanged),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

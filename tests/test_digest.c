/*
 * State digests (src/digest.h): the definition pinned by recomputing it
 * from its description with XXH3 directly; equal states have equal
 * digests whatever the order they were built in or the replica table
 * order; one dot more, less, moved to another key or carrying another
 * value changes it; markers and the context do not count; counters; the
 * map's leaves below their paths; and the change a keyed join makes,
 * predicted before it (crdt__digest_join).
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <xxhash.h>

#include "crdt/crdt.h"
#include "causal.h"
#include "digest.h"
#include "dotted.h"
#include "map_gen.h"
#include "testutil.h"

static void le(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* The term of a dot, straight from the definition in digest.h, with K of
 * its key given. */
static uint64_t dot_term(uint64_t k, const char *id, uint64_t counter,
                         int64_t value) {
  uint8_t b[40];
  memcpy(b, "DOTv1\0\0\0", 8);
  le(b + 8, k);
  le(b + 16, XXH3_64bits(id, strlen(id)));
  le(b + 24, counter);
  le(b + 32, (uint64_t)value);
  return XXH3_64bits(b, sizeof b);
}

/* The same for a key of a flat store: K = XXH3 of its bytes. */
static uint64_t term(const char *key, const char *id, uint64_t counter,
                     int64_t value) {
  return dot_term(XXH3_64bits(key, strlen(key)), id, counter, value);
}

static void test_digest_matches_the_definition(void **state) {
  (void)state;
  crdt__causal c = {0};
  tu_put(&c, "milk", "A", 1, 0);
  tu_put(&c, "milk", "B", 4, 0);
  tu_put(&c, "eggs", "A", 2, -7);
  tu_see(&c, "C", 9); /* the context alone adds nothing */
  uint64_t want = term("milk", "A", 1, 0) + term("milk", "B", 4, 0) +
                  term("eggs", "A", 2, -7);
  assert_true(crdt__causal_digest(&c) == want);
  crdt__causal_free(&c, crdt__mem_default());

  crdt__causal empty = {0};
  assert_true(crdt__causal_digest(&empty) == 0);
}

/* The same live dots reached in different orders, with different replica
 * table orders and different contexts around them. */
static void test_digest_equal_states_equal_digests(void **state) {
  (void)state;
  crdt__causal a = {0}, b = {0};
  const char *keys[] = {"a", "bb", "a-much-longer-key-than-twelve", ""};
  for (int i = 0; i < 4; i++) tu_put(&a, keys[i], i % 2 ? "X" : "Y", 10 + i, i);
  for (int i = 3; i >= 0; i--) tu_put(&b, keys[i], i % 2 ? "X" : "Y", 10 + i, i);
  tu_see(&b, "Z", 1);
  assert_true(crdt__causal_digest(&a) == crdt__causal_digest(&b));
  /* a marker (keyed delta) adds nothing */
  (void)tu_entry_or_new(&b, "marker");
  assert_true(crdt__causal_digest(&a) == crdt__causal_digest(&b));
  crdt__causal_free(&a, crdt__mem_default());
  crdt__causal_free(&b, crdt__mem_default());
}

/* Each single change of one dot changes the digest. */
static void test_digest_one_dot_changes_it(void **state) {
  (void)state;
  crdt__causal base = {0};
  tu_put(&base, "x", "A", 1, 0);
  tu_put(&base, "y", "B", 2, 5);
  const uint64_t d = crdt__causal_digest(&base);
  crdt__causal v[4];
  memset(v, 0, sizeof v);
  tu_put(&v[0], "x", "A", 1, 0);  /* a dot less */
  tu_put(&v[1], "x", "A", 1, 0);  /* a dot under another key */
  tu_put(&v[1], "x", "B", 2, 5);
  tu_put(&v[2], "x", "A", 1, 0);  /* another value */
  tu_put(&v[2], "y", "B", 2, 6);
  tu_put(&v[3], "x", "A", 1, 0);  /* another counter */
  tu_put(&v[3], "y", "B", 3, 5);
  for (int i = 0; i < 4; i++) {
    assert_true(crdt__causal_digest(&v[i]) != d);
    crdt__causal_free(&v[i], crdt__mem_default());
  }
  /* a dot more, and its term is exactly the difference */
  tu_put(&base, "z", "C", 7, 0);
  assert_true(crdt__causal_digest(&base) - d == term("z", "C", 7, 0));
  crdt__causal_free(&base, crdt__mem_default());
}

/* Joins: the digest of a ⊔ b follows from the terms (disjoint stores). */
static void test_digest_is_a_sum_over_dots(void **state) {
  (void)state;
  tu_rng rng = {42};
  crdt__causal a = {0}, b = {0};
  uint64_t sum_a = 0, sum_b = 0;
  char key[32], id[8];
  for (unsigned i = 0; i < 300; i++) {
    snprintf(key, sizeof key, "k%u", tu_below(&rng, 120));
    snprintf(id, sizeof id, "r%u", tu_below(&rng, 70)); /* past 64 replicas */
    if (i % 2) {
      tu_put(&a, key, id, 1000 + i, (int64_t)i - 150);
      sum_a += term(key, id, 1000 + i, (int64_t)i - 150);
    } else {
      tu_put(&b, key, id, 1000 + i, 0);
      sum_b += term(key, id, 1000 + i, 0);
    }
  }
  assert_true(crdt__causal_digest(&a) == sum_a);
  assert_true(crdt__causal_digest(&b) == sum_b);
  assert_int_equal(crdt__causal_join(&a, crdt__mem_default(), &b), 0);
  assert_true(crdt__causal_digest(&a) == sum_a + sum_b);
  crdt__causal_free(&a, crdt__mem_default());
  crdt__causal_free(&b, crdt__mem_default());
}

static uint64_t counter_term(const char *id, uint64_t events, uint64_t p,
                             uint64_t n) {
  uint8_t b[40];
  memcpy(b, "CNTv1\0\0\0", 8);
  le(b + 8, XXH3_64bits(id, strlen(id)));
  le(b + 16, events);
  le(b + 24, p);
  le(b + 32, n);
  return XXH3_64bits(b, sizeof b);
}

static void test_digest_counters(void **state) {
  (void)state;
  crdt__pervec a = {0}, b = {0};
  const crdt_allocator *m = crdt__mem_default();
  uint32_t i;
  assert_int_equal(crdt__pervec_slot(&a, m, "A", 1, &i), 0);
  crdt__pervec_set(&a, i, (crdt__pvent){3, {10, 2}});
  assert_int_equal(crdt__pervec_slot(&a, m, "B", 1, &i), 0);
  crdt__pervec_set(&a, i, (crdt__pvent){1, {4, 0}});
  assert_int_equal(crdt__pervec_slot(&a, m, "idle", 4, &i), 0); /* no events */
  assert_true(crdt__pervec_digest(&a) ==
              counter_term("A", 3, 10, 2) + counter_term("B", 1, 4, 0));
  /* the other table order, same entries */
  assert_int_equal(crdt__pervec_slot(&b, m, "B", 1, &i), 0);
  crdt__pervec_set(&b, i, (crdt__pvent){1, {4, 0}});
  assert_int_equal(crdt__pervec_slot(&b, m, "A", 1, &i), 0);
  crdt__pervec_set(&b, i, (crdt__pvent){3, {10, 2}});
  assert_true(crdt__pervec_digest(&a) == crdt__pervec_digest(&b));
  crdt__pervec_set(&b, i, (crdt__pvent){3, {10, 3}});
  assert_true(crdt__pervec_digest(&a) != crdt__pervec_digest(&b));
  crdt__pervec_free(&a, m);
  crdt__pervec_free(&b, m);
}

/* The map's leaves: K of a leaf below nested keys p1 .. pn is XXH3 of the
 * leaf's key seeded with the chain S(i) = XXH3(pi, seed S(i-1)), S(0) = 0;
 * a root field's K is plain XXH3 (seed 0). Field keys are the type byte
 * and the name (crdt/map_impl.h). */
static void test_digest_map_leaves_follow_the_definition(void **state) {
  (void)state;
  crdt_map *m;
  assert_int_equal(crdt_map_new("r", &m), 0);
  assert_int_equal(crdt_map_counter_inc(m, CRDT_PATH("c"), 7, NULL), 0);
  assert_int_equal(crdt_map_counter_dec(m, CRDT_PATH("a", "b"), 3, NULL), 0);
  assert_int_equal(crdt_map_orset_add(m, CRDT_PATH("a", "s"), "x", 1, NULL), 0);
  const uint64_t s_a = XXH3_64bits_withSeed("\x06" "a", 2, 0);
  const uint64_t s_as = XXH3_64bits_withSeed("\x02" "s", 2, s_a);
  const uint64_t want = dot_term(XXH3_64bits("\x01" "c", 2), "r", 1, 7) +
                        dot_term(XXH3_64bits_withSeed("\x01" "b", 2, s_a), "r",
                                 2, -3) +
                        dot_term(XXH3_64bits_withSeed("x", 1, s_as), "r", 3, 0);
  const crdt__causal *c = &crdt__dotted_cof(crdt_map_object(m))->c;
  assert_true(crdt__causal_digest(c) == want);
  crdt_map_free(m);
}

/* crdt__digest_join predicts what a join of a keyed delta does to the
 * digest and the live count: random flat and nested states and deltas
 * (adds, removals, register writes, field removes, seen and unseen dots),
 * against the scans before and after the join. */
static void test_digest_join_predicts_the_join(void **state) {
  (void)state;
  tu_rng rng = {99};
  const crdt_allocator *m = crdt__mem_default();
  for (int trial = 0; trial < 300; trial++) {
    const bool nested = trial % 2;
    const crdt_type type = nested ? CRDT_TYPE_MAP : CRDT_TYPE_CART;
    crdt_object *a, *b, *d;
    assert_int_equal(crdt_object_new(type, "a", &a), 0);
    assert_int_equal(crdt_object_new(type, "b", &b), 0);
    assert_int_equal(crdt_object_new(type, NULL, &d), 0);
    for (int side = 0; side < 3; side++) {
      unsigned n = tu_below(&rng, 30);
      for (unsigned i = 0; i < n; i++) {
        crdt_object *o = side == 1 ? a : b;
        crdt_object *delta = side == 2 ? d : NULL;
        if (nested) {
          (void)tu_map_random_update(o, &rng, delta);
        } else {
          char key[8];
          int len = snprintf(key, sizeof key, "k%u", tu_below(&rng, 12));
          crdt_cart *cart = crdt_object_cart(o);
          crdt_cart *dc = delta ? crdt_object_cart(delta) : NULL;
          if (tu_below(&rng, 3))
            (void)crdt_cart_add(cart, key, (size_t)len, 1 + tu_below(&rng, 4),
                                dc);
          else
            (void)crdt_cart_remove(cart, key, (size_t)len, dc);
        }
      }
      if (side == 0) assert_int_equal(crdt_object_merge(a, b), 0);
    }
    crdt__causal *ca = &crdt__dotted_of(a)->c;
    const crdt__causal *cd = &crdt__dotted_cof(d)->c;
    assert_true(cd->keyed);
    uint64_t digest, live;
    crdt__digest_join(ca, cd, &digest, &live);
    const uint64_t before = crdt__causal_digest(ca);
    const uint64_t live_before = crdt__store_dots(&ca->store);
    assert_int_equal(crdt__causal_join(ca, m, cd), 0);
    assert_true(crdt__causal_digest(ca) - before == digest);
    assert_true(crdt__store_dots(&ca->store) - live_before == live);
    crdt_object_free(a);
    crdt_object_free(b);
    crdt_object_free(d);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_digest_matches_the_definition),
      cmocka_unit_test(test_digest_equal_states_equal_digests),
      cmocka_unit_test(test_digest_one_dot_changes_it),
      cmocka_unit_test(test_digest_is_a_sum_over_dots),
      cmocka_unit_test(test_digest_counters),
      cmocka_unit_test(test_digest_map_leaves_follow_the_definition),
      cmocka_unit_test(test_digest_join_predicts_the_join),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * OR-set (add-wins, no tombstones): scenarios, laws, deltas, atomicity.
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
#include "testutil.h"

#define S(x) (x), strlen(x)

static crdt_orset *set_at(const char *replica) {
  crdt_orset *s = NULL;
  assert_int_equal(crdt_orset_new(replica, &s), 0);
  return s;
}

static void sync_into(crdt_orset *dst, const crdt_orset *src) {
  assert_int_equal(crdt_orset_merge(dst, src), 0);
}

static char *value_of(crdt_orset *s) {
  size_t need;
  crdt_object_value_json(crdt_orset_object(s), NULL, 0, &need);
  char *buf = malloc(need + 1);
  assert_int_equal(crdt_object_value_json(crdt_orset_object(s), buf, need + 1, NULL), 0);
  return buf;
}

static void assert_value(crdt_orset *s, const char *json) {
  char *v = value_of(s);
  assert_string_equal(v, json);
  free(v);
}

static void test_orset_add_contains_remove(void **state) {
  (void)state;
  crdt_orset *a = set_at("A");
  assert_false(crdt_orset_contains(a, S("x")));
  assert_int_equal(crdt_orset_add(a, S("x"), NULL), 0);
  assert_int_equal(crdt_orset_add(a, S("y"), NULL), 0);
  assert_true(crdt_orset_contains(a, S("x")));
  assert_int_equal(crdt_orset_size(a), 2);
  assert_value(a, "[\"x\", \"y\"]");
  assert_int_equal(crdt_orset_remove(a, S("x"), NULL), 0);
  assert_false(crdt_orset_contains(a, S("x")));
  assert_int_equal(crdt_orset_size(a), 1);
  crdt_orset_free(a);
}

static void test_orset_remove_absent_changes_nothing(void **state) {
  (void)state;
  crdt_orset *a = set_at("A");
  assert_int_equal(crdt_orset_add(a, S("x"), NULL), 0);
  char *before = tu_object_text(crdt_orset_object(a));
  assert_int_equal(crdt_orset_remove(a, S("nope"), NULL), CRDT_ENOENT);
  char *after = tu_object_text(crdt_orset_object(a));
  assert_string_equal(before, after); /* no dot was created */
  free(before);
  free(after);
  crdt_orset_free(a);
}

static void test_orset_add_wins_over_concurrent_remove(void **state) {
  (void)state;
  crdt_orset *a = set_at("A"), *b = set_at("B");
  assert_int_equal(crdt_orset_add(a, S("x"), NULL), 0);
  sync_into(b, a);
  /* concurrently: B removes x (it saw A's add), A adds x again */
  assert_int_equal(crdt_orset_remove(b, S("x"), NULL), 0);
  assert_int_equal(crdt_orset_add(a, S("x"), NULL), 0);
  crdt_order o;
  assert_int_equal(crdt_orset_compare(a, b, &o), 0);
  assert_int_equal(o, CRDT_CONCURRENT);
  sync_into(a, b);
  sync_into(b, a);
  assert_true(crdt_orset_contains(a, S("x")));
  assert_true(crdt_orset_contains(b, S("x")));
  assert_true(crdt_orset_equal(a, b));
  crdt_orset_free(a);
  crdt_orset_free(b);
}

static void test_orset_remove_that_observed_the_add_wins(void **state) {
  (void)state;
  crdt_orset *a = set_at("A"), *b = set_at("B");
  assert_int_equal(crdt_orset_add(a, S("x"), NULL), 0);
  sync_into(b, a);
  assert_int_equal(crdt_orset_remove(b, S("x"), NULL), 0);
  crdt_order o;
  assert_int_equal(crdt_orset_compare(a, b, &o), 0);
  assert_int_equal(o, CRDT_BEFORE);
  sync_into(a, b);
  assert_false(crdt_orset_contains(a, S("x")));
  assert_true(crdt_orset_equal(a, b));
  crdt_orset_free(a);
  crdt_orset_free(b);
}

static void test_orset_deltas_equal_full_merge(void **state) {
  (void)state;
  crdt_orset *a = set_at("A"), *b = set_at("B"), *group = set_at(NULL);
  crdt_orset *d1 = set_at(NULL), *d2 = set_at(NULL), *d3 = set_at(NULL);
  assert_int_equal(crdt_orset_add(a, S("x"), d1), 0);
  assert_int_equal(crdt_orset_add(a, S("y"), d2), 0);
  assert_int_equal(crdt_orset_remove(a, S("x"), d3), 0);
  /* out of order, duplicated */
  sync_into(b, d3);
  sync_into(b, d2);
  sync_into(b, d3);
  sync_into(b, d1);
  assert_true(crdt_orset_equal(a, b));
  assert_false(crdt_orset_contains(b, S("x")));
  /* delta group */
  sync_into(group, d2);
  sync_into(group, d1);
  sync_into(group, d3);
  crdt_orset *c = set_at("C");
  sync_into(c, group);
  assert_true(crdt_orset_equal(a, c));
  crdt_orset_free(a);
  crdt_orset_free(b);
  crdt_orset_free(c);
  crdt_orset_free(group);
  crdt_orset_free(d1);
  crdt_orset_free(d2);
  crdt_orset_free(d3);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_orset_add_contains_remove),
      cmocka_unit_test(test_orset_remove_absent_changes_nothing),
      cmocka_unit_test(test_orset_add_wins_over_concurrent_remove),
      cmocka_unit_test(test_orset_remove_that_observed_the_add_wins),
      cmocka_unit_test(test_orset_deltas_equal_full_merge),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

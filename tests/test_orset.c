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

/* Re-adding a present element replaces this replica's observation with a
 * fresh dot: a remove elsewhere that saw only the first add no longer
 * removes it. */
static void test_orset_readd_replaces_own_observation(void **state) {
  (void)state;
  crdt_orset *a = set_at("A"), *b = set_at("B");
  assert_int_equal(crdt_orset_add(a, S("x"), NULL), 0);   /* A1 */
  sync_into(b, a);
  assert_int_equal(crdt_orset_add(a, S("x"), NULL), 0);   /* A2 replaces A1 */
  assert_int_equal(crdt_orset_remove(b, S("x"), NULL), 0); /* saw A1 only */
  sync_into(a, b);
  assert_true(crdt_orset_contains(a, S("x")));
  char *ctx = NULL;
  size_t need;
  crdt_object_context_text(crdt_orset_object(a), NULL, 0, &need);
  ctx = malloc(need + 1);
  assert_int_equal(crdt_object_context_text(crdt_orset_object(a), ctx, need + 1, NULL), 0);
  assert_string_equal(ctx, "{A:2, B:1}");
  free(ctx);
  crdt_orset_free(a);
  crdt_orset_free(b);
}

/* Appends "|elem" to the text; stops (returns 9) once it passes 8 chars.
 * An empty element comes as size 0 (its data may be NULL). */
static int collect_elem(crdt_bytes elem, void *user) {
  char *out = user;
  size_t len = strlen(out);
  assert_true(len + 1 + elem.size < 256);
  out[len++] = '|';
  if (elem.size) memcpy(out + len, elem.data, elem.size);
  out[len + elem.size] = '\0';
  return len + elem.size > 8 ? 9 : 0;
}

static void test_orset_foreach_canonical_order_and_stop(void **state) {
  (void)state;
  crdt_orset *a = set_at("A"), *b = set_at("B");
  const char *in_a[] = {"b", "ab", "a", "B"}, *in_b[] = {"", "aa"};
  for (int i = 0; i < 4; i++) assert_int_equal(crdt_orset_add(a, S(in_a[i]), NULL), 0);
  for (int i = 0; i < 2; i++) assert_int_equal(crdt_orset_add(b, S(in_b[i]), NULL), 0);
  sync_into(a, b);
  sync_into(b, a);
  /* bytewise, shorter first on a common prefix; the same at both replicas */
  assert_value(a, "[\"\", \"B\", \"a\", \"aa\", \"ab\", \"b\"]");
  assert_value(b, "[\"\", \"B\", \"a\", \"aa\", \"ab\", \"b\"]");
  assert_int_equal(crdt_orset_size(a), 6);
  char seen[256] = "";
  assert_int_equal(crdt_orset_foreach(a, collect_elem, seen), 9);
  assert_string_equal(seen, "||B|a|aa|ab"); /* stopped after "ab": 11 chars; "b" not visited */
  assert_int_equal(crdt_orset_foreach(a, NULL, NULL), CRDT_EINVAL);
  crdt_orset_free(a);
  crdt_orset_free(b);
}

static void test_orset_bad_arguments_change_nothing(void **state) {
  (void)state;
  crdt_orset *a = set_at("A"), *recv = set_at(NULL);
  crdt_mvreg *reg;
  assert_int_equal(crdt_mvreg_new("A", &reg), 0);
  assert_int_equal(crdt_orset_add(a, S("x"), NULL), 0);
  char *before = tu_object_text(crdt_orset_object(a));
  assert_int_equal(crdt_orset_add(a, NULL, 3, NULL), CRDT_EINVAL);
  assert_int_equal(crdt_orset_add(a, S("y"), a), CRDT_EINVAL); /* delta == set */
  assert_int_equal(crdt_orset_add(a, S("y"), (crdt_orset *)reg), CRDT_ETYPE);
  assert_int_equal(crdt_orset_add(recv, S("y"), NULL), CRDT_ENOREPLICA);
  assert_int_equal(crdt_orset_remove(recv, S("x"), NULL), CRDT_ENOENT);
  assert_int_equal(crdt_orset_new("", &recv), CRDT_EINVAL);
  char *after = tu_object_text(crdt_orset_object(a));
  assert_string_equal(before, after);
  free(before);
  free(after);
  crdt_mvreg_free(reg);
  crdt_orset_free(a);
  crdt_orset_free(recv);
}

/* ---- random histories ------------------------------------------------------ */

static const char *const elems[] = {"", "a", "b", "c", "\x01\xff"};

/* Adds (2 in 3) or removes one of a few elements, empty and non-UTF-8
 * included. */
static int random_update(crdt_object *o, crdt_object *delta, tu_rng *rng) {
  const char *e = elems[tu_below(rng, 5)];
  return tu_below(rng, 3) ? crdt_orset_add(crdt_object_orset(o), S(e),
                                           crdt_object_orset(delta))
                          : crdt_orset_remove(crdt_object_orset(o), S(e),
                                              crdt_object_orset(delta));
}

static void test_orset_laws_on_random_histories(void **state) {
  (void)state;
  tu_check_history_laws(CRDT_TYPE_ORSET, random_update);
}

/* Every delta, shuffled and partly duplicated, or grouped first, gives the
 * merge of the full states. */
static void test_orset_delta_groups_equal_full_merge_random(void **state) {
  (void)state;
  tu_check_history_deltas(CRDT_TYPE_ORSET, random_update);
}

/* compare(a, b) is the inclusion of the contexts as sets of dots. */
static void test_orset_compare_agrees_with_contexts(void **state) {
  (void)state;
  for (unsigned long long seed = 1; seed <= 10; seed++) {
    tu_history h;
    tu_history_run(&h, CRDT_TYPE_ORSET, random_update, seed * 77, 50);
    for (int i = 0; i < TU_HISTORY_REPLICAS; i++)
      for (int j = 0; j < TU_HISTORY_REPLICAS; j++) {
        crdt_order o;
        crdt_context *ci, *cj;
        assert_int_equal(crdt_object_compare(h.r[i], h.r[j], &o), 0);
        assert_int_equal(crdt_object_context(h.r[i], &ci), 0);
        assert_int_equal(crdt_object_context(h.r[j], &cj), 0);
        assert_int_equal(o, crdt_context_compare(ci, cj));
        crdt_context_free(ci);
        crdt_context_free(cj);
      }
    tu_history_free(&h);
  }
}

/* ---- allocation failure ---------------------------------------------------- */

typedef struct fx {
  crdt_orset *a, *b, *delta, *group, *out;
} fx;

static void *fx_setup(void) {
  fx *f = calloc(1, sizeof *f);
  assert_non_null(f);
  f->a = set_at("A");
  f->b = set_at("B");
  f->delta = set_at(NULL);
  f->group = set_at(NULL);
  for (int i = 0; i < 12; i++) {
    char k[16];
    snprintf(k, sizeof k, "e%d", i);
    assert_int_equal(crdt_orset_add(f->a, S(k), NULL), 0);
    assert_int_equal(crdt_orset_add(f->b, S(k + 1), f->group), 0);
  }
  sync_into(f->b, f->a);
  assert_int_equal(crdt_orset_remove(f->b, S("e3"), f->group), 0);
  return f;
}

static char *fx_snapshot(void *p) {
  fx *f = p;
  char *parts[4] = {tu_object_text(crdt_orset_object(f->a)),
                    tu_object_text(crdt_orset_object(f->b)),
                    tu_object_text(crdt_orset_object(f->delta)),
                    tu_object_text(crdt_orset_object(f->group))};
  size_t len = 0;
  for (int i = 0; i < 4; i++) len += strlen(parts[i]) + 1;
  char *out = malloc(len + 1);
  assert_non_null(out);
  out[0] = '\0';
  for (int i = 0; i < 4; i++) {
    strcat(out, parts[i]);
    strcat(out, "\n");
    free(parts[i]);
  }
  return out;
}

static void fx_teardown(void *p) {
  fx *f = p;
  crdt_orset_free(f->a);
  crdt_orset_free(f->b);
  crdt_orset_free(f->delta);
  crdt_orset_free(f->group);
  crdt_orset_free(f->out);
  free(f);
}

static int run_add_new(void *p) { return crdt_orset_add(((fx *)p)->a, S("new"), NULL); }
static int run_add_new_delta(void *p) {
  return crdt_orset_add(((fx *)p)->a, S("new"), ((fx *)p)->delta);
}
static int run_readd_delta(void *p) {
  return crdt_orset_add(((fx *)p)->a, S("e5"), ((fx *)p)->delta);
}
static int run_remove_delta(void *p) {
  return crdt_orset_remove(((fx *)p)->a, S("e5"), ((fx *)p)->delta);
}
static int run_merge_full(void *p) { return crdt_orset_merge(((fx *)p)->a, ((fx *)p)->b); }
static int run_merge_group(void *p) {
  return crdt_orset_merge(((fx *)p)->a, ((fx *)p)->group);
}
static int run_copy(void *p) { return crdt_orset_copy(((fx *)p)->b, &((fx *)p)->out); }

static void test_orset_oom_leaves_everything_unchanged(void **state) {
  (void)state;
  static const struct {
    const char *name;
    int (*run)(void *);
  } cases[] = {
      {"add new", run_add_new},          {"add new with delta", run_add_new_delta},
      {"re-add with delta", run_readd_delta}, {"remove with delta", run_remove_delta},
      {"merge full state", run_merge_full}, {"merge delta group", run_merge_group},
      {"copy", run_copy},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    tu_oom_case c = {cases[i].name, fx_setup, cases[i].run, fx_snapshot, fx_teardown};
    if (tu_check_oom(&c) == 0) fail_msg("%s: no allocation exercised", cases[i].name);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_orset_add_contains_remove),
      cmocka_unit_test(test_orset_remove_absent_changes_nothing),
      cmocka_unit_test(test_orset_add_wins_over_concurrent_remove),
      cmocka_unit_test(test_orset_remove_that_observed_the_add_wins),
      cmocka_unit_test(test_orset_deltas_equal_full_merge),
      cmocka_unit_test(test_orset_readd_replaces_own_observation),
      cmocka_unit_test(test_orset_foreach_canonical_order_and_stop),
      cmocka_unit_test(test_orset_bad_arguments_change_nothing),
      cmocka_unit_test(test_orset_laws_on_random_histories),
      cmocka_unit_test(test_orset_delta_groups_equal_full_merge_random),
      cmocka_unit_test(test_orset_compare_agrees_with_contexts),
      cmocka_unit_test(test_orset_oom_leaves_everything_unchanged),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

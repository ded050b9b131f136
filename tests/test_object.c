/*
 * The type-erased object layer: type names and tags, argument and type
 * checks, the buffer contract of the text outputs, and a state's causal
 * context as data (crdt_object_context with the canonical walks).
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

static void test_object_type_names_round_trip(void **state) {
  (void)state;
  static const struct {
    crdt_type type;
    const char *name;
  } types[] = {{CRDT_TYPE_GCOUNTER, "gcounter"}, {CRDT_TYPE_PNCOUNTER, "pncounter"},
               {CRDT_TYPE_ORSET, "orset"},       {CRDT_TYPE_MVREG, "mvreg"},
               {CRDT_TYPE_CART, "cart"},         {CRDT_TYPE_LWWREG, "lwwreg"},
               {CRDT_TYPE_FLAG, "flag"},         {CRDT_TYPE_MAP, "map"}};
  for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
    const crdt_type t = types[i].type;
    assert_string_equal(crdt_type_name(t), types[i].name);
    crdt_type back;
    assert_int_equal(crdt_type_from_name(types[i].name, &back), 0);
    assert_int_equal(back, t);
    crdt_object *o;
    assert_int_equal(crdt_object_new(t, "r", &o), 0);
    assert_int_equal(crdt_object_type(o), t);
    assert_string_equal(crdt_object_replica(o), "r");
    crdt_object_free(o);
  }
  crdt_type t;
  assert_null(crdt_type_name((crdt_type)0));
  assert_null(crdt_type_name((crdt_type)9));
  assert_int_equal(crdt_type_from_name("set", &t), CRDT_EBADTYPE);
  assert_int_equal(crdt_type_from_name(NULL, &t), CRDT_EINVAL);
  crdt_object *o = NULL;
  assert_int_equal(crdt_object_new((crdt_type)9, "r", &o), CRDT_EBADTYPE);
  assert_null(o);
  assert_int_equal(crdt_object_new(CRDT_TYPE_ORSET, "", &o), CRDT_EINVAL);
  assert_int_equal(crdt_object_type(NULL), 0);
  crdt_object_free(NULL);
}

static void test_object_type_mismatch_is_etype_and_changes_nothing(void **state) {
  (void)state;
  crdt_object *set, *reg;
  assert_int_equal(crdt_object_new(CRDT_TYPE_ORSET, "a", &set), 0);
  assert_int_equal(crdt_object_new(CRDT_TYPE_MVREG, "a", &reg), 0);
  assert_int_equal(crdt_orset_add(crdt_object_orset(set), S("x"), NULL), 0);
  char *before = tu_object_text(set);
  assert_int_equal(crdt_object_merge(set, reg), CRDT_ETYPE);
  char *after = tu_object_text(set);
  assert_string_equal(before, after);
  crdt_order o;
  assert_int_equal(crdt_object_compare(set, reg, &o), CRDT_ETYPE);
  assert_false(crdt_object_equal(set, reg));
  assert_null(crdt_object_mvreg(set)); /* checked downcast */
  assert_null(crdt_object_orset(reg));
  assert_int_equal(crdt_object_merge(set, set), 0); /* self: nothing */
  free(before);
  free(after);
  crdt_object_free(set);
  crdt_object_free(reg);
}

static void test_object_value_json_buffer_contract(void **state) {
  (void)state;
  crdt_orset *s;
  assert_int_equal(crdt_orset_new("a", &s), 0);
  assert_int_equal(crdt_orset_add(s, S("b"), NULL), 0);
  assert_int_equal(crdt_orset_add(s, S("a\"\n\x01"), NULL), 0);
  crdt_object *o = crdt_orset_object(s);
  /* sorted by bytes; '"', newline and control bytes escaped */
  const char *want = "[\"a\\\"\\n\\u0001\", \"b\"]";
  size_t need = 0;
  assert_int_equal(crdt_object_value_json(o, NULL, 0, &need), CRDT_ENOSPC);
  assert_int_equal(need, strlen(want));
  char buf[64];
  memset(buf, 'X', sizeof buf);
  assert_int_equal(crdt_object_value_json(o, buf, need, NULL), CRDT_ENOSPC);
  assert_int_equal(buf[need - 1], '\0'); /* truncated, still terminated */
  assert_int_equal(crdt_object_value_json(o, buf, need + 1, &need), 0);
  assert_string_equal(buf, want);
  assert_int_equal(crdt_object_value_json(o, NULL, 5, NULL), CRDT_EINVAL);
  crdt_orset_free(s);
}

/* ---- the causal context as data ----------------------------------------- */

typedef struct walk {
  char text[256];
  size_t len;
  int stop_after; /* stop (return 7) after this many visits; 0: never */
  int visits;
} walk;

static int record(const char *replica, uint64_t counter, void *user) {
  walk *w = user;
  w->len += (size_t)snprintf(w->text + w->len, sizeof w->text - w->len,
                             "%s%s=%llu", w->len ? " " : "", replica,
                             (unsigned long long)counter);
  return ++w->visits == w->stop_after ? 7 : 0;
}

static void assert_walks(const crdt_context *c, const char *prefix,
                         const char *cloud) {
  walk p = {"", 0, 0, 0}, q = {"", 0, 0, 0};
  assert_int_equal(crdt_context_foreach_prefix(c, record, &p), 0);
  assert_int_equal(crdt_context_foreach_cloud(c, record, &q), 0);
  assert_string_equal(p.text, prefix);
  assert_string_equal(q.text, cloud);
}

static void test_object_context_of_dot_based_types(void **state) {
  (void)state;
  /* An OR-set that received a delta from "b" whose earlier deltas were
   * lost: b's dots 3 and 5 sit in the cloud. Ids sort bytewise ("B" <
   * "a" < "b:1, x"), and an id holding ':' and ", " comes out whole. */
  crdt_orset *a, *b, *d3, *d5;
  assert_int_equal(crdt_orset_new("a", &a), 0);
  assert_int_equal(crdt_orset_new("b:1, x", &b), 0);
  assert_int_equal(crdt_orset_new(NULL, &d3), 0);
  assert_int_equal(crdt_orset_new(NULL, &d5), 0);
  for (int i = 0; i < 2; i++) assert_int_equal(crdt_orset_add(a, S("x"), NULL), 0);
  for (int i = 0; i < 2; i++) assert_int_equal(crdt_orset_add(b, S("y"), NULL), 0);
  assert_int_equal(crdt_orset_add(b, S("z"), d3), 0);        /* b:3 */
  assert_int_equal(crdt_orset_add(b, S("w"), NULL), 0);      /* b:4, lost */
  assert_int_equal(crdt_orset_add(b, S("v"), d5), 0);        /* b:5 */
  assert_int_equal(crdt_orset_merge(a, d5), 0);
  assert_int_equal(crdt_orset_merge(a, d3), 0);
  crdt_orset *c;
  assert_int_equal(crdt_orset_new("B", &c), 0);
  assert_int_equal(crdt_orset_add(c, S("q"), NULL), 0);
  assert_int_equal(crdt_orset_merge(a, c), 0);
  crdt_context *ctx;
  assert_int_equal(crdt_object_context(crdt_orset_object(a), &ctx), 0);
  assert_walks(ctx, "B=1 a=2", "b:1, x=3 b:1, x=5");
  assert_int_equal(crdt_context_prefix(ctx, "a"), 2);
  assert_true(crdt_context_has(ctx, "b:1, x", 5));
  assert_false(crdt_context_has(ctx, "b:1, x", 4));
  /* A copy: later updates do not show in it. */
  assert_int_equal(crdt_orset_add(a, S("x"), NULL), 0);
  assert_int_equal(crdt_context_prefix(ctx, "a"), 2);
  /* Early stop returns the callback's value. */
  walk w = {"", 0, 1, 0};
  assert_int_equal(crdt_context_foreach_prefix(ctx, record, &w), 7);
  assert_int_equal(w.visits, 1);
  w = (walk){"", 0, 1, 0};
  assert_int_equal(crdt_context_foreach_cloud(ctx, record, &w), 7);
  assert_int_equal(w.visits, 1);
  assert_int_equal(crdt_context_foreach_cloud(ctx, NULL, NULL), CRDT_EINVAL);
  crdt_context_free(ctx);
  crdt_orset_free(a);
  crdt_orset_free(b);
  crdt_orset_free(c);
  crdt_orset_free(d3);
  crdt_orset_free(d5);
}

static void test_object_context_of_counters_and_lww(void **state) {
  (void)state;
  crdt_pncounter *p, *q;
  assert_int_equal(crdt_pncounter_new("p", &p), 0);
  assert_int_equal(crdt_pncounter_new("q", &q), 0);
  assert_int_equal(crdt_pncounter_inc(p, 5, NULL), 0);
  assert_int_equal(crdt_pncounter_dec(p, 2, NULL), 0);
  assert_int_equal(crdt_pncounter_inc(q, 1, NULL), 0);
  assert_int_equal(crdt_pncounter_merge(p, q), 0);
  crdt_context *ctx;
  /* Events per replica, not amounts: p made 2 updates, q one. */
  assert_int_equal(crdt_object_context(crdt_pncounter_object(p), &ctx), 0);
  assert_walks(ctx, "p=2 q=1", "");
  crdt_context_free(ctx);
  crdt_lwwreg *r;
  assert_int_equal(crdt_lwwreg_new("r", &r), 0);
  ctx = NULL;
  assert_int_equal(crdt_object_context(crdt_lwwreg_object(r), &ctx),
                   CRDT_ENOTSUP);
  assert_null(ctx);
  assert_int_equal(crdt_object_context(NULL, &ctx), CRDT_EINVAL);
  crdt_lwwreg_free(r);
  crdt_pncounter_free(p);
  crdt_pncounter_free(q);
}

/* The context as data agrees with compare(): two states compare as their
 * contexts do. */
static void test_object_context_agrees_with_compare(void **state) {
  (void)state;
  for (crdt_type t = CRDT_TYPE_GCOUNTER; t <= CRDT_TYPE_CART; t++) {
    crdt_object *x, *y;
    assert_int_equal(crdt_object_new(t, "x", &x), 0);
    assert_int_equal(crdt_object_new(t, "y", &y), 0);
    crdt_object *objs[2] = {x, y};
    for (int i = 0; i < 2; i++) {
      crdt_object *o = objs[i];
      int rc = 0;
      switch (t) {
      case CRDT_TYPE_GCOUNTER: rc = crdt_gcounter_inc(crdt_object_gcounter(o), 1, NULL); break;
      case CRDT_TYPE_PNCOUNTER: rc = crdt_pncounter_dec(crdt_object_pncounter(o), 1, NULL); break;
      case CRDT_TYPE_ORSET: rc = crdt_orset_add(crdt_object_orset(o), S("e"), NULL); break;
      case CRDT_TYPE_MVREG: rc = crdt_mvreg_write(crdt_object_mvreg(o), S("v"), NULL, NULL); break;
      case CRDT_TYPE_CART: rc = crdt_cart_add(crdt_object_cart(o), S("i"), 2, NULL); break;
      default: break;
      }
      assert_int_equal(rc, 0);
    }
    crdt_order want, got;
    crdt_context *cx, *cy;
    assert_int_equal(crdt_object_compare(x, y, &want), 0);
    assert_int_equal(want, CRDT_CONCURRENT);
    assert_int_equal(crdt_object_merge(x, y), 0);
    assert_int_equal(crdt_object_compare(x, y, &want), 0);
    assert_int_equal(want, CRDT_AFTER);
    assert_int_equal(crdt_object_context(x, &cx), 0);
    assert_int_equal(crdt_object_context(y, &cy), 0);
    got = crdt_context_compare(cx, cy);
    assert_int_equal(got, want);
    crdt_context_free(cx);
    crdt_context_free(cy);
    crdt_object_free(x);
    crdt_object_free(y);
  }
}

static void *setup_orset(void) {
  crdt_orset *s;
  assert_int_equal(crdt_orset_new("a", &s), 0);
  for (int i = 0; i < 20; i++) {
    char k[16];
    snprintf(k, sizeof k, "k%d", i);
    assert_int_equal(crdt_orset_add(s, S(k), NULL), 0);
  }
  return s;
}

static int run_context(void *fx) {
  crdt_context *ctx;
  int rc = crdt_object_context(crdt_orset_object(fx), &ctx);
  if (!rc) crdt_context_free(ctx);
  return rc;
}

static char *snapshot_orset(void *fx) { return tu_object_text(crdt_orset_object(fx)); }
static void teardown_orset(void *fx) { crdt_orset_free(fx); }

static void test_object_context_out_of_memory(void **state) {
  (void)state;
  tu_oom_case c = {"object context", setup_orset, run_context, snapshot_orset,
                   teardown_orset};
  assert_true(tu_check_oom(&c) > 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_object_type_names_round_trip),
      cmocka_unit_test(test_object_type_mismatch_is_etype_and_changes_nothing),
      cmocka_unit_test(test_object_value_json_buffer_contract),
      cmocka_unit_test(test_object_context_of_dot_based_types),
      cmocka_unit_test(test_object_context_of_counters_and_lww),
      cmocka_unit_test(test_object_context_agrees_with_compare),
      cmocka_unit_test(test_object_context_out_of_memory),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Updates by name (crdt_object_update): each op of each type does what the
 * typed call does (same state, same delta), ops a type lacks are
 * CRDT_ENOTSUP and change nothing, and op names round-trip.
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

static crdt_update upd(crdt_op op, const char *arg, uint64_t n) {
  crdt_update u = {0};
  u.op = op;
  u.arg = (crdt_bytes){arg, arg ? strlen(arg) : 0};
  u.n = n;
  return u;
}

static crdt_object *fresh(crdt_type t, const char *replica) {
  crdt_object *o;
  assert_int_equal(crdt_object_new(t, replica, &o), 0);
  return o;
}

/* The generic call and the typed call leave equal states and deltas. */
static void expect_same(crdt_object *generic, crdt_object *gdelta,
                        crdt_object *typed, crdt_object *tdelta) {
  assert_true(crdt_object_equal(generic, typed));
  assert_true(crdt_object_equal(gdelta, tdelta));
}

static void test_update_op_names_round_trip(void **state) {
  (void)state;
  static const char *const names[] = {"inc", "dec",    "add",     "rm",
                                      "set", "enable", "disable", "del"};
  for (crdt_op op = CRDT_OP_INC; op <= CRDT_OP_DELETE; op++) {
    assert_string_equal(crdt_op_name(op), names[op - 1]);
    crdt_op back;
    assert_int_equal(crdt_op_from_name(names[op - 1], &back), 0);
    assert_int_equal(back, op);
  }
  crdt_op op;
  assert_string_equal(crdt_op_name((crdt_op)0), "?");
  assert_string_equal(crdt_op_name((crdt_op)99), "?");
  assert_int_equal(crdt_op_from_name("remove", &op), CRDT_ENOENT);
  assert_int_equal(crdt_op_from_name(NULL, &op), CRDT_EINVAL);
  assert_int_equal(crdt_op_from_name("inc", NULL), CRDT_EINVAL);
}

static void test_update_matches_typed_calls(void **state) {
  (void)state;
  /* counters */
  crdt_object *g = fresh(CRDT_TYPE_GCOUNTER, "a"), *gd = fresh(CRDT_TYPE_GCOUNTER, NULL);
  crdt_object *g2 = fresh(CRDT_TYPE_GCOUNTER, "a"), *gd2 = fresh(CRDT_TYPE_GCOUNTER, NULL);
  crdt_update u = upd(CRDT_OP_INC, NULL, 0); /* n 0 means 1 */
  assert_int_equal(crdt_object_update(g, &u, gd), 0);
  u.n = 5;
  assert_int_equal(crdt_object_update(g, &u, gd), 0);
  assert_int_equal(crdt_gcounter_inc(crdt_object_gcounter(g2), 1, crdt_object_gcounter(gd2)), 0);
  assert_int_equal(crdt_gcounter_inc(crdt_object_gcounter(g2), 5, crdt_object_gcounter(gd2)), 0);
  expect_same(g, gd, g2, gd2);

  crdt_object *p = fresh(CRDT_TYPE_PNCOUNTER, "a"), *pd = fresh(CRDT_TYPE_PNCOUNTER, NULL);
  crdt_object *p2 = fresh(CRDT_TYPE_PNCOUNTER, "a"), *pd2 = fresh(CRDT_TYPE_PNCOUNTER, NULL);
  u = upd(CRDT_OP_INC, NULL, 3);
  assert_int_equal(crdt_object_update(p, &u, pd), 0);
  u = upd(CRDT_OP_DEC, NULL, 7);
  assert_int_equal(crdt_object_update(p, &u, pd), 0);
  assert_int_equal(crdt_pncounter_inc(crdt_object_pncounter(p2), 3, crdt_object_pncounter(pd2)), 0);
  assert_int_equal(crdt_pncounter_dec(crdt_object_pncounter(p2), 7, crdt_object_pncounter(pd2)), 0);
  expect_same(p, pd, p2, pd2);
  int64_t v;
  assert_int_equal(crdt_pncounter_value(crdt_object_pncounter(p), &v), 0);
  assert_int_equal(v, -4);

  /* OR-set, with a remove of an absent element */
  crdt_object *s = fresh(CRDT_TYPE_ORSET, "a"), *sd = fresh(CRDT_TYPE_ORSET, NULL);
  crdt_object *s2 = fresh(CRDT_TYPE_ORSET, "a"), *sd2 = fresh(CRDT_TYPE_ORSET, NULL);
  u = upd(CRDT_OP_ADD, "x", 0);
  assert_int_equal(crdt_object_update(s, &u, sd), 0);
  u = upd(CRDT_OP_ADD, "y", 0);
  assert_int_equal(crdt_object_update(s, &u, sd), 0);
  u = upd(CRDT_OP_REMOVE, "x", 0);
  assert_int_equal(crdt_object_update(s, &u, sd), 0);
  char *before = tu_object_text(s);
  assert_int_equal(crdt_object_update(s, &u, sd), CRDT_ENOENT);
  char *after = tu_object_text(s);
  assert_string_equal(before, after);
  free(before);
  free(after);
  assert_int_equal(crdt_orset_add(crdt_object_orset(s2), S("x"), crdt_object_orset(sd2)), 0);
  assert_int_equal(crdt_orset_add(crdt_object_orset(s2), S("y"), crdt_object_orset(sd2)), 0);
  assert_int_equal(crdt_orset_remove(crdt_object_orset(s2), S("x"), crdt_object_orset(sd2)), 0);
  expect_same(s, sd, s2, sd2);

  /* cart: add with amount, dec, rm */
  crdt_object *c = fresh(CRDT_TYPE_CART, "a"), *cd = fresh(CRDT_TYPE_CART, NULL);
  crdt_object *c2 = fresh(CRDT_TYPE_CART, "a"), *cd2 = fresh(CRDT_TYPE_CART, NULL);
  u = upd(CRDT_OP_ADD, "apple", 4);
  assert_int_equal(crdt_object_update(c, &u, cd), 0);
  u = upd(CRDT_OP_DEC, "apple", 0);
  assert_int_equal(crdt_object_update(c, &u, cd), 0);
  u = upd(CRDT_OP_ADD, "pear", 0);
  assert_int_equal(crdt_object_update(c, &u, cd), 0);
  u = upd(CRDT_OP_REMOVE, "pear", 0);
  assert_int_equal(crdt_object_update(c, &u, cd), 0);
  assert_int_equal(crdt_object_update(c, &u, cd), CRDT_ENOENT);
  u = upd(CRDT_OP_DEC, "kiwi", 1);
  assert_int_equal(crdt_object_update(c, &u, cd), CRDT_ENOENT);
  assert_int_equal(crdt_cart_add(crdt_object_cart(c2), S("apple"), 4, crdt_object_cart(cd2)), 0);
  assert_int_equal(crdt_cart_dec(crdt_object_cart(c2), S("apple"), 1, crdt_object_cart(cd2), NULL), 0);
  assert_int_equal(crdt_cart_add(crdt_object_cart(c2), S("pear"), 1, crdt_object_cart(cd2)), 0);
  assert_int_equal(crdt_cart_remove(crdt_object_cart(c2), S("pear"), crdt_object_cart(cd2)), 0);
  expect_same(c, cd, c2, cd2);
  assert_int_equal(crdt_cart_quantity(crdt_object_cart(c), S("apple")), 3);

  /* MV-register with and without a read context */
  crdt_object *m = fresh(CRDT_TYPE_MVREG, "a"), *md = fresh(CRDT_TYPE_MVREG, NULL);
  crdt_object *m2 = fresh(CRDT_TYPE_MVREG, "a"), *md2 = fresh(CRDT_TYPE_MVREG, NULL);
  crdt_context *empty;
  assert_int_equal(crdt_context_new(&empty), 0);
  u = upd(CRDT_OP_SET, "eggs", 0);
  assert_int_equal(crdt_object_update(m, &u, md), 0);
  u = upd(CRDT_OP_SET, "milk", 0);
  u.context = empty; /* blind write: both stay */
  assert_int_equal(crdt_object_update(m, &u, md), 0);
  assert_int_equal(crdt_mvreg_write(crdt_object_mvreg(m2), S("eggs"), NULL, crdt_object_mvreg(md2)), 0);
  assert_int_equal(crdt_mvreg_write(crdt_object_mvreg(m2), S("milk"), empty, crdt_object_mvreg(md2)), 0);
  expect_same(m, md, m2, md2);
  assert_int_equal(crdt_mvreg_count(crdt_object_mvreg(m)), 2);
  crdt_context_free(empty);

  /* LWW-register, with a stale write */
  crdt_object *l = fresh(CRDT_TYPE_LWWREG, "a"), *ld = fresh(CRDT_TYPE_LWWREG, NULL);
  crdt_object *l2 = fresh(CRDT_TYPE_LWWREG, "a"), *ld2 = fresh(CRDT_TYPE_LWWREG, NULL);
  u = upd(CRDT_OP_SET, "v1", 0);
  u.time = 10;
  assert_int_equal(crdt_object_update(l, &u, ld), 0);
  u = upd(CRDT_OP_SET, "v0", 0);
  u.time = 9;
  assert_int_equal(crdt_object_update(l, &u, ld), CRDT_ESTALE);
  assert_int_equal(crdt_lwwreg_write(crdt_object_lwwreg(l2), S("v1"), 10, crdt_object_lwwreg(ld2)), 0);
  expect_same(l, ld, l2, ld2);

  /* flag: enable twice, disable, and disable again (not enabled here) */
  crdt_object *f = fresh(CRDT_TYPE_FLAG, "a"), *fd = fresh(CRDT_TYPE_FLAG, NULL);
  crdt_object *f2 = fresh(CRDT_TYPE_FLAG, "a"), *fd2 = fresh(CRDT_TYPE_FLAG, NULL);
  u = upd(CRDT_OP_ENABLE, NULL, 0);
  assert_int_equal(crdt_object_update(f, &u, fd), 0);
  assert_int_equal(crdt_object_update(f, &u, fd), 0);
  u = upd(CRDT_OP_DISABLE, NULL, 0);
  assert_int_equal(crdt_object_update(f, &u, fd), 0);
  before = tu_object_text(f);
  assert_int_equal(crdt_object_update(f, &u, fd), CRDT_ENOENT);
  after = tu_object_text(f);
  assert_string_equal(before, after);
  free(before);
  free(after);
  assert_int_equal(crdt_flag_enable(crdt_object_flag(f2), crdt_object_flag(fd2)), 0);
  assert_int_equal(crdt_flag_enable(crdt_object_flag(f2), crdt_object_flag(fd2)), 0);
  assert_int_equal(crdt_flag_disable(crdt_object_flag(f2), crdt_object_flag(fd2)), 0);
  expect_same(f, fd, f2, fd2);
  assert_false(crdt_flag_enabled(crdt_object_flag(f)));

  crdt_object *all[] = {g, gd, g2, gd2, p, pd, p2, pd2, s, sd, s2, sd2,
                        c, cd, c2, cd2, m, md, m2, md2, l, ld, l2, ld2,
                        f, fd, f2, fd2};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++) crdt_object_free(all[i]);
}

static void test_update_unsupported_op_is_enotsup_and_changes_nothing(void **state) {
  (void)state;
  static const struct {
    crdt_type type;
    crdt_op op;
  } bad[] = {
      {CRDT_TYPE_GCOUNTER, CRDT_OP_DEC}, {CRDT_TYPE_GCOUNTER, CRDT_OP_ADD},
      {CRDT_TYPE_PNCOUNTER, CRDT_OP_SET}, {CRDT_TYPE_ORSET, CRDT_OP_INC},
      {CRDT_TYPE_ORSET, CRDT_OP_SET},     {CRDT_TYPE_MVREG, CRDT_OP_ADD},
      {CRDT_TYPE_CART, CRDT_OP_SET},      {CRDT_TYPE_CART, CRDT_OP_INC},
      {CRDT_TYPE_LWWREG, CRDT_OP_REMOVE}, {CRDT_TYPE_ORSET, (crdt_op)0},
      {CRDT_TYPE_ORSET, (crdt_op)42},     {CRDT_TYPE_ORSET, CRDT_OP_ENABLE},
      {CRDT_TYPE_CART, CRDT_OP_DISABLE},  {CRDT_TYPE_FLAG, CRDT_OP_ADD},
      {CRDT_TYPE_FLAG, CRDT_OP_REMOVE},   {CRDT_TYPE_FLAG, CRDT_OP_SET},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    crdt_object *o = fresh(bad[i].type, "a");
    char *before = tu_object_text(o);
    crdt_update u = upd(bad[i].op, "x", 1);
    assert_int_equal(crdt_object_update(o, &u, NULL), CRDT_ENOTSUP);
    char *after = tu_object_text(o);
    assert_string_equal(before, after);
    free(before);
    free(after);
    crdt_object_free(o);
  }
}

static void test_update_bad_arguments(void **state) {
  (void)state;
  crdt_object *s = fresh(CRDT_TYPE_ORSET, "a"), *d = fresh(CRDT_TYPE_ORSET, NULL);
  crdt_object *c = fresh(CRDT_TYPE_CART, NULL);
  crdt_update u = upd(CRDT_OP_ADD, "x", 0);
  assert_int_equal(crdt_object_update(NULL, &u, NULL), CRDT_EINVAL);
  assert_int_equal(crdt_object_update(s, NULL, NULL), CRDT_EINVAL);
  u.arg = (crdt_bytes){NULL, 3};
  assert_int_equal(crdt_object_update(s, &u, NULL), CRDT_EINVAL);
  u = upd(CRDT_OP_ADD, "x", 0);
  assert_int_equal(crdt_object_update(s, &u, c), CRDT_ETYPE);   /* delta type */
  assert_int_equal(crdt_object_update(s, &u, s), CRDT_EINVAL);  /* delta is obj */
  assert_int_equal(crdt_object_update(d, &u, NULL), CRDT_ENOREPLICA);
  assert_int_equal(crdt_orset_size(crdt_object_orset(s)), 0);
  u.arg = (crdt_bytes){NULL, 0}; /* the empty element is an element */
  assert_int_equal(crdt_object_update(s, &u, NULL), 0);
  assert_true(crdt_orset_contains(crdt_object_orset(s), "", 0));
  crdt_object_free(s);
  crdt_object_free(d);
  crdt_object_free(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_update_op_names_round_trip),
      cmocka_unit_test(test_update_matches_typed_calls),
      cmocka_unit_test(test_update_unsupported_op_is_enotsup_and_changes_nothing),
      cmocka_unit_test(test_update_bad_arguments),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

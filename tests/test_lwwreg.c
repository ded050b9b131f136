/*
 * LWW-Register: highest timestamp wins, ties broken by replica id then value
 * bytes, stale writes refused, no causal history, laws, atomicity.
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

static crdt_lwwreg *reg_at(const char *replica) {
  crdt_lwwreg *r = NULL;
  assert_int_equal(crdt_lwwreg_new(replica, &r), 0);
  return r;
}

static crdt_object *obj(crdt_lwwreg *r) { return crdt_lwwreg_object(r); }

static void write_at(crdt_lwwreg *r, const char *value, uint64_t ts) {
  assert_int_equal(crdt_lwwreg_write(r, S(value), ts, NULL), 0);
}

static void sync_into(crdt_lwwreg *dst, const crdt_lwwreg *src) {
  assert_int_equal(crdt_lwwreg_merge(dst, src), 0);
}

static crdt_lwwreg *copy_of(const crdt_lwwreg *r) {
  crdt_lwwreg *out = NULL;
  assert_int_equal(crdt_lwwreg_copy(r, &out), 0);
  return out;
}

/* Asserts the register holds `value` written at `ts` by `writer`. */
static void assert_holds(const crdt_lwwreg *r, const char *value, uint64_t ts,
                         const char *writer) {
  crdt_bytes v = {NULL, 0};
  uint64_t t = 0;
  assert_int_equal(crdt_lwwreg_get(r, &v, &t), 0);
  assert_int_equal(v.size, strlen(value));
  assert_non_null(v.data);
  assert_memory_equal(v.data, value, v.size);
  assert_int_equal(t, ts);
  assert_string_equal(crdt_lwwreg_writer(r), writer);
}

static const char *json_of(crdt_lwwreg *r) {
  static char buf[256];
  assert_int_equal(crdt_object_value_json(obj(r), buf, sizeof buf, NULL), 0);
  return buf;
}

static void assert_unchanged(crdt_lwwreg *r, char *before) {
  char *after = tu_object_text(obj(r));
  assert_string_equal(before, after);
  free(before);
  free(after);
}

/* Merges both ways and checks both sides end equal, holding `value`. */
static void assert_merges_to(crdt_lwwreg *a, crdt_lwwreg *b, const char *value,
                             uint64_t ts, const char *writer) {
  crdt_lwwreg *ab = copy_of(a), *ba = copy_of(b);
  sync_into(ab, b);
  sync_into(ba, a);
  assert_true(crdt_lwwreg_equal(ab, ba));
  assert_holds(ab, value, ts, writer);
  assert_holds(ba, value, ts, writer);
  crdt_lwwreg_free(ab);
  crdt_lwwreg_free(ba);
}

/* ---- reads -------------------------------------------------------------------- */

static void test_lwwreg_empty_register_has_no_value(void **state) {
  (void)state;
  crdt_lwwreg *r = reg_at("A");
  crdt_bytes v = {"untouched", 9};
  uint64_t ts = 77;
  assert_int_equal(crdt_lwwreg_get(r, &v, &ts), CRDT_ENOENT);
  assert_int_equal(v.size, 9);
  assert_int_equal(ts, 77);
  assert_null(crdt_lwwreg_writer(r));
  assert_string_equal(json_of(r), "null");
  assert_string_equal(crdt_object_replica(obj(r)), "A");
  assert_int_equal(crdt_object_type(obj(r)), CRDT_TYPE_LWWREG);
  assert_int_equal(crdt_lwwreg_get(NULL, &v, &ts), CRDT_EINVAL);
  crdt_lwwreg_free(r);
  crdt_lwwreg_free(NULL);
}

static void test_lwwreg_write_then_read(void **state) {
  (void)state;
  crdt_lwwreg *r = reg_at("A");
  write_at(r, "hello", 10);
  assert_holds(r, "hello", 10, "A");
  assert_string_equal(json_of(r), "\"hello\"");
  /* outputs are optional */
  assert_int_equal(crdt_lwwreg_get(r, NULL, NULL), 0);
  /* an empty value is a value, and its view is not NULL */
  write_at(r, "", 11);
  assert_holds(r, "", 11, "A");
  assert_string_equal(json_of(r), "\"\"");
  assert_int_equal(crdt_lwwreg_write(r, NULL, 0, 12, NULL), 0);
  assert_holds(r, "", 12, "A");
  /* binary bytes print as valid JSON */
  assert_int_equal(crdt_lwwreg_write(r, "a\0\"", 3, 13, NULL), 0);
  assert_string_equal(json_of(r), "\"a\\u0000\\\"\"");
  crdt_lwwreg_free(r);
}

/* ---- merge --------------------------------------------------------------------- */

static void test_lwwreg_highest_timestamp_wins(void **state) {
  (void)state;
  crdt_lwwreg *a = reg_at("A"), *z = reg_at("Z");
  write_at(a, "newer", 5);
  write_at(z, "older", 3); /* a higher replica id does not beat the clock */
  assert_merges_to(a, z, "newer", 5, "A");
  sync_into(z, a);
  assert_holds(z, "newer", 5, "A");
  crdt_lwwreg_free(a);
  crdt_lwwreg_free(z);
}

static void test_lwwreg_equal_timestamps_break_ties_by_replica_then_value(
    void **state) {
  (void)state;
  crdt_lwwreg *a = reg_at("A"), *b = reg_at("B");
  write_at(a, "zzz", 7);
  write_at(b, "aaa", 7);
  assert_merges_to(a, b, "aaa", 7, "B");
  /* a prefix id sorts first: "B" < "BB" */
  crdt_lwwreg *bb = reg_at("BB");
  write_at(bb, "x", 7);
  assert_merges_to(b, bb, "x", 7, "BB");
  /* two registers misconfigured with the same id: the value bytes decide,
   * a longer value after its prefix */
  crdt_lwwreg *a1 = reg_at("A"), *a2 = reg_at("A"), *a3 = reg_at("A");
  write_at(a1, "ab", 9);
  write_at(a2, "b", 9);
  write_at(a3, "abc", 9);
  assert_merges_to(a1, a2, "b", 9, "A");
  assert_merges_to(a1, a3, "abc", 9, "A");
  assert_merges_to(a2, a3, "b", 9, "A");
  crdt_lwwreg *regs[] = {a, b, bb, a1, a2, a3};
  for (size_t i = 0; i < 6; i++) crdt_lwwreg_free(regs[i]);
}

static void test_lwwreg_merge_into_empty_and_from_empty(void **state) {
  (void)state;
  crdt_lwwreg *a = reg_at("A"), *empty = reg_at(NULL);
  write_at(a, "v", 0); /* timestamp 0 still beats "never written" */
  char *before = tu_object_text(obj(a));
  sync_into(a, empty);
  assert_unchanged(a, before);
  sync_into(empty, a);
  assert_holds(empty, "v", 0, "A");
  assert_true(crdt_lwwreg_equal(a, empty));
  /* the receiving register's own id plays no part */
  assert_null(crdt_object_replica(obj(empty)));
  crdt_lwwreg_free(a);
  crdt_lwwreg_free(empty);
}

/* ---- stale writes -------------------------------------------------------------- */

static void test_lwwreg_stale_write_is_refused_unchanged(void **state) {
  (void)state;
  crdt_lwwreg *a = reg_at("A"), *b = reg_at("B"), *delta = reg_at(NULL);
  write_at(a, "x", 5);
  char *before = tu_object_text(obj(a));
  char *delta_before = tu_object_text(obj(delta));
  /* older timestamp */
  assert_int_equal(crdt_lwwreg_write(a, S("y"), 4, delta), CRDT_ESTALE);
  /* the very same write again */
  assert_int_equal(crdt_lwwreg_write(a, S("x"), 5, delta), CRDT_ESTALE);
  /* same time and writer, smaller value */
  assert_int_equal(crdt_lwwreg_write(a, S("w"), 5, delta), CRDT_ESTALE);
  assert_unchanged(a, before);
  assert_unchanged(delta, delta_before);
  /* same time and writer, greater value: it wins, so it is accepted */
  write_at(a, "z", 5);
  assert_holds(a, "z", 5, "A");
  /* a write that another replica's tie-winner already beats */
  write_at(b, "q", 6);
  sync_into(a, b);
  assert_int_equal(crdt_lwwreg_write(a, S("zzz"), 6, NULL), CRDT_ESTALE);
  write_at(a, "r", 7);
  assert_holds(a, "r", 7, "A");
  crdt_lwwreg_free(a);
  crdt_lwwreg_free(b);
  crdt_lwwreg_free(delta);
}

static void test_lwwreg_write_rejects_bad_arguments_unchanged(void **state) {
  (void)state;
  crdt_lwwreg *a = reg_at("A"), *receiver = reg_at(NULL);
  crdt_gcounter *g = NULL;
  assert_int_equal(crdt_gcounter_new(NULL, &g), 0);
  write_at(a, "x", 1);
  char *before = tu_object_text(obj(a));
  assert_int_equal(crdt_lwwreg_write(NULL, S("y"), 2, NULL), CRDT_EINVAL);
  assert_int_equal(crdt_lwwreg_write(a, NULL, 1, 2, NULL), CRDT_EINVAL);
  assert_int_equal(crdt_lwwreg_write(a, S("y"), 2, a), CRDT_EINVAL);
#if SIZE_MAX > UINT32_MAX
  /* rejected before a single byte is read */
  assert_int_equal(
      crdt_lwwreg_write(a, "y", (size_t)UINT32_MAX + 1, 2, NULL),
      CRDT_EINVAL);
#endif
  assert_int_equal(crdt_lwwreg_write(a, S("y"), 2, (crdt_lwwreg *)(void *)g),
                   CRDT_ETYPE);
  assert_unchanged(a, before);
  assert_int_equal(crdt_lwwreg_write(receiver, S("y"), 2, NULL),
                   CRDT_ENOREPLICA);
  assert_null(crdt_object_lwwreg(crdt_gcounter_object(g)));
  assert_ptr_equal(crdt_object_lwwreg(obj(a)), a);
  crdt_lwwreg *bad = NULL;
  assert_int_equal(crdt_lwwreg_new("", &bad), CRDT_EINVAL);
  assert_null(bad);
  crdt_gcounter_free(g);
  crdt_lwwreg_free(a);
  crdt_lwwreg_free(receiver);
}

/* ---- no causal history ------------------------------------------------------------ */

static void test_lwwreg_compare_is_not_supported(void **state) {
  (void)state;
  crdt_lwwreg *a = reg_at("A"), *b = reg_at("B");
  write_at(a, "x", 1);
  crdt_order o = CRDT_CONCURRENT;
  assert_int_equal(crdt_lwwreg_compare(a, b, &o), CRDT_ENOTSUP);
  assert_int_equal(o, CRDT_CONCURRENT);
  assert_int_equal(crdt_object_compare(obj(a), obj(b), &o), CRDT_ENOTSUP);
  assert_int_equal(crdt_lwwreg_compare(a, NULL, &o), CRDT_EINVAL);
  size_t need = 0;
  char buf[16];
  assert_int_equal(crdt_object_context_text(obj(a), buf, sizeof buf, &need),
                   CRDT_ENOTSUP);
  crdt_lwwreg_free(a);
  crdt_lwwreg_free(b);
}

/* ---- deltas --------------------------------------------------------------------- */

static void test_lwwreg_deltas_equal_full_merge(void **state) {
  (void)state;
  crdt_lwwreg *a = reg_at("A"), *b = reg_at("B"), *group = reg_at(NULL);
  crdt_lwwreg *d[4] = {reg_at(NULL), reg_at(NULL), reg_at(NULL), reg_at(NULL)};
  assert_int_equal(crdt_lwwreg_write(a, S("one"), 1, d[0]), 0);
  assert_int_equal(crdt_lwwreg_write(b, S("two"), 2, d[1]), 0);
  assert_int_equal(crdt_lwwreg_write(a, S("three"), 3, d[2]), 0);
  assert_int_equal(crdt_lwwreg_write(b, S("tie"), 3, d[3]), 0);
  assert_holds(d[2], "three", 3, "A");
  crdt_lwwreg *full = reg_at("F");
  sync_into(full, a);
  sync_into(full, b);
  assert_holds(full, "tie", 3, "B");
  /* out of order and duplicated */
  crdt_lwwreg *receiver = reg_at("R");
  static const int order[] = {3, 0, 2, 3, 1, 0};
  for (size_t i = 0; i < sizeof order / sizeof *order; i++)
    sync_into(receiver, d[order[i]]);
  assert_true(crdt_lwwreg_equal(receiver, full));
  /* a delta group: a delta that received a newer write keeps the newer */
  for (int i = 3; i >= 0; i--) sync_into(group, d[i]);
  assert_true(crdt_lwwreg_equal(group, full));
  crdt_lwwreg *single = reg_at(NULL);
  assert_int_equal(crdt_lwwreg_write(b, S("four"), 4, single), 0);
  assert_int_equal(crdt_lwwreg_write(b, S("five"), 5, single), 0);
  assert_holds(single, "five", 5, "B");
  /* a delta already ahead of the write keeps its own state */
  crdt_lwwreg *ahead = reg_at(NULL);
  crdt_lwwreg *c = reg_at("C");
  sync_into(ahead, b);
  assert_int_equal(crdt_lwwreg_write(c, S("late"), 1, ahead), 0);
  assert_holds(ahead, "five", 5, "B");
  assert_holds(c, "late", 1, "C");
  crdt_lwwreg *regs[] = {a, b, c, group, full, receiver, single, ahead,
                         d[0], d[1], d[2], d[3]};
  for (size_t i = 0; i < sizeof regs / sizeof *regs; i++)
    crdt_lwwreg_free(regs[i]);
}

/* ---- laws ------------------------------------------------------------------------- */

static void test_lwwreg_laws(void **state) {
  (void)state;
  crdt_lwwreg *s[7] = {reg_at(NULL), reg_at("A"), reg_at("B"), reg_at("A"),
                       reg_at("B"), reg_at("A"), reg_at("C")};
  write_at(s[1], "x", 1);
  write_at(s[2], "y", 1);  /* ties s[1] on time: B beats A */
  write_at(s[3], "x", 2);
  write_at(s[4], "", 2);   /* ties s[3] on time: B wins with an empty value */
  write_at(s[5], "xy", 2); /* ties s[3] on time and writer: longer value */
  write_at(s[6], "old", 0);
  crdt_object *objs[7];
  for (int i = 0; i < 7; i++) objs[i] = obj(s[i]);
  tu_check_laws(objs, 7);
  for (int i = 0; i < 7; i++) crdt_lwwreg_free(s[i]);
}

/* ---- atomicity under allocation failure ---------------------------------------------- */

typedef struct fx {
  crdt_lwwreg *r, *other, *delta, *out;
} fx;

static void *fx_setup(void) {
  fx *f = calloc(1, sizeof *f);
  assert_non_null(f);
  f->r = reg_at("A");
  write_at(f->r, "current", 5);
  f->other = reg_at("B");
  write_at(f->other, "winner", 9);
  f->delta = reg_at(NULL);
  return f;
}

/* A delta that holds an older write, which the new one replaces. */
static void *fx_setup_older_delta(void) {
  fx *f = fx_setup();
  crdt_lwwreg *c = reg_at("C");
  assert_int_equal(crdt_lwwreg_write(c, S("older"), 1, f->delta), 0);
  crdt_lwwreg_free(c);
  return f;
}

static void fx_teardown(void *p) {
  fx *f = p;
  crdt_lwwreg_free(f->r);
  crdt_lwwreg_free(f->other);
  crdt_lwwreg_free(f->delta);
  crdt_lwwreg_free(f->out);
  free(f);
}

static char *fx_snapshot(void *p) {
  fx *f = p;
  char *r = tu_object_text(obj(f->r)), *d = tu_object_text(obj(f->delta));
  const char *w = crdt_lwwreg_writer(f->r);
  size_t n = strlen(r) + strlen(d) + 80;
  char *s = malloc(n);
  assert_non_null(s);
  uint64_t ts = 0;
  crdt_lwwreg_get(f->r, NULL, &ts);
  snprintf(s, n, "%s by %s at %llu | %s", r, w ? w : "-",
           (unsigned long long)ts, d);
  free(r);
  free(d);
  return s;
}

static int run_write(void *p) {
  return crdt_lwwreg_write(((fx *)p)->r, S("next"), 6, NULL);
}

static int run_write_delta(void *p) {
  fx *f = p;
  return crdt_lwwreg_write(f->r, S("next"), 6, f->delta);
}

static int run_merge(void *p) {
  fx *f = p;
  return crdt_lwwreg_merge(f->r, f->other);
}

static int run_copy(void *p) {
  fx *f = p;
  return crdt_lwwreg_copy(f->r, &f->out);
}

static void test_lwwreg_mutators_are_atomic_under_oom(void **state) {
  (void)state;
  tu_oom_case cases[] = {
      {"lwwreg write", fx_setup, run_write, fx_snapshot, fx_teardown},
      {"lwwreg write+delta", fx_setup, run_write_delta, fx_snapshot,
       fx_teardown},
      {"lwwreg write+older delta", fx_setup_older_delta, run_write_delta,
       fx_snapshot, fx_teardown},
      {"lwwreg merge", fx_setup, run_merge, fx_snapshot, fx_teardown},
      {"lwwreg copy", fx_setup, run_copy, fx_snapshot, fx_teardown},
  };
  static const unsigned points[] = {1, 2, 2, 1, 2};
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
    assert_int_equal(tu_check_oom(&cases[i]), points[i]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lwwreg_empty_register_has_no_value),
      cmocka_unit_test(test_lwwreg_write_then_read),
      cmocka_unit_test(test_lwwreg_highest_timestamp_wins),
      cmocka_unit_test(
          test_lwwreg_equal_timestamps_break_ties_by_replica_then_value),
      cmocka_unit_test(test_lwwreg_merge_into_empty_and_from_empty),
      cmocka_unit_test(test_lwwreg_stale_write_is_refused_unchanged),
      cmocka_unit_test(test_lwwreg_write_rejects_bad_arguments_unchanged),
      cmocka_unit_test(test_lwwreg_compare_is_not_supported),
      cmocka_unit_test(test_lwwreg_deltas_equal_full_merge),
      cmocka_unit_test(test_lwwreg_laws),
      cmocka_unit_test(test_lwwreg_mutators_are_atomic_under_oom),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

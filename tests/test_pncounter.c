/*
 * PN-Counter: increments and decrements at replicas add up, compare, the
 * int64 range and exact values beyond it, deltas, laws, atomicity.
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

static crdt_pncounter *counter_at(const char *replica) {
  crdt_pncounter *c = NULL;
  assert_int_equal(crdt_pncounter_new(replica, &c), 0);
  return c;
}

static crdt_object *obj(crdt_pncounter *c) { return crdt_pncounter_object(c); }

static int64_t value_of(const crdt_pncounter *c) {
  int64_t v = 0;
  assert_int_equal(crdt_pncounter_value(c, &v), 0);
  return v;
}

static void inc(crdt_pncounter *c, uint64_t n) {
  assert_int_equal(crdt_pncounter_inc(c, n, NULL), 0);
}

static void dec(crdt_pncounter *c, uint64_t n) {
  assert_int_equal(crdt_pncounter_dec(c, n, NULL), 0);
}

static void sync_into(crdt_pncounter *dst, const crdt_pncounter *src) {
  assert_int_equal(crdt_pncounter_merge(dst, src), 0);
}

static crdt_pncounter *copy_of(const crdt_pncounter *c) {
  crdt_pncounter *out = NULL;
  assert_int_equal(crdt_pncounter_copy(c, &out), 0);
  return out;
}

static crdt_order compare(const crdt_pncounter *a, const crdt_pncounter *b) {
  crdt_order o;
  assert_int_equal(crdt_pncounter_compare(a, b, &o), 0);
  return o;
}

static const char *json_of(crdt_pncounter *c) {
  static char buf[256];
  assert_int_equal(crdt_object_value_json(obj(c), buf, sizeof buf, NULL), 0);
  return buf;
}

static const char *context_of(crdt_pncounter *c) {
  static char buf[256];
  assert_int_equal(crdt_object_context_text(obj(c), buf, sizeof buf, NULL), 0);
  return buf;
}

static void assert_unchanged(crdt_pncounter *c, char *before) {
  char *after = tu_object_text(obj(c));
  assert_string_equal(before, after);
  free(before);
  free(after);
}

#define TWO_63 ((uint64_t)INT64_MAX + 1)

/* ---- values ------------------------------------------------------------------ */

static void test_pncounter_updates_at_replicas_add_up_in_any_order(
    void **state) {
  (void)state;
  crdt_pncounter *r[3] = {counter_at("A"), counter_at("B"), counter_at("C")};
  inc(r[0], 10);
  dec(r[0], 3);
  dec(r[1], 20);
  inc(r[2], 4);
  inc(r[2], 4);
  assert_int_equal(value_of(r[0]), 7);
  assert_int_equal(value_of(r[1]), -20);
  static const int orders[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2},
                                   {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
  crdt_pncounter *first = NULL;
  for (int k = 0; k < 6; k++) {
    crdt_pncounter *sink = counter_at("S");
    for (int i = 0; i < 3; i++) sync_into(sink, r[orders[k][i]]);
    assert_int_equal(value_of(sink), -5);
    assert_string_equal(json_of(sink), "-5");
    /* decrements tick the event counter too */
    assert_string_equal(context_of(sink), "{A:2, B:1, C:2}");
    if (first) {
      assert_true(crdt_pncounter_equal(first, sink));
      crdt_pncounter_free(sink);
    } else {
      first = sink;
    }
  }
  crdt_pncounter_free(first);
  for (int i = 0; i < 3; i++) crdt_pncounter_free(r[i]);
}

static void test_pncounter_concurrent_inc_and_dec_both_apply(void **state) {
  (void)state;
  crdt_pncounter *a = counter_at("A"), *b = counter_at("B");
  inc(a, 5);
  sync_into(b, a);
  inc(a, 2);  /* concurrently */
  dec(b, 4);
  assert_int_equal(compare(a, b), CRDT_CONCURRENT);
  sync_into(a, b);
  sync_into(b, a);
  assert_true(crdt_pncounter_equal(a, b));
  assert_int_equal(value_of(a), 3);
  assert_int_equal(value_of(b), 3);
  crdt_pncounter_free(a);
  crdt_pncounter_free(b);
}

static void test_pncounter_merge_is_idempotent_and_stale_merges_change_nothing(
    void **state) {
  (void)state;
  crdt_pncounter *a = counter_at("A"), *b = counter_at("B");
  inc(a, 4);
  crdt_pncounter *old = copy_of(a);
  dec(a, 1);
  dec(b, 6);
  sync_into(a, b);
  char *once = tu_object_text(obj(a));
  sync_into(a, b);
  sync_into(a, old);
  sync_into(a, a);
  assert_unchanged(a, once);
  assert_int_equal(value_of(a), -3);
  /* dec alone moved A forward: the older copy is strictly before */
  assert_int_equal(compare(old, a), CRDT_BEFORE);
  crdt_pncounter_free(a);
  crdt_pncounter_free(b);
  crdt_pncounter_free(old);
}

static int collect(const char *replica, uint64_t p, uint64_t n, void *user) {
  char line[96];
  snprintf(line, sizeof line, "%s=+%llu-%llu;", replica, (unsigned long long)p,
           (unsigned long long)n);
  strcat(user, line);
  return 0;
}

static void test_pncounter_foreach_lists_both_totals_in_canonical_order(
    void **state) {
  (void)state;
  crdt_pncounter *b = counter_at("b"), *a = counter_at("a");
  dec(b, 2);
  inc(b, 9);
  dec(a, 1);
  sync_into(b, a);
  char out[128] = "";
  assert_int_equal(crdt_pncounter_foreach(b, collect, out), 0);
  assert_string_equal(out, "a=+0-1;b=+9-2;");
  assert_int_equal(crdt_pncounter_foreach(NULL, collect, out), CRDT_EINVAL);
  crdt_pncounter_free(a);
  crdt_pncounter_free(b);
}

static void test_pncounter_rejects_bad_arguments_unchanged(void **state) {
  (void)state;
  crdt_pncounter *a = counter_at("A"), *receiver = counter_at(NULL);
  crdt_gcounter *g = NULL;
  assert_int_equal(crdt_gcounter_new(NULL, &g), 0);
  inc(a, 1);
  char *before = tu_object_text(obj(a));
  assert_int_equal(crdt_pncounter_inc(a, 0, NULL), CRDT_EINVAL);
  assert_int_equal(crdt_pncounter_dec(a, 0, NULL), CRDT_EINVAL);
  assert_int_equal(crdt_pncounter_dec(NULL, 1, NULL), CRDT_EINVAL);
  assert_int_equal(crdt_pncounter_dec(a, 1, a), CRDT_EINVAL);
  assert_int_equal(crdt_pncounter_inc(a, 1, (crdt_pncounter *)(void *)g),
                   CRDT_ETYPE);
  assert_unchanged(a, before);
  assert_int_equal(crdt_pncounter_inc(receiver, 1, NULL), CRDT_ENOREPLICA);
  assert_int_equal(crdt_pncounter_dec(receiver, 1, NULL), CRDT_ENOREPLICA);
  int64_t v;
  assert_int_equal(crdt_pncounter_value(a, NULL), CRDT_EINVAL);
  assert_int_equal(crdt_pncounter_value(NULL, &v), CRDT_EINVAL);
  assert_null(crdt_object_pncounter(crdt_gcounter_object(g)));
  assert_ptr_equal(crdt_object_pncounter(obj(a)), a);
  crdt_gcounter_free(g);
  crdt_pncounter_free(a);
  crdt_pncounter_free(receiver);
}

/* ---- range ---------------------------------------------------------------------- */

static void test_pncounter_value_range_boundaries_are_exact(void **state) {
  (void)state;
  crdt_pncounter *up = counter_at("U"), *down = counter_at("D");
  crdt_pncounter *delta = counter_at(NULL);
  inc(up, (uint64_t)INT64_MAX);
  assert_int_equal(value_of(up), INT64_MAX);
  char *before = tu_object_text(obj(up));
  char *delta_before = tu_object_text(obj(delta));
  assert_int_equal(crdt_pncounter_inc(up, 1, delta), CRDT_ERANGE);
  assert_unchanged(up, before);
  assert_unchanged(delta, delta_before);

  dec(down, TWO_63);
  assert_int_equal(value_of(down), INT64_MIN);
  assert_string_equal(json_of(down), "-9223372036854775808");
  before = tu_object_text(obj(down));
  assert_int_equal(crdt_pncounter_dec(down, 1, NULL), CRDT_ERANGE);
  assert_unchanged(down, before);
  /* a single update larger than the range */
  crdt_pncounter *c = counter_at("C");
  assert_int_equal(crdt_pncounter_inc(c, UINT64_MAX, NULL), CRDT_ERANGE);
  assert_int_equal(crdt_pncounter_dec(c, TWO_63 + 1, NULL), CRDT_ERANGE);
  assert_string_equal(context_of(c), "{}");
  crdt_pncounter_free(c);
  crdt_pncounter_free(up);
  crdt_pncounter_free(down);
  crdt_pncounter_free(delta);
}

static void test_pncounter_merged_value_outside_int64_is_erange_but_exact(
    void **state) {
  (void)state;
  crdt_pncounter *a = counter_at("A"), *b = counter_at("B"), *c = counter_at("C");
  inc(a, (uint64_t)INT64_MAX);
  inc(b, (uint64_t)INT64_MAX);
  inc(c, (uint64_t)INT64_MAX);
  sync_into(a, b);
  int64_t v = 17;
  assert_int_equal(crdt_pncounter_value(a, &v), CRDT_ERANGE);
  assert_int_equal(v, 17);
  assert_string_equal(json_of(a), "18446744073709551614");
  sync_into(a, c); /* the sum of P passes UINT64_MAX: still exact */
  assert_string_equal(json_of(a), "27670116110564327421");
  /* moving further out is refused; moving back in is allowed */
  assert_int_equal(crdt_pncounter_inc(a, 1, NULL), CRDT_ERANGE);
  dec(a, 5);
  assert_string_equal(json_of(a), "27670116110564327416");

  crdt_pncounter *x = counter_at("X"), *y = counter_at("Y");
  dec(x, TWO_63);
  dec(y, TWO_63);
  sync_into(x, y);
  assert_int_equal(crdt_pncounter_value(x, &v), CRDT_ERANGE);
  assert_string_equal(json_of(x), "-18446744073709551616");
  assert_int_equal(crdt_pncounter_dec(x, 1, NULL), CRDT_ERANGE);
  inc(x, 1);
  assert_string_equal(json_of(x), "-18446744073709551615");
  crdt_pncounter_free(a);
  crdt_pncounter_free(b);
  crdt_pncounter_free(c);
  crdt_pncounter_free(x);
  crdt_pncounter_free(y);
}

/* Two replicas pass INT64_MAX back and forth until P_A and N_B are near
 * UINT64_MAX while the value stays small. */
static void near_limit(crdt_pncounter *a, crdt_pncounter *b) {
  inc(a, (uint64_t)INT64_MAX);
  sync_into(b, a);
  dec(b, (uint64_t)INT64_MAX);
  sync_into(a, b);
  inc(a, (uint64_t)INT64_MAX);
  sync_into(b, a);
  dec(b, (uint64_t)INT64_MAX);
  sync_into(a, b); /* P_A = N_B = UINT64_MAX - 1, value 0 */
}

static void test_pncounter_replica_total_overflow_is_erange(void **state) {
  (void)state;
  crdt_pncounter *a = counter_at("A"), *b = counter_at("B");
  near_limit(a, b);
  assert_int_equal(value_of(a), 0);
  inc(a, 1); /* P_A = UINT64_MAX */
  char *before = tu_object_text(obj(a));
  /* the value would be only 2, but P_A cannot grow */
  assert_int_equal(crdt_pncounter_inc(a, 1, NULL), CRDT_ERANGE);
  assert_unchanged(a, before);
  dec(a, 1); /* N_A is another total: fine */
  assert_int_equal(value_of(a), 0);
  dec(b, 1);
  before = tu_object_text(obj(b));
  assert_int_equal(crdt_pncounter_dec(b, 1, NULL), CRDT_ERANGE);
  assert_unchanged(b, before);
  crdt_pncounter_free(a);
  crdt_pncounter_free(b);
}

static void test_pncounter_value_is_exact_when_sums_pass_uint64(void **state) {
  (void)state;
  crdt_pncounter *a = counter_at("A"), *b = counter_at("B"), *c = counter_at("C");
  near_limit(a, b);
  sync_into(c, a);
  inc(c, 5);
  inc(c, 1);
  /* P = 2^64 - 2 + 6 and N = 2^64 - 2: both sums pass 64 bits in part */
  sync_into(c, b);
  assert_int_equal(value_of(c), 6);
  dec(c, (uint64_t)INT64_MAX);
  dec(c, 7); /* N passes 64 bits too; the value lands on INT64_MIN */
  sync_into(a, c);
  assert_int_equal(value_of(a), INT64_MIN);
  assert_string_equal(json_of(a), "-9223372036854775808");
  crdt_pncounter_free(a);
  crdt_pncounter_free(b);
  crdt_pncounter_free(c);
}

/* ---- deltas ------------------------------------------------------------------------- */

#define REPLICAS 4
#define OPS 300

static void shuffle(crdt_pncounter **xs, size_t n, tu_rng *rng) {
  for (size_t i = n; i > 1; i--) {
    size_t j = tu_below(rng, (unsigned)i);
    crdt_pncounter *t = xs[i - 1];
    xs[i - 1] = xs[j];
    xs[j] = t;
  }
}

static void test_pncounter_random_deltas_equal_full_state_merge(void **state) {
  (void)state;
  static const char *const ids[REPLICAS] = {"node-1", "node-2", "node-3",
                                            "node-4"};
  for (unsigned long long seed = 1; seed <= 5; seed++) {
    tu_rng rng = {seed * 0xD1B54A32D192ED03ull};
    crdt_pncounter *r[REPLICAS];
    for (int i = 0; i < REPLICAS; i++) r[i] = counter_at(ids[i]);
    crdt_pncounter *deltas[OPS];
    int64_t expected = 0;
    for (int k = 0; k < OPS; k++) {
      int at = (int)tu_below(&rng, REPLICAS);
      uint64_t n = 1 + tu_below(&rng, 1000);
      deltas[k] = counter_at(NULL);
      if (tu_below(&rng, 2)) {
        assert_int_equal(crdt_pncounter_inc(r[at], n, deltas[k]), 0);
        expected += (int64_t)n;
      } else {
        assert_int_equal(crdt_pncounter_dec(r[at], n, deltas[k]), 0);
        expected -= (int64_t)n;
      }
      if (tu_below(&rng, 8) == 0)
        sync_into(r[tu_below(&rng, REPLICAS)], r[tu_below(&rng, REPLICAS)]);
    }
    crdt_pncounter *full = counter_at("full");
    for (int i = 0; i < REPLICAS; i++) sync_into(full, r[i]);
    assert_int_equal(value_of(full), expected);

    crdt_pncounter *order[2 * OPS];
    size_t n = 0;
    for (int k = 0; k < OPS; k++) {
      order[n++] = deltas[k];
      if (tu_below(&rng, 3) == 0) order[n++] = deltas[k];
    }
    shuffle(order, n, &rng);
    crdt_pncounter *via_deltas = counter_at("E");
    for (size_t k = 0; k < n; k++) sync_into(via_deltas, order[k]);
    assert_true(crdt_pncounter_equal(via_deltas, full));
    assert_int_equal(compare(via_deltas, full), CRDT_EQUAL);

    crdt_pncounter *group[3] = {counter_at(NULL), counter_at(NULL),
                                counter_at(NULL)};
    for (size_t k = 0; k < n; k++)
      sync_into(group[tu_below(&rng, 3)], order[k]);
    crdt_pncounter *via_groups = copy_of(r[1]);
    for (int g = 2; g >= 0; g--) sync_into(via_groups, group[g]);
    assert_true(crdt_pncounter_equal(via_groups, full));
    assert_int_equal(value_of(via_groups), expected);

    crdt_pncounter_free(via_groups);
    for (int g = 0; g < 3; g++) crdt_pncounter_free(group[g]);
    crdt_pncounter_free(via_deltas);
    crdt_pncounter_free(full);
    for (int k = 0; k < OPS; k++) crdt_pncounter_free(deltas[k]);
    for (int i = 0; i < REPLICAS; i++) crdt_pncounter_free(r[i]);
  }
}

static void test_pncounter_delta_is_the_replicas_new_entry(void **state) {
  (void)state;
  crdt_pncounter *a = counter_at("A"), *delta = counter_at(NULL);
  inc(a, 8);
  assert_int_equal(crdt_pncounter_dec(a, 3, delta), 0);
  assert_string_equal(context_of(delta), "{A:2}");
  assert_string_equal(json_of(delta), "5");
  crdt_pncounter_free(a);
  crdt_pncounter_free(delta);
}

/* ---- laws ------------------------------------------------------------------------------ */

static void test_pncounter_laws(void **state) {
  (void)state;
  crdt_pncounter *a = counter_at("A"), *b = counter_at("B"), *c = counter_at("C");
  crdt_pncounter *s[7];
  s[0] = counter_at(NULL);
  dec(a, 1);
  s[1] = copy_of(a);
  inc(b, 2);
  dec(b, 2);
  s[2] = copy_of(b);
  sync_into(a, b);
  inc(a, 5);
  s[3] = copy_of(a);
  dec(c, 1);
  sync_into(c, s[2]);
  s[4] = copy_of(c);
  inc(b, (uint64_t)INT64_MAX); /* joins with others leave int64_t */
  s[5] = copy_of(b);
  dec(a, (uint64_t)INT64_MAX - 10);
  s[6] = copy_of(a);
  crdt_object *objs[7];
  for (int i = 0; i < 7; i++) objs[i] = obj(s[i]);
  tu_check_laws(objs, 7);
  for (int i = 0; i < 7; i++) crdt_pncounter_free(s[i]);
  crdt_pncounter_free(a);
  crdt_pncounter_free(b);
  crdt_pncounter_free(c);
}

/* Both directions in every update, so both totals of the entries move. */
static void update_pncounter(crdt_object *c, uint64_t n) {
  crdt_pncounter *p = crdt_object_pncounter(c);
  assert_int_equal(crdt_pncounter_inc(p, n, NULL), 0);
  assert_int_equal(crdt_pncounter_dec(p, n / 2 + 1, NULL), 0);
}

/* See tu_check_single_replica_merges. */
static void test_pncounter_merges_from_single_replicas_equal_the_group_merge(
    void **state) {
  (void)state;
  tu_check_single_replica_merges(CRDT_TYPE_PNCOUNTER, 0x9c0417e7u,
                                 update_pncounter);
}

/* ---- atomicity under allocation failure ------------------------------------------------ */

typedef struct fx {
  crdt_pncounter *c, *other, *delta, *out;
} fx;

static void *fx_setup(void) {
  fx *f = calloc(1, sizeof *f);
  assert_non_null(f);
  f->c = counter_at("A");
  inc(f->c, 3);
  f->other = counter_at("B");
  char id[16];
  for (int i = 0; i < 9; i++) {
    crdt_pncounter *x;
    snprintf(id, sizeof id, "R%d", i);
    x = counter_at(id);
    dec(x, (uint64_t)i + 1);
    sync_into(f->other, x);
    crdt_pncounter_free(x);
  }
  inc(f->other, 4);
  f->delta = counter_at(NULL);
  return f;
}

static void *fx_setup_group(void) {
  fx *f = fx_setup();
  sync_into(f->delta, f->other);
  return f;
}

static void fx_teardown(void *p) {
  fx *f = p;
  crdt_pncounter_free(f->c);
  crdt_pncounter_free(f->other);
  crdt_pncounter_free(f->delta);
  crdt_pncounter_free(f->out);
  free(f);
}

static char *fx_snapshot(void *p) {
  fx *f = p;
  char *c = tu_object_text(obj(f->c)), *d = tu_object_text(obj(f->delta));
  size_t n = strlen(c) + strlen(d) + 4;
  char *s = malloc(n);
  assert_non_null(s);
  snprintf(s, n, "%s | %s", c, d);
  free(c);
  free(d);
  return s;
}

static int run_inc(void *p) { return crdt_pncounter_inc(((fx *)p)->c, 2, NULL); }
static int run_dec(void *p) { return crdt_pncounter_dec(((fx *)p)->c, 2, NULL); }

static int run_inc_delta(void *p) {
  fx *f = p;
  return crdt_pncounter_inc(f->c, 2, f->delta);
}

static int run_dec_delta(void *p) {
  fx *f = p;
  return crdt_pncounter_dec(f->c, 2, f->delta);
}

static int run_merge(void *p) {
  fx *f = p;
  return crdt_pncounter_merge(f->c, f->other);
}

static int run_copy(void *p) {
  fx *f = p;
  return crdt_pncounter_copy(f->c, &f->out);
}

/* Replicas the counter of fx_setup_filled has merged before the run. */
static unsigned fill;

/* f->c has merged `fill` replicas one at a time; f->other is a counter at
 * a replica f->c does not know. */
static void *fx_setup_filled(void) {
  fx *f = calloc(1, sizeof *f);
  assert_non_null(f);
  f->c = counter_at(NULL);
  char id[16];
  for (unsigned i = 0; i < fill; i++) {
    snprintf(id, sizeof id, "F%u", i);
    crdt_pncounter *x = counter_at(id);
    dec(x, i + 1);
    sync_into(f->c, x);
    crdt_pncounter_free(x);
  }
  f->other = counter_at("a-replica-new-here");
  inc(f->other, 5);
  dec(f->other, 2);
  f->delta = counter_at(NULL);
  return f;
}

static void test_pncounter_merge_from_one_replica_is_atomic_under_oom(
    void **state) {
  (void)state;
  /* Up to 70 replicas: the new replica meets each table of the counter
   * full in turn. */
  unsigned points = 0;
  for (fill = 0; fill <= 70; fill++) {
    tu_oom_case c = {"pncounter merge from a new replica", fx_setup_filled,
                     run_merge, fx_snapshot, fx_teardown};
    points += tu_check_oom(&c);
  }
  print_message("merge from a new replica: %u allocation points failed\n",
                points);
  assert_true(points >= 4);
  fill = 0;
}

static void test_pncounter_updates_are_atomic_under_oom(void **state) {
  (void)state;
  tu_oom_case inc_plain = {"pncounter inc", fx_setup, run_inc, fx_snapshot,
                           fx_teardown};
  assert_int_equal(tu_check_oom(&inc_plain), 0);
  tu_oom_case dec_plain = {"pncounter dec", fx_setup, run_dec, fx_snapshot,
                           fx_teardown};
  assert_int_equal(tu_check_oom(&dec_plain), 0);
  tu_oom_case inc_delta = {"pncounter inc+delta", fx_setup, run_inc_delta,
                           fx_snapshot, fx_teardown};
  assert_true(tu_check_oom(&inc_delta) >= 2);
  tu_oom_case dec_delta = {"pncounter dec+delta", fx_setup, run_dec_delta,
                           fx_snapshot, fx_teardown};
  assert_true(tu_check_oom(&dec_delta) >= 2);
  tu_oom_case dec_group = {"pncounter dec+group", fx_setup_group,
                           run_dec_delta, fx_snapshot, fx_teardown};
  /* The group's replica table, id chunk and vectors have room for the
   * second replica: recording allocates nothing. */
  assert_int_equal(tu_check_oom(&dec_group), 0);
}

static void test_pncounter_merge_and_copy_are_atomic_under_oom(void **state) {
  (void)state;
  tu_oom_case merge = {"pncounter merge", fx_setup, run_merge, fx_snapshot,
                       fx_teardown};
  assert_true(tu_check_oom(&merge) >= 3);
  tu_oom_case copy = {"pncounter copy", fx_setup, run_copy, fx_snapshot,
                      fx_teardown};
  assert_true(tu_check_oom(&copy) >= 2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pncounter_updates_at_replicas_add_up_in_any_order),
      cmocka_unit_test(test_pncounter_concurrent_inc_and_dec_both_apply),
      cmocka_unit_test(
          test_pncounter_merge_is_idempotent_and_stale_merges_change_nothing),
      cmocka_unit_test(
          test_pncounter_foreach_lists_both_totals_in_canonical_order),
      cmocka_unit_test(test_pncounter_rejects_bad_arguments_unchanged),
      cmocka_unit_test(test_pncounter_value_range_boundaries_are_exact),
      cmocka_unit_test(
          test_pncounter_merged_value_outside_int64_is_erange_but_exact),
      cmocka_unit_test(test_pncounter_replica_total_overflow_is_erange),
      cmocka_unit_test(test_pncounter_value_is_exact_when_sums_pass_uint64),
      cmocka_unit_test(test_pncounter_random_deltas_equal_full_state_merge),
      cmocka_unit_test(test_pncounter_delta_is_the_replicas_new_entry),
      cmocka_unit_test(test_pncounter_laws),
      cmocka_unit_test(
          test_pncounter_merges_from_single_replicas_equal_the_group_merge),
      cmocka_unit_test(test_pncounter_updates_are_atomic_under_oom),
      cmocka_unit_test(test_pncounter_merge_and_copy_are_atomic_under_oom),
      cmocka_unit_test(
          test_pncounter_merge_from_one_replica_is_atomic_under_oom),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

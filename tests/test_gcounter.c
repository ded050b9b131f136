/*
 * G-Counter: increments add up, version-vector compare, overflow, deltas,
 * laws, atomicity, and the merge benchmark's scenario.
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

static crdt_gcounter *counter_at(const char *replica) {
  crdt_gcounter *c = NULL;
  assert_int_equal(crdt_gcounter_new(replica, &c), 0);
  return c;
}

static crdt_object *obj(crdt_gcounter *c) { return crdt_gcounter_object(c); }

static uint64_t value_of(const crdt_gcounter *c) {
  uint64_t v = 0;
  assert_int_equal(crdt_gcounter_value(c, &v), 0);
  return v;
}

static void inc(crdt_gcounter *c, uint64_t n) {
  assert_int_equal(crdt_gcounter_inc(c, n, NULL), 0);
}

static void sync_into(crdt_gcounter *dst, const crdt_gcounter *src) {
  assert_int_equal(crdt_gcounter_merge(dst, src), 0);
}

static crdt_gcounter *copy_of(const crdt_gcounter *c) {
  crdt_gcounter *out = NULL;
  assert_int_equal(crdt_gcounter_copy(c, &out), 0);
  return out;
}

static crdt_order compare(const crdt_gcounter *a, const crdt_gcounter *b) {
  crdt_order o;
  assert_int_equal(crdt_gcounter_compare(a, b, &o), 0);
  return o;
}

/* Formats with the crdt_object_*_json/_text contract into a static buffer. */
static const char *json_of(crdt_gcounter *c) {
  static char buf[256];
  assert_int_equal(crdt_object_value_json(obj(c), buf, sizeof buf, NULL), 0);
  return buf;
}

static const char *context_of(crdt_gcounter *c) {
  static char buf[256];
  assert_int_equal(crdt_object_context_text(obj(c), buf, sizeof buf, NULL), 0);
  return buf;
}

/* Asserts that `c` prints as `before` (a tu_object_text) and frees it. */
static void assert_unchanged(crdt_gcounter *c, char *before) {
  char *after = tu_object_text(obj(c));
  assert_string_equal(before, after);
  free(before);
  free(after);
}

/* ---- values ---------------------------------------------------------------- */

static void test_gcounter_new_counter_is_zero(void **state) {
  (void)state;
  crdt_gcounter *a = counter_at("A");
  assert_int_equal(value_of(a), 0);
  assert_int_equal(crdt_gcounter_get(a, "A"), 0);
  assert_string_equal(json_of(a), "0");
  assert_string_equal(context_of(a), "{}");
  assert_string_equal(crdt_object_replica(obj(a)), "A");
  assert_int_equal(crdt_object_type(obj(a)), CRDT_TYPE_GCOUNTER);
  assert_ptr_equal(crdt_object_gcounter(obj(a)), a);
  crdt_gcounter_free(a);
  crdt_gcounter_free(NULL);
  crdt_gcounter *bad = NULL;
  assert_int_equal(crdt_gcounter_new("", &bad), CRDT_EINVAL);
  assert_int_equal(crdt_gcounter_new("A", NULL), CRDT_EINVAL);
  assert_null(bad);
}

static void test_gcounter_increments_at_replicas_add_up_in_any_order(
    void **state) {
  (void)state;
  crdt_gcounter *r[3] = {counter_at("A"), counter_at("B"), counter_at("C")};
  inc(r[0], 3);
  inc(r[0], 2);
  inc(r[1], 7);
  inc(r[2], 1);
  static const int orders[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2},
                                   {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
  crdt_gcounter *first = NULL;
  for (int k = 0; k < 6; k++) {
    crdt_gcounter *sink = counter_at("S");
    for (int i = 0; i < 3; i++) sync_into(sink, r[orders[k][i]]);
    assert_int_equal(value_of(sink), 13);
    assert_int_equal(crdt_gcounter_get(sink, "A"), 5);
    assert_int_equal(crdt_gcounter_get(sink, "B"), 7);
    assert_int_equal(crdt_gcounter_get(sink, "C"), 1);
    assert_int_equal(crdt_gcounter_get(sink, "S"), 0);
    assert_int_equal(crdt_gcounter_get(sink, "nobody"), 0);
    assert_string_equal(json_of(sink), "13");
    assert_string_equal(context_of(sink), "{A:2, B:1, C:1}");
    if (first) {
      assert_true(crdt_gcounter_equal(first, sink));
      crdt_gcounter_free(sink);
    } else {
      first = sink;
    }
  }
  crdt_gcounter_free(first);
  for (int i = 0; i < 3; i++) crdt_gcounter_free(r[i]);
}

static void test_gcounter_context_counts_events_not_amounts(void **state) {
  (void)state;
  crdt_gcounter *a = counter_at("A"), *b = counter_at("B");
  inc(a, 100);
  inc(a, 1);
  inc(b, 5);
  assert_string_equal(context_of(a), "{A:2}");
  sync_into(a, b);
  assert_string_equal(context_of(a), "{A:2, B:1}");
  assert_string_equal(json_of(a), "106");
  crdt_gcounter_free(a);
  crdt_gcounter_free(b);
}

static void test_gcounter_merge_is_idempotent(void **state) {
  (void)state;
  crdt_gcounter *a = counter_at("A"), *b = counter_at("B");
  inc(a, 4);
  inc(b, 6);
  sync_into(a, b);
  char *once = tu_object_text(obj(a));
  sync_into(a, b);
  sync_into(a, a);
  assert_unchanged(a, once);
  assert_int_equal(value_of(a), 10);
  crdt_gcounter_free(a);
  crdt_gcounter_free(b);
}

static void test_gcounter_stale_state_merged_into_newer_changes_nothing(
    void **state) {
  (void)state;
  crdt_gcounter *a = counter_at("A"), *b = counter_at("B");
  inc(a, 1);
  crdt_gcounter *old = copy_of(a);
  inc(a, 1);
  inc(a, 1);
  char *newer = tu_object_text(obj(a));
  sync_into(a, old);
  assert_unchanged(a, newer);
  assert_int_equal(value_of(a), 3);
  /* a third replica that has the newer state, then receives the older */
  sync_into(b, a);
  char *b_newer = tu_object_text(obj(b));
  sync_into(b, old);
  assert_unchanged(b, b_newer);
  assert_int_equal(compare(old, a), CRDT_BEFORE);
  crdt_gcounter_free(a);
  crdt_gcounter_free(b);
  crdt_gcounter_free(old);
}

static int collect(const char *replica, uint64_t contribution, void *user) {
  char *out = user;
  char line[96];
  snprintf(line, sizeof line, "%s=%llu;", replica,
           (unsigned long long)contribution);
  strcat(out, line);
  return 0;
}

static int stop_at_b(const char *replica, uint64_t contribution, void *user) {
  (void)contribution;
  ++*(int *)user;
  return strcmp(replica, "b") == 0 ? 7 : 0;
}

static void test_gcounter_foreach_lists_contributions_in_canonical_order(
    void **state) {
  (void)state;
  crdt_gcounter *x = counter_at("x"), *c = counter_at("c"), *a = counter_at("a"),
                *b = counter_at("b");
  inc(c, 3);
  inc(a, 1);
  inc(b, 2);
  sync_into(x, c);
  sync_into(x, a);
  sync_into(x, b);
  char out[256] = "";
  /* x never incremented: not listed */
  assert_int_equal(crdt_gcounter_foreach(x, collect, out), 0);
  assert_string_equal(out, "a=1;b=2;c=3;");
  int calls = 0;
  assert_int_equal(crdt_gcounter_foreach(x, stop_at_b, &calls), 7);
  assert_int_equal(calls, 2);
  assert_int_equal(crdt_gcounter_foreach(x, NULL, NULL), CRDT_EINVAL);
  crdt_gcounter_free(x);
  crdt_gcounter_free(a);
  crdt_gcounter_free(b);
  crdt_gcounter_free(c);
}

/* ---- errors ------------------------------------------------------------------- */

static void test_gcounter_inc_rejects_bad_arguments_unchanged(void **state) {
  (void)state;
  crdt_gcounter *a = counter_at("A"), *receiver = counter_at(NULL);
  crdt_pncounter *pn = NULL;
  assert_int_equal(crdt_pncounter_new(NULL, &pn), 0);
  inc(a, 2);
  char *before = tu_object_text(obj(a));
  assert_int_equal(crdt_gcounter_inc(a, 0, NULL), CRDT_EINVAL);
  assert_int_equal(crdt_gcounter_inc(NULL, 1, NULL), CRDT_EINVAL);
  assert_int_equal(crdt_gcounter_inc(a, 1, a), CRDT_EINVAL);
  assert_int_equal(crdt_gcounter_inc(a, 1, (crdt_gcounter *)(void *)pn),
                   CRDT_ETYPE);
  assert_unchanged(a, before);
  /* a counter without an owner collects deltas; it cannot update */
  assert_int_equal(crdt_gcounter_inc(receiver, 1, NULL), CRDT_ENOREPLICA);
  assert_null(crdt_object_replica(obj(receiver)));
  assert_string_equal(context_of(receiver), "{}");
  uint64_t v = 99;
  assert_int_equal(crdt_gcounter_value(NULL, &v), CRDT_EINVAL);
  assert_int_equal(crdt_gcounter_value(a, NULL), CRDT_EINVAL);
  assert_int_equal(crdt_gcounter_get(NULL, "A"), 0);
  assert_int_equal(crdt_gcounter_get(a, NULL), 0);
  assert_null(crdt_object_gcounter(crdt_pncounter_object(pn)));
  assert_int_equal(crdt_object_merge(obj(a), crdt_pncounter_object(pn)),
                   CRDT_ETYPE);
  crdt_pncounter_free(pn);
  crdt_gcounter_free(a);
  crdt_gcounter_free(receiver);
}

static void test_gcounter_inc_past_uint64_max_is_erange_and_unchanged(
    void **state) {
  (void)state;
  crdt_gcounter *a = counter_at("A"), *delta = counter_at(NULL);
  assert_int_equal(crdt_gcounter_inc(a, UINT64_MAX, NULL), 0);
  assert_int_equal(value_of(a), UINT64_MAX);
  char *before = tu_object_text(obj(a));
  char *delta_before = tu_object_text(obj(delta));
  assert_int_equal(crdt_gcounter_inc(a, 1, delta), CRDT_ERANGE);
  assert_unchanged(a, before);
  assert_unchanged(delta, delta_before);
  assert_string_equal(json_of(a), "18446744073709551615");
  crdt_gcounter_free(a);
  crdt_gcounter_free(delta);
}

static void test_gcounter_inc_refuses_a_total_past_uint64_max(void **state) {
  (void)state;
  crdt_gcounter *a = counter_at("A"), *b = counter_at("B");
  inc(a, UINT64_MAX - 10);
  sync_into(b, a);
  inc(b, 10); /* value exactly UINT64_MAX: fine */
  assert_int_equal(value_of(b), UINT64_MAX);
  char *before = tu_object_text(obj(b));
  /* B's own total is only 10, but the counter's value would pass the max */
  assert_int_equal(crdt_gcounter_inc(b, 1, NULL), CRDT_ERANGE);
  assert_unchanged(b, before);
  crdt_gcounter_free(a);
  crdt_gcounter_free(b);
}

static void test_gcounter_value_overflow_after_merge_is_erange(void **state) {
  (void)state;
  crdt_gcounter *a = counter_at("A"), *b = counter_at("B");
  inc(a, UINT64_MAX);
  inc(b, UINT64_MAX);
  sync_into(a, b);
  uint64_t v = 42;
  assert_int_equal(crdt_gcounter_value(a, &v), CRDT_ERANGE);
  assert_int_equal(v, 42);
  /* each replica's contribution is intact, and the JSON value is exact */
  assert_int_equal(crdt_gcounter_get(a, "A"), UINT64_MAX);
  assert_int_equal(crdt_gcounter_get(a, "B"), UINT64_MAX);
  assert_string_equal(json_of(a), "36893488147419103230");
  /* no further increment at either side */
  assert_int_equal(crdt_gcounter_inc(a, 1, NULL), CRDT_ERANGE);
  crdt_gcounter_free(a);
  crdt_gcounter_free(b);
}

/* ---- compare ------------------------------------------------------------------- */

static void test_gcounter_compare_orders_histories(void **state) {
  (void)state;
  crdt_gcounter *a = counter_at("A"), *b = counter_at("B");
  /* two fresh counters have seen nothing: equal, whatever their owners */
  assert_int_equal(compare(a, b), CRDT_EQUAL);
  inc(a, 1);
  assert_int_equal(compare(a, b), CRDT_AFTER);
  assert_int_equal(compare(b, a), CRDT_BEFORE);
  sync_into(b, a);
  assert_int_equal(compare(a, b), CRDT_EQUAL);
  assert_true(crdt_gcounter_equal(a, b));
  /* concurrent increments */
  inc(a, 1);
  inc(b, 1);
  assert_int_equal(compare(a, b), CRDT_CONCURRENT);
  assert_int_equal(compare(b, a), CRDT_CONCURRENT);
  assert_false(crdt_gcounter_equal(a, b));
  sync_into(a, b);
  assert_int_equal(compare(a, b), CRDT_AFTER);
  sync_into(b, a);
  assert_int_equal(compare(a, b), CRDT_EQUAL);
  assert_int_equal(value_of(a), 3);
  crdt_order o;
  assert_int_equal(crdt_gcounter_compare(a, NULL, &o), CRDT_EINVAL);
  crdt_gcounter_free(a);
  crdt_gcounter_free(b);
}

/* ---- deltas ---------------------------------------------------------------------- */

#define REPLICAS 4
#define OPS 300

static void shuffle(crdt_gcounter **xs, size_t n, tu_rng *rng) {
  for (size_t i = n; i > 1; i--) {
    size_t j = tu_below(rng, (unsigned)i);
    crdt_gcounter *t = xs[i - 1];
    xs[i - 1] = xs[j];
    xs[j] = t;
  }
}

static void test_gcounter_random_deltas_equal_full_state_merge(void **state) {
  (void)state;
  static const char *const ids[REPLICAS] = {"A", "B", "C", "D"};
  for (unsigned long long seed = 1; seed <= 5; seed++) {
    tu_rng rng = {seed * 0x9E3779B97F4A7C15ull};
    crdt_gcounter *r[REPLICAS];
    for (int i = 0; i < REPLICAS; i++) r[i] = counter_at(ids[i]);
    crdt_gcounter *deltas[OPS];
    uint64_t sum = 0;
    for (int k = 0; k < OPS; k++) {
      int at = (int)tu_below(&rng, REPLICAS);
      uint64_t n = 1 + tu_below(&rng, 1000);
      deltas[k] = counter_at(NULL);
      assert_int_equal(crdt_gcounter_inc(r[at], n, deltas[k]), 0);
      sum += n;
      /* now and then, anti-entropy between two replicas by full state */
      if (tu_below(&rng, 8) == 0)
        sync_into(r[tu_below(&rng, REPLICAS)], r[tu_below(&rng, REPLICAS)]);
    }
    crdt_gcounter *full = counter_at("full");
    for (int i = 0; i < REPLICAS; i++) sync_into(full, r[i]);
    assert_int_equal(value_of(full), sum);

    /* every delta, shuffled, some twice */
    crdt_gcounter *order[2 * OPS];
    size_t n = 0;
    for (int k = 0; k < OPS; k++) {
      order[n++] = deltas[k];
      if (tu_below(&rng, 3) == 0) order[n++] = deltas[k];
    }
    shuffle(order, n, &rng);
    crdt_gcounter *via_deltas = counter_at("E");
    for (size_t k = 0; k < n; k++) sync_into(via_deltas, order[k]);
    assert_true(crdt_gcounter_equal(via_deltas, full));
    assert_int_equal(compare(via_deltas, full), CRDT_EQUAL);
    assert_int_equal(value_of(via_deltas), sum);

    /* delta groups: deltas joined with each other first, then shipped */
    crdt_gcounter *group[3] = {counter_at(NULL), counter_at(NULL),
                               counter_at(NULL)};
    for (size_t k = 0; k < n; k++)
      sync_into(group[tu_below(&rng, 3)], order[k]);
    crdt_gcounter *via_groups = counter_at("F");
    for (int g = 2; g >= 0; g--) sync_into(via_groups, group[g]);
    assert_true(crdt_gcounter_equal(via_groups, full));
    /* a group is itself a state: it joins into a full state as well */
    crdt_gcounter *mixed = copy_of(r[0]);
    for (int g = 0; g < 3; g++) sync_into(mixed, group[g]);
    assert_true(crdt_gcounter_equal(mixed, full));

    crdt_gcounter_free(mixed);
    crdt_gcounter_free(via_groups);
    for (int g = 0; g < 3; g++) crdt_gcounter_free(group[g]);
    crdt_gcounter_free(via_deltas);
    crdt_gcounter_free(full);
    for (int k = 0; k < OPS; k++) crdt_gcounter_free(deltas[k]);
    for (int i = 0; i < REPLICAS; i++) crdt_gcounter_free(r[i]);
  }
}

static void test_gcounter_delta_is_the_replicas_new_entry(void **state) {
  (void)state;
  crdt_gcounter *a = counter_at("A"), *b = counter_at("B"),
                *delta = counter_at(NULL);
  inc(b, 50);
  sync_into(a, b);
  inc(a, 2);
  assert_int_equal(crdt_gcounter_inc(a, 3, delta), 0);
  /* only A's entry, with A's running total: not B's, not just the 3 */
  assert_string_equal(context_of(delta), "{A:2}");
  assert_string_equal(json_of(delta), "5");
  assert_int_equal(crdt_gcounter_get(delta, "A"), 5);
  assert_int_equal(crdt_gcounter_get(delta, "B"), 0);
  crdt_gcounter_free(a);
  crdt_gcounter_free(b);
  crdt_gcounter_free(delta);
}

/* ---- laws ------------------------------------------------------------------------------ */

static void test_gcounter_laws(void **state) {
  (void)state;
  crdt_gcounter *a = counter_at("A"), *b = counter_at("B"), *c = counter_at("C");
  crdt_gcounter *s[7];
  s[0] = counter_at(NULL); /* empty */
  inc(a, 1);
  s[1] = copy_of(a);
  inc(b, 2);
  inc(b, 2);
  s[2] = copy_of(b);
  sync_into(a, b);
  inc(a, 5);
  s[3] = copy_of(a); /* after s[1] and s[2] */
  inc(c, 1);
  sync_into(c, s[2]);
  s[4] = copy_of(c); /* concurrent with s[3] */
  inc(b, UINT64_MAX - 4);
  s[5] = copy_of(b); /* near the limit: sums with others pass 64 bits */
  inc(a, 1);
  s[6] = copy_of(a);
  crdt_object *objs[7];
  for (int i = 0; i < 7; i++) objs[i] = obj(s[i]);
  tu_check_laws(objs, 7);
  for (int i = 0; i < 7; i++) crdt_gcounter_free(s[i]);
  crdt_gcounter_free(a);
  crdt_gcounter_free(b);
  crdt_gcounter_free(c);
}

/* ---- the merge benchmark's scenario ---------------------------------------------------- */

static void test_gcounter_merge_of_1000_replicas_sums_to_500500(void **state) {
  (void)state;
  enum { COUNT = 1000 };
  crdt_gcounter **c = calloc(COUNT, sizeof *c);
  assert_non_null(c);
  char id[32];
  for (int i = 0; i < COUNT; i++) {
    snprintf(id, sizeof id, "replica-%d", i);
    c[i] = counter_at(id);
    inc(c[i], (uint64_t)i + 1);
  }
  for (int i = 1; i < COUNT; i++) sync_into(c[0], c[i]);
  assert_int_equal(value_of(c[0]), 500500);
  assert_int_equal(crdt_gcounter_get(c[0], "replica-999"), 1000);
  for (int i = 0; i < COUNT; i++) crdt_gcounter_free(c[i]);
  free(c);
}

static void update_gcounter(crdt_object *c, uint64_t n) {
  assert_int_equal(crdt_gcounter_inc(crdt_object_gcounter(c), n, NULL), 0);
}

/* See tu_check_single_replica_merges. */
static void test_gcounter_merges_from_single_replicas_equal_the_group_merge(
    void **state) {
  (void)state;
  tu_check_single_replica_merges(CRDT_TYPE_GCOUNTER, 0xc0417e7u,
                                 update_gcounter);
}

/* ---- atomicity under allocation failure ------------------------------------------------ */

typedef struct fx {
  crdt_gcounter *c, *other, *delta, *out;
} fx;

static void *fx_setup(void) {
  fx *f = calloc(1, sizeof *f);
  assert_non_null(f);
  f->c = counter_at("A");
  inc(f->c, 3);
  f->other = counter_at("B");
  char id[16];
  for (int i = 0; i < 9; i++) { /* enough replicas to grow every table */
    crdt_gcounter *x;
    snprintf(id, sizeof id, "R%d", i);
    x = counter_at(id);
    inc(x, (uint64_t)i + 1);
    sync_into(f->other, x);
    crdt_gcounter_free(x);
  }
  inc(f->other, 4);
  f->delta = counter_at(NULL);
  return f;
}

static void fx_teardown(void *p) {
  fx *f = p;
  crdt_gcounter_free(f->c);
  crdt_gcounter_free(f->other);
  crdt_gcounter_free(f->delta);
  crdt_gcounter_free(f->out);
  free(f);
}

/* Text of the counter and the delta (what an update may change). */
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

static int run_inc(void *p) { return crdt_gcounter_inc(((fx *)p)->c, 2, NULL); }

static int run_inc_delta(void *p) {
  fx *f = p;
  return crdt_gcounter_inc(f->c, 2, f->delta);
}

/* The delta is a group that already holds other replicas' entries. */
static void *fx_setup_group(void) {
  fx *f = fx_setup();
  sync_into(f->delta, f->other);
  return f;
}

static int run_merge(void *p) {
  fx *f = p;
  return crdt_gcounter_merge(f->c, f->other);
}

static int run_copy(void *p) {
  fx *f = p;
  return crdt_gcounter_copy(f->c, &f->out);
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
    crdt_gcounter *x = counter_at(id);
    inc(x, i + 1);
    sync_into(f->c, x);
    crdt_gcounter_free(x);
  }
  f->other = counter_at("a-replica-new-here");
  inc(f->other, 5);
  f->delta = counter_at(NULL);
  return f;
}

/* f->other is a newer state of a replica f->c knows. */
static void *fx_setup_known(void) {
  fx *f = fx_setup_filled();
  sync_into(f->c, f->other);
  inc(f->other, 2);
  return f;
}

static void test_gcounter_merge_from_one_replica_is_atomic_under_oom(
    void **state) {
  (void)state;
  /* Up to 70 replicas: the new replica meets each table of the counter
   * (entries, replica index, slots, id chunk) full in turn. */
  unsigned points = 0;
  for (fill = 0; fill <= 70; fill++) {
    tu_oom_case c = {"gcounter merge from a new replica", fx_setup_filled,
                     run_merge, fx_snapshot, fx_teardown};
    points += tu_check_oom(&c);
    /* A newer state of a replica the counter knows: nothing to allocate. */
    tu_oom_case known = {"gcounter merge from a known replica",
                         fx_setup_known, run_merge, fx_snapshot, fx_teardown};
    assert_int_equal(tu_check_oom(&known), 0);
  }
  print_message("merge from a new replica: %u allocation points failed\n",
                points);
  assert_true(points >= 4);
  fill = 0;
}

static void test_gcounter_inc_is_atomic_under_oom(void **state) {
  (void)state;
  tu_oom_case plain = {"gcounter inc", fx_setup, run_inc, fx_snapshot,
                       fx_teardown};
  assert_int_equal(tu_check_oom(&plain), 0); /* no allocation at all */
  tu_oom_case with_delta = {"gcounter inc+delta", fx_setup, run_inc_delta,
                            fx_snapshot, fx_teardown};
  assert_true(tu_check_oom(&with_delta) >= 2);
  tu_oom_case into_group = {"gcounter inc+group", fx_setup_group,
                            run_inc_delta, fx_snapshot, fx_teardown};
  /* The group's replica table, id chunk and vector have room for the
   * second replica: recording allocates nothing. */
  assert_int_equal(tu_check_oom(&into_group), 0);
}

static void test_gcounter_merge_and_copy_are_atomic_under_oom(void **state) {
  (void)state;
  tu_oom_case merge = {"gcounter merge", fx_setup, run_merge, fx_snapshot,
                       fx_teardown};
  assert_true(tu_check_oom(&merge) >= 3);
  tu_oom_case copy = {"gcounter copy", fx_setup, run_copy, fx_snapshot,
                      fx_teardown};
  assert_true(tu_check_oom(&copy) >= 2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_gcounter_new_counter_is_zero),
      cmocka_unit_test(test_gcounter_increments_at_replicas_add_up_in_any_order),
      cmocka_unit_test(test_gcounter_context_counts_events_not_amounts),
      cmocka_unit_test(test_gcounter_merge_is_idempotent),
      cmocka_unit_test(test_gcounter_stale_state_merged_into_newer_changes_nothing),
      cmocka_unit_test(test_gcounter_foreach_lists_contributions_in_canonical_order),
      cmocka_unit_test(test_gcounter_inc_rejects_bad_arguments_unchanged),
      cmocka_unit_test(test_gcounter_inc_past_uint64_max_is_erange_and_unchanged),
      cmocka_unit_test(test_gcounter_inc_refuses_a_total_past_uint64_max),
      cmocka_unit_test(test_gcounter_value_overflow_after_merge_is_erange),
      cmocka_unit_test(test_gcounter_compare_orders_histories),
      cmocka_unit_test(test_gcounter_random_deltas_equal_full_state_merge),
      cmocka_unit_test(test_gcounter_delta_is_the_replicas_new_entry),
      cmocka_unit_test(test_gcounter_laws),
      cmocka_unit_test(test_gcounter_merge_of_1000_replicas_sums_to_500500),
      cmocka_unit_test(
          test_gcounter_merges_from_single_replicas_equal_the_group_merge),
      cmocka_unit_test(test_gcounter_inc_is_atomic_under_oom),
      cmocka_unit_test(test_gcounter_merge_and_copy_are_atomic_under_oom),
      cmocka_unit_test(
          test_gcounter_merge_from_one_replica_is_atomic_under_oom),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

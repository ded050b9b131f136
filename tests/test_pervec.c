/*
 * Kernel: version vectors whose entries carry a payload (src/pervec.h), the
 * state of the counters. Join, laws, compare, 128-bit totals, atomicity.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pervec.h"
#include "testutil.h"
#include "text.h"

/* The allocator the vectors of a test use: the default at the time. */
static crdt_allocator mem(void) { return *crdt__mem_default(); }

static void put(crdt__pervec *v, const crdt_allocator *m, const char *id,
                uint64_t events, uint64_t p, uint64_t n) {
  crdt__pvent e = {events, {p, n}};
  assert_int_equal(crdt__pervec_join_one(v, m, id, strlen(id), &e), 0);
}

static crdt__pvent entry(const crdt__pervec *v, const char *id) {
  uint32_t i = crdt__replicas_find(&v->replicas, id, strlen(id));
  return crdt__pervec_get(v, i == CRDT__NO_REPLICA ? v->len : i);
}

static void assert_entry(const crdt__pervec *v, const char *id,
                         uint64_t events, uint64_t p, uint64_t n) {
  crdt__pvent e = entry(v, id);
  assert_int_equal(e.events, events);
  assert_int_equal(e.payload[0], p);
  assert_int_equal(e.payload[1], n);
}

/* ---- text of a vector, for comparisons and snapshots ------------------------ */

typedef struct dump {
  char *s;
  size_t len;
} dump;

static void dump_put(dump *d, const char *s) {
  size_t n = strlen(s);
  d->s = realloc(d->s, d->len + n + 1);
  assert_non_null(d->s);
  memcpy(d->s + d->len, s, n + 1);
  d->len += n;
}

static int dump_entry(const char *id, const crdt__pvent *e, void *user) {
  char line[160];
  snprintf(line, sizeof line, "%s:%llu/%llu/%llu ", id,
           (unsigned long long)e->events, (unsigned long long)e->payload[0],
           (unsigned long long)e->payload[1]);
  dump_put(user, line);
  return 0;
}

/* Every entry in canonical order, the cached totals and the event vector;
 * malloc'd. */
static char *text_of(const crdt__pervec *v) {
  crdt_allocator m = mem();
  dump d = {NULL, 0};
  dump_put(&d, "");
  assert_int_equal(crdt__pervec_foreach(v, &m, dump_entry, &d), 0);
  char line[160];
  /* the table too: an intern left behind by a failed join shows here */
  snprintf(line, sizeof line, "total %llx.%llx/%llx.%llx replicas %u ",
           (unsigned long long)v->total[0].hi, (unsigned long long)v->total[0].lo,
           (unsigned long long)v->total[1].hi, (unsigned long long)v->total[1].lo,
           (unsigned)v->replicas.count);
  assert_true(v->len >= v->replicas.count);
  dump_put(&d, line);
  char buf[256];
  crdt__text t = {buf, sizeof buf, 0};
  assert_int_equal(crdt__pervec_format(&t, v, &m), 0);
  assert_int_equal(crdt__text_finish(&t, NULL), 0);
  dump_put(&d, buf);
  return d.s;
}

static void assert_text(const crdt__pervec *v, const char *want) {
  char *got = text_of(v);
  assert_string_equal(got, want);
  free(got);
}

static char *format_of(const crdt__pervec *v) {
  crdt_allocator m = mem();
  char buf[256];
  crdt__text t = {buf, sizeof buf, 0};
  assert_int_equal(crdt__pervec_format(&t, v, &m), 0);
  assert_int_equal(crdt__text_finish(&t, NULL), 0);
  char *s = malloc(strlen(buf) + 1);
  assert_non_null(s);
  strcpy(s, buf);
  return s;
}

/* ---- join ---------------------------------------------------------------------- */

static void test_pervec_join_keeps_higher_event_entry(void **state) {
  (void)state;
  crdt_allocator m = mem();
  crdt__pervec a = {0}, b = {0};
  put(&a, &m, "A", 3, 30, 0);
  put(&a, &m, "B", 1, 5, 0);
  put(&b, &m, "B", 4, 9, 1);
  put(&b, &m, "A", 2, 20, 0); /* older than a's A: must not replace it */
  put(&b, &m, "C", 1, 1, 0);
  assert_int_equal(crdt__pervec_join(&a, &m, &b), 0);
  assert_entry(&a, "A", 3, 30, 0);
  assert_entry(&a, "B", 4, 9, 1);
  assert_entry(&a, "C", 1, 1, 0);
  /* the cached totals follow the replaced entries */
  assert_int_equal(a.total[0].lo, 40);
  assert_int_equal(a.total[1].lo, 1);
  assert_text(&a, "A:3/30/0 B:4/9/1 C:1/1/0 total 0.28/0.1 replicas 3 {A:3, B:4, C:1}");
  /* src is unchanged */
  assert_text(&b, "A:2/20/0 B:4/9/1 C:1/1/0 total 0.1e/0.1 replicas 3 {A:2, B:4, C:1}");
  crdt__pervec_free(&a, &m);
  crdt__pervec_free(&b, &m);
}

static void test_pervec_join_one_keeps_higher_event_entry(void **state) {
  (void)state;
  crdt_allocator m = mem();
  crdt__pervec v = {0};
  put(&v, &m, "A", 2, 10, 3);
  put(&v, &m, "A", 1, 99, 99); /* an older entry: ignored */
  assert_entry(&v, "A", 2, 10, 3);
  put(&v, &m, "A", 5, 11, 3);
  assert_entry(&v, "A", 5, 11, 3);
  assert_int_equal(v.total[0].lo, 11);
  assert_int_equal(v.total[1].lo, 3);
  crdt__pervec_free(&v, &m);
}

static void test_pervec_join_with_itself_changes_nothing(void **state) {
  (void)state;
  crdt_allocator m = mem();
  crdt__pervec v = {0};
  put(&v, &m, "A", 2, 10, 3);
  char *before = text_of(&v);
  assert_int_equal(crdt__pervec_join(&v, &m, &v), 0);
  assert_text(&v, before);
  free(before);
  crdt__pervec_free(&v, &m);
}

/* Entries drawn from a small range, so ties on the event counter with
 * different payloads (forged input) occur and must still join as a
 * lattice. */
static void random_vector(crdt__pervec *v, const crdt_allocator *m,
                          tu_rng *rng) {
  static const char *const ids[] = {"A", "B", "C", "D"};
  unsigned n = tu_below(rng, 5);
  for (unsigned i = 0; i < n; i++)
    put(v, m, ids[tu_below(rng, 4)], tu_below(rng, 3), tu_below(rng, 3),
        tu_below(rng, 2));
}

static void join_into_copy(crdt__pervec *out, const crdt_allocator *m,
                           const crdt__pervec *a, const crdt__pervec *b) {
  assert_int_equal(crdt__pervec_copy(out, m, a), 0);
  assert_int_equal(crdt__pervec_join(out, m, b), 0);
}

static void assert_same(const crdt__pervec *x, const crdt__pervec *y) {
  assert_true(crdt__pervec_equal(x, y));
  char *tx = text_of(x), *ty = text_of(y);
  assert_string_equal(tx, ty);
  free(tx);
  free(ty);
}

static void test_pervec_join_is_commutative_associative_idempotent(
    void **state) {
  (void)state;
  crdt_allocator m = mem();
  tu_rng rng = {0x5eed1234u};
  for (int round = 0; round < 200; round++) {
    crdt__pervec a = {0}, b = {0}, c = {0};
    random_vector(&a, &m, &rng);
    random_vector(&b, &m, &rng);
    random_vector(&c, &m, &rng);
    crdt__pervec ab = {0}, ba = {0}, aa = {0}, ab_c = {0}, bc = {0},
                 a_bc = {0};
    join_into_copy(&ab, &m, &a, &b);
    join_into_copy(&ba, &m, &b, &a);
    assert_same(&ab, &ba);
    join_into_copy(&aa, &m, &a, &a);
    assert_same(&aa, &a);
    join_into_copy(&ab_c, &m, &ab, &c);
    join_into_copy(&bc, &m, &b, &c);
    join_into_copy(&a_bc, &m, &a, &bc);
    assert_same(&ab_c, &a_bc);
    /* the join is an upper bound in the event order */
    crdt_order o = crdt__pervec_compare(&ab, &a);
    assert_true(o == CRDT_AFTER || o == CRDT_EQUAL);
    crdt__pervec *all[] = {&a, &b, &c, &ab, &ba, &aa, &ab_c, &bc, &a_bc};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
      crdt__pervec_free(all[i], &m);
  }
}

static void test_pervec_event_tie_breaks_by_payload(void **state) {
  (void)state;
  crdt_allocator m = mem();
  crdt__pervec a = {0}, b = {0};
  put(&a, &m, "A", 2, 5, 9);
  put(&b, &m, "A", 2, 7, 0);
  crdt__pervec ab = {0}, ba = {0};
  join_into_copy(&ab, &m, &a, &b);
  join_into_copy(&ba, &m, &b, &a);
  assert_entry(&ab, "A", 2, 7, 0);
  assert_entry(&ba, "A", 2, 7, 0);
  /* same events: the event vectors compare equal, the states do not */
  assert_int_equal(crdt__pervec_compare(&a, &b), CRDT_EQUAL);
  assert_false(crdt__pervec_equal(&a, &b));
  crdt__pervec *all[] = {&a, &b, &ab, &ba};
  for (size_t i = 0; i < 4; i++) crdt__pervec_free(all[i], &m);
}

/* ---- the join of a single-replica source ---------------------------------------- */

/* What a vector should hold: ids in interning order, with their entries
 * (zero for a replica interned without events). */
typedef struct model {
  char ids[160][72];
  crdt__pvent e[160];
  unsigned n;
} model;

static crdt__pvent *model_at(model *md, const char *id) {
  for (unsigned i = 0; i < md->n; i++)
    if (strcmp(md->ids[i], id) == 0) return &md->e[i];
  assert_true(md->n < 160);
  snprintf(md->ids[md->n], sizeof md->ids[0], "%s", id);
  md->e[md->n] = (crdt__pvent){0, {0, 0}};
  return &md->e[md->n++];
}

static bool pvent_above(const crdt__pvent *a, const crdt__pvent *b) {
  if (a->events != b->events) return a->events > b->events;
  if (a->payload[0] != b->payload[0]) return a->payload[0] > b->payload[0];
  return a->payload[1] > b->payload[1];
}

/* Every replica of the model, at the same index, with the same entry; the
 * totals are the sums; entries past the table are zero. */
static void assert_matches(const crdt__pervec *v, const model *md) {
  assert_int_equal(v->replicas.count, md->n);
  assert_true(v->len >= v->replicas.count);
  crdt__wide sum[2] = {{0, 0}, {0, 0}};
  for (unsigned i = 0; i < md->n; i++) {
    size_t len;
    const char *id = crdt__replicas_id(&v->replicas, i, &len);
    assert_int_equal(len, strlen(md->ids[i]));
    assert_memory_equal(id, md->ids[i], len + 1);
    assert_int_equal(crdt__replicas_find(&v->replicas, md->ids[i], len), i);
    assert_int_equal(v->entries[i].events, md->e[i].events);
    assert_int_equal(v->entries[i].payload[0], md->e[i].payload[0]);
    assert_int_equal(v->entries[i].payload[1], md->e[i].payload[1]);
    for (unsigned k = 0; k < 2; k++)
      sum[k] = crdt__wide_add(sum[k], md->e[i].payload[k]);
  }
  for (uint32_t i = v->replicas.count; i < v->len; i++)
    assert_true(crdt__pvent_is_zero(&v->entries[i]));
  for (unsigned k = 0; k < 2; k++)
    assert_int_equal(crdt__wide_cmp(v->total[k], sum[k]), 0);
}

/* Ids of every length from 1 to 64 bytes (records of every size), some
 * sharing long prefixes (the word compares of a lookup). */
static void random_id(tu_rng *rng, char *out, size_t cap) {
  unsigned pick = tu_below(rng, 120);
  if (pick < 64) {
    unsigned len = 1 + pick;
    for (unsigned k = 0; k < len; k++) out[k] = (char)('a' + (pick + k) % 26);
    out[len] = '\0';
  } else {
    snprintf(out, cap, "replica-with-a-long-shared-prefix-%u", pick);
  }
}

/* The join of a one-replica source (its own path) against a model of the
 * join, and against the general path: the same source plus a replica dst
 * knows already with a zero entry (which changes nothing) goes through the
 * map. The destination grows through every fill level of its tables. */
static void test_pervec_join_single_agrees_with_model_and_general_path(
    void **state) {
  (void)state;
  crdt_allocator m = mem();
  tu_rng rng = {0x51a9e7u};
  for (int round = 0; round < 12; round++) {
    crdt__pervec dst = {0}, general = {0};
    model *md = calloc(1, sizeof *md);
    assert_non_null(md);
    for (int step = 0; step < 200; step++) {
      char id[72];
      random_id(&rng, id, sizeof id);
      /* small ranges: ties on events with different payloads occur */
      crdt__pvent e = {tu_below(&rng, 4),
                       {tu_below(&rng, 4), tu_below(&rng, 2)}};
      crdt__pervec src = {0}, src2 = {0};
      uint32_t i;
      assert_int_equal(crdt__pervec_slot(&src, &m, id, strlen(id), &i), 0);
      crdt__pervec_set(&src, i, e);
      assert_int_equal(crdt__pervec_copy(&src2, &m, &src), 0);
      if (md->n) { /* a replica dst knows, with a zero entry */
        const char *known = md->ids[tu_below(&rng, md->n)];
        assert_int_equal(
            crdt__pervec_slot(&src2, &m, known, strlen(known), &i), 0);
      }
      assert_int_equal(crdt__pervec_join(&dst, &m, &src), 0);
      assert_int_equal(crdt__pervec_join(&general, &m, &src2), 0);
      crdt__pvent *want = model_at(md, id);
      if (pvent_above(&e, want)) *want = e;
      assert_matches(&dst, md);
      assert_matches(&general, md);
      /* joining again changes nothing */
      assert_int_equal(crdt__pervec_join(&dst, &m, &src), 0);
      assert_matches(&dst, md);
      crdt__pervec_free(&src, &m);
      crdt__pervec_free(&src2, &m);
    }
    crdt__pervec_free(&dst, &m);
    crdt__pervec_free(&general, &m);
    free(md);
  }
}

/* ---- equal and compare ------------------------------------------------------------- */

static void test_pervec_equal_matches_ids_and_ignores_zero_entries(
    void **state) {
  (void)state;
  crdt_allocator m = mem();
  crdt__pervec a = {0}, b = {0};
  uint32_t i;
  put(&a, &m, "A", 1, 4, 0);
  put(&a, &m, "B", 2, 6, 1);
  /* b interns in another order and knows a replica that never updated */
  assert_int_equal(crdt__pervec_slot(&b, &m, "Z", 1, &i), 0);
  put(&b, &m, "B", 2, 6, 1);
  put(&b, &m, "A", 1, 4, 0);
  assert_true(crdt__pervec_equal(&a, &b));
  assert_true(crdt__pervec_equal(&b, &a));
  assert_int_equal(crdt__pervec_compare(&a, &b), CRDT_EQUAL);
  put(&b, &m, "Z", 1, 1, 0);
  assert_false(crdt__pervec_equal(&a, &b));
  assert_false(crdt__pervec_equal(&b, &a));
  /* same events and same totals, payloads at other replicas */
  crdt__pervec c = {0}, d = {0};
  put(&c, &m, "A", 1, 5, 0);
  put(&c, &m, "B", 1, 3, 0);
  put(&d, &m, "A", 1, 3, 0);
  put(&d, &m, "B", 1, 5, 0);
  assert_int_equal(crdt__pervec_compare(&c, &d), CRDT_EQUAL);
  assert_false(crdt__pervec_equal(&c, &d));
  crdt__pervec_free(&a, &m);
  crdt__pervec_free(&b, &m);
  crdt__pervec_free(&c, &m);
  crdt__pervec_free(&d, &m);
}

static void test_pervec_compare_cases(void **state) {
  (void)state;
  crdt_allocator m = mem();
  crdt__pervec empty = {0}, a = {0}, b = {0}, c = {0}, d = {0};
  uint32_t i;
  assert_int_equal(crdt__pervec_compare(&empty, &empty), CRDT_EQUAL);
  /* a replica known with no events counts as absent */
  assert_int_equal(crdt__pervec_slot(&a, &m, "A", 1, &i), 0);
  assert_int_equal(crdt__pervec_compare(&a, &empty), CRDT_EQUAL);
  put(&a, &m, "A", 2, 2, 0);
  assert_int_equal(crdt__pervec_compare(&a, &empty), CRDT_AFTER);
  assert_int_equal(crdt__pervec_compare(&empty, &a), CRDT_BEFORE);
  /* b = a plus one event of B: a is before b */
  put(&b, &m, "A", 2, 2, 0);
  put(&b, &m, "B", 1, 1, 0);
  assert_int_equal(crdt__pervec_compare(&a, &b), CRDT_BEFORE);
  assert_int_equal(crdt__pervec_compare(&b, &a), CRDT_AFTER);
  /* c: more of A, none of B: concurrent with b */
  put(&c, &m, "A", 3, 3, 0);
  assert_int_equal(crdt__pervec_compare(&b, &c), CRDT_CONCURRENT);
  assert_int_equal(crdt__pervec_compare(&c, &b), CRDT_CONCURRENT);
  assert_int_equal(crdt__pervec_compare(&c, &a), CRDT_AFTER);
  /* disjoint replicas */
  put(&d, &m, "D", 1, 1, 0);
  assert_int_equal(crdt__pervec_compare(&a, &d), CRDT_CONCURRENT);
  crdt__pervec *all[] = {&empty, &a, &b, &c, &d};
  for (size_t k = 0; k < 5; k++) crdt__pervec_free(all[k], &m);
}

/* ---- updates ------------------------------------------------------------------------- */

static void test_pervec_bump_ticks_and_refuses_overflow(void **state) {
  (void)state;
  crdt_allocator m = mem();
  crdt__pervec v = {0};
  uint32_t a, b;
  assert_int_equal(crdt__pervec_slot(&v, &m, "A", 1, &a), 0);
  crdt__pvent e = {7, {7, 7}};
  assert_int_equal(crdt__pervec_bump(&v, a, 1, 5, &e), 0);
  assert_int_equal(e.events, 1);
  assert_int_equal(e.payload[0], 0);
  assert_int_equal(e.payload[1], 5);
  assert_int_equal(v.entries[a].events, 0); /* bump changes nothing */
  crdt__pervec_set(&v, a, e);
  assert_int_equal(v.total[1].lo, 5);

  crdt__pvent top = {5, {UINT64_MAX - 1, 0}};
  crdt__pervec_set(&v, a, top);
  crdt__pvent untouched = {1, {2, 3}};
  e = untouched;
  assert_int_equal(crdt__pervec_bump(&v, a, 0, 2, &e), CRDT_ERANGE);
  assert_memory_equal(&e, &untouched, sizeof e);
  assert_int_equal(crdt__pervec_bump(&v, a, 0, 1, &e), 0);
  assert_int_equal(e.payload[0], UINT64_MAX);
  assert_int_equal(crdt__pervec_bump(&v, a, 1, UINT64_MAX, &e), 0);

  /* the event counter is exhausted */
  assert_int_equal(crdt__pervec_slot(&v, &m, "B", 1, &b), 0);
  crdt__pvent last = {UINT64_MAX, {1, 0}};
  crdt__pervec_set(&v, b, last);
  assert_int_equal(crdt__pervec_bump(&v, b, 0, 1, &e), CRDT_ERANGE);
  crdt__pervec_free(&v, &m);
}

static void test_pervec_totals_are_exact_past_64_bits(void **state) {
  (void)state;
  crdt_allocator m = mem();
  crdt__pervec v = {0};
  put(&v, &m, "A", 1, UINT64_MAX, 0);
  put(&v, &m, "B", 1, UINT64_MAX, 0);
  put(&v, &m, "C", 1, 2, 0);
  assert_int_equal(v.total[0].hi, 2);
  assert_int_equal(v.total[0].lo, 0);
  /* replacing an entry subtracts the old payload across the carry */
  put(&v, &m, "A", 2, UINT64_MAX - 0, 0);
  put(&v, &m, "C", 2, 1, 0);
  assert_int_equal(v.total[0].hi, 1);
  assert_int_equal(v.total[0].lo, UINT64_MAX);
  crdt__pervec_free(&v, &m);
}

static char *diff_text(crdt__wide a, crdt__wide b) {
  static char buf[64];
  crdt__text t = {buf, sizeof buf, 0};
  crdt__wide_text_diff(&t, a, b);
  assert_int_equal(crdt__text_finish(&t, NULL), 0);
  return buf;
}

static void test_pervec_wide_text_diff_is_exact(void **state) {
  (void)state;
  crdt__wide zero = {0, 0}, one = {0, 1}, two64 = {1, 0};
  crdt__wide max = {UINT64_MAX, UINT64_MAX};
  crdt__wide twice = {1, UINT64_MAX - 1}; /* 2 * UINT64_MAX */
  assert_string_equal(diff_text(zero, zero), "0");
  assert_string_equal(diff_text(one, zero), "1");
  assert_string_equal(diff_text(zero, one), "-1");
  assert_string_equal(diff_text(two64, zero), "18446744073709551616");
  assert_string_equal(diff_text(two64, one), "18446744073709551615");
  assert_string_equal(diff_text(one, two64), "-18446744073709551615");
  assert_string_equal(diff_text(twice, zero), "36893488147419103230");
  assert_string_equal(diff_text(zero, max),
                      "-340282366920938463463374607431768211455");
  crdt__wide ten20 = {5, 7766279631452241920u}; /* 10^20 */
  assert_string_equal(diff_text(ten20, zero), "100000000000000000000");
  assert_string_equal(diff_text(ten20, one), "99999999999999999999");
}

/* ---- canonical order ----------------------------------------------------------------------- */

static int stop_at_second(const char *id, const crdt__pvent *e, void *user) {
  (void)id;
  (void)e;
  return ++*(int *)user == 2 ? 42 : 0;
}

static void test_pervec_foreach_and_format_are_canonical(void **state) {
  (void)state;
  crdt_allocator m = mem();
  crdt__pervec a = {0}, b = {0};
  uint32_t i;
  put(&a, &m, "b", 1, 1, 0);
  put(&a, &m, "ab", 2, 2, 0);
  put(&a, &m, "a", 3, 3, 0);
  assert_int_equal(crdt__pervec_slot(&a, &m, "zero", 4, &i), 0);
  put(&b, &m, "a", 3, 3, 0);
  put(&b, &m, "b", 1, 1, 0);
  put(&b, &m, "ab", 2, 2, 0);
  char *fa = format_of(&a), *fb = format_of(&b);
  assert_string_equal(fa, "{a:3, ab:2, b:1}");
  assert_string_equal(fa, fb);
  free(fa);
  free(fb);
  assert_text(&a, "a:3/3/0 ab:2/2/0 b:1/1/0 total 0.6/0.0 replicas 4 {a:3, ab:2, b:1}");
  int visits = 0;
  assert_int_equal(crdt__pervec_foreach(&a, &m, stop_at_second, &visits), 42);
  assert_int_equal(visits, 2);
  crdt__pervec empty = {0};
  char *fe = format_of(&empty);
  assert_string_equal(fe, "{}");
  free(fe);
  crdt__pervec_free(&a, &m);
  crdt__pervec_free(&b, &m);
}

/* ---- atomicity under allocation failure ------------------------------------------------------------- */

typedef struct join_fx {
  crdt_allocator m;
  crdt__pervec dst, src;
} join_fx;

static void *join_setup(void) {
  join_fx *fx = calloc(1, sizeof *fx);
  assert_non_null(fx);
  fx->m = mem();
  put(&fx->dst, &fx->m, "A", 2, 2, 0);
  put(&fx->dst, &fx->m, "B", 1, 5, 1);
  put(&fx->dst, &fx->m, "C", 1, 1, 0);
  /* src brings newer entries and enough new replicas to grow every table */
  char id[8];
  for (int k = 0; k < 12; k++) {
    snprintf(id, sizeof id, "N%d", k);
    put(&fx->src, &fx->m, id, 1, (uint64_t)k + 1, 0);
  }
  put(&fx->src, &fx->m, "B", 3, 9, 2);
  return fx;
}

static char *join_snapshot(void *p) { return text_of(&((join_fx *)p)->dst); }

static void join_teardown(void *p) {
  join_fx *fx = p;
  crdt__pervec_free(&fx->dst, &fx->m);
  crdt__pervec_free(&fx->src, &fx->m);
  free(fx);
}

static int join_run(void *p) {
  join_fx *fx = p;
  return crdt__pervec_join(&fx->dst, &fx->m, &fx->src);
}

static int join_one_run(void *p) {
  join_fx *fx = p;
  crdt__pvent e = {1, {1, 0}};
  return crdt__pervec_join_one(&fx->dst, &fx->m, "NEW", 3, &e);
}

static char *copy_snapshot(void *p) { return text_of(&((join_fx *)p)->src); }

static int copy_run(void *p) {
  join_fx *fx = p;
  /* the copy lands in dst, which teardown frees: empty it first */
  crdt__pervec_free(&fx->dst, &fx->m);
  return crdt__pervec_copy(&fx->dst, &fx->m, &fx->src);
}

static void test_pervec_join_is_atomic_under_oom(void **state) {
  (void)state;
  tu_oom_case c = {"pervec join", join_setup, join_run, join_snapshot,
                   join_teardown};
  assert_true(tu_check_oom(&c) >= 3);
}

static void test_pervec_join_one_is_atomic_under_oom(void **state) {
  (void)state;
  tu_oom_case c = {"pervec join_one", join_setup, join_one_run, join_snapshot,
                   join_teardown};
  /* The replica id fits the destination's table and id chunk, the vector
   * has room: nothing to allocate. */
  assert_int_equal(tu_check_oom(&c), 0);
}

/* Replicas the destination of join_single_run holds before the join. */
static unsigned fill;

static void *join_single_setup(void) {
  join_fx *fx = calloc(1, sizeof *fx);
  assert_non_null(fx);
  fx->m = mem();
  char id[16];
  for (unsigned k = 0; k < fill; k++) {
    snprintf(id, sizeof id, "D%u", k);
    put(&fx->dst, &fx->m, id, 1, k, 0);
  }
  put(&fx->src, &fx->m, "a-new-replica", 2, 7, 1);
  return fx;
}

/* Every replica, entry and total, in index order (any size of vector). */
static char *join_single_snapshot(void *p) {
  const crdt__pervec *v = &((join_fx *)p)->dst;
  dump d = {NULL, 0};
  char line[160];
  snprintf(line, sizeof line, "replicas %u total %llx/%llx: ",
           (unsigned)v->replicas.count, (unsigned long long)v->total[0].lo,
           (unsigned long long)v->total[1].lo);
  dump_put(&d, line);
  assert_true(v->len >= v->replicas.count);
  for (uint32_t i = 0; i < v->replicas.count; i++) {
    snprintf(line, sizeof line, "%s=%llu/%llu/%llu ",
             crdt__replicas_id(&v->replicas, i, NULL),
             (unsigned long long)v->entries[i].events,
             (unsigned long long)v->entries[i].payload[0],
             (unsigned long long)v->entries[i].payload[1]);
    dump_put(&d, line);
  }
  return d.s;
}

static void test_pervec_join_single_is_atomic_under_oom(void **state) {
  (void)state;
  /* At every fill level up to 70 replicas the join meets each table of dst
   * full in turn: entries, index array, slots, id chunk. */
  unsigned points = 0;
  for (fill = 0; fill <= 70; fill++) {
    tu_oom_case c = {"pervec join of a new single replica", join_single_setup,
                     join_run, join_single_snapshot, join_teardown};
    points += tu_check_oom(&c);
    join_fx *fx = join_single_setup();
    assert_int_equal(join_run(fx), 0);
    assert_int_equal(fx->dst.replicas.count, fill + 1);
    assert_entry(&fx->dst, "a-new-replica", 2, 7, 1);
    assert_int_equal(fx->dst.total[0].lo, (uint64_t)fill * (fill - 1) / 2 + 7);
    join_teardown(fx);
  }
  print_message("join of a new single replica: %u allocation points failed\n",
                points);
  assert_true(points >= 4);
}

static void test_pervec_copy_is_deep_and_cleans_up_under_oom(void **state) {
  (void)state;
  tu_oom_case c = {"pervec copy", join_setup, copy_run, copy_snapshot,
                   join_teardown};
  assert_true(tu_check_oom(&c) >= 2);
  join_fx *fx = join_setup();
  assert_int_equal(copy_run(fx), 0);
  assert_same(&fx->dst, &fx->src);
  put(&fx->dst, &fx->m, "B", 9, 9, 9); /* the copy is independent */
  assert_entry(&fx->src, "B", 3, 9, 2);
  join_teardown(fx);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pervec_join_keeps_higher_event_entry),
      cmocka_unit_test(test_pervec_join_one_keeps_higher_event_entry),
      cmocka_unit_test(test_pervec_join_with_itself_changes_nothing),
      cmocka_unit_test(test_pervec_join_is_commutative_associative_idempotent),
      cmocka_unit_test(test_pervec_event_tie_breaks_by_payload),
      cmocka_unit_test(
          test_pervec_join_single_agrees_with_model_and_general_path),
      cmocka_unit_test(test_pervec_equal_matches_ids_and_ignores_zero_entries),
      cmocka_unit_test(test_pervec_compare_cases),
      cmocka_unit_test(test_pervec_bump_ticks_and_refuses_overflow),
      cmocka_unit_test(test_pervec_totals_are_exact_past_64_bits),
      cmocka_unit_test(test_pervec_wide_text_diff_is_exact),
      cmocka_unit_test(test_pervec_foreach_and_format_are_canonical),
      cmocka_unit_test(test_pervec_join_is_atomic_under_oom),
      cmocka_unit_test(test_pervec_join_one_is_atomic_under_oom),
      cmocka_unit_test(test_pervec_join_single_is_atomic_under_oom),
      cmocka_unit_test(test_pervec_copy_is_deep_and_cleans_up_under_oom),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

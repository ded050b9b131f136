/*
 * Causal contexts: the dot cloud and its compaction, duplicates, next(),
 * set comparison across prefix and cloud, joins, formatting, and a
 * randomized check against a plain set of dots.
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
#include "vector.h"

/* ---- helpers ------------------------------------------------------------- */

static crdt_context *ctx_new(void) {
  crdt_context *c = NULL;
  assert_int_equal(crdt_context_new(&c), 0);
  assert_non_null(c);
  return c;
}

static void add(crdt_context *c, const char *replica, uint64_t counter) {
  assert_int_equal(crdt_context_add(c, replica, counter), 0);
}

/* A context holding the listed dots: ctx_of("A", 1, "A", 3, NULL). */
static crdt_context *ctx_of(const char *replica, ...) {
  crdt_context *c = ctx_new();
  va_list ap;
  va_start(ap, replica);
  for (const char *r = replica; r; r = va_arg(ap, const char *))
    add(c, r, (uint64_t)va_arg(ap, int));
  va_end(ap);
  return c;
}

static void join(crdt_context *dst, const crdt_context *src) {
  assert_int_equal(crdt_context_join(dst, src), 0);
}

typedef int (*formatter)(const crdt_context *, char *, size_t, size_t *);

/* The context formatted by `fmt` with the buffer contract: ask for the
 * size, then format. */
static char *formatted(const crdt_context *c, formatter fmt) {
  size_t need = 0;
  assert_int_equal(fmt(c, NULL, 0, &need), CRDT_ENOSPC);
  char *s = malloc(need + 1);
  assert_non_null(s);
  assert_int_equal(fmt(c, s, need + 1, NULL), 0);
  assert_int_equal(strlen(s), need);
  return s;
}

static void assert_formatted(const crdt_context *c, formatter fmt,
                             const char *expected) {
  char *s = formatted(c, fmt);
  assert_string_equal(s, expected);
  free(s);
}

/* The buffer contract for every buffer shorter than `full`: what fits,
 * NUL-terminated, nothing written past it, and the full size reported. */
static void assert_truncates(const crdt_context *c, formatter fmt,
                             const char *full) {
  size_t len = strlen(full);
  char buf[128];
  assert_true(len < sizeof buf);
  for (size_t cap = 1; cap <= len; cap++) {
    memset(buf, '#', sizeof buf);
    size_t need = 0;
    assert_int_equal(fmt(c, buf, cap, &need), CRDT_ENOSPC);
    assert_int_equal(need, len);
    assert_int_equal(strlen(buf), cap - 1);
    assert_memory_equal(buf, full, cap - 1);
    assert_int_equal(buf[cap], '#');
  }
}

static void assert_text(const crdt_context *c, const char *expected) {
  assert_formatted(c, crdt_context_format, expected);
}

static void assert_json(const crdt_context *c, const char *expected) {
  assert_formatted(c, crdt_context_format_json, expected);
}

static uint64_t next_of(const crdt_context *c, const char *replica) {
  uint64_t n = 0;
  assert_int_equal(crdt_context_next(c, replica, &n), 0);
  return n;
}

static void assert_order(const crdt_context *a, const crdt_context *b,
                         crdt_order expected) {
  static const crdt_order mirror[] = {CRDT_EQUAL, CRDT_AFTER, CRDT_BEFORE,
                                      CRDT_CONCURRENT};
  assert_int_equal(crdt_context_compare(a, b), expected);
  assert_int_equal(crdt_context_compare(b, a), mirror[expected]);
  assert_int_equal(crdt_context_equal(a, b), expected == CRDT_EQUAL);
}

/* ---- cloud and compaction ------------------------------------------------ */

static void test_context_out_of_order_dots_wait_in_cloud(void **state) {
  (void)state;
  crdt_context *c = ctx_new();
  add(c, "A", 3);
  assert_int_equal(crdt_context_prefix(c, "A"), 0);
  assert_int_equal(crdt_context_cloud_size(c), 1);
  assert_true(crdt_context_has(c, "A", 3));
  assert_false(crdt_context_has(c, "A", 1));
  assert_false(crdt_context_has(c, "A", 2));
  add(c, "A", 2);
  assert_int_equal(crdt_context_prefix(c, "A"), 0);
  assert_int_equal(crdt_context_cloud_size(c), 2);
  assert_text(c, "{} + {A:2, A:3}");
  add(c, "A", 5);
  assert_int_equal(crdt_context_cloud_size(c), 3);
  /* The gap at 1 fills: 1, 2, 3 become the prefix; 5 still waits for 4. */
  add(c, "A", 1);
  assert_int_equal(crdt_context_prefix(c, "A"), 3);
  assert_int_equal(crdt_context_cloud_size(c), 1);
  assert_text(c, "{A:3} + {A:5}");
  add(c, "A", 4);
  assert_int_equal(crdt_context_prefix(c, "A"), 5);
  assert_int_equal(crdt_context_cloud_size(c), 0);
  assert_text(c, "{A:5}");
  for (uint64_t k = 1; k <= 5; k++) assert_true(crdt_context_has(c, "A", k));
  assert_false(crdt_context_has(c, "A", 6));
  crdt_context_free(c);
}

static void test_context_compaction_is_per_replica(void **state) {
  (void)state;
  crdt_context *c = ctx_of("A", 2, "B", 2, "B", 3, NULL);
  assert_int_equal(crdt_context_cloud_size(c), 3);
  add(c, "B", 1); /* fills B's gap only */
  assert_int_equal(crdt_context_prefix(c, "B"), 3);
  assert_int_equal(crdt_context_prefix(c, "A"), 0);
  assert_int_equal(crdt_context_cloud_size(c), 1);
  assert_text(c, "{B:3} + {A:2}");
  crdt_context_free(c);
}

static void test_context_duplicates_are_idempotent(void **state) {
  (void)state;
  crdt_context *c = ctx_of("A", 1, "A", 4, NULL);
  char *before = formatted(c, crdt_context_format);
  add(c, "A", 1); /* in the prefix */
  add(c, "A", 4); /* in the cloud */
  assert_int_equal(crdt_context_cloud_size(c), 1);
  assert_int_equal(crdt_context_prefix(c, "A"), 1);
  char *after = formatted(c, crdt_context_format);
  assert_string_equal(before, after);
  assert_string_equal(after, "{A:1} + {A:4}");
  crdt_context *d = ctx_of("A", 4, "A", 1, "A", 4, "A", 1, NULL);
  assert_order(c, d, CRDT_EQUAL);
  free(before);
  free(after);
  crdt_context_free(c);
  crdt_context_free(d);
}

static void test_context_next_follows_highest_dot(void **state) {
  (void)state;
  crdt_context *c = ctx_of("A", 1, "A", 7, NULL);
  assert_int_equal(crdt_context_prefix(c, "A"), 1);
  assert_int_equal(next_of(c, "A"), 8); /* 7 is in the cloud */
  assert_int_equal(next_of(c, "B"), 1); /* unknown replica */
  add(c, "B", 2);
  assert_int_equal(next_of(c, "B"), 3);
  /* next() does not add. */
  assert_false(crdt_context_has(c, "A", 8));
  assert_int_equal(next_of(c, "A"), 8);
  /* After a join, the highest of both sides counts, prefix or cloud. */
  crdt_context *d = ctx_of("A", 12, "C", 1, NULL);
  join(c, d);
  assert_int_equal(next_of(c, "A"), 13);
  assert_int_equal(next_of(c, "C"), 2);
  uint64_t n = 0;
  assert_int_equal(crdt_context_next(c, "", &n), CRDT_EINVAL);
  assert_int_equal(crdt_context_next(c, NULL, &n), CRDT_EINVAL);
  assert_int_equal(crdt_context_next(c, "A", NULL), CRDT_EINVAL);
  assert_int_equal(crdt_context_next(NULL, "A", &n), CRDT_EINVAL);
  /* The counter space ends at UINT64_MAX. */
  add(d, "Z", UINT64_MAX);
  assert_int_equal(crdt_context_next(d, "Z", &n), CRDT_ERANGE);
  crdt_context_free(c);
  crdt_context_free(d);
}

/* ---- comparison as sets -------------------------------------------------- */

static void test_context_compare_as_sets(void **state) {
  (void)state;
  crdt_context *empty1 = ctx_new(), *empty2 = ctx_new();
  assert_order(empty1, empty2, CRDT_EQUAL);

  /* Same dots added in different orders (and a different replica table). */
  crdt_context *a = ctx_of("A", 1, "A", 3, "B", 2, NULL);
  crdt_context *b = ctx_of("B", 2, "A", 3, "A", 1, NULL);
  assert_order(a, b, CRDT_EQUAL);
  assert_order(empty1, a, CRDT_BEFORE);

  /* a holds A3 in its cloud; c holds it in its prefix and has A2 too. */
  crdt_context *c = ctx_of("A", 1, "A", 2, "A", 3, "B", 2, NULL);
  assert_int_equal(crdt_context_prefix(c, "A"), 3);
  assert_order(a, c, CRDT_BEFORE);

  /* A dot in the cloud on one side, in the prefix on the other, each side
   * with something the other lacks. */
  crdt_context *d = ctx_of("A", 1, "A", 2, NULL); /* {A:2} */
  crdt_context *e = ctx_of("A", 2, "A", 5, NULL); /* {} + {A:2, A:5} */
  assert_order(d, e, CRDT_CONCURRENT);
  crdt_context *f = ctx_of("A", 2, NULL); /* {} + {A:2} */
  assert_order(f, d, CRDT_BEFORE);
  assert_order(f, e, CRDT_BEFORE);

  /* Prefix beyond the other's prefix, but the other's cloud is elsewhere. */
  crdt_context *g = ctx_of("A", 1, "A", 2, "A", 3, NULL); /* {A:3} */
  crdt_context *h = ctx_of("A", 1, "A", 3, NULL);         /* {A:1} + {A:3} */
  assert_order(g, h, CRDT_AFTER);
  crdt_context *i = ctx_of("A", 1, "A", 3, "A", 5, NULL);
  assert_order(g, i, CRDT_CONCURRENT);

  /* A replica unknown to one side. */
  crdt_context *onlyA = ctx_of("A", 1, NULL), *onlyB = ctx_of("B", 1, NULL);
  assert_order(onlyA, onlyB, CRDT_CONCURRENT);
  crdt_context *ab = ctx_of("B", 1, "A", 1, NULL);
  assert_order(onlyA, ab, CRDT_BEFORE);

  crdt_context *all[] = {empty1, empty2, a, b, c, d, e,
                         f, g, h, i, onlyA, onlyB, ab};
  for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
    crdt_context_free(all[k]);
}

/* ---- joins --------------------------------------------------------------- */

static void test_context_join_clouds_compact(void **state) {
  (void)state;
  crdt_context *a = ctx_of("A", 1, "A", 3, "A", 5, "B", 2, NULL);
  crdt_context *b = ctx_of("A", 2, "A", 4, "B", 1, NULL);
  assert_text(a, "{A:1} + {A:3, A:5, B:2}");
  assert_text(b, "{B:1} + {A:2, A:4}");
  assert_order(a, b, CRDT_CONCURRENT);
  crdt_context *ab = NULL, *ba = NULL;
  assert_int_equal(crdt_context_copy(a, &ab), 0);
  assert_int_equal(crdt_context_copy(b, &ba), 0);
  join(ab, b);
  join(ba, a);
  /* Together they hold A1..A5 and B1..B2: all contiguous. */
  assert_text(ab, "{A:5, B:2}");
  assert_int_equal(crdt_context_cloud_size(ab), 0);
  assert_int_equal(crdt_context_prefix(ab, "A"), 5);
  assert_int_equal(crdt_context_prefix(ab, "B"), 2);
  assert_order(ab, ba, CRDT_EQUAL);
  assert_text(ba, "{A:5, B:2}");
  assert_order(a, ab, CRDT_BEFORE);
  assert_order(b, ab, CRDT_BEFORE);
  /* The sources are unchanged. */
  assert_text(a, "{A:1} + {A:3, A:5, B:2}");
  assert_text(b, "{B:1} + {A:2, A:4}");
  crdt_context_free(a);
  crdt_context_free(b);
  crdt_context_free(ab);
  crdt_context_free(ba);
}

static void test_context_join_prefix_covers_cloud(void **state) {
  (void)state;
  /* src's prefix covers part of dst's cloud and joins what remains. */
  crdt_context *dst = ctx_of("A", 1, "A", 3, "A", 5, "A", 9, NULL);
  crdt_context *src = ctx_of("A", 1, "A", 2, "A", 3, "A", 4, NULL);
  assert_text(src, "{A:4}");
  join(dst, src);
  /* A1..A4 from src, A5 compacted from the cloud, A9 still apart. */
  assert_text(dst, "{A:5} + {A:9}");
  assert_int_equal(crdt_context_cloud_size(dst), 1);
  assert_int_equal(crdt_context_prefix(dst, "A"), 5);
  assert_int_equal(next_of(dst, "A"), 10);

  /* A prefix that covers the whole cloud. */
  crdt_context *big = ctx_new();
  for (uint64_t k = 1; k <= 12; k++) add(big, "A", k);
  join(dst, big);
  assert_text(dst, "{A:12}");
  assert_int_equal(crdt_context_cloud_size(dst), 0);

  /* The other way round: a cloud whose dots the dst prefix already has. */
  crdt_context *old = ctx_of("A", 3, "A", 7, "B", 4, NULL);
  join(dst, old);
  assert_text(dst, "{A:12} + {B:4}");
  assert_int_equal(crdt_context_cloud_size(dst), 1);

  /* Joining itself changes nothing. */
  join(dst, dst);
  assert_text(dst, "{A:12} + {B:4}");
  crdt_context_free(dst);
  crdt_context_free(src);
  crdt_context_free(big);
  crdt_context_free(old);
}

/* ---- format, copy, arguments --------------------------------------------- */

static void test_context_format_with_cloud(void **state) {
  (void)state;
  crdt_context *c = ctx_of("B", 5, "A", 3, "A", 1, NULL);
  const char *full = "{A:1} + {A:3, B:5}";
  assert_text(c, full);
  assert_truncates(c, crdt_context_format, full);
  crdt_context *e = ctx_new();
  assert_text(e, "{}");
  /* Cloud dots sort by replica id bytes, then counter. */
  crdt_context *m = ctx_of("b", 9, "B", 9, "a", 3, "b", 4, NULL);
  assert_text(m, "{} + {B:9, a:3, b:4, b:9}");
  assert_int_equal(crdt_context_format(c, NULL, 4, NULL), CRDT_EINVAL);
  crdt_context_free(c);
  crdt_context_free(e);
  crdt_context_free(m);
}

/* The JSON form: the vector always, the cloud only when there is one, both
 * in the canonical order of crdt_context_format; ids escaped as values are. */
static void test_context_format_json(void **state) {
  (void)state;
  crdt_context *e = ctx_new();
  assert_json(e, "{\"vv\": {}}");
  crdt_context *c = ctx_of("B", 5, "A", 3, "A", 1, "B", 1, "B", 2, NULL);
  const char *full = "{\"vv\": {\"A\": 1, \"B\": 2}, "
                     "\"cloud\": [[\"A\", 3], [\"B\", 5]]}";
  assert_json(c, full);
  assert_truncates(c, crdt_context_format_json, full);
  /* A quote, a backslash and a byte that is not UTF-8 stay valid JSON;
   * the largest counter prints in full. */
  crdt_context *odd = ctx_of("q\"\\", 1, NULL);
  assert_int_equal(crdt_context_add(odd, "\xff", UINT64_MAX), 0);
  assert_json(odd, "{\"vv\": {\"q\\\"\\\\\": 1}, "
                   "\"cloud\": [[\"\\u00ff\", 18446744073709551615]]}");
  assert_int_equal(crdt_context_format_json(NULL, NULL, 0, NULL), CRDT_EINVAL);
  assert_int_equal(crdt_context_format_json(c, NULL, 4, NULL), CRDT_EINVAL);
  crdt_context_free(e);
  crdt_context_free(c);
  crdt_context_free(odd);
}

static void test_context_copy_is_independent(void **state) {
  (void)state;
  crdt_context *a = ctx_of("A", 1, "A", 3, NULL), *b = NULL;
  assert_int_equal(crdt_context_copy(a, &b), 0);
  assert_order(a, b, CRDT_EQUAL);
  add(a, "A", 2);
  add(b, "B", 1);
  assert_text(a, "{A:3}");
  assert_text(b, "{A:1, B:1} + {A:3}");
  assert_order(a, b, CRDT_CONCURRENT);
  crdt_context_free(a);
  crdt_context_free(b);
}

static void test_context_invalid_arguments_change_nothing(void **state) {
  (void)state;
  char long_id[66];
  memset(long_id, 'x', 65);
  long_id[65] = '\0';
  crdt_context *c = ctx_of("A", 1, "A", 3, NULL);
  char *before = formatted(c, crdt_context_format);
  assert_int_equal(crdt_context_add(c, "A", 0), CRDT_EINVAL);
  assert_int_equal(crdt_context_add(c, "B", 0), CRDT_EINVAL);
  assert_int_equal(crdt_context_add(c, NULL, 2), CRDT_EINVAL);
  assert_int_equal(crdt_context_add(c, "", 2), CRDT_EINVAL);
  assert_int_equal(crdt_context_add(c, long_id, 2), CRDT_EINVAL);
  assert_int_equal(crdt_context_add(NULL, "A", 2), CRDT_EINVAL);
  char *after = formatted(c, crdt_context_format);
  assert_string_equal(before, after);
  assert_false(crdt_context_has(c, "A", 0));
  assert_false(crdt_context_has(c, NULL, 1));
  assert_false(crdt_context_has(NULL, "A", 1));
  assert_int_equal(crdt_context_prefix(c, long_id), 0);
  assert_int_equal(crdt_context_cloud_size(NULL), 0);
  assert_int_equal(crdt_context_join(c, NULL), CRDT_EINVAL);
  assert_int_equal(crdt_context_join(NULL, c), CRDT_EINVAL);
  crdt_context *out = NULL;
  assert_int_equal(crdt_context_copy(NULL, &out), CRDT_EINVAL);
  assert_null(out);
  assert_int_equal(crdt_context_new(NULL), CRDT_EINVAL);
  assert_int_equal(crdt_context_format(NULL, NULL, 0, NULL), CRDT_EINVAL);
  crdt_context_free(NULL);
  free(before);
  free(after);
  crdt_context_free(c);
}

/* ---- internal access (src/vector.h) -------------------------------------- */

static void test_context_internal_view_round_trip(void **state) {
  (void)state;
  crdt_context *c = ctx_of("b", 2, "A", 1, "A", 4, "b", 1, NULL);
  const crdt__ctx *k = crdt__context_ctx(c);
  const crdt__replicas *r = crdt__context_replicas(c);
  assert_int_equal(r->count, 2);
  assert_string_equal(crdt__replicas_id(r, 0, NULL), "b"); /* interning order */
  assert_int_equal(k->cloud.count, 1);
  crdt_context *d = NULL;
  assert_int_equal(crdt__context_from(k, r, &d), 0);
  assert_order(c, d, CRDT_EQUAL);
  assert_text(d, "{A:1, b:2} + {A:4}");
  /* Tables are copied index for index. */
  assert_string_equal(crdt__replicas_id(crdt__context_replicas(d), 0, NULL),
                      "b");
  /* The copy is independent. */
  add(d, "A", 2);
  assert_text(d, "{A:2, b:2} + {A:4}");
  assert_text(c, "{A:1, b:2} + {A:4}");
  crdt_context_free(c);
  crdt_context_free(d);
}

/* ---- randomized, against a plain set of dots ----------------------------- */

#define NCTX 4
#define MREP 3
#define MAXC 24
static const char *const rid[MREP] = {"A", "b", "CC"};

/* The reference: every dot a context holds, as a flat array of pairs. */
typedef struct pair {
  int replica;
  uint64_t counter;
} pair;

typedef struct ref {
  pair dots[MREP * MAXC];
  size_t n;
} ref;

static bool ref_has(const ref *r, int replica, uint64_t counter) {
  for (size_t i = 0; i < r->n; i++)
    if (r->dots[i].replica == replica && r->dots[i].counter == counter)
      return true;
  return false;
}

static void ref_add(ref *r, int replica, uint64_t counter) {
  if (ref_has(r, replica, counter)) return;
  assert_true(r->n < MREP * MAXC);
  r->dots[r->n++] = (pair){replica, counter};
}

static uint64_t ref_prefix(const ref *r, int replica) {
  uint64_t k = 0;
  while (ref_has(r, replica, k + 1)) k++;
  return k;
}

static uint64_t ref_top(const ref *r, int replica) {
  uint64_t top = 0;
  for (size_t i = 0; i < r->n; i++)
    if (r->dots[i].replica == replica && r->dots[i].counter > top)
      top = r->dots[i].counter;
  return top;
}

static bool ref_subset(const ref *a, const ref *b) {
  for (size_t i = 0; i < a->n; i++)
    if (!ref_has(b, a->dots[i].replica, a->dots[i].counter)) return false;
  return true;
}

static void check_against(const crdt_context *c, const ref *r) {
  size_t above = 0;
  for (int k = 0; k < MREP; k++) {
    uint64_t prefix = ref_prefix(r, k);
    for (uint64_t n = 1; n <= MAXC + 2; n++) {
      bool want = ref_has(r, k, n);
      if (crdt_context_has(c, rid[k], n) != want)
        fail_msg("has(%s, %llu) should be %d", rid[k], (unsigned long long)n,
                 want);
      above += want && n > prefix;
    }
    assert_int_equal(crdt_context_prefix(c, rid[k]), prefix);
    assert_int_equal(next_of(c, rid[k]), ref_top(r, k) + 1);
  }
  assert_int_equal(crdt_context_cloud_size(c), above);
}

static void test_context_matches_reference_set(void **state) {
  (void)state;
  tu_rng rng = {0xC0FFEE11ull};
  crdt_context *c[NCTX];
  ref *r = calloc(NCTX, sizeof *r);
  assert_non_null(r);
  for (int i = 0; i < NCTX; i++) c[i] = ctx_new();
  unsigned joins = 0, orders[4] = {0, 0, 0, 0};
  size_t max_cloud = 0;
  for (int step = 0; step < 4000; step++) {
    int i = (int)tu_below(&rng, NCTX);
    unsigned what = tu_below(&rng, 10);
    if (what < 6) {
      int k = (int)tu_below(&rng, MREP);
      /* Mostly near the prefix, where gaps open and fill. */
      uint64_t n = tu_below(&rng, 2)
                       ? ref_prefix(&r[i], k) + 1 + tu_below(&rng, 4)
                       : 1 + tu_below(&rng, MAXC);
      if (n > MAXC) n = MAXC;
      add(c[i], rid[k], n);
      ref_add(&r[i], k, n);
    } else if (what < 9) {
      int j = (int)tu_below(&rng, NCTX); /* may be i itself */
      join(c[i], c[j]);
      for (size_t d = 0; d < r[j].n; d++)
        ref_add(&r[i], r[j].dots[d].replica, r[j].dots[d].counter);
      joins++;
    } else if (tu_below(&rng, 4) == 0) {
      /* Start over, so clouds keep forming. */
      crdt_context_free(c[i]);
      c[i] = ctx_new();
      r[i].n = 0;
    }
    check_against(c[i], &r[i]);
    size_t cs = crdt_context_cloud_size(c[i]);
    if (cs > max_cloud) max_cloud = cs;
    int j = (int)tu_below(&rng, NCTX);
    bool le = ref_subset(&r[i], &r[j]), ge = ref_subset(&r[j], &r[i]);
    crdt_order want = le && ge ? CRDT_EQUAL
                      : le     ? CRDT_BEFORE
                      : ge     ? CRDT_AFTER
                               : CRDT_CONCURRENT;
    assert_int_equal(crdt_context_compare(c[i], c[j]), want);
    orders[want]++;
  }
  /* The run went where it was meant to. */
  assert_true(joins > 500);
  assert_true(max_cloud >= 5);
  for (int o = 0; o < 4; o++) assert_true(orders[o] > 0);
  for (int i = 0; i < NCTX; i++) crdt_context_free(c[i]);
  free(r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_context_out_of_order_dots_wait_in_cloud),
      cmocka_unit_test(test_context_compaction_is_per_replica),
      cmocka_unit_test(test_context_duplicates_are_idempotent),
      cmocka_unit_test(test_context_next_follows_highest_dot),
      cmocka_unit_test(test_context_compare_as_sets),
      cmocka_unit_test(test_context_join_clouds_compact),
      cmocka_unit_test(test_context_join_prefix_covers_cloud),
      cmocka_unit_test(test_context_format_with_cloud),
      cmocka_unit_test(test_context_format_json),
      cmocka_unit_test(test_context_copy_is_independent),
      cmocka_unit_test(test_context_invalid_arguments_change_nothing),
      cmocka_unit_test(test_context_internal_view_round_trip),
      cmocka_unit_test(test_context_matches_reference_set),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Version vectors: the two seed scenarios (seeds/003: three nodes and the
 * concurrent vectors F and G; seeds/000: single-replica version numbers and
 * why several replicas need vectors), laws on random vectors, and the edges of
 * the API (ids, overflow, formatting, canonical order).
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

/* ---- helpers ------------------------------------------------------------- */

static crdt_vv *vv_new(void) {
  crdt_vv *v = NULL;
  assert_int_equal(crdt_vv_new(&v), 0);
  assert_non_null(v);
  return v;
}

static crdt_vv *vv_copy(const crdt_vv *src) {
  crdt_vv *v = NULL;
  assert_int_equal(crdt_vv_copy(src, &v), 0);
  return v;
}

static uint64_t tick(crdt_vv *v, const char *replica) {
  uint64_t n = 0;
  assert_int_equal(crdt_vv_tick(v, replica, &n), 0);
  return n;
}

static void merge(crdt_vv *dst, const crdt_vv *src) {
  assert_int_equal(crdt_vv_merge(dst, src), 0);
}

static crdt_vv *merged(const crdt_vv *a, const crdt_vv *b) {
  crdt_vv *r = vv_copy(a);
  merge(r, b);
  return r;
}

/* The vector's text, malloc'd, through the documented two-call contract. */
static char *text_of(const crdt_vv *v) {
  size_t need = 0;
  assert_int_equal(crdt_vv_format(v, NULL, 0, &need), CRDT_ENOSPC);
  char *s = malloc(need + 1);
  assert_non_null(s);
  size_t again = 0;
  assert_int_equal(crdt_vv_format(v, s, need + 1, &again), 0);
  assert_int_equal(again, need);
  assert_int_equal(strlen(s), need);
  return s;
}

static void assert_text(const crdt_vv *v, const char *expected) {
  char *s = text_of(v);
  assert_string_equal(s, expected);
  free(s);
}

/* ---- seeds/003: three nodes, events A..H --------------------------------- */

/* A node receiving a message merges the sender's vector and ticks its own
 * counter (the receipt is an event of the receiver): "the receiving node
 * updates its vector clock and merges the vector clocks from the other
 * nodes". */
static void receive(crdt_vv *node, const char *self, const crdt_vv *message) {
  merge(node, message);
  tick(node, self);
}

static void test_vv_three_node_scenario(void **state) {
  (void)state;
  crdt_vv *node1 = vv_new(), *node2 = vv_new(), *node3 = vv_new();

  /* (1) Every vector starts at zero. */
  assert_text(node1, "{}");
  assert_text(node2, "{}");
  assert_text(node3, "{}");
  assert_int_equal(crdt_vv_get(node1, "node1"), 0);
  assert_int_equal(crdt_vv_size(node2), 0);
  assert_int_equal(crdt_vv_compare(node1, node3), CRDT_EQUAL);

  /* (2) Client updates tick the receiving node's own entry. */
  assert_int_equal(tick(node1, "node1"), 1); /* A */
  crdt_vv *A = vv_copy(node1);
  assert_int_equal(tick(node2, "node2"), 1); /* B */
  crdt_vv *B = vv_copy(node2);
  assert_int_equal(tick(node3, "node3"), 1); /* C */
  crdt_vv *C = vv_copy(node3);
  assert_text(A, "{node1:1}");
  assert_text(B, "{node2:1}");
  assert_text(C, "{node3:1}");
  assert_int_equal(crdt_vv_compare(A, B), CRDT_CONCURRENT);
  assert_int_equal(crdt_vv_compare(B, C), CRDT_CONCURRENT);

  /* (3) Node 2 sends B to nodes 1 and 3, which merge it. */
  receive(node1, "node1", B); /* D */
  crdt_vv *D = vv_copy(node1);
  assert_text(D, "{node1:2, node2:1}");
  assert_int_equal(crdt_vv_get(D, "node1"), 2);
  assert_int_equal(crdt_vv_get(D, "node2"), 1);
  assert_int_equal(crdt_vv_get(D, "node3"), 0);
  assert_int_equal(crdt_vv_compare(A, D), CRDT_BEFORE);
  assert_int_equal(crdt_vv_compare(D, B), CRDT_AFTER);

  receive(node3, "node3", B); /* E */
  crdt_vv *E = vv_copy(node3);
  assert_text(E, "{node2:1, node3:2}");
  assert_int_equal(crdt_vv_compare(C, E), CRDT_BEFORE);
  assert_int_equal(crdt_vv_compare(D, E), CRDT_CONCURRENT);

  /* More client updates at nodes 1 and 3. */
  assert_int_equal(tick(node1, "node1"), 3); /* F */
  crdt_vv *F = vv_copy(node1);
  assert_int_equal(tick(node3, "node3"), 3); /* G */
  crdt_vv *G = vv_copy(node3);
  assert_text(F, "{node1:3, node2:1}");
  assert_text(G, "{node2:1, node3:3}");

  /* F knows more of node 1, G more of node 3: neither contains the other. */
  assert_true(crdt_vv_get(F, "node1") > crdt_vv_get(G, "node1"));
  assert_true(crdt_vv_get(G, "node3") > crdt_vv_get(F, "node3"));
  assert_int_equal(crdt_vv_compare(F, G), CRDT_CONCURRENT);
  assert_int_equal(crdt_vv_compare(G, F), CRDT_CONCURRENT);
  assert_false(crdt_vv_equal(F, G));

  /* (4) H: node 2 receives F from node 1 and G from node 3. */
  merge(node2, F);
  merge(node2, G);
  assert_int_equal(tick(node2, "node2"), 2); /* H */
  crdt_vv *H = vv_copy(node2);
  assert_text(H, "{node1:3, node2:2, node3:3}");
  assert_int_equal(crdt_vv_get(H, "node1"), 3);
  assert_int_equal(crdt_vv_get(H, "node2"), 2);
  assert_int_equal(crdt_vv_get(H, "node3"), 3);
  assert_int_equal(crdt_vv_compare(H, F), CRDT_AFTER);
  assert_int_equal(crdt_vv_compare(H, G), CRDT_AFTER);
  assert_int_equal(crdt_vv_compare(F, H), CRDT_BEFORE);
  assert_int_equal(crdt_vv_compare(G, H), CRDT_BEFORE);
  /* H has seen every earlier event. */
  const crdt_vv *earlier[] = {A, B, C, D, E, F, G};
  for (size_t i = 0; i < sizeof earlier / sizeof earlier[0]; i++)
    assert_int_equal(crdt_vv_compare(earlier[i], H), CRDT_BEFORE);

  /* The nodes' current vectors. */
  assert_text(node1, "{node1:3, node2:1}");
  assert_text(node2, "{node1:3, node2:2, node3:3}");
  assert_text(node3, "{node2:1, node3:3}");

  crdt_vv *all[] = {node1, node2, node3, A, B, C, D, E, F, G, H};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) crdt_vv_free(all[i]);
}

/* ---- seeds/000: version numbers, one replica then several ---------------- */

/* One server replica S: its version number is a one-entry vector {S:k}. A
 * client's write carries the version it read. The write is concurrent with
 * an existing version exactly when the client had not read it: the version it
 * read is BEFORE that version. Having read it (EQUAL or AFTER), it
 * supersedes it. */
static bool concurrent_with(const crdt_vv *read, const crdt_vv *existing) {
  return crdt_vv_compare(read, existing) == CRDT_BEFORE;
}

static void test_vv_single_replica_version_numbers(void **state) {
  (void)state;
  crdt_vv *server = vv_new();
  crdt_vv *nothing_read = vv_new(); /* a client that never read: version 0 */

  /* Version 1: client 1 writes [eggs] without a prior read. */
  assert_int_equal(tick(server, "S"), 1);
  crdt_vv *v1 = vv_copy(server);
  crdt_vv *eggs = vv_copy(server); /* the version that wrote [eggs] */

  /* Version 2: client 2 writes [milk] based on version 0. */
  assert_true(concurrent_with(nothing_read, eggs)); /* [eggs] stays */
  assert_int_equal(tick(server, "S"), 2);
  crdt_vv *milk = vv_copy(server);
  assert_text(milk, "{S:2}");

  /* Version 3: client 1 writes [eggs, bacon] based on version 1, which it
   * read: it overwrites [eggs] (version 1) and cannot overwrite [milk]
   * (version 2), which it never saw. */
  assert_false(concurrent_with(v1, eggs));
  assert_int_equal(crdt_vv_compare(v1, eggs), CRDT_EQUAL);
  assert_true(concurrent_with(v1, milk));
  assert_int_equal(tick(server, "S"), 3);
  assert_text(server, "{S:3}");

  /* For every k: a write based on version k is concurrent with version k+1
   * iff it read before it; based on k+1 (or later) it is not. */
  for (uint64_t k = 0; k < 5; k++) {
    crdt_vv *based = vv_new(), *next = vv_new(), *later = vv_new();
    assert_int_equal(crdt_vv_observe(based, "S", k), 0);
    assert_int_equal(crdt_vv_observe(next, "S", k + 1), 0);
    assert_int_equal(crdt_vv_observe(later, "S", k + 2), 0);
    assert_true(concurrent_with(based, next));
    assert_false(concurrent_with(next, next));
    assert_false(concurrent_with(later, next));
    crdt_vv_free(based);
    crdt_vv_free(next);
    crdt_vv_free(later);
  }
  crdt_vv_free(server);
  crdt_vv_free(nothing_read);
  crdt_vv_free(v1);
  crdt_vv_free(eggs);
  crdt_vv_free(milk);
}

/* Three replicas R1, R2, R3 accept writes. A single version number per
 * replica (modelled as a one-entry vector under a shared name) cannot tell
 * concurrent writes from ordered ones; one entry per replica can. */
static void test_vv_several_replicas_need_vectors(void **state) {
  (void)state;
  crdt_vv *num[3], *vec[3];
  const char *ids[3] = {"R1", "R2", "R3"};
  for (int i = 0; i < 3; i++) {
    num[i] = vv_new();
    vec[i] = vv_new();
  }
  /* R1 and R2 each accept one write, independently. */
  tick(num[0], "version");
  tick(num[1], "version");
  tick(vec[0], ids[0]);
  tick(vec[1], ids[1]);
  /* Both numbers say 1: "the same version", yet the writes differ. */
  assert_int_equal(crdt_vv_compare(num[0], num[1]), CRDT_EQUAL);
  assert_int_equal(crdt_vv_compare(vec[0], vec[1]), CRDT_CONCURRENT);

  /* R1 accepts a second write, still without hearing from R2. */
  tick(num[0], "version");
  tick(vec[0], ids[0]);
  /* The number claims R1 has seen R2's write; the vectors know better. */
  assert_int_equal(crdt_vv_compare(num[0], num[1]), CRDT_AFTER);
  assert_int_equal(crdt_vv_compare(vec[0], vec[1]), CRDT_CONCURRENT);
  assert_text(vec[0], "{R1:2}");

  /* R3 hears from both, then writes: now it really has seen both. */
  merge(vec[2], vec[0]);
  merge(vec[2], vec[1]);
  tick(vec[2], ids[2]);
  assert_text(vec[2], "{R1:2, R2:1, R3:1}");
  assert_int_equal(crdt_vv_compare(vec[2], vec[0]), CRDT_AFTER);
  assert_int_equal(crdt_vv_compare(vec[2], vec[1]), CRDT_AFTER);
  /* R2 writes again without hearing from anyone: concurrent with R3's. */
  tick(vec[1], ids[1]);
  assert_int_equal(crdt_vv_compare(vec[1], vec[2]), CRDT_CONCURRENT);
  /* With single numbers R2 (2) and R3 (max 2 + 1 = 3) look ordered. */
  merge(num[2], num[0]);
  merge(num[2], num[1]);
  tick(num[2], "version");
  tick(num[1], "version");
  assert_int_equal(crdt_vv_compare(num[1], num[2]), CRDT_BEFORE);
  for (int i = 0; i < 3; i++) {
    crdt_vv_free(num[i]);
    crdt_vv_free(vec[i]);
  }
}

/* ---- laws on random vectors ---------------------------------------------- */

#define NREP 6
#define NVEC 10
static const char *const pool[NREP] = {"A", "B", "a", "ab", "node-7", "Z"};

typedef struct model {
  uint64_t n[NREP];
} model;

static crdt_order model_compare(const model *a, const model *b) {
  bool le = true, ge = true;
  for (int i = 0; i < NREP; i++) {
    if (a->n[i] > b->n[i]) le = false;
    if (a->n[i] < b->n[i]) ge = false;
  }
  return le && ge ? CRDT_EQUAL : le ? CRDT_BEFORE : ge ? CRDT_AFTER
                                                      : CRDT_CONCURRENT;
}

static void assert_matches(const crdt_vv *v, const model *m) {
  size_t nonzero = 0;
  for (int i = 0; i < NREP; i++) {
    assert_int_equal(crdt_vv_get(v, pool[i]), m->n[i]);
    nonzero += m->n[i] != 0;
  }
  assert_int_equal(crdt_vv_size(v), nonzero);
}

static void assert_same_vv(const crdt_vv *x, const crdt_vv *y) {
  assert_true(crdt_vv_equal(x, y));
  assert_int_equal(crdt_vv_compare(x, y), CRDT_EQUAL);
  char *tx = text_of(x), *ty = text_of(y);
  assert_string_equal(tx, ty);
  free(tx);
  free(ty);
}

static void test_vv_laws_on_random_vectors(void **state) {
  (void)state;
  tu_rng rng = {0x5eed0003ull};
  unsigned outcomes[4] = {0, 0, 0, 0};
  for (int round = 0; round < 20; round++) {
    crdt_vv *v[NVEC];
    model m[NVEC];
    for (int i = 0; i < NVEC; i++) {
      v[i] = vv_new();
      memset(&m[i], 0, sizeof m[i]);
      /* Sparse vectors with small counters, so that equal and ordered
       * pairs occur as well as concurrent ones. */
      unsigned ops = tu_below(&rng, 5);
      for (unsigned k = 0; k < ops; k++) {
        unsigned r =
            tu_below(&rng, 3) ? tu_below(&rng, 2) : tu_below(&rng, NREP);
        if (tu_below(&rng, 2)) {
          m[i].n[r]++;
          assert_int_equal(tick(v[i], pool[r]), m[i].n[r]);
        } else {
          uint64_t c = tu_below(&rng, 3);
          assert_int_equal(crdt_vv_observe(v[i], pool[r], c), 0);
          if (c > m[i].n[r]) m[i].n[r] = c;
        }
      }
      assert_matches(v[i], &m[i]);
    }
    for (int i = 0; i < NVEC; i++) {
      /* Idempotent, including merging a vector into itself. */
      crdt_vv *aa = merged(v[i], v[i]);
      assert_same_vv(aa, v[i]);
      crdt_vv_free(aa);
      crdt_vv *self = vv_copy(v[i]);
      merge(self, self);
      assert_same_vv(self, v[i]);
      crdt_vv_free(self);
      for (int j = 0; j < NVEC; j++) {
        crdt_vv *ab = merged(v[i], v[j]), *ba = merged(v[j], v[i]);
        model mab;
        for (int r = 0; r < NREP; r++)
          mab.n[r] = m[i].n[r] > m[j].n[r] ? m[i].n[r] : m[j].n[r];
        assert_matches(ab, &mab); /* pointwise maximum */
        assert_same_vv(ab, ba);   /* commutative */
        /* a <= a ⊔ b */
        crdt_order up = crdt_vv_compare(v[i], ab);
        assert_true(up == CRDT_BEFORE || up == CRDT_EQUAL);
        /* compare is the set order, and agrees with merge. */
        crdt_order o = crdt_vv_compare(v[i], v[j]);
        assert_int_equal(o, model_compare(&m[i], &m[j]));
        outcomes[o]++;
        assert_int_equal(crdt_vv_equal(v[i], v[j]), o == CRDT_EQUAL);
        bool ab_is_a = crdt_vv_equal(ab, v[i]);
        bool ab_is_b = crdt_vv_equal(ab, v[j]);
        assert_int_equal(o == CRDT_EQUAL, ab_is_a && ab_is_b);
        assert_int_equal(o == CRDT_BEFORE, ab_is_b && !ab_is_a);
        assert_int_equal(o == CRDT_AFTER, ab_is_a && !ab_is_b);
        assert_int_equal(o == CRDT_CONCURRENT, !ab_is_a && !ab_is_b);
        crdt_order mirror = crdt_vv_compare(v[j], v[i]);
        assert_int_equal(mirror, o == CRDT_BEFORE  ? CRDT_AFTER
                                 : o == CRDT_AFTER ? CRDT_BEFORE
                                                   : o);
        for (int k = 0; k < NVEC; k++) { /* associative */
          crdt_vv *ab_c = merged(ab, v[k]);
          crdt_vv *bc = merged(v[j], v[k]);
          crdt_vv *a_bc = merged(v[i], bc);
          assert_same_vv(ab_c, a_bc);
          crdt_vv_free(ab_c);
          crdt_vv_free(bc);
          crdt_vv_free(a_bc);
        }
        crdt_vv_free(ab);
        crdt_vv_free(ba);
      }
    }
    for (int i = 0; i < NVEC; i++) crdt_vv_free(v[i]);
  }
  /* The generator produced every kind of pair (beyond a == a). */
  assert_true(outcomes[CRDT_EQUAL] > 20 * NVEC);
  assert_true(outcomes[CRDT_BEFORE] > 0);
  assert_true(outcomes[CRDT_AFTER] > 0);
  assert_true(outcomes[CRDT_CONCURRENT] > 0);
}

/* ---- single operations --------------------------------------------------- */

static void test_vv_copy_is_independent(void **state) {
  (void)state;
  crdt_vv *a = vv_new();
  tick(a, "A");
  tick(a, "B");
  crdt_vv *b = vv_copy(a);
  assert_same_vv(a, b);
  tick(a, "A");
  assert_text(a, "{A:2, B:1}");
  assert_text(b, "{A:1, B:1}");
  tick(b, "C");
  assert_int_equal(crdt_vv_get(a, "C"), 0);
  assert_int_equal(crdt_vv_compare(a, b), CRDT_CONCURRENT);
  crdt_vv_free(a);
  assert_text(b, "{A:1, B:1, C:1}");
  crdt_vv_free(b);
}

static void test_vv_tick_returns_successive_counters(void **state) {
  (void)state;
  crdt_vv *v = vv_new();
  for (uint64_t k = 1; k <= 5; k++) assert_int_equal(tick(v, "A"), k);
  assert_int_equal(tick(v, "B"), 1);
  assert_int_equal(tick(v, "A"), 6);
  assert_int_equal(crdt_vv_tick(v, "B", NULL), 0); /* counter is optional */
  assert_int_equal(crdt_vv_get(v, "B"), 2);
  assert_int_equal(crdt_vv_observe(v, "B", 10), 0);
  assert_int_equal(tick(v, "B"), 11);
  assert_text(v, "{A:6, B:11}");
  crdt_vv_free(v);
}

static void test_vv_observe_raises_only(void **state) {
  (void)state;
  crdt_vv *v = vv_new();
  assert_int_equal(crdt_vv_observe(v, "A", 5), 0);
  assert_int_equal(crdt_vv_get(v, "A"), 5);
  assert_int_equal(crdt_vv_observe(v, "A", 3), 0);
  assert_int_equal(crdt_vv_get(v, "A"), 5);
  assert_int_equal(crdt_vv_observe(v, "A", 5), 0);
  assert_int_equal(crdt_vv_get(v, "A"), 5);
  assert_int_equal(crdt_vv_observe(v, "A", 7), 0);
  assert_int_equal(crdt_vv_get(v, "A"), 7);
  /* Observing 0 of an unknown replica adds no entry. */
  assert_int_equal(crdt_vv_observe(v, "B", 0), 0);
  assert_int_equal(crdt_vv_size(v), 1);
  assert_text(v, "{A:7}");
  crdt_vv *only_a = vv_new();
  assert_int_equal(crdt_vv_observe(only_a, "A", 7), 0);
  assert_true(crdt_vv_equal(v, only_a));
  crdt_vv_free(only_a);
  crdt_vv_free(v);
}

static void test_vv_invalid_ids_change_nothing(void **state) {
  (void)state;
  char long_id[66], max_id[65];
  memset(long_id, 'y', 65);
  long_id[65] = '\0';
  memset(max_id, 'y', 64);
  max_id[64] = '\0';
  crdt_vv *v = vv_new();
  tick(v, "A");
  char *before = text_of(v);
  const char *bad[] = {NULL, "", long_id};
  for (size_t i = 0; i < 3; i++) {
    uint64_t n = 99;
    assert_int_equal(crdt_vv_tick(v, bad[i], &n), CRDT_EINVAL);
    assert_int_equal(n, 99);
    assert_int_equal(crdt_vv_observe(v, bad[i], 5), CRDT_EINVAL);
    assert_int_equal(crdt_vv_get(v, bad[i]), 0);
    char *after = text_of(v);
    assert_string_equal(after, before);
    free(after);
    assert_int_equal(crdt_vv_size(v), 1);
  }
  /* A 65-byte id does not alias its 64-byte prefix. */
  assert_int_equal(tick(v, max_id), 1);
  assert_int_equal(crdt_vv_get(v, max_id), 1);
  assert_int_equal(crdt_vv_get(v, long_id), 0);
  assert_int_equal(tick(v, max_id), 2);
  char expected[128];
  snprintf(expected, sizeof expected, "{A:1, %s:2}", max_id);
  assert_text(v, expected);
  free(before);
  crdt_vv_free(v);
}

static void test_vv_null_arguments(void **state) {
  (void)state;
  crdt_vv *v = vv_new(), *out = NULL;
  assert_int_equal(crdt_vv_new(NULL), CRDT_EINVAL);
  assert_int_equal(crdt_vv_tick(NULL, "A", NULL), CRDT_EINVAL);
  assert_int_equal(crdt_vv_observe(NULL, "A", 1), CRDT_EINVAL);
  assert_int_equal(crdt_vv_merge(NULL, v), CRDT_EINVAL);
  assert_int_equal(crdt_vv_merge(v, NULL), CRDT_EINVAL);
  assert_int_equal(crdt_vv_copy(NULL, &out), CRDT_EINVAL);
  assert_null(out);
  assert_int_equal(crdt_vv_copy(v, NULL), CRDT_EINVAL);
  assert_int_equal(crdt_vv_format(NULL, NULL, 0, NULL), CRDT_EINVAL);
  assert_int_equal(crdt_vv_foreach(NULL, NULL, NULL), CRDT_EINVAL);
  assert_int_equal(crdt_vv_foreach(v, NULL, NULL), CRDT_EINVAL);
  assert_int_equal(crdt_vv_get(NULL, "A"), 0);
  assert_int_equal(crdt_vv_size(NULL), 0);
  char buf[4];
  assert_int_equal(crdt_vv_format(v, NULL, sizeof buf, NULL), CRDT_EINVAL);
  crdt_vv_free(NULL);
  crdt_vv_free(v);
}

static void test_vv_format_reports_needed_size(void **state) {
  (void)state;
  crdt_vv *v = vv_new();
  tick(v, "B");
  assert_int_equal(crdt_vv_observe(v, "A", 12), 0);
  const char *full = "{A:12, B:1}";
  size_t len = strlen(full);
  char buf[32];
  for (size_t cap = 0; cap <= len + 1; cap++) {
    memset(buf, '#', sizeof buf);
    size_t need = 0;
    int rc = crdt_vv_format(v, cap ? buf : NULL, cap, &need);
    assert_int_equal(need, len);
    if (cap <= len) {
      assert_int_equal(rc, CRDT_ENOSPC);
      if (cap) {
        /* What fits, NUL-terminated, and nothing written beyond cap. */
        assert_int_equal(buf[cap - 1], '\0');
        assert_int_equal(strlen(buf), cap - 1);
        assert_memory_equal(buf, full, cap - 1);
      }
      assert_int_equal(buf[cap], '#');
    } else {
      assert_int_equal(rc, 0);
      assert_string_equal(buf, full);
    }
  }
  /* needed is optional. */
  assert_int_equal(crdt_vv_format(v, buf, 3, NULL), CRDT_ENOSPC);
  assert_int_equal(crdt_vv_format(v, buf, sizeof buf, NULL), 0);
  assert_string_equal(buf, full);
  crdt_vv_free(v);
}

typedef struct visit_log {
  char text[256];
  unsigned calls;
  unsigned stop_at; /* return 42 on this call (1-based); 0: never */
} visit_log;

static int log_visit(const char *replica, uint64_t counter, void *user) {
  visit_log *log = user;
  char item[96];
  snprintf(item, sizeof item, "%s%s=%llu", log->calls ? " " : "", replica,
           (unsigned long long)counter);
  strncat(log->text, item, sizeof log->text - strlen(log->text) - 1);
  return ++log->calls == log->stop_at ? 42 : 0;
}

static void test_vv_foreach_canonical_order(void **state) {
  (void)state;
  crdt_vv *v = vv_new(), *w = vv_new();
  /* Interned in one order here, the reverse in w. */
  const char *ids[] = {"ab", "a", "B", "b", "A0"};
  for (size_t i = 0; i < 5; i++) {
    assert_int_equal(crdt_vv_observe(v, ids[i], i + 1), 0);
    assert_int_equal(crdt_vv_observe(w, ids[4 - i], 5 - i), 0);
  }
  assert_int_equal(crdt_vv_observe(v, "zero", 0), 0); /* no entry */
  /* UTF-8 "été": bytes, unsigned, so 0xC3 sorts after ASCII. */
  assert_int_equal(crdt_vv_observe(v, "\xC3\xA9t\xC3\xA9", 6), 0);
  assert_int_equal(crdt_vv_observe(w, "\xC3\xA9t\xC3\xA9", 6), 0);
  /* Bytewise: "A0" (0x41) < "B" (0x42) < "a" < "ab" < "b" < "\xC3...". */
  const char *expected = "A0=5 B=3 a=2 ab=1 b=4 \xC3\xA9t\xC3\xA9=6";
  visit_log log = {{0}, 0, 0};
  assert_int_equal(crdt_vv_foreach(v, log_visit, &log), 0);
  assert_string_equal(log.text, expected);
  assert_int_equal(log.calls, 6);
  visit_log log_w = {{0}, 0, 0};
  assert_int_equal(crdt_vv_foreach(w, log_visit, &log_w), 0);
  assert_string_equal(log_w.text, expected);
  assert_text(v, "{A0:5, B:3, a:2, ab:1, b:4, \xC3\xA9t\xC3\xA9:6}");
  assert_text(w, "{A0:5, B:3, a:2, ab:1, b:4, \xC3\xA9t\xC3\xA9:6}");

  /* Early stop: the callback's value comes back, no further visits. */
  visit_log stop = {{0}, 0, 2};
  assert_int_equal(crdt_vv_foreach(v, log_visit, &stop), 42);
  assert_int_equal(stop.calls, 2);
  assert_string_equal(stop.text, "A0=5 B=3");

  crdt_vv *empty = vv_new();
  visit_log none = {{0}, 0, 0};
  assert_int_equal(crdt_vv_foreach(empty, log_visit, &none), 0);
  assert_int_equal(none.calls, 0);
  crdt_vv_free(empty);
  crdt_vv_free(v);
  crdt_vv_free(w);
}

static void test_vv_tick_overflow_is_erange(void **state) {
  (void)state;
  crdt_vv *v = vv_new();
  assert_int_equal(crdt_vv_observe(v, "A", UINT64_MAX - 1), 0);
  assert_int_equal(tick(v, "A"), UINT64_MAX);
  uint64_t n = 7;
  assert_int_equal(crdt_vv_tick(v, "A", &n), CRDT_ERANGE);
  assert_int_equal(n, 7);
  assert_int_equal(crdt_vv_get(v, "A"), UINT64_MAX);
  assert_text(v, "{A:18446744073709551615}");
  /* Other replicas are unaffected. */
  assert_int_equal(tick(v, "B"), 1);
  crdt_vv *w = vv_new();
  assert_int_equal(crdt_vv_observe(w, "A", UINT64_MAX), 0);
  assert_int_equal(crdt_vv_tick(w, "A", NULL), CRDT_ERANGE);
  assert_text(w, "{A:18446744073709551615}");
  assert_int_equal(crdt_vv_compare(w, v), CRDT_BEFORE);
  crdt_vv_free(v);
  crdt_vv_free(w);
}

static void test_vv_merge_self_and_empty(void **state) {
  (void)state;
  crdt_vv *v = vv_new(), *e = vv_new();
  tick(v, "A");
  tick(v, "A");
  assert_int_equal(crdt_vv_merge(v, v), 0);
  assert_text(v, "{A:2}");
  merge(v, e);
  assert_text(v, "{A:2}");
  merge(e, v);
  assert_text(e, "{A:2}");
  assert_int_equal(crdt_vv_compare(e, v), CRDT_EQUAL);
  crdt_vv_free(v);
  crdt_vv_free(e);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_vv_three_node_scenario),
      cmocka_unit_test(test_vv_single_replica_version_numbers),
      cmocka_unit_test(test_vv_several_replicas_need_vectors),
      cmocka_unit_test(test_vv_laws_on_random_vectors),
      cmocka_unit_test(test_vv_copy_is_independent),
      cmocka_unit_test(test_vv_tick_returns_successive_counters),
      cmocka_unit_test(test_vv_observe_raises_only),
      cmocka_unit_test(test_vv_invalid_ids_change_nothing),
      cmocka_unit_test(test_vv_null_arguments),
      cmocka_unit_test(test_vv_format_reports_needed_size),
      cmocka_unit_test(test_vv_foreach_canonical_order),
      cmocka_unit_test(test_vv_tick_overflow_is_erange),
      cmocka_unit_test(test_vv_merge_self_and_empty),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Rateless IBLT (src/riblt.h): the index sequence recomputed from its
 * written description; the mapping density 1 / (1 + i/2); exact recovery
 * of random symmetric differences from 0 to 3000 items, with the number of
 * cells a decode needs (about 1.35 per item for large differences, bounded
 * for small ones); a short prefix does not decode, and a decoder given too
 * few cells says so instead of inventing items; allocation failure.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <xxhash.h>

#include "riblt.h"
#include "testutil.h"

/* ---- the written description, again ---------------------------------- */

static uint64_t spec_splitmix(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* The first n indexes of item x, by riblt.h's description. */
static void spec_indexes(uint64_t x, uint32_t *out, unsigned n) {
  uint8_t b[8];
  for (int i = 0; i < 8; i++) b[i] = (uint8_t)(x >> (8 * i));
  uint64_t s = XXH3_64bits_withSeed(b, 8, 0x52494C54);
  uint64_t i = 0;
  for (unsigned k = 0; k < n; k++) {
    out[k] = (uint32_t)i;
    uint64_t r = spec_splitmix(&s);
    uint64_t q = ((r >> 32) > (r & 0xFFFFFFFFu) ? (r >> 32) : (r & 0xFFFFFFFFu)) | 1;
    uint64_t t = (((2 * i + 3) << 32) + q - 1) / q;
    i = (t - 2) / 2;
  }
}

static void test_riblt_index_sequence_is_the_documented_one(void **state) {
  (void)state;
  tu_rng rng = {7};
  for (int trial = 0; trial < 200; trial++) {
    uint64_t x = tu_rand(&rng);
    uint32_t idx[12];
    spec_indexes(x, idx, 12);
    uint32_t m = idx[11]; /* cells 0 .. idx[11]-1: the first 11 indexes */
    crdt__rcell *cells = calloc(m, sizeof *cells);
    assert_non_null(cells);
    crdt__riblt_add(cells, m, x, 1);
    unsigned hit = 0;
    for (uint32_t j = 0; j < m; j++) {
      if (!cells[j].count) continue;
      assert_int_equal(j, idx[hit]);
      assert_true(cells[j].key == x);
      assert_int_equal(cells[j].check, (uint32_t)crdt__riblt_check(x));
      hit++;
    }
    assert_int_equal(hit, 11);
    free(cells);
  }
}

/* P(item maps to cell j) = 1 / (1 + j/2), within sampling error. */
static void test_riblt_mapping_density(void **state) {
  (void)state;
  enum { ITEMS = 20000, M = 200 };
  static crdt__rcell cells[M];
  memset(cells, 0, sizeof cells);
  tu_rng rng = {11};
  for (int i = 0; i < ITEMS; i++) crdt__riblt_add(cells, M, tu_rand(&rng), 1);
  assert_int_equal(cells[0].count, ITEMS);
  const uint32_t probe[] = {1, 2, 5, 10, 40, 100, 199};
  for (size_t k = 0; k < sizeof probe / sizeof *probe; k++) {
    double want = ITEMS / (1.0 + probe[k] / 2.0);
    double got = (double)cells[probe[k]].count;
    assert_true(got > want * 0.85 && got < want * 1.15);
  }
}

/* Sets A and B sharing `common` items, A with `only_a` more, B with
 * `only_b`; returns the smallest prefix that decodes (checking the
 * result exactly at that prefix) and checks that the prefix one cell
 * shorter reports failure. */
static uint32_t reconcile(tu_rng *rng, unsigned common, unsigned only_a,
                          unsigned only_b) {
  const crdt_allocator *mem = crdt__mem_default();
  const uint32_t maxm = 4 * (only_a + only_b) + 64;
  crdt__rcell *a = calloc(maxm, sizeof *a), *b = calloc(maxm, sizeof *b),
              *w = calloc(maxm, sizeof *w);
  uint64_t *xa = malloc((only_a + 1) * sizeof *xa),
           *xb = malloc((only_b + 1) * sizeof *xb);
  assert_true(a && b && w && xa && xb);
  for (unsigned i = 0; i < common; i++) {
    uint64_t x = tu_rand(rng);
    crdt__riblt_add(a, maxm, x, 1);
    crdt__riblt_add(b, maxm, x, 1);
  }
  for (unsigned i = 0; i < only_a; i++) crdt__riblt_add(a, maxm, xa[i] = tu_rand(rng), 1);
  for (unsigned i = 0; i < only_b; i++) crdt__riblt_add(b, maxm, xb[i] = tu_rand(rng), 1);
  uint32_t found = 0;
  for (uint32_t m = 1; m <= maxm && !found; m++) {
    memcpy(w, a, m * sizeof *w);
    crdt__riblt_subtract(w, b, m);
    crdt__riblt_diff d = {0};
    int rc = crdt__riblt_decode(w, m, mem, &d);
    assert_true(rc == 0 || rc == 1);
    if (rc == 0) {
      found = m;
      assert_int_equal(d.nmine, only_a);
      assert_int_equal(d.ntheirs, only_b);
      for (unsigned i = 0; i < only_a; i++) {
        bool in = false;
        for (unsigned k = 0; k < d.nmine && !in; k++) in = d.mine[k] == xa[i];
        assert_true(in);
      }
      for (unsigned i = 0; i < only_b; i++) {
        bool in = false;
        for (unsigned k = 0; k < d.ntheirs && !in; k++) in = d.theirs[k] == xb[i];
        assert_true(in);
      }
    }
    crdt__riblt_diff_free(&d, mem);
    /* a long difference: skip ahead instead of trying every prefix */
    if (!found && m > 64 && m < (only_a + only_b)) m += (only_a + only_b) / 64;
  }
  assert_true(found > 0);
  free(a);
  free(b);
  free(w);
  free(xa);
  free(xb);
  return found;
}

static void test_riblt_recovers_differences(void **state) {
  (void)state;
  tu_rng rng = {3};
  assert_int_equal(reconcile(&rng, 500, 0, 0), 1); /* equal sets: one cell */
  for (int t = 0; t < 30; t++) assert_true(reconcile(&rng, 300, 1, 0) <= 8);
  for (int t = 0; t < 30; t++) assert_true(reconcile(&rng, 300, 1, 1) <= 12);
  uint64_t total = 0;
  for (int t = 0; t < 20; t++) total += reconcile(&rng, 1000, 5, 5);
  assert_true(total <= 20 * 40); /* small differences cost more per item */
  uint32_t big = reconcile(&rng, 5000, 1500, 1500);
  assert_true(big <= 3000 * 1.6);
  assert_true(big >= 3000);       /* information: at least one cell per item */
  printf("# riblt: 3000 items decoded with %u cells (%.2f per item)\n", big,
         big / 3000.0);
}

static void test_riblt_decoder_reports_too_few_cells(void **state) {
  (void)state;
  tu_rng rng = {5};
  enum { D = 400, M = 200 };
  crdt__rcell w[M] = {{0}};
  for (int i = 0; i < D; i++) crdt__riblt_add(w, M, tu_rand(&rng), 1);
  crdt__riblt_diff d = {0};
  assert_int_equal(crdt__riblt_decode(w, M, crdt__mem_default(), &d), 1);
  crdt__riblt_diff_free(&d, crdt__mem_default());
}

static void test_riblt_decode_out_of_memory(void **state) {
  (void)state;
  tu_alloc_install();
  tu_rng rng = {9};
  enum { M = 300 };
  crdt__rcell src[M] = {{0}}, w[M];
  for (int i = 0; i < 100; i++) crdt__riblt_add(src, M, tu_rand(&rng), i % 2 ? 1 : -1);
  const crdt_allocator *mem = crdt__mem_default();
  for (long k = 0;; k++) {
    size_t live = tu_alloc_live();
    memcpy(w, src, sizeof w);
    crdt__riblt_diff d = {0};
    tu_alloc_fail_at(k);
    int rc = crdt__riblt_decode(w, M, mem, &d);
    bool fired = tu_alloc_fired();
    tu_alloc_fail_at(-1);
    crdt__riblt_diff_free(&d, mem);
    assert_int_equal(tu_alloc_live(), live);
    if (!fired) {
      assert_int_equal(rc, 0);
      break;
    }
    assert_int_equal(rc, CRDT_ENOMEM);
  }
  crdt_set_allocator(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_riblt_index_sequence_is_the_documented_one),
      cmocka_unit_test(test_riblt_mapping_density),
      cmocka_unit_test(test_riblt_recovers_differences),
      cmocka_unit_test(test_riblt_decoder_reports_too_few_cells),
      cmocka_unit_test(test_riblt_decode_out_of_memory),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

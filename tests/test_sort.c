/*
 * The kernel's sorting helpers (src/sort.h, src/store.h): crdt__sort against
 * qsort for element sizes that use the word swap, the byte swap and both;
 * crdt__store_sorted's canonical key order (prefix numbers, then bytes)
 * against crdt__entry_ptr_cmp, with keys that share 8 and 16 bytes, hold
 * zero bytes and are prefixes of each other; crdt__dots_repeat against a
 * check of every pair, on dense and sparse counters and many replicas.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hash.h"
#include "sort.h"
#include "store.h"
#include "testutil.h"

static int cmp_first_u32(const void *a, const void *b, const void *ctx) {
  (void)ctx;
  uint32_t x, y;
  memcpy(&x, a, 4);
  memcpy(&y, b, 4);
  return (x > y) - (x < y);
}

static int qsort_first_u32(const void *a, const void *b) {
  return cmp_first_u32(a, b, NULL);
}

/* Elements of 4, 5, 8, 12, 16 and 24 bytes, keyed by their first 4 bytes
 * (distinct keys, so the order is unique), the rest a copy of the key:
 * after the sort every element is whole and in qsort's order. */
static void test_sort_matches_qsort_at_every_size(void **state) {
  (void)state;
  const size_t sizes[] = {4, 5, 8, 12, 16, 24};
  for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++) {
    const size_t size = sizes[si];
    for (size_t n = 0; n < 300; n += 1 + n / 3) {
      unsigned char *a = malloc(n * size + 1), *b = malloc(n * size + 1);
      for (size_t i = 0; i < n; i++) {
        uint32_t k = (uint32_t)(i * 2654435761u); /* distinct for i < 2^32 */
        for (size_t j = 0; j < size; j++)
          a[i * size + j] = (unsigned char)(k >> (8 * (j % 4)));
      }
      memcpy(b, a, n * size);
      crdt__sort(a, n, size, cmp_first_u32, NULL);
      qsort(b, n, size, qsort_first_u32);
      if (n) assert_memory_equal(a, b, n * size); /* whole elements */
      free(a);
      free(b);
    }
  }
}

/* Keys made to tie on their first 8 or 16 bytes, with zero bytes and
 * prefixes of each other: the sorted list is strictly increasing by
 * crdt__entry_ptr_cmp and holds every entry once. */
static void test_store_sorted_is_the_byte_order(void **state) {
  (void)state;
  const crdt_allocator *m = crdt__mem_default();
  tu_rng rng = {11};
  for (int trial = 0; trial < 40; trial++) {
    crdt__store s;
    memset(&s, 0, sizeof s);
    const unsigned n = 1 + tu_below(&rng, 400);
    unsigned made = 0;
    for (unsigned i = 0; i < n; i++) {
      uint8_t key[40];
      const size_t len = tu_below(&rng, 4) ? 7 + tu_below(&rng, 12)
                                           : tu_below(&rng, 40);
      for (size_t j = 0; j < len; j++) /* a common start, then few letters */
        key[j] = j < 6 ? (uint8_t)"item-0"[j] : (uint8_t)tu_below(&rng, 3);
      crdt__entry *e;
      if (crdt__store_find(&s, key, len, crdt__key_hash(key, len))) continue;
      assert_int_equal(crdt__store_insert(&s, m, key, len,
                                          crdt__key_hash(key, len), &e),
                       0);
      made++;
    }
    const crdt__entry **list;
    assert_int_equal(crdt__store_sorted(&s, m, &list), 0);
    assert_int_equal(s.count, made);
    for (uint32_t i = 1; i < s.count; i++)
      assert_true(crdt__entry_ptr_cmp(&list[i - 1], &list[i], NULL) < 0);
    crdt__free(m, list, s.count * sizeof *list);
    crdt__store_free(&s, m);
  }
}

static bool repeat_by_pairs(const crdt__dot *d, size_t n) {
  for (size_t i = 0; i < n; i++)
    for (size_t j = i + 1; j < n; j++)
      if (d[i].replica == d[j].replica && d[i].counter == d[j].counter)
        return true;
  return false;
}

/* Random dot lists, dense (a run of a replica's events) or sparse (huge
 * counters), over 1 to 40 replicas, with and without one repeated dot. */
static void test_dots_repeat_matches_every_pair(void **state) {
  (void)state;
  const crdt_allocator *m = crdt__mem_default();
  tu_rng rng = {23};
  for (int trial = 0; trial < 3000; trial++) {
    const uint32_t ranks = 1 + tu_below(&rng, 40);
    const size_t n = tu_below(&rng, 200);
    crdt__dot *d = malloc((n + 1) * sizeof *d);
    const bool sparse = tu_below(&rng, 3) == 0;
    for (size_t i = 0; i < n; i++) {
      d[i].replica = tu_below(&rng, ranks);
      d[i].counter = sparse ? 1 + tu_rand(&rng) % (UINT64_MAX - 1)
                            : 1 + (uint64_t)i * 3 / 2 + d[i].replica;
    }
    if (n > 1 && tu_below(&rng, 2)) /* perhaps one dot twice */
      d[tu_below(&rng, (unsigned)n)] = d[tu_below(&rng, (unsigned)n)];
    bool repeat = !repeat_by_pairs(d, n);
    assert_int_equal(crdt__dots_repeat(d, n, ranks, m, &repeat), 0);
    assert_int_equal(repeat, repeat_by_pairs(d, n));
    free(d);
  }
}

/* Out of memory at each allocation: CRDT_ENOMEM and nothing held, and
 * then a right answer. */
static void test_dots_repeat_out_of_memory(void **state) {
  (void)state;
  tu_alloc_install();
  const crdt__dot d[] = {{5, 0}, {9, 1}, {5, 0}};
  const size_t live = tu_alloc_live();
  for (long fail_at = 0;; fail_at++) {
    tu_alloc_fail_at(fail_at);
    bool repeat = false;
    int rc = crdt__dots_repeat(d, 3, 2, crdt__mem_default(), &repeat);
    const bool fired = tu_alloc_fired();
    tu_alloc_fail_at(-1);
    assert_int_equal(tu_alloc_live(), live);
    if (!fired) {
      assert_int_equal(rc, 0);
      assert_true(repeat);
      assert_true(fail_at >= 4); /* start, lo, hi, counters (+ bitmap) */
      break;
    }
    assert_int_equal(rc, CRDT_ENOMEM);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sort_matches_qsort_at_every_size),
      cmocka_unit_test(test_store_sorted_is_the_byte_order),
      cmocka_unit_test(test_dots_repeat_matches_every_pair),
      cmocka_unit_test(test_dots_repeat_out_of_memory),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Kernel: the replica table (src/replicas.h). Interning while every part of
 * the table grows, lookups by a stored hash, mapping one table onto another,
 * the undo by truncation, copies, and atomicity under allocation failure.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "replicas.h"
#include "store.h" /* crdt__key_hash */
#include "testutil.h"

static crdt_allocator mem(void) { return *crdt__mem_default(); }

/* Id number k (k < 4096): lengths cycle through 1..64 bytes (records of
 * every size); ids of one length differ in their last byte (and first), so
 * the word compares of a lookup must look at every byte. */
static void id_of(unsigned k, char *out) {
  static const char digits[] =
      "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_";
  unsigned len = 1 + k % 64, t = k / 64;
  assert_true(t < 64);
  memset(out, 'x', len);
  out[0] = digits[63 - t];
  out[len - 1] = digits[t];
  out[len] = '\0';
}

/* The table's own invariants: load at most 1/2, room as documented, every
 * record where by_index says, with the hash of its id. */
static void assert_consistent(const crdt__replicas *r) {
  if (!r->slots) {
    assert_int_equal(r->count, 0);
    assert_int_equal(r->room, 0);
    return;
  }
  uint64_t slots = (uint64_t)r->mask + 1;
  assert_true((uint64_t)r->count * 2 <= slots);
  uint64_t fit = slots / 2 < r->cap ? slots / 2 : r->cap;
  assert_int_equal(r->room, fit - r->count);
  if (r->room) assert_non_null(r->chunks);
  for (uint32_t i = 0; i < r->count; i++) {
    const crdt__rid *rid = r->by_index[i];
    assert_int_equal(rid->index, i);
    assert_int_equal(rid->hash, crdt__key_hash(rid->id, rid->len));
    assert_int_equal(rid->id[rid->len], '\0');
  }
}

static uint32_t intern(crdt__replicas *r, const crdt_allocator *m,
                       const char *id) {
  uint32_t i;
  assert_int_equal(crdt__replicas_intern(r, m, id, strlen(id), &i), 0);
  return i;
}

static void test_replicas_intern_finds_every_id_as_the_table_grows(
    void **state) {
  (void)state;
  crdt_allocator m = mem();
  crdt__replicas r = {0};
  char id[80];
  enum { N = 600 };
  assert_int_equal(crdt__replicas_find(&r, "x", 1), CRDT__NO_REPLICA);
  for (unsigned k = 0; k < N; k++) {
    id_of(k, id);
    uint32_t mask = r.mask;
    assert_int_equal(crdt__replicas_find(&r, id, strlen(id)),
                     CRDT__NO_REPLICA);
    assert_int_equal(intern(&r, &m, id), k);
    assert_int_equal(intern(&r, &m, id), k); /* found, not added again */
    assert_int_equal(r.count, k + 1);
    size_t len;
    assert_string_equal(crdt__replicas_id(&r, k, &len), id);
    assert_int_equal(len, strlen(id));
    if (r.mask != mask || k % 97 == 0) { /* the table was rebuilt */
      assert_consistent(&r);
      for (unsigned j = 0; j <= k; j++) {
        id_of(j, id);
        assert_int_equal(crdt__replicas_find(&r, id, strlen(id)), j);
      }
    }
  }
  /* an id differing in one byte from a stored one is another id */
  id_of(N - 1, id);
  id[0] = 'y';
  assert_int_equal(crdt__replicas_find(&r, id, strlen(id)), CRDT__NO_REPLICA);
  crdt__replicas_free(&r, &m);
}

static void test_replicas_ids_equal_agrees_with_memcmp(void **state) {
  (void)state;
  char a[80], b[80];
  for (size_t len = 0; len <= CRDT_REPLICA_MAX; len++) {
    for (size_t k = 0; k < len; k++) a[k] = b[k] = (char)('A' + k % 50);
    assert_true(crdt__ids_equal(a, b, len));
    for (size_t pos = 0; pos < len; pos++) {
      b[pos] ^= 0x20;
      assert_false(crdt__ids_equal(a, b, len));
      assert_false(crdt__ids_equal(b, a, len));
      b[pos] ^= 0x20;
    }
  }
}

static void test_replicas_record_sizes(void **state) {
  (void)state;
  for (size_t len = 1; len <= CRDT_REPLICA_MAX; len++) {
    size_t size = crdt__rid_size(len);
    assert_true(size >= 16);
    assert_int_equal(size % _Alignof(crdt__rid), 0);
    assert_true(size >= offsetof(crdt__rid, id) + len + 1);
  }
}

/* Missing ids are added in src's order after dst's, under their stored
 * hashes (which are those of the bytes: one seed per process). */
static void test_replicas_map_adds_missing_ids_in_source_order(void **state) {
  (void)state;
  crdt_allocator m = mem();
  crdt__replicas dst = {0}, src = {0};
  char id[80];
  for (unsigned k = 0; k < 40; k += 2) { /* dst: the even ids */
    id_of(k, id);
    intern(&dst, &m, id);
  }
  for (unsigned k = 0; k < 80; k++) { /* src: all of them, from the end */
    id_of(79 - k, id);
    intern(&src, &m, id);
  }
  uint32_t before = dst.count, map[80], next = before;
  assert_int_equal(crdt__replicas_map_into(&dst, &m, &src, map), 0);
  for (uint32_t i = 0; i < src.count; i++) {
    size_t len;
    const char *sid = crdt__replicas_id(&src, i, &len);
    unsigned k = 79 - i;
    if (k < 40 && k % 2 == 0) {
      assert_int_equal(map[i], k / 2);
    } else {
      assert_int_equal(map[i], next);
      next++;
    }
    assert_int_equal(crdt__replicas_find(&dst, sid, len), map[i]);
    assert_string_equal(crdt__replicas_id(&dst, map[i], NULL), sid);
  }
  assert_int_equal(dst.count, next);
  assert_consistent(&dst);
  /* mapped again: nothing to add */
  assert_int_equal(crdt__replicas_map_into(&dst, &m, &src, map), 0);
  assert_int_equal(dst.count, next);
  crdt__replicas_free(&dst, &m);
  crdt__replicas_free(&src, &m);
}

static void test_replicas_truncate_undoes_interning(void **state) {
  (void)state;
  crdt_allocator m = mem();
  crdt__replicas r = {0};
  char id[80];
  for (unsigned k = 0; k < 100; k++) {
    id_of(k, id);
    intern(&r, &m, id);
  }
  crdt__replicas_truncate(&r, &m, 37);
  assert_int_equal(r.count, 37);
  assert_consistent(&r);
  for (unsigned k = 0; k < 100; k++) {
    id_of(k, id);
    assert_int_equal(crdt__replicas_find(&r, id, strlen(id)),
                     k < 37 ? k : CRDT__NO_REPLICA);
  }
  /* the dropped ids come back with new indexes, in the new order */
  for (unsigned k = 99; k >= 37; k--) {
    id_of(k, id);
    assert_int_equal(intern(&r, &m, id), 37 + (99 - k));
  }
  assert_consistent(&r);
  crdt__replicas_truncate(&r, &m, 0);
  assert_int_equal(r.count, 0);
  assert_consistent(&r);
  assert_int_equal(intern(&r, &m, "again"), 0);
  crdt__replicas_free(&r, &m);
}

static void test_replicas_copy_keeps_indexes(void **state) {
  (void)state;
  crdt_allocator m = mem();
  crdt__replicas r = {0}, c = {0}, empty = {0}, e2 = {0};
  char id[80];
  for (unsigned k = 0; k < 150; k++) {
    id_of(k * 7, id);
    intern(&r, &m, id);
  }
  assert_int_equal(crdt__replicas_copy(&c, &m, &r), 0);
  assert_int_equal(c.count, r.count);
  assert_consistent(&c);
  for (uint32_t i = 0; i < r.count; i++) {
    size_t len;
    const char *rid = crdt__replicas_id(&r, i, &len);
    assert_string_equal(crdt__replicas_id(&c, i, NULL), rid);
    assert_int_equal(crdt__replicas_find(&c, rid, len), i);
  }
  /* the copy is independent and grows on its own */
  assert_int_equal(intern(&c, &m, "only-in-the-copy"), 150);
  assert_int_equal(crdt__replicas_find(&r, "only-in-the-copy", 16),
                   CRDT__NO_REPLICA);
  assert_int_equal(crdt__replicas_copy(&e2, &m, &empty), 0);
  assert_int_equal(e2.count, 0);
  crdt__replicas_free(&r, &m);
  crdt__replicas_free(&c, &m);
  crdt__replicas_free(&e2, &m);
}

/* ---- atomicity under allocation failure ---------------------------------- */

typedef struct fx {
  crdt_allocator m;
  crdt__replicas dst, src;
} fx;

/* Ids the destination holds before the operation. */
static unsigned fill;

static void *fx_setup(void) {
  fx *f = calloc(1, sizeof *f);
  assert_non_null(f);
  f->m = mem();
  char id[80];
  for (unsigned k = 0; k < fill; k++) {
    id_of(k, id);
    intern(&f->dst, &f->m, id);
  }
  intern(&f->src, &f->m, "a-replica-new-to-dst-with-a-long-id");
  return f;
}

static void fx_teardown(void *p) {
  fx *f = p;
  crdt__replicas_free(&f->dst, &f->m);
  crdt__replicas_free(&f->src, &f->m);
  free(f);
}

/* The ids of dst in index order, each found at its index. */
static char *fx_snapshot(void *p) {
  const crdt__replicas *r = &((fx *)p)->dst;
  assert_consistent(r);
  size_t cap = 16 + (size_t)r->count * 72, len = 0;
  char *s = malloc(cap);
  assert_non_null(s);
  len += (size_t)snprintf(s, cap, "%u:", (unsigned)r->count);
  for (uint32_t i = 0; i < r->count; i++) {
    size_t n;
    const char *id = crdt__replicas_id(r, i, &n);
    assert_int_equal(crdt__replicas_find(r, id, n), i);
    len += (size_t)snprintf(s + len, cap - len, " %s", id);
  }
  return s;
}

static int run_intern(void *p) {
  fx *f = p;
  uint32_t i;
  return crdt__replicas_intern(&f->dst, &f->m, "new", 3, &i);
}

static int run_add_grown(void *p) {
  fx *f = p;
  uint32_t i;
  return crdt__replicas_add_grown(&f->dst, &f->m, f->src.by_index[0], &i);
}

static int run_map(void *p) {
  fx *f = p;
  uint32_t map[1];
  return crdt__replicas_map_into(&f->dst, &f->m, &f->src, map);
}

static void test_replicas_adding_is_atomic_under_oom(void **state) {
  (void)state;
  /* Every fill level up to 70 ids meets each part full in turn: the id
   * chunk, the index array and the slots. */
  static const struct {
    const char *name;
    int (*run)(void *);
  } runs[] = {{"intern", run_intern},
              {"add grown", run_add_grown},
              {"map into", run_map}};
  for (size_t k = 0; k < sizeof runs / sizeof *runs; k++) {
    unsigned points = 0;
    for (fill = 0; fill <= 70; fill++) {
      tu_oom_case c = {runs[k].name, fx_setup, runs[k].run, fx_snapshot,
                       fx_teardown};
      points += tu_check_oom(&c);
    }
    print_message("%s: %u allocation points failed\n", runs[k].name, points);
    assert_true(points >= 3);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_replicas_intern_finds_every_id_as_the_table_grows),
      cmocka_unit_test(test_replicas_ids_equal_agrees_with_memcmp),
      cmocka_unit_test(test_replicas_record_sizes),
      cmocka_unit_test(test_replicas_map_adds_missing_ids_in_source_order),
      cmocka_unit_test(test_replicas_truncate_undoes_interning),
      cmocka_unit_test(test_replicas_copy_keeps_indexes),
      cmocka_unit_test(test_replicas_adding_is_atomic_under_oom),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * The map (include/crdt/map.h): scenario tests, each named after the
 * scenario or the bug of another implementation it replays
 * (/work/shared/research/ormap-anchors.md has the sources), and the API's
 * behaviour at its edges. The scenarios run through the lockstep runner
 * (tests/support/map_model.h), so every step is also checked against the
 * reference model; each test then asserts the outcome it is about
 * explicitly.
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

/* ---- helpers -------------------------------------------------------------------- */

static char *text_of(const crdt_map *m,
                     int (*fmt)(const crdt_object *, char *, size_t,
                                size_t *)) {
  size_t need = 0;
  const crdt_object *o = (const crdt_object *)(const void *)m;
  assert_int_equal(fmt(o, NULL, 0, &need), CRDT_ENOSPC);
  char *t = malloc(need + 1);
  assert_non_null(t);
  assert_int_equal(fmt(o, t, need + 1, NULL), 0);
  return t;
}

static void assert_value(const crdt_map *m, const char *want) {
  char *got = text_of(m, crdt_object_value_json);
  assert_string_equal(got, want);
  free(got);
}

static void assert_context(const crdt_map *m, const char *want) {
  char *got = text_of(m, crdt_object_context_text);
  assert_string_equal(got, want);
  free(got);
}

static uint8_t *encode(const crdt_map *m, size_t *len) {
  const crdt_object *o = (const crdt_object *)(const void *)m;
  assert_int_equal(crdt_encode(o, NULL, 0, len), CRDT_ENOSPC);
  uint8_t *b = malloc(*len);
  assert_non_null(b);
  assert_int_equal(crdt_encode(o, b, *len, len), 0);
  return b;
}

static crdt_map *decode(const uint8_t *b, size_t len) {
  crdt_object *o = NULL;
  assert_int_equal(crdt_decode(b, len, NULL, &o), 0);
  assert_non_null(crdt_object_map(o));
  return crdt_object_map(o);
}

/* A map through bytes and back: equal, and the same bytes again. */
static void assert_round_trip(const crdt_map *m) {
  size_t len, len2;
  uint8_t *b = encode(m, &len);
  crdt_map *back = decode(b, len);
  assert_true(crdt_map_equal(back, m));
  uint8_t *b2 = encode(back, &len2);
  assert_int_equal(len, len2);
  assert_memory_equal(b, b2, len);
  free(b);
  free(b2);
  crdt_map_free(back);
}

static crdt_map *new_map(const char *id) {
  crdt_map *m = NULL;
  assert_int_equal(crdt_map_new(id, &m), 0);
  return m;
}

/* ---- library bugs the model found ------------------------------------------------- */

/* A field remove's delta lists the removed keys as markers without dots;
 * encoding it sorted the dots of each marker into a scratch buffer that is
 * NULL when no key of the delta has a dot (memcpy(NULL, .., 0): undefined
 * behaviour, reported by UBSan). */
static void test_map_encode_delta_of_markers_only(void **state) {
  (void)state;
  crdt_map *a = new_map("A"), *d = new_map(NULL);
  assert_int_equal(crdt_map_flag_enable(a, CRDT_PATH("p", "f"), NULL), 0);
  assert_int_equal(crdt_map_counter_inc(a, CRDT_PATH("p", "c"), 2, NULL), 0);
  assert_int_equal(crdt_map_remove(a, CRDT_PATH("p"), CRDT_FIELD_MAP, d), 0);
  assert_value(d, "[]");
  assert_context(d, "{A:3}");
  assert_round_trip(d);
  crdt_map_free(a);
  crdt_map_free(d);
}

/* map.h: crdt_map_counter_value returns CRDT_ERANGE with the value clamped
 * when the exact sum is outside int64 (two replicas each near INT64_MAX);
 * it returned 0 with the clamped value. The exact sum still counts: one
 * decrement brings it back in range. */
static void test_map_counter_value_out_of_range_is_erange(void **state) {
  (void)state;
  crdt_map *a = new_map("A"), *b = new_map("B");
  crdt_path p = CRDT_PATH("n");
  assert_int_equal(crdt_map_counter_inc(a, p, INT64_MAX, NULL), 0);
  assert_int_equal(crdt_map_counter_inc(b, p, 5, NULL), 0);
  assert_int_equal(crdt_map_merge(a, b), 0);
  int64_t v = 0;
  assert_int_equal(crdt_map_counter_value(a, p, &v), CRDT_ERANGE);
  assert_true(v == INT64_MAX);
  /* no further increment fits; a decrement does */
  assert_int_equal(crdt_map_counter_inc(a, p, 1, NULL), CRDT_ERANGE);
  assert_int_equal(crdt_map_counter_dec(a, p, 5, NULL), 0);
  assert_int_equal(crdt_map_counter_value(a, p, &v), 0);
  assert_true(v == INT64_MAX);
  /* below: -2^63 exactly is in range, one less is not */
  crdt_map *c = new_map("C"), *d = new_map("D");
  assert_int_equal(crdt_map_counter_dec(c, p, INT64_MAX, NULL), 0);
  assert_int_equal(crdt_map_counter_dec(c, p, 1, NULL), 0);
  assert_int_equal(crdt_map_counter_value(c, p, &v), 0);
  assert_true(v == INT64_MIN);
  assert_int_equal(crdt_map_counter_dec(d, p, 1, NULL), 0);
  assert_int_equal(crdt_map_merge(c, d), 0);
  assert_int_equal(crdt_map_counter_value(c, p, &v), CRDT_ERANGE);
  assert_true(v == INT64_MIN);
  crdt_map_free(a);
  crdt_map_free(b);
  crdt_map_free(c);
  crdt_map_free(d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_map_encode_delta_of_markers_only),
      cmocka_unit_test(test_map_counter_value_out_of_range_is_erange),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Checks shared by the map's cmocka tests (tests/test_map*.c): texts,
 * round trips, small constructors. See map_check.h.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "map_check.h"

char *mc_text(const crdt_map *m,
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

void mc_assert_value(const crdt_map *m, const char *want) {
  char *got = mc_text(m, crdt_object_value_json);
  assert_string_equal(got, want);
  free(got);
}

void mc_assert_context(const crdt_map *m, const char *want) {
  char *got = mc_text(m, crdt_object_context_text);
  assert_string_equal(got, want);
  free(got);
}

uint8_t *mc_encode(const crdt_map *m, size_t *len) {
  const crdt_object *o = (const crdt_object *)(const void *)m;
  assert_int_equal(crdt_encode(o, NULL, 0, len), CRDT_ENOSPC);
  uint8_t *b = malloc(*len);
  assert_non_null(b);
  assert_int_equal(crdt_encode(o, b, *len, len), 0);
  return b;
}

crdt_map *mc_decode(const uint8_t *b, size_t len) {
  crdt_object *o = NULL;
  assert_int_equal(crdt_decode(b, len, NULL, &o), 0);
  assert_non_null(crdt_object_map(o));
  return crdt_object_map(o);
}

void mc_assert_round_trip(const crdt_map *m) {
  size_t len, len2;
  uint8_t *b = mc_encode(m, &len);
  crdt_map *back = mc_decode(b, len);
  assert_true(crdt_map_equal(back, m));
  uint8_t *b2 = mc_encode(back, &len2);
  assert_int_equal(len, len2);
  assert_memory_equal(b, b2, len);
  free(b);
  free(b2);
  crdt_map_free(back);
}

crdt_map *mc_new_map(const char *id) {
  crdt_map *m = NULL;
  assert_int_equal(crdt_map_new(id, &m), 0);
  return m;
}

int mc_count_field(crdt_bytes name, crdt_field_type type, void *user) {
  (void)name;
  (void)type;
  ++*(unsigned *)user;
  return 0;
}

/*
 * The map's API at its edges (include/crdt/map.h): path validation, what
 * refused updates leave, delta arguments, counter limits, CRDT_PATH,
 * readers of absent fields, walk order, and the size of keyed deltas.
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
#include "map_check.h"

/* Every mutator with path `p` and delta `delta` (NULL: a fresh delta map,
 * checked to stay empty): all must return `want` and change nothing. */
static void assert_all_updates_to(crdt_map *m, crdt_path p, crdt_map *delta,
                                  int want) {
  size_t before_len, after_len;
  uint8_t *before = mc_encode(m, &before_len);
  crdt_map *d = delta ? delta : mc_new_map(NULL);
  assert_int_equal(crdt_map_counter_inc(m, p, 1, d), want);
  assert_int_equal(crdt_map_counter_dec(m, p, 1, d), want);
  assert_int_equal(crdt_map_orset_add(m, p, "x", 1, d), want);
  assert_int_equal(crdt_map_mvreg_set(m, p, "x", 1, d), want);
  assert_int_equal(crdt_map_lwwreg_set(m, p, "x", 1, 5, d), want);
  assert_int_equal(crdt_map_flag_enable(m, p, d), want);
  if (want != CRDT_ENOREPLICA) { /* these find nothing to remove first */
    assert_int_equal(crdt_map_orset_remove(m, p, "x", 1, d), want);
    assert_int_equal(crdt_map_flag_disable(m, p, d), want);
    assert_int_equal(crdt_map_remove(m, p, CRDT_FIELD_COUNTER, d), want);
  }
  uint8_t *after = mc_encode(m, &after_len);
  assert_int_equal(before_len, after_len);
  assert_memory_equal(before, after, before_len);
  if (!delta) {
    mc_assert_value(d, "[]");
    mc_assert_context(d, "{}");
    crdt_map_free(d);
  }
  free(before);
  free(after);
}

static void assert_all_updates(crdt_map *m, crdt_path p, int want) {
  assert_all_updates_to(m, p, NULL, want);
}

static void test_map_path_validation(void **state) {
  (void)state;
  crdt_map *m = mc_new_map("A");
  crdt_bytes names[CRDT_MAP_DEPTH_MAX + 1];
  for (size_t i = 0; i <= CRDT_MAP_DEPTH_MAX; i++) names[i] = CRDT_STR("n");
  assert_all_updates(m, (crdt_path){names, 0}, CRDT_EINVAL);
  assert_all_updates(m, (crdt_path){NULL, 1}, CRDT_EINVAL);
  assert_all_updates(m, (crdt_path){names, CRDT_MAP_DEPTH_MAX + 1},
                     CRDT_EINVAL);
  /* a name of UINT32_MAX bytes, first and last (never read) */
  crdt_bytes huge[2] = {{"n", (size_t)UINT32_MAX}, {"n", 1}};
  assert_all_updates(m, (crdt_path){huge, 2}, CRDT_EINVAL);
  crdt_bytes huge_last[2] = {{"n", 1}, {"n", (size_t)UINT32_MAX}};
  assert_all_updates(m, (crdt_path){huge_last, 2}, CRDT_EINVAL);
  crdt_bytes null_name[1] = {{NULL, 3}};
  assert_all_updates(m, (crdt_path){null_name, 1}, CRDT_EINVAL);
  /* an unknown field type, NULL data with a size */
  assert_int_equal(crdt_map_remove(m, CRDT_PATH("n"), (crdt_field_type)7,
                                   NULL),
                   CRDT_EINVAL);
  assert_int_equal(crdt_map_remove(m, CRDT_PATH("n"), (crdt_field_type)0,
                                   NULL),
                   CRDT_EINVAL);
  assert_int_equal(crdt_map_orset_add(m, CRDT_PATH("n"), NULL, 2, NULL),
                   CRDT_EINVAL);
  assert_int_equal(crdt_map_mvreg_set(m, CRDT_PATH("n"), NULL, 2, NULL),
                   CRDT_EINVAL);
  assert_int_equal(crdt_map_counter_inc(NULL, CRDT_PATH("n"), 1, NULL),
                   CRDT_EINVAL);
  /* readers: invalid paths read as absent */
  assert_false(crdt_map_has(m, (crdt_path){names, CRDT_MAP_DEPTH_MAX + 1},
                            CRDT_FIELD_MAP));
  assert_false(crdt_map_has(m, (crdt_path){huge, 2}, CRDT_FIELD_COUNTER));
  unsigned n = 0;
  assert_int_equal(crdt_map_fields(m, (crdt_path){names,
                                                  CRDT_MAP_DEPTH_MAX + 1},
                                   mc_count_field, &n),
                   CRDT_EINVAL);
  /* the deepest path works, and the empty name */
  assert_int_equal(
      crdt_map_counter_inc(m, (crdt_path){names, CRDT_MAP_DEPTH_MAX}, 3, NULL),
      0);
  int64_t v = 0;
  assert_int_equal(
      crdt_map_counter_value(m, (crdt_path){names, CRDT_MAP_DEPTH_MAX}, &v), 0);
  assert_int_equal(v, 3);
  assert_true(crdt_map_has(m, (crdt_path){names, CRDT_MAP_DEPTH_MAX - 1},
                           CRDT_FIELD_MAP));
  assert_int_equal(crdt_map_flag_enable(m, CRDT_PATH(""), NULL), 0);
  assert_true(crdt_map_flag_enabled(m, CRDT_PATH("")));
  mc_assert_round_trip(m);
  crdt_map_free(m);
}

/* Removing what this replica does not see: CRDT_ENOENT, nothing changes,
 * no dot (the next update takes counter 2). */
static void test_map_enoent_changes_nothing_and_makes_no_dot(void **state) {
  (void)state;
  crdt_map *m = mc_new_map("A");
  assert_int_equal(crdt_map_orset_add(m, CRDT_PATH("m", "s"), "x", 1, NULL),
                   0);
  size_t len, len2;
  uint8_t *before = mc_encode(m, &len);
  crdt_map *d = mc_new_map(NULL);
  assert_int_equal(crdt_map_orset_remove(m, CRDT_PATH("m", "s"), "y", 1, d),
                   CRDT_ENOENT);
  assert_int_equal(crdt_map_orset_remove(m, CRDT_PATH("m", "t"), "x", 1, d),
                   CRDT_ENOENT);
  assert_int_equal(crdt_map_orset_remove(m, CRDT_PATH("q", "s"), "x", 1, d),
                   CRDT_ENOENT);
  assert_int_equal(crdt_map_flag_disable(m, CRDT_PATH("m", "f"), d),
                   CRDT_ENOENT);
  assert_int_equal(crdt_map_remove(m, CRDT_PATH("m", "s"), CRDT_FIELD_MVREG, d),
                   CRDT_ENOENT); /* same name, other type */
  assert_int_equal(crdt_map_remove(m, CRDT_PATH("m"), CRDT_FIELD_ORSET, d),
                   CRDT_ENOENT);
  assert_int_equal(crdt_map_remove(m, CRDT_PATH("m", "s", "z"),
                                   CRDT_FIELD_MAP, d),
                   CRDT_ENOENT); /* through a set, not a map */
  assert_int_equal(crdt_map_remove(m, CRDT_PATH("x"), CRDT_FIELD_MAP, d),
                   CRDT_ENOENT);
  uint8_t *after = mc_encode(m, &len2);
  assert_int_equal(len, len2);
  assert_memory_equal(before, after, len);
  mc_assert_value(d, "[]");
  mc_assert_context(d, "{}");
  assert_int_equal(crdt_map_flag_enable(m, CRDT_PATH("f"), d), 0);
  mc_assert_context(d, "{} + {A:2}"); /* the delta names its own dot only */
  mc_assert_context(m, "{A:2}");
  /* an emptied set reads as absent, and removing it again is ENOENT */
  assert_int_equal(crdt_map_orset_remove(m, CRDT_PATH("m", "s"), "x", 1, NULL),
                   0);
  assert_false(crdt_map_has(m, CRDT_PATH("m"), CRDT_FIELD_MAP));
  assert_int_equal(crdt_map_remove(m, CRDT_PATH("m"), CRDT_FIELD_MAP, NULL),
                   CRDT_ENOENT);
  free(before);
  free(after);
  crdt_map_free(m);
  crdt_map_free(d);
}

/* Delta arguments: NULL is fine; another type's object: CRDT_ETYPE (also
 * through crdt_object_update); the map itself: CRDT_EINVAL; a map without
 * a replica id cannot update: CRDT_ENOREPLICA. Nothing changes. */
static void test_map_delta_arguments(void **state) {
  (void)state;
  crdt_map *m = mc_new_map("A");
  crdt_orset *other = NULL;
  assert_int_equal(crdt_orset_new(NULL, &other), 0);
  crdt_map *wrong = (crdt_map *)(void *)other; /* what a C caller can do */
  crdt_path p = CRDT_PATH("c");
  assert_int_equal(crdt_map_counter_inc(m, p, 1, NULL), 0);
  assert_int_equal(crdt_map_flag_enable(m, p, NULL), 0);
  assert_int_equal(crdt_map_orset_add(m, p, "x", 1, NULL), 0);
  assert_all_updates_to(m, p, wrong, CRDT_ETYPE);
  assert_all_updates_to(m, p, m, CRDT_EINVAL);
  crdt_update u = {0};
  u.op = CRDT_OP_INC;
  u.path = p;
  u.field = CRDT_FIELD_COUNTER;
  assert_int_equal(crdt_object_update(crdt_map_object(m), &u,
                                      crdt_orset_object(other)),
                   CRDT_ETYPE);
  assert_int_equal(crdt_object_update(crdt_map_object(m), &u,
                                      crdt_map_object(m)),
                   CRDT_EINVAL);
  mc_assert_context(m, "{A:3}");
  crdt_map *none = mc_new_map(NULL);
  assert_all_updates(none, p, CRDT_ENOREPLICA);
  assert_int_equal(crdt_map_merge(none, m), 0); /* now it holds fields */
  assert_all_updates(none, p, CRDT_ENOREPLICA);
  assert_int_equal(crdt_map_remove(none, p, CRDT_FIELD_COUNTER, NULL),
                   CRDT_ENOREPLICA);
  assert_int_equal(crdt_object_update(crdt_map_object(none), &u, NULL),
                   CRDT_ENOREPLICA);
  crdt_map_free(none);
  crdt_map_free(m);
  crdt_orset_free(other);
}

/* Counter amounts: 0 is CRDT_EINVAL, past INT64_MAX CRDT_ERANGE, and a
 * change that would take this replica's view past int64 CRDT_ERANGE. */
static void test_map_counter_overflow_erange(void **state) {
  (void)state;
  crdt_map *m = mc_new_map("A");
  crdt_path p = CRDT_PATH("m", "c");
  assert_int_equal(crdt_map_counter_inc(m, p, 0, NULL), CRDT_EINVAL);
  assert_int_equal(crdt_map_counter_dec(m, p, 0, NULL), CRDT_EINVAL);
  assert_int_equal(crdt_map_counter_inc(m, p, (uint64_t)INT64_MAX + 1, NULL),
                   CRDT_ERANGE);
  assert_int_equal(crdt_map_counter_dec(m, p, (uint64_t)INT64_MAX + 1, NULL),
                   CRDT_ERANGE);
  assert_int_equal(crdt_map_counter_inc(m, p, (uint64_t)INT64_MAX, NULL), 0);
  assert_int_equal(crdt_map_counter_inc(m, p, 1, NULL), CRDT_ERANGE);
  mc_assert_context(m, "{A:1}");
  assert_int_equal(crdt_map_counter_dec(m, p, (uint64_t)INT64_MAX, NULL), 0);
  assert_int_equal(crdt_map_counter_dec(m, p, (uint64_t)INT64_MAX, NULL), 0);
  assert_int_equal(crdt_map_counter_dec(m, p, 1, NULL), 0);
  assert_int_equal(crdt_map_counter_dec(m, p, 1, NULL), CRDT_ERANGE);
  int64_t v = 0;
  assert_int_equal(crdt_map_counter_value(m, p, &v), 0);
  assert_true(v == INT64_MIN);
  /* after a remove the count starts again from zero */
  assert_int_equal(crdt_map_remove(m, p, CRDT_FIELD_COUNTER, NULL), 0);
  assert_int_equal(crdt_map_counter_inc(m, p, (uint64_t)INT64_MAX, NULL), 0);
  crdt_map_free(m);
}

static int collect_names(crdt_bytes name, crdt_field_type type, void *user) {
  char *out = user;
  size_t at = strlen(out);
  snprintf(out + at, 256 - at, "%s%.*s:%s", at ? " " : "", (int)name.size,
           (const char *)name.data, crdt_field_type_name(type));
  return 0;
}

/* CRDT_PATH takes 1 to 8 names; each makes the path it says. */
static void test_map_path_macro_1_to_8_names(void **state) {
  (void)state;
  crdt_map *m = mc_new_map("A");
  crdt_path p[8] = {
      CRDT_PATH("a"),
      CRDT_PATH("a", "b"),
      CRDT_PATH("a", "b", "c"),
      CRDT_PATH("a", "b", "c", "d"),
      CRDT_PATH("a", "b", "c", "d", "e"),
      CRDT_PATH("a", "b", "c", "d", "e", "f"),
      CRDT_PATH("a", "b", "c", "d", "e", "f", "g"),
      CRDT_PATH("a", "b", "c", "d", "e", "f", "g", "h"),
  };
  for (size_t i = 0; i < 8; i++) {
    assert_int_equal(p[i].depth, i + 1);
    for (size_t j = 0; j <= i; j++) {
      assert_int_equal(p[i].names[j].size, 1);
      assert_int_equal(((const char *)p[i].names[j].data)[0], 'a' + (int)j);
    }
    assert_int_equal(crdt_map_counter_inc(m, p[i], i + 1, NULL), 0);
  }
  for (size_t i = 0; i < 8; i++) {
    int64_t v = 0;
    assert_int_equal(crdt_map_counter_value(m, p[i], &v), 0);
    assert_int_equal(v, (int64_t)i + 1);
    char names[256] = "";
    assert_int_equal(crdt_map_fields(m, p[i], collect_names, names), 0);
    char want[32] = "";
    const char x = (char)('a' + i + 1);
    if (i < 6)
      snprintf(want, sizeof want, "%c:counter %c:map", x, x);
    else if (i == 6)
      snprintf(want, sizeof want, "%c:counter", x);
    assert_string_equal(names, want);
  }
  crdt_map_free(m);
}

static int stop_after(crdt_bytes item, void *user) {
  (void)item;
  return ++*(int *)user == 2 ? 7 : 0;
}

static int stop_field(crdt_bytes name, crdt_field_type type, void *user) {
  (void)name;
  (void)type;
  return ++*(int *)user == 2 ? 9 : 0;
}

static int never(crdt_bytes item, void *user) {
  (void)item;
  (void)user;
  fail_msg("called for an absent field");
  return 0;
}

static int never_field(crdt_bytes name, crdt_field_type type, void *user) {
  (void)name;
  (void)type;
  (void)user;
  fail_msg("called for an absent map");
  return 0;
}

/* Readers of fields that are not there, including paths that go through a
 * field that is not a map: absent, never an error or a crash. */
static void test_map_readers_on_absent_fields(void **state) {
  (void)state;
  crdt_map *m = mc_new_map("A");
  assert_int_equal(crdt_map_counter_inc(m, CRDT_PATH("c"), 2, NULL), 0);
  crdt_path absent[] = {CRDT_PATH("x"), CRDT_PATH("c", "x"),
                        CRDT_PATH("m", "c")};
  for (size_t i = 0; i < 3; i++) {
    crdt_path p = absent[i];
    for (unsigned t = CRDT_FIELD_COUNTER; t <= CRDT_FIELD_MAP; t++)
      assert_false(crdt_map_has(m, p, (crdt_field_type)t));
    int64_t v = 5;
    assert_int_equal(crdt_map_counter_value(m, p, &v), CRDT_ENOENT);
    assert_int_equal(v, 0);
    assert_false(crdt_map_orset_contains(m, p, "x", 1));
    assert_false(crdt_map_flag_enabled(m, p));
    crdt_bytes val = {"?", 1};
    uint64_t ts = 9;
    assert_int_equal(crdt_map_lwwreg_get(m, p, &val, &ts), CRDT_ENOENT);
    assert_int_equal(crdt_map_items(m, p, CRDT_FIELD_ORSET, never, NULL), 0);
    assert_int_equal(crdt_map_items(m, p, CRDT_FIELD_MVREG, never, NULL), 0);
    assert_int_equal(crdt_map_fields(m, p, never_field, NULL), 0);
  }
  /* the counter is not a flag, a set or a map */
  assert_false(crdt_map_flag_enabled(m, CRDT_PATH("c")));
  assert_int_equal(crdt_map_fields(m, CRDT_PATH("c"), never_field, NULL), 0);
  assert_int_equal(crdt_map_items(m, CRDT_PATH("c"), CRDT_FIELD_COUNTER, never,
                                  NULL),
                   CRDT_EINVAL);
  assert_int_equal(crdt_map_counter_value(NULL, CRDT_PATH("c"), NULL),
                   CRDT_EINVAL);
  assert_int_equal(crdt_map_lwwreg_get(NULL, CRDT_PATH("c"), NULL, NULL),
                   CRDT_EINVAL);
  assert_int_equal(crdt_map_fields(m, CRDT_PATH("c"), NULL, NULL),
                   CRDT_EINVAL);
  crdt_map_free(m);
}

/* Fields walk by name bytes (the shorter first on a common prefix), then
 * by type code; items by bytes; a non-zero return stops either walk and
 * is returned. */
static void test_map_fields_and_items_order_and_early_stop(void **state) {
  (void)state;
  crdt_map *m = mc_new_map("A");
  const char *order[] = {"b", "ab", "a", "", "\xff", "a\x01"};
  for (size_t i = 0; i < 6; i++) {
    assert_int_equal(crdt_map_flag_enable(m, CRDT_PATH(order[i]), NULL), 0);
    assert_int_equal(crdt_map_counter_inc(m, CRDT_PATH(order[i]), 1, NULL), 0);
  }
  assert_int_equal(crdt_map_orset_add(m, CRDT_PATH("a", "s"), "y", 1, NULL), 0);
  assert_int_equal(crdt_map_orset_add(m, CRDT_PATH("a", "s"), "x", 1, NULL), 0);
  assert_int_equal(crdt_map_orset_add(m, CRDT_PATH("a", "s"), "xy", 2, NULL),
                   0);
  assert_int_equal(crdt_map_orset_add(m, CRDT_PATH("a", "s"), "", 0, NULL), 0);
  char names[256] = "";
  assert_int_equal(crdt_map_fields(m, (crdt_path){NULL, 0}, collect_names,
                                   names),
                   0);
  assert_string_equal(names, ":counter :flag a:counter a:flag a:map "
                             "a\x01:counter a\x01:flag ab:counter ab:flag "
                             "b:counter b:flag \xff:counter \xff:flag");
  mc_assert_value(m, "[{\"name\": \"\", \"type\": \"counter\", \"value\": 1}, "
                  "{\"name\": \"\", \"type\": \"flag\", \"value\": true}, "
                  "{\"name\": \"a\", \"type\": \"counter\", \"value\": 1}, "
                  "{\"name\": \"a\", \"type\": \"flag\", \"value\": true}, "
                  "{\"name\": \"a\", \"type\": \"map\", \"value\": "
                  "[{\"name\": \"s\", \"type\": \"orset\", \"value\": "
                  "[\"\", \"x\", \"xy\", \"y\"]}]}, "
                  "{\"name\": \"a\\u0001\", \"type\": \"counter\", "
                  "\"value\": 1}, "
                  "{\"name\": \"a\\u0001\", \"type\": \"flag\", "
                  "\"value\": true}, "
                  "{\"name\": \"ab\", \"type\": \"counter\", \"value\": 1}, "
                  "{\"name\": \"ab\", \"type\": \"flag\", \"value\": true}, "
                  "{\"name\": \"b\", \"type\": \"counter\", \"value\": 1}, "
                  "{\"name\": \"b\", \"type\": \"flag\", \"value\": true}, "
                  "{\"name\": \"\\u00ff\", \"type\": \"counter\", "
                  "\"value\": 1}, "
                  "{\"name\": \"\\u00ff\", \"type\": \"flag\", "
                  "\"value\": true}]");
  int calls = 0;
  assert_int_equal(crdt_map_fields(m, (crdt_path){NULL, 0}, stop_field, &calls),
                   9);
  assert_int_equal(calls, 2);
  calls = 0;
  assert_int_equal(crdt_map_items(m, CRDT_PATH("a", "s"), CRDT_FIELD_ORSET,
                                  stop_after, &calls),
                   7);
  assert_int_equal(calls, 2);
  crdt_map_free(m);
}

/* Does `needle` occur in the bytes? */
static bool contains_bytes(const uint8_t *b, size_t len, const char *needle) {
  size_t n = strlen(needle);
  for (size_t i = 0; i + n <= len; i++)
    if (memcmp(b + i, needle, n) == 0) return true;
  return false;
}

/* Keyed deltas: a field remove's delta lists every key below the field (as
 * markers) and nothing else, so joining it costs what it lists; a nested
 * update's delta is its path and one dot. Both are byte-identical whether
 * the map holds 1 or 500 other fields (built with the same number of
 * updates, so the dots are the same). */
static void test_map_keyed_delta_sizes(void **state) {
  (void)state;
  crdt_map *big = mc_new_map("A"), *small = mc_new_map("A");
  crdt_path cnt = CRDT_PATH("other");
  for (unsigned i = 0; i < 500; i++) {
    char name[16];
    snprintf(name, sizeof name, "field-%u", i);
    assert_int_equal(crdt_map_counter_inc(big, CRDT_PATH(name), 1, NULL), 0);
    assert_int_equal(crdt_map_counter_inc(small, cnt, 1, NULL), 0);
  }
  crdt_map *maps[2] = {big, small};
  uint8_t *rm[2], *up[2];
  size_t rm_len[2], up_len[2];
  for (int i = 0; i < 2; i++) {
    crdt_map *m = maps[i];
    assert_int_equal(
        crdt_map_orset_add(m, CRDT_PATH("doc", "tags"), "key-one", 7, NULL), 0);
    assert_int_equal(
        crdt_map_orset_add(m, CRDT_PATH("doc", "tags"), "key-two", 7, NULL), 0);
    assert_int_equal(
        crdt_map_counter_inc(m, CRDT_PATH("doc", "sub", "key-three"), 1, NULL),
        0);
    crdt_map *d = mc_new_map(NULL);
    assert_int_equal(
        crdt_map_counter_inc(m, CRDT_PATH("doc", "sub", "key-four"), 2, d), 0);
    up[i] = mc_encode(d, &up_len[i]);
    crdt_map_free(d);
    d = mc_new_map(NULL);
    assert_int_equal(crdt_map_remove(m, CRDT_PATH("doc"), CRDT_FIELD_MAP, d),
                     0);
    rm[i] = mc_encode(d, &rm_len[i]);
    mc_assert_value(d, "[]");
    crdt_map_free(d);
  }
  assert_int_equal(up_len[0], up_len[1]);
  assert_memory_equal(up[0], up[1], up_len[0]);
  assert_int_equal(rm_len[0], rm_len[1]);
  assert_memory_equal(rm[0], rm[1], rm_len[0]);
  /* the remove's delta names each key below doc, the update's its path */
  const char *keys[] = {"doc", "tags", "key-one", "key-two", "sub",
                        "key-three", "key-four"};
  for (size_t k = 0; k < 7; k++)
    assert_true(contains_bytes(rm[0], rm_len[0], keys[k]));
  assert_false(contains_bytes(rm[0], rm_len[0], "field-"));
  assert_false(contains_bytes(rm[0], rm_len[0], "other"));
  assert_true(contains_bytes(up[0], up_len[0], "key-four"));
  assert_false(contains_bytes(up[0], up_len[0], "key-three"));
  assert_true(up_len[0] < 64);
  /* joined into a replica that holds everything, the remove empties doc */
  crdt_map *d = mc_decode(rm[0], rm_len[0]);
  assert_int_equal(crdt_map_merge(small, d), 0);
  assert_false(crdt_map_has(small, CRDT_PATH("doc"), CRDT_FIELD_MAP));
  crdt_map_free(d);
  for (int i = 0; i < 2; i++) {
    free(rm[i]);
    free(up[i]);
  }
  crdt_map_free(big);
  crdt_map_free(small);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_map_path_validation),
      cmocka_unit_test(test_map_enoent_changes_nothing_and_makes_no_dot),
      cmocka_unit_test(test_map_delta_arguments),
      cmocka_unit_test(test_map_counter_overflow_erange),
      cmocka_unit_test(test_map_path_macro_1_to_8_names),
      cmocka_unit_test(test_map_readers_on_absent_fields),
      cmocka_unit_test(test_map_fields_and_items_order_and_early_stop),
      cmocka_unit_test(test_map_keyed_delta_sizes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Checks shared by the map's cmocka tests (tests/test_map.c,
 * tests/test_map_api.c). They assert with cmocka, so only cmocka tests use
 * them (the model and the runner do not).
 */
#ifndef CRDT_TEST_MAP_CHECK_H
#define CRDT_TEST_MAP_CHECK_H

#include <stdint.h>

#include "crdt/crdt.h"

/* Text in the library's buffer contract (malloc'd; asserts success). */
char *mc_text(const crdt_map *m,
              int (*fmt)(const crdt_object *, char *, size_t, size_t *));
/* The map's value JSON / context text is exactly `want`. */
void mc_assert_value(const crdt_map *m, const char *want);
void mc_assert_context(const crdt_map *m, const char *want);
/* Encoding (malloc'd) and decoding (owner-less; must be a map). */
uint8_t *mc_encode(const crdt_map *m, size_t *len);
crdt_map *mc_decode(const uint8_t *b, size_t len);
/* Through bytes and back: equal, and the same bytes again. */
void mc_assert_round_trip(const crdt_map *m);
crdt_map *mc_new_map(const char *id);
/* A crdt_map_fields visitor counting fields into *(unsigned *)user. */
int mc_count_field(crdt_bytes name, crdt_field_type type, void *user);

#endif

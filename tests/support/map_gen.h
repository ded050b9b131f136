/*
 * Random map updates over a small universe of names, types and values, so
 * that random histories collide often: shared by the map's tests, the
 * codec round trips and the fuzzers.
 */
#ifndef CRDT_MAP_GEN_H
#define CRDT_MAP_GEN_H

#include "crdt/crdt.h"
#include "testutil.h"

/* A random update, as crdt_object_update takes it: a path of 1..max_depth
 * names from a small set (all but the last are maps), a field type, an op
 * that type has (a field remove now and then), an element or value from a
 * small set, an amount or timestamp. `names` holds the path's storage. */
typedef struct tu_map_update {
  crdt_update u;
  crdt_bytes names[CRDT_MAP_DEPTH_MAX];
} tu_map_update;

void tu_map_random(tu_map_update *m, tu_rng *rng, unsigned max_depth);

/* Applies a random update to obj (a map owned by a replica); delta may be
 * NULL. Returns crdt_object_update's code (CRDT_ENOENT for removing what is
 * not there). */
int tu_map_random_update(crdt_object *obj, tu_rng *rng, crdt_object *delta);

#endif

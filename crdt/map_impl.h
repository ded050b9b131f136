/*
 * The map's internals, shared by crdt/map.c (type, updates), crdt/map_read.c
 * (readers, JSON) and crdt/map_codec.c (wire format).
 *
 * Layout on the kernel's nested stores (src/store.h, "nested stores"): the
 * root store holds the root map's fields. A field's key is one byte, its
 * crdt_field_type, followed by its name, so one name with two types is two
 * keys. Counters and flags are entries with dots (a counter's dots carry
 * their amounts); the other fields are entries holding a nested store:
 *
 *   map      field key -> the nested map's fields
 *   OR-set   field key -> element -> the adds not yet removed
 *   MV-reg   field key -> value   -> the writes not yet superseded
 *   LWW-reg  field key -> value   -> the writes not yet dropped, each dot
 *                                    carrying its timestamp (as int64 bits)
 *
 * Everything shares the root's replica table and causal context.
 */
#ifndef CRDT_TYPES_MAP_IMPL_H
#define CRDT_TYPES_MAP_IMPL_H

#include "crdt/map.h"
#include "dotted.h"
#include "route.h"

struct crdt_map {
  crdt__dotted d;
};

extern const crdt__type crdt__map_type;

/* Is `code` a field type? */
static inline bool crdt__field_known(unsigned code) {
  return code >= CRDT_FIELD_COUNTER && code <= CRDT_FIELD_MAP;
}

/* Do fields of this type hold a nested store (rather than dots)? */
static inline bool crdt__field_nested(unsigned code) {
  return code == CRDT_FIELD_ORSET || code == CRDT_FIELD_MVREG ||
         code == CRDT_FIELD_LWWREG || code == CRDT_FIELD_MAP;
}

/* Do the dots of this field (or of its elements) carry values? */
static inline bool crdt__field_valued(unsigned code) {
  return code == CRDT_FIELD_COUNTER || code == CRDT_FIELD_LWWREG;
}

/* The keys of a path: keys[i] = type byte + name of path.names[i], the
 * type being map for all but the last, `type` for the last. Short paths
 * are built in `small`. */
typedef struct crdt__map_keys {
  crdt__key keys[CRDT_MAP_DEPTH_MAX];
  uint32_t depth;
  uint8_t small[256];
  uint8_t *heap;
  size_t heap_len;
} crdt__map_keys;

/* Checks and builds a path's keys. CRDT_EINVAL for a bad path (see map.h),
 * CRDT_ENOMEM. Free with crdt__map_keys_free. */
int crdt__map_keys_make(crdt__map_keys *k, const crdt_allocator *m,
                        crdt_path path, crdt_field_type type);
void crdt__map_keys_free(crdt__map_keys *k, const crdt_allocator *m);

/* The entry of the field keys[depth - 1] (nested keys before it), or NULL;
 * `route` receives the route to the field's store. */
crdt__entry *crdt__map_field(crdt_map *map, const crdt__map_keys *k,
                             crdt__route *route);
/* The same, for reading. */
const crdt__entry *crdt__map_field_read(const crdt_map *map,
                                        const crdt__map_keys *k);

/* Orders two field keys canonically: by name bytes, then by type. */
int crdt__map_field_cmp(const void *a, const void *b, const void *ctx);

/* Fields of a store in canonical order, *out allocated with m (s->count
 * pointers, NULL when empty). */
int crdt__map_sorted_fields(const crdt__store *s, const crdt_allocator *m,
                            const crdt__entry ***out);

/* The LWW order of two writes, each a dot and its value bytes: timestamp
 * (the dot's value as uint64), then replica id, then value bytes. */
int crdt__map_lww_cmp(const crdt__replicas *r, const crdt__dv *a,
                      const uint8_t *va, size_t la, const crdt__dv *b,
                      const uint8_t *vb, size_t lb);

/* The winning write of an LWW field's store: its dot and value entry;
 * false when the store holds no dot. */
bool crdt__map_lww_best(const crdt__replicas *r, const crdt__store *s,
                        crdt__dv *dot, const crdt__entry **value);

/* The map's wire body (docs/format.md, "Map"): context, then the fields as
 * a tree, for a state or a delta. For sync sessions, whose deltas and
 * chunks are map bodies. */
void crdt__map_put_body(struct crdt__wbuf *w, const crdt__causal *c);
/* Decodes a body into the empty causal state c (freed by the caller, on
 * error too), with every check of the map's decoder: canonical order,
 * nesting at most CRDT_MAP_DEPTH_MAX deep, every dot in the context and in
 * one place only, markers only when `keyed`; the body must end the input
 * (CRDT_ETRAILING). */
int crdt__map_get_body(struct crdt__rbuf *r, const crdt_allocator *m,
                       crdt__causal *c, bool keyed);

/* The map's value as JSON (see crdt_object_value_json). */
int crdt__map_value_json(const crdt_object *o, crdt__text *t);

#endif

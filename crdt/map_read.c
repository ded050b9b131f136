/*
 * Reading a map: fields by path, walks in canonical order, and the value as
 * JSON (see map.h).
 */
#include <string.h>

#include "map_impl.h"

/* The entry of the field (path, type) in *out, NULL when there is none.
 * CRDT_EINVAL for a bad path, CRDT_ENOMEM when the path's keys (over 256
 * bytes) cannot be built. */
static int find_field(const crdt_map *map, crdt_path path,
                      crdt_field_type type, const crdt__entry **out) {
  *out = NULL;
  if (!map) return CRDT_EINVAL;
  crdt__map_keys k;
  int rc = crdt__map_keys_make(&k, &map->d.base.mem, path, type);
  if (rc) return rc;
  const crdt__entry *e = crdt__map_field_read(map, &k);
  crdt__map_keys_free(&k, &map->d.base.mem);
  *out = e && e->ndots ? e : NULL;
  return 0;
}

/* The same for the readers that answer yes or no: an error reads as no. */
static const crdt__entry *field_of(const crdt_map *map, crdt_path path,
                                   crdt_field_type type) {
  const crdt__entry *e;
  return find_field(map, path, type, &e) ? NULL : e;
}

bool crdt_map_has(const crdt_map *map, crdt_path path, crdt_field_type type) {
  return field_of(map, path, type) != NULL;
}

int crdt_map_counter_value(const crdt_map *map, crdt_path path, int64_t *out) {
  if (!map || !out) return CRDT_EINVAL;
  *out = 0;
  const crdt__entry *e;
  int rc = find_field(map, path, CRDT_FIELD_COUNTER, &e);
  if (rc) return rc;
  if (!e) return CRDT_ENOENT;
  return crdt__entry_sum_exact(e, out) ? 0 : CRDT_ERANGE;
}

/* The entry of `item` in the nested store of field e, or NULL. */
static const crdt__entry *item_of(const crdt__entry *e, const void *item,
                                  size_t len) {
  if (!e || (!item && len) || len > CRDT__KEY_MAX) return NULL;
  const crdt__entry *x = crdt__store_find(crdt__entry_child(e), item, len,
                                          crdt__key_hash(item, len));
  return x && x->ndots ? x : NULL;
}

bool crdt_map_orset_contains(const crdt_map *map, crdt_path path,
                             const void *elem, size_t len) {
  return item_of(field_of(map, path, CRDT_FIELD_ORSET), elem, len) != NULL;
}

bool crdt_map_flag_enabled(const crdt_map *map, crdt_path path) {
  return field_of(map, path, CRDT_FIELD_FLAG) != NULL;
}

int crdt_map_lwwreg_get(const crdt_map *map, crdt_path path,
                        crdt_bytes *value, uint64_t *timestamp) {
  const crdt__entry *e;
  int rc = find_field(map, path, CRDT_FIELD_LWWREG, &e);
  if (rc) return rc;
  crdt__dv best;
  const crdt__entry *winner;
  if (!e || !crdt__map_lww_best(&map->d.c.replicas, crdt__entry_child(e),
                                &best, &winner))
    return CRDT_ENOENT;
  if (value) *value = (crdt_bytes){crdt__entry_key(winner), winner->keylen};
  if (timestamp) *timestamp = (uint64_t)best.value;
  return 0;
}

int crdt_map_items(const crdt_map *map, crdt_path path, crdt_field_type type,
                   crdt_map_item_visit visit, void *user) {
  if (!map || !visit || (type != CRDT_FIELD_ORSET && type != CRDT_FIELD_MVREG))
    return CRDT_EINVAL;
  const crdt__entry *e;
  int rc = find_field(map, path, type, &e);
  if (rc || !e) return rc;
  const crdt__store *s = crdt__entry_child(e);
  const crdt_allocator *m = &map->d.base.mem;
  const crdt__entry **sorted;
  if ((rc = crdt__store_sorted(s, m, &sorted))) return rc;
  for (uint32_t i = 0; i < s->count && !rc; i++)
    if (sorted[i]->ndots)
      rc = visit((crdt_bytes){crdt__entry_key(sorted[i]), sorted[i]->keylen},
                 user);
  crdt__free(m, sorted, s->count * sizeof *sorted);
  return rc;
}

int crdt_map_fields(const crdt_map *map, crdt_path path,
                    crdt_map_field_visit visit, void *user) {
  if (!map || !visit) return CRDT_EINVAL;
  const crdt__store *s = &map->d.c.store;
  int rc;
  if (path.depth) {
    const crdt__entry *e;
    if ((rc = find_field(map, path, CRDT_FIELD_MAP, &e)) || !e) return rc;
    s = crdt__entry_child(e);
  }
  const crdt_allocator *m = &map->d.base.mem;
  const crdt__entry **sorted;
  if ((rc = crdt__map_sorted_fields(s, m, &sorted))) return rc;
  for (uint32_t i = 0; i < s->count && !rc; i++) {
    const crdt__entry *f = sorted[i];
    if (!f->ndots) continue; /* a delta's marker */
    const uint8_t *key = crdt__entry_key(f);
    rc = visit((crdt_bytes){key + 1, f->keylen - 1}, (crdt_field_type)key[0],
               user);
  }
  crdt__free(m, sorted, s->count * sizeof *sorted);
  return rc;
}

/* ---- JSON ------------------------------------------------------------------ */

/* Does this entry show in the value? In a keyed delta, a key may hold only
 * markers. */
static bool shown(const crdt__entry *e) {
  return crdt__entry_nested(e) ? crdt__store_live(crdt__entry_child(e))
                               : e->ndots != 0;
}

/* The keys of a nested store with dots, sorted, as a JSON array. */
static int items_json(const crdt__store *s, const crdt_allocator *m,
                      crdt__text *t) {
  const crdt__entry **sorted;
  int rc = crdt__store_sorted(s, m, &sorted);
  if (rc) return rc;
  crdt__text_put(t, "[", 1);
  uint32_t n = 0;
  for (uint32_t i = 0; i < s->count; i++) {
    if (!sorted[i]->ndots) continue;
    if (n++) crdt__text_put(t, ", ", 2);
    crdt__text_json(t, crdt__entry_key(sorted[i]), sorted[i]->keylen);
  }
  crdt__text_put(t, "]", 1);
  crdt__free(m, sorted, s->count * sizeof *sorted);
  return 0;
}

/* A map's fields as a JSON array of {"name", "type", "value"} objects in
 * canonical order (recursion bounded by the nesting limit). */
static int fields_json(const crdt_map *map, const crdt__store *s,
                       crdt__text *t) {
  const crdt_allocator *m = &map->d.base.mem;
  const crdt__entry **sorted;
  int rc = crdt__map_sorted_fields(s, m, &sorted);
  if (rc) return rc;
  crdt__text_put(t, "[", 1);
  uint32_t n = 0;
  for (uint32_t i = 0; i < s->count && !rc; i++) {
    const crdt__entry *f = sorted[i];
    if (!shown(f)) continue;
    const uint8_t *key = crdt__entry_key(f);
    if (n++) crdt__text_put(t, ", ", 2);
    crdt__text_str(t, "{\"name\": ");
    crdt__text_json(t, key + 1, f->keylen - 1);
    crdt__text_str(t, ", \"type\": \"");
    crdt__text_str(t, crdt_field_type_name((crdt_field_type)key[0]));
    crdt__text_str(t, "\", \"value\": ");
    switch (key[0]) {
    case CRDT_FIELD_COUNTER:
      crdt__text_i64(t, crdt__entry_sum(f));
      break;
    case CRDT_FIELD_FLAG:
      crdt__text_str(t, "true");
      break;
    case CRDT_FIELD_ORSET:
    case CRDT_FIELD_MVREG:
      rc = items_json(crdt__entry_child(f), m, t);
      break;
    case CRDT_FIELD_LWWREG: {
      crdt__dv best;
      const crdt__entry *winner;
      if (crdt__map_lww_best(&map->d.c.replicas, crdt__entry_child(f), &best,
                             &winner))
        crdt__text_json(t, crdt__entry_key(winner), winner->keylen);
      break;
    }
    default: /* CRDT_FIELD_MAP */
      rc = fields_json(map, crdt__entry_child(f), t);
      break;
    }
    crdt__text_put(t, "}", 1);
  }
  crdt__text_put(t, "]", 1);
  crdt__free(m, sorted, s->count * sizeof *sorted);
  return rc;
}

int crdt__map_value_json(const crdt_object *o, crdt__text *t) {
  const crdt_map *map = (const crdt_map *)o;
  return fields_json(map, &map->d.c.store, t);
}

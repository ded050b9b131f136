/*
 * The map type (see map_impl.h for its layout on the kernel's nested
 * stores): the type table, the typed API every type shares, field types,
 * and paths of names turned into keys.
 */
#include <string.h>

#include "map_impl.h"
#include "sort.h"
#include "wire.h"

static int map_create(const char *replica, crdt_object **out) {
  return crdt__dotted_create(&crdt__map_type, replica, out);
}

const crdt__type crdt__map_type = {
    CRDT_TYPE_MAP,           "map",
    map_create,              crdt__dotted_merge,
    crdt__dotted_equal,      crdt__dotted_copy,
    crdt__dotted_compare,    crdt__dotted_destroy,
    crdt__dotted_replica,    crdt__map_value_json,
    crdt__dotted_context_text,
    crdt__dotted_context,
};

CRDT__TYPED_API(map, crdt__map_type)
CRDT__TYPED_COMPARE(map)

/* ---- field types ---------------------------------------------------------- */

static const char *const field_names[] = {NULL,     "counter", "orset", "mvreg",
                                          "lwwreg", "flag",    "map"};

const char *crdt_field_type_name(crdt_field_type type) {
  return crdt__field_known(type) ? field_names[type] : NULL;
}

int crdt_field_type_from_name(const char *name, crdt_field_type *type) {
  if (!name || !type) return CRDT_EINVAL;
  for (unsigned i = CRDT_FIELD_COUNTER; i <= CRDT_FIELD_MAP; i++)
    if (strcmp(field_names[i], name) == 0) {
      *type = (crdt_field_type)i;
      return 0;
    }
  return CRDT_EBADTYPE;
}

/* ---- paths ------------------------------------------------------------------ */

int crdt__map_keys_make(crdt__map_keys *k, const crdt_allocator *m,
                        crdt_path path, crdt_field_type type) {
  k->heap = NULL;
  k->heap_len = 0;
  k->depth = 0;
  if (!crdt__field_known(type) || path.depth == 0 ||
      path.depth > CRDT_MAP_DEPTH_MAX || !path.names)
    return CRDT_EINVAL;
  size_t total = 0;
  for (size_t i = 0; i < path.depth; i++) {
    const crdt_bytes *n = &path.names[i];
    if ((!n->data && n->size) || n->size >= CRDT__KEY_MAX) return CRDT_EINVAL;
    if (n->size + 1 > SIZE_MAX - total) return CRDT_ENOMEM;
    total += n->size + 1;
  }
  uint8_t *buf = k->small;
  if (total > sizeof k->small) {
    if (!(buf = k->heap = crdt__alloc(m, total))) return CRDT_ENOMEM;
    k->heap_len = total;
  }
  for (size_t i = 0; i < path.depth; i++) {
    const crdt_bytes *n = &path.names[i];
    buf[0] = (uint8_t)(i + 1 < path.depth ? CRDT_FIELD_MAP : type);
    if (n->size) memcpy(buf + 1, n->data, n->size);
    k->keys[i] = (crdt__key){buf, n->size + 1, crdt__key_hash(buf, n->size + 1)};
    buf += n->size + 1;
  }
  k->depth = (uint32_t)path.depth;
  return 0;
}

void crdt__map_keys_free(crdt__map_keys *k, const crdt_allocator *m) {
  crdt__free(m, k->heap, k->heap_len);
  k->heap = NULL;
  k->heap_len = 0;
}

crdt__entry *crdt__map_field(crdt_map *map, const crdt__map_keys *k,
                             crdt__route *route) {
  crdt__route_find(route, &map->d.c.store, k->keys, k->depth - 1);
  if (!crdt__route_complete(route)) return NULL;
  const crdt__key *f = &k->keys[k->depth - 1];
  return crdt__store_find(route->store[k->depth - 1], f->bytes, f->len,
                          f->hash);
}

const crdt__entry *crdt__map_field_read(const crdt_map *map,
                                        const crdt__map_keys *k) {
  const crdt__store *s = &map->d.c.store;
  for (uint32_t i = 0;; i++) {
    const crdt__key *key = &k->keys[i];
    const crdt__entry *e = crdt__store_find(s, key->bytes, key->len, key->hash);
    if (!e || i + 1 == k->depth) return e;
    if (!crdt__entry_nested(e)) return NULL;
    s = crdt__entry_child(e);
  }
}

/* ---- canonical order ------------------------------------------------------ */

int crdt__map_field_cmp(const void *a, const void *b, const void *ctx) {
  (void)ctx;
  const crdt__entry *x = *(const crdt__entry *const *)a;
  const crdt__entry *y = *(const crdt__entry *const *)b;
  const uint8_t *kx = crdt__entry_key(x), *ky = crdt__entry_key(y);
  size_t lx = x->keylen - 1, ly = y->keylen - 1;
  size_t n = lx < ly ? lx : ly;
  int c = n ? memcmp(kx + 1, ky + 1, n) : 0;
  if (c) return c;
  if (lx != ly) return lx < ly ? -1 : 1;
  return (kx[0] > ky[0]) - (kx[0] < ky[0]);
}

int crdt__map_sorted_fields(const crdt__store *s, const crdt_allocator *m,
                            const crdt__entry ***out) {
  *out = NULL;
  if (!s->count) return 0;
  const crdt__entry **list = crdt__alloc(m, crdt__mul(s->count, sizeof *list));
  if (!list) return CRDT_ENOMEM;
  for (uint32_t n = 0; n < s->count; n++) list[n] = &s->entries[n];
  crdt__sort(list, s->count, sizeof *list, crdt__map_field_cmp, NULL);
  *out = list;
  return 0;
}

int crdt__map_lww_cmp(const crdt__replicas *r, const crdt__dv *a,
                      const uint8_t *va, size_t la, const crdt__dv *b,
                      const uint8_t *vb, size_t lb) {
  uint64_t ta = (uint64_t)a->value, tb = (uint64_t)b->value;
  if (ta != tb) return ta < tb ? -1 : 1;
  if (a->replica != b->replica) {
    size_t ia_len, ib_len;
    const char *ia = crdt__replicas_id(r, a->replica, &ia_len);
    const char *ib = crdt__replicas_id(r, b->replica, &ib_len);
    int c = crdt__replica_cmp(ia, ia_len, ib, ib_len);
    if (c) return c;
  }
  size_t n = la < lb ? la : lb;
  int c = n ? memcmp(va, vb, n) : 0;
  if (c) return c;
  return (la > lb) - (la < lb);
}

bool crdt__map_lww_best(const crdt__replicas *r, const crdt__store *s,
                        crdt__dv *dot, const crdt__entry **value) {
  bool found = false;
  for (uint32_t n = 0; n < s->count; n++) {
    const crdt__entry *e = &s->entries[n];
    crdt__dv one;
    const crdt__dv *d = crdt__entry_view(e, &one);
    for (uint32_t i = 0; i < e->ndots; i++)
      if (!found || crdt__map_lww_cmp(r, &d[i], crdt__entry_key(e), e->keylen,
                                      dot, crdt__entry_key(*value),
                                      (*value)->keylen) > 0) {
        *dot = d[i];
        *value = e;
        found = true;
      }
  }
  return found;
}

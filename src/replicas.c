/*
 * Replica table (see replicas.h).
 */
#include <stdlib.h>
#include <string.h>

#include "replicas.h"

int crdt__replica_check(const char *id, size_t *len) {
  if (!id) return CRDT_EINVAL;
  size_t n = 0;
  while (n <= CRDT_REPLICA_MAX && id[n]) n++;
  if (n == 0 || n > CRDT_REPLICA_MAX) return CRDT_EINVAL;
  *len = n;
  return 0;
}

int crdt__replica_cmp(const char *a, size_t alen, const char *b, size_t blen) {
  int c = memcmp(a, b, alen < blen ? alen : blen);
  if (c) return c;
  return (alen > blen) - (alen < blen);
}

uint32_t crdt__replicas_find(const crdt__replicas *r, const char *id,
                             size_t len) {
  crdt__rid *found = NULL;
  HASH_FIND(hh, r->by_id, id, len, found);
  return found ? found->index : CRDT__NO_REPLICA;
}

int crdt__replicas_intern(crdt__replicas *r, const crdt_allocator *m,
                          const char *id, size_t len, uint32_t *index) {
  const crdt_allocator *uthash_mem = m;
  uint32_t found = crdt__replicas_find(r, id, len);
  if (found != CRDT__NO_REPLICA) {
    *index = found;
    return 0;
  }
  if (r->count == CRDT__NO_REPLICA - 1) return CRDT_ETOOMANY;
  if (r->count == r->cap) {
    uint32_t cap = r->cap ? r->cap * 2 : 4;
    if (cap < r->cap) cap = CRDT__NO_REPLICA - 1;
    crdt__rid **grown =
        crdt__realloc(m, r->by_index, r->cap * sizeof *grown,
                      crdt__mul(cap, sizeof *grown));
    if (!grown) return CRDT_ENOMEM;
    r->by_index = grown;
    r->cap = cap;
  }
  crdt__rid *rid = crdt__alloc(m, sizeof *rid + len + 1);
  if (!rid) return CRDT_ENOMEM;
  memset(rid, 0, sizeof *rid);
  memcpy(rid->id, id, len);
  rid->id[len] = '\0';
  rid->len = (uint8_t)len;
  rid->index = r->count;
  HASH_ADD_KEYPTR(hh, r->by_id, rid->id, len, rid);
  if (rid->hh.tbl == NULL) {
    crdt__free(m, rid, sizeof *rid + len + 1);
    return CRDT_ENOMEM;
  }
  r->by_index[r->count++] = rid;
  *index = rid->index;
  return 0;
}

void crdt__replicas_truncate(crdt__replicas *r, const crdt_allocator *m,
                             uint32_t count) {
  const crdt_allocator *uthash_mem = m;
  while (r->count > count) {
    crdt__rid *rid = r->by_index[--r->count];
    HASH_DELETE(hh, r->by_id, rid);
    crdt__free(m, rid, sizeof *rid + rid->len + 1);
  }
}

void crdt__replicas_free(crdt__replicas *r, const crdt_allocator *m) {
  crdt__replicas_truncate(r, m, 0);
  crdt__free(m, r->by_index, r->cap * sizeof *r->by_index);
  memset(r, 0, sizeof *r);
}

int crdt__replicas_map_into(crdt__replicas *dst, const crdt_allocator *m,
                            const crdt__replicas *src, uint32_t *map) {
  uint32_t before = dst->count;
  for (uint32_t i = 0; i < src->count; i++) {
    int rc = crdt__replicas_intern(dst, m, src->by_index[i]->id,
                                   src->by_index[i]->len, &map[i]);
    if (rc) {
      crdt__replicas_truncate(dst, m, before);
      return rc;
    }
  }
  return 0;
}

int crdt__replicas_map(crdt__replicas *dst, const crdt_allocator *m,
                       const crdt__replicas *src, uint32_t **map) {
  *map = NULL;
  if (src->count == 0) return 0;
  uint32_t *out = crdt__alloc(m, crdt__mul(src->count, sizeof *out));
  if (!out) return CRDT_ENOMEM;
  int rc = crdt__replicas_map_into(dst, m, src, out);
  if (rc) {
    crdt__free(m, out, src->count * sizeof *out);
    return rc;
  }
  *map = out;
  return 0;
}

/* qsort has no context argument in C11; the ids are compared through the
 * entries themselves instead. */
static int rid_ptr_cmp(const void *a, const void *b) {
  const crdt__rid *x = *(const crdt__rid *const *)a;
  const crdt__rid *y = *(const crdt__rid *const *)b;
  return crdt__replica_cmp(x->id, x->len, y->id, y->len);
}

int crdt__replicas_sorted(const crdt__replicas *r, const crdt_allocator *m,
                          uint32_t **order) {
  *order = NULL;
  if (r->count == 0) return 0;
  crdt__rid **tmp = crdt__alloc(m, crdt__mul(r->count, sizeof *tmp));
  if (!tmp) return CRDT_ENOMEM;
  uint32_t *out = crdt__alloc(m, crdt__mul(r->count, sizeof *out));
  if (!out) {
    crdt__free(m, tmp, r->count * sizeof *tmp);
    return CRDT_ENOMEM;
  }
  memcpy(tmp, r->by_index, r->count * sizeof *tmp);
  qsort(tmp, r->count, sizeof *tmp, rid_ptr_cmp);
  for (uint32_t i = 0; i < r->count; i++) out[i] = tmp[i]->index;
  crdt__free(m, tmp, r->count * sizeof *tmp);
  *order = out;
  return 0;
}

int crdt__replicas_copy(crdt__replicas *dst, const crdt_allocator *m,
                        const crdt__replicas *src) {
  for (uint32_t i = 0; i < src->count; i++) {
    uint32_t index;
    int rc = crdt__replicas_intern(dst, m, src->by_index[i]->id,
                                   src->by_index[i]->len, &index);
    if (rc) {
      crdt__replicas_free(dst, m);
      return rc;
    }
  }
  return 0;
}

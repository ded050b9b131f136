/*
 * Replica table (see replicas.h).
 */
#include <stdlib.h>
#include <string.h>

#include "replicas.h"
#include "store.h" /* crdt__key_hash */

struct crdt__rchunk {
  crdt__rchunk *next;
  size_t size, used;
  _Alignas(crdt__rid) uint8_t data[];
};

#define RCHUNK_MIN 256
#define RCHUNK_MAX (64 * 1024)

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

static uint32_t find_hashed(const crdt__replicas *r, const char *id,
                            size_t len, uint32_t hash) {
  if (!r->slots) return CRDT__NO_REPLICA;
  const uint32_t mask = r->mask, tag = hash & ~mask;
  for (uint32_t i = hash & mask;; i = (i + 1) & mask) {
    uint32_t v = r->slots[i];
    if (!v) return CRDT__NO_REPLICA;
    if ((v & ~mask) != tag) continue;
    const crdt__rid *rid = r->by_index[(v & mask) - 1];
    if (rid->hash == hash && rid->len == len && memcmp(rid->id, id, len) == 0)
      return rid->index;
  }
}

uint32_t crdt__replicas_find(const crdt__replicas *r, const char *id,
                             size_t len) {
  return find_hashed(r, id, len, crdt__key_hash(id, len));
}

static void slot_put(uint32_t *slots, uint32_t mask, const crdt__rid *rid) {
  uint32_t i = rid->hash & mask;
  while (slots[i]) i = (i + 1) & mask;
  slots[i] = (rid->hash & ~mask) | (rid->index + 1);
}

/* Room for one more id: the index array, the table (load <= 1/2) and the
 * chunk space for an id of `len` bytes. On error r is unchanged
 * (logically). */
static int reserve_one(crdt__replicas *r, const crdt_allocator *m,
                       size_t len) {
  if (r->count == r->cap) {
    uint32_t cap = r->cap ? r->cap * 2 : 4;
    if (cap < r->cap) cap = CRDT__NO_REPLICA - 1;
    crdt__rid **grown = crdt__realloc(m, r->by_index, r->cap * sizeof *grown,
                                      crdt__mul(cap, sizeof *grown));
    if (!grown) return CRDT_ENOMEM;
    r->by_index = grown;
    r->cap = cap;
  }
  uint64_t slots = r->slots ? (uint64_t)r->mask + 1 : 0;
  if (((uint64_t)r->count + 1) * 2 > slots) {
    uint64_t size = slots ? slots * 2 : 8;
    uint32_t *grown = crdt__calloc(m, (size_t)size, sizeof *grown);
    if (!grown) return CRDT_ENOMEM;
    for (uint32_t i = 0; i < r->count; i++)
      slot_put(grown, (uint32_t)size - 1, r->by_index[i]);
    crdt__free(m, r->slots, slots * sizeof *r->slots);
    r->slots = grown;
    r->mask = (uint32_t)size - 1;
  }
  size_t need = (sizeof(crdt__rid) + len + 1 + _Alignof(crdt__rid) - 1) &
                ~(size_t)(_Alignof(crdt__rid) - 1);
  crdt__rchunk *c = r->chunks;
  if (!c || c->size - c->used < need) {
    size_t size = c ? c->size * 2 : RCHUNK_MIN;
    if (size > RCHUNK_MAX) size = RCHUNK_MAX;
    if (size < need) size = need;
    crdt__rchunk *fresh = crdt__alloc(m, sizeof *fresh + size);
    if (!fresh) return CRDT_ENOMEM;
    fresh->next = c;
    fresh->size = size;
    fresh->used = 0;
    r->chunks = fresh;
  }
  return 0;
}

int crdt__replicas_intern(crdt__replicas *r, const crdt_allocator *m,
                          const char *id, size_t len, uint32_t *index) {
  const uint32_t hash = crdt__key_hash(id, len);
  uint32_t found = find_hashed(r, id, len, hash);
  if (found != CRDT__NO_REPLICA) {
    *index = found;
    return 0;
  }
  if (r->count == CRDT__NO_REPLICA - 1) return CRDT_ETOOMANY;
  int rc = reserve_one(r, m, len);
  if (rc) return rc;
  crdt__rchunk *c = r->chunks;
  crdt__rid *rid = (crdt__rid *)(c->data + c->used);
  c->used += (sizeof(crdt__rid) + len + 1 + _Alignof(crdt__rid) - 1) &
             ~(size_t)(_Alignof(crdt__rid) - 1);
  rid->index = r->count;
  rid->hash = hash;
  rid->len = (uint8_t)len;
  memcpy(rid->id, id, len);
  rid->id[len] = '\0';
  r->by_index[r->count++] = rid;
  slot_put(r->slots, r->mask, rid);
  *index = rid->index;
  return 0;
}

/* Rare (the undo of a failed operation): the table is rebuilt, and the
 * chunks roll back to where the first dropped id began. */
void crdt__replicas_truncate(crdt__replicas *r, const crdt_allocator *m,
                             uint32_t count) {
  if (count >= r->count) return;
  const uint8_t *first = (const uint8_t *)r->by_index[count];
  while (r->chunks && !(first >= r->chunks->data &&
                        first < r->chunks->data + r->chunks->size)) {
    crdt__rchunk *next = r->chunks->next;
    crdt__free(m, r->chunks, sizeof *r->chunks + r->chunks->size);
    r->chunks = next;
  }
  if (r->chunks) r->chunks->used = (size_t)(first - r->chunks->data);
  r->count = count;
  memset(r->slots, 0, ((size_t)r->mask + 1) * sizeof *r->slots);
  for (uint32_t i = 0; i < count; i++) slot_put(r->slots, r->mask, r->by_index[i]);
}

void crdt__replicas_free(crdt__replicas *r, const crdt_allocator *m) {
  for (crdt__rchunk *c = r->chunks; c;) {
    crdt__rchunk *next = c->next;
    crdt__free(m, c, sizeof *c + c->size);
    c = next;
  }
  crdt__free(m, r->by_index, r->cap * sizeof *r->by_index);
  if (r->slots) crdt__free(m, r->slots, ((size_t)r->mask + 1) * sizeof *r->slots);
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

/*
 * Replica table (see replicas.h).
 */
#include <stdlib.h>
#include <string.h>

#include "replicas.h"
#include "hash.h"

#define RCHUNK_MIN 64 /* bytes: 2 to 4 ids of usual lengths */
#define RCHUNK_MAX (64 * 1024)
#define SLOTS_QUAD 1024 /* tables with fewer slots grow 4 times */

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
  return crdt__replicas_find_hashed(r, id, len, crdt__key_hash(id, len));
}

static void slot_put(uint32_t *slots, uint32_t mask, const crdt__rid *rid) {
  uint32_t i = rid->hash & mask;
  while (slots[i]) i = (i + 1) & mask;
  slots[i] = (rid->hash & ~mask) | (rid->index + 1);
}

/* Puts ids 0..count-1 into an empty table (growing, or rebuilding). */
static void put_all(uint32_t *slots, uint32_t mask, crdt__rid *const *by_index,
                    uint32_t count) {
  for (uint32_t k = 0; k < count; k++) {
    const uint32_t hash = by_index[k]->hash;
    uint32_t i = hash & mask;
    while (slots[i]) i = (i + 1) & mask;
    slots[i] = (hash & ~mask) | (k + 1);
  }
}

/* Recomputes r->room after the capacity or the count changed. */
static void update_room(crdt__replicas *r) {
  uint64_t fit = r->slots ? ((uint64_t)r->mask + 1) / 2 : 0;
  if (fit > r->cap) fit = r->cap;
  r->room = (uint32_t)(fit - r->count);
}

/* Grows the table, the id chunks and the index array, in this order: a
 * failure at any step leaves the ids as they were (only capacity grew).
 * The index array grows only once there is a chunk, so a table without a
 * chunk has cap 0 and no room. The slots come first: of a small table's
 * parts, the id chunk and the index array are what a join reads from a
 * source, and this way they follow each other (and the entries a vector
 * allocates next) in memory. */
static int grow_parts(crdt__replicas *r, const crdt_allocator *m, uint32_t n,
                      size_t bytes) {
  if (n > CRDT__NO_REPLICA - 1 - r->count) return CRDT_ETOOMANY;
  const uint32_t need = r->count + n;
  /* A small table grows 4 times (to load about 1/8), a larger one doubles: a
   * replica table fills from merges one id at a time (a counter receiving
   * from each replica in turn), and while it is small, rehashing every id
   * at each doubling is most of the cost of adding one; 4 KiB of slots
   * bound what this spends. */
  uint64_t slots = r->slots ? (uint64_t)r->mask + 1 : 0;
  if ((uint64_t)need * 2 > slots) {
    uint64_t size = slots ? slots * (slots < SLOTS_QUAD ? 4 : 2) : 8;
    while ((uint64_t)need * 2 > size) size *= 2;
    /* the mask is 32 bits wide; so many ids do not fit in memory anyway */
    if (size > (uint64_t)UINT32_MAX + 1) return CRDT_ENOMEM;
    uint32_t *grown = crdt__calloc(m, (size_t)size, sizeof *grown);
    if (!grown) return CRDT_ENOMEM;
    put_all(grown, (uint32_t)(size - 1), r->by_index, r->count);
    crdt__free(m, r->slots, slots * sizeof *r->slots);
    r->slots = grown;
    r->mask = (uint32_t)(size - 1);
  }
  /* All `bytes` in the newest chunk, so adding only ever looks at that one;
   * a chunk that is too small keeps its unused tail. Sizes double (a table
   * filled in bulk keeps room for more), from a first chunk that holds a
   * few ids: most tables are small. */
  crdt__rchunk *c = r->chunks;
  if (!c || c->size - c->used < bytes) {
    size_t size = c ? c->size * 2 : RCHUNK_MIN;
    while (size < bytes && size < RCHUNK_MAX) size *= 2;
    if (size > RCHUNK_MAX) size = RCHUNK_MAX;
    if (size < bytes) size = bytes;
    if (size > SIZE_MAX - sizeof(crdt__rchunk)) return CRDT_ENOMEM;
    crdt__rchunk *fresh = crdt__alloc(m, sizeof *fresh + size);
    if (!fresh) return CRDT_ENOMEM;
    fresh->next = c;
    fresh->size = size;
    fresh->used = 0;
    r->chunks = fresh;
  }
  if (need > r->cap) {
    uint32_t cap = crdt__grow_cap(r->cap, 4, need);
    crdt__rid **grown = crdt__realloc(m, r->by_index, r->cap * sizeof *grown,
                                      crdt__mul(cap, sizeof *grown));
    if (!grown) return CRDT_ENOMEM;
    r->by_index = grown;
    r->cap = cap;
  }
  return 0;
}

/* grow_parts, with the room following whatever capacity it reached. */
static int grow_tables(crdt__replicas *r, const crdt_allocator *m, uint32_t n,
                       size_t bytes) {
  int rc = grow_parts(r, m, n, bytes);
  update_room(r);
  return rc;
}

int crdt__replicas_reserve(crdt__replicas *r, const crdt_allocator *m,
                           uint32_t n, size_t bytes) {
  return crdt__replicas_has_room(r, n, bytes) ? 0
                                              : grow_tables(r, m, n, bytes);
}

/* Writes an id given as bytes into the newest chunk (the room is there) as
 * the next index; the caller puts it in a slot. */
static crdt__rid *put_id(crdt__replicas *r, const char *id, size_t len,
                         uint32_t hash) {
  crdt__rchunk *c = r->chunks;
  crdt__rid *rid = (crdt__rid *)(void *)(c->data + c->used);
  c->used += crdt__rid_size(len);
  rid->index = r->count;
  rid->hash = hash;
  rid->len = (uint8_t)len;
  memcpy(rid->id, id, len);
  rid->id[len] = '\0';
  r->by_index[r->count++] = rid;
  r->room--;
  return rid;
}

uint32_t crdt__replicas_add_rid(crdt__replicas *r, const crdt__rid *rid) {
  const crdt__rid *added =
      crdt__replicas_put_rid(r, rid, crdt__rid_size(rid->len));
  slot_put(r->slots, r->mask, added);
  return added->index;
}

int crdt__replicas_add_grown(crdt__replicas *r, const crdt_allocator *m,
                             const crdt__rid *rid, uint32_t *index) {
  const size_t bytes = crdt__rid_size(rid->len);
  int rc = crdt__replicas_reserve(r, m, 1, bytes);
  if (rc) return rc;
  const crdt__rid *added = crdt__replicas_put_rid(r, rid, bytes);
  slot_put(r->slots, r->mask, added);
  *index = added->index;
  return 0;
}

/* Interning with the hash known. After the probe, with the room there,
 * nothing moved and the id takes the free slot the probe ended at. */
static int intern_hashed(crdt__replicas *r, const crdt_allocator *m,
                         const char *id, size_t len, uint32_t hash,
                         uint32_t *index) {
  uint32_t slot;
  uint32_t found = crdt__replicas_probe(r, id, len, hash, &slot);
  if (found != CRDT__NO_REPLICA) {
    *index = found;
    return 0;
  }
  const size_t bytes = crdt__rid_size(len);
  const bool room = crdt__replicas_has_room(r, 1, bytes);
  if (!room) {
    int rc = grow_tables(r, m, 1, bytes);
    if (rc) return rc;
  }
  const crdt__rid *rid = put_id(r, id, len, hash);
  if (room)
    r->slots[slot] = (hash & ~r->mask) | (rid->index + 1);
  else /* the table may have been rebuilt */
    slot_put(r->slots, r->mask, rid);
  *index = rid->index;
  return 0;
}

int crdt__replicas_intern(crdt__replicas *r, const crdt_allocator *m,
                          const char *id, size_t len, uint32_t *index) {
  return intern_hashed(r, m, id, len, crdt__key_hash(id, len), index);
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
  update_room(r);
  memset(r->slots, 0, ((size_t)r->mask + 1) * sizeof *r->slots);
  put_all(r->slots, r->mask, r->by_index, count);
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

/* Two passes, so that nothing needs undoing: find every id (by its stored
 * hash) and count the missing ones, reserve room for exactly those, then
 * add them, which cannot fail. */
int crdt__replicas_map_into(crdt__replicas *dst, const crdt_allocator *m,
                            const crdt__replicas *src, uint32_t *map) {
  uint32_t missing = 0;
  size_t bytes = 0;
  for (uint32_t i = 0; i < src->count; i++) {
    const crdt__rid *rid = src->by_index[i];
    map[i] = crdt__replicas_find_rid(dst, rid);
    if (map[i] == CRDT__NO_REPLICA) {
      missing++;
      bytes += crdt__rid_size(rid->len);
    }
  }
  if (!missing) return 0;
  int rc = crdt__replicas_reserve(dst, m, missing, bytes);
  if (rc) return rc;
  for (uint32_t i = 0; i < src->count; i++)
    if (map[i] == CRDT__NO_REPLICA)
      map[i] = crdt__replicas_add_rid(dst, src->by_index[i]);
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

/* The ids keep their indexes and hashes: one reservation, then plain adds. */
int crdt__replicas_copy(crdt__replicas *dst, const crdt_allocator *m,
                        const crdt__replicas *src) {
  size_t bytes = 0;
  for (uint32_t i = 0; i < src->count; i++)
    bytes += crdt__rid_size(src->by_index[i]->len);
  if (src->count) {
    int rc = crdt__replicas_reserve(dst, m, src->count, bytes);
    if (rc) {
      crdt__replicas_free(dst, m);
      return rc;
    }
  }
  for (uint32_t i = 0; i < src->count; i++)
    crdt__replicas_add_rid(dst, src->by_index[i]);
  return 0;
}

/*
 * Replica table: the replica ids an object knows, interned so that a dot is
 * (index, counter) instead of (string, counter). Indexes are dense, start at
 * 0, and never change while the object lives; the canonical order (by id
 * bytes) is computed when needed, for encoding and printing.
 */
#ifndef CRDT_SRC_REPLICAS_H
#define CRDT_SRC_REPLICAS_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "mem.h"

#define CRDT__NO_REPLICA UINT32_MAX

typedef struct crdt__rid {
  uint32_t index;
  uint32_t hash; /* crdt__key_hash of the id */
  uint8_t len;
  char id[];     /* len bytes + NUL */
} crdt__rid;

/* Ids live in chunks that never move (so crdt__rid pointers are stable),
 * allocated in index order, so dropping the newest ids rolls the chunks
 * back. Each id takes crdt__rid_size(len) bytes of its chunk. They are
 * found through an open-addressing table of 4-byte slots: index + 1 in the
 * bits of the mask, the id hash's other bits above them (as in the element
 * index, see store.h); load at most 1/2. */
typedef struct crdt__rchunk crdt__rchunk;
struct crdt__rchunk {
  crdt__rchunk *next;
  size_t size, used; /* bytes of data, bytes taken by ids */
  _Alignas(crdt__rid) uint8_t data[];
};

typedef struct crdt__replicas {
  crdt__rid **by_index;
  uint32_t count, cap;
  uint32_t *slots; /* mask + 1 slots, or NULL */
  uint32_t mask;
  /* Ids that by_index and the slots take without growing:
   * min(cap, (mask + 1) / 2) - count (0 without slots). A table with
   * room > 0 has a chunk (by_index grows only after the first chunk). */
  uint32_t room;
  crdt__rchunk *chunks; /* newest first */
} crdt__replicas;

/* Checks that `id` is a valid replica id (1..CRDT_REPLICA_MAX bytes) and
 * stores its length. CRDT_EINVAL otherwise. */
int crdt__replica_check(const char *id, size_t *len);

/* Byte order of two ids: memcmp on the common prefix, shorter first. */
int crdt__replica_cmp(const char *a, size_t alen, const char *b, size_t blen);

/* Index of `id`, adding it if absent. On error (CRDT_ENOMEM, CRDT_ETOOMANY)
 * the table is unchanged. */
int crdt__replicas_intern(crdt__replicas *r, const crdt_allocator *m,
                          const char *id, size_t len, uint32_t *index);

/* Index of `id`, or CRDT__NO_REPLICA. */
uint32_t crdt__replicas_find(const crdt__replicas *r, const char *id,
                             size_t len);

/* true when the `len` bytes at a and b are equal: memcmp for the short ids
 * of a replica table, without a call (overlapping word loads; every load
 * stays within the len bytes). */
static inline bool crdt__ids_equal(const char *a, const char *b, size_t len) {
  uint64_t x, y;
  uint32_t u, v;
  if (len >= 8) {
    for (size_t k = 0; k + 8 < len; k += 8) {
      memcpy(&x, a + k, 8);
      memcpy(&y, b + k, 8);
      if (x != y) return false;
    }
    memcpy(&x, a + len - 8, 8);
    memcpy(&y, b + len - 8, 8);
    return x == y;
  }
  if (len >= 4) {
    memcpy(&u, a, 4);
    memcpy(&v, b, 4);
    if (u != v) return false;
    memcpy(&u, a + len - 4, 4);
    memcpy(&v, b + len - 4, 4);
    return u == v;
  }
  for (size_t k = 0; k < len; k++)
    if (a[k] != b[k]) return false;
  return true;
}

/* Index of `id` whose crdt__key_hash is `hash`, or CRDT__NO_REPLICA; then
 * *slot is the free slot that ends the probe, where the id would be put
 * (while r does not change; meaningless for a table without slots). A
 * lookup that does not hash. */
static inline uint32_t crdt__replicas_probe(const crdt__replicas *r,
                                            const char *id, size_t len,
                                            uint32_t hash, uint32_t *slot) {
  *slot = 0;
  if (!r->slots) return CRDT__NO_REPLICA;
  const uint32_t mask = r->mask, tag = hash & ~mask;
  for (uint32_t i = hash & mask;; i = (i + 1) & mask) {
    uint32_t v = r->slots[i];
    if (!v) {
      *slot = i;
      return CRDT__NO_REPLICA;
    }
    if ((v & ~mask) != tag) continue;
    const crdt__rid *rid = r->by_index[(v & mask) - 1];
    if (rid->hash == hash && rid->len == len &&
        crdt__ids_equal(rid->id, id, len))
      return rid->index;
  }
}

/* Index of `id` whose crdt__key_hash is `hash`, or CRDT__NO_REPLICA. */
static inline uint32_t crdt__replicas_find_hashed(const crdt__replicas *r,
                                                  const char *id, size_t len,
                                                  uint32_t hash) {
  uint32_t slot;
  return crdt__replicas_probe(r, id, len, hash, &slot);
}

/* Index in r of the id of `rid`, an entry of any replica table, or
 * CRDT__NO_REPLICA. Every table hashes ids with the same process-wide seed
 * (crdt__key_hash), so rid->hash is reused and nothing is hashed: this is
 * how joins map one table onto another. */
static inline uint32_t crdt__replicas_find_rid(const crdt__replicas *r,
                                               const crdt__rid *rid) {
  return crdt__replicas_find_hashed(r, rid->id, rid->len, rid->hash);
}

/* The bytes an id of `len` bytes takes in the id chunks (its crdt__rid,
 * the id and its NUL, aligned): at least 16, a multiple of 4. */
static inline size_t crdt__rid_size(size_t len) {
  return (sizeof(crdt__rid) + len + 1 + _Alignof(crdt__rid) - 1) &
         ~(size_t)(_Alignof(crdt__rid) - 1);
}

/* true when n more ids taking `bytes` in the id chunks fit without
 * allocating: see crdt__replicas_reserve. A table with room has a chunk. */
static inline bool crdt__replicas_has_room(const crdt__replicas *r,
                                           uint32_t n, size_t bytes) {
  const crdt__rchunk *c = r->chunks;
  if (n > r->room) return false;
  if (n) return c->size - c->used >= bytes;
  return !bytes || (c && c->size - c->used >= bytes);
}

/* Makes room for `n` more ids that take `bytes` in the id chunks (the sum
 * of crdt__rid_size of their lengths), so that n calls of
 * crdt__replicas_add_rid for ids absent from r cannot fail. Only capacity
 * grows: no id is added, and on error (CRDT_ENOMEM; CRDT_ETOOMANY when
 * count + n would pass the largest index) the table is logically unchanged.
 * O(1) when the room is there already. */
int crdt__replicas_reserve(crdt__replicas *r, const crdt_allocator *m,
                           uint32_t n, size_t bytes);

/* Copies `from`, the id of another table (crdt__rid_size(from->len) ==
 * bytes), into the newest chunk as the next index, without putting it in a
 * slot; the room is there. The record is copied whole, 16 bytes at a time
 * with the last block overlapping (a record is at least 16 bytes), then
 * given its index in r. */
static inline crdt__rid *crdt__replicas_put_rid(crdt__replicas *r,
                                                const crdt__rid *from,
                                                size_t bytes) {
  typedef struct block {
    uint64_t w[2];
  } block;
  crdt__rchunk *c = r->chunks;
  unsigned char *to = c->data + c->used;
  const unsigned char *src = (const unsigned char *)from;
  block b;
  c->used += bytes;
  memcpy(&b, src, 16);
  memcpy(to, &b, 16);
  for (size_t k = 16; k + 16 < bytes; k += 16) { /* ids of 20 bytes and more */
    memcpy(&b, src + k, 16);
    memcpy(to + k, &b, 16);
  }
  memcpy(&b, src + bytes - 16, 16);
  memcpy(to + bytes - 16, &b, 16);
  crdt__rid *rid = (crdt__rid *)(void *)to;
  rid->index = r->count;
  r->by_index[r->count++] = rid;
  r->room--;
  return rid;
}

/* Adds the id of `rid` (an entry of another replica table; the id must be
 * absent from r, and room reserved with crdt__replicas_reserve) with the
 * next index, which it returns. Reuses rid->hash. Never fails; undone, like
 * any interning, by crdt__replicas_truncate. */
uint32_t crdt__replicas_add_rid(crdt__replicas *r, const crdt__rid *rid);

/* Interning after the lookup, when the room is there: adds the id of
 * `rid` (an entry of another replica table), which crdt__replicas_probe(r,
 * rid->id, rid->len, rid->hash, &slot) just found absent, with r unchanged
 * since and crdt__replicas_has_room(r, 1, crdt__rid_size(rid->len)). The id
 * takes the slot the probe ended at, without probing again. Returns its
 * index; never fails. */
static inline uint32_t crdt__replicas_add_at(crdt__replicas *r,
                                             const crdt__rid *rid,
                                             uint32_t slot) {
  const crdt__rid *added =
      crdt__replicas_put_rid(r, rid, crdt__rid_size(rid->len));
  r->slots[slot] = (rid->hash & ~r->mask) | (added->index + 1);
  return added->index;
}

/* Adds the id of `rid` (an entry of another replica table; absent from r),
 * growing r as needed: the path for a table without room. Stores the new
 * index in *index. On error (CRDT_ENOMEM, CRDT_ETOOMANY) r is unchanged
 * (only capacity may have grown). */
int crdt__replicas_add_grown(crdt__replicas *r, const crdt_allocator *m,
                             const crdt__rid *rid, uint32_t *index);

static inline const char *crdt__replicas_id(const crdt__replicas *r,
                                            uint32_t index, size_t *len) {
  if (len) *len = r->by_index[index]->len;
  return r->by_index[index]->id;
}

/* Drops the replicas with index >= count: the undo of interning done since
 * the table had `count` entries. Never fails. */
void crdt__replicas_truncate(crdt__replicas *r, const crdt_allocator *m,
                             uint32_t count);

void crdt__replicas_free(crdt__replicas *r, const crdt_allocator *m);

/* Interns every replica of `src` into `dst` and returns, in *map (allocated
 * with m, src->count entries, free with crdt__free(m, map, src->count *
 * sizeof *map)), the dst index of each src index. On error dst is unchanged
 * and *map is NULL. An empty src gives *map == NULL and 0. */
int crdt__replicas_map(crdt__replicas *dst, const crdt_allocator *m,
                       const crdt__replicas *src, uint32_t **map);

/* As crdt__replicas_map, into caller storage `map` (src->count entries):
 * small joins map replicas without allocating. */
int crdt__replicas_map_into(crdt__replicas *dst, const crdt_allocator *m,
                            const crdt__replicas *src, uint32_t *map);

/* Joins of sources with at most this many replicas (or entries) keep their
 * scratch arrays on the stack. */
#define CRDT__SMALL 64

/* Indexes sorted by id bytes (canonical order); *order has r->count entries,
 * allocated with m (NULL when the table is empty). */
int crdt__replicas_sorted(const crdt__replicas *r, const crdt_allocator *m,
                          uint32_t **order);

/* Deep copy into an empty table. On error dst stays empty. */
int crdt__replicas_copy(crdt__replicas *dst, const crdt_allocator *m,
                        const crdt__replicas *src);

#endif

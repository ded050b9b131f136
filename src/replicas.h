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
 * back. They are found through an open-addressing table of 4-byte slots:
 * index + 1 in the bits of the mask, the id hash's other bits above them
 * (as in the element index, see store.h); load at most 1/2. */
typedef struct crdt__rchunk crdt__rchunk;

typedef struct crdt__replicas {
  crdt__rid **by_index;
  uint32_t count, cap;
  uint32_t *slots; /* mask + 1 slots, or NULL */
  uint32_t mask;
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

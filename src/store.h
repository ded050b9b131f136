/*
 * Dot stores and their join: the one place that decides which dots survive a
 * merge.
 *
 * A store maps keys (byte strings: OR-set elements, cart items, register
 * values) to sets of dots, each dot carrying an int64 value (a cart amount;
 * 0 where a type has no use for it). With its causal context and replica
 * table it forms a `crdt__causal`, the state of every dot-based type:
 *
 *   OR-set       key = element   dots = the adds not yet removed
 *   MV-register  key = value     dots = the writes not yet superseded
 *   Cart         key = item      dots = increments/decrements, value = amount
 *
 * Join rule (Almeida et al.): a dot survives the join of (s1, c1) and
 * (s2, c2) when both stores have it, or one store has it and the other
 * context has not seen it. Contexts join by union.
 *
 * A "keyed delta" is a state whose context holds only dots of keys it lists;
 * it keeps keys whose dot set became empty (markers) so that its removals
 * can be applied by visiting only its own keys. Joining a keyed delta costs
 * O(size of the delta); joining anything else walks both stores.
 *
 * Layout (chosen for memory and cache behaviour, see docs/performance.md):
 * entries live in one dense array of 32-byte records, found through a
 * separate open-addressing index of 4-byte slots (entry number + 1 and hash
 * bits; linear probing, tombstones for deletions); keys of up to 12 bytes
 * live in their entry, longer ones in an arena; an entry's single dot is
 * packed into the record when its value is 0 and it fits (counter < 2^47,
 * replica index < 2^16), otherwise the dots are in an array. Room is
 * reserved before any change, so every operation can be made atomic:
 * fallible steps first, then infallible ones.
 */
#ifndef CRDT_SRC_STORE_H
#define CRDT_SRC_STORE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "ctx.h"
#include "hash.h"

#define CRDT__KEY_MAX UINT32_MAX

/* A dot with its value. */
typedef struct crdt__dv {
  uint64_t counter;
  uint32_t replica;
  int64_t value;
} crdt__dv;

/* Keys of at most this many bytes live inside their entry. */
#define CRDT__KEY_INLINE 12

/* One key and its dots, in 32 bytes.
 * - `key`: the key bytes when keylen <= CRDT__KEY_INLINE (they move with
 *   the entry), else the bytes of a pointer to the key in the store's arena.
 * - `dots`: 0 when there are none; a single dot with value 0 packed as
 *   counter << 17 | replica << 1 | 1 (odd); the address of an array of
 *   crdt__dv (allocations are at least 8-byte aligned: low bits 00) whose
 *   capacity is the uint64_t just before it; or, in a map, the address of a
 *   nested store with bit 1 set (low bits 10, see "nested stores" below). */
typedef struct crdt__entry {
  uint8_t key[CRDT__KEY_INLINE];
  uint32_t keylen;
  uint32_t hash;  /* crdt__key_hash(key) */
  uint32_t ndots; /* 0 only for markers in keyed deltas (and transiently) */
  uint64_t dots;
} crdt__entry;

/* The key bytes of e (valid until the entry moves or the arena is tidied). */
static inline const uint8_t *crdt__entry_key(const crdt__entry *e) {
  if (e->keylen <= CRDT__KEY_INLINE) return e->key;
  const uint8_t *p;
  memcpy(&p, e->key, sizeof p);
  return p;
}

/* Are e's dots in an array? */
static inline bool crdt__entry_many(const crdt__entry *e) {
  return e->dots != 0 && (e->dots & 3) == 0;
}

/* Does e hold a nested store instead of dots? */
static inline bool crdt__entry_nested(const crdt__entry *e) {
  return (e->dots & 3) == 2;
}

static inline crdt__dv *crdt__entry_array(const crdt__entry *e) {
  return (crdt__dv *)(uintptr_t)e->dots;
}

/* Capacity of e's dot array; 0 when the dots are packed (or absent). */
static inline uint32_t crdt__entry_cap(const crdt__entry *e) {
  if (!crdt__entry_many(e)) return 0;
  uint64_t cap;
  memcpy(&cap, (const uint8_t *)crdt__entry_array(e) - sizeof cap, sizeof cap);
  return (uint32_t)cap;
}

/* Keys are copied into chunks that never move; deleted keys become garbage
 * until a compaction (done while reserving, when garbage outweighs live
 * bytes). */
typedef struct crdt__chunk crdt__chunk;
typedef struct crdt__arena {
  crdt__chunk *head;
  size_t live, garbage;
} crdt__arena;

typedef struct crdt__store {
  crdt__entry *entries; /* dense: entries[0 .. count) */
  uint32_t count, cap;
  uint32_t *index; /* mask + 1 slots (a power of two) or NULL */
  uint32_t mask;
  uint32_t tombs; /* deleted slots (value `mask`) not yet cleared */
  crdt__arena keys;
} crdt__store;

/* ---- nested stores ----------------------------------------------------------
 *
 * The map (crdt/map*.c) nests dot stores: a field whose value is a set of
 * keys (an OR-set's elements, a register's values, a map's fields) is an
 * entry holding a nested store, and the keys below it are that store's
 * entries. Nested stores have no replica table or context of their own: the
 * whole tree shares its root's (the delta-state paper's DotMap
 * composition). A nested entry's `ndots` is 1 while its store has entries
 * and 0 once it has none; an empty nested store is deleted with its entry,
 * as a key without dots is, except in keyed deltas, whose nested stores may
 * hold only markers. Nesting is at most CRDT__DEPTH_MAX stores deep below the
 * root (the map's decoder and mutators enforce it; the recursive functions
 * rely on it for their stack). */
#define CRDT__DEPTH_MAX 33

static inline crdt__store *crdt__entry_child(const crdt__entry *e) {
  return (crdt__store *)(uintptr_t)(e->dots & ~(uint64_t)3);
}

/* Makes e hold `child` (e's dots, if any, must be gone). */
static inline void crdt__entry_set_child(crdt__entry *e, crdt__store *child) {
  e->dots = (uint64_t)(uintptr_t)child | 2;
  e->ndots = child->count != 0;
}

/* Brings a nested entry's ndots up to date after its store changed. */
static inline void crdt__entry_refresh(crdt__entry *e) {
  e->ndots = crdt__entry_child(e)->count != 0;
}

/* A new empty nested store, or NULL when memory is short. */
crdt__store *crdt__store_new(const crdt_allocator *m);
/* Frees a nested store and everything below it; NULL does nothing. */
void crdt__store_destroy(crdt__store *s, const crdt_allocator *m);
/* Does the tree below s hold a dot (not only markers)? O(size of the
 * tree). */
bool crdt__store_live(const crdt__store *s);

typedef struct crdt__causal {
  crdt__replicas replicas;
  crdt__ctx ctx;
  crdt__store store;
  bool keyed; /* a keyed delta (see above) */
  uint32_t last_replica; /* a guess for crdt__causal_record: the index of the
                          * replica it interned last (checked by id) */
} crdt__causal;

/* ---- keys and entries ---------------------------------------------------- */


#define CRDT__PACK_COUNTER_MAX ((UINT64_C(1) << 47) - 1)
#define CRDT__PACK_REPLICA_MAX 0xFFFFu

/* Can this dot live packed in an entry? */
static inline bool crdt__dv_packable(crdt__dv d) {
  return d.value == 0 && d.counter <= CRDT__PACK_COUNTER_MAX &&
         d.replica <= CRDT__PACK_REPLICA_MAX;
}

/* The entry's dots as an array: the entry's own array, or `one` filled with
 * the packed dot. Valid until the entry changes. */
static inline const crdt__dv *crdt__entry_view(const crdt__entry *e,
                                               crdt__dv *one) {
  if (crdt__entry_many(e)) return crdt__entry_array(e);
  one->counter = e->dots >> 17;
  one->replica = (uint32_t)(e->dots >> 1) & 0xFFFF;
  one->value = 0;
  return one;
}

/* Dot i of the entry. */
static inline crdt__dv crdt__entry_dot(const crdt__entry *e, uint32_t i) {
  crdt__dv one;
  return crdt__entry_view(e, &one)[i];
}

/* The packed form of a packable dot (see crdt__entry). */
static inline uint64_t crdt__dv_pack(crdt__dv d) {
  return d.counter << 17 | (uint64_t)d.replica << 1 | 1;
}

/* Room for `n` dots in e; `packable`: a single dot to come can be packed (if
 * false, e gets an array even for one dot). On CRDT_ENOMEM e is unchanged. */
int crdt__entry_reserve(crdt__entry *e, const crdt_allocator *m, uint32_t n,
                        bool packable);
/* Appends a dot (after crdt__entry_reserve). */
void crdt__entry_push(crdt__entry *e, crdt__dv d);
/* Keeps the dots for which keep(dot, user) is true, in place; capacity (and
 * thus room reserved) is kept. Never fails. */
void crdt__entry_retain(crdt__entry *e, bool (*keep)(const crdt__dv *d,
                                                     const void *user),
                        const void *user);
/* Back to the packed form when one packable dot (or none) is left. */
void crdt__entry_shrink(crdt__entry *e, const crdt_allocator *m);
/* Frees e's dot array or nested store, if any (e's dots are then gone). */
void crdt__entry_free_dots(crdt__entry *e, const crdt_allocator *m);
/* Replaces all dots of e by d. Never fails when d is packable or e has an
 * array (reserve first: crdt__entry_reserve(e, m, 1, packable(d))). */
void crdt__entry_set_one(crdt__entry *e, const crdt_allocator *m, crdt__dv d);
/* crdt__entry_reserve for one more dot, then crdt__entry_push, with the
 * common case (the first dot of an entry, packable) inline: decoders give
 * entries their dots one at a time. On CRDT_ENOMEM e is unchanged. */
static inline int crdt__entry_add(crdt__entry *e, const crdt_allocator *m,
                                  crdt__dv d) {
  if (e->ndots == 0 && !crdt__entry_many(e) && crdt__dv_packable(d)) {
    e->dots = crdt__dv_pack(d);
    e->ndots = 1;
    return 0;
  }
  int rc = crdt__entry_reserve(e, m, e->ndots + 1,
                               e->ndots == 0 && crdt__dv_packable(d));
  if (!rc) crdt__entry_push(e, d);
  return rc;
}

/* Deep copy of `from`'s dots into `to` (a byte copy of the entry): an array
 * is duplicated with exact capacity, a nested store copied whole. On
 * CRDT_ENOMEM `to` has no dots. */
int crdt__entry_copy_dots(crdt__entry *to, const crdt__entry *from,
                          const crdt_allocator *m);

/* Exact sum of the dot values, clamped to the int64 range; the same
 * whatever the order of the dots. */
int64_t crdt__entry_sum(const crdt__entry *e);
/* The same into *out; false when the exact sum is outside int64. */
bool crdt__entry_sum_exact(const crdt__entry *e, int64_t *out);

/* ---- the element index --------------------------------------------------- */

crdt__entry *crdt__store_find(const crdt__store *s, const void *key,
                              size_t len, uint32_t hash);
/* Room for `extra` more entries. On error s is unchanged (logically). */
int crdt__store_grow(crdt__store *s, const crdt_allocator *m, uint32_t extra);
static inline int crdt__store_reserve(crdt__store *s, const crdt_allocator *m,
                                      uint32_t extra) {
  uint64_t need = (uint64_t)s->count + extra;
  if (s->index && need <= s->cap &&
      (need + s->tombs) * 4 <= ((uint64_t)s->mask + 1) * 3)
    return 0; /* the usual case: room already */
  return crdt__store_grow(s, m, extra);
}
/* The key as crdt__store_put takes it: a key longer than CRDT__KEY_INLINE
 * is copied into the store's arena; a shorter one is `key` itself, which
 * crdt__store_put copies into the entry, so it must stay valid until then.
 * (It cannot point into one of this store's entries, which move: a key that
 * is in the store already is never put again.) CRDT_EINVAL for
 * keys longer than CRDT__KEY_MAX. A key not handed to crdt__store_put must
 * be returned with crdt__store_key_drop. */
int crdt__store_key(crdt__store *s, const crdt_allocator *m, const void *key,
                    size_t len, const uint8_t **out);
void crdt__store_key_drop(crdt__store *s, const uint8_t *key, size_t len);
/* Appends a new entry with no dots (after crdt__store_reserve; the key must
 * be absent). Takes the key from crdt__store_key. Entry pointers stay
 * valid across puts that follow a reserve. */
crdt__entry *crdt__store_put(crdt__store *s, const uint8_t *key,
                             uint32_t keylen, uint32_t hash);
/* For decoders, which define many keys in a row: room for `extra` more
 * entries (not in the index), and appending an entry for a
 * copy of `key` (CRDT_EINVAL past CRDT__KEY_MAX, CRDT_ETOOMANY,
 * CRDT_ENOMEM) without indexing it. Until crdt__store_index has run, the
 * store supports only further appends, access by entry number, and
 * crdt__store_free. */
int crdt__store_reserve_entries(crdt__store *s, const crdt_allocator *m,
                                uint32_t extra);
int crdt__store_append_grow(crdt__store *s, const crdt_allocator *m,
                            const void *key, size_t len, uint32_t hash,
                            crdt__entry **out);
static inline int crdt__store_append(crdt__store *s, const crdt_allocator *m,
                                     const void *key, size_t len,
                                     uint32_t hash, crdt__entry **out) {
  if (s->count >= s->cap || len > CRDT__KEY_INLINE)
    return crdt__store_append_grow(s, m, key, len, hash, out);
  crdt__entry *e = &s->entries[s->count++]; /* room reserved, a short key */
  memset(e, 0, sizeof *e);
  if (len) memcpy(e->key, key, len);
  e->keylen = (uint32_t)len;
  e->hash = hash;
  *out = e;
  return 0;
}
/* Rebuilds the index over every entry, in one pass. CRDT_EORDER when two
 * entries have the same key, CRDT_ENOMEM; after an error the store has no
 * index and may only be freed. */
int crdt__store_index(crdt__store *s, const crdt_allocator *m);
/* Copies `key` and inserts it (reserve + copy + put); atomic. */
int crdt__store_insert(crdt__store *s, const crdt_allocator *m,
                       const void *key, size_t len, uint32_t hash,
                       crdt__entry **out);
/* Deletes an entry: the last entry moves into its place, so pointers and
 * entry numbers past it are invalid afterwards. */
void crdt__store_delete(crdt__store *s, const crdt_allocator *m,
                        crdt__entry *e);
/* Deletes every entry without dots, one by one when they are few, else by
 * compacting the array and rebuilding the index in place. Entry numbers
 * and pointers are invalid afterwards. Never fails. */
void crdt__store_sweep(crdt__store *s, const crdt_allocator *m);
/* Compacts the key arena when deleted keys outweigh live ones. Moves keys:
 * call it at the end of an operation, when no key pointer (the caller's
 * argument may point into the arena) is still in use. Never fails. */
void crdt__store_tidy(crdt__store *s, const crdt_allocator *m);
void crdt__store_free(crdt__store *s, const crdt_allocator *m);
int crdt__store_copy(crdt__store *dst, const crdt_allocator *m,
                     const crdt__store *src);

/* Canonical key order for crdt__sort over entry pointers: key bytes, the
 * shorter first on a common prefix. */
int crdt__entry_ptr_cmp(const void *a, const void *b, const void *ctx);
/* Entries sorted by key bytes (canonical order), *out allocated with m
 * (s->count pointers, NULL when empty). Pointers valid until s changes. */
int crdt__store_sorted(const crdt__store *s, const crdt_allocator *m,
                       const crdt__entry ***out);

/* The entry's dots in canonical order (by replica id bytes, then counter),
 * into `out` which has room for e->ndots. */
void crdt__entry_sorted_dots(const crdt__entry *e, const crdt__replicas *r,
                             crdt__dv *out);

/* ---- prefetching --------------------------------------------------------- */

/* Batch loops (joins, rehashing, copies) touch one random index slot and
 * entry per key; in a store larger than the caches each is a miss. They
 * prefetch a fixed distance ahead so that the misses overlap: the slot of
 * the key CRDT__PREFETCH_FAR ahead, the entry its slot names (by then
 * cached) for the key CRDT__PREFETCH_NEAR ahead, and that entry's key bytes
 * CRDT__PREFETCH_KEY ahead. */
#define CRDT__PREFETCH_FAR 16
#define CRDT__PREFETCH_NEAR 8
#define CRDT__PREFETCH_KEY 4
#if defined(__GNUC__) || defined(__clang__)
#define crdt__prefetch(p) __builtin_prefetch(p)
#else
#define crdt__prefetch(p) ((void)(p))
#endif

static inline void crdt__prefetch_slot(const crdt__store *s, uint32_t hash) {
  if (s->index) crdt__prefetch(&s->index[hash & s->mask]);
}

/* The entry named by the key's home slot, when its tag matches, or NULL. */
static inline const crdt__entry *crdt__home_entry(const crdt__store *s,
                                                  uint32_t hash) {
  if (!s->index) return NULL;
  uint32_t v = s->index[hash & s->mask];
  if (v && v != s->mask && (v & ~s->mask) == (hash & ~s->mask))
    return &s->entries[(v & s->mask) - 1];
  return NULL;
}

static inline void crdt__prefetch_entry(const crdt__store *s, uint32_t hash) {
  const crdt__entry *e = crdt__home_entry(s, hash);
  if (e) crdt__prefetch(e);
}

static inline void crdt__prefetch_key(const crdt__store *s, uint32_t hash) {
  const crdt__entry *e = crdt__home_entry(s, hash);
  if (e && e->hash == hash && e->keylen > CRDT__KEY_INLINE)
    crdt__prefetch(crdt__entry_key(e));
}

/* ---- causal states --------------------------------------------------------- */

void crdt__causal_free(crdt__causal *c, const crdt_allocator *m);
int crdt__causal_copy(crdt__causal *dst, const crdt_allocator *m,
                      const crdt__causal *src);

/* dst := dst ⊔ src by the join rule. Atomic: on error dst is unchanged.
 * dst == src is a no-op. */
int crdt__causal_join(crdt__causal *dst, const crdt_allocator *m,
                      const crdt__causal *src);

/* Same contexts and same keys with the same dots and values; replica ids
 * matched by bytes. Markers are ignored unless both are keyed. */
bool crdt__causal_equal(const crdt__causal *a, const crdt__causal *b);

/* Index of the replica `id`, interning it and making room for one more dot
 * of it in the context. On error c is unchanged. An interned id that no dot
 * ends up using is harmless: the encoder writes only the ids the context
 * refers to, and equality compares by id. */
int crdt__causal_replica(crdt__causal *c, const crdt_allocator *m,
                         const char *id, size_t len, uint32_t *index);

/* What one operation did, as a delta: key `key` gains the dots `add`, the
 * context gains the operation's own `dot` (every update creates one, removals
 * included), `add` and `seen` (dots the operation observed and superseded),
 * and, when `extra` is not NULL, every dot of `extra` (a read
 * context with its own replica table `extra_replicas`). Dot replica indexes
 * refer to `from`. A delta without `extra` is keyed: it lists its key even
 * when `nadd` is 0 (a removal).
 * Joins that delta into `delta`. Atomic: on error `delta` is unchanged. */
typedef struct crdt__op {
  crdt__dot dot;
  const void *key;
  size_t keylen;
  uint32_t hash;
  const crdt__dv *add;
  uint32_t nadd;
  const crdt__dv *seen;
  uint32_t nseen;
  const crdt__ctx *extra;
  const crdt__replicas *extra_replicas;
} crdt__op;

int crdt__causal_record(crdt__causal *delta, const crdt_allocator *m,
                        const crdt__replicas *from, const crdt__op *op);
/* The same, always by building the operation's delta as a state and joining
 * it (crdt__causal_record does that only for large operations and read
 * contexts); the reference the direct path is tested against. */
int crdt__causal_record_by_join(crdt__causal *delta, const crdt_allocator *m,
                                const crdt__replicas *from,
                                const crdt__op *op);

#endif

/*
 * The element index and the store's entries and keys (see store.h): the key
 * arena, the open-addressing index of tagged slots, insertion, deletion,
 * sweeping, copying and canonical order.
 */
#include <string.h>

#include "sort.h"
#include "store.h"

/* ---- key arena -------------------------------------------------------------- */

struct crdt__chunk {
  crdt__chunk *next;
  size_t size, used;
  uint8_t data[];
};

#define CHUNK_MIN 4096
#define CHUNK_MAX (256 * 1024)

static uint8_t *arena_alloc(crdt__arena *a, const crdt_allocator *m,
                            size_t n) {
  crdt__chunk *c = a->head;
  if (!c || c->size - c->used < n) {
    size_t size = c ? c->size * 2 : CHUNK_MIN;
    if (size > CHUNK_MAX) size = CHUNK_MAX;
    if (size < n) size = n;
    if (size > SIZE_MAX - sizeof *c) return NULL;
    c = crdt__alloc(m, sizeof *c + size);
    if (!c) return NULL;
    c->next = a->head;
    c->size = size;
    c->used = 0;
    a->head = c;
  }
  uint8_t *p = c->data + c->used;
  c->used += n;
  a->live += n;
  return p;
}

static void arena_free_chunks(crdt__chunk *c, const crdt_allocator *m) {
  while (c) {
    crdt__chunk *next = c->next;
    crdt__free(m, c, sizeof *c + c->size);
    c = next;
  }
}

int crdt__store_key(crdt__store *s, const crdt_allocator *m, const void *key,
                    size_t len, const uint8_t **out) {
  *out = NULL;
  if (len > CRDT__KEY_MAX) return CRDT_EINVAL;
  if (len <= CRDT__KEY_INLINE) {
    *out = key; /* copied into the entry by crdt__store_put */
    return 0;
  }
  uint8_t *copy = arena_alloc(&s->keys, m, len);
  if (!copy) return CRDT_ENOMEM;
  memcpy(copy, key, len);
  *out = copy;
  return 0;
}

void crdt__store_key_drop(crdt__store *s, const uint8_t *key, size_t len) {
  if (!key || len <= CRDT__KEY_INLINE) return;
  s->keys.live -= len;
  s->keys.garbage += len;
}

/* Copies the live keys into one fresh chunk when deleted keys outweigh
 * them; skipped (not an error) when memory is short. Amortized O(1) per
 * deleted byte. */
void crdt__store_tidy(crdt__store *s, const crdt_allocator *m) {
  crdt__arena *a = &s->keys;
  if (a->garbage < CHUNK_MIN || a->garbage < a->live) return;
  crdt__arena fresh = {NULL, 0, 0};
  if (a->live) {
    crdt__chunk *c = crdt__alloc(m, sizeof *c + a->live);
    if (!c) return;
    c->next = NULL;
    c->size = a->live;
    c->used = 0;
    fresh.head = c;
    for (uint32_t i = 0; i < s->count; i++) {
      crdt__entry *e = &s->entries[i];
      if (e->keylen <= CRDT__KEY_INLINE) continue;
      uint8_t *to = c->data + c->used;
      memcpy(to, crdt__entry_key(e), e->keylen);
      memcpy(e->key, &to, sizeof to);
      c->used += e->keylen;
    }
    fresh.live = c->used;
  }
  arena_free_chunks(a->head, m);
  *a = fresh;
}

/* A fresh entry with no dots for a key from crdt__store_key. */
static void set_key(crdt__entry *e, const uint8_t *key, uint32_t keylen,
                    uint32_t hash) {
  memset(e, 0, sizeof *e);
  if (keylen > CRDT__KEY_INLINE)
    memcpy(e->key, &key, sizeof key);
  else if (keylen)
    memcpy(e->key, key, keylen);
  e->keylen = keylen;
  e->hash = hash;
}

/* ---- element index -------------------------------------------------------- */

/* A slot holds entry number + 1 in its low bits (those of the mask: entry
 * numbers stay below the slot count) and the key hash's other bits above
 * them as a tag, so a probe rejects most foreign slots without touching
 * their entries (a cache miss each in large stores). */
static inline uint32_t slot_value(uint32_t mask, uint32_t hash, uint32_t n) {
  return (hash & ~mask) | (n + 1);
}

crdt__entry *crdt__store_find(const crdt__store *s, const void *key,
                              size_t len, uint32_t hash) {
  if (!s->count) return NULL;
  const uint32_t mask = s->mask, tag = hash & ~mask;
  for (uint32_t i = hash & mask;; i = (i + 1) & mask) {
    uint32_t v = s->index[i];
    if (!v) return NULL;
    if ((v & ~mask) != tag || v == mask /* a tombstone */) continue;
    crdt__entry *e = &s->entries[(v & mask) - 1];
    if (e->hash == hash && e->keylen == len &&
        (len == 0 || memcmp(crdt__entry_key(e), key, len) == 0))
      return e;
  }
}

/* Puts entry n in the first free slot from its home: empty, or a
 * tombstone (returns whether it was one). */
static bool index_put(uint32_t *index, uint32_t mask, uint32_t hash,
                      uint32_t n) {
  uint32_t i = hash & mask;
  while (index[i] && index[i] != mask) i = (i + 1) & mask;
  bool tomb = index[i] == mask;
  index[i] = slot_value(mask, hash, n);
  return tomb;
}

/* The index slot that holds entry number n (0-based). */
static uint32_t index_slot_of(const crdt__store *s, uint32_t n) {
  uint32_t i = s->entries[n].hash & s->mask;
  while ((s->index[i] & s->mask) != n + 1) i = (i + 1) & s->mask;
  return i;
}

/* Rebuilds an index of mask + 1 zeroed slots from entries[0 .. count). */
static void index_build(uint32_t *index, uint32_t mask,
                        const crdt__entry *entries, uint32_t count) {
  for (uint32_t n = 0; n < count; n++) {
    if (n + CRDT__PREFETCH_FAR < count)
      crdt__prefetch(&index[entries[n + CRDT__PREFETCH_FAR].hash & mask]);
    (void)index_put(index, mask, entries[n].hash, n);
  }
}

/* Marks slot i deleted. A tombstone (the value `mask`: no entry number
 * reaches it, since entries stay below 3/4 of the slots) keeps the probe
 * sequences through it intact. Closing the gap instead (backward shift)
 * would read the entry of every following slot of the cluster to find its
 * home: a cache miss each in a large store. Tombstones count towards the
 * load; crdt__store_grow clears them by rebuilding the index. */
static void index_remove_at(crdt__store *s, uint32_t i) {
  s->index[i] = s->mask;
  s->tombs++;
}

static void index_rebuild(crdt__store *s);

/* Entries grow by doubling; the index keeps a load factor of at most 3/4. */
static int grow_entries(crdt__store *s, const crdt_allocator *m,
                        uint64_t need) {
  if (need > UINT32_MAX / 2) return CRDT_ETOOMANY;
  if (need <= s->cap) return 0;
  const uint32_t cap = crdt__grow_cap(s->cap, 4, (uint32_t)need);
  const size_t bytes = crdt__mul((size_t)cap, sizeof(crdt__entry));
  crdt__entry *grown;
  if (bytes < CRDT__HUGE_MIN) {
    grown = crdt__realloc(m, s->entries, s->cap * sizeof *grown, bytes);
    if (!grown) return CRDT_ENOMEM;
  } else {
    /* A large array is moved by hand, so that the new block is advised to
     * use huge pages before the copy touches it: a realloc that copies
     * would fault it in 4 KiB at a time (measured: 21 ms to grow 32 MiB of
     * entries to 64 MiB). */
    if (!(grown = crdt__alloc(m, bytes))) return CRDT_ENOMEM;
    crdt__advise_huge(grown, bytes);
    if (s->count) memcpy(grown, s->entries, s->count * sizeof *grown);
    crdt__free(m, s->entries, s->cap * sizeof *grown);
  }
  s->entries = grown;
  s->cap = cap;
  return 0;
}

static uint64_t index_slots_for(uint64_t need, uint64_t slots) {
  uint64_t size = slots ? slots : 8;
  while (need * 4 > size * 3) size *= 2;
  return size;
}

int crdt__store_grow(crdt__store *s, const crdt_allocator *m,
                     uint32_t extra) {
  uint64_t need = (uint64_t)s->count + extra;
  int rc = grow_entries(s, m, need);
  if (rc) return rc;
  uint64_t slots = s->index ? (uint64_t)s->mask + 1 : 0;
  if (need * 4 > slots * 3) {
    uint64_t size = index_slots_for(need, slots);
    uint32_t *index = crdt__calloc(m, (size_t)size, sizeof *index);
    if (!index) return CRDT_ENOMEM;
    index_build(index, (uint32_t)size - 1, s->entries, s->count);
    crdt__free(m, s->index, slots * sizeof *s->index);
    s->index = index;
    s->mask = (uint32_t)size - 1;
    s->tombs = 0;
  } else if ((need + s->tombs) * 4 > slots * 3) {
    index_rebuild(s); /* the same size, without the tombstones */
  }
  return 0;
}

static void index_rebuild(crdt__store *s) {
  memset(s->index, 0, ((size_t)s->mask + 1) * sizeof *s->index);
  index_build(s->index, s->mask, s->entries, s->count);
  s->tombs = 0;
}

int crdt__store_reserve_entries(crdt__store *s, const crdt_allocator *m,
                                uint32_t extra) {
  return grow_entries(s, m, (uint64_t)s->count + extra);
}

int crdt__store_append_grow(crdt__store *s, const crdt_allocator *m,
                            const void *key, size_t len, uint32_t hash,
                            crdt__entry **out) {
  const uint8_t *copy;
  int rc;
  if ((rc = grow_entries(s, m, (uint64_t)s->count + 1)) ||
      (rc = crdt__store_key(s, m, key, len, &copy)))
    return rc;
  *out = &s->entries[s->count++];
  set_key(*out, copy, (uint32_t)len, hash);
  return 0;
}

int crdt__store_index(crdt__store *s, const crdt_allocator *m) {
  uint64_t old_slots = s->index ? (uint64_t)s->mask + 1 : 0;
  crdt__free(m, s->index, old_slots * sizeof *s->index);
  s->index = NULL;
  s->mask = 0;
  if (!s->count) return 0;
  uint64_t size = index_slots_for(s->count, 0);
  uint32_t *index = crdt__calloc(m, (size_t)size, sizeof *index);
  if (!index) return CRDT_ENOMEM;
  const uint32_t mask = (uint32_t)size - 1;
  for (uint32_t n = 0; n < s->count; n++) {
    const crdt__entry *e = &s->entries[n];
    if (n + CRDT__PREFETCH_FAR < s->count)
      crdt__prefetch(&index[e[CRDT__PREFETCH_FAR].hash & mask]);
    uint32_t i = e->hash & mask, v;
    for (; (v = index[i]) != 0; i = (i + 1) & mask) {
      const crdt__entry *o = &s->entries[(v & mask) - 1];
      if ((v & ~mask) == (e->hash & ~mask) && o->hash == e->hash &&
          o->keylen == e->keylen &&
          (e->keylen == 0 ||
           memcmp(crdt__entry_key(o), crdt__entry_key(e), e->keylen) == 0)) {
        crdt__free(m, index, (size_t)size * sizeof *index);
        return CRDT_EORDER;
      }
    }
    index[i] = slot_value(mask, e->hash, n);
  }
  s->index = index;
  s->mask = mask;
  s->tombs = 0;
  return 0;
}

crdt__entry *crdt__store_put(crdt__store *s, const uint8_t *key,
                             uint32_t keylen, uint32_t hash) {
  crdt__entry *e = &s->entries[s->count];
  set_key(e, key, keylen, hash);
  s->tombs -= index_put(s->index, s->mask, hash, s->count++);
  return e;
}

int crdt__store_insert(crdt__store *s, const crdt_allocator *m,
                       const void *key, size_t len, uint32_t hash,
                       crdt__entry **out) {
  const uint8_t *copy;
  int rc;
  if ((rc = crdt__store_reserve(s, m, 1)) ||
      (rc = crdt__store_key(s, m, key, len, &copy)))
    return rc;
  *out = crdt__store_put(s, copy, (uint32_t)len, hash);
  return 0;
}

static void entry_release(crdt__store *s, crdt__entry *e,
                          const crdt_allocator *m) {
  crdt__store_key_drop(s, crdt__entry_key(e), e->keylen);
  crdt__entry_free_dots(e, m);
}

void crdt__store_delete(crdt__store *s, const crdt_allocator *m,
                        crdt__entry *e) {
  uint32_t n = (uint32_t)(e - s->entries), last = s->count - 1;
  entry_release(s, e, m);
  index_remove_at(s, index_slot_of(s, n));
  if (n != last) {
    s->index[index_slot_of(s, last)] =
        slot_value(s->mask, s->entries[last].hash, n);
    s->entries[n] = s->entries[last];
  }
  s->count--;
}

/* A deletion finds the slots of the deleted and of the moved last entry,
 * each a likely cache miss in a large store; past one deletion in 32
 * entries, compacting the array and rebuilding the index in place (a
 * sequential pass, prefetched, which also clears the tombstones) is
 * cheaper. */
void crdt__store_sweep(crdt__store *s, const crdt_allocator *m) {
  uint32_t empty = 0;
  for (uint32_t n = 0; n < s->count; n++) empty += s->entries[n].ndots == 0;
  if (!empty) return;
  if (empty < s->count / 32) {
    for (uint32_t n = s->count; n-- > 0;)
      if (s->entries[n].ndots == 0) crdt__store_delete(s, m, &s->entries[n]);
    return;
  }
  uint32_t kept = 0;
  for (uint32_t n = 0; n < s->count; n++) {
    crdt__entry *e = &s->entries[n];
    if (e->ndots == 0)
      entry_release(s, e, m);
    else
      s->entries[kept++] = *e;
  }
  s->count = kept;
  index_rebuild(s);
}

void crdt__store_free(crdt__store *s, const crdt_allocator *m) {
  for (uint32_t n = 0; n < s->count; n++)
    crdt__entry_free_dots(&s->entries[n], m);
  arena_free_chunks(s->keys.head, m);
  crdt__free(m, s->entries, s->cap * sizeof *s->entries);
  if (s->index) crdt__free(m, s->index, ((size_t)s->mask + 1) * sizeof *s->index);
  memset(s, 0, sizeof *s);
}

crdt__store *crdt__store_new(const crdt_allocator *m) {
  return crdt__calloc(m, 1, sizeof(crdt__store));
}

void crdt__store_destroy(crdt__store *s, const crdt_allocator *m) {
  if (!s) return;
  crdt__store_free(s, m);
  crdt__free(m, s, sizeof *s);
}

bool crdt__store_live(const crdt__store *s) {
  for (uint32_t n = 0; n < s->count; n++) {
    const crdt__entry *e = &s->entries[n];
    if (crdt__entry_nested(e) ? crdt__store_live(crdt__entry_child(e))
                              : e->ndots != 0)
      return true;
  }
  return false;
}

/* The copy is compact: one arena chunk, exact arrays. Nested stores are
 * copied whole (recursion bounded by CRDT__DEPTH_MAX). */
int crdt__store_copy(crdt__store *dst, const crdt_allocator *m,
                     const crdt__store *src) {
  memset(dst, 0, sizeof *dst);
  if (!src->count) return 0;
  if (crdt__store_reserve(dst, m, src->count)) goto fail;
  size_t bytes = src->keys.live;
  crdt__chunk *c = NULL;
  if (bytes) {
    c = crdt__alloc(m, sizeof *c + bytes);
    if (!c) goto fail;
    c->next = NULL;
    c->size = bytes;
    c->used = 0;
    dst->keys.head = c;
    dst->keys.live = bytes;
  }
  for (uint32_t n = 0; n < src->count; n++) {
    const crdt__entry *from = &src->entries[n];
    crdt__entry to = *from;
    if (from->keylen > CRDT__KEY_INLINE) {
      uint8_t *key = c->data + c->used;
      memcpy(key, crdt__entry_key(from), from->keylen);
      memcpy(to.key, &key, sizeof key);
      c->used += from->keylen;
    }
    if (crdt__entry_copy_dots(&to, from, m)) goto fail;
    dst->entries[dst->count++] = to;
  }
  index_build(dst->index, dst->mask, dst->entries, dst->count);
  return 0;
fail:
  crdt__store_free(dst, m);
  return CRDT_ENOMEM;
}

int crdt__entry_ptr_cmp(const void *a, const void *b, const void *ctx) {
  (void)ctx;
  const crdt__entry *x = *(const crdt__entry *const *)a;
  const crdt__entry *y = *(const crdt__entry *const *)b;
  size_t n = x->keylen < y->keylen ? x->keylen : y->keylen;
  int c = n ? memcmp(crdt__entry_key(x), crdt__entry_key(y), n) : 0;
  if (c) return c;
  return (x->keylen > y->keylen) - (x->keylen < y->keylen);
}

/* An entry with the first 16 bytes of its key as two big-endian numbers
 * (zeros past the key's end): different numbers order their keys as
 * crdt__entry_ptr_cmp does, so the sort compares bytes only on a tie,
 * which keys of up to 16 bytes rarely make. */
typedef struct prefixed {
  uint64_t hi, lo;
  const crdt__entry *e;
} prefixed;

static int prefixed_cmp(const void *a, const void *b, const void *ctx) {
  const prefixed *x = a, *y = b;
  if (x->hi != y->hi) return x->hi < y->hi ? -1 : 1;
  if (x->lo != y->lo) return x->lo < y->lo ? -1 : 1;
  return crdt__entry_ptr_cmp(&x->e, &y->e, ctx);
}

static uint64_t key_word(const uint8_t *k, uint32_t len, uint32_t from) {
  uint64_t v = 0;
  for (uint32_t i = from; i < from + 8; i++) v = v << 8 | (i < len ? k[i] : 0);
  return v;
}

int crdt__store_sorted(const crdt__store *s, const crdt_allocator *m,
                       const crdt__entry ***out) {
  *out = NULL;
  if (!s->count) return 0;
  const crdt__entry **list = crdt__alloc(m, crdt__mul(s->count, sizeof *list));
  prefixed *p = crdt__alloc(m, crdt__mul(s->count, sizeof *p));
  if (!list || !p) {
    crdt__free(m, list, s->count * sizeof *list);
    crdt__free(m, p, s->count * sizeof *p);
    return CRDT_ENOMEM;
  }
  for (uint32_t n = 0; n < s->count; n++) {
    const crdt__entry *e = &s->entries[n];
    const uint8_t *k = crdt__entry_key(e);
    p[n] = (prefixed){key_word(k, e->keylen, 0), key_word(k, e->keylen, 8), e};
  }
  crdt__sort(p, s->count, sizeof *p, prefixed_cmp, NULL);
  for (uint32_t n = 0; n < s->count; n++) list[n] = p[n].e;
  crdt__free(m, p, s->count * sizeof *p);
  *out = list;
  return 0;
}

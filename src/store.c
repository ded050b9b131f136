/*
 * Dot stores, the element index and the join (see store.h).
 */
#define _DEFAULT_SOURCE /* getentropy */
#include <string.h>
#include <time.h>
#include <unistd.h>

/* XXH3 compiled in (from the system's xxhash.h): keys are short, and a
 * call through the shared library costs as much as hashing them. */
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "sort.h"
#include "store.h"

/* ---- key hashing ------------------------------------------------------------ */

static uint64_t hash_seed;

/* Runs before main (and before any other thread could exist), so every
 * store of the process agrees on the seed: joins compare hashes across
 * stores. */
__attribute__((constructor)) static void seed_hash(void) {
  uint64_t seed = 0;
  if (getentropy(&seed, sizeof seed) != 0)
    seed = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)&hash_seed;
  hash_seed = seed;
}

uint32_t crdt__key_hash(const void *key, size_t len) {
  return (uint32_t)XXH3_64bits_withSeed(key, len, hash_seed);
}

/* ---- entries --------------------------------------------------------------- */

static inline uint64_t pack(crdt__dv d) { return crdt__dv_pack(d); }

/* Dot arrays carry their capacity in the 8 bytes before element 0. */
static size_t array_bytes(uint32_t cap) {
  size_t n = crdt__mul(cap, sizeof(crdt__dv));
  return n > SIZE_MAX - sizeof(uint64_t) ? SIZE_MAX : n + sizeof(uint64_t);
}

static crdt__dv *array_of_block(uint8_t *block, uint32_t cap) {
  uint64_t c = cap;
  memcpy(block, &c, sizeof c);
  return (crdt__dv *)(void *)(block + sizeof c);
}

static uint8_t *block_of_array(crdt__dv *many) {
  return (uint8_t *)many - sizeof(uint64_t);
}

static void array_free(const crdt_allocator *m, crdt__dv *many, uint32_t cap) {
  crdt__free(m, block_of_array(many), array_bytes(cap));
}

static inline void set_array(crdt__entry *e, crdt__dv *many) {
  e->dots = (uint64_t)(uintptr_t)many;
}

int crdt__entry_reserve(crdt__entry *e, const crdt_allocator *m, uint32_t n,
                        bool packable) {
  uint32_t have = crdt__entry_cap(e);
  if (have == 0 && n <= 1 && packable) return 0;
  if (n <= have) return 0;
  uint32_t cap = crdt__grow_cap(have, 2, n);
  if (have == 0) {
    uint8_t *block = crdt__alloc(m, array_bytes(cap));
    if (!block) return CRDT_ENOMEM;
    crdt__dv *many = array_of_block(block, cap);
    if (e->ndots) crdt__entry_view(e, &many[0]);
    set_array(e, many);
  } else {
    uint8_t *block =
        crdt__realloc(m, block_of_array(crdt__entry_array(e)),
                      array_bytes(have), array_bytes(cap));
    if (!block) return CRDT_ENOMEM;
    set_array(e, array_of_block(block, cap));
  }
  return 0;
}

void crdt__entry_push(crdt__entry *e, crdt__dv d) {
  if (crdt__entry_many(e))
    crdt__entry_array(e)[e->ndots] = d;
  else
    e->dots = pack(d); /* reserved as packable, and empty */
  e->ndots++;
}

void crdt__entry_retain(crdt__entry *e,
                        bool (*keep)(const crdt__dv *d, const void *user),
                        const void *user) {
  if (!crdt__entry_many(e)) {
    crdt__dv one;
    if (e->ndots && !keep(crdt__entry_view(e, &one), user)) {
      e->ndots = 0;
      e->dots = 0;
    }
    return;
  }
  crdt__dv *many = crdt__entry_array(e);
  uint32_t kept = 0;
  for (uint32_t i = 0; i < e->ndots; i++)
    if (keep(&many[i], user)) many[kept++] = many[i];
  e->ndots = kept;
}

void crdt__entry_shrink(crdt__entry *e, const crdt_allocator *m) {
  if (!crdt__entry_many(e) || e->ndots > 1) return;
  crdt__dv *many = crdt__entry_array(e);
  if (e->ndots == 1 && !crdt__dv_packable(many[0])) return;
  uint32_t cap = crdt__entry_cap(e);
  e->dots = e->ndots ? pack(many[0]) : 0;
  array_free(m, many, cap);
}

void crdt__entry_free_dots(crdt__entry *e, const crdt_allocator *m) {
  if (crdt__entry_many(e))
    array_free(m, crdt__entry_array(e), crdt__entry_cap(e));
  e->dots = 0;
}

void crdt__entry_set_one(crdt__entry *e, const crdt_allocator *m, crdt__dv d) {
  if (crdt__entry_many(e) && !crdt__dv_packable(d)) {
    crdt__entry_array(e)[0] = d;
    e->ndots = 1;
    return;
  }
  e->ndots = 0;
  crdt__entry_shrink(e, m);
  e->dots = pack(d);
  e->ndots = 1;
}

/* Exact, then clamped: saturating as one goes would depend on the order of
 * the dots, which differs between replicas holding equal states. Positive
 * and negative parts are summed as 96-bit magnitudes (a carry count each;
 * an entry has at most UINT32_MAX dots). */
int64_t crdt__entry_sum(const crdt__entry *e) {
  crdt__dv one;
  const crdt__dv *d = crdt__entry_view(e, &one);
  uint64_t pos = 0, pos_hi = 0, neg = 0, neg_hi = 0;
  for (uint32_t i = 0; i < e->ndots; i++) {
    int64_t v = d[i].value;
    if (v >= 0) {
      pos += (uint64_t)v;
      pos_hi += pos < (uint64_t)v;
    } else {
      uint64_t magnitude = (uint64_t)(-(v + 1)) + 1;
      neg += magnitude;
      neg_hi += neg < magnitude;
    }
  }
  if (pos_hi > neg_hi || (pos_hi == neg_hi && pos >= neg)) {
    uint64_t hi = pos_hi - neg_hi - (pos < neg);
    uint64_t lo = pos - neg;
    return hi || lo > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)lo;
  }
  uint64_t hi = neg_hi - pos_hi - (neg < pos);
  uint64_t lo = neg - pos;
  if (hi || lo > (uint64_t)INT64_MAX) return INT64_MIN; /* also -2^63 exactly */
  return -(int64_t)lo;
}

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

/* Batch loops (joins, rehashing, copies) touch one random index slot and
 * entry per key; in a store larger than the caches each is a miss. They
 * prefetch a fixed distance ahead so that the misses overlap: the slot of
 * the key PREFETCH_FAR ahead, the entry its slot names (by then cached) for
 * the key PREFETCH_NEAR ahead, and that entry's key bytes PREFETCH_KEY
 * ahead. */
#define PREFETCH_FAR 16
#define PREFETCH_NEAR 8
#define PREFETCH_KEY 4
#if defined(__GNUC__) || defined(__clang__)
#define prefetch(p) __builtin_prefetch(p)
#else
#define prefetch(p) ((void)(p))
#endif

static inline void prefetch_slot(const crdt__store *s, uint32_t hash) {
  if (s->index) prefetch(&s->index[hash & s->mask]);
}

/* The entry named by the key's home slot, when its tag matches, or NULL. */
static inline const crdt__entry *home_entry(const crdt__store *s,
                                            uint32_t hash) {
  if (!s->index) return NULL;
  uint32_t v = s->index[hash & s->mask];
  if (v && v != s->mask && (v & ~s->mask) == (hash & ~s->mask))
    return &s->entries[(v & s->mask) - 1];
  return NULL;
}

static inline void prefetch_entry(const crdt__store *s, uint32_t hash) {
  const crdt__entry *e = home_entry(s, hash);
  if (e) prefetch(e);
}

static inline void prefetch_key(const crdt__store *s, uint32_t hash) {
  const crdt__entry *e = home_entry(s, hash);
  if (e && e->hash == hash && e->keylen > CRDT__KEY_INLINE)
    prefetch(crdt__entry_key(e));
}

/* Rebuilds an index of mask + 1 zeroed slots from entries[0 .. count). */
static void index_build(uint32_t *index, uint32_t mask,
                        const crdt__entry *entries, uint32_t count) {
  for (uint32_t n = 0; n < count; n++) {
    if (n + PREFETCH_FAR < count)
      prefetch(&index[entries[n + PREFETCH_FAR].hash & mask]);
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
    if (n + PREFETCH_FAR < s->count)
      prefetch(&index[e[PREFETCH_FAR].hash & mask]);
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

/* The copy is compact: one arena chunk, exact arrays. */
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
    if (crdt__entry_many(from)) {
      uint32_t cap = from->ndots ? from->ndots : 1;
      uint8_t *block = crdt__alloc(m, array_bytes(cap));
      if (!block) goto fail;
      crdt__dv *many = array_of_block(block, cap);
      memcpy(many, crdt__entry_array(from), from->ndots * sizeof *many);
      set_array(&to, many);
    }
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

int crdt__store_sorted(const crdt__store *s, const crdt_allocator *m,
                       const crdt__entry ***out) {
  *out = NULL;
  if (!s->count) return 0;
  const crdt__entry **list = crdt__alloc(m, crdt__mul(s->count, sizeof *list));
  if (!list) return CRDT_ENOMEM;
  for (uint32_t n = 0; n < s->count; n++) list[n] = &s->entries[n];
  crdt__sort(list, s->count, sizeof *list, crdt__entry_ptr_cmp, NULL);
  *out = list;
  return 0;
}

static int dv_canonical_cmp(const void *a, const void *b, const void *ctx) {
  const crdt__replicas *r = ctx;
  const crdt__dv *x = a, *y = b;
  if (x->replica != y->replica) {
    size_t xl, yl;
    const char *xi = crdt__replicas_id(r, x->replica, &xl);
    const char *yi = crdt__replicas_id(r, y->replica, &yl);
    return crdt__replica_cmp(xi, xl, yi, yl);
  }
  return (x->counter > y->counter) - (x->counter < y->counter);
}

void crdt__entry_sorted_dots(const crdt__entry *e, const crdt__replicas *r,
                             crdt__dv *out) {
  crdt__dv one;
  memcpy(out, crdt__entry_view(e, &one), e->ndots * sizeof *out);
  crdt__sort(out, e->ndots, sizeof *out, dv_canonical_cmp, r);
}

/* ---- causal states --------------------------------------------------------- */

void crdt__causal_free(crdt__causal *c, const crdt_allocator *m) {
  crdt__store_free(&c->store, m);
  crdt__ctx_free(&c->ctx, m);
  crdt__replicas_free(&c->replicas, m);
  c->keyed = false;
}

int crdt__causal_copy(crdt__causal *dst, const crdt_allocator *m,
                      const crdt__causal *src) {
  memset(dst, 0, sizeof *dst);
  if (crdt__replicas_copy(&dst->replicas, m, &src->replicas) ||
      crdt__ctx_copy(&dst->ctx, m, &src->ctx) ||
      crdt__store_copy(&dst->store, m, &src->store)) {
    crdt__causal_free(dst, m);
    return CRDT_ENOMEM;
  }
  dst->keyed = src->keyed;
  return 0;
}

/* Entries whose dot lists are this small are matched pairwise; larger ones
 * are sorted and matched by binary search. */
#define SMALL_PRODUCT 64

/* How src's replica indexes relate to dst's: map (src -> dst) and rmap
 * (dst -> src or CRDT__NO_REPLICA), with both contexts as they were before
 * the join. */
typedef struct join_maps {
  const uint32_t *map;
  const uint32_t *rmap;
  const crdt__ctx *dst_ctx;
  const crdt__ctx *src_ctx;
} join_maps;

static inline bool seen_by_dst(const join_maps *jm, const crdt__dv *d2) {
  return crdt__ctx_has(jm->dst_ctx, (crdt__dot){d2->counter, jm->map[d2->replica]});
}

static inline bool seen_by_src(const join_maps *jm, const crdt__dv *d1) {
  uint32_t r = jm->rmap[d1->replica];
  return r != CRDT__NO_REPLICA &&
         crdt__ctx_has(jm->src_ctx, (crdt__dot){d1->counter, r});
}

/* How many of e2's dots dst has not seen, and whether they can all be
 * packed once translated to dst's indexes. */
static uint32_t count_unseen(const join_maps *jm, const crdt__entry *e2,
                             bool *packable) {
  crdt__dv one;
  const crdt__dv *d = crdt__entry_view(e2, &one);
  uint32_t n = 0;
  *packable = true;
  for (uint32_t i = 0; i < e2->ndots; i++) {
    if (seen_by_dst(jm, &d[i])) continue;
    crdt__dv t = d[i];
    t.replica = jm->map[t.replica];
    *packable &= crdt__dv_packable(t);
    n++;
  }
  return n;
}

static int dv_index_cmp(const void *a, const void *b, const void *ctx) {
  (void)ctx;
  const crdt__dv *x = a, *y = b;
  if (x->replica != y->replica) return x->replica < y->replica ? -1 : 1;
  return (x->counter > y->counter) - (x->counter < y->counter);
}

static bool dv_search(const crdt__dv *dots, uint32_t n, crdt__dv key,
                      uint32_t *at) {
  uint32_t lo = 0, hi = n;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    int c = dv_index_cmp(&dots[mid], &key, NULL);
    if (c == 0) {
      *at = mid;
      return true;
    }
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return false;
}

/* The join rule for one key present in dst (e1) and src (e2): e1 keeps a dot
 * that e2 has or that src has not seen, and gains e2's dots that dst has not
 * seen. Room for the gained dots was reserved; `scratch` holds at least
 * e1->ndots bytes when the lists are large. Never fails; an emptied entry is
 * left for the caller's deletion sweep. */
static void join_entry(crdt__entry *e1, const crdt__entry *e2,
                       const join_maps *jm, uint8_t *scratch,
                       const crdt_allocator *m) {
  crdt__dv one1, one2;
  uint32_t n1 = e1->ndots, n2 = e2->ndots, kept = 0;
  const crdt__dv *d2 = crdt__entry_view(e2, &one2);
  if (!crdt__entry_many(e1)) {
    /* One packed dot (or none): keep it if e2 has it or src has not seen it. */
    if (n1) {
      const crdt__dv *d1 = crdt__entry_view(e1, &one1);
      bool in_e2 = false;
      for (uint32_t j = 0; j < n2 && !in_e2; j++)
        in_e2 = d1->counter == d2[j].counter &&
                d1->replica == jm->map[d2[j].replica];
      kept = in_e2 || !seen_by_src(jm, d1);
    }
    e1->ndots = kept;
  } else {
    crdt__dv *d1 = crdt__entry_array(e1);
    bool large = (uint64_t)n1 * n2 > SMALL_PRODUCT;
    if (large) {
      /* Reordering e1's dots is invisible: order is canonicalised on output. */
      crdt__sort(d1, n1, sizeof *d1, dv_index_cmp, NULL);
      memset(scratch, 0, n1);
      for (uint32_t j = 0; j < n2; j++) {
        uint32_t at;
        crdt__dv key = {d2[j].counter, jm->map[d2[j].replica], 0};
        if (dv_search(d1, n1, key, &at)) scratch[at] = 1;
      }
    }
    for (uint32_t i = 0; i < n1; i++) {
      bool in_e2 = false;
      if (large) {
        in_e2 = scratch[i];
      } else {
        for (uint32_t j = 0; j < n2 && !in_e2; j++)
          in_e2 = d1[i].counter == d2[j].counter &&
                  d1[i].replica == jm->map[d2[j].replica];
      }
      if (in_e2 || !seen_by_src(jm, &d1[i])) d1[kept++] = d1[i];
    }
    e1->ndots = kept;
  }
  for (uint32_t j = 0; j < n2; j++) {
    if (seen_by_dst(jm, &d2[j])) continue;
    crdt__dv d = d2[j];
    d.replica = jm->map[d.replica];
    crdt__entry_push(e1, d);
  }
  crdt__entry_shrink(e1, m);
}

static bool unseen_by_src(const crdt__dv *d, const void *user) {
  return !seen_by_src(user, d);
}

/* Builds a new entry for a src key absent from dst, holding the dots dst has
 * not seen. On error nothing was inserted. */
static int insert_unseen(crdt__store *s, const crdt_allocator *m,
                         const crdt__entry *e2, uint32_t unseen, bool packable,
                         const join_maps *jm) {
  const uint8_t *key;
  int rc = crdt__store_key(s, m, crdt__entry_key(e2), e2->keylen, &key);
  if (rc) return rc;
  crdt__entry tmp = {0};
  if ((rc = crdt__entry_reserve(&tmp, m, unseen, packable))) {
    crdt__store_key_drop(s, key, e2->keylen);
    return rc;
  }
  crdt__entry *e = crdt__store_put(s, key, e2->keylen, e2->hash);
  e->dots = tmp.dots;
  crdt__dv one;
  const crdt__dv *d2 = crdt__entry_view(e2, &one);
  for (uint32_t j = 0; j < e2->ndots; j++) {
    if (seen_by_dst(jm, &d2[j])) continue;
    crdt__dv d = d2[j];
    d.replica = jm->map[d.replica];
    crdt__entry_push(e, d);
  }
  return 0;
}

/* Has src seen a dot of some replica that dst has seen dots of? When not,
 * no dot of dst's store is in src's context. O(src's replicas). */
static bool src_saw_dst_replicas(const crdt__causal *dst,
                                 const crdt__causal *src,
                                 const uint32_t *map) {
  for (uint32_t i = 0; i < src->replicas.count; i++)
    if (crdt__vv_get(&src->ctx.top, i) && crdt__vv_get(&dst->ctx.top, map[i]))
      return true;
  return false;
}

#define WHERE_NONE UINT32_MAX /* src key absent from dst, nothing to add */

static int u32_desc(const void *a, const void *b, const void *ctx) {
  (void)ctx;
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return (x < y) - (x > y);
}

/*
 * Phase 1 (may fail, leaves dst logically unchanged): intern src's replicas,
 * reserve the context, find each src key in dst once (remembering where),
 * grow the dot lists that will gain dots, reserve the index and append the
 * entries for keys dst does not have (popped again on failure). Phase 2
 * (cannot fail): apply the rule to the keys both have and, unless src is a
 * keyed delta, to dst's other keys (no lookups: the remembered positions say
 * which were visited); then delete the emptied entries, highest position
 * first so the swap-removes disturb nothing still to be visited; then join
 * the contexts.
 */
int crdt__causal_join(crdt__causal *dst, const crdt_allocator *m,
                      const crdt__causal *src) {
  if (dst == src) return 0;
  const bool keep_markers = dst->keyed && src->keyed;
  const uint32_t replicas_before = dst->replicas.count;
  const uint32_t old_count = dst->store.count;
  const crdt__store *s2 = &src->store;
  /* Small joins (an MV-register's siblings, a delta) allocate nothing for
   * their scratch arrays. */
  uint32_t small_map[CRDT__SMALL], small_rmap[CRDT__SMALL],
      small_where[CRDT__SMALL];
  uint8_t small_visited[CRDT__SMALL];
  const uint32_t nmap = src->replicas.count;
  uint32_t *map = small_map, *rmap = small_rmap, *where = small_where;
  uint8_t *scratch = NULL, *visited = NULL;
  uint32_t nrmap = 0, nfresh = 0, new_keys = 0, scratch_n = 0, nvisited = 0;
  int rc;
  if (nmap > CRDT__SMALL && !(map = crdt__alloc(m, crdt__mul(nmap, sizeof *map))))
    return CRDT_ENOMEM;
  if ((rc = crdt__replicas_map_into(&dst->replicas, m, &src->replicas, map))) {
    if (map != small_map) crdt__free(m, map, nmap * sizeof *map);
    return rc;
  }
  nrmap = dst->replicas.count;
  /* A full src drops the dots of dst it has seen (and a keyed dst's
   * markers), so all of dst's keys need a visit, unless src has seen no dot
   * of any replica that dst has dots of (as when joining replicas that
   * wrote concurrently). */
  const bool walk = !src->keyed && old_count &&
                    (dst->keyed || src_saw_dst_replicas(dst, src, map));
  if ((rc = crdt__ctx_reserve_join(&dst->ctx, m, nrmap, &src->ctx))) goto fail;
  join_maps jm = {map, NULL, &dst->ctx, &src->ctx};
  uint32_t common = 0;
  if (s2->count > CRDT__SMALL &&
      !(where = crdt__alloc(m, crdt__mul(s2->count, sizeof *where))))
    goto oom;

  for (uint32_t j = 0; j < s2->count; j++) {
    const crdt__entry *e2 = &s2->entries[j];
    if (j + PREFETCH_FAR < s2->count)
      prefetch_slot(&dst->store, e2[PREFETCH_FAR].hash);
    if (j + PREFETCH_NEAR < s2->count)
      prefetch_entry(&dst->store, e2[PREFETCH_NEAR].hash);
    if (j + PREFETCH_KEY < s2->count)
      prefetch_key(&dst->store, e2[PREFETCH_KEY].hash);
    crdt__entry *e1 = crdt__store_find(&dst->store, crdt__entry_key(e2),
                                       e2->keylen, e2->hash);
    bool packable;
    uint32_t unseen = count_unseen(&jm, e2, &packable);
    if (!e1) {
      bool add = unseen > 0 || keep_markers;
      new_keys += add;
      where[j] = add ? old_count + new_keys - 1 : WHERE_NONE;
      continue;
    }
    where[j] = (uint32_t)(e1 - dst->store.entries);
    common++;
    if (unseen &&
        (rc = crdt__entry_reserve(e1, m, e1->ndots + unseen,
                                  packable && e1->ndots + unseen <= 1)))
      goto fail;
    if ((uint64_t)e1->ndots * e2->ndots > SMALL_PRODUCT &&
        crdt__entry_many(e1) &&
        e1->ndots > scratch_n)
      scratch_n = e1->ndots;
  }
  /* The reverse map, for the src contexts checks of phase 2. */
  if (walk || common) {
    if (nrmap > CRDT__SMALL &&
        !(rmap = crdt__alloc(m, crdt__mul(nrmap, sizeof *rmap))))
      goto oom;
    for (uint32_t i = 0; i < nrmap; i++) rmap[i] = CRDT__NO_REPLICA;
    for (uint32_t i = 0; i < src->replicas.count; i++) rmap[map[i]] = i;
    jm.rmap = rmap;
  }
  if ((rc = crdt__store_reserve(&dst->store, m, new_keys))) goto fail;
  nvisited = old_count + new_keys;
  if (nvisited && walk) {
    if (nvisited <= CRDT__SMALL)
      memset(visited = small_visited, 0, nvisited);
    else if (!(visited = crdt__calloc(m, nvisited, 1)))
      goto oom;
  }
  if (scratch_n && !(scratch = crdt__alloc(m, scratch_n))) goto oom;
  for (uint32_t j = 0; j < s2->count && nfresh < new_keys; j++) {
    if (j + PREFETCH_FAR < s2->count && where[j + PREFETCH_FAR] != WHERE_NONE &&
        where[j + PREFETCH_FAR] >= old_count)
      prefetch_slot(&dst->store, s2->entries[j + PREFETCH_FAR].hash);
    if (where[j] == WHERE_NONE || where[j] < old_count) continue;
    const crdt__entry *e2 = &s2->entries[j];
    bool packable = true;
    uint32_t unseen;
    if (e2->ndots == 1 && !crdt__entry_many(e2)) {
      /* The common case: one packed dot, new here (or the key would not
       * have been chosen) unless the key is a marker. */
      unseen = 1;
      crdt__dv d = crdt__entry_dot(e2, 0);
      const bool fresh = !seen_by_dst(&jm, &d);
      d.replica = map[d.replica];
      packable = crdt__dv_packable(d);
      if (packable && e2->keylen <= CRDT__KEY_INLINE) {
        /* Nothing to allocate: the key and the dot go into the entry. */
        crdt__entry *e = crdt__store_put(&dst->store, crdt__entry_key(e2),
                                         e2->keylen, e2->hash);
        if (fresh) {
          e->dots = crdt__dv_pack(d);
          e->ndots = 1;
        }
        nfresh++;
        continue;
      }
    } else {
      unseen = count_unseen(&jm, e2, &packable);
    }
    if ((rc = insert_unseen(&dst->store, m, e2, unseen, packable, &jm)))
      goto undo;
    nfresh++;
  }

  /* Phase 2. */
  uint32_t nempty = 0;
  for (uint32_t j = 0; j < s2->count; j++) {
    if (j + PREFETCH_FAR < s2->count && where[j + PREFETCH_FAR] < old_count)
      prefetch(&dst->store.entries[where[j + PREFETCH_FAR]]);
    uint32_t n = where[j];
    if (n == WHERE_NONE) continue;
    if (visited) visited[n] = 1;
    if (n >= old_count) continue; /* fresh: already holds the right dots */
    crdt__entry *e1 = &dst->store.entries[n];
    join_entry(e1, &s2->entries[j], &jm, scratch, m);
    if (e1->ndots == 0 && !keep_markers) where[nempty++] = n;
  }
  if (walk) {
    for (uint32_t n = 0; n < old_count; n++) {
      crdt__entry *e1 = &dst->store.entries[n];
      if (visited[n]) continue;
      if (!crdt__entry_many(e1)) {
        /* One packed dot: decide inline (most entries; no call per entry). */
        if (e1->ndots) {
          crdt__dv one;
          if (seen_by_src(&jm, crdt__entry_view(e1, &one))) e1->ndots = 0;
        }
        continue;
      }
      crdt__entry_retain(e1, unseen_by_src, &jm);
      crdt__entry_shrink(e1, m);
    }
    crdt__store_sweep(&dst->store, m);
  } else {
    crdt__sort(where, nempty, sizeof *where, u32_desc, NULL);
    for (uint32_t k = 0; k < nempty; k++)
      crdt__store_delete(&dst->store, m, &dst->store.entries[where[k]]);
  }
  crdt__ctx_join(&dst->ctx, &src->ctx, map, src->replicas.count);
  dst->keyed = keep_markers;
  crdt__store_tidy(&dst->store, m);
  rc = 0;
  goto done;

oom:
  rc = CRDT_ENOMEM;
  goto fail;
undo:
  /* The fresh entries are the last ones: pop them. */
  while (dst->store.count > old_count)
    crdt__store_delete(&dst->store, m,
                       &dst->store.entries[dst->store.count - 1]);
fail:
  crdt__replicas_truncate(&dst->replicas, m, replicas_before);
done:
  if (visited != small_visited) crdt__free(m, visited, nvisited);
  crdt__free(m, scratch, scratch_n);
  if (where != small_where) crdt__free(m, where, s2->count * sizeof *where);
  if (rmap != small_rmap) crdt__free(m, rmap, nrmap * sizeof *rmap);
  if (map != small_map) crdt__free(m, map, nmap * sizeof *map);
  return rc;
}

/* ---- equality ---------------------------------------------------------------- */

/* Does b's entry hold dot d of a (replica index of a translated by id) with
 * the same value? */
static bool entry_has(const crdt__entry *eb, const crdt__dv *d, uint32_t rb) {
  crdt__dv one;
  const crdt__dv *db = crdt__entry_view(eb, &one);
  for (uint32_t i = 0; i < eb->ndots; i++)
    if (db[i].counter == d->counter && db[i].replica == rb)
      return db[i].value == d->value;
  return false;
}

bool crdt__causal_equal(const crdt__causal *a, const crdt__causal *b) {
  if (crdt__ctx_compare(&a->ctx, &a->replicas, &b->ctx, &b->replicas) !=
      CRDT_EQUAL)
    return false;
  const bool markers = a->keyed && b->keyed;
  uint32_t na = 0, nb = 0;
  for (uint32_t n = 0; n < b->store.count; n++)
    nb += markers || b->store.entries[n].ndots;
  for (uint32_t n = 0; n < a->store.count; n++) {
    const crdt__entry *ea = &a->store.entries[n];
    if (!markers && !ea->ndots) continue;
    na++;
    const crdt__entry *eb =
        crdt__store_find(&b->store, crdt__entry_key(ea), ea->keylen, ea->hash);
    if (!eb || eb->ndots != ea->ndots) return false;
    crdt__dv one;
    const crdt__dv *da = crdt__entry_view(ea, &one);
    for (uint32_t k = 0; k < ea->ndots; k++) {
      size_t len;
      const char *id = crdt__replicas_id(&a->replicas, da[k].replica, &len);
      uint32_t rb = crdt__replicas_find(&b->replicas, id, len);
      if (rb == CRDT__NO_REPLICA || !entry_has(eb, &da[k], rb)) return false;
    }
  }
  return na == nb;
}

int crdt__causal_replica(crdt__causal *c, const crdt_allocator *m,
                         const char *id, size_t len, uint32_t *index) {
  uint32_t before = c->replicas.count;
  int rc = crdt__replicas_intern(&c->replicas, m, id, len, index);
  if (rc) return rc;
  rc = crdt__ctx_reserve(&c->ctx, m, c->replicas.count, 1);
  if (rc) crdt__replicas_truncate(&c->replicas, m, before);
  return rc;
}

/* Interns replica `index` of `from` into `to`. */
static int intern_from(crdt__causal *to, const crdt_allocator *m,
                       const crdt__replicas *from, uint32_t index,
                       uint32_t *out) {
  size_t len;
  const char *id = crdt__replicas_id(from, index, &len);
  return crdt__causal_replica(to, m, id, len, out);
}

/* Builds the operation's delta as a small state, then joins it: the join rule
 * stays the only code that decides what survives. */
int crdt__causal_record_by_join(crdt__causal *delta, const crdt_allocator *m,
                                const crdt__replicas *from,
                                const crdt__op *op) {
  crdt__causal d = {0};
  d.keyed = op->extra == NULL;
  crdt__entry *e;
  int rc = crdt__store_insert(&d.store, m, op->key, op->keylen, op->hash, &e);
  if (rc) goto done;
  for (uint32_t i = 0; i < op->nadd; i++) {
    crdt__dv dv = op->add[i];
    if ((rc = intern_from(&d, m, from, dv.replica, &dv.replica)) ||
        (rc = crdt__entry_reserve(e, m, op->nadd,
                                  op->nadd == 1 && crdt__dv_packable(dv))))
      goto done;
    crdt__entry_push(e, dv);
    crdt__ctx_add(&d.ctx, (crdt__dot){dv.counter, dv.replica});
  }
  for (uint32_t i = 0; i < op->nseen; i++) {
    uint32_t r;
    if ((rc = intern_from(&d, m, from, op->seen[i].replica, &r)) ||
        (rc = crdt__ctx_insert(&d.ctx, m, (crdt__dot){op->seen[i].counter, r})))
      goto done;
  }
  uint32_t self;
  if ((rc = intern_from(&d, m, from, op->dot.replica, &self)) ||
      (rc = crdt__ctx_insert(&d.ctx, m, (crdt__dot){op->dot.counter, self})))
    goto done;
  if (op->extra) {
    uint32_t *map;
    if ((rc = crdt__replicas_map(&d.replicas, m, op->extra_replicas, &map)))
      goto done;
    rc = crdt__ctx_reserve_join(&d.ctx, m, d.replicas.count, op->extra);
    if (!rc)
      crdt__ctx_join(&d.ctx, op->extra, map, op->extra_replicas->count);
    crdt__free(m, map, op->extra_replicas->count * sizeof *map);
    if (rc) goto done;
  }
  rc = crdt__causal_join(delta, m, &d);
done:
  crdt__causal_free(&d, m);
  return rc;
}

/* ---- recording one operation directly ------------------------------------ */

/* Bounds of the direct path (larger operations take the join). */
#define RECORD_ADD_MAX 4
#define RECORD_CTX_MAX 32
#define RECORD_PRODUCT_MAX 256

static bool dot_in(const crdt__dot *set, uint32_t n, uint64_t counter,
                   uint32_t replica) {
  for (uint32_t i = 0; i < n; i++)
    if (set[i].counter == counter && set[i].replica == replica) return true;
  return false;
}

/* What crdt__causal_join(delta, the operation's delta) does, for the one key
 * of a keyed operation delta, whose context is add ∪ seen ∪ {dot}: the
 * delta's entry for the key keeps the dots that are in `add` or outside that
 * context, and gains the dots of `add` it has not seen; the context gains
 * the operation's context. Without allocating a temporary state, this costs
 * about as much as the operation itself. Returns 1 when the operation is too
 * large for it (nothing changed). tests/test_store.c checks it against the
 * join on random operations. */
static int record_direct(crdt__causal *delta, const crdt_allocator *m,
                         const crdt__replicas *from, const crdt__op *op) {
  uint32_t nctx = op->nadd + op->nseen + 1;
  if (op->extra || op->nadd > RECORD_ADD_MAX || nctx > RECORD_CTX_MAX) return 1;
  /* An add's own dot is usually the dot it adds: list it once. */
  bool dot_added = false;
  for (uint32_t i = 0; i < op->nadd && !dot_added; i++)
    dot_added = op->add[i].counter == op->dot.counter &&
                op->add[i].replica == op->dot.replica;
  nctx -= dot_added;
  crdt__store *s = &delta->store;
  crdt__entry *e = crdt__store_find(s, op->key, op->keylen, op->hash);
  if (e && (uint64_t)e->ndots * nctx > RECORD_PRODUCT_MAX) return 1;

  /* Fallible: replica ids, context room, the key, the entry's room. */
  const uint32_t replicas_before = delta->replicas.count;
  crdt__dot ctx[RECORD_CTX_MAX]; /* the operation's context, add dots first */
  uint32_t last_from = CRDT__NO_REPLICA, last_to = 0;
  int rc = 0;
  for (uint32_t i = 0; i < nctx; i++) {
    crdt__dot d;
    if (i < op->nadd)
      d = (crdt__dot){op->add[i].counter, op->add[i].replica};
    else if (i < op->nadd + op->nseen)
      d = (crdt__dot){op->seen[i - op->nadd].counter,
                      op->seen[i - op->nadd].replica};
    else
      d = op->dot;
    if (d.replica != last_from) {
      size_t len, guess_len;
      const char *id = crdt__replicas_id(from, d.replica, &len);
      const uint32_t guess = delta->last_replica;
      const char *guess_id =
          guess < delta->replicas.count
              ? crdt__replicas_id(&delta->replicas, guess, &guess_len)
              : NULL;
      if (guess_id && guess_len == len && memcmp(guess_id, id, len) == 0) {
        last_to = guess; /* the same replica as the last operation's */
      } else {
        if ((rc = crdt__replicas_intern(&delta->replicas, m, id, len,
                                        &last_to)))
          goto fail;
        delta->last_replica = last_to;
      }
      last_from = d.replica;
    }
    ctx[i] = (crdt__dot){d.counter, last_to};
  }
  if ((rc = crdt__ctx_reserve(&delta->ctx, m, delta->replicas.count, nctx)))
    goto fail;
  uint32_t unseen = 0;
  bool packable = true, fresh[RECORD_ADD_MAX];
  for (uint32_t i = 0; i < op->nadd; i++) {
    fresh[i] = !crdt__ctx_has(&delta->ctx, ctx[i]);
    if (!fresh[i]) continue;
    crdt__dv t = {ctx[i].counter, ctx[i].replica, op->add[i].value};
    packable &= crdt__dv_packable(t);
    unseen++;
  }
  const uint8_t *key = NULL;
  if (!e) {
    if (unseen == 0 && !delta->keyed) goto context; /* nothing to list */
    crdt__entry tmp = {0};
    if ((rc = crdt__store_reserve(s, m, 1)) ||
        (rc = crdt__store_key(s, m, op->key, op->keylen, &key)))
      goto fail;
    if ((rc = crdt__entry_reserve(&tmp, m, unseen, packable))) {
      crdt__store_key_drop(s, key, op->keylen);
      goto fail;
    }
    /* Infallible from here. */
    e = crdt__store_put(s, key, (uint32_t)op->keylen, op->hash);
    e->dots = tmp.dots;
  } else {
    if (unseen &&
        (rc = crdt__entry_reserve(e, m, e->ndots + unseen,
                                  packable && e->ndots + unseen <= 1)))
      goto fail;
    /* Infallible from here: keep what the operation did not supersede. */
    crdt__dv one;
    const crdt__dv *d1 = crdt__entry_view(e, &one);
    uint32_t kept = 0;
    for (uint32_t i = 0; i < e->ndots; i++) {
      bool keep = dot_in(ctx, op->nadd, d1[i].counter, d1[i].replica) ||
                  !dot_in(ctx, nctx, d1[i].counter, d1[i].replica);
      if (!keep) continue;
      if (crdt__entry_many(e)) crdt__entry_array(e)[kept] = d1[i];
      kept++;
    }
    if (!crdt__entry_many(e) && kept == 0) e->dots = 0;
    e->ndots = kept;
  }
  for (uint32_t i = 0; i < op->nadd; i++)
    if (fresh[i])
      crdt__entry_push(e, (crdt__dv){ctx[i].counter, ctx[i].replica,
                                     op->add[i].value});
  crdt__entry_shrink(e, m);
  if (e->ndots == 0 && !delta->keyed) {
    crdt__store_delete(s, m, e);
    crdt__store_tidy(s, m);
  }
context:
  for (uint32_t i = 0; i < nctx; i++) crdt__ctx_add(&delta->ctx, ctx[i]);
  return 0;
fail:
  crdt__replicas_truncate(&delta->replicas, m, replicas_before);
  return rc;
}

int crdt__causal_record(crdt__causal *delta, const crdt_allocator *m,
                        const crdt__replicas *from, const crdt__op *op) {
  int rc = record_direct(delta, m, from, op);
  return rc == 1 ? crdt__causal_record_by_join(delta, m, from, op) : rc;
}

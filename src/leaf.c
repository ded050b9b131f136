/*
 * Leaves of a causal state (see leaf.h).
 */
#include <string.h>

#include "digest.h"
#include "leaf.h"

void crdt__leaves_begin(crdt__leaves *it, const crdt__store *root,
                        bool hashed) {
  it->depth = 0;
  it->hashed = hashed;
  it->store[0] = root;
  it->next[0] = 0;
  it->seed[0] = 0;
}

void crdt__leaves_down(crdt__leaves *it, const crdt__entry *e) {
  const uint32_t d = it->depth;
  /* Trees are at most CRDT__DEPTH_MAX deep (decoders and mutators see to
   * it); deeper, there is no room to go on, and nothing to find. */
  if (d == CRDT__DEPTH_MAX) return;
  const uint8_t *key = crdt__entry_key(e);
  it->path[d] = (crdt__key){key, e->keylen, e->hash};
  it->store[d + 1] = crdt__entry_child(e);
  it->next[d + 1] = 0;
  it->seed[d + 1] =
      it->hashed ? crdt__digest_seeded(key, e->keylen, it->seed[d]) : 0;
  it->depth = d + 1;
}

uint64_t crdt__leaves_digest_key(const crdt__leaves *it,
                                 const crdt__entry *e) {
  return crdt__digest_seeded(crdt__entry_key(e), e->keylen,
                             it->seed[it->depth]);
}

crdt__entry *crdt__leaf_find(const crdt__store *root, const crdt__leaf *at) {
  const crdt__store *s = root;
  for (uint32_t i = 0; i < at->depth; i++) {
    const crdt__key *k = &at->path[i];
    const crdt__entry *e = crdt__store_find(s, k->bytes, k->len, k->hash);
    if (!e || !crdt__entry_nested(e)) return NULL;
    s = crdt__entry_child(e);
  }
  crdt__entry *e = crdt__store_find(s, at->key.bytes, at->key.len,
                                    at->key.hash);
  return e && !crdt__entry_nested(e) ? e : NULL;
}

int crdt__leaf_make(crdt__causal *t, const crdt_allocator *m,
                    const crdt__leaf *at, crdt__entry **out) {
  if (at->depth > CRDT__DEPTH_MAX) return CRDT_ETOOMANY;
  crdt__route r;
  crdt__route_find(&r, &t->store, at->path, at->depth);
  int rc = crdt__route_make(&r, m);
  if (rc) return rc;
  crdt__store *s = r.store[at->depth];
  crdt__entry *e = crdt__store_find(s, at->key.bytes, at->key.len,
                                    at->key.hash);
  if (e && crdt__entry_nested(e)) {
    rc = CRDT_EFORMAT;
  } else if (!e) {
    rc = crdt__store_insert(s, m, at->key.bytes, at->key.len, at->key.hash,
                            &e);
  }
  if (rc) {
    crdt__route_unmake(&r, m);
    return rc;
  }
  crdt__route_settle(&r, m, false); /* the keys made now hold a key */
  *out = e;
  return 0;
}

void crdt__store_drop_markers(crdt__store *s, const crdt_allocator *m) {
  for (uint32_t n = s->count; n-- > 0;) { /* a delete moves the last entry */
    crdt__entry *e = &s->entries[n];
    if (crdt__entry_nested(e)) {
      crdt__store_drop_markers(crdt__entry_child(e), m);
      crdt__entry_refresh(e);
    }
    if (!e->ndots) crdt__store_delete(s, m, e);
  }
  crdt__store_tidy(s, m);
}

uint64_t crdt__store_dots(const crdt__store *s) {
  crdt__leaves it;
  crdt__leaves_begin(&it, s, false);
  uint64_t n = 0;
  for (const crdt__entry *e; (e = crdt__leaves_next(&it));) n += e->ndots;
  return n;
}

/* ---- flat keys -------------------------------------------------------------- */

static size_t varint_size(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    n++;
  }
  return n;
}

static uint8_t *varint_put(uint8_t *p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  *p++ = (uint8_t)v;
  return p;
}

size_t crdt__leaf_flat_size(const crdt__leaf *at) {
  size_t n = varint_size(at->key.len) + at->key.len;
  for (uint32_t i = 0; i < at->depth; i++)
    n += varint_size(at->path[i].len) + at->path[i].len;
  return n;
}

static uint8_t *key_put(uint8_t *p, const crdt__key *k) {
  p = varint_put(p, k->len);
  if (k->len) memcpy(p, k->bytes, k->len);
  return p + k->len;
}

void crdt__leaf_flat_put(const crdt__leaf *at, uint8_t *out) {
  for (uint32_t i = 0; i < at->depth; i++) out = key_put(out, &at->path[i]);
  key_put(out, &at->key);
}

int crdt__leaf_flat_get(const uint8_t *flat, size_t len, crdt__key *path,
                        crdt__leaf *at) {
  const uint8_t *p = flat, *end = flat + len;
  uint32_t n = 0;
  crdt__key k = {NULL, 0, 0};
  while (p < end) {
    uint64_t klen = 0;
    for (int shift = 0;; shift += 7) {
      if (p == end || shift > 63) return CRDT_EFORMAT;
      const uint8_t b = *p++;
      klen |= (uint64_t)(b & 0x7F) << shift;
      if (!(b & 0x80)) break;
    }
    if (klen > (uint64_t)(end - p)) return CRDT_EFORMAT;
    if (n) { /* the previous key was a nested one */
      if (n > CRDT__DEPTH_MAX) return CRDT_EFORMAT;
      path[n - 1] = k;
    }
    k = (crdt__key){p, (size_t)klen, crdt__key_hash(p, (size_t)klen)};
    p += klen;
    n++;
  }
  if (!n) return CRDT_EFORMAT;
  *at = (crdt__leaf){path, n - 1, k};
  return 0;
}

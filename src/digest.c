/*
 * State digests (see digest.h for the definition).
 */
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "digest.h"

/* Domain words, so a dot term and a counter term never coincide by
 * construction: "DOTv1" and "CNTv1", NUL-padded, read little-endian. */
#define DOMAIN_DOT UINT64_C(0x0000003176544F44)
#define DOMAIN_COUNTER UINT64_C(0x0000003176544E43)

static void put_le(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t hash_words(const uint64_t w[5]) {
  uint8_t buf[40];
  for (int i = 0; i < 5; i++) put_le(buf + 8 * i, w[i]);
  return XXH3_64bits(buf, sizeof buf);
}

uint64_t crdt__digest_bytes(const void *p, size_t len) {
  return XXH3_64bits(len ? p : "", len);
}

uint64_t crdt__digest_seeded(const void *p, size_t len, uint64_t seed) {
  return XXH3_64bits_withSeed(len ? p : "", len, seed);
}

uint64_t crdt__digest_leaf_key(const crdt__leaf *at) {
  uint64_t seed = 0;
  for (uint32_t i = 0; i < at->depth; i++)
    seed = crdt__digest_seeded(at->path[i].bytes, at->path[i].len, seed);
  return crdt__digest_seeded(at->key.bytes, at->key.len, seed);
}

uint64_t crdt__digest_dot(uint64_t key, uint64_t replica, uint64_t counter,
                          int64_t value) {
  const uint64_t w[5] = {DOMAIN_DOT, key, replica, counter, (uint64_t)value};
  return hash_words(w);
}

uint64_t crdt__digest_counter(uint64_t replica, const crdt__pvent *e) {
  const uint64_t w[5] = {DOMAIN_COUNTER, replica, e->events, e->payload[0],
                         e->payload[1]};
  return hash_words(w);
}

static uint64_t replica_hash(const crdt__replicas *r, uint32_t index) {
  size_t len;
  const char *id = crdt__replicas_id(r, index, &len);
  return crdt__digest_bytes(id, len);
}

uint64_t crdt__causal_digest(const crdt__causal *c) {
  const crdt__replicas *r = &c->replicas;
  /* R() of the first replicas once, on the stack; past them (rare), per
   * dot. Nothing is allocated, so the digest cannot fail. */
  uint64_t rhash[CRDT__SMALL];
  const uint32_t cached = r->count < CRDT__SMALL ? r->count : CRDT__SMALL;
  for (uint32_t i = 0; i < cached; i++) rhash[i] = replica_hash(r, i);
  uint64_t sum = 0;
  crdt__leaves it;
  crdt__leaves_begin(&it, &c->store, true);
  for (const crdt__entry *e; (e = crdt__leaves_next(&it));) {
    if (!e->ndots) continue;
    const uint64_t k = crdt__leaves_digest_key(&it, e);
    crdt__dv one;
    const crdt__dv *d = crdt__entry_view(e, &one);
    for (uint32_t i = 0; i < e->ndots; i++) {
      uint32_t ri = d[i].replica;
      uint64_t rh = ri < cached ? rhash[ri] : replica_hash(r, ri);
      sum += crdt__digest_dot(k, rh, d[i].counter, d[i].value);
    }
  }
  return sum;
}

/* Is dot (replica index ri of `from`, counter) in the context of `in`? */
static bool seen_in(const crdt__causal *in, const crdt__replicas *from,
                    uint32_t ri, uint64_t counter) {
  size_t len;
  const char *id = crdt__replicas_id(from, ri, &len);
  const uint32_t j = crdt__replicas_find(&in->replicas, id, len);
  return j != CRDT__NO_REPLICA &&
         crdt__ctx_has(&in->ctx, (crdt__dot){counter, j});
}

/* Does entry e (of table `r`) hold dot (replica index ri of `from`,
 * counter)? */
static bool holds(const crdt__entry *e, const crdt__replicas *r,
                  const crdt__replicas *from, uint32_t ri, uint64_t counter) {
  if (!e) return false;
  size_t len;
  const char *id = crdt__replicas_id(from, ri, &len);
  const uint32_t j = crdt__replicas_find(r, id, len);
  crdt__dv one;
  const crdt__dv *d = crdt__entry_view(e, &one);
  for (uint32_t i = 0; i < e->ndots && j != CRDT__NO_REPLICA; i++)
    if (d[i].replica == j && d[i].counter == counter) return true;
  return false;
}

void crdt__digest_join(const crdt__causal *c, const crdt__causal *d,
                       uint64_t *digest, uint64_t *live) {
  uint64_t sum = 0, n = 0;
  crdt__leaves it;
  crdt__leaves_begin(&it, &d->store, true);
  for (const crdt__entry *de; (de = crdt__leaves_next(&it));) {
    const crdt__leaf at = crdt__leaves_at(&it, de);
    const crdt__entry *ce = crdt__leaf_find(&c->store, &at);
    if (!de->ndots && (!ce || !ce->ndots)) continue;
    const uint64_t k = crdt__leaves_digest_key(&it, de);
    crdt__dv one;
    const crdt__dv *dd = crdt__entry_view(de, &one);
    for (uint32_t i = 0; i < de->ndots; i++) /* arrive: c has not seen them */
      if (!seen_in(c, &d->replicas, dd[i].replica, dd[i].counter)) {
        sum += crdt__digest_dot(k, replica_hash(&d->replicas, dd[i].replica),
                                dd[i].counter, dd[i].value);
        n++;
      }
    if (!ce) continue;
    const crdt__dv *cd = crdt__entry_view(ce, &one);
    for (uint32_t i = 0; i < ce->ndots; i++) /* die: d saw them go */
      if (seen_in(d, &c->replicas, cd[i].replica, cd[i].counter) &&
          !holds(de, &d->replicas, &c->replicas, cd[i].replica,
                 cd[i].counter)) {
        sum -= crdt__digest_dot(k, replica_hash(&c->replicas, cd[i].replica),
                                cd[i].counter, cd[i].value);
        n--;
      }
  }
  *digest = sum;
  *live = n;
}

uint64_t crdt__pervec_digest(const crdt__pervec *v) {
  uint64_t sum = 0;
  for (uint32_t i = 0; i < v->replicas.count; i++) {
    crdt__pvent e = crdt__pervec_get(v, i);
    if (!e.events) continue;
    size_t len;
    const char *id = crdt__replicas_id(&v->replicas, i, &len);
    sum += crdt__digest_counter(crdt__digest_bytes(id, len), &e);
  }
  return sum;
}

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

static uint64_t replica_hash(const crdt__replicas *r, const uint64_t *rhash,
                             uint32_t index) {
  if (rhash) return rhash[index];
  size_t len;
  const char *id = crdt__replicas_id(r, index, &len);
  return crdt__digest_bytes(id, len);
}

uint64_t crdt__digest_entry(const crdt__entry *e, const crdt__replicas *r,
                            const uint64_t *rhash) {
  if (!e->ndots) return 0;
  const uint64_t k = crdt__digest_bytes(crdt__entry_key(e), e->keylen);
  crdt__dv one;
  const crdt__dv *d = crdt__entry_view(e, &one);
  uint64_t sum = 0;
  for (uint32_t i = 0; i < e->ndots; i++)
    sum += crdt__digest_dot(k, replica_hash(r, rhash, d[i].replica),
                            d[i].counter, d[i].value);
  return sum;
}

uint64_t crdt__causal_digest(const crdt__causal *c) {
  const crdt__replicas *r = &c->replicas;
  /* R() of the first replicas once, on the stack; past them (rare), per
   * dot. Nothing is allocated, so the digest cannot fail. */
  uint64_t rhash[CRDT__SMALL];
  const uint32_t cached = r->count < CRDT__SMALL ? r->count : CRDT__SMALL;
  for (uint32_t i = 0; i < cached; i++) rhash[i] = replica_hash(r, NULL, i);
  uint64_t sum = 0;
  for (uint32_t n = 0; n < c->store.count; n++) {
    const crdt__entry *e = &c->store.entries[n];
    if (!e->ndots) continue;
    const uint64_t k = crdt__digest_bytes(crdt__entry_key(e), e->keylen);
    crdt__dv one;
    const crdt__dv *d = crdt__entry_view(e, &one);
    for (uint32_t i = 0; i < e->ndots; i++) {
      uint32_t ri = d[i].replica;
      uint64_t rh = ri < cached ? rhash[ri] : replica_hash(r, NULL, ri);
      sum += crdt__digest_dot(k, rh, d[i].counter, d[i].value);
    }
  }
  return sum;
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

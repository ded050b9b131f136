/*
 * State digests: one 64-bit number per state that equal states share on
 * every process and machine, so two replicas can confirm that they hold
 * equal states without sending them, and a replica whose context claims
 * more than its state holds is caught (sync sessions, crdt/sync.c).
 *
 * Definition (fixed; part of the sync protocol, docs/sync.md). All hashes
 * are XXH3-64 with seed 0 (XXH3_64bits), independent of the per-process
 * seed of crdt__key_hash; integers are little-endian 64-bit words.
 *
 *   R(id)  = XXH3_64bits(replica id bytes)
 *   K(key) = XXH3_64bits(key bytes)
 *   dot-based states (OR-set, MV-register, cart):
 *     digest = sum mod 2^64, over every dot d of every key k in the store,
 *              of XXH3_64bits(words "DOTv1\0\0\0", K(k), R(id of d),
 *              counter of d, value of d)             (40 bytes)
 *   counters (G-counter, PN-counter):
 *     digest = sum mod 2^64, over every replica r with events > 0, of
 *              XXH3_64bits(words "CNTv1\0\0\0", R(r), events, p, n)
 *                                                     (40 bytes; n = 0 for
 *                                                      the G-counter)
 *   LWW-register: 0 when never written, else XXH3_64bits of its canonical
 *     body (docs/format.md, "LWW-register").
 *
 * Markers (keys without dots) add nothing, so a delta and the state it
 * equals as a set of live dots have the same digest. Sums make the digest
 * independent of the order of the walk and maintainable in O(1) per
 * change: an update adds the terms of the dots it creates and subtracts
 * those of the dots it drops (crdt__digest_dot). The scans here are the
 * reference; the sync layer keeps a cached value up to date per change
 * when it can (crdt/journal.c).
 */
#ifndef CRDT_SRC_DIGEST_H
#define CRDT_SRC_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include "pervec.h"
#include "store.h"

/* R(id) and K(key) above. */
uint64_t crdt__digest_bytes(const void *p, size_t len);

/* The term of one dot: `key` = K(key), `replica` = R(id). */
uint64_t crdt__digest_dot(uint64_t key, uint64_t replica, uint64_t counter,
                          int64_t value);

/* The term of one counter entry: `replica` = R(id). */
uint64_t crdt__digest_counter(uint64_t replica, const crdt__pvent *e);

/* The sum of the terms of the dots of entry e of a store whose replica
 * table is r; `rhash` may hold R() of every replica index of r (NULL:
 * computed per dot). */
uint64_t crdt__digest_entry(const crdt__entry *e, const crdt__replicas *r,
                            const uint64_t *rhash);

/* Digest of a dot-based state (markers and the context add nothing). A
 * scan of every dot; allocates nothing it cannot do without, so it never
 * fails. */
uint64_t crdt__causal_digest(const crdt__causal *c);

/* Digest of a counter's per-replica vector; O(replicas), never fails. */
uint64_t crdt__pervec_digest(const crdt__pervec *v);

#endif

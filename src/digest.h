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
 *   K(key) = XXH3_64bits(key bytes) for a key of a flat store; for a leaf
 *            of a tree (the map: store.h, "nested stores") below the nested
 *            keys p1 .. pn, K = XXH3_64bits_withSeed(key bytes, S(n)) with
 *            S(0) = 0 and S(i) = XXH3_64bits_withSeed(bytes of pi, S(i-1))
 *            (with n = 0 the two agree: seed 0 is XXH3_64bits)
 *   dot-based states (OR-set, MV-register, cart, flag, map):
 *     digest = sum mod 2^64, over every dot d of every leaf k (src/leaf.h),
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

#include "leaf.h"
#include "pervec.h"
#include "store.h"

/* R(id) and K(key) above. */
uint64_t crdt__digest_bytes(const void *p, size_t len);
/* XXH3_64bits_withSeed: K of a key below a path, and the path's seeds. */
uint64_t crdt__digest_seeded(const void *p, size_t len, uint64_t seed);
/* K of the leaf at `at`. O(depth). */
uint64_t crdt__digest_leaf_key(const crdt__leaf *at);

/* The term of one dot: `key` = K(key), `replica` = R(id). */
uint64_t crdt__digest_dot(uint64_t key, uint64_t replica, uint64_t counter,
                          int64_t value);

/* The term of one counter entry: `replica` = R(id). */
uint64_t crdt__digest_counter(uint64_t replica, const crdt__pvent *e);

/* Digest of a dot-based state (markers and the context add nothing). A
 * scan of every dot; allocates nothing, so it never fails. */
uint64_t crdt__causal_digest(const crdt__causal *c);

/* What joining the keyed delta d into the state c (crdt__causal_join) will
 * do to c's digest and number of live dots, computed before the join (mod
 * 2^64): per leaf d lists, plus the terms of d's dots c has not seen, minus
 * those of c's dots that d has seen and does not hold. O(size of d x dots
 * per leaf), never fails. The journal keeps digests with it, so that a
 * round never needs a scan after a change made through a sync session or a
 * mutator's multi-key delta. */
void crdt__digest_join(const crdt__causal *c, const crdt__causal *d,
                       uint64_t *digest, uint64_t *live);

/* Digest of a counter's per-replica vector; O(replicas), never fails. */
uint64_t crdt__pervec_digest(const crdt__pervec *v);

#endif

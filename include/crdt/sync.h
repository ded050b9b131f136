/*
 * libcrdt: sync sessions: two replicas of one object reach equal states by
 * exchanging messages (bytes; the transport is the caller's).
 */
#ifndef CRDT_SYNC_H
#define CRDT_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crdt/common.h"
#include "crdt/object.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @file sync.h
 * A session syncs one object with one peer. Each side creates a session on
 * its replica (crdt_sync_new), then, in any order and as often as it
 * likes, asks the session for the next message to send
 * (crdt_sync_produce) and hands it every message the peer sent
 * (crdt_sync_receive), until crdt_sync_in_sync() says both replicas hold
 * equal states. The protocol (docs/sync.md):
 *
 * - Each side opens with its causal context and a digest of its state.
 *   Replicas that are equal stop there: nothing else is sent.
 * - Sessions that synced before ("warm") send each other the
 *   delta-interval of their changes since the last sync, taken from a
 *   journal the object keeps while sessions are attached: bytes and time
 *   proportional to the change. When both sides open at once this takes
 *   one message each way.
 * - Otherwise ("cold": a new peer, a lost session, a journal that could not
 *   keep up) each side sends what the other's context lacks, and removals
 *   are found with a set-reconciliation sketch of the live updates both
 *   contexts hold, O(number of differences) bytes, never O(every removal
 *   ever made). When the difference is large, the whole state goes.
 * - Updates are applied in causal order: a replica adds the peer's context
 *   to its own only once it has applied everything that context implies,
 *   so after a session finishes, equal contexts mean equal states.
 * - Messages are checksummed blobs (docs/format.md) and at most the size
 *   the caller asks for: large syncs go in chunks, each applied on its
 *   own. Hostile, truncated, duplicated, reordered or replayed messages get
 *   an error or are ignored, and never corrupt the object.
 *
 * Lifetime: the session borrows the object; free every session on an
 * object before freeing the object. The object may be updated and merged
 * between calls (the session notices). Several sessions may share one
 * object (a mesh). Not thread-safe: one thread at a time per object and
 * its sessions.
 *
 * Memory per session: two causal contexts (O(number of replicas) plus
 * clouds); while a cold round runs, its plan (the keys still to send) and
 * its sketch (O(differences)). Per object, while sessions are attached: the
 * journal of changes not yet acknowledged by every session (at most 64 MiB;
 * past that, sessions behind take the cold path). After the last session
 * ends, the object keeps the journal without its records (about 100 bytes,
 * and at most 64 ranges of positions of 192 bytes each, which restored
 * sessions use) with the digest of its state, kept up to date by its
 * updates (a hash per dot changed), so the next session confirms equality
 * without a scan; it goes with the object.
 */

/** Opaque sync session. */
typedef struct crdt_sync crdt_sync;

/** Starts a session on `obj` (any type, the map included) with a peer
 * this side knows nothing about: the first round takes the cold path,
 * unless the replicas turn out to be equal.
 * @param obj the replica to sync; borrowed: it must outlive the session.
 * @param[out] out the new session; free it with crdt_sync_free().
 * @return 0, CRDT_EINVAL, CRDT_ENOTSUP (a type without sync support;
 *   every type of this version has it) or CRDT_ENOMEM. */
CRDT_API int crdt_sync_new(crdt_object *obj, crdt_sync **out);

/** Frees a session (NULL does nothing). The object stays as it is. */
CRDT_API void crdt_sync_free(crdt_sync *s);

/** Writes the next message for the peer into `buf`, at most `cap` bytes.
 * *size is 0 when there is nothing to send now (then nothing is written).
 * Call it again after each receive and after local updates; large syncs
 * need several calls, one chunk each.
 * @param cap the largest message the transport accepts. A message must
 *   hold at least the object's causal context (the opening message) or one
 *   whole element with its key; a smaller cap is CRDT_ENOSPC, with *size
 *   the size needed.
 * @return 0, CRDT_EINVAL, CRDT_ENOSPC or CRDT_ENOMEM. The object is never
 *   changed by produce. */
CRDT_API int crdt_sync_produce(crdt_sync *s, void *buf, size_t cap,
                               size_t *size);

/** Hands the session one message the peer produced, and applies what it
 * carries to the object.
 * @param msg, len exactly one message (read during the call only).
 * @return 0 (also for a well-formed message that is stale, duplicated or
 *   out of order: it is ignored); a decoding error (CRDT_EMAGIC,
 *   CRDT_ETRUNC, CRDT_ETRAILING, CRDT_ECHECKSUM, CRDT_EVERSION,
 *   CRDT_EBADTYPE when the message is not a sync message, CRDT_ETYPE when
 *   the peer syncs another type, CRDT_EFORMAT, CRDT_EORDER, CRDT_EDOT,
 *   CRDT_EOVERFLOW, CRDT_ELENGTH, CRDT_ETOOMANY); CRDT_EINVAL or
 *   CRDT_ENOMEM. On any error the object and the session are unchanged. */
CRDT_API int crdt_sync_receive(crdt_sync *s, const void *msg, size_t len);

/** true when the last round finished and nothing local is left to send:
 * as far as this side knows, both replicas hold equal states (a peer that
 * changed since will send its changes). */
CRDT_API bool crdt_sync_in_sync(const crdt_sync *s);

/** Starts a new round: the next message opens it again, and asks the peer
 * to answer with its own opening. For a reconnect, or after messages were
 * lost (a session never waits on timers; the caller decides). History is
 * kept, so a warm session stays warm.
 * @return 0 or CRDT_EINVAL. */
CRDT_API int crdt_sync_restart(crdt_sync *s);

/** Writes the session's persistent part (what each side has of the other's
 * journal, and the object's context to check it against) so that a later
 * crdt_sync_restore() resumes where this session left off.
 * Same buffer contract as crdt_encode().
 * @return 0, CRDT_EINVAL, CRDT_ENOSPC or CRDT_ENOMEM. */
CRDT_API int crdt_sync_save(const crdt_sync *s, void *buf, size_t cap,
                            size_t *size);

/** Creates a session on `obj` from bytes crdt_sync_save() wrote. History
 * that the object no longer backs (an older copy of the state was loaded,
 * the process restarted, or the object changed while no session was
 * attached to record it) is dropped, and that direction takes the cold
 * path once; a corrupt blob is an error.
 * @return 0, CRDT_EINVAL, CRDT_ENOTSUP, CRDT_ENOMEM, CRDT_ETYPE (saved for
 *   another type) or a decoding error. */
CRDT_API int crdt_sync_restore(crdt_object *obj, const void *saved,
                               size_t len, crdt_sync **out);

/** What a session has done so far. */
typedef struct crdt_sync_stats {
  uint64_t bytes_sent;        /**< bytes produced */
  uint64_t bytes_received;    /**< bytes of messages accepted */
  uint64_t messages_sent;     /**< messages produced */
  uint64_t messages_received; /**< messages accepted */
  uint64_t rounds;            /**< rounds started (openings exchanged) */
  uint64_t cold_rounds;       /**< of which cold */
  uint64_t full_rounds;       /**< of which sent whole states */
} crdt_sync_stats;

/** Copies the session's counters into *out.
 * @return 0 or CRDT_EINVAL. */
CRDT_API int crdt_sync_get_stats(const crdt_sync *s, crdt_sync_stats *out);

#ifdef __cplusplus
}
#endif
#endif /* CRDT_SYNC_H */

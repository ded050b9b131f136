/*
 * The journal of a dot-based object: what changed since the oldest point
 * one of its sync sessions still needs, so a session can send its peer
 * exactly the delta-interval the peer lacks (Almeida, Shoker, Baquero,
 * "Delta State Replicated Data Types", Algorithm 2) in time and bytes
 * proportional to the change, not to the state.
 *
 * Positions count the changes recorded since the journal began (one per
 * update, one per applied sync chunk, one per merge). X^p is the object's
 * state at position p. The journal is exact: X^q = X^p ⊔ (the join of the
 * records in [p, q)); when it cannot stay exact (a full-state merge, a
 * record that fails for lack of memory) it is *broken*: it gets a new
 * random id and starts over at position 0, and every session acknowledged
 * under the old id takes the cold path once (crdt/sync.c).
 *
 * Records live in segments, each the join of consecutive records as one
 * delta (a crdt__causal, keyed when every record was). A segment has an
 * origin: the journal id of the peer whose session applied it, or 0. A
 * session skips its own peer's segments when it builds that peer's delta
 * (the peer has them: no echo), also after a restore (ids outlive
 * sessions). Segments are dropped when no session can need them
 * (every registered pin is past them) or when the journal holds more than
 * CRDT__JOURNAL_LIMIT bytes (the oldest go first; sessions pinned there
 * take the cold path).
 *
 * The journal also keeps the object's digest (src/digest.h) up to date
 * per change when it can, so sessions confirm equality without a scan,
 * and counts merges, so a session can tell that nothing but its own peer
 * changed the object during a round.
 *
 * Hooks. Mutators call crdt__journal_op (crdt__journal_op_at below nested
 * keys, crdt__journal_delta for a delta built by hand) right before their
 * infallible apply step; crdt_object_merge calls crdt__journal_merged after a merge;
 * crdt_object_free calls crdt__journal_destroy. Hooks never fail: a record
 * that cannot be made breaks the journal. The journal is created by the
 * first session attached to the object and lives as long as the object:
 * when the last session ends its records go, but its digest stays up to
 * date, so a later session (fresh or restored) needs no scan. An object
 * that never had a session has no journal (obj->journal is NULL) and its
 * hooks cost one test. Not thread-safe, like the object.
 */
#ifndef CRDT_TYPES_JOURNAL_H
#define CRDT_TYPES_JOURNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "route.h"
#include "store.h"
#include "type.h"

/* Retained records above this many (estimated encoded) bytes drop the
 * oldest segments. */
#define CRDT__JOURNAL_LIMIT ((size_t)64 << 20)
/* A segment of local updates is closed at this many bytes, so deltas can
 * be cut into messages at segment boundaries. */
#define CRDT__JOURNAL_SEGMENT ((size_t)8 << 10)

typedef struct crdt__jseg {
  uint64_t start, end; /* positions [start, end) */
  uint64_t origin;     /* journal id of the peer that sent it, or 0 */
  crdt__causal delta;  /* the join of the records (owner-less) */
  size_t bytes;        /* estimated encoded size */
  bool kept;           /* false: no session needed these records when they
                        * were made, so only their positions are known;
                        * a delta across them exists only for the session
                        * of their origin, which skips them anyway */
} crdt__jseg;

/* A session's claim on the journal: the lowest position it may still
 * build a delta from (valid), so segments from there on are kept. */
typedef struct crdt__jpin {
  uint64_t id;  /* journal id the position refers to */
  uint64_t pos;
  bool valid;
  uint64_t sid; /* the session's peer's journal id (its origin): the session
                 * never needs records its own peer sent */
} crdt__jpin;

typedef struct crdt__journal {
  uint64_t id;  /* random, never 0; new when broken */
  uint64_t pos; /* position after the last record */
  crdt__jseg *segs; /* oldest first; the last is open for local updates
                     * when `open` */
  uint32_t nsegs, cap;
  bool open;
  uint64_t mark;     /* the last position crdt__journal_mark returned: no
                      * segment may grow across it */
  size_t bytes;      /* estimated bytes of all segments */
  uint64_t merges;   /* merges and applied sync chunks, ever */
  bool digest_valid; /* digest and live are the object's */
  uint64_t digest;
  uint64_t live;     /* number of live dots */
  crdt__jpin **pins; /* one per attached session */
  uint32_t npins, pins_cap;
} crdt__journal;

/* The journal of a dot-based object, created on first use; `pin` is the
 * session's claim (registered; initially invalid). CRDT_ENOMEM. */
int crdt__journal_attach(crdt_object *o, crdt__jpin *pin,
                         crdt__journal **out);
/* A session ends: its pin goes, and the records no pin needs (all of them
 * after the last one). The journal itself stays (see the top). */
void crdt__journal_detach(crdt_object *o, crdt__jpin *pin);
/* The object is freed (hook of crdt_object_free). */
void crdt__journal_destroy(crdt_object *o);

/* Hook: the update `op` (see crdt__causal_record) is about to be applied
 * to o, whose replica table is `from`; every fallible step of the update
 * is done. Never fails. */
void crdt__journal_op(crdt_object *o, const crdt__replicas *from,
                      const crdt__op *op);
/* The same for an update of a key below the nested keys path[0 .. depth)
 * (the map; crdt__causal_record_at). */
void crdt__journal_op_at(crdt_object *o, const crdt__replicas *from,
                         const crdt__key *path, uint32_t depth,
                         const crdt__op *op);
/* Hook for an update that built its delta by hand (the map's register
 * writes and field removes): `delta`, a keyed delta listing every key the
 * update changes, is about to be joined into o (NULL: it could not be
 * built; the journal breaks). Never fails. */
void crdt__journal_delta(crdt_object *o, const crdt__causal *delta);
/* Hook: src was merged into o (crdt_object_merge). Never fails. */
void crdt__journal_merged(crdt_object *o, const crdt_object *src);

/* A session (id `origin`) applies `delta`, sent by its peer, to the
 * object: reserves the new segment first (a copy of delta, only when
 * another session may need it; fallible: CRDT_ENOMEM, nothing changed).
 * Then the session joins delta into the object and calls
 * crdt__journal_commit (infallible) or, when the join failed,
 * crdt__journal_abort. `unkeyed`: record it as not keyed (its context
 * holds dots no key of it explains). */
typedef struct crdt__jstage {
  crdt__causal copy;
  bool keep; /* some pin needs the record */
} crdt__jstage;
bool crdt__journal_wanted(const crdt__journal *j, uint64_t origin);
int crdt__journal_stage(crdt__journal *j, const crdt_allocator *m,
                        const crdt__causal *delta, uint64_t origin,
                        bool unkeyed, crdt__jstage *st);
void crdt__journal_commit(crdt__journal *j, const crdt_allocator *m,
                          crdt__jstage *st, uint64_t origin, size_t bytes);
void crdt__journal_abort(crdt__journal *j, const crdt_allocator *m,
                         crdt__jstage *st);

/* Starts over under a new id (the journal cannot stay exact). */
void crdt__journal_break(crdt__journal *j, const crdt_allocator *m);

/* The lowest position from which a delta for session `sid` can be
 * collected up to the current position (every segment on the way kept, or
 * of that session's own origin). */
uint64_t crdt__journal_reach(const crdt__journal *j, uint64_t sid);

/* Closes the open segment, so that the current position is a boundary a
 * delta can start or end at, and returns it. */
uint64_t crdt__journal_mark(crdt__journal *j);

/* Is [from, to) available: from is the journal start... a boundary still
 * held (or equal to `to`)? */
bool crdt__journal_has(const crdt__journal *j, uint64_t from, uint64_t to);
/* The oldest position a delta can start from. */
uint64_t crdt__journal_oldest(const crdt__journal *j);

/* Joins into `out` (an empty keyed causal state) the segments from
 * position `from` (a boundary, crdt__journal_has) towards `to`, skipping
 * segments of origin `skip`, and stopping before a segment that would take
 * the estimated size past `budget` (the first one is always taken). *end
 * is the position reached. CRDT_ENOMEM (out then holds a partial join: the
 * caller frees it). */
int crdt__journal_collect(const crdt__journal *j, const crdt_allocator *m,
                          uint64_t from, uint64_t to, uint64_t skip,
                          size_t budget, crdt__causal *out, uint64_t *end);
/* Does [from, to) hold anything not of origin `skip`? */
bool crdt__journal_pending(const crdt__journal *j, uint64_t from, uint64_t to,
                           uint64_t skip);

/* Drops the segments no pin needs. */
void crdt__journal_trim(crdt__journal *j, const crdt_allocator *m);

/* The object's digest (and in *live, when not NULL, its number of live
 * dots): cached, or scanned and cached. */
uint64_t crdt__journal_digest(crdt__journal *j, const crdt__causal *c,
                              uint64_t *live);
/* The object's digest and live count moved by a change the session
 * computed (mod 2^64); or became unknown. */
void crdt__journal_digest_add(crdt__journal *j, uint64_t digest,
                              uint64_t live);
void crdt__journal_digest_forget(crdt__journal *j);

#endif

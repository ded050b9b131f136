/*
 * Sync sessions, internal: what the session layer (crdt/sync.c) needs from
 * each type, and the state those pieces share. docs/sync.md describes the
 * protocol; this header the contract between the session and the types.
 *
 * A round starts when each side has the other's HELLO: a snapshot of the
 * sender's causal context ("summary"), its digest, its live count and its
 * journal position. From the two snapshots each side decides, identically,
 * how the round goes:
 *   EQUAL  same contexts and digests: nothing to send;
 *   WARM   (dot-based types) each side holds the other's journal position:
 *          each sends its journal's delta-interval since that position
 *          (crdt/journal.h), O(change) to build and to apply;
 *   COLD   otherwise: each side sends, in chunks, the entries the peer's
 *          snapshot lacks (a type-defined "plan"), and for dot-based types
 *          both reconcile their live dots inside the two snapshots' common
 *          part with a rateless IBLT sketch (src/riblt.h), so a removal the
 *          peer has not seen costs O(1) cells; when that difference is
 *          large, instead each lists its live dots there as runs (LIVE),
 *          which costs at most a few bytes per element of the state.
 * A receiver adds the sender's snapshot to its own context only after it
 * has applied every chunk and every removal the snapshot implies (the
 * causal delta-merging condition), so after a round contexts equal <=>
 * states equal.
 *
 * The per-type interface (crdt__sync_ops): a type provides its digest, its
 * summary, and the cold plan: which entries a peer lacks (plan), how one
 * chunk of them is written (put_chunk) and applied (apply_chunk). The
 * dot-based types, the map included, share one implementation
 * (sync_dotted.c), which also does the sketch, the drops and the final
 * context join, per leaf of the state's tree (src/leaf.h); the counters
 * and the LWW-register have simple ones (sync_plain.c).
 */
#ifndef CRDT_TYPES_SYNCOPS_H
#define CRDT_TYPES_SYNCOPS_H

#include <stdbool.h>
#include <stdint.h>

#include "crdt/sync.h"
#include "journal.h"
#include "riblt.h"
#include "store.h"
#include "type.h"
#include "wire.h"

/* A causal context with its own replica table in canonical form: the table
 * holds exactly the ids the context refers to, in byte order (index =
 * rank), as a decoder builds it. HELLO snapshots are kept this way, so
 * both sides rank the same ids alike. */
typedef struct crdt__sctx {
  crdt__replicas r;
  crdt__ctx c;
} crdt__sctx;

void crdt__sctx_free(crdt__sctx *s, const crdt_allocator *m);
/* The canonical form of (ctx, r): encoded and decoded again. */
int crdt__sctx_from(crdt__sctx *out, const crdt_allocator *m,
                    const crdt__ctx *ctx, const crdt__replicas *r);
void crdt__sctx_put(crdt__wbuf *w, const crdt__sctx *s);
int crdt__sctx_get(crdt__rbuf *r, const crdt_allocator *m, crdt__sctx *out);
/* Number of dots of a not in b (saturating). O(replicas + clouds) plus the
 * size of the prefix ranges a has beyond b's. */
uint64_t crdt__sctx_minus(const crdt__sctx *a, const crdt__sctx *b);
/* Number of dots in s. */
uint64_t crdt__sctx_size(const crdt__sctx *s);
bool crdt__sctx_equal(const crdt__sctx *a, const crdt__sctx *b);
/* Does a include every dot of b? */
bool crdt__sctx_covers(const crdt__sctx *a, const crdt__sctx *b);

/* A set of 64-bit values (open addressing; 0 is stored out of band). */
typedef struct crdt__u64set {
  uint64_t *slots;
  uint32_t cap, count;
  bool zero;
} crdt__u64set;
int crdt__u64set_add(crdt__u64set *s, const crdt_allocator *m, uint64_t v);
bool crdt__u64set_has(const crdt__u64set *s, uint64_t v);
void crdt__u64set_free(crdt__u64set *s, const crdt_allocator *m);

/* A run of counters of one replica (by rank among the common replicas). */
typedef struct crdt__run {
  uint32_t rank;
  uint64_t start, end; /* counters start .. end */
} crdt__run;

/* A dot by rank among the common replicas. */
typedef struct crdt__rdot {
  uint32_t rank;
  uint64_t counter;
} crdt__rdot;

/* The state of a cold round, one per session while the round lasts.
 *
 * Order, for every receiver: first the removals of dots both snapshots
 * hold (resolved by the sketch, or by the sender's LIVE list of its live
 * dots in the common part), then the dead dots the receiver has not seen
 * (DEAD), then the entries; last the sender's snapshot joins the context.
 * So no update arrives before the removals it implies: a receiver is never
 * "behind" (an update in its context whose superseded dots it still
 * holds). A sender sends DEAD and entries only once it knows the receiver
 * has resolved its removals with what was sent before them. */
typedef struct crdt__cold {
  const crdt__sctx *mine, *peer; /* the round's HELLO snapshots */
  bool sketch;                   /* removals by sketch (else by LIVE) */
  /* Ranks of the replicas both snapshots name (both are canonical, so
   * walking them in step finds them): mine_common[i] for index i of mine,
   * peer_common[i] for index i of peer; UINT32_MAX when not common. */
  uint32_t *mine_common, *peer_common, ncommon;
  /* the sketch: cells this side computed (m_store of them) and those
   * received from the peer (peer_n valid so far) */
  uint32_t m_first, m_store, sent_cells, peer_n, tried;
  uint32_t peer_target; /* cells the peer announced it sends in this flight:
                         * decoding is tried once that many are in */
  uint64_t peer_est;     /* removals the peer may have made, at most */
  crdt__rcell *cells, *peer_cells;
  bool decoded, drops_received, drops_sent;
  crdt__riblt_diff diff; /* mine: the peer drops; theirs: this side drops */
  /* LIVE: this side's live dots inside both snapshots, sorted, sent in
   * parts; the peer's, received as runs */
  crdt__rdot *live;
  uint32_t nlive, live_cap, live_sent, live_parts_sent;
  crdt__run *runs;
  uint32_t nruns, runs_cap, live_parts_in;
  bool live_in_done;
  /* the plan: first the dead dots (dot-based types: dots of this side's
   * snapshot that the peer's lacks and that no store holds here, ndead of
   * them, by rank in `mine` then counter), then keys (dot-based types) or
   * replica ids (counters), as the type recorded them. next_key counts
   * plan items sent: dead dots first, then keys. */
  crdt__rdot *dead; /* rank: the replica's index in `mine` */
  uint32_t ndead, dead_cap;
  uint8_t *keys;
  size_t keys_len, keys_cap;
  uint32_t *offs, nkeys, offs_cap, next_key;
  bool planned, plan_sent_end;
  uint32_t chunks_sent;
  uint64_t spec_bytes; /* chunk bytes sent before the peer could resolve */
  /* receiving */
  crdt__sctx dead_in;    /* DEAD parts received, applied with the last */
  bool changed_since;    /* set by the session: this side changed since its
                          * HELLO other than by this round, so it may hold
                          * live dots the peer's DEAD names */
  uint32_t chunks_in;    /* chunks applied, in order */
  uint32_t chunks_total; /* from the peer's END, UINT32_MAX until then */
  bool final_done;
  /* chunks that arrived (in order, after chunks_in) before this side could
   * resolve its removals: copies of their bodies, applied once it can */
  struct crdt__kept {
    uint8_t *body;
    size_t len;
  } *pend;
  size_t pend_bytes;
  uint32_t npend, pend_cap;
} crdt__cold;

/* Chunk bytes a side sends before it knows that the peer can resolve its
 * removals (the peer keeps them until it can), and what a receiver keeps. */
#define CRDT__SPECULATIVE_MAX ((uint64_t)4 << 20)
#define CRDT__PENDING_MAX ((size_t)8 << 20)

void crdt__cold_free(crdt__cold *k, const crdt_allocator *m);
/* Grows the array *p of *cap elements of `size` bytes (from `first` when
 * empty) so that it holds `need`: 0, CRDT_ETOOMANY past 2^31 elements, or
 * CRDT_ENOMEM (then *p and *cap are unchanged). */
int crdt__sync_grow(const crdt_allocator *m, void *p, uint32_t *cap,
                    uint32_t need, size_t size, uint32_t first);
/* Appends a key to the plan. */
int crdt__cold_plan_key(crdt__cold *k, const crdt_allocator *m,
                        const void *key, size_t len);
/* Plan items: dead dots and keys. */
static inline uint32_t crdt__cold_items(const crdt__cold *k) {
  return k->ndead + k->nkeys;
}

/* Chunk kinds (the first byte of a CHUNK section's body). */
#define CRDT__CHUNK_ENTRIES 0
#define CRDT__CHUNK_DEAD 1

/* An object change a message causes, staged before it is applied, so that
 * a receive is atomic: one join into the object. */
typedef struct crdt__change {
  crdt__causal d; /* a keyed delta (dot-based types) */
  bool any;       /* d holds something to apply */
  bool record_unkeyed; /* the journal must hold it as not keyed (it adds
                          context dots no key explains) */
  crdt_object *plain;  /* counters, LWW: a state to merge */
} crdt__change;

typedef struct crdt__sync_ops {
  const crdt__type *type;
  bool dotted; /* a crdt__dotted: journal, sketch, drops, final join */
  bool values; /* every dot carries a value (cart); the map's counter and
                * LWW leaves carry theirs, which its codec knows */
  bool nested; /* the state is a tree (the map): the shared code works on
                * its leaves (src/leaf.h), plan keys are flat keys */
  /* The digest (src/digest.h) and the number of live dots or entries. */
  uint64_t (*digest)(crdt_object *o);
  uint64_t (*live)(const crdt_object *o);
  /* The summary a HELLO carries (canonical); empty for types without a
   * causal context (LWW). */
  int (*summary)(const crdt_object *o, crdt__sctx *out);
  /* Cold plan: records in k what k->peer lacks of o. */
  int (*plan)(crdt__cold *k, const crdt_object *o);
  /* Writes the body of the next chunk of the plan (at most `budget` bytes
   * when possible; a single entry larger than that is CRDT_ENOSPC) and
   * sets *used to the number of plan items it covers (0: plan exhausted,
   * nothing written). */
  int (*put_chunk)(crdt__cold *k, const crdt_object *o, crdt__wbuf *w,
                   size_t budget, uint32_t *used);
  /* Adds to `ch` what the chunk body asks of o (nothing is applied yet). */
  int (*apply_chunk)(crdt__cold *k, const crdt_object *o, crdt__rbuf *body,
                     crdt__change *ch);
  /* Dot-based types: a causal delta of the type on the wire (a journal
   * delta, a chunk's entries), and its decoding into an empty causal state
   * with the checks the type's own decoder makes (the flag knows one key).
   * NULL for the others. */
  void (*put_delta)(crdt__wbuf *w, const crdt__causal *d);
  int (*get_delta)(crdt__rbuf *r, const crdt_allocator *m, crdt__causal *d,
                   bool keyed);
} crdt__sync_ops;

const crdt__sync_ops *crdt__sync_ops_of(const crdt__type *t);

extern const crdt__sync_ops crdt__sync_orset, crdt__sync_mvreg,
    crdt__sync_flag, crdt__sync_cart, crdt__sync_map, crdt__sync_gcounter,
    crdt__sync_pncounter, crdt__sync_lwwreg;

/* ---- dot-based types (sync_dotted.c) --------------------------------- */

/* Shared ops of the dot-based types. */
uint64_t crdt__sd_digest(crdt_object *o);
uint64_t crdt__sd_live(const crdt_object *o);
int crdt__sd_summary(const crdt_object *o, crdt__sctx *out);
int crdt__sd_plan(crdt__cold *k, const crdt_object *o);
int crdt__sd_put_chunk(crdt__cold *k, const crdt_object *o, crdt__wbuf *w,
                       size_t budget, uint32_t *used);
int crdt__sd_apply_chunk(crdt__cold *k, const crdt_object *o,
                         crdt__rbuf *body, crdt__change *ch);

/* Ranks of the common replicas (k->mine_common, k->peer_common); and
 * whether a sketch can name every common dot (rank < 2^16, counters below
 * 2^48 in both snapshots). */
int crdt__sd_common(crdt__cold *k, const crdt_allocator *m, bool *sketchable);
/* The sketch item of a dot of common rank `rank`. */
static inline uint64_t crdt__sd_item(uint32_t rank, uint64_t counter) {
  return (uint64_t)rank << 48 | counter;
}
/* Adds to `ch` the drops of o's live dots whose items are in `items`
 * (decoded by the sketch or listed by the peer's DROPS); items that are
 * not live dots of o inside the common part are ignored. O(state). */
int crdt__sd_drops(crdt__cold *k, const crdt_object *o, const uint64_t *items,
                   uint32_t n, crdt__change *ch);
/* LIVE: writes the next part of this side's live common dots (at most
 * `budget` bytes; *n dots). Reads a received part into k->runs past
 * k->nruns (checked: sorted, within the common replicas) and sets *nruns
 * to the count with them; the caller takes it (k->nruns) when the receive
 * succeeds. */
void crdt__sd_put_live(crdt__cold *k, crdt__wbuf *w, size_t budget,
                       uint32_t *n);
int crdt__sd_get_live(crdt__cold *k, const crdt_allocator *m, crdt__rbuf *r,
                      uint32_t *nruns);
/* LIVE: adds to `ch` the drops of o's live dots inside both snapshots that
 * the peer's runs do not hold. O(state). */
int crdt__sd_live_drops(crdt__cold *k, const crdt_object *o, crdt__change *ch);
/* Adds the peer's snapshot to the context `ch` will give o: the dots of it
 * o has not seen (which o holds nowhere, so this kills nothing here);
 * *added counts them. */
int crdt__sd_final(crdt__cold *k, const crdt_object *o, crdt__change *ch,
                   uint64_t *added);

void crdt__change_free(crdt__change *ch, const crdt_allocator *m);

uint64_t crdt__sync_random(void);

#endif

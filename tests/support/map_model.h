/*
 * Reference model of the map (include/crdt/map.h), written from the
 * header's specification, not from the implementation, and its lockstep
 * runner. Shared by tests/test_map_model.c, tests/test_map_exhaustive.c,
 * tests/test_map.c and fuzz/fuzz_map_history.c, so it uses no cmocka.
 *
 * Events are updates made at replicas (as in model.h). Each event x has its
 * dot (replica, counter), its past (the events its replica had seen when
 * making it), its field (a path of names and the field's type; all names
 * but the last are maps), its kind and payload, and kill(x): the events of
 * live(past(x)) that x supersedes, fixed when x is made:
 *  - counter inc(n) / dec(n): nothing (one dot per change); CRDT_ERANGE
 *    when n > INT64_MAX or when the change would take the replica's exact
 *    sum past the int64 bound it moves towards;
 *  - OR-set add(e) and remove(e) on field f: the adds of e on f (remove of
 *    an element with no such add: CRDT_ENOENT, no event);
 *  - MV-register set on f: every write on f;
 *  - LWW-register set(v, ts) on f: the writes on f that order below it by
 *    (timestamp, replica id bytes, value bytes);
 *  - flag enable / disable on f: the enables on f (disable with none:
 *    CRDT_ENOENT, no event);
 *  - remove of field F: every event under F, that is on F itself or, when
 *    F is a map, on any field below it (CRDT_ENOENT when there is none).
 * Counter changes, adds, register writes and enables carry a payload;
 * element removes, disables and field removes do not.
 *
 * For a set S of events seen (a replica's, a delta's, a group's):
 *
 *   live(S)  = { e in S with a payload : no x in S has e in kill(x) }
 *   known(S) = the dots of S and of kill(x) for every x in S
 *
 * The value is rendered from live(S) alone: a field is present iff some
 * live event is on it or below it; fields print in canonical order (name
 * bytes, the shorter first on a common prefix, then type code) as the JSON
 * of crdt_object_value_json(); a counter is the exact sum of its live
 * changes (printed clamped to int64), an OR-set the elements of its live
 * adds, an MV-register the values of its live writes, an LWW-register the
 * greatest of its live writes, a flag `true`, a map its fields. The causal
 * context is known(S), printed like crdt_object_context_text().
 *
 * A delta of x carries x and names known({x}) = {x} and kill(x); a replica
 * that receives a state, delta or group that has seen T sees S ∪ T.
 *
 * This makes exact the "a field's value is its type's value over
 * the events under that field that no remove of the field or of an
 * enclosing field has in its past", for what a replica can observe.
 */
#ifndef CRDT_TEST_MAP_MODEL_H
#define CRDT_TEST_MAP_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crdt/crdt.h"
#include "model.h"

#define MM_MAX_EVENTS MODEL_MAX_EVENTS
#define MM_MAX_DEPTH 8     /* deepest path the model takes */
#define MM_MAX_FIELDS 512  /* distinct (path, type) the model takes */
#define MM_MAX_KEYS 512    /* distinct names, elements and values */

typedef enum mm_kind {
  MM_INC,      /* counter +n */
  MM_DEC,      /* counter -n */
  MM_ADD,      /* OR-set add(arg) */
  MM_RMELEM,   /* OR-set remove(arg) */
  MM_MVSET,    /* MV-register set(arg) */
  MM_LWWSET,   /* LWW-register set(arg, ts) */
  MM_ENABLE,   /* flag enable */
  MM_DISABLE,  /* flag disable */
  MM_REMOVE    /* field remove (op.type says which field) */
} mm_kind;

/* One update, as the model and the runner take it. Borrowed. */
typedef struct mm_op {
  mm_kind kind;
  crdt_path path;
  crdt_field_type type; /* MM_REMOVE: the removed field's type */
  crdt_bytes arg;       /* element or value */
  uint64_t n;           /* counter amount */
  uint64_t ts;          /* LWW timestamp */
} mm_op;

/* The field type an op updates (op->type for MM_REMOVE). */
crdt_field_type mm_op_field_type(const mm_op *op);

typedef struct mm_field {
  unsigned depth;
  unsigned name[MM_MAX_DEPTH]; /* key indexes */
  crdt_field_type type;
} mm_field;

typedef struct mm_event {
  unsigned replica;
  uint64_t counter;
  mm_kind kind;
  unsigned field;
  unsigned item; /* key index of arg */
  uint64_t n, ts;
  model_set past, kill;
} mm_event;

typedef struct map_model {
  unsigned nreplicas;
  char id[MODEL_MAX_REPLICAS][CRDT_REPLICA_MAX + 1];
  model_set seen[MODEL_MAX_REPLICAS];
  uint64_t made[MODEL_MAX_REPLICAS];
  unsigned nevents, nkeys, nfields;
  mm_event ev[MM_MAX_EVENTS];
  unsigned byrep[MODEL_MAX_REPLICAS][MM_MAX_EVENTS]; /* event of dot r:k+1 */
  model_key key[MM_MAX_KEYS];
  mm_field field[MM_MAX_FIELDS];
} map_model;

typedef struct mm_mark {
  unsigned nevents, nkeys, nfields;
  uint64_t made[MODEL_MAX_REPLICAS];
  model_set seen[MODEL_MAX_REPLICAS];
} mm_mark;

void mm_init(map_model *m, unsigned n, const char *const *ids);
void mm_save(const map_model *m, mm_mark *mark);
void mm_restore(map_model *m, const mm_mark *mark);
/* true when the next update might not fit (events, keys or fields). */
bool mm_full(const map_model *m);

/* Update at replica r: returns the code the library must return (0,
 * CRDT_ENOENT, CRDT_EINVAL, CRDT_ERANGE) and on 0 records the event
 * (index in *ev). Paths deeper than MM_MAX_DEPTH abort(). */
int mm_update(map_model *m, unsigned r, const mm_op *op, unsigned *ev);
/* Replica r receives what has seen t. */
void mm_receive(map_model *m, unsigned r, const model_set *t);
/* The seen set of event e's delta: {e}. */
void mm_delta(const map_model *m, unsigned e, model_set *out);
void mm_known(const map_model *m, const model_set *s, model_set *out);
/* live(s): the events of s with a payload (each a dot in a store) that no
 * event of s kills. */
model_set mm_live(const map_model *m, const model_set *s);
crdt_order mm_order(const map_model *m, const model_set *a,
                    const model_set *b);

/* Renderings of the state that has seen s (malloc'd; NULL only on OOM). */
char *mm_value_json(const map_model *m, const model_set *s);
char *mm_context_text(const map_model *m, const model_set *s);
/* value(s) == value(known(s)): equal contexts mean equal states. */
bool mm_determined(const map_model *m, const model_set *s);
/* Is every event's past within s (s reached by full-state syncs)? */
bool mm_closed(const map_model *m, const model_set *s);

/* Readers of the state that has seen s, as the library's. */
bool mm_has(const map_model *m, const model_set *s, crdt_path path,
            crdt_field_type type);
/* 0 and the clamped sum; CRDT_ENOENT (out 0); CRDT_ERANGE (clamped). */
int mm_counter_value(const map_model *m, const model_set *s, crdt_path path,
                     int64_t *out);
bool mm_orset_contains(const map_model *m, const model_set *s, crdt_path path,
                       const void *elem, size_t len);
/* 0 and the winner's key index and timestamp, or CRDT_ENOENT. */
int mm_lwwreg_get(const map_model *m, const model_set *s, crdt_path path,
                  unsigned *item, uint64_t *ts);
/* The items (OR-set elements, MV values) in canonical order as a text of
 * JSON strings joined by ", " (malloc'd). */
char *mm_items_text(const map_model *m, const model_set *s, crdt_path path,
                    crdt_field_type type);
/* The fields of the map at path (depth 0: the root) in canonical order as
 * "name-json:type, ..." (malloc'd). */
char *mm_fields_text(const map_model *m, const model_set *s, crdt_path path);

/* ---- lockstep runner -------------------------------------------------------
 * Real crdt_map replicas driven through the public API next to the model,
 * compared after every step (see map_sim.c). Failures go to `fail`, which
 * must not return. */

typedef struct map_sim {
  map_model m;
  crdt_map *rep[MODEL_MAX_REPLICAS];
  uint8_t *delta[MM_MAX_EVENTS]; /* encoded delta of each event */
  size_t delta_len[MM_MAX_EVENTS];
  void (*fail)(const char *what);
  unsigned long checks, updates, refused;
  /* Check every state against "equal contexts mean equal states"
   * (mm_determined). On by default; see docs/verification.md for the
   * OR-set's known issue under out-of-order deltas. */
  bool check_determined;
  /* Check every reader on every field the model knows after each step
   * (else only on the updated field). On by default. */
  bool check_readers;
} map_sim;

map_sim *ms_new(unsigned n, const char *const *ids,
                void (*fail)(const char *what));
void ms_free(map_sim *s);
/* One update at replica r, through the typed call, or through
 * crdt_object_update() when by_object; checks its code, its delta and the
 * replica; returns the code (CRDT_ETOOMANY without running it when the
 * model is full). */
int ms_update(map_sim *s, unsigned r, const mm_op *op, bool by_object);
/* dst merges src's full state: mode 0 directly, 1 through bytes decoded
 * without an owner, 2 decoded with dst's id as owner. */
void ms_sync(map_sim *s, unsigned src, unsigned dst, unsigned mode);
/* dst receives event e's delta, decoded from its bytes. */
void ms_deliver(map_sim *s, unsigned e, unsigned dst);
/* dst receives the group of the deltas of events[0 .. n-1] joined in that
 * order into an owner-less map, checked, and sent as bytes when via_bytes. */
void ms_deliver_group(map_sim *s, const unsigned *events, size_t n,
                      unsigned dst, bool via_bytes);
/* Replica r reloads its state from its own encoding (owner = its id). */
void ms_restart(map_sim *s, unsigned r);
/* Replica r against the model: value, context, compare() with the others,
 * the readers. */
void ms_check(map_sim *s, unsigned r);
/* Laws on the replicas (commutative, idempotent, associative merges), each
 * pairwise join, the join of all and the group of all deltas against the
 * model, a fresh replica fed that group equal to the full-state join, and
 * byte-identical encode/decode/encode. */
void ms_check_final(map_sim *s);

/* Depth-first exploration: see sim_detach() in model.h. */
crdt_map *ms_detach(map_sim *s, unsigned r);
void ms_reattach(map_sim *s, unsigned r, crdt_map *original);
void ms_rewind(map_sim *s, const mm_mark *mark);

#endif

/*
 * The reference model behind the sync world (syncworld.h): the flat types'
 * lockstep runner (model.h, sim) or the map's (map_model.h, map_sim),
 * behind one interface, so that the world of replicas and sessions is
 * written once. Plain C (no cmocka): failures go to the runner's `fail`
 * hook.
 */
#ifndef CRDT_TEST_SYNCMODEL_H
#define CRDT_TEST_SYNCMODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "crdt/crdt.h"
#include "model.h"

typedef struct sw_model sw_model;

/* n replicas of `type` named ids[0 .. n-1]; NULL when out of memory. */
sw_model *swm_new(crdt_type type, unsigned n, const char *const *ids,
                  void (*fail)(const char *what));
void swm_free(sw_model *m);

crdt_type swm_type(const sw_model *m);
/* Replica r's object (owned by the model; replaced by swm_restart). */
crdt_object *swm_rep(const sw_model *m, unsigned r);
const char *swm_id(const sw_model *m, unsigned r);

/* Events: how many, and event e's dot (replica index, counter) and kind
 * (for failure reports). */
unsigned swm_nevents(const sw_model *m);
void swm_event(const sw_model *m, unsigned e, unsigned *replica,
               uint64_t *counter, int *kind);
/* The model's view of replica r, and r receiving what has seen s. */
const model_set *swm_seen(const sw_model *m, unsigned r);
void swm_receive(sw_model *m, unsigned r, const model_set *s);
/* known(s): the dots s names (its events and what they superseded). */
void swm_known(const sw_model *m, const model_set *s, model_set *out);
/* The events of s whose dot a store holds and that nothing in s kills
 * (dot-based types and the map). */
model_set swm_live(const sw_model *m, const model_set *s);
/* Does a store of this type hold dots, one per live update? */
bool swm_dotted(const sw_model *m);
/* true when the next update might not fit in the model. */
bool swm_full(const sw_model *m);

/* An update at replica r picked by `arg` (16 bits), checked against the
 * model. */
void swm_update(sw_model *m, unsigned r, unsigned arg);
/* dst merges src's whole state (directly or through bytes, by arg). */
void swm_merge(sw_model *m, unsigned src, unsigned dst, unsigned arg);
/* Replica r reloads its state from its own encoding. */
void swm_restart(sw_model *m, unsigned r);
/* Replica r against the model (value, context, compare() with the
 * others). */
void swm_check(sw_model *m, unsigned r);
/* The laws and the join of everything, at the end of a history. */
void swm_check_final(sw_model *m);

#endif

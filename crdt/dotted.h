/*
 * The shared base of the dot-based types (OR-set, MV-register, cart, flag):
 * an object header, the kernel's causal state, and the owner replica. Merge,
 * equality, copy, comparison and freeing are the same for all of them and
 * live here once; each type adds its mutators and readers.
 */
#ifndef CRDT_TYPES_DOTTED_H
#define CRDT_TYPES_DOTTED_H

#include "store.h"
#include "type.h"

typedef struct crdt__dotted {
  struct crdt_object base;
  crdt__causal c;
  uint32_t self; /* owner's replica index, or CRDT__NO_REPLICA */
} crdt__dotted;

static inline crdt__dotted *crdt__dotted_of(crdt_object *o) {
  return (crdt__dotted *)o;
}
static inline const crdt__dotted *crdt__dotted_cof(const crdt_object *o) {
  return (const crdt__dotted *)o;
}

/* A new empty state. replica NULL: a keyed delta / receive-only object. */
int crdt__dotted_create(const crdt__type *t, const char *replica,
                        crdt_object **out);

/* The type-table operations shared by the dot-based types. */
int crdt__dotted_merge(crdt_object *dst, const crdt_object *src);
bool crdt__dotted_equal(const crdt_object *a, const crdt_object *b);
int crdt__dotted_copy(const crdt_object *src, crdt_object **out);
int crdt__dotted_compare(const crdt_object *a, const crdt_object *b,
                         crdt_order *out);
void crdt__dotted_destroy(crdt_object *o);
const char *crdt__dotted_replica(const crdt_object *o);
int crdt__dotted_context_text(const crdt_object *o, crdt__text *t);
int crdt__dotted_context(const crdt_object *o, crdt_context **out);

/* The dot the owner's next update gets, with room reserved in the context to
 * add it. CRDT_ENOREPLICA for objects without an owner, CRDT_ERANGE when the
 * counter space is exhausted. Changes nothing visible. */
int crdt__dotted_next(crdt__dotted *d, crdt__dot *dot);

/* Checks that `delta` (may be NULL) is an object of the same type as d and
 * not d itself. */
int crdt__dotted_check_delta(const crdt__dotted *d, const crdt_object *delta);

/* A key argument: bytes (NULL only when len is 0), at most CRDT__KEY_MAX. */
static inline int crdt__dotted_check_key(const void *key, size_t len) {
  return (!key && len) || len > CRDT__KEY_MAX ? CRDT_EINVAL : 0;
}

/* Adds `key`: gives it one new dot at the owner replica that replaces every
 * dot of it this replica sees (its observation), so a key holds one dot per
 * concurrent adder (deltas out of causal order aside); the delta, when
 * given, gets ({key: {the new dot}}, the dots it replaced ∪ {the new dot}).
 * The OR-set's add and the flag's enable. On error nothing changes. */
int crdt__dotted_add(crdt__dotted *d, const void *key, size_t len,
                     crdt_object *delta);

/* Removes `key`: drops every dot of it this replica sees and records the
 * removal as a new dot; the delta, when given, gets ({key: {}}, the dots it
 * observed ∪ {the new dot}). CRDT_ENOENT (nothing changes, no dot) when the
 * key has no dots here. The OR-set's remove and the cart's reset. */
int crdt__dotted_remove(crdt__dotted *d, const void *key, size_t len,
                        crdt_object *delta);

/* Room for an update to give `key` dots, made before anything changes:
 * for a key present (entry `e`), room for `n` dots in it; for a new key, the
 * dot storage, an index slot and a copy of the key. Then either
 * crdt__dotted_slot_take (the entry, created if new; never fails) or
 * crdt__dotted_slot_drop (undo). `packable`: a single dot to come can be
 * packed into the entry. */
typedef struct crdt__slot {
  crdt__entry *e;    /* the key's entry, or NULL for a new key */
  crdt__entry room;  /* a new key's dot storage */
  const uint8_t *key; /* a new key, from crdt__store_key */
  size_t len;
  uint32_t hash;
} crdt__slot;

int crdt__dotted_slot_prepare(crdt__dotted *d, crdt__slot *slot,
                              const void *key, size_t len, uint32_t hash,
                              crdt__entry *e, uint32_t n, bool packable);
crdt__entry *crdt__dotted_slot_take(crdt__dotted *d, crdt__slot *slot);
void crdt__dotted_slot_drop(crdt__dotted *d, crdt__slot *slot);

/* Looks a key up. */
static inline crdt__entry *crdt__dotted_find(const crdt__dotted *d,
                                             const void *key, size_t len,
                                             uint32_t *hash) {
  *hash = crdt__key_hash(key, len);
  return crdt__store_find(&d->c.store, key, len, *hash);
}

/* Wire format of the dot-based types; `values`: dots carry amounts (cart). */
uint8_t crdt__dotted_wire_flags(const crdt_object *o);
void crdt__dotted_encode(const crdt_object *o, struct crdt__wbuf *w,
                         bool values);
int crdt__dotted_decode(const crdt__type *t, struct crdt__rbuf *body,
                        uint8_t flags, const char *replica, bool values,
                        crdt_object **out);

/* The codec table of a dot-based type `name` (crdt__<name>_codec);
 * `values`: its dots carry amounts. Needs wire.h. */
#define CRDT__DOTTED_CODEC(name, values)                                       \
  static void name##_encode(const crdt_object *o, crdt__wbuf *w) {             \
    crdt__dotted_encode(o, w, values);                                         \
  }                                                                            \
  static int name##_decode(crdt__rbuf *body, uint8_t flags,                    \
                           const char *replica, crdt_object **out) {           \
    return crdt__dotted_decode(&crdt__##name##_type, body, flags, replica,     \
                               values, out);                                   \
  }                                                                            \
  const crdt__codec crdt__##name##_codec = {                                   \
      &crdt__##name##_type, crdt__dotted_wire_flags, name##_encode,            \
      name##_decode};

/* Writes every key as a JSON string, in canonical order, as a JSON array:
 * ["a", "b"]. */
int crdt__dotted_keys_json(const crdt__dotted *d, crdt__text *t);

#endif

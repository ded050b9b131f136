/*
 * The type table: one small table of function pointers per type, so the
 * generic layer (object.c), the codec, the CLI, fuzzers and benchmarks treat
 * every type alike. Each type's struct starts with `struct crdt_object`.
 */
#ifndef CRDT_TYPES_TYPE_H
#define CRDT_TYPES_TYPE_H

#include "crdt/object.h"
#include "mem.h"
#include "text.h"

typedef struct crdt__type crdt__type;
struct crdt__wbuf;
struct crdt__rbuf;
struct crdt__journal;

struct crdt_object {
  const crdt__type *type;
  crdt_allocator mem;
  /* What changed since the oldest point a sync session on this object
   * still needs (crdt/journal.h); NULL while no session is attached. Never
   * copied: a copy starts without one. */
  struct crdt__journal *journal;
};

struct crdt__type {
  crdt_type tag;
  const char *name;
  /* Creates an empty state; replica NULL for a delta/receive-only object. */
  int (*create)(const char *replica, crdt_object **out);
  /* Same-type arguments; atomic. */
  int (*merge)(crdt_object *dst, const crdt_object *src);
  bool (*equal)(const crdt_object *a, const crdt_object *b);
  int (*copy)(const crdt_object *src, crdt_object **out);
  int (*compare)(const crdt_object *a, const crdt_object *b, crdt_order *out);
  void (*destroy)(crdt_object *obj);
  const char *(*replica)(const crdt_object *obj);
  /* The value as JSON (see crdt_object_value_json). */
  int (*value_json)(const crdt_object *obj, crdt__text *t);
  /* The causal context as text; NULL when the type keeps none. */
  int (*context_text)(const crdt_object *obj, crdt__text *t);
  /* The causal context as a new public context; NULL when none. */
  int (*context)(const crdt_object *obj, crdt_context **out);
};

/* Each type's wire format (src/wire.h), kept apart from crdt__type: the
 * frame flags, the body, and decoding a body into a new object owned by
 * `replica` (may be NULL). Listed in crdt/codec.c. */
typedef struct crdt__codec {
  const crdt__type *type;
  uint8_t (*wire_flags)(const crdt_object *obj);
  void (*encode)(const crdt_object *obj, struct crdt__wbuf *w);
  int (*decode)(struct crdt__rbuf *body, uint8_t flags, const char *replica,
                crdt_object **out);
} crdt__codec;

extern const crdt__codec crdt__gcounter_codec;
extern const crdt__codec crdt__pncounter_codec;
extern const crdt__codec crdt__orset_codec;
extern const crdt__codec crdt__mvreg_codec;
extern const crdt__codec crdt__cart_codec;
extern const crdt__codec crdt__lwwreg_codec;
extern const crdt__codec crdt__flag_codec;
extern const crdt__codec crdt__map_codec;

extern const crdt__type crdt__gcounter_type;
extern const crdt__type crdt__pncounter_type;
extern const crdt__type crdt__orset_type;
extern const crdt__type crdt__mvreg_type;
extern const crdt__type crdt__cart_type;
extern const crdt__type crdt__lwwreg_type;
extern const crdt__type crdt__flag_type;
extern const crdt__type crdt__map_type;

/* The table for a tag, or NULL. */
const crdt__type *crdt__type_of(crdt_type tag);

/* Initialises the header of a new object with the default allocator. */
static inline void crdt__object_init(crdt_object *o, const crdt__type *t,
                                     const crdt_allocator *m) {
  o->type = t;
  o->mem = *m;
  o->journal = NULL;
}

/* The typed API every type shares, written once: new, free, merge, equal,
 * copy, compare and the conversions to and from crdt_object. `name` is the
 * type's short name (crdt_<name>), `table` its crdt__type. */
#define CRDT__TYPED_API(name, table)                                           \
  int crdt_##name##_new(const char *replica, crdt_##name **out) {             \
    if (!out) return CRDT_EINVAL;                                              \
    return (table).create(replica, (crdt_object **)out);                       \
  }                                                                            \
  void crdt_##name##_free(crdt_##name *x) { crdt_object_free((crdt_object *)x); } \
  int crdt_##name##_merge(crdt_##name *dst, const crdt_##name *src) {          \
    return crdt_object_merge((crdt_object *)dst, (const crdt_object *)src);    \
  }                                                                            \
  bool crdt_##name##_equal(const crdt_##name *a, const crdt_##name *b) {       \
    return crdt_object_equal((const crdt_object *)a, (const crdt_object *)b);  \
  }                                                                            \
  int crdt_##name##_copy(const crdt_##name *src, crdt_##name **out) {          \
    return crdt_object_copy((const crdt_object *)src, (crdt_object **)out);    \
  }                                                                            \
  crdt_object *crdt_##name##_object(crdt_##name *x) { return (crdt_object *)x; } \
  crdt_##name *crdt_object_##name(crdt_object *o) {                            \
    return o && o->type == &(table) ? (crdt_##name *)o : NULL;                 \
  }

/* compare, for the types that keep a causal history. */
#define CRDT__TYPED_COMPARE(name)                                              \
  int crdt_##name##_compare(const crdt_##name *a, const crdt_##name *b,        \
                            crdt_order *order) {                               \
    return crdt_object_compare((const crdt_object *)a, (const crdt_object *)b, \
                               order);                                         \
  }

#endif

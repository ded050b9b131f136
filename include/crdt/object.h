/*
 * libcrdt: the type-erased view of every data type.
 */
#ifndef CRDT_OBJECT_H
#define CRDT_OBJECT_H

#include <stdbool.h>

#include "crdt/common.h"
#include "crdt/context.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @file object.h
 * Every CRDT state (an OR-set, a counter, ...) is also a `crdt_object`, so
 * tools, tests and fuzzers can merge, compare, copy and print states without
 * knowing their type. Typed handles convert with crdt_\<type\>_object() and
 * crdt_object_\<type\>() (see each type's header). Applications normally use
 * the typed API.
 */

/** Type tags. The numbers are part of the wire format and never change. */
typedef enum crdt_type {
  CRDT_TYPE_GCOUNTER = 1,
  CRDT_TYPE_PNCOUNTER = 2,
  CRDT_TYPE_ORSET = 3,
  CRDT_TYPE_MVREG = 4,
  CRDT_TYPE_CART = 5,
  CRDT_TYPE_LWWREG = 6,
  CRDT_TYPE_FLAG = 7,
  CRDT_TYPE_MAP = 8
} crdt_type;

/** Opaque handle to a state of any type. */
typedef struct crdt_object crdt_object;

/** The type's short name: "gcounter", "pncounter", "orset", "mvreg", "cart",
 * "lwwreg", "flag", "map"; NULL for an unknown tag. */
CRDT_API const char *crdt_type_name(crdt_type type);

/** Looks a type up by its short name.
 * @return 0 and *type, or CRDT_EBADTYPE for an unknown name, CRDT_EINVAL for
 * NULL arguments. */
CRDT_API int crdt_type_from_name(const char *name, crdt_type *type);

/** Creates an empty state of `type` owned by replica `replica` (the id its
 * updates are stamped with). `replica` may be NULL: the object then cannot
 * be updated and serves to collect deltas (a delta group) or to receive
 * states.
 * @return 0, CRDT_EINVAL (bad id or out NULL), CRDT_EBADTYPE or CRDT_ENOMEM.
 */
CRDT_API int crdt_object_new(crdt_type type, const char *replica,
                             crdt_object **out);

/** Frees any object; NULL does nothing. */
CRDT_API void crdt_object_free(crdt_object *obj);

/** The object's type (0 for NULL). */
CRDT_API crdt_type crdt_object_type(const crdt_object *obj);

/** The replica id the object stamps its updates with, or NULL for a delta
 * or receive-only object. Valid while the object lives. */
CRDT_API const char *crdt_object_replica(const crdt_object *obj);

/** dst := dst ⊔ src (join; commutative, associative, idempotent). src is
 * unchanged; dst == src does nothing. Accepts full states and deltas alike.
 * @return 0, CRDT_ETYPE (different types), CRDT_EINVAL, CRDT_ENOMEM or
 * CRDT_ETOOMANY. On error dst is unchanged. */
CRDT_API int crdt_object_merge(crdt_object *dst, const crdt_object *src);

/** true when both objects hold equal states (same type, same causal history
 * and same content; owner replica ids are not compared). */
CRDT_API bool crdt_object_equal(const crdt_object *a, const crdt_object *b);

/** Deep copy (same owner replica).
 * @return 0, CRDT_EINVAL or CRDT_ENOMEM. */
CRDT_API int crdt_object_copy(const crdt_object *src, crdt_object **out);

/** Compares the causal histories of two states of the same type: the set of
 * updates each has seen. *order is CRDT_EQUAL, CRDT_BEFORE (a has seen a
 * strict subset of b's updates), CRDT_AFTER or CRDT_CONCURRENT.
 * @return 0, CRDT_ETYPE, CRDT_EINVAL, or CRDT_ENOTSUP for the LWW-register
 * (it keeps no history). */
CRDT_API int crdt_object_compare(const crdt_object *a, const crdt_object *b,
                                 crdt_order *order);

/** Writes the state's value as one line of JSON, in canonical order (equal
 * states print identically on every replica): an integer for counters, a
 * sorted array of strings for the OR-set and the MV-register's siblings, an
 * object item -> quantity for the cart, a string or null for the
 * LWW-register, true or false for the flag. Same buffer contract as
 * crdt_vv_format().
 * @return 0, CRDT_ENOSPC, CRDT_EINVAL or CRDT_ENOMEM. */
CRDT_API int crdt_object_value_json(const crdt_object *obj, char *buf,
                                    size_t cap, size_t *needed);

/** The state's causal context (the updates it has seen) as a new context
 * object, for programs that need it as data (crdt_context_foreach_prefix,
 * crdt_context_foreach_cloud, crdt_context_compare). For the counters it
 * holds, per replica, that replica's updates 1..n.
 * @param obj the state; not changed. The context is a copy: it does not
 *   follow later updates of obj and may outlive it.
 * @param[out] out a new context; the caller frees it.
 * @return 0, CRDT_EINVAL, CRDT_ENOMEM, or CRDT_ENOTSUP for the LWW-register
 *   (it keeps no history). */
CRDT_API int crdt_object_context(const crdt_object *obj, crdt_context **out);

/** Writes the state's causal context (the updates it has seen) as text, as
 * crdt_context_format() does, e.g. `{A:2, B:1}`; for the LWW-register,
 * CRDT_ENOTSUP.
 * @return 0, CRDT_ENOSPC, CRDT_EINVAL, CRDT_ENOTSUP or CRDT_ENOMEM. */
CRDT_API int crdt_object_context_text(const crdt_object *obj, char *buf,
                                      size_t cap, size_t *needed);

#ifdef __cplusplus
}
#endif
#endif /* CRDT_OBJECT_H */

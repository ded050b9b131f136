/*
 * libcrdt: updates by name, for programs that handle every type alike.
 */
#ifndef CRDT_UPDATE_H
#define CRDT_UPDATE_H

#include <stdint.h>

#include "crdt/common.h"
#include "crdt/context.h"
#include "crdt/map.h"
#include "crdt/object.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @file update.h
 * One entry point that applies any update to any object: the `crdt` command,
 * the PostgreSQL extension and language bindings use it so that they need no
 * code per type. Applications that know their types use the typed API
 * (crdt_orset_add(), ...), which this calls.
 *
 * | type      | op        | uses                                        |
 * | --------- | --------- | ------------------------------------------- |
 * | gcounter  | inc       | n                                           |
 * | pncounter | inc, dec  | n                                           |
 * | orset     | add, rm   | arg (element)                               |
 * | mvreg     | set       | arg (value), context (NULL: all seen)       |
 * | cart      | add, dec  | arg (item), n                               |
 * | cart      | rm        | arg (item)                                  |
 * | lwwreg    | set       | arg (value), time                           |
 * | flag      | enable    | nothing                                     |
 * | flag      | disable   | nothing                                     |
 * | map       | any above | path and field: the field's path and type;  |
 * |           |           | inc/dec a counter, add/rm an OR-set element,|
 * |           |           | set an MV- or LWW-register, enable/disable a|
 * |           |           | flag                                        |
 * | map       | del       | path, field: removes the field (reset)      |
 */

/** Update operations. The names are those of crdt_op_name(). */
typedef enum crdt_op {
  CRDT_OP_INC = 1, /**< "inc": counters */
  CRDT_OP_DEC,     /**< "dec": PN-counter, cart (takes at most what is seen) */
  CRDT_OP_ADD,     /**< "add": OR-set element, cart item */
  CRDT_OP_REMOVE,  /**< "rm": OR-set element, cart item */
  CRDT_OP_SET,     /**< "set": MV-register, LWW-register */
  CRDT_OP_ENABLE,  /**< "enable": flag */
  CRDT_OP_DISABLE, /**< "disable": flag */
  CRDT_OP_DELETE   /**< "del": a map field (crdt_map_remove()) */
} crdt_op;

/** One update. Zero-initialise it and fill in what the operation uses (see
 * the table above); other fields are ignored. */
typedef struct crdt_update {
  crdt_op op;                   /**< what to do */
  crdt_bytes arg;               /**< element, item or value; borrowed */
  uint64_t n;                   /**< amount for inc/dec and cart add; 0
                                     means 1 */
  uint64_t time;                /**< LWW-register timestamp */
  const crdt_context *context;  /**< MV-register read context, or NULL */
  crdt_path path;               /**< map: the field's path */
  crdt_field_type field;        /**< map: the field's type */
} crdt_update;

/** The op's name ("inc", "dec", "add", "rm", "set", "enable", "disable",
 * "del"); "?" for other values. Static storage. */
CRDT_API const char *crdt_op_name(crdt_op op);

/** Looks an op up by name.
 * @return 0 and *op, CRDT_ENOENT for an unknown name, CRDT_EINVAL for NULL
 * arguments. */
CRDT_API int crdt_op_from_name(const char *name, crdt_op *op);

/** Applies `u` to `obj` as the typed call would (crdt_orset_add(), ...),
 * stamped with obj's replica id.
 * @param obj the object; needs a replica id.
 * @param u the update; not changed, nothing in it is kept.
 * @param delta NULL, or an object of obj's type (not obj) into which the
 *   update's delta is joined.
 * @return 0; CRDT_ENOTSUP when the type (or a map field's type) has no such
 *   op, or a map's MV-register set is given a context (map registers take
 *   none); CRDT_EINVAL (NULL obj or u, an arg with NULL data and a non-zero
 *   size, a bad path); CRDT_ENOENT (removing or decrementing what this
 *   replica does not see, disabling a flag that is not enabled here:
 *   nothing changes); CRDT_ESTALE (an LWW write older than the value held);
 *   or any error of the typed call. On error neither obj nor delta
 *   changes. */
CRDT_API int crdt_object_update(crdt_object *obj, const crdt_update *u,
                                crdt_object *delta);

#ifdef __cplusplus
}
#endif

#endif /* CRDT_UPDATE_H */

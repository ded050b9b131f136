/*
 * Updates by name (include/crdt/update.h): one dispatch over the typed API,
 * so tools and bindings carry no code per type.
 */
#include <string.h>

#include "crdt/cart.h"
#include "crdt/flag.h"
#include "crdt/gcounter.h"
#include "crdt/lwwreg.h"
#include "crdt/mvreg.h"
#include "crdt/orset.h"
#include "crdt/pncounter.h"
#include "crdt/update.h"

static const char *const op_names[] = {NULL,  "inc",    "dec",     "add",
                                       "rm",  "set",    "enable",  "disable",
                                       "del"};
#define OP_LAST CRDT_OP_DELETE

const char *crdt_op_name(crdt_op op) {
  return op >= CRDT_OP_INC && op <= OP_LAST ? op_names[op] : "?";
}

int crdt_op_from_name(const char *name, crdt_op *op) {
  if (!name || !op) return CRDT_EINVAL;
  for (int i = CRDT_OP_INC; i <= OP_LAST; i++)
    if (strcmp(op_names[i], name) == 0) {
      *op = (crdt_op)i;
      return 0;
    }
  return CRDT_ENOENT;
}

/* A map update: the op applies to the field (u->path, u->field). */
static int map_update(crdt_map *map, const crdt_update *u, crdt_map *delta,
                      uint64_t n) {
  const void *arg = u->arg.data;
  const size_t len = u->arg.size;
  switch (u->op) {
  case CRDT_OP_INC:
  case CRDT_OP_DEC:
    if (u->field != CRDT_FIELD_COUNTER) break;
    return u->op == CRDT_OP_INC ? crdt_map_counter_inc(map, u->path, n, delta)
                                : crdt_map_counter_dec(map, u->path, n, delta);
  case CRDT_OP_ADD:
  case CRDT_OP_REMOVE:
    if (u->field != CRDT_FIELD_ORSET) break;
    return u->op == CRDT_OP_ADD
               ? crdt_map_orset_add(map, u->path, arg, len, delta)
               : crdt_map_orset_remove(map, u->path, arg, len, delta);
  case CRDT_OP_SET:
    if (u->field == CRDT_FIELD_MVREG && !u->context)
      return crdt_map_mvreg_set(map, u->path, arg, len, delta);
    if (u->field == CRDT_FIELD_LWWREG)
      return crdt_map_lwwreg_set(map, u->path, arg, len, u->time, delta);
    break;
  case CRDT_OP_ENABLE:
  case CRDT_OP_DISABLE:
    if (u->field != CRDT_FIELD_FLAG) break;
    return u->op == CRDT_OP_ENABLE
               ? crdt_map_flag_enable(map, u->path, delta)
               : crdt_map_flag_disable(map, u->path, delta);
  case CRDT_OP_DELETE:
    return crdt_map_remove(map, u->path, u->field, delta);
  }
  return CRDT_ENOTSUP;
}

int crdt_object_update(crdt_object *obj, const crdt_update *u,
                       crdt_object *delta) {
  if (!obj || !u || (!u->arg.data && u->arg.size)) return CRDT_EINVAL;
  const void *arg = u->arg.data;
  const size_t len = u->arg.size;
  const uint64_t n = u->n ? u->n : 1;
  /* A delta of another type is the typed call's CRDT_ETYPE. */
  switch (crdt_object_type(obj)) {
  case CRDT_TYPE_GCOUNTER:
    if (u->op == CRDT_OP_INC)
      return crdt_gcounter_inc(crdt_object_gcounter(obj), n,
                               (crdt_gcounter *)delta);
    break;
  case CRDT_TYPE_PNCOUNTER:
    if (u->op == CRDT_OP_INC)
      return crdt_pncounter_inc(crdt_object_pncounter(obj), n,
                                (crdt_pncounter *)delta);
    if (u->op == CRDT_OP_DEC)
      return crdt_pncounter_dec(crdt_object_pncounter(obj), n,
                                (crdt_pncounter *)delta);
    break;
  case CRDT_TYPE_ORSET:
    if (u->op == CRDT_OP_ADD)
      return crdt_orset_add(crdt_object_orset(obj), arg, len,
                            (crdt_orset *)delta);
    if (u->op == CRDT_OP_REMOVE)
      return crdt_orset_remove(crdt_object_orset(obj), arg, len,
                               (crdt_orset *)delta);
    break;
  case CRDT_TYPE_MVREG:
    if (u->op == CRDT_OP_SET)
      return crdt_mvreg_write(crdt_object_mvreg(obj), arg, len, u->context,
                              (crdt_mvreg *)delta);
    break;
  case CRDT_TYPE_CART:
    if (u->op == CRDT_OP_ADD)
      return crdt_cart_add(crdt_object_cart(obj), arg, len, n,
                           (crdt_cart *)delta);
    if (u->op == CRDT_OP_DEC)
      return crdt_cart_dec(crdt_object_cart(obj), arg, len, n,
                           (crdt_cart *)delta, NULL);
    if (u->op == CRDT_OP_REMOVE)
      return crdt_cart_remove(crdt_object_cart(obj), arg, len,
                              (crdt_cart *)delta);
    break;
  case CRDT_TYPE_LWWREG:
    if (u->op == CRDT_OP_SET)
      return crdt_lwwreg_write(crdt_object_lwwreg(obj), arg, len, u->time,
                               (crdt_lwwreg *)delta);
    break;
  case CRDT_TYPE_FLAG:
    if (u->op == CRDT_OP_ENABLE)
      return crdt_flag_enable(crdt_object_flag(obj), (crdt_flag *)delta);
    if (u->op == CRDT_OP_DISABLE)
      return crdt_flag_disable(crdt_object_flag(obj), (crdt_flag *)delta);
    break;
  case CRDT_TYPE_MAP:
    return map_update(crdt_object_map(obj), u, (crdt_map *)delta, n);
  }
  return CRDT_ENOTSUP;
}

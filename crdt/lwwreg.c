/* PLACEHOLDER: replaced by the real lwwreg implementation. */
#include "type.h"

static int lwwreg_create(const char *replica, crdt_object **out) {
  (void)replica;
  (void)out;
  return CRDT_ENOTSUP;
}

const crdt__type crdt__lwwreg_type = {CRDT_TYPE_LWWREG, "lwwreg", lwwreg_create,
                                    NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                                    NULL};

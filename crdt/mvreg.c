/* PLACEHOLDER: replaced by the real mvreg implementation. */
#include "type.h"

static int mvreg_create(const char *replica, crdt_object **out) {
  (void)replica;
  (void)out;
  return CRDT_ENOTSUP;
}

const crdt__type crdt__mvreg_type = {CRDT_TYPE_MVREG, "mvreg", mvreg_create,
                                    NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                                    NULL};

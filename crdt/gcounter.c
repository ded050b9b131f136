/* PLACEHOLDER: replaced by the real gcounter implementation. */
#include "type.h"

static int gcounter_create(const char *replica, crdt_object **out) {
  (void)replica;
  (void)out;
  return CRDT_ENOTSUP;
}

const crdt__type crdt__gcounter_type = {CRDT_TYPE_GCOUNTER, "gcounter", gcounter_create,
                                    NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                                    NULL};

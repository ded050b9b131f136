/* PLACEHOLDER: replaced by the real pncounter implementation. */
#include "type.h"

static int pncounter_create(const char *replica, crdt_object **out) {
  (void)replica;
  (void)out;
  return CRDT_ENOTSUP;
}

const crdt__type crdt__pncounter_type = {CRDT_TYPE_PNCOUNTER, "pncounter", pncounter_create,
                                    NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                                    NULL};

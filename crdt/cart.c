/* PLACEHOLDER: replaced by the real cart implementation. */
#include "type.h"

static int cart_create(const char *replica, crdt_object **out) {
  (void)replica;
  (void)out;
  return CRDT_ENOTSUP;
}

const crdt__type crdt__cart_type = {CRDT_TYPE_CART, "cart", cart_create,
                                    NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                                    NULL};

/*
 * Random map updates (see map_gen.h).
 */
#include <string.h>

#include "map_gen.h"

static const char *const names[] = {"a", "b", "", "tags", "\xff"};
static const char *const items[] = {"x", "y", "", "\x01\xff",
                                    "a value longer than twelve bytes"};
#define N(a) (sizeof(a) / sizeof *(a))

void tu_map_random(tu_map_update *m, tu_rng *rng, unsigned max_depth) {
  memset(m, 0, sizeof *m);
  unsigned depth = 1 + tu_below(rng, max_depth);
  for (unsigned i = 0; i < depth; i++) {
    const char *n = names[tu_below(rng, N(names))];
    m->names[i] = (crdt_bytes){n, strlen(n)};
  }
  m->u.path = (crdt_path){m->names, depth};
  m->u.field = (crdt_field_type)(1 + tu_below(rng, 6));
  const char *item = items[tu_below(rng, N(items))];
  m->u.arg = (crdt_bytes){item, strlen(item)};
  m->u.n = 1 + tu_below(rng, 5);
  m->u.time = tu_below(rng, 20);
  const bool del = tu_below(rng, 8) == 0;
  switch (m->u.field) {
  case CRDT_FIELD_COUNTER:
    m->u.op = tu_below(rng, 3) ? CRDT_OP_INC : CRDT_OP_DEC;
    break;
  case CRDT_FIELD_ORSET:
    m->u.op = tu_below(rng, 3) ? CRDT_OP_ADD : CRDT_OP_REMOVE;
    break;
  case CRDT_FIELD_MVREG:
  case CRDT_FIELD_LWWREG:
    m->u.op = CRDT_OP_SET;
    break;
  case CRDT_FIELD_FLAG:
    m->u.op = tu_below(rng, 3) ? CRDT_OP_ENABLE : CRDT_OP_DISABLE;
    break;
  case CRDT_FIELD_MAP:
    m->u.op = CRDT_OP_DELETE;
    break;
  }
  if (del) m->u.op = CRDT_OP_DELETE;
}

int tu_map_random_update(crdt_object *obj, tu_rng *rng, crdt_object *delta) {
  tu_map_update m;
  tu_map_random(&m, rng, 3);
  return crdt_object_update(obj, &m.u, delta);
}

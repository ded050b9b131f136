/*
 * Paths through nested stores (see route.h).
 */
#include "route.h"

void crdt__route_find(crdt__route *r, crdt__store *root, const crdt__key *keys,
                      uint32_t depth) {
  r->keys = keys;
  r->depth = depth;
  r->found = 0;
  r->made = 0;
  r->store[0] = root;
  for (uint32_t i = 0; i < depth; i++) {
    crdt__entry *e = crdt__store_find(r->store[i], keys[i].bytes, keys[i].len,
                                      keys[i].hash);
    if (!e) break;
    r->entry[i] = e;
    r->found = i + 1;
    if (!crdt__entry_nested(e)) break;
    r->store[i + 1] = crdt__entry_child(e);
  }
  r->made = r->found;
}

int crdt__route_make(crdt__route *r, const crdt_allocator *m) {
  if (r->found < r->depth && r->found &&
      !crdt__entry_nested(r->entry[r->found - 1]))
    return CRDT_EFORMAT;
  if (r->found == r->depth) {
    if (r->depth && !crdt__entry_nested(r->entry[r->depth - 1]))
      return CRDT_EFORMAT;
    return 0;
  }
  /* The new stores first, chained bottom-up, then one insertion into the
   * existing store: the only step that can fail after the chain exists is
   * that insertion, and the chain is then freed whole. */
  crdt__store *below = NULL;
  int rc = 0;
  for (uint32_t i = r->depth; i-- > r->found;) {
    crdt__store *s = crdt__store_new(m);
    if (!s) {
      rc = CRDT_ENOMEM;
      break;
    }
    if (below) {
      crdt__entry *e;
      if ((rc = crdt__store_insert(s, m, r->keys[i + 1].bytes,
                                   r->keys[i + 1].len, r->keys[i + 1].hash,
                                   &e))) {
        crdt__store_destroy(s, m);
        break;
      }
      crdt__entry_set_child(e, below);
    }
    below = s;
  }
  crdt__entry *top = NULL;
  if (!rc)
    rc = crdt__store_insert(r->store[r->found], m, r->keys[r->found].bytes,
                            r->keys[r->found].len, r->keys[r->found].hash,
                            &top);
  if (rc) {
    /* `below` is the chain's top when rc came from the last step, else a
     * partial chain's top: freeing it frees all that was made. */
    crdt__store_destroy(below, m);
    return rc;
  }
  crdt__entry_set_child(top, below);
  r->entry[r->found] = top;
  for (uint32_t i = r->found; i < r->depth; i++) {
    crdt__store *child = crdt__entry_child(r->entry[i]);
    r->store[i + 1] = child;
    if (i + 1 < r->depth) r->entry[i + 1] = &child->entries[0];
  }
  r->made = r->depth;
  return 0;
}

void crdt__route_unmake(crdt__route *r, const crdt_allocator *m) {
  if (r->made == r->found) return;
  crdt__store *s = r->store[r->found];
  crdt__store_delete(s, m, r->entry[r->found]);
  crdt__store_tidy(s, m);
  r->made = r->found;
}

void crdt__route_settle(crdt__route *r, const crdt_allocator *m, bool prune) {
  for (uint32_t i = r->made; i-- > 0;) {
    crdt__entry *e = r->entry[i];
    if (!crdt__entry_nested(e)) return;
    crdt__entry_refresh(e);
    if (e->ndots || !prune) continue;
    crdt__store_delete(r->store[i], m, e);
    crdt__store_tidy(r->store[i], m);
  }
}

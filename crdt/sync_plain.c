/*
 * The per-type sync tables (see syncops.h), and the sessions of the types
 * without dots: the counters, whose summary is the vector of event counts
 * (a round sends each replica entry the peer's vector is behind on:
 * O(replicas)), and the LWW-register, which has no summary (a round compares digests and sends
 * the register when they differ). Their chunks are ordinary state bodies
 * (docs/format.md), merged on arrival: any subset of entries is a valid
 * state, so every chunk is correct on its own.
 */
#include <string.h>

#include "counter.h"
#include "crdt/lwwreg.h"
#include "digest.h"
#include "dotted.h"
#include "map_impl.h"
#include "syncops.h"

/* ---- counters ------------------------------------------------------------ */

static uint64_t counter_digest(crdt_object *o) {
  return crdt__pervec_digest(&crdt__counter_cof(o)->v);
}

static uint64_t counter_live(const crdt_object *o) {
  const crdt__pervec *v = &crdt__counter_cof(o)->v;
  uint64_t n = 0;
  for (uint32_t i = 0; i < v->replicas.count; i++)
    n += crdt__pervec_get(v, i).events != 0;
  return n;
}

/* The vector of event counts as a context of prefixes. */
static int counter_summary(const crdt_object *o, crdt__sctx *out) {
  const crdt__pervec *v = &crdt__counter_cof(o)->v;
  const crdt_allocator *m = &o->mem;
  crdt__ctx ctx = {0};
  int rc = crdt__ctx_reserve(&ctx, m, v->replicas.count, 0);
  for (uint32_t i = 0; !rc && i < v->replicas.count; i++)
    ctx.vv.n[i] = ctx.top.n[i] = crdt__pervec_get(v, i).events;
  if (!rc) rc = crdt__sctx_from(out, m, &ctx, &v->replicas);
  crdt__ctx_free(&ctx, m);
  return rc;
}

static int counter_plan(crdt__cold *k, const crdt_object *o) {
  const crdt__pervec *v = &crdt__counter_cof(o)->v;
  int rc = 0;
  for (uint32_t i = 0; !rc && i < v->replicas.count; i++) {
    uint64_t events = crdt__pervec_get(v, i).events;
    uint32_t j = crdt__replicas_find_rid(&k->peer->r, v->replicas.by_index[i]);
    uint64_t theirs = j == CRDT__NO_REPLICA ? 0 : crdt__vv_get(&k->peer->c.vv, j);
    if (events > theirs) {
      size_t len;
      const char *id = crdt__replicas_id(&v->replicas, i, &len);
      rc = crdt__cold_plan_key(k, &o->mem, id, len);
    }
  }
  return rc;
}

static const crdt__codec *codec_of(const crdt__type *t) {
  if (t == &crdt__gcounter_type) return &crdt__gcounter_codec;
  if (t == &crdt__pncounter_type) return &crdt__pncounter_codec;
  return &crdt__lwwreg_codec;
}

/* A counter holding the plan's entries from next_key on that fit the
 * budget (each costs its id and three varints). */
static int counter_put_chunk(crdt__cold *k, const crdt_object *o,
                             crdt__wbuf *w, size_t budget, uint32_t *used) {
  const crdt__pervec *v = &crdt__counter_cof(o)->v;
  *used = 0;
  if (k->next_key >= k->nkeys) return 0;
  crdt_object *part;
  int rc = crdt__counter_create(o->type, NULL, &part);
  if (rc) return rc;
  size_t est = 8;
  uint32_t i = k->next_key;
  for (; i < k->nkeys && !rc; i++) {
    const char *id = (const char *)k->keys + k->offs[i];
    size_t len = k->offs[i + 1] - k->offs[i];
    if (est + len + 32 > budget && i > k->next_key) break;
    est += len + 32;
    uint32_t r = crdt__replicas_find(&v->replicas, id, len);
    crdt__pvent e = crdt__pervec_get(v, r);
    rc = crdt__pervec_join_one(&crdt__counter_of(part)->v, &part->mem, id, len,
                               &e);
  }
  if (!rc) {
    size_t start = w->len;
    crdt__w_u8(w, CRDT__CHUNK_ENTRIES);
    codec_of(o->type)->encode(part, w);
    if (!w->err && w->len - start > budget) {
      w->len = start;
      rc = CRDT_ENOSPC;
    }
    if (!rc) rc = w->err;
  }
  crdt_object_free(part);
  if (!rc) *used = i - k->next_key;
  return rc;
}

/* Counters and the LWW-register: the chunk is a state, merged as is. */
static int plain_apply_chunk(crdt__cold *k, const crdt_object *o,
                             crdt__rbuf *body, crdt__change *ch) {
  (void)k;
  crdt_object *part;
  const uint8_t *kind;
  int rc = crdt__r_bytes(body, 1, &kind);
  if (rc) return rc;
  if (kind[0] != CRDT__CHUNK_ENTRIES) return CRDT_EFORMAT;
  rc = codec_of(o->type)->decode(body, 0, NULL, &part);
  if (rc) return rc;
  if (ch->plain) {
    rc = crdt_object_merge(ch->plain, part);
    crdt_object_free(part);
    return rc;
  }
  ch->plain = part;
  ch->any = true;
  return 0;
}

/* ---- LWW-register ----------------------------------------------------------- */

/* The canonical body, for the digest and the chunk. */
static int lww_body(const crdt_object *o, crdt__wbuf *w) {
  crdt__lwwreg_codec.encode(o, w);
  return w->err;
}

static uint64_t lww_digest(crdt_object *o) {
  uint8_t small[256];
  crdt__wbuf w = crdt__wbuf_into(small, sizeof small, &o->mem);
  uint64_t d = 0;
  /* out of memory for a long value: the digest of an unknown state, which
   * only makes the next round send the register */
  if (lww_body(o, &w) == 0 && !(w.len == 1 && w.data[0] == 0))
    d = crdt__digest_bytes(w.data, w.len);
  crdt__wbuf_free(&w);
  return d;
}

static uint64_t lww_live(const crdt_object *o) {
  return crdt_lwwreg_get((const crdt_lwwreg *)o, NULL, NULL) == 0;
}

static int lww_summary(const crdt_object *o, crdt__sctx *out) {
  (void)o;
  memset(out, 0, sizeof *out);
  return 0;
}

static int lww_plan(crdt__cold *k, const crdt_object *o) {
  if (!lww_live(o)) return 0;
  return crdt__cold_plan_key(k, &o->mem, "", 0);
}

static int lww_put_chunk(crdt__cold *k, const crdt_object *o, crdt__wbuf *w,
                         size_t budget, uint32_t *used) {
  *used = 0;
  if (k->next_key >= k->nkeys) return 0;
  size_t start = w->len;
  crdt__w_u8(w, CRDT__CHUNK_ENTRIES);
  int rc = lww_body(o, w);
  if (!rc && w->len - start > budget) {
    w->len = start;
    return CRDT_ENOSPC;
  }
  if (!rc) *used = 1;
  return rc;
}

/* ---- the tables ------------------------------------------------------------- */

static void put_plain(crdt__wbuf *w, const crdt__causal *d) {
  crdt__wire_put_causal(w, d, false);
}
static int get_plain(crdt__rbuf *r, const crdt_allocator *m, crdt__causal *d,
                     bool keyed) {
  return crdt__wire_get_causal(r, m, d, false, keyed);
}
static void put_valued(crdt__wbuf *w, const crdt__causal *d) {
  crdt__wire_put_causal(w, d, true);
}
static int get_valued(crdt__rbuf *r, const crdt_allocator *m, crdt__causal *d,
                      bool keyed) {
  return crdt__wire_get_causal(r, m, d, true, keyed);
}
/* A flag's deltas name its one key, the empty key, and no other (as its
 * decoder requires): another key would be a second, invisible flag. */
static int get_flag(crdt__rbuf *r, const crdt_allocator *m, crdt__causal *d,
                    bool keyed) {
  int rc = crdt__wire_get_causal(r, m, d, false, keyed);
  if (rc) return rc;
  for (uint32_t n = 0; n < d->store.count; n++)
    if (d->store.entries[n].keylen != 0) return CRDT_EFORMAT;
  return 0;
}

/* The map's deltas are map bodies: a tree, with every check of the map's
 * decoder (crdt/map_codec.c). */
static void put_map(crdt__wbuf *w, const crdt__causal *d) {
  crdt__map_put_body(w, d);
}
static int get_map(crdt__rbuf *r, const crdt_allocator *m, crdt__causal *d,
                   bool keyed) {
  return crdt__map_get_body(r, m, d, keyed);
}

#define DOTTED_OPS(name, is_cart, is_nested, put, get)                         \
  const crdt__sync_ops crdt__sync_##name = {                                   \
      .type = &crdt__##name##_type,                                            \
      .dotted = true,                                                          \
      .values = is_cart,                                                       \
      .nested = is_nested,                                                     \
      .digest = crdt__sd_digest,                                               \
      .live = crdt__sd_live,                                                   \
      .summary = crdt__sd_summary,                                             \
      .plan = crdt__sd_plan,                                                   \
      .put_chunk = crdt__sd_put_chunk,                                         \
      .apply_chunk = crdt__sd_apply_chunk,                                     \
      .put_delta = put,                                                        \
      .get_delta = get};

DOTTED_OPS(orset, false, false, put_plain, get_plain)
DOTTED_OPS(mvreg, false, false, put_plain, get_plain)
DOTTED_OPS(cart, true, false, put_valued, get_valued)
DOTTED_OPS(flag, false, false, put_plain, get_flag)
DOTTED_OPS(map, false, true, put_map, get_map)

#define PLAIN_OPS(name, prefix)                                                \
  const crdt__sync_ops crdt__sync_##name = {                                   \
      .type = &crdt__##name##_type,                                            \
      .digest = prefix##_digest,                                               \
      .live = prefix##_live,                                                   \
      .summary = prefix##_summary,                                             \
      .plan = prefix##_plan,                                                   \
      .put_chunk = prefix##_put_chunk,                                         \
      .apply_chunk = plain_apply_chunk};

PLAIN_OPS(gcounter, counter)
PLAIN_OPS(pncounter, counter)
PLAIN_OPS(lwwreg, lww)

const crdt__sync_ops *crdt__sync_ops_of(const crdt__type *t) {
  static const crdt__sync_ops *const all[] = {
      &crdt__sync_orset,    &crdt__sync_mvreg,     &crdt__sync_cart,
      &crdt__sync_flag,     &crdt__sync_map,       &crdt__sync_gcounter,
      &crdt__sync_pncounter, &crdt__sync_lwwreg};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++)
    if (all[i]->type == t) return all[i];
  return NULL;
}

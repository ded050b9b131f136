/*
 * Sync sessions for the dot-based types: resolving removals (the sketch's
 * drops, the peer's LIVE lists), the LIVE lists themselves, and the final
 * context join of a cold round (see syncops.h and sync_dotted.h).
 */
#include <string.h>

#include "dotted.h"
#include "sync_dotted.h"

/* ---- drops, sweep, final join --------------------------------------------- */

/* Kills dot d of leaf `at` (of state c) in the change: the leaf listed,
 * the dot in the context but not in the store. A dot the change lists as
 * live (a chunk of a misbehaving peer said so) loses that. */
int crdt__sd_change_kill(crdt__change *ch, const crdt_allocator *m,
                         const crdt__causal *c, const crdt__leaf *at,
                         const crdt__dv *d) {
  int rc = crdt__sd_change_key(ch, m, at);
  if (rc) return rc;
  rc = crdt__sd_put_dot(&ch->d, m, at, &c->replicas, d->replica, d->counter,
                        d->value, false);
  if (rc) return rc;
  crdt__entry *de = crdt__leaf_find(&ch->d.store, at);
  size_t len;
  const char *id = crdt__replicas_id(&c->replicas, d->replica, &len);
  const uint32_t r = crdt__replicas_find(&ch->d.replicas, id, len);
  if (de && de->ndots && crdt__entry_many(de)) {
    crdt__dv *a = crdt__entry_array(de);
    uint32_t kept = 0;
    for (uint32_t i = 0; i < de->ndots; i++)
      if (!(a[i].replica == r && a[i].counter == d->counter)) a[kept++] = a[i];
    de->ndots = kept;
    crdt__entry_shrink(de, m);
  } else if (de && de->ndots) {
    crdt__dv x = crdt__entry_dot(de, 0);
    if (x.replica == r && x.counter == d->counter) {
      de->ndots = 0;
      de->dots = 0;
    }
  }
  return 0;
}

/* Adds to ch the drops of o's live dots inside both snapshots for which
 * dead(k, rank, counter, user) says the peer holds them no more. */
static int drop_common(crdt__cold *k, const crdt_object *o,
                       bool (*dead)(const crdt__cold *k, uint32_t rank,
                                    uint64_t counter, const void *user),
                       const void *user, crdt__change *ch) {
  const crdt__causal *c = &crdt__dotted_cof(o)->c;
  const crdt_allocator *m = &o->mem;
  crdt__sd_maps mp;
  int rc = crdt__sd_maps_make(&mp, k, &c->replicas, m);
  if (rc) return rc;
  crdt__leaves it;
  crdt__leaves_begin(&it, &c->store, false);
  for (const crdt__entry *en; !rc && (en = crdt__leaves_next(&it));) {
    crdt__dv one;
    const crdt__dv *d = crdt__entry_view(en, &one);
    for (uint32_t i = 0; i < en->ndots && !rc; i++) {
      const uint32_t r = d[i].replica;
      if (mp.common[r] == UINT32_MAX ||
          !crdt__sd_in_sctx(k->mine, mp.mine[r], d[i].counter) ||
          !crdt__sd_in_sctx(k->peer, mp.peer[r], d[i].counter) ||
          !dead(k, mp.common[r], d[i].counter, user))
        continue;
      crdt__dv dv = d[i];
      const crdt__leaf at = crdt__leaves_at(&it, en);
      rc = crdt__sd_change_kill(ch, m, c, &at, &dv);
    }
  }
  crdt__sd_maps_free(&mp, m);
  return rc;
}

static bool in_items(const crdt__cold *k, uint32_t rank, uint64_t counter,
                     const void *set) {
  (void)k;
  return crdt__u64set_has(set, crdt__sd_item(rank, counter));
}

int crdt__sd_drops(crdt__cold *k, const crdt_object *o, const uint64_t *items,
                   uint32_t n, crdt__change *ch) {
  const crdt_allocator *m = &o->mem;
  if (!n) return 0;
  crdt__u64set want = {0};
  int rc = 0;
  for (uint32_t i = 0; i < n && !rc; i++) rc = crdt__u64set_add(&want, m, items[i]);
  if (!rc) rc = drop_common(k, o, in_items, &want, ch);
  crdt__u64set_free(&want, m);
  return rc;
}

/* Is (rank, counter) outside every run the peer listed? */
static bool not_in_runs(const crdt__cold *k, uint32_t rank, uint64_t counter,
                        const void *user) {
  (void)user;
  uint32_t lo = 0, hi = k->nruns;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    const crdt__run *r = &k->runs[mid];
    if (r->rank < rank || (r->rank == rank && r->end < counter))
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo == k->nruns || k->runs[lo].rank != rank ||
         k->runs[lo].start > counter;
}

int crdt__sd_live_drops(crdt__cold *k, const crdt_object *o,
                        crdt__change *ch) {
  return drop_common(k, o, not_in_runs, NULL, ch);
}

/* LIVE parts: runs of consecutive counters of a common replica, each
 *   varint rank - the previous run's rank
 *   varint start - (previous end + 2) on the same rank, else start - 1
 *   varint length - 1
 * starting afresh in every part. */
void crdt__sd_put_live(crdt__cold *k, crdt__wbuf *w, size_t budget,
                       uint32_t *n) {
  uint32_t i = k->live_sent;
  const size_t start = w->len;
  uint32_t prev_rank = 0;
  uint64_t prev_end = 0;
  bool first = true;
  *n = 0;
  while (i < k->nlive && w->len - start + 40 <= budget) {
    const crdt__rdot a = k->live[i];
    uint32_t j = i + 1;
    while (j < k->nlive && k->live[j].rank == a.rank &&
           k->live[j].counter == k->live[j - 1].counter + 1)
      j++;
    const bool same = !first && a.rank == prev_rank;
    crdt__w_varint(w, a.rank - (first ? 0 : prev_rank));
    crdt__w_varint(w, same ? a.counter - prev_end - 2 : a.counter - 1);
    crdt__w_varint(w, j - i - 1);
    prev_rank = a.rank;
    prev_end = k->live[j - 1].counter;
    first = false;
    *n += j - i;
    i = j;
  }
}

int crdt__sd_get_live(crdt__cold *k, const crdt_allocator *m, crdt__rbuf *r,
                      uint32_t *nruns) {
  uint32_t rank = 0;
  uint64_t end = 0;
  bool first = true;
  const crdt__run *last = k->nruns ? &k->runs[k->nruns - 1] : NULL;
  uint32_t n = k->nruns;
  int rc = 0;
  while (crdt__r_left(r) && !rc) {
    uint64_t dr, gap, len;
    if ((rc = crdt__r_varint(r, &dr)) || (rc = crdt__r_varint(r, &gap)) ||
        (rc = crdt__r_varint(r, &len)))
      break;
    if (dr >= k->ncommon || (uint64_t)rank + dr >= k->ncommon) {
      rc = CRDT_EFORMAT;
      break;
    }
    const bool same = !first && dr == 0;
    rank += (uint32_t)dr;
    const uint64_t base = same ? end : 0, lead = same ? 2 : 1;
    if (gap > UINT64_MAX - base - lead || len > UINT64_MAX - base - lead - gap) {
      rc = CRDT_EOVERFLOW;
      break;
    }
    const crdt__run run = {rank, base + lead + gap, base + lead + gap + len};
    /* runs grow across parts too, so the receiver can search them */
    if (last && (run.rank < last->rank ||
                 (run.rank == last->rank && run.start <= last->end + 1))) {
      rc = CRDT_EORDER;
      break;
    }
    if ((rc = crdt__sync_grow(m, &k->runs, &k->runs_cap, n + 1,
                              sizeof *k->runs, 64)))
      break;
    k->runs[n++] = run;
    last = &k->runs[n - 1];
    end = run.end;
    first = false;
  }
  *nruns = n; /* taken by the caller when the receive succeeds */
  return rc;
}

/* The peer's snapshot joins the context: its dots this object has not
 * seen (which no store here holds, so this kills nothing: a snapshot
 * joined whole would kill, on every key the change lists, the live dots
 * the change does not hold). A replica the object never saw goes whole;
 * for the others, the counters past what the object has. *added counts
 * the dots. */
int crdt__sd_final(crdt__cold *k, const crdt_object *o, crdt__change *ch,
                   uint64_t *added) {
  const crdt__causal *c = &crdt__dotted_cof(o)->c;
  const crdt__sctx *p = k->peer;
  const crdt_allocator *m = &o->mem;
  crdt__sctx unseen;
  memset(&unseen, 0, sizeof unseen);
  int rc = 0;
  *added = 0;
  for (uint32_t i = 0; i < p->r.count && !rc; i++) {
    const crdt__rid *rid = p->r.by_index[i];
    const uint32_t oi = crdt__replicas_find_rid(&c->replicas, rid);
    const uint64_t hi = crdt__vv_get(&p->c.vv, i);
    const uint64_t lo = oi == CRDT__NO_REPLICA ? 0 : crdt__vv_get(&c->ctx.vv, oi);
    uint32_t ri;
    if (hi <= lo) continue;
    if ((rc = crdt__replicas_intern(&unseen.r, m, rid->id, rid->len, &ri)) ||
        (rc = crdt__ctx_reserve(&unseen.c, m, unseen.r.count, 0)))
      break;
    if (lo == 0 && (oi == CRDT__NO_REPLICA || !crdt__vv_get(&c->ctx.top, oi))) {
      unseen.c.vv.n[ri] = unseen.c.top.n[ri] = hi; /* all new: a prefix */
      *added += hi;
      continue;
    }
    for (uint64_t n = lo + 1; n <= hi && !rc; n++)
      if (!crdt__ctx_has(&c->ctx, (crdt__dot){n, oi})) {
        rc = crdt__ctx_insert(&unseen.c, m, (crdt__dot){n, ri});
        ++*added;
      }
  }
  for (uint32_t s = 0; s < p->c.cloud.cap && !rc; s++) {
    const crdt__dot d = p->c.cloud.slots[s];
    if (!d.counter) continue;
    const crdt__rid *rid = p->r.by_index[d.replica];
    const uint32_t oi = crdt__replicas_find_rid(&c->replicas, rid);
    uint32_t ri;
    if (oi != CRDT__NO_REPLICA && crdt__ctx_has(&c->ctx, (crdt__dot){d.counter, oi}))
      continue;
    if (!(rc = crdt__replicas_intern(&unseen.r, m, rid->id, rid->len, &ri)))
      rc = crdt__ctx_insert(&unseen.c, m, (crdt__dot){d.counter, ri});
    ++*added;
  }
  if (!rc)
    rc = crdt__sd_join_ctx(&ch->d.ctx, &ch->d.replicas, m, &unseen.c,
                           &unseen.r);
  if (!rc) {
    ch->any = true;
    ch->record_unkeyed = true;
  }
  crdt__sctx_free(&unseen, m);
  return rc;
}

void crdt__change_free(crdt__change *ch, const crdt_allocator *m) {
  crdt__causal_free(&ch->d, m);
  crdt_object_free(ch->plain);
  memset(ch, 0, sizeof *ch);
}

/*
 * Sync sessions: rounds and receiving (see syncops.h, docs/sync.md).
 *
 * A receive is atomic. The message is parsed and checked whole; what it
 * asks of the object is gathered into one change (crdt__change) on the
 * side; the journal record is reserved; then one join applies the change.
 * Only when that succeeded does the session's own state move on. So any
 * error, allocation failure included, leaves object and session as they
 * were.
 */
#include <string.h>

#include "digest.h"
#include "dotted.h"
#include "sync_session.h"

/* ---- rounds ------------------------------------------------------------- */

void crdt__sync_round_free(crdt_sync *s) {
  const crdt_allocator *m = &s->obj->mem;
  crdt__cold_free(&s->cold, m);
  s->mode = CRDT__ROUND_NONE;
  s->in_done = s->out_done = s->completed = false;
  s->need_sent = s->cells_due = 0;
}

uint64_t crdt__sync_origin(const crdt_sync *s) {
  if (s->have_peer && s->peer.jid) return s->peer.jid;
  return s->rec_valid ? s->rec_jid : 0;
}

void crdt__sync_pin(crdt_sync *s) {
  if (!s->j) return;
  crdt__jpin *p = &s->pin;
  p->id = s->j->id;
  p->sid = crdt__sync_origin(s);
  p->valid = false;
  bool round = s->my_hello && !(s->in_done && s->out_done);
  if (round && s->mine.jid == s->j->id) {
    /* while the round lasts, whatever the HELLO offered */
    p->pos = s->mode == CRDT__ROUND_NONE ? s->mine.oldest
             : s->mode == CRDT__ROUND_WARM ? s->sent
                                            : s->mine.pos;
    p->valid = true;
  } else if (!round && s->ack_valid && s->ack_jid == s->j->id) {
    p->pos = s->sent;
    p->valid = true;
  }
  crdt__journal_trim(s->j, &s->obj->mem);
}

void crdt__sync_complete(crdt_sync *s) {
  if (s->completed) return;
  s->completed = true;
  if (s->j) {
    s->ack_valid = s->mine.jid == s->j->id;
    s->ack_jid = s->mine.jid;
    if (s->mode != CRDT__ROUND_WARM || s->sent < s->mine.pos)
      s->sent = s->mine.pos;
    s->ack_pos = s->sent;
  } else {
    s->digest_done = s->ops->digest(s->obj);
  }
  crdt__sync_pin(s);
}

/* Rounds use at least this many cells, and at most MAX_FIRST at first. */
#define CELLS_MIN 1
#define CELLS_SLACK 8

/* The cold round's shape, decided from the two HELLOs alone, so both
 * sides decide alike: sketch or FULL, and the sketch's first size. */
static int cold_setup(crdt_sync *s) {
  crdt__cold *k = &s->cold;
  const crdt_allocator *m = &s->obj->mem;
  k->mine = &s->mine.ctx;
  k->peer = &s->peer.ctx;
  k->chunks_total = UINT32_MAX;
  if (!s->ops->dotted) return 0;
  bool sketchable;
  int rc = crdt__sd_common(k, m, &sketchable);
  if (rc) return rc;
  /* Removals either side may have made that the other has not seen:
   * events the other's context lacks, of which at most the dead ones. */
  const uint64_t size_m = crdt__sctx_size(&s->mine.ctx),
                 size_p = crdt__sctx_size(&s->peer.ctx);
  const uint64_t dead_m = size_m > s->mine.live ? size_m - s->mine.live : 0,
                 dead_p = size_p > s->peer.live ? size_p - s->peer.live : 0;
  uint64_t u_m = crdt__sctx_minus(&s->mine.ctx, &s->peer.ctx),
           u_p = crdt__sctx_minus(&s->peer.ctx, &s->mine.ctx);
  uint64_t est = (u_m < dead_m ? u_m : dead_m) + (u_p < dead_p ? u_p : dead_p);
  /* the sketch costs ~20 bytes per difference; past a third of the
   * states (an element costs about 10), whole states are cheaper */
  const uint64_t live = s->mine.live + s->peer.live;
  const uint8_t flags = s->mine.flags | s->peer.flags;
  k->sketch = sketchable && !(flags & CRDT__HELLO_FULL) &&
              est <= live / 6 + 64 &&
              est * 3 / 2 + CELLS_SLACK < CRDT__RIBLT_MAX_CELLS / 4;
  if (!k->sketch) return 0;
  /* Room for 4 times the estimate, the same on both sides; what this side
   * sends first is set after the plan (which counts its own removals
   * exactly) */
  k->m_first = est ? (uint32_t)(est * 3 / 2) + CELLS_SLACK : CELLS_MIN;
  k->m_store = 4 * k->m_first + 64;
  k->peer_est = u_p < dead_p ? u_p : dead_p;
  k->cells = crdt__calloc(m, k->m_store, sizeof *k->cells);
  k->peer_cells = crdt__calloc(m, k->m_store, sizeof *k->peer_cells);
  if (!k->cells || !k->peer_cells) return CRDT_ENOMEM;
  return 0;
}

int crdt__sync_establish(crdt_sync *s) {
  if (!s->my_hello || !s->have_peer || s->hello_due) return 0;
  if (s->mode != CRDT__ROUND_NONE) return 0;
  /* a HELLO that asked for an answer pairs only with the answer */
  if ((s->mine.flags & CRDT__HELLO_WANT_REPLY) && s->peer_answers != s->my_hello)
    return 0;
  const crdt__hello *me = &s->mine, *p = &s->peer;
  const bool dotted = s->ops->dotted;
  int rc = 0;
  if (me->digest == p->digest && crdt__sctx_equal(&me->ctx, &p->ctx)) {
    s->mode = CRDT__ROUND_EQUAL;
    s->in_done = s->out_done = true;
    if (dotted) { /* each holds the other's state as of its HELLO */
      s->rec_valid = true;
      s->rec_jid = p->jid;
      s->rec_pos = p->pos;
    }
  } else {
    const bool warm_out = dotted && p->ack && p->ack_jid == me->jid &&
                          me->oldest <= p->ack_pos && p->ack_pos <= me->pos;
    const bool warm_in = dotted && me->ack && me->ack_jid == p->jid &&
                         p->oldest <= me->ack_pos && me->ack_pos <= p->pos;
    const bool cold = (me->flags | p->flags) & CRDT__HELLO_COLD;
    if (warm_out && warm_in && !cold &&
        crdt__journal_reach(s->j, crdt__sync_origin(s)) > p->ack_pos) {
      /* the journal no longer reaches back as far as this side's HELLO
       * said (it should not happen): a new round, cold */
      s->hello_due = true;
      s->next_flags |= CRDT__HELLO_COLD;
      return 0;
    }
    if (warm_out && warm_in && !cold) {
      s->mode = CRDT__ROUND_WARM;
      if (!s->optimistic || s->optimistic_from > p->ack_pos)
        s->sent = p->ack_pos; /* the optimistic delta (if any) was refused */
      s->out_done = s->sent >= me->pos;
      s->in_done = s->rec_valid && s->rec_jid == p->jid && s->rec_pos >= p->pos;
    } else {
      s->mode = CRDT__ROUND_COLD;
      s->stats.cold_rounds++;
      if ((rc = cold_setup(s)) == 0 && !s->cold.sketch && dotted)
        s->stats.full_rounds++;
      if (!rc) {
        rc = s->ops->plan(&s->cold, s->obj);
        s->cold.planned = true;
      }
      if (!rc && s->cold.sketch) {
        /* This side's removals the peer lacks are its dead dots exactly;
         * the peer's, at most its estimate (which counts its new live dots
         * too). Cells for both, the peer's share capped at this side's
         * own: then the side with more removals sends enough for the other
         * to decode the whole difference (the other decodes, or asks for
         * more), and new elements at the peer do not inflate this side's
         * cells. */
        crdt__cold *k = &s->cold;
        const uint64_t peer = k->peer_est < k->ndead ? k->peer_est : k->ndead;
        uint64_t want = (k->ndead + peer) * 3 / 2 + CELLS_SLACK;
        if (!k->ndead && !k->peer_est) want = CELLS_MIN;
        k->m_first = want < k->m_store ? (uint32_t)want : k->m_store;
      }
      if (rc) {
        crdt__sync_round_free(s);
        return rc;
      }
    }
  }
  s->stats.rounds++;
  if (s->in_done && s->out_done) crdt__sync_complete(s);
  crdt__sync_pin(s);
  return 0;
}

/* ---- applying a change ------------------------------------------------------ */

/* Joins ch into the object, recording it in the journal (not keyed when
 * it holds context no key of it explains; `break_journal`: too big to
 * keep, the journal starts over instead). Atomic. */
static int apply(crdt_sync *s, crdt__change *ch, bool break_journal,
                 size_t bytes) {
  crdt_object *o = s->obj;
  const crdt_allocator *m = &o->mem;
  if (!ch->any) return 0;
  if (!s->ops->dotted) {
    int rc = o->type->merge(o, ch->plain);
    return rc;
  }
  crdt__causal *c = &crdt__dotted_of(o)->c;
  crdt__jstage st;
  if (break_journal) crdt__journal_break(s->j, m);
  int rc = crdt__journal_stage(s->j, m, &ch->d, crdt__sync_origin(s),
                               ch->record_unkeyed || !ch->d.keyed, &st);
  if (rc) return rc;
  const bool sums = s->j->digest_valid && ch->d.keyed;
  uint64_t digest = 0, live = 0;
  if (sums) crdt__digest_join(c, &ch->d, &digest, &live);
  if ((rc = crdt__causal_join(c, m, &ch->d))) {
    crdt__journal_abort(s->j, m, &st);
    return rc;
  }
  crdt__journal_commit(s->j, m, &st, crdt__sync_origin(s), bytes);
  s->j->merges++;
  s->own_applies++;
  if (sums) {
    crdt__journal_digest_add(s->j, digest, live);
  } else {
    crdt__journal_digest_forget(s->j);
  }
  return 0;
}

/* A cold round's final step adding more unseen dots than this keeps no
 * journal record (it would hold them all): the journal breaks instead. */
#define RECORD_CONTEXT_MAX 65536

/* ---- receive -------------------------------------------------------------- */

/* What a message does to the round, worked out before anything is applied
 * and committed only after the object change succeeded. */
typedef struct plan {
  uint32_t peer_n; /* cells received */
  uint32_t peer_target;
  uint32_t nruns;  /* LIVE runs received */
  bool decoded, drops_in, live_part, live_done, chunk, end, final, restart;
  uint32_t unpend; /* kept chunks applied now */
  uint8_t *keep;   /* this message's chunk, copied to be kept */
  size_t keep_len;
  crdt__riblt_diff diff;
} plan;

static bool cells_wanted(const crdt_sync *s) {
  return s->cold.sketch && !s->cold.decoded && !s->cold.drops_received;
}

/* Tries to decode the sketch with the first n cells of each side. */
static int try_decode(crdt_sync *s, uint32_t n, plan *pl) {
  const crdt_allocator *m = &s->obj->mem;
  crdt__cold *k = &s->cold;
  crdt__rcell *w = crdt__alloc(m, crdt__mul(n, sizeof *w));
  if (!w) return CRDT_ENOMEM;
  memcpy(w, k->peer_cells, n * sizeof *w);
  crdt__riblt_subtract(w, k->cells, n);
  /* peer minus mine: +1 items are live only at the peer (this side has
   * them dead: the peer drops them), -1 only here (this side drops) */
  int rc = crdt__riblt_decode(w, n, m, &pl->diff);
  crdt__free(m, w, n * sizeof *w);
  if (rc < 0) return rc;
  if (rc == 0)
    pl->decoded = true;
  else
    crdt__riblt_diff_free(&pl->diff, m);
  return 0;
}

/* The items of a DROPS section. */
static int drops_items(const crdt__msg *msg, const crdt_allocator *m,
                       uint64_t **out) {
  *out = NULL;
  if (!msg->ndrops) return 0;
  uint64_t *items = crdt__alloc(m, crdt__mul(msg->ndrops, sizeof *items));
  if (!items) return CRDT_ENOMEM;
  crdt__rbuf r = msg->drops;
  for (uint32_t i = 0; i < msg->ndrops; i++) {
    uint64_t rank, counter;
    (void)crdt__r_varint(&r, &rank); /* checked by the parser */
    (void)crdt__r_varint(&r, &counter);
    items[i] = crdt__sd_item((uint32_t)rank, counter);
  }
  *out = items;
  return 0;
}

/* The round sections of msg, into ch. */
static int round_sections(crdt_sync *s, const crdt__msg *msg, plan *pl,
                          crdt__change *ch) {
  crdt__cold *k = &s->cold;
  const crdt_allocator *m = &s->obj->mem;
  int rc = 0;
  pl->peer_n = k->peer_n;
  pl->peer_target = k->peer_target;
  if (s->ops->dotted && s->j->merges != s->merges_h + s->own_applies) {
    /* Something else merged into the object since this side's HELLO: it
     * may hold dots the peer's snapshot has seen die, which the peer's
     * chunks assume it does not. Start over with fresh snapshots. */
    pl->restart = true;
    return 0;
  }
  if (msg->has[CRDT__SEC_CELLS] && cells_wanted(s) &&
      msg->cells_start <= k->peer_n && msg->cells_start < k->m_store) {
    crdt__rbuf r = msg->cells;
    uint32_t end = msg->cells_start + msg->cells_n;
    if (end > k->m_store) end = k->m_store;
    /* written in place: cells past peer_n mean nothing until committed,
     * and a retry writes the same */
    for (uint32_t i = msg->cells_start; i < end; i++)
      (void)crdt__cell_get(&r, &k->peer_cells[i]);
    if (end > pl->peer_n) pl->peer_n = end;
    if (msg->cells_target > pl->peer_target) pl->peer_target = msg->cells_target;
    if (pl->peer_n > k->tried && pl->peer_n >= pl->peer_target &&
        (rc = try_decode(s, pl->peer_n, pl)))
      return rc;
    if (pl->decoded && (rc = crdt__sd_drops(k, s->obj, pl->diff.theirs,
                                            pl->diff.ntheirs, ch)))
      return rc;
  }
  if (msg->has[CRDT__SEC_DROPS] && cells_wanted(s) && !pl->decoded) {
    uint64_t *items;
    if ((rc = drops_items(msg, m, &items))) return rc;
    rc = crdt__sd_drops(k, s->obj, items, msg->ndrops, ch);
    crdt__free(m, items, msg->ndrops * sizeof *items);
    if (rc) return rc;
    pl->drops_in = true;
  }
  pl->nruns = k->nruns;
  if (msg->has[CRDT__SEC_LIVE] && s->ops->dotted && !k->sketch &&
      !k->live_in_done && msg->live_no == k->live_parts_in) {
    crdt__rbuf r = msg->live;
    if ((rc = crdt__sd_get_live(k, m, &r, &pl->nruns))) return rc;
    pl->live_part = true;
    if (msg->live_last) {
      /* every live dot of the peer inside both snapshots is known: this
       * side's others there are dead at the peer */
      const uint32_t before = k->nruns;
      k->nruns = pl->nruns;
      rc = crdt__sd_live_drops(k, s->obj, ch);
      k->nruns = before;
      if (rc) return rc;
      pl->live_done = true;
    }
  }
  /* Entries only once this side's removals inside both snapshots are
   * known: a sender sends them after what resolves them, so in order
   * they come after it; out of order they wait for a new round. */
  const bool resolved = !s->ops->dotted ||
                        (k->sketch ? k->decoded || k->drops_received ||
                                         pl->decoded || pl->drops_in
                                   : k->live_in_done || pl->live_done);
  const bool next_chunk = msg->has[CRDT__SEC_CHUNK] &&
                          msg->chunk_no == k->chunks_in + k->npend &&
                          msg->chunk_no < k->chunks_total;
  if (resolved && (k->npend || next_chunk)) {
    /* the kept chunks first, then this one: in the sender's order */
    k->changed_since = s->ops->dotted &&
                       (s->j->id != s->mine.jid ||
                        crdt__journal_pending(s->j, s->mine.pos, s->j->pos,
                                              crdt__sync_origin(s)));
    for (uint32_t i = 0; i < k->npend; i++) {
      crdt__rbuf body = {k->pend[i].body, k->pend[i].body + k->pend[i].len};
      if ((rc = s->ops->apply_chunk(k, s->obj, &body, ch))) return rc;
    }
    pl->unpend = k->npend;
    if (next_chunk) {
      crdt__rbuf body = msg->chunk_body;
      if ((rc = s->ops->apply_chunk(k, s->obj, &body, ch))) return rc;
      pl->chunk = true;
    }
  } else if (next_chunk) {
    /* sent ahead of what resolves this side's removals: kept for then */
    const size_t n = (size_t)(msg->chunk_body.end - msg->chunk_body.p);
    if (k->pend_bytes + n <= CRDT__PENDING_MAX) {
      /* checked now (applied to a scratch change), so that a bad chunk is
       * an error of its own message, not of the one that resolves */
      crdt__change scratch;
      memset(&scratch, 0, sizeof scratch);
      scratch.d.keyed = true;
      crdt__rbuf body = msg->chunk_body;
      rc = s->ops->apply_chunk(k, s->obj, &body, &scratch);
      crdt__change_free(&scratch, m);
      if (rc) return rc;
      if ((rc = crdt__sync_grow(m, &k->pend, &k->pend_cap, k->npend + 1,
                                sizeof *k->pend, 8)))
        return rc;
      if (!(pl->keep = crdt__alloc(m, n))) return CRDT_ENOMEM;
      if (n) memcpy(pl->keep, msg->chunk_body.p, n);
      pl->keep_len = n;
    }
  }
  if (msg->has[CRDT__SEC_END] && k->chunks_total == UINT32_MAX &&
      msg->end_total >= k->chunks_in + k->npend + (pl->keep != NULL))
    pl->end = true;
  return 0;
}

/* Does this message complete the peer-to-this-side direction of the cold
 * round? Then the final context join goes into ch (crdt__sd_final). */
static void cold_finish(crdt_sync *s, const crdt__msg *msg, plan *pl) {
  const crdt__cold *k = &s->cold;
  const uint32_t chunks = k->chunks_in + pl->unpend + pl->chunk;
  const uint32_t total = pl->end ? msg->end_total : k->chunks_total;
  const bool resolved = !s->ops->dotted ||
                        (k->sketch ? k->decoded || k->drops_received ||
                                         pl->decoded || pl->drops_in
                                   : k->live_in_done || pl->live_done);
  if (!pl->restart && chunks == total && resolved) pl->final = true;
}

/* Takes the peer's HELLO carried by msg; a newer one restarts the round. */
static void take_hello(crdt_sync *s, crdt__msg *msg) {
  const crdt_allocator *m = &s->obj->mem;
  const bool wants = msg->h.flags & CRDT__HELLO_WANT_REPLY;
  /* Both sides started a round at once: each HELLO asks for an answer and
   * neither had seen the other's. Both are fresh: they pair as they are,
   * and neither answers (both sides see the same, so both decide alike). */
  const bool crossing = wants && msg->to == s->sid && s->my_hello &&
                        !s->hello_due &&
                        (s->mine.flags & CRDT__HELLO_WANT_REPLY) &&
                        s->peer_answers != s->my_hello &&
                        msg->answers != s->my_hello;
  /* A new peer session (the peer restarted or lost its session) has not
   * seen this side's HELLO, unless its message answers it. */
  const bool answers_mine =
      s->my_hello && msg->to == s->sid && msg->answers == s->my_hello;
  const bool reply = (wants && !crossing) ||
                     (s->peer_sid && msg->sid != s->peer_sid && !answers_mine);
  crdt__hello_free(&s->peer, m);
  s->peer = msg->h;
  memset(&msg->h, 0, sizeof msg->h);
  s->have_peer = true;
  s->peer_sid = msg->sid;
  s->peer_hello = msg->hello;
  /* an answer to a HELLO of this incarnation, or to none */
  s->peer_answers = crossing ? s->my_hello
                    : msg->to == s->sid ? msg->answers
                                        : 0;
  crdt__sync_round_free(s);
  if (reply) s->hello_due = s->reply_due = true; /* plain: asks for none */
}

int crdt_sync_receive(crdt_sync *s, const void *data, size_t len) {
  if (!s || (!data && len)) return CRDT_EINVAL;
  const crdt_allocator *m = &s->obj->mem;
  crdt__msg msg;
  int rc = crdt__msg_parse(data, len, m, &msg);
  if (rc) return rc;
  if (msg.type != s->obj->type->tag) {
    crdt__msg_free(&msg, m);
    return CRDT_ETYPE;
  }
  plan pl;
  memset(&pl, 0, sizeof pl);
  crdt__change ch;
  memset(&ch, 0, sizeof ch);
  ch.d.keyed = true;
  bool broken = false, delta = false;

  const bool same_peer = s->have_peer && msg.sid == s->peer_sid;
  if (msg.has[CRDT__SEC_HELLO] && !(same_peer && msg.hello <= s->peer_hello)) {
    /* A newer HELLO: the session takes it now (a retry of this message
     * after an error finds it taken and goes on with the rest). */
    take_hello(s, &msg);
  }
  if (s->mode == CRDT__ROUND_NONE && (rc = crdt__sync_establish(s)))
    goto done;

  /* A journal delta applies when it starts at or before what this side
   * has of that journal and brings something new: Algorithm 2's causal
   * delta-merging condition. */
  if (msg.has[CRDT__SEC_DELTA] && s->ops->dotted && s->rec_valid &&
      msg.delta_jid == s->rec_jid && msg.delta_from <= s->rec_pos &&
      msg.delta_to > s->rec_pos) {
    crdt__rbuf body = msg.delta_body;
    rc = s->ops->get_delta(&body, m, &ch.d, msg.delta_keyed);
    if (!rc && crdt__r_left(&body)) rc = CRDT_ETRAILING;
    if (rc) goto done;
    ch.any = true;
    delta = true;
  }

  /* Round sections belong to the round (my HELLO, the peer's HELLO). */
  const bool round = s->have_peer && msg.sid == s->peer_sid &&
                     msg.to == s->sid && msg.hello == s->peer_hello &&
                     msg.answers == s->my_hello &&
                     s->mode == CRDT__ROUND_COLD && !s->cold.final_done;
  if (round) {
    if ((rc = round_sections(s, &msg, &pl, &ch))) goto done;
    cold_finish(s, &msg, &pl);
    if (pl.final && s->ops->dotted) {
      uint64_t added;
      if ((rc = crdt__sd_final(&s->cold, s->obj, &ch, &added))) goto done;
      broken = added > RECORD_CONTEXT_MAX &&
               crdt__journal_wanted(s->j, crdt__sync_origin(s));
    }
  }

  if ((rc = apply(s, &ch, broken, len))) goto done;

  /* ---- commit: nothing below fails ---- */
  s->stats.bytes_received += len;
  s->stats.messages_received++;
  if (delta) s->rec_pos = msg.delta_to;
  if (round) {
    crdt__cold *k = &s->cold;
    if (pl.peer_n > k->peer_n) k->peer_n = pl.peer_n;
    k->peer_target = pl.peer_target;
    if (k->peer_n > k->tried && k->peer_n >= k->peer_target) k->tried = k->peer_n;
    if (pl.decoded) {
      k->decoded = true;
      k->diff = pl.diff;
      memset(&pl.diff, 0, sizeof pl.diff);
    }
    if (pl.drops_in) k->drops_received = true;
    if (pl.live_part) {
      k->nruns = pl.nruns;
      k->live_parts_in++;
    }
    if (pl.live_done) k->live_in_done = true;
    if (msg.has[CRDT__SEC_NEED] && k->sketch && msg.need > s->cells_due)
      s->cells_due = msg.need < k->m_store ? (uint32_t)msg.need : k->m_store;
    if (pl.unpend) { /* all of them were applied */
      for (uint32_t i = 0; i < k->npend; i++)
        crdt__free(m, k->pend[i].body, k->pend[i].len);
      k->chunks_in += k->npend;
      k->npend = 0;
      k->pend_bytes = 0;
    }
    if (pl.chunk) k->chunks_in++;
    if (pl.keep) { /* room was reserved */
      k->pend[k->npend].body = pl.keep;
      k->pend[k->npend++].len = pl.keep_len;
      k->pend_bytes += pl.keep_len;
      pl.keep = NULL;
    }
    if (pl.end) k->chunks_total = msg.end_total;
    if (pl.final) {
      k->final_done = true;
      s->in_done = true;
      if (s->ops->dotted) {
        s->rec_valid = true;
        s->rec_jid = s->peer.jid;
        s->rec_pos = s->peer.pos;
      }
    }
    if (pl.restart) {
      crdt__sync_round_free(s);
      s->hello_due = true;
    }
  }
  if (s->mode == CRDT__ROUND_WARM && s->rec_valid &&
      s->rec_jid == s->peer.jid && s->rec_pos >= s->peer.pos)
    s->in_done = true;
  if (s->mode != CRDT__ROUND_NONE && s->in_done && s->out_done)
    crdt__sync_complete(s);
  crdt__sync_pin(s);
done:
  crdt__msg_free(&msg, m);
  crdt__change_free(&ch, m);
  crdt__riblt_diff_free(&pl.diff, m);
  crdt__free(m, pl.keep, pl.keep_len);
  return rc;
}

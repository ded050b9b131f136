/*
 * Sync sessions: the public API and producing messages (see sync.h,
 * syncops.h; receiving and rounds are in sync_recv.c).
 *
 * Producing never changes the object. What a message commits the session
 * to (cursors, cells sent, the HELLO taken) is committed only once the
 * whole message is built; a HELLO, once taken, goes out with the next
 * produce that succeeds.
 */
#include <string.h>

#include "dotted.h"
#include "sync_session.h"

/* Bytes a message needs besides its sections: frame header, body length,
 * checksum, type, sid, HELLO numbers. */
#define OVERHEAD 48
/* Bytes of a section's kind and length, and of the fixed fields of a
 * DELTA or CHUNK section. */
#define SECTION_OVERHEAD 32

int crdt_sync_new(crdt_object *obj, crdt_sync **out) {
  if (!obj || !out) return CRDT_EINVAL;
  const crdt__sync_ops *ops = crdt__sync_ops_of(obj->type);
  if (!ops) return CRDT_ENOTSUP;
  crdt_sync *s = crdt__calloc(&obj->mem, 1, sizeof *s);
  if (!s) return CRDT_ENOMEM;
  s->obj = obj;
  s->ops = ops;
  s->sid = crdt__sync_random();
  s->pin.sid = s->sid;
  s->cold.chunks_total = UINT32_MAX;
  if (ops->dotted) {
    int rc = crdt__journal_attach(obj, &s->pin, &s->j);
    if (rc) {
      crdt__free(&obj->mem, s, sizeof *s);
      return rc;
    }
  }
  *out = s;
  return 0;
}

void crdt_sync_free(crdt_sync *s) {
  if (!s) return;
  const crdt_allocator m = s->obj->mem;
  crdt__sync_round_free(s);
  crdt__hello_free(&s->mine, &m);
  crdt__hello_free(&s->peer, &m);
  if (s->j) crdt__journal_detach(s->obj, &s->pin);
  crdt__free(&m, s, sizeof *s);
}

int crdt_sync_get_stats(const crdt_sync *s, crdt_sync_stats *out) {
  if (!s || !out) return CRDT_EINVAL;
  *out = s->stats;
  return 0;
}

int crdt_sync_restart(crdt_sync *s) {
  if (!s) return CRDT_EINVAL;
  s->hello_due = true;
  return 0;
}

/* After a finished round: is there something local the peer lacks that a
 * push cannot carry (so a new round must start)? */
static bool needs_round(crdt_sync *s) {
  if (!s->completed) return false;
  if (!s->j) return s->ops->digest(s->obj) != s->digest_done;
  if (!s->ack_valid || s->ack_jid != s->j->id) return true; /* broken */
  return crdt__journal_pending(s->j, s->sent, s->j->pos, crdt__sync_origin(s)) &&
         crdt__journal_reach(s->j, crdt__sync_origin(s)) > s->sent;
}

bool crdt_sync_in_sync(const crdt_sync *s) {
  if (!s || !s->completed || s->hello_due || s->hello_unsent) return false;
  if (!s->j) return s->ops->digest(s->obj) == s->digest_done;
  return s->ack_valid && s->ack_jid == s->j->id &&
         !crdt__journal_pending(s->j, s->sent, s->j->pos, crdt__sync_origin(s));
}

/* ---- the HELLO ---------------------------------------------------------- */

/* Takes this side's snapshot for a new HELLO and starts the round
 * (my new HELLO, the peer's current one). */
static int take_hello(crdt_sync *s) {
  const crdt_allocator *m = &s->obj->mem;
  crdt__hello h;
  memset(&h, 0, sizeof h);
  int rc = s->ops->summary(s->obj, &h.ctx);
  if (rc) return rc;
  /* A new round (not the first, not an answer) asks for the peer's answer
   * and waits for it: both snapshots of a round are then fresh. */
  h.flags = s->next_flags;
  if (s->my_hello && !s->reply_due) h.flags |= CRDT__HELLO_WANT_REPLY;
  if ((h.flags & CRDT__HELLO_FULL)) h.flags |= CRDT__HELLO_COLD;
  h.digest = s->ops->digest(s->obj);
  h.live = s->ops->live(s->obj);
  if (s->j) {
    h.jid = s->j->id;
    h.pos = crdt__journal_mark(s->j);
    h.oldest = crdt__journal_reach(s->j, crdt__sync_origin(s));
    h.ack = s->rec_valid;
    h.ack_jid = s->rec_jid;
    h.ack_pos = s->rec_pos;
  }
  crdt__sync_round_free(s);
  crdt__hello_free(&s->mine, m);
  s->mine = h;
  s->my_hello++;
  s->hello_due = s->reply_due = false;
  s->hello_unsent = true;
  s->next_flags = 0;
  s->optimistic = false;
  s->own_applies = 0;
  s->merges_h = s->j ? s->j->merges : 0;
  crdt__sync_pin(s);
  return 0;
}

/* ---- sections -------------------------------------------------------------- */

/* What a message will commit. */
typedef struct outbox {
  bool hello;
  bool optimistic;
  uint64_t optimistic_from;
  bool delta;
  uint64_t delta_end;
  uint32_t cells_to;
  bool drops, need;
  uint32_t need_to;
  uint32_t keys_used;
  bool chunk, end;
  size_t spec; /* chunk bytes sent before the peer can resolve */
  uint32_t live_n;
  bool live, live_last;
  bool new_round; /* the journal cannot carry a push: start a round */
  bool force_cold;
} outbox;

/* A DELTA of this side's journal from `from` towards `to`, within budget.
 * A segment too big for any message: *too_big. */
static int put_delta(crdt_sync *s, crdt__wbuf *w, uint64_t from, uint64_t to,
                     size_t budget, uint64_t *end, bool *too_big) {
  const crdt_allocator *m = &s->obj->mem;
  *too_big = false;
  for (size_t b = budget;; b /= 2) {
    crdt__causal d = {0};
    d.keyed = true;
    int rc = crdt__journal_collect(s->j, m, from, to, crdt__sync_origin(s), b,
                                   &d, end);
    if (rc || *end == from) {
      crdt__causal_free(&d, m);
      return rc;
    }
    const size_t start = w->len;
    size_t at = crdt__sec_begin(w, CRDT__SEC_DELTA);
    crdt__w_u64(w, s->j->id);
    crdt__w_varint(w, from);
    crdt__w_varint(w, *end);
    crdt__w_varint(w, d.keyed);
    s->ops->put_delta(w, &d);
    crdt__sec_end(w, at);
    crdt__causal_free(&d, m);
    if (w->err) return w->err;
    if (w->len - start <= budget + SECTION_OVERHEAD) return 0;
    w->len = start;
    if (b < 64) { /* one segment is larger than the message */
      *too_big = true;
      *end = from;
      return 0;
    }
  }
}

/* Cells [from, target) as far as the budget goes; the section announces
 * the target, so the peer tries to decode once it has them all. */
static void put_cells(crdt_sync *s, crdt__wbuf *w, uint32_t from,
                      uint32_t target, size_t budget, uint32_t *sent_to) {
  const crdt__rcell *c = s->cold.cells;
  size_t n = budget / 17;
  uint32_t to = target - from > n ? from + (uint32_t)n : target;
  *sent_to = from;
  if (to <= from) return;
  size_t at = crdt__sec_begin(w, CRDT__SEC_CELLS);
  crdt__w_varint(w, from);
  crdt__w_varint(w, target);
  crdt__w_varint(w, to - from);
  for (uint32_t i = from; i < to; i++) crdt__cell_put(w, &c[i]);
  crdt__sec_end(w, at);
  *sent_to = to;
}

/* The dots the peer must drop (decoded here: live only at the peer), as
 * (rank, counter) in ascending order. */
static void put_drops(crdt_sync *s, crdt__wbuf *w) {
  const crdt__riblt_diff *d = &s->cold.diff;
  size_t at = crdt__sec_begin(w, CRDT__SEC_DROPS);
  crdt__w_varint(w, d->nmine);
  for (uint32_t i = 0; i < d->nmine; i++) {
    crdt__w_varint(w, d->mine[i] >> 48);
    crdt__w_varint(w, d->mine[i] & ((UINT64_C(1) << 48) - 1));
  }
  crdt__sec_end(w, at);
}

static size_t room(const crdt__wbuf *w, size_t cap) {
  size_t used = w->len + OVERHEAD;
  return cap > used ? cap - used : 0;
}

/* Has the peer everything it needs to resolve its removals inside both
 * snapshots, sent before what this message adds now? Then DEAD and entries
 * may follow: the peer applies them at once. */
static bool released(const crdt_sync *s, const outbox *o) {
  const crdt__cold *k = &s->cold;
  if (!s->ops->dotted) return true;
  if (!k->sketch)
    return o->live_last || (k->live_parts_sent && k->live_sent >= k->nlive);
  const uint32_t cells = o->cells_to > k->sent_cells ? o->cells_to : k->sent_cells;
  return k->drops_received || k->drops_sent || o->drops ||
         (k->decoded && cells >= k->tried);
}

/* The cold round's sections for this message. */
static int cold_sections(crdt_sync *s, crdt__wbuf *w, size_t cap, outbox *o) {
  crdt__cold *k = &s->cold;
  int rc = 0;
  if (s->ops->dotted && k->sketch) {
    if (k->decoded && k->sent_cells < k->tried && !k->drops_sent &&
        !k->drops_received) {
      put_drops(s, w);
      o->drops = true;
    } else if (!k->decoded && !k->drops_received) {
      uint32_t target = k->m_first > s->cells_due ? k->m_first : s->cells_due;
      if (target > k->m_store) target = k->m_store;
      if (k->sent_cells < target)
        put_cells(s, w, k->sent_cells, target, room(w, cap), &o->cells_to);
      /* all the peer sent was tried and failed: ask for more */
      if (k->tried == k->peer_n && k->peer_n && k->peer_n >= k->peer_target &&
          k->peer_n >= s->need_sent && k->peer_n < k->m_store) {
        uint32_t want = k->peer_n * 2 > k->m_store ? k->m_store : k->peer_n * 2;
        if (want > s->need_sent) {
          size_t at = crdt__sec_begin(w, CRDT__SEC_NEED);
          crdt__w_varint(w, want);
          crdt__sec_end(w, at);
          o->need = true;
          o->need_to = want;
        }
      } else if (k->tried && k->tried == k->m_store) {
        o->force_cold = true; /* the sketch failed: list live dots */
      }
    }
  } else if (s->ops->dotted &&
             (k->live_sent < k->nlive || !k->live_parts_sent)) {
    size_t budget = room(w, cap);
    budget = budget > SECTION_OVERHEAD ? budget - SECTION_OVERHEAD : 0;
    size_t at = crdt__sec_begin(w, CRDT__SEC_LIVE);
    crdt__w_varint(w, k->live_parts_sent);
    const size_t flag = w->len;
    crdt__w_u8(w, 0);
    crdt__sd_put_live(k, w, budget, &o->live_n);
    o->live = true;
    o->live_last = k->live_sent + o->live_n >= k->nlive;
    if (o->live_last && !w->err) w->data[flag] = 1;
    crdt__sec_end(w, at);
  }
  /* Before that, with a sketch, up to CRDT__SPECULATIVE_MAX bytes go
   * anyway, right behind the cells: the peer keeps them and applies them
   * when it resolves its removals, usually on the cells of the same
   * flight, which saves a round trip. */
  const bool ready = released(s, o);
  if (!ready && !(s->ops->dotted && k->sketch &&
                  k->spec_bytes < CRDT__SPECULATIVE_MAX))
    return 0;
  const size_t chunk_start = w->len;
  /* one chunk per message: a receive applies it in one join */
  while (!k->plan_sent_end && rc == 0) {
    size_t budget = room(w, cap);
    if (budget > SECTION_OVERHEAD) budget -= SECTION_OVERHEAD;
    const size_t start = w->len;
    size_t at = crdt__sec_begin(w, CRDT__SEC_CHUNK);
    crdt__w_varint(w, k->chunks_sent);
    const size_t body = w->len;
    uint32_t used = 0;
    const uint32_t next = k->next_key;
    k->next_key += o->keys_used; /* keys skipped so far in this message */
    rc = s->ops->put_chunk(k, s->obj, w, budget, &used);
    k->next_key = next;
    if (rc == CRDT_ENOSPC && start > OVERHEAD) { /* next message */
      w->len = start;
      w->err = 0;
      return 0;
    }
    if (rc) return rc;
    if (w->len == body) {
      w->len = start; /* nothing written */
      if (!used) {     /* the plan is exhausted */
        size_t e = crdt__sec_begin(w, CRDT__SEC_END);
        crdt__w_varint(w, k->chunks_sent + o->chunk);
        crdt__sec_end(w, e);
        o->end = true;
        break;
      }
      o->keys_used += used; /* keys gone since the plan: skip them */
      continue;
    }
    crdt__sec_end(w, at);
    o->keys_used += used;
    o->chunk = true;
    if (!ready) o->spec = w->len - chunk_start;
    /* the END goes along when the plan ran out and there is room */
    if (k->next_key + o->keys_used >= crdt__cold_items(k) &&
        room(w, cap) > 16) {
      size_t e = crdt__sec_begin(w, CRDT__SEC_END);
      crdt__w_varint(w, k->chunks_sent + 1);
      crdt__sec_end(w, e);
      o->end = true;
    }
    break;
  }
  return 0;
}

/* Commits what the message carried. */
static void commit(crdt_sync *s, const outbox *o) {
  crdt__cold *k = &s->cold;
  if (o->hello) s->hello_unsent = false;
  if (o->optimistic) {
    s->optimistic = true;
    s->optimistic_from = o->optimistic_from;
    s->sent = o->delta_end;
  } else if (o->delta) {
    s->sent = o->delta_end;
  }
  if (o->cells_to > k->sent_cells) k->sent_cells = o->cells_to;
  if (o->live) {
    k->live_sent += o->live_n;
    k->live_parts_sent++;
  }
  if (o->drops) k->drops_sent = true;
  if (o->need) s->need_sent = o->need_to;
  k->next_key += o->keys_used;
  if (o->chunk) k->chunks_sent++;
  k->spec_bytes += o->spec;
  if (o->end) k->plan_sent_end = true;
  if (o->new_round) s->hello_due = true;
  if (o->force_cold) {
    s->hello_due = true;
    s->next_flags |= CRDT__HELLO_FULL | CRDT__HELLO_COLD;
  }
  /* this side's direction of the round */
  if (s->mode == CRDT__ROUND_WARM && s->sent >= s->mine.pos) s->out_done = true;
  if (s->mode == CRDT__ROUND_COLD && k->plan_sent_end) s->out_done = true;
  if (s->mode != CRDT__ROUND_NONE && s->in_done && s->out_done)
    crdt__sync_complete(s);
  crdt__sync_pin(s);
}

int crdt_sync_produce(crdt_sync *s, void *buf, size_t cap, size_t *size) {
  if (!s || !size || (!buf && cap)) return CRDT_EINVAL;
  *size = 0;
  const crdt_allocator *m = &s->obj->mem;
  int rc = 0;
  if (needs_round(s)) s->hello_due = true;
  if ((!s->my_hello || s->hello_due) && (rc = take_hello(s))) return rc;
  if (s->mode == CRDT__ROUND_NONE && (rc = crdt__sync_establish(s))) return rc;

  outbox o;
  memset(&o, 0, sizeof o);
  crdt__wbuf w = crdt__wbuf_into(NULL, 0, m);
  crdt__frame_begin(&w, CRDT__TAG_SYNC, 0);
  crdt__w_varint(&w, s->obj->type->tag);
  crdt__w_u64(&w, s->sid);
  crdt__w_u64(&w, s->have_peer ? s->peer_sid : 0);
  crdt__w_varint(&w, s->my_hello);
  crdt__w_varint(&w, s->have_peer ? s->peer_hello : 0);
  const size_t header = w.len;
  if (s->hello_unsent) {
    size_t at = crdt__sec_begin(&w, CRDT__SEC_HELLO);
    crdt__hello_put(&w, &s->mine);
    crdt__sec_end(&w, at);
    o.hello = true;
  }
  bool too_big = false;
  if (s->j && !w.err) {
    const crdt__journal *j = s->j;
    if (o.hello && s->mode == CRDT__ROUND_NONE && s->ack_valid &&
        s->ack_jid == j->id && s->mine.oldest <= s->ack_pos &&
        s->ack_pos < s->mine.pos && !(s->mine.flags & CRDT__HELLO_COLD)) {
      /* the peer's answer is not known yet: send what it most likely
       * lacks, from the last position it had (optional: when it does not
       * fit, the round sends it) */
      rc = put_delta(s, &w, s->ack_pos, s->mine.pos, room(&w, cap),
                     &o.delta_end, &too_big);
      if (rc == CRDT_ENOENT) rc = 0; /* optional */
      o.optimistic = !rc && o.delta_end > s->ack_pos;
      o.optimistic_from = s->ack_pos;
      too_big = false;
    } else if (s->mode == CRDT__ROUND_WARM && !s->out_done) {
      /* the journal broke since the HELLO (a whole-state merge, memory):
       * what it offered is gone; a cold round instead */
      rc = s->mine.jid != j->id
               ? CRDT_ENOENT
               : put_delta(s, &w, s->sent, s->mine.pos, room(&w, cap),
                           &o.delta_end, &too_big);
      if (rc == CRDT_ENOENT) rc = 0, too_big = true;
      o.delta = !rc && o.delta_end > s->sent;
    } else if (s->completed && s->ack_valid && s->ack_jid == j->id &&
               crdt__journal_pending(j, s->sent, j->pos, crdt__sync_origin(s))) {
      /* a push: what changed here since the last message */
      crdt__journal_mark(s->j);
      rc = put_delta(s, &w, s->sent, j->pos, room(&w, cap), &o.delta_end,
                     &too_big);
      o.delta = !rc && o.delta_end > s->sent;
      if (rc == CRDT_ENOENT) rc = 0, o.new_round = true;
    }
    if (too_big) o.force_cold = true;
  }
  /* a journal delta never travels with a cold round's data (the next
   * message carries that) */
  if (!rc && !w.err && s->mode == CRDT__ROUND_COLD && !o.delta &&
      !o.optimistic)
    rc = cold_sections(s, &w, cap, &o);
  if (!rc) rc = w.err;
  if (rc) {
    crdt__wbuf_free(&w);
    return rc;
  }
  if (w.len == header) { /* nothing to say */
    crdt__wbuf_free(&w);
    commit(s, &o);
    return 0;
  }
  crdt__frame_end(&w);
  if ((rc = w.err) || w.len > cap) {
    if (!rc) {
      rc = CRDT_ENOSPC;
      *size = w.len;
    }
    crdt__wbuf_free(&w);
    return rc;
  }
  memcpy(buf, w.data, w.len);
  *size = w.len;
  crdt__wbuf_free(&w);
  s->stats.bytes_sent += *size;
  s->stats.messages_sent++;
  commit(s, &o);
  return 0;
}

/* ---- saving and restoring ------------------------------------------------- */

#define SAVED_REC 0x01
#define SAVED_ACK 0x02

int crdt_sync_save(const crdt_sync *s, void *buf, size_t cap, size_t *size) {
  if (!s || !size || (!buf && cap)) return CRDT_EINVAL;
  const crdt_allocator *m = &s->obj->mem;
  crdt__sctx now;
  memset(&now, 0, sizeof now);
  int rc = s->ops->summary(s->obj, &now);
  if (rc) return rc;
  const bool ack = s->ack_valid && s->j && s->ack_jid == s->j->id;
  crdt__wbuf w = crdt__wbuf_into(NULL, 0, m);
  crdt__frame_begin(&w, CRDT__TAG_SESSION, 0);
  crdt__w_varint(&w, s->obj->type->tag);
  crdt__w_u8(&w, (s->rec_valid ? SAVED_REC : 0) | (ack ? SAVED_ACK : 0));
  if (s->rec_valid) {
    crdt__w_u64(&w, s->rec_jid);
    crdt__w_varint(&w, s->rec_pos);
  }
  if (ack) {
    crdt__w_u64(&w, s->ack_jid);
    crdt__w_varint(&w, s->sent);
  }
  crdt__sctx_put(&w, &now);
  crdt__frame_end(&w);
  crdt__sctx_free(&now, m);
  rc = w.err;
  if (!rc) {
    *size = w.len;
    if (w.len > cap)
      rc = CRDT_ENOSPC;
    else
      memcpy(buf, w.data, w.len);
  }
  crdt__wbuf_free(&w);
  return rc;
}

int crdt_sync_restore(crdt_object *obj, const void *saved, size_t len,
                      crdt_sync **out) {
  if (!obj || !out || (!saved && len)) return CRDT_EINVAL;
  crdt__frame f;
  int rc = crdt__sync_frame(saved, len, CRDT__TAG_SESSION, &f);
  if (rc) return rc;
  crdt__rbuf *r = &f.body;
  uint64_t type, rec_jid = 0, rec_pos = 0, ack_jid = 0, ack_pos = 0;
  const uint8_t *flags;
  if ((rc = crdt__r_varint(r, &type)) || (rc = crdt__r_bytes(r, 1, &flags)))
    return rc;
  if (flags[0] & ~(SAVED_REC | SAVED_ACK)) return CRDT_EFORMAT;
  if ((flags[0] & SAVED_REC) &&
      ((rc = crdt__r_u64(r, &rec_jid)) || (rc = crdt__r_varint(r, &rec_pos))))
    return rc;
  if ((flags[0] & SAVED_ACK) &&
      ((rc = crdt__r_u64(r, &ack_jid)) || (rc = crdt__r_varint(r, &ack_pos))))
    return rc;
  if (((flags[0] & SAVED_REC) && !rec_jid) || ((flags[0] & SAVED_ACK) && !ack_jid))
    return CRDT_EFORMAT;
  if (type != (uint64_t)obj->type->tag) return CRDT_ETYPE;
  const crdt_allocator *m = &obj->mem;
  crdt__sctx then, now;
  memset(&now, 0, sizeof now);
  if ((rc = crdt__sctx_get(r, m, &then))) return rc;
  if (crdt__r_left(r)) {
    crdt__sctx_free(&then, m);
    return CRDT_ETRAILING;
  }
  crdt_sync *s;
  if ((rc = crdt_sync_new(obj, &s))) {
    crdt__sctx_free(&then, m);
    return rc;
  }
  if ((rc = s->ops->summary(obj, &now))) {
    crdt__sctx_free(&then, m);
    crdt_sync_free(s);
    return rc;
  }
  /* the object must still hold what the session says this side has: an
   * older copy of the state drops that history (the cold path repairs) */
  if ((flags[0] & SAVED_REC) && crdt__sctx_covers(&now, &then)) {
    s->rec_valid = true;
    s->rec_jid = rec_jid;
    s->rec_pos = rec_pos;
  }
  /* the peer's position in this side's journal: only while the journal
   * that position refers to is still there */
  if ((flags[0] & SAVED_ACK) && s->j && s->j->id == ack_jid &&
      crdt__journal_reach(s->j, crdt__sync_origin(s)) <= ack_pos &&
      ack_pos <= s->j->pos) {
    s->ack_valid = true;
    s->ack_jid = ack_jid;
    s->ack_pos = s->sent = ack_pos;
    crdt__sync_pin(s);
  }
  crdt__sctx_free(&then, m);
  crdt__sctx_free(&now, m);
  *out = s;
  return 0;
}

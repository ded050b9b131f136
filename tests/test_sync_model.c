/*
 * Sync sessions against the reference models (tests/support/model.h):
 * random histories over 3 to 5 replicas of every type, each pair of
 * replicas joined by a pair of sessions, with concurrent updates and
 * messages lost, duplicated and delivered out of order, sessions restarted,
 * saved and restored, or forgotten, replicas reloaded from their encoding
 * (their sessions saved first, or lost), and full-state merges meanwhile.
 *
 * After every message a replica receives, what its context says it has
 * seen (K) decides what the model expects: its live dots must be a subset
 * of the model's live dots of K ("never behind": a chunk never adds an
 * update whose removals it has not applied; an unfinished round may have
 * applied removals whose removing update is not in K yet, "ahead"), and
 * when they are equal the replica is checked against the model like after
 * any update (value, context, compare() with every other replica). At the
 * end every pair syncs until quiet: all replicas equal, equal to the model
 * of all events, and the final laws hold.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crdt/crdt.h"
#include "dotted.h"
#include "model.h"
#include "sync_session.h"
#include "vector.h"
#include "testutil.h"

static void fail_hook(const char *what) { fail_msg("%s", what); }

static const char *const IDS[MODEL_MAX_REPLICAS] = {"r3", "B", "long-replica",
                                                    "a", "r10"};

#define MAXQ 64

typedef struct msg {
  uint8_t *b;
  size_t n;
  model_set seen; /* the sender's seen events when it produced it (LWW) */
} msg;

typedef struct world {
  sim *s;
  unsigned n;
  crdt_sync *sess[MODEL_MAX_REPLICAS][MODEL_MAX_REPLICAS];
  msg q[MODEL_MAX_REPLICAS][MODEL_MAX_REPLICAS][MAXQ];
  unsigned nq[MODEL_MAX_REPLICAS][MODEL_MAX_REPLICAS];
  bool ahead[MODEL_MAX_REPLICAS];
  tu_rng g;
  unsigned long received, aheads, checks;
} world;

#define OK(x) assert_int_equal((x), 0)

static bool dotted(const world *w) {
  crdt_type t = w->s->m.type;
  return t == CRDT_TYPE_ORSET || t == CRDT_TYPE_MVREG || t == CRDT_TYPE_CART;
}

/* ---- the model's view of a library state ------------------------------- */

/* The event of dot (replica id, counter), or -1. */
static int event_of(const model *m, const char *id, uint64_t counter) {
  for (unsigned e = 0; e < m->nevents; e++)
    if (m->ev[e].counter == counter && strcmp(m->id[m->ev[e].replica], id) == 0)
      return (int)e;
  return -1;
}

/* K: the events whose dots the replica's context holds. */
static model_set context_events(const world *w, unsigned r) {
  const model *m = &w->s->m;
  model_set k;
  model_set_clear(&k);
  crdt_context *c;
  OK(crdt_object_context(w->s->rep[r], &c));
  for (unsigned e = 0; e < m->nevents; e++)
    if (crdt_context_has(c, m->id[m->ev[e].replica], m->ev[e].counter))
      model_set_add(&k, e);
  crdt_context_free(c);
  return k;
}

/* Events of s that leave a dot in a store and that nothing in s kills. */
static model_set live_events(const model *m, const model_set *s) {
  model_set killed, out;
  model_set_clear(&killed);
  model_set_clear(&out);
  for (unsigned x = 0; x < m->nevents; x++)
    if (model_set_has(s, x)) model_set_union(&killed, &m->ev[x].kill);
  for (unsigned e = 0; e < m->nevents; e++) {
    model_kind k = m->ev[e].kind;
    bool dot = k == MODEL_ADD || k == MODEL_WRITE ||
               (k == MODEL_DEC && m->type == CRDT_TYPE_CART);
    if (dot && model_set_has(s, e) && !model_set_has(&killed, e))
      model_set_add(&out, e);
  }
  return out;
}

/* The events of the dots in replica r's store. */
static model_set store_events(const world *w, unsigned r) {
  const crdt__causal *c = &crdt__dotted_cof(w->s->rep[r])->c;
  model_set out;
  model_set_clear(&out);
  for (uint32_t n = 0; n < c->store.count; n++) {
    const crdt__entry *e = &c->store.entries[n];
    for (uint32_t i = 0; i < e->ndots; i++) {
      crdt__dv d = crdt__entry_dot(e, i);
      int ev = event_of(&w->s->m, crdt__replicas_id(&c->replicas, d.replica, NULL),
                        d.counter);
      if (ev < 0) fail_msg("replica %u holds a dot no event made", r);
      model_set_add(&out, (unsigned)ev);
    }
  }
  return out;
}

/* After replica r received something: never behind; determined or ahead. */
static void after_receive(world *w, unsigned r, const model_set *sender_seen,
                          bool changed) {
  model *m = &w->s->m;
  crdt_type t = m->type;
  if (t == CRDT_TYPE_LWWREG) {
    if (changed) model_receive(m, r, sender_seen);
  } else {
    model_set k = context_events(w, r);
    if (!model_set_subset(model_seen(m, r), &k))
      fail_msg("replica %u forgot events its context had", r);
    model_receive(m, r, &k);
    model_set known;
    model_known(m, &k, &known);
    if (model_set_order(&known, &k) != CRDT_EQUAL) {
      for (unsigned e = 0; e < m->nevents; e++)
        if (model_set_has(&known, e) && !model_set_has(&k, e)) {
          fprintf(stderr, "unclosed: %s:%llu needed by", m->id[m->ev[e].replica],
                  (unsigned long long)m->ev[e].counter);
          for (unsigned x = 0; x < m->nevents; x++)
            if (model_set_has(&k, x) && model_set_has(&m->ev[x].delta, e))
              fprintf(stderr, " %s:%llu(kind %d)", m->id[m->ev[x].replica],
                      (unsigned long long)m->ev[x].counter, m->ev[x].kind);
          fprintf(stderr, "\n");
        }
      for (unsigned q = 0; q < w->n; q++) {
        char buf[2048];
        crdt_object_context_text(w->s->rep[q], buf, sizeof buf, NULL);
        fprintf(stderr, "replica %u ctx %s\n", q, buf);
        if (q == r) continue;
        crdt_sync *x = w->sess[r][q];
        crdt_context *pc;
        if (x->have_peer && crdt__context_from(&x->peer.ctx.c, &x->peer.ctx.r, &pc) == 0) {
          crdt_context_format(pc, buf, sizeof buf, NULL);
          fprintf(stderr, "   session %u->%u peer snapshot %s (hello %u, jid %llx pos %llu)\n", r, q, buf, x->peer_hello, (unsigned long long)x->peer.jid, (unsigned long long)x->peer.pos);
          crdt_context_free(pc);
        }
      }
      fail_msg("%s replica %u: its context names updates whose superseded "
               "updates it lacks", crdt_type_name(t), r);
    }
    if (dotted(w)) {
      model_set live = live_events(m, &k), held = store_events(w, r);
      if (!model_set_subset(&held, &live)) {
        for (unsigned e = 0; e < m->nevents; e++)
          if (model_set_has(&held, e) && !model_set_has(&live, e)) {
            fprintf(stderr, "held dead: %s:%llu kind %d key %u in K %d; killers in K:",
                    m->id[m->ev[e].replica], (unsigned long long)m->ev[e].counter,
                    m->ev[e].kind, m->ev[e].key, model_set_has(&k, e));
            for (unsigned x = 0; x < m->nevents; x++)
              if (model_set_has(&k, x) && model_set_has(&m->ev[x].kill, e))
                fprintf(stderr, " %s:%llu(kind %d)", m->id[m->ev[x].replica],
                        (unsigned long long)m->ev[x].counter, m->ev[x].kind);
            fprintf(stderr, "\n");
          }
      }
      if (!model_set_subset(&held, &live))
        fail_msg("%s replica %u holds an update its context says is dead "
                 "(a round applied something before its removals)",
                 crdt_type_name(t), r);
      w->ahead[r] = model_set_order(&held, &live) != CRDT_EQUAL;
      w->aheads += w->ahead[r];
    }
  }
  if (!w->ahead[r]) {
    sim_check(w->s, r);
    w->checks++;
  }
}

/* ---- messages ------------------------------------------------------------ */

static void produce(world *w, unsigned i, unsigned j, unsigned max) {
  static uint8_t buf[1 << 16];
  size_t cap = (size_t[]){400, 2000, sizeof buf}[tu_below(&w->g, 3)];
  for (unsigned k = 0; k < max && w->nq[i][j] < MAXQ; k++) {
    size_t n;
    OK(crdt_sync_produce(w->sess[i][j], buf, cap, &n));
    if (!n) return;
    msg *mm = &w->q[i][j][w->nq[i][j]++];
    mm->b = malloc(n);
    assert_non_null(mm->b);
    memcpy(mm->b, buf, n);
    mm->n = n;
    mm->seen = *model_seen(&w->s->m, i);
  }
}

/* Removes message k, keeping the order of the others. */
static void drop_at(world *w, unsigned i, unsigned j, unsigned k) {
  free(w->q[i][j][k].b);
  memmove(&w->q[i][j][k], &w->q[i][j][k + 1],
          (--w->nq[i][j] - k) * sizeof w->q[i][j][k]);
}

/* The value, and for the LWW-register the whole write (timestamp, writer),
 * so that a receive that changed the register is noticed. */
static char *value_of(const world *w, unsigned r) {
  if (w->s->m.type == CRDT_TYPE_LWWREG) {
    crdt_lwwreg *reg = crdt_object_lwwreg(w->s->rep[r]);
    crdt_bytes v = {NULL, 0};
    uint64_t ts = 0;
    const char *writer = crdt_lwwreg_writer(reg);
    (void)crdt_lwwreg_get(reg, &v, &ts);
    char *out = malloc(v.size + 128);
    assert_non_null(out);
    int n = snprintf(out, 128, "%llu/%s/", (unsigned long long)ts,
                     writer ? writer : "-");
    if (v.size) memcpy(out + n, v.data, v.size);
    out[n + v.size] = 0;
    for (size_t k = 0; k < v.size; k++)
      if (!out[n + k]) out[n + k] = '0'; /* for strcmp */
    return out;
  }
  size_t need;
  assert_int_equal(crdt_object_value_json(w->s->rep[r], NULL, 0, &need),
                   CRDT_ENOSPC);
  char *v = malloc(need + 1);
  assert_non_null(v);
  OK(crdt_object_value_json(w->s->rep[r], v, need + 1, NULL));
  return v;
}

/* Message k of queue i -> j arrives at j (and stays queued: a duplicate). */
static void deliver(world *w, unsigned i, unsigned j, unsigned k, bool keep) {
  msg *mm = &w->q[i][j][k];
  char *before = value_of(w, j);
  if (getenv("TRACE")) {
    crdt_sync *x = w->sess[j][i];
    fprintf(stderr, "    deliver %u->%u (%zu bytes, sid %llx): at %u: sid %llx hello %u peer_sid %llx peer_hello %u mode %d\n", i, j, mm->n,
            (unsigned long long)(mm->b[9] | (uint64_t)mm->b[10] << 8), j, (unsigned long long)(x->sid & 0xffff), x->my_hello, (unsigned long long)(x->peer_sid & 0xffff), x->peer_hello, x->mode);
  }
  if (getenv("TRACE")) {
    crdt__msg pm;
    if (crdt__msg_parse(mm->b, mm->n, crdt__mem_default(), &pm) == 0) {
      fprintf(stderr, "      msg hello %u answers %u:", pm.hello, pm.answers);
      if (pm.has[1]) fprintf(stderr, " HELLO(flags %x)", pm.h.flags);
      if (pm.has[2]) fprintf(stderr, " DELTA[%llu,%llu)", (unsigned long long)pm.delta_from, (unsigned long long)pm.delta_to);
      if (pm.has[4]) fprintf(stderr, " CELLS[%u+%u]", pm.cells_start, pm.cells_n);
      if (pm.has[5]) fprintf(stderr, " NEED(%llu)", (unsigned long long)pm.need);
      if (pm.has[6]) fprintf(stderr, " CHUNK(%u)", pm.chunk_no);
      if (pm.has[7]) fprintf(stderr, " END(%u)", pm.end_total);
      if (pm.has[8]) fprintf(stderr, " DROPS(%u)", pm.ndrops);
      fprintf(stderr, "\n");
      crdt__msg_free(&pm, crdt__mem_default());
    }
  }
  OK(crdt_sync_receive(w->sess[j][i], mm->b, mm->n));
  if (getenv("TRACE")) {
    crdt_sync *x = w->sess[j][i];
    fprintf(stderr, "      -> mode %d in %d out %d peer_n %u chunks_in %u total %u due %d dec %d mine %u theirs %u tried %u m %u\n", x->mode, x->in_done, x->out_done, x->cold.peer_n, x->cold.chunks_in, x->cold.chunks_total, x->hello_due, x->cold.decoded, x->cold.diff.nmine, x->cold.diff.ntheirs, x->cold.tried, x->cold.m_first);
  }
  char *after = value_of(w, j);
  w->received++;
  after_receive(w, j, &mm->seen, strcmp(before, after) != 0);
  free(before);
  free(after);
  if (!keep) drop_at(w, i, j, k);
}

static void clear_queues(world *w) {
  for (unsigned i = 0; i < w->n; i++)
    for (unsigned j = 0; j < w->n; j++)
      while (w->nq[i][j]) drop_at(w, i, j, 0);
}

/* ---- sessions: saved, restored, lost -------------------------------------- */

static uint8_t *save(crdt_sync *s, size_t *n) {
  assert_int_equal(crdt_sync_save(s, NULL, 0, n), CRDT_ENOSPC);
  uint8_t *b = malloc(*n);
  assert_non_null(b);
  OK(crdt_sync_save(s, b, *n, n));
  return b;
}

/* Session i -> j goes away; `keep`: saved first and restored. */
static void bounce(world *w, unsigned i, unsigned j, bool keep) {
  size_t n = 0;
  uint8_t *b = keep ? save(w->sess[i][j], &n) : NULL;
  crdt_sync_free(w->sess[i][j]);
  if (keep)
    OK(crdt_sync_restore(w->s->rep[i], b, n, &w->sess[i][j]));
  else
    OK(crdt_sync_new(w->s->rep[i], &w->sess[i][j]));
  free(b);
}

/* Replica r reloads its state from its encoding; its sessions are saved
 * and restored on the new object, or lost. */
static void reload(world *w, unsigned r, bool keep) {
  uint8_t *saved[MODEL_MAX_REPLICAS] = {0};
  size_t len[MODEL_MAX_REPLICAS] = {0};
  for (unsigned j = 0; j < w->n; j++) {
    if (j == r) continue;
    if (keep) saved[j] = save(w->sess[r][j], &len[j]);
    crdt_sync_free(w->sess[r][j]);
  }
  sim_restart(w->s, r);
  for (unsigned j = 0; j < w->n; j++) {
    if (j == r) continue;
    if (keep)
      OK(crdt_sync_restore(w->s->rep[r], saved[j], len[j], &w->sess[r][j]));
    else
      OK(crdt_sync_new(w->s->rep[r], &w->sess[r][j]));
    free(saved[j]);
  }
}

/* ---- histories -------------------------------------------------------------- */

static const struct {
  const char *bytes;
  size_t len;
} KEYS[] = {{"x", 1}, {"", 0}, {"milk", 4}, {"mi", 2}, {"\xff\x00z", 3}};

/* A random update at a replica the model is in step with. */
static void update(world *w, unsigned r) {
  sim *s = w->s;
  tu_rng *g = &w->g;
  unsigned k = tu_below(g, sizeof KEYS / sizeof *KEYS), p = tu_below(g, 8);
  const char *key = KEYS[k].bytes;
  size_t len = KEYS[k].len;
  static const sim_kind orset[] = {SIM_ADD, SIM_ADD, SIM_ADD, SIM_REMOVE};
  static const sim_kind cart[] = {SIM_ADD, SIM_ADD, SIM_DEC, SIM_REMOVE};
  uint64_t n = 1 + tu_below(g, 4);
  switch (s->m.type) {
  case CRDT_TYPE_GCOUNTER: sim_update(s, r, SIM_INC, NULL, 0, n, 0); break;
  case CRDT_TYPE_PNCOUNTER:
    sim_update(s, r, p & 1 ? SIM_DEC : SIM_INC, NULL, 0, n, 0);
    break;
  case CRDT_TYPE_ORSET: sim_update(s, r, orset[p & 3], key, len, 0, 0); break;
  case CRDT_TYPE_CART: sim_update(s, r, cart[p & 3], key, len, n, 0); break;
  case CRDT_TYPE_MVREG:
    sim_update(s, r, SIM_WRITE, key, len, 0,
               p < 5 ? SIM_OWN : p < 7 ? SIM_BLIND : SIM_FROM((r + 1) % w->n));
    break;
  case CRDT_TYPE_LWWREG:
    sim_update(s, r, SIM_WRITE, key, len, s->m.nevents / 2 + tu_below(g, 3), 0);
    break;
  }
}

/* Syncs every pair, again and again, until all are equal. */
static void converge(world *w) {
  clear_queues(w);
  for (unsigned pass = 0; pass < 3 * w->n; pass++) {
    bool all_equal = true;
    for (unsigned i = 0; i < w->n; i++)
      for (unsigned j = i + 1; j < w->n; j++) {
        /* a reconnect: both ends start a new round (messages were lost) */
        OK(crdt_sync_restart(w->sess[i][j]));
        OK(crdt_sync_restart(w->sess[j][i]));
        if (getenv("TRACE")) fprintf(stderr, "converge %u %u restart -> due %d\n", i, j, w->sess[i][j]->hello_due);
        for (int tick = 0; tick < 40; tick++) {
          produce(w, i, j, MAXQ);
          if (getenv("TRACE")) fprintf(stderr, "  tick %d: i hello %u due %d nq %u\n", tick, w->sess[i][j]->my_hello, w->sess[i][j]->hello_due, w->nq[i][j]);
          produce(w, j, i, MAXQ);
          bool any = w->nq[i][j] || w->nq[j][i];
          while (w->nq[i][j]) deliver(w, i, j, 0, false);
          while (w->nq[j][i]) deliver(w, j, i, 0, false);
          if (!any && crdt_sync_in_sync(w->sess[i][j]) &&
              crdt_sync_in_sync(w->sess[j][i]))
            break;
        }
        if (!crdt_sync_in_sync(w->sess[i][j]) ||
            !crdt_sync_in_sync(w->sess[j][i])) {
          for (int z = 0; z < 2; z++) {
            const crdt_sync *x = z ? w->sess[j][i] : w->sess[i][j];
            fprintf(stderr, "%s: hello %u due %d reply %d unsent %d flags %x mode %d in %d out %d completed %d peer_hello %u answers %u have_peer %d | planned %d nkeys %u next %u end %d sent %u in %u total %u final %d | sketch %d m %u/%u sentc %u peer_n %u tried %u dec %d drin %d drsent %d\n",
              z ? "j" : "i", x->my_hello, x->hello_due, x->reply_due, x->hello_unsent, x->mine.flags, x->mode, x->in_done, x->out_done, x->completed, x->peer_hello, x->peer_answers, x->have_peer,
              x->cold.planned, x->cold.nkeys, x->cold.next_key, x->cold.plan_sent_end, x->cold.chunks_sent, x->cold.chunks_in, x->cold.chunks_total, x->cold.final_done,
              x->cold.sketch, x->cold.m_first, x->cold.m_store, x->cold.sent_cells, x->cold.peer_n, x->cold.tried, x->cold.decoded, x->cold.drops_received, x->cold.drops_sent);
          }
          fail_msg("%s: replicas %u and %u never got in sync",
                   crdt_type_name(w->s->m.type), i, j);
        }
        if (!crdt_object_equal(w->s->rep[i], w->s->rep[j])) {
          char *vi = value_of(w, i), *vj = value_of(w, j);
          char ci[2048], cj[2048];
          crdt_object_context_text(w->s->rep[i], ci, sizeof ci, NULL);
          crdt_object_context_text(w->s->rep[j], cj, sizeof cj, NULL);
          fprintf(stderr, "i: %s %s\nj: %s %s\n", vi, ci, vj, cj);
          if (dotted(w)) {
            model_set hi = store_events(w, i), hj = store_events(w, j);
            const model *mm = &w->s->m;
            for (unsigned e = 0; e < mm->nevents; e++)
              if (model_set_has(&hi, e) != model_set_has(&hj, e))
              {
                const crdt_sync *si = w->sess[i][j], *sj = w->sess[j][i];
                const char *id = mm->id[mm->ev[e].replica];
                uint64_t cn = mm->ev[e].counter;
                crdt_context *a1, *a2, *b1, *b2;
                crdt__context_from(&si->mine.ctx.c, &si->mine.ctx.r, &a1);
                crdt__context_from(&si->peer.ctx.c, &si->peer.ctx.r, &a2);
                crdt__context_from(&sj->mine.ctx.c, &sj->mine.ctx.r, &b1);
                crdt__context_from(&sj->peer.ctx.c, &sj->peer.ctx.r, &b2);
                fprintf(stderr, "  %s:%llu kind %d held by %s; i.mine %d i.peer %d j.mine %d j.peer %d\n", id,
                        (unsigned long long)cn, mm->ev[e].kind,
                        model_set_has(&hi, e) ? "i" : "j",
                        crdt_context_has(a1, id, cn), crdt_context_has(a2, id, cn),
                        crdt_context_has(b1, id, cn), crdt_context_has(b2, id, cn));
                crdt_context_free(a1); crdt_context_free(a2); crdt_context_free(b1); crdt_context_free(b2);
              }
          }
          free(vi);
          free(vj);
        }
        if (!crdt_object_equal(w->s->rep[i], w->s->rep[j]))
          fail_msg("%s: replicas %u and %u in sync but not equal",
                   crdt_type_name(w->s->m.type), i, j);
      }
    for (unsigned i = 1; i < w->n; i++)
      all_equal &= crdt_object_equal(w->s->rep[0], w->s->rep[i]);
    if (all_equal) break;
  }
  for (unsigned r = 0; r < w->n; r++) {
    if (w->ahead[r]) fail_msg("replica %u still ahead of its context", r);
    for (unsigned q = 0; q < w->n; q++)
      if (!crdt_object_equal(w->s->rep[r], w->s->rep[q]))
        fail_msg("%s: replicas %u and %u differ after converging",
                 crdt_type_name(w->s->m.type), r, q);
  }
  /* each has seen every event: the model of all of them */
  model_set all;
  model_set_clear(&all);
  for (unsigned r = 0; r < w->n; r++) model_set_union(&all, model_seen(&w->s->m, r));
  for (unsigned r = 0; r < w->n; r++) {
    model_receive(&w->s->m, r, &all);
    sim_check(w->s, r);
  }
}

static void run(crdt_type type, unsigned nrep, unsigned long long seed,
                unsigned steps, unsigned long *checks) {
  world *w = calloc(1, sizeof *w);
  assert_non_null(w);
  w->n = nrep;
  w->g.s = seed;
  w->s = sim_new(type, nrep, IDS, fail_hook);
  assert_non_null(w->s);
  for (unsigned i = 0; i < nrep; i++)
    for (unsigned j = 0; j < nrep; j++)
      if (i != j) OK(crdt_sync_new(w->s->rep[i], &w->sess[i][j]));
  tu_rng *g = &w->g;
  for (unsigned step = 0; step < steps && !model_full(&w->s->m); step++) {
    unsigned i = tu_below(g, nrep), j = (i + 1 + tu_below(g, nrep - 1)) % nrep;
    unsigned what = tu_below(g, 100);
    if (getenv("TRACE")) fprintf(stderr, "step %u: %u->%u what %u\n", step, i, j, what);
    if (what < 30) {
      if (!w->ahead[i]) update(w, i);
    } else if (what < 55) {
      produce(w, i, j, 1 + tu_below(g, 3));
    } else if (what < 85) {
      if (w->nq[i][j]) /* any queued message: out of order */
        deliver(w, i, j, tu_below(g, w->nq[i][j]), tu_below(g, 10) == 0);
    } else if (what < 90) {
      if (w->nq[i][j]) drop_at(w, i, j, tu_below(g, w->nq[i][j])); /* lost */
    } else if (what < 93) {
      OK(crdt_sync_restart(w->sess[i][j]));
    } else if (what < 96) {
      bounce(w, i, j, tu_below(g, 3) != 0);
    } else if (what < 98) {
      if (!w->ahead[i]) reload(w, i, tu_below(g, 2));
    } else if (!w->ahead[i] && !w->ahead[j]) {
      sim_sync(w->s, j, i, tu_below(g, 2)); /* a merge outside any session */
    }
  }
  converge(w);
  sim_check_final(w->s);
  *checks += w->checks;
  clear_queues(w);
  for (unsigned i = 0; i < nrep; i++)
    for (unsigned j = 0; j < nrep; j++) crdt_sync_free(w->sess[i][j]);
  sim_free(w->s);
  free(w);
}

static void run_type(crdt_type type) {
  unsigned long checks = 0;
  if (getenv("ONLY") && strcmp(getenv("ONLY"), crdt_type_name(type))) return;
  /* CRDT_SYNC_MODEL_HISTORIES=N runs N per type (a soak); 60 by default */
  const char *env = getenv("CRDT_SYNC_MODEL_HISTORIES");
  unsigned n = env ? (unsigned)atoi(env) : 60;
  for (unsigned h = getenv("H") ? (unsigned)atoi(getenv("H")) : 0; h < n; h++)
    {
      if (getenv("HTRACE")) fprintf(stderr, "history %u\n", h);
      run(type, 3 + h % 3, 0x5eed0000ull + h * 7919 + type, 500, &checks);
    }
  printf("# %s: %lu states checked\n", crdt_type_name(type), checks);
}

static void test_sync_model_gcounter(void **state) { (void)state; run_type(CRDT_TYPE_GCOUNTER); }
static void test_sync_model_pncounter(void **state) { (void)state; run_type(CRDT_TYPE_PNCOUNTER); }
static void test_sync_model_orset(void **state) { (void)state; run_type(CRDT_TYPE_ORSET); }
static void test_sync_model_mvreg(void **state) { (void)state; run_type(CRDT_TYPE_MVREG); }
static void test_sync_model_cart(void **state) { (void)state; run_type(CRDT_TYPE_CART); }
static void test_sync_model_lwwreg(void **state) { (void)state; run_type(CRDT_TYPE_LWWREG); }

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sync_model_gcounter),
      cmocka_unit_test(test_sync_model_pncounter),
      cmocka_unit_test(test_sync_model_orset),
      cmocka_unit_test(test_sync_model_mvreg),
      cmocka_unit_test(test_sync_model_cart),
      cmocka_unit_test(test_sync_model_lwwreg),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

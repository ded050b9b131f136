/*
 * Replicas joined by sync sessions, in lockstep with the model (see
 * syncworld.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dotted.h"
#include "leaf.h"
#include "syncmodel.h"
#include "syncworld.h"

static const char *const IDS[MODEL_MAX_REPLICAS] = {"r3", "B", "long-replica",
                                                    "a", "r10"};

#define MAXQ 64

typedef struct msg {
  uint8_t *b;
  size_t n;
  model_set seen; /* the sender's seen events when it produced it (LWW) */
} msg;

struct sworld {
  sw_model *s;
  unsigned n;
  crdt_sync *sess[MODEL_MAX_REPLICAS][MODEL_MAX_REPLICAS];
  msg q[MODEL_MAX_REPLICAS][MODEL_MAX_REPLICAS][MAXQ];
  unsigned nq[MODEL_MAX_REPLICAS][MODEL_MAX_REPLICAS];
  bool ahead[MODEL_MAX_REPLICAS];
  void (*fail)(const char *what);
  unsigned long checks;
};

static void wfail(const sworld *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void wfail(const sworld *w, const char *fmt, ...) {
  char text[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  w->fail(text);
  abort(); /* the hook must not return */
}

#define OK(w, call)                                                            \
  do {                                                                         \
    int rc_ = (call);                                                          \
    if (rc_) wfail(w, "%s: %s", #call, crdt_err_name(rc_));                    \
  } while (0)

static void *need(const sworld *w, void *p) {
  if (!p) wfail(w, "out of memory");
  return p;
}

static bool dotted(const sworld *w) { return swm_dotted(w->s); }

unsigned long sworld_checks(const sworld *w) { return w->checks; }
unsigned sworld_replicas(const sworld *w) { return w->n; }

/* ---- the model's view of a library state --------------------------------- */

/* The event of dot (replica id, counter), or -1. */
static int event_of(const sw_model *m, const char *id, uint64_t counter) {
  for (unsigned e = 0; e < swm_nevents(m); e++) {
    unsigned r;
    uint64_t c;
    int kind;
    swm_event(m, e, &r, &c, &kind);
    if (c == counter && strcmp(swm_id(m, r), id) == 0) return (int)e;
  }
  return -1;
}

/* K: the events whose dots replica r's context holds. */
static model_set context_events(const sworld *w, unsigned r) {
  const sw_model *m = w->s;
  model_set k;
  model_set_clear(&k);
  crdt_context *c;
  OK(w, crdt_object_context(swm_rep(m, r), &c));
  for (unsigned e = 0; e < swm_nevents(m); e++) {
    unsigned rep;
    uint64_t counter;
    int kind;
    swm_event(m, e, &rep, &counter, &kind);
    if (crdt_context_has(c, swm_id(m, rep), counter)) model_set_add(&k, e);
  }
  crdt_context_free(c);
  return k;
}

/* The events of the dots in replica r's store (every leaf of its tree). */
static model_set store_events(const sworld *w, unsigned r) {
  const crdt__causal *c = &crdt__dotted_cof(swm_rep(w->s, r))->c;
  model_set out;
  model_set_clear(&out);
  crdt__leaves it;
  crdt__leaves_begin(&it, &c->store, false);
  for (const crdt__entry *e; (e = crdt__leaves_next(&it));) {
    for (uint32_t i = 0; i < e->ndots; i++) {
      crdt__dv d = crdt__entry_dot(e, i);
      int ev = event_of(w->s, crdt__replicas_id(&c->replicas, d.replica, NULL),
                        d.counter);
      if (ev < 0) wfail(w, "replica %u holds a dot no event made", r);
      model_set_add(&out, (unsigned)ev);
    }
  }
  return out;
}

/* Prints the events of `a` not in `b`, for a failure report. */
static void show_missing(const sw_model *m, const char *what,
                         const model_set *a, const model_set *b) {
  for (unsigned e = 0; e < swm_nevents(m); e++)
    if (model_set_has(a, e) && !model_set_has(b, e)) {
      unsigned r;
      uint64_t counter;
      int kind;
      swm_event(m, e, &r, &counter, &kind);
      fprintf(stderr, "%s %s:%llu (kind %d)\n", what, swm_id(m, r),
              (unsigned long long)counter, kind);
    }
}

/* After replica r received something: never behind; determined or ahead. */
static void after_receive(sworld *w, unsigned r, const model_set *sender_seen,
                          bool changed) {
  sw_model *m = w->s;
  crdt_type t = swm_type(m);
  if (t == CRDT_TYPE_LWWREG) {
    if (changed) swm_receive(m, r, sender_seen);
  } else {
    model_set k = context_events(w, r), known;
    if (!model_set_subset(swm_seen(m, r), &k))
      wfail(w, "replica %u forgot events its context had", r);
    swm_receive(m, r, &k);
    swm_known(m, &k, &known);
    if (model_set_order(&known, &k) != CRDT_EQUAL) {
      show_missing(m, "superseded, not in the context:", &known, &k);
      wfail(w, "%s replica %u: its context names updates whose superseded "
               "updates it lacks", crdt_type_name(t), r);
    }
    if (dotted(w)) {
      model_set live = swm_live(m, &k), held = store_events(w, r);
      if (!model_set_subset(&held, &live)) {
        show_missing(m, "held, dead in the model:", &held, &live);
        wfail(w, "%s replica %u holds an update its context says is dead "
                 "(a round applied something before its removals)",
              crdt_type_name(t), r);
      }
      w->ahead[r] = model_set_order(&held, &live) != CRDT_EQUAL;
    }
  }
  if (!w->ahead[r]) {
    swm_check(w->s, r);
    w->checks++;
  }
}

/* ---- messages --------------------------------------------------------------- */

static void produce(sworld *w, unsigned i, unsigned j, unsigned max,
                    size_t cap) {
  static uint8_t buf[1 << 16];
  if (cap > sizeof buf) cap = sizeof buf;
  for (unsigned k = 0; k < max && w->nq[i][j] < MAXQ; k++) {
    size_t n;
    OK(w, crdt_sync_produce(w->sess[i][j], buf, cap, &n));
    if (!n) return;
    msg *mm = &w->q[i][j][w->nq[i][j]++];
    mm->b = need(w, malloc(n));
    memcpy(mm->b, buf, n);
    mm->n = n;
    mm->seen = *swm_seen(w->s, i);
  }
}

/* Removes message k, keeping the order of the others. */
static void drop_at(sworld *w, unsigned i, unsigned j, unsigned k) {
  free(w->q[i][j][k].b);
  memmove(&w->q[i][j][k], &w->q[i][j][k + 1],
          (--w->nq[i][j] - k) * sizeof w->q[i][j][k]);
}

/* The value, and for the LWW-register the whole write (timestamp,
 * writer), so that a receive that changed the register is noticed. */
static char *value_of(const sworld *w, unsigned r) {
  if (swm_type(w->s) == CRDT_TYPE_LWWREG) {
    crdt_lwwreg *reg = crdt_object_lwwreg(swm_rep(w->s, r));
    crdt_bytes v = {NULL, 0};
    uint64_t ts = 0;
    const char *writer = crdt_lwwreg_writer(reg);
    (void)crdt_lwwreg_get(reg, &v, &ts);
    char *out = need(w, malloc(v.size + 128));
    int n = snprintf(out, 128, "%llu/%s/", (unsigned long long)ts,
                     writer ? writer : "-");
    for (size_t k = 0; k < v.size; k++) {
      char c = ((const char *)v.data)[k];
      out[n + k] = c ? c : '0'; /* for strcmp */
    }
    out[n + v.size] = 0;
    return out;
  }
  size_t len = 0;
  if (crdt_object_value_json(swm_rep(w->s, r), NULL, 0, &len) != CRDT_ENOSPC)
    wfail(w, "value_json");
  char *v = need(w, malloc(len + 1));
  OK(w, crdt_object_value_json(swm_rep(w->s, r), v, len + 1, NULL));
  return v;
}

/* Message k of queue i -> j arrives at j (and stays queued: a duplicate). */
static void deliver(sworld *w, unsigned i, unsigned j, unsigned k, bool keep) {
  msg *mm = &w->q[i][j][k];
  char *before = value_of(w, j);
  OK(w, crdt_sync_receive(w->sess[j][i], mm->b, mm->n));
  char *after = value_of(w, j);
  after_receive(w, j, &mm->seen, strcmp(before, after) != 0);
  free(before);
  free(after);
  if (!keep) drop_at(w, i, j, k);
}

static void clear_queues(sworld *w) {
  for (unsigned i = 0; i < w->n; i++)
    for (unsigned j = 0; j < w->n; j++)
      while (w->nq[i][j]) drop_at(w, i, j, 0);
}

/* ---- sessions: saved, restored, lost ---------------------------------------- */

static uint8_t *save(sworld *w, crdt_sync *s, size_t *n) {
  if (crdt_sync_save(s, NULL, 0, n) != CRDT_ENOSPC) wfail(w, "sync_save size");
  uint8_t *b = need(w, malloc(*n));
  OK(w, crdt_sync_save(s, b, *n, n));
  return b;
}

/* Session i -> j goes away; `keep`: saved first and restored. */
static void bounce(sworld *w, unsigned i, unsigned j, bool keep) {
  size_t n = 0;
  uint8_t *b = keep ? save(w, w->sess[i][j], &n) : NULL;
  crdt_sync_free(w->sess[i][j]);
  if (keep)
    OK(w, crdt_sync_restore(swm_rep(w->s, i), b, n, &w->sess[i][j]));
  else
    OK(w, crdt_sync_new(swm_rep(w->s, i), &w->sess[i][j]));
  free(b);
}

/* Replica r reloads its state from its encoding; its sessions are saved
 * and restored on the new object, or lost. */
static void reload(sworld *w, unsigned r, bool keep) {
  uint8_t *saved[MODEL_MAX_REPLICAS] = {0};
  size_t len[MODEL_MAX_REPLICAS] = {0};
  for (unsigned j = 0; j < w->n; j++) {
    if (j == r) continue;
    if (keep) saved[j] = save(w, w->sess[r][j], &len[j]);
    crdt_sync_free(w->sess[r][j]);
  }
  swm_restart(w->s, r);
  for (unsigned j = 0; j < w->n; j++) {
    if (j == r) continue;
    if (keep)
      OK(w, crdt_sync_restore(swm_rep(w->s, r), saved[j], len[j],
                              &w->sess[r][j]));
    else
      OK(w, crdt_sync_new(swm_rep(w->s, r), &w->sess[r][j]));
    free(saved[j]);
  }
}

/* ---- the world -------------------------------------------------------------- */

sworld *sworld_new(crdt_type type, unsigned n, void (*fail)(const char *what)) {
  sworld *w = calloc(1, sizeof *w);
  if (!w) return NULL;
  w->n = n;
  w->fail = fail;
  if (!(w->s = swm_new(type, n, IDS, fail))) {
    free(w);
    return NULL;
  }
  for (unsigned i = 0; i < n; i++)
    for (unsigned j = 0; j < n; j++)
      if (i != j) OK(w, crdt_sync_new(swm_rep(w->s, i), &w->sess[i][j]));
  return w;
}

void sworld_free(sworld *w) {
  if (!w) return;
  clear_queues(w);
  for (unsigned i = 0; i < w->n; i++)
    for (unsigned j = 0; j < w->n; j++) crdt_sync_free(w->sess[i][j]);
  swm_free(w->s);
  free(w);
}

void sworld_step(sworld *w, sworld_op op, unsigned i, unsigned j,
                 unsigned arg) {
  i %= w->n;
  j %= w->n;
  if (i == j) j = (i + 1) % w->n;
  if (swm_full(w->s) && op == SW_UPDATE) return;
  switch (op) {
  case SW_UPDATE:
    if (!w->ahead[i]) swm_update(w->s, i, arg);
    break;
  case SW_PRODUCE:
    produce(w, i, j, 1 + arg % 3, (size_t[]){400, 2000, 65536}[arg / 3 % 3]);
    break;
  case SW_DELIVER:
    if (w->nq[i][j]) /* any queued message: out of order */
      deliver(w, i, j, arg % w->nq[i][j], arg / 64 % 8 == 0);
    break;
  case SW_DROP:
    if (w->nq[i][j]) drop_at(w, i, j, arg % w->nq[i][j]); /* lost */
    break;
  case SW_RESTART:
    OK(w, crdt_sync_restart(w->sess[i][j]));
    break;
  case SW_BOUNCE:
    bounce(w, i, j, arg & 1);
    break;
  case SW_RELOAD:
    if (!w->ahead[i]) reload(w, i, arg & 1);
    break;
  case SW_MERGE:
    if (!w->ahead[i] && !w->ahead[j]) swm_merge(w->s, j, i, arg);
    break;
  default:
    break;
  }
}

/* Syncs replicas i and j in lockstep, both restarting (a reconnect). */
static void sync_pair(sworld *w, unsigned i, unsigned j) {
  OK(w, crdt_sync_restart(w->sess[i][j]));
  OK(w, crdt_sync_restart(w->sess[j][i]));
  for (int tick = 0; tick < 40; tick++) {
    produce(w, i, j, MAXQ, 65536);
    produce(w, j, i, MAXQ, 65536);
    bool any = w->nq[i][j] || w->nq[j][i];
    while (w->nq[i][j]) deliver(w, i, j, 0, false);
    while (w->nq[j][i]) deliver(w, j, i, 0, false);
    if (!any && crdt_sync_in_sync(w->sess[i][j]) &&
        crdt_sync_in_sync(w->sess[j][i]))
      return;
  }
  wfail(w, "%s: replicas %u and %u never got in sync",
        crdt_type_name(swm_type(w->s)), i, j);
}

void sworld_converge(sworld *w) {
  clear_queues(w);
  for (unsigned pass = 0; pass < 3 * w->n; pass++) {
    bool all_equal = true;
    for (unsigned i = 0; i < w->n; i++)
      for (unsigned j = i + 1; j < w->n; j++) {
        sync_pair(w, i, j);
        if (!crdt_object_equal(swm_rep(w->s, i), swm_rep(w->s, j))) {
          if (dotted(w)) {
            model_set hi = store_events(w, i), hj = store_events(w, j);
            show_missing(w->s, "held by the first only:", &hi, &hj);
            show_missing(w->s, "held by the second only:", &hj, &hi);
          }
          wfail(w, "%s: replicas %u and %u in sync but not equal",
                crdt_type_name(swm_type(w->s)), i, j);
        }
      }
    for (unsigned i = 1; i < w->n; i++)
      all_equal &= crdt_object_equal(swm_rep(w->s, 0), swm_rep(w->s, i));
    if (all_equal) break;
  }
  for (unsigned r = 0; r < w->n; r++) {
    if (w->ahead[r]) wfail(w, "replica %u still ahead of its context", r);
    for (unsigned q = 0; q < w->n; q++)
      if (!crdt_object_equal(swm_rep(w->s, r), swm_rep(w->s, q)))
        wfail(w, "%s: replicas %u and %u differ after converging",
              crdt_type_name(swm_type(w->s)), r, q);
  }
  /* each has seen every event: the model of all of them */
  model_set all;
  model_set_clear(&all);
  for (unsigned r = 0; r < w->n; r++)
    model_set_union(&all, swm_seen(w->s, r));
  for (unsigned r = 0; r < w->n; r++) {
    swm_receive(w->s, r, &all);
    swm_check(w->s, r);
  }
  swm_check_final(w->s);
}

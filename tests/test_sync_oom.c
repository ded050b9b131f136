/*
 * Sync sessions under allocation failure: for every type, two replicas with
 * concurrent changes sync (a cold round, then a warm one with pushes, then
 * a cold one after one side lost its session); every produce and every
 * receive of that exchange is run again with allocation k failing, for
 * every k. A failed call must return CRDT_ENOMEM and leave both objects
 * exactly as they were (canonical encoding and text), and the sync must
 * still finish afterwards, with equal states and nothing leaked. The map's
 * changes are on nested fields of every type, with element, field and
 * nested-map removes on both sides (map_update).
 *
 * Two more exchanges, for the dot-based types (OR-set, MV-register, cart,
 * flag, map), reach sync paths the three above never do (checked with
 * gcov, scripts/coverage.sh):
 * - PHASE_WHOLE, a cold round with the whole-state fallback: LIVE lists
 *   written (crdt__sd_put_live) and read (crdt__sd_get_live, in several
 *   parts and past the first 64 runs for the OR-set, cart and map), and
 *   the removals they reveal (crdt__sd_live_drops). The round must be the
 *   fallback (full_rounds is 1).
 * - PHASE_CHANGED: a changes after its HELLO, the change reaches b by a
 *   merge and dies there before b's HELLO; a kills it on b's last DEAD
 *   part (apply_dead's scan when k->changed_since, crdt/sync_dotted.c).
 *   Without that scan the sessions end in sync with unequal states (but
 *   for the MV-register), which the run without failures checks.
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
#include "testutil.h"

#define OK(x) assert_int_equal((x), 0)
#define CAP 700 /* small: chunked rounds */
#define CAP_WHOLE 400 /* PHASE_WHOLE: LIVE lists in several parts */
#define MAXQ 256

/* One step of an exchange: a produce at a side, the delivery to a side
 * of the next message the other produced, or the fixture's event (changes
 * made in the middle of a round, see script). */
typedef struct step {
  int side;
  bool deliver, event;
} step;

typedef struct world {
  crdt_object *o[2];
  crdt_sync *s[2];
  uint8_t *q[2][MAXQ]; /* q[i]: messages side i produced, not delivered */
  size_t len[2][MAXQ], n[2];
  size_t cap; /* of every message */
} world;

static crdt_type current;

/* Phases 0 to 2 follow each other (phase_prepare); the two below start
 * afresh from build, for the dot-based types only (see the top). */
enum {
  PHASE_WHOLE = 3,  /* a cold round with the whole-state fallback (LIVE) */
  PHASE_CHANGED = 4 /* a changes between its HELLO and b's dead dots */
};

/* Map update i: below user "u<i / 6 % 3>" (u2 a long name), field i % 6 of
 *   0 counter "hits", 1 or-set "tags", 2 MV-register "name",
 *   3 LWW-register "cfg"/"when", 4 flag "cfg"/"on", 5 counter "cfg"/"n";
 * kind 0 changes it (inc, add, set, enable), kind 1 takes back (dec,
 * element remove, set, disable), kind 2 removes the field (for field 5 the
 * whole map "cfg"). `names` holds the path's storage. */
static void map_update(crdt_update *u, crdt_bytes names[3], int i, int kind) {
  static const char *const users[] = {
      "u0", "u1",
      "u2, a name too long for the 64-byte key buffer of the map's decoder"};
  static const char *const elems[] = {"e0", "e1"};
  static const struct {
    crdt_field_type type;
    const char *name, *leaf; /* leaf: below "cfg" */
    crdt_op ops[2];
  } fields[6] = {
      {CRDT_FIELD_COUNTER, "hits", NULL, {CRDT_OP_INC, CRDT_OP_DEC}},
      {CRDT_FIELD_ORSET, "tags", NULL, {CRDT_OP_ADD, CRDT_OP_REMOVE}},
      {CRDT_FIELD_MVREG, "name", NULL, {CRDT_OP_SET, CRDT_OP_SET}},
      {CRDT_FIELD_LWWREG, "cfg", "when", {CRDT_OP_SET, CRDT_OP_SET}},
      {CRDT_FIELD_FLAG, "cfg", "on", {CRDT_OP_ENABLE, CRDT_OP_DISABLE}},
      {CRDT_FIELD_COUNTER, "cfg", "n", {CRDT_OP_INC, CRDT_OP_INC}},
  };
  const int f = i % 6;
  const char *user = users[i / 6 % 3], *elem = elems[i / 6 % 2];
  names[0] = (crdt_bytes){user, strlen(user)};
  names[1] = (crdt_bytes){fields[f].name, strlen(fields[f].name)};
  size_t depth = 2;
  if (fields[f].leaf)
    names[depth++] = (crdt_bytes){fields[f].leaf, strlen(fields[f].leaf)};
  u->path = (crdt_path){names, depth};
  u->field = fields[f].type;
  u->op = kind < 2 ? fields[f].ops[kind] : CRDT_OP_DELETE;
  if (u->op == CRDT_OP_ADD || u->op == CRDT_OP_REMOVE)
    u->arg = (crdt_bytes){elem, strlen(elem)};
  if (f == 5 && kind == 2) { /* the nested map */
    u->path.depth = 2;
    u->field = CRDT_FIELD_MAP;
  }
}

static void update(crdt_object *o, int i, int kind) {
  char key[8];
  snprintf(key, sizeof key, "k%d", i % 7);
  crdt_update u;
  crdt_bytes names[3];
  memset(&u, 0, sizeof u);
  u.arg = (crdt_bytes){key, strlen(key)};
  u.n = 1 + (uint64_t)(i % 3);
  u.time = (uint64_t)i + 1;
  switch (current) {
  case CRDT_TYPE_GCOUNTER: u.op = CRDT_OP_INC; break;
  case CRDT_TYPE_PNCOUNTER: u.op = kind ? CRDT_OP_DEC : CRDT_OP_INC; break;
  case CRDT_TYPE_ORSET: u.op = kind ? CRDT_OP_REMOVE : CRDT_OP_ADD; break;
  case CRDT_TYPE_MVREG: u.op = CRDT_OP_SET; break;
  case CRDT_TYPE_CART:
    u.op = kind == 1 ? CRDT_OP_DEC : kind == 2 ? CRDT_OP_REMOVE : CRDT_OP_ADD;
    break;
  case CRDT_TYPE_LWWREG: u.op = CRDT_OP_SET; break;
  case CRDT_TYPE_FLAG: u.op = kind ? CRDT_OP_DISABLE : CRDT_OP_ENABLE; break;
  case CRDT_TYPE_MAP: map_update(&u, names, i, kind); break;
  }
  int rc = crdt_object_update(o, &u, NULL);
  assert_true(rc == 0 || rc == CRDT_ENOENT || rc == CRDT_ESTALE);
  /* every map change, removes included, finds its field (61 excepted) */
  if (current == CRDT_TYPE_MAP && i != 61) assert_int_equal(rc, 0);
}

/* Adds (or removes) element "w<j>": of the OR-set, the cart, or the map's
 * OR-set "u0"/"tags". */
static void spread(crdt_object *o, int j, bool remove) {
  char elem[8];
  snprintf(elem, sizeof elem, "w%d", j);
  crdt_bytes names[2] = {{"u0", 2}, {"tags", 4}};
  crdt_update u;
  memset(&u, 0, sizeof u);
  u.arg = (crdt_bytes){elem, strlen(elem)};
  u.n = 1;
  u.op = remove ? CRDT_OP_REMOVE : CRDT_OP_ADD;
  if (current == CRDT_TYPE_MAP) {
    u.path = (crdt_path){names, 2};
    u.field = CRDT_FIELD_ORSET;
  }
  OK(crdt_object_update(o, &u, NULL));
}

/* Replicas "a" and "b" with shared history and concurrent changes. For
 * PHASE_WHOLE, a writes update 1 and takes it back, 60 times each, which
 * b has not seen: the cold round estimates about 135 removals, past
 * live / 6 + 64 (about 100 here), and lists live dots instead. With
 * the OR-set, cart and map, the shared history also holds 200 elements,
 * the first 11 kept, then every other one removed: about 95 runs of live
 * dots, more than one LIVE part of CAP_WHOLE holds, and more than the 64
 * the receiver first makes room for. */
static void build(world *w, int phase) {
  const bool sets = current == CRDT_TYPE_ORSET || current == CRDT_TYPE_CART ||
                    current == CRDT_TYPE_MAP;
  memset(w, 0, sizeof *w);
  w->cap = phase == PHASE_WHOLE && sets ? CAP_WHOLE : CAP;
  OK(crdt_object_new(current, "a", &w->o[0]));
  OK(crdt_object_new(current, "b", &w->o[1]));
  for (int i = 0; i < 14; i++) update(w->o[0], i, 0);
  for (int j = 0; phase == PHASE_WHOLE && sets && j < 200; j++)
    spread(w->o[0], j, false);
  for (int j = 11; phase == PHASE_WHOLE && sets && j < 200; j += 2)
    spread(w->o[0], j, true);
  OK(crdt_object_merge(w->o[1], w->o[0]));
  for (int i = 0; i < 9; i++) update(w->o[0], 20 + i, i % 3);
  for (int i = 0; i < 9; i++) update(w->o[1], 40 + i, (i + 1) % 3);
  if (phase == PHASE_WHOLE)
    for (int i = 0; i < 120; i++) update(w->o[0], 1, i % 2 ? 2 : 0);
  OK(crdt_sync_new(w->o[0], &w->s[0]));
  OK(crdt_sync_new(w->o[1], &w->s[1]));
}

static void teardown(world *w) {
  for (int i = 0; i < 2; i++) {
    for (size_t k = 0; k < w->n[i]; k++) free(w->q[i][k]);
    crdt_sync_free(w->s[i]);
    crdt_object_free(w->o[i]);
  }
}

/* Runs one step; returns the library's code (the step is done when 0). */
static int run(world *w, step st) {
  const int i = st.side;
  if (st.event) {
    /* a's change after its HELLO reaches b, by a merge, and dies there
     * before b's HELLO: b's dead dots name it, a must kill it too */
    update(w->o[0], 67, 0);
    OK(crdt_object_merge(w->o[1], w->o[0]));
    update(w->o[1], 67, 2);
    return 0;
  }
  if (!st.deliver) {
    uint8_t buf[CAP];
    size_t n;
    int rc = crdt_sync_produce(w->s[i], buf, w->cap, &n);
    if (rc || !n) return rc;
    assert_true(w->n[i] < MAXQ);
    w->q[i][w->n[i]] = malloc(n);
    assert_non_null(w->q[i][w->n[i]]);
    memcpy(w->q[i][w->n[i]], buf, n);
    w->len[i][w->n[i]++] = n;
    return 0;
  }
  const int from = 1 - i;
  if (!w->n[from]) return 0;
  int rc = crdt_sync_receive(w->s[i], w->q[from][0], w->len[from][0]);
  if (rc) return rc;
  free(w->q[from][0]);
  memmove(w->q[from], w->q[from] + 1, --w->n[from] * sizeof w->q[from][0]);
  memmove(w->len[from], w->len[from] + 1, w->n[from] * sizeof w->len[from][0]);
  return 0;
}

/* Both sides produce everything, then deliver everything, until quiet;
 * records the steps when `trace` is given. */
static void settle(world *w, step *trace, size_t *ntrace) {
  for (int round = 0; round < 40; round++) {
    bool any = false;
    for (int i = 0; i < 2; i++)
      for (size_t before = ~(size_t)0; before != w->n[i];) {
        before = w->n[i];
        OK(run(w, (step){i, false, false}));
        if (trace && w->n[i] != before) trace[(*ntrace)++] = (step){i, false, false};
      }
    for (int i = 0; i < 2; i++)
      while (w->n[1 - i]) {
        OK(run(w, (step){i, true, false}));
        if (trace) trace[(*ntrace)++] = (step){i, true, false};
        any = true;
      }
    if (!any && crdt_sync_in_sync(w->s[0]) && crdt_sync_in_sync(w->s[1])) return;
  }
  fail_msg("%s: sessions never got in sync", crdt_type_name(current));
}

/* The steps of the phase's exchange, from a run without failures: for
 * PHASE_CHANGED, a's HELLO and the event first. */
static void script(world *w, int phase, step *trace, size_t *ntrace) {
  if (phase == PHASE_CHANGED) {
    const step first[2] = {{0, false, false}, {0, false, true}};
    for (int i = 0; i < 2; i++) {
      OK(run(w, first[i]));
      trace[(*ntrace)++] = first[i];
    }
  }
  settle(w, trace, ntrace);
}

/* The phases of the exchange: cold, then warm after more changes, then
 * cold again after b lost its session. */
static void phase_prepare(world *w, int phase) {
  if (phase >= 1) {
    update(w->o[0], 60, 0);
    update(w->o[1], 61, 1);
    /* the map's 61 finds no element to remove: remove a field instead */
    if (current == CRDT_TYPE_MAP && phase == 1) update(w->o[1], 66, 2);
  }
  if (phase == 2) {
    crdt_sync_free(w->s[1]);
    OK(crdt_sync_new(w->o[1], &w->s[1]));
    update(w->o[0], 62, 2);
  }
}

static char *snapshot(world *w) {
  tu_alloc_pause();
  size_t total = 1;
  char *texts[2];
  uint8_t *blobs[2];
  size_t lens[2];
  for (int i = 0; i < 2; i++) {
    texts[i] = tu_object_text(w->o[i]);
    assert_int_equal(crdt_encode(w->o[i], NULL, 0, &lens[i]), CRDT_ENOSPC);
    blobs[i] = malloc(lens[i]);
    assert_non_null(blobs[i]);
    OK(crdt_encode(w->o[i], blobs[i], lens[i], &lens[i]));
    total += strlen(texts[i]) + 2 * lens[i] + 2;
  }
  char *out = malloc(total), *p = out;
  assert_non_null(out);
  for (int i = 0; i < 2; i++) {
    p += sprintf(p, "%s|", texts[i]);
    for (size_t k = 0; k < lens[i]; k++) p += sprintf(p, "%02x", blobs[i][k]);
    *p++ = '|';
    free(texts[i]);
    free(blobs[i]);
  }
  *p = 0;
  tu_alloc_resume();
  return out;
}

/* A world that went through the phases before `phase`, settled, and has
 * the changes of `phase` made; PHASE_WHOLE and PHASE_CHANGED start from
 * build. */
static void world_at(world *w, int phase) {
  build(w, phase);
  if (phase > 2) return;
  for (int p = 0; p < phase; p++) {
    phase_prepare(w, p);
    settle(w, NULL, NULL);
  }
  phase_prepare(w, phase);
}

static void check_type(crdt_type type) {
  current = type;
  tu_alloc_install();
  unsigned long points = 0;
  const bool dotted = type == CRDT_TYPE_ORSET || type == CRDT_TYPE_MVREG ||
                      type == CRDT_TYPE_CART || type == CRDT_TYPE_FLAG ||
                      type == CRDT_TYPE_MAP;
  for (int phase = 0; phase <= (dotted ? PHASE_CHANGED : 2); phase++) {
    step trace[4096];
    size_t ntrace = 0;
    {
      world w;
      world_at(&w, phase);
      script(&w, phase, trace, &ntrace);
      crdt_sync_stats st;
      OK(crdt_sync_get_stats(w.s[0], &st));
      /* the fixture does take the fallback (and only it does) */
      assert_int_equal(st.full_rounds, phase == PHASE_WHOLE);
      /* in PHASE_CHANGED, only when a kills its change on b's dead dots */
      assert_true(crdt_object_equal(w.o[0], w.o[1]));
      teardown(&w);
    }
    for (size_t t = 0; t < ntrace; t++) {
      for (long k = 0; !trace[t].event; k++) {
        size_t live = tu_alloc_live();
        world w;
        world_at(&w, phase);
        for (size_t u = 0; u < t; u++) OK(run(&w, trace[u]));
        char *before = snapshot(&w);
        tu_alloc_fail_at(k);
        int rc = run(&w, trace[t]);
        bool fired = tu_alloc_fired();
        tu_alloc_fail_at(-1);
        char *after = snapshot(&w);
        if (fired) {
          if (rc != CRDT_ENOMEM)
            fail_msg("%s phase %d step %zu (%s at %c), allocation %ld: %s",
                     crdt_type_name(type), phase, t,
                     trace[t].deliver ? "receive" : "produce",
                     "ab"[trace[t].side], k, crdt_err_name(rc));
          if (strcmp(before, after) != 0)
            fail_msg("%s phase %d step %zu, allocation %ld failed and an "
                     "object changed", crdt_type_name(type), phase, t, k);
          points++;
        } else {
          OK(rc);
        }
        free(before);
        free(after);
        settle(&w, NULL, NULL); /* the sync still finishes */
        if (!crdt_object_equal(w.o[0], w.o[1]))
          fail_msg("%s phase %d step %zu: not equal after a failure at %ld",
                   crdt_type_name(type), phase, t, k);
        teardown(&w);
        if (tu_alloc_live() != live)
          fail_msg("%s: %zu bytes leaked (phase %d step %zu, allocation %ld)",
                   crdt_type_name(type), tu_alloc_live() - live, phase, t, k);
        if (!fired) break;
      }
    }
  }
  printf("# %s: %lu allocation failures checked\n", crdt_type_name(type),
         points);
}

static void test_sync_oom_gcounter(void **state) { (void)state; check_type(CRDT_TYPE_GCOUNTER); }
static void test_sync_oom_pncounter(void **state) { (void)state; check_type(CRDT_TYPE_PNCOUNTER); }
static void test_sync_oom_orset(void **state) { (void)state; check_type(CRDT_TYPE_ORSET); }
static void test_sync_oom_mvreg(void **state) { (void)state; check_type(CRDT_TYPE_MVREG); }
static void test_sync_oom_cart(void **state) { (void)state; check_type(CRDT_TYPE_CART); }
static void test_sync_oom_lwwreg(void **state) { (void)state; check_type(CRDT_TYPE_LWWREG); }
static void test_sync_oom_flag(void **state) { (void)state; check_type(CRDT_TYPE_FLAG); }
static void test_sync_oom_map(void **state) { (void)state; check_type(CRDT_TYPE_MAP); }

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sync_oom_gcounter),
      cmocka_unit_test(test_sync_oom_pncounter),
      cmocka_unit_test(test_sync_oom_orset),
      cmocka_unit_test(test_sync_oom_mvreg),
      cmocka_unit_test(test_sync_oom_cart),
      cmocka_unit_test(test_sync_oom_lwwreg),
      cmocka_unit_test(test_sync_oom_flag),
      cmocka_unit_test(test_sync_oom_map),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

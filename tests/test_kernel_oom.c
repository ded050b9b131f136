/*
 * Allocation failure at every allocation of every kernel operation: the
 * operation returns CRDT_ENOMEM, leaves its object exactly as it was (same
 * text, same replica table) and leaks nothing (tu_check_oom).
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
#include "store.h"
#include "causal.h"
#include "testutil.h"
#include "text.h"
#include "vector.h"

static crdt_allocator mem; /* the counting hook, for the internal API */

static int group_setup(void **state) {
  (void)state;
  tu_alloc_install();
  mem = *crdt__mem_default();
  return 0;
}

static int group_teardown(void **state) {
  (void)state;
  return crdt_set_allocator(NULL);
}

/* ---- one fixture for every case ------------------------------------------ */

typedef struct fx {
  crdt_vv *vv, *vv_src, *vv_out;
  crdt_context *ctx, *ctx_src, *ctx_out;
  crdt__causal dst, src, out;
  /* crdt__causal_record: the acting replica's state, a read context, the
   * operation and its dot lists. */
  crdt__causal from, reader;
  crdt__op op;
  crdt__dv add[2], seen[8];
  char buf[4096];
  char visits[512];
} fx;

static fx *fx_new(void) {
  fx *f = calloc(1, sizeof *f);
  assert_non_null(f);
  return f;
}

static void teardown(void *fixture) {
  fx *f = fixture;
  crdt_vv_free(f->vv);
  crdt_vv_free(f->vv_src);
  crdt_vv_free(f->vv_out);
  crdt_context_free(f->ctx);
  crdt_context_free(f->ctx_src);
  crdt_context_free(f->ctx_out);
  crdt__causal *states[] = {&f->dst, &f->src, &f->out, &f->from, &f->reader};
  for (size_t i = 0; i < sizeof states / sizeof states[0]; i++)
    crdt__causal_free(states[i], &mem);
  free(f);
}

/* ---- snapshot: the text of everything in the fixture --------------------- */

static void put_vv(tu_sb *b, const char *name, const crdt_vv *v) {
  if (!v) return;
  size_t need = 0;
  assert_int_equal(crdt_vv_format(v, NULL, 0, &need), CRDT_ENOSPC);
  char *s = malloc(need + 1);
  assert_non_null(s);
  assert_int_equal(crdt_vv_format(v, s, need + 1, NULL), 0);
  tu_sb_printf(b, "%s=%s size=%zu\n", name, s, crdt_vv_size(v));
  free(s);
}

static void put_ctx(tu_sb *b, const char *name, const crdt_context *c) {
  if (!c) return;
  size_t need = 0;
  assert_int_equal(crdt_context_format(c, NULL, 0, &need), CRDT_ENOSPC);
  char *s = malloc(need + 1);
  assert_non_null(s);
  assert_int_equal(crdt_context_format(c, s, need + 1, NULL), 0);
  tu_sb_printf(b, "%s=%s cloud=%zu\n", name, s, crdt_context_cloud_size(c));
  free(s);
}

/* `name=` and the state as tu_causal_text writes it, on one line. */
static void put_causal(tu_sb *b, const char *name, const crdt__causal *c) {
  tu_sb_printf(b, "%s=", name);
  tu_causal_text(b, c);
  tu_sb_printf(b, "\n");
}

/* Formatting allocates through the same hook: paused, so that a snapshot
 * taken while a failure is armed neither fires nor consumes it. */
static char *snapshot(void *fixture) {
  fx *f = fixture;
  tu_alloc_pause();
  tu_sb b = {NULL, 0};
  put_vv(&b, "vv", f->vv);
  put_vv(&b, "vv_src", f->vv_src);
  tu_sb_printf(&b, "vv_out=%s\n", f->vv_out ? "set" : "NULL");
  put_ctx(&b, "ctx", f->ctx);
  put_ctx(&b, "ctx_src", f->ctx_src);
  tu_sb_printf(&b, "ctx_out=%s\n", f->ctx_out ? "set" : "NULL");
  put_causal(&b, "dst", &f->dst);
  put_causal(&b, "src", &f->src);
  put_causal(&b, "out", &f->out);
  put_causal(&b, "from", &f->from);
  put_causal(&b, "reader", &f->reader);
  /* A failed foreach reports nothing; a failed format is not compared. */
  tu_sb_printf(&b, "visits=%s\n", f->visits);
  tu_alloc_resume();
  return b.s;
}

static void check(const char *name, void *(*setup)(void), int (*run)(void *),
                  bool must_allocate) {
  tu_oom_case c = {name, setup, run, snapshot, teardown};
  unsigned points = tu_check_oom(&c);
  if (must_allocate && points == 0)
    fail_msg("%s: no allocation was exercised", name);
}

/* ---- building blocks ----------------------------------------------------- */

static crdt_vv *vv_with(unsigned nreplicas, const char *prefix) {
  crdt_vv *v = NULL;
  assert_int_equal(crdt_vv_new(&v), 0);
  char id[32];
  for (unsigned i = 0; i < nreplicas; i++) {
    snprintf(id, sizeof id, "%s%u", prefix, i);
    assert_int_equal(crdt_vv_observe(v, id, i + 1), 0);
  }
  return v;
}

static crdt_context *ctx_with(const char *replica, ...) {
  crdt_context *c = NULL;
  assert_int_equal(crdt_context_new(&c), 0);
  va_list ap;
  va_start(ap, replica);
  for (const char *r = replica; r; r = va_arg(ap, const char *))
    assert_int_equal(crdt_context_add(c, r, (uint64_t)va_arg(ap, int)), 0);
  va_end(ap);
  return c;
}

/* ---- version vectors ----------------------------------------------------- */

static void *setup_vv_empty(void) {
  fx *f = fx_new();
  f->vv = vv_with(0, "r");
  return f;
}

static void *setup_vv_four(void) {
  fx *f = fx_new();
  f->vv = vv_with(4, "r"); /* the tables are full at 4 */
  return f;
}

static int run_tick_new(void *fixture) {
  fx *f = fixture;
  return crdt_vv_tick(f->vv, "new", NULL);
}

static int run_tick_existing(void *fixture) {
  fx *f = fixture;
  return crdt_vv_tick(f->vv, "r2", NULL);
}

static int run_observe_new(void *fixture) {
  fx *f = fixture;
  return crdt_vv_observe(f->vv, "new", 7);
}

static void test_kernel_oom_vv_tick(void **state) {
  (void)state;
  check("tick into an empty vector", setup_vv_empty, run_tick_new, true);
  check("tick a fifth replica", setup_vv_four, run_tick_new, true);
  check("tick a known replica", setup_vv_four, run_tick_existing, false);
}

static void test_kernel_oom_vv_observe(void **state) {
  (void)state;
  check("observe into an empty vector", setup_vv_empty, run_observe_new, true);
  check("observe a fifth replica", setup_vv_four, run_observe_new, true);
}

static void *setup_vv_merge_disjoint(void) {
  fx *f = fx_new();
  f->vv = vv_with(2, "r");
  f->vv_src = vv_with(7, "s");
  return f;
}

/* Enough replicas that interning them grows the id hash's buckets. */
static void *setup_vv_merge_many(void) {
  fx *f = fx_new();
  f->vv = vv_with(3, "r");
  f->vv_src = vv_with(300, "r");
  return f;
}

static void *setup_vv_merge_into_empty(void) {
  fx *f = fx_new();
  f->vv = vv_with(0, "r");
  f->vv_src = vv_with(5, "r");
  return f;
}

static int run_merge(void *fixture) {
  fx *f = fixture;
  return crdt_vv_merge(f->vv, f->vv_src);
}

static void test_kernel_oom_vv_merge(void **state) {
  (void)state;
  check("merge disjoint replicas", setup_vv_merge_disjoint, run_merge, true);
  check("merge into an empty vector", setup_vv_merge_into_empty, run_merge,
        true);
  check("merge 300 replicas", setup_vv_merge_many, run_merge, true);
}

static void *setup_vv_six(void) {
  fx *f = fx_new();
  f->vv = vv_with(6, "r");
  return f;
}

static int run_vv_copy(void *fixture) {
  fx *f = fixture;
  return crdt_vv_copy(f->vv, &f->vv_out);
}

static int run_vv_format(void *fixture) {
  fx *f = fixture;
  return crdt_vv_format(f->vv, f->buf, sizeof f->buf, NULL);
}

static int log_visit(const char *replica, uint64_t counter, void *user) {
  fx *f = user;
  char item[96];
  snprintf(item, sizeof item, "%s:%llu ", replica, (unsigned long long)counter);
  strncat(f->visits, item, sizeof f->visits - strlen(f->visits) - 1);
  return 0;
}

static int run_vv_foreach(void *fixture) {
  fx *f = fixture;
  return crdt_vv_foreach(f->vv, log_visit, f);
}

static void test_kernel_oom_vv_copy(void **state) {
  (void)state;
  check("vv copy", setup_vv_six, run_vv_copy, true);
  check("vv copy of an empty vector", setup_vv_empty, run_vv_copy, true);
}

static void test_kernel_oom_vv_format(void **state) {
  (void)state;
  check("vv format", setup_vv_six, run_vv_format, true);
  /* The output of the successful run. */
  fx *f = setup_vv_six();
  assert_int_equal(run_vv_format(f), 0);
  assert_string_equal(f->buf, "{r0:1, r1:2, r2:3, r3:4, r4:5, r5:6}");
  teardown(f);
}

static void test_kernel_oom_vv_foreach(void **state) {
  (void)state;
  check("vv foreach", setup_vv_six, run_vv_foreach, true);
  fx *f = setup_vv_six();
  assert_int_equal(run_vv_foreach(f), 0);
  assert_string_equal(f->visits, "r0:1 r1:2 r2:3 r3:4 r4:5 r5:6 ");
  teardown(f);
}

/* ---- causal contexts ----------------------------------------------------- */

static void *setup_ctx_empty(void) {
  fx *f = fx_new();
  f->ctx = ctx_with(NULL);
  return f;
}

/* Six cloud dots: the cloud's table is at its load limit. */
static void *setup_ctx_full_cloud(void) {
  fx *f = fx_new();
  f->ctx = ctx_with("A", 2, "A", 4, "A", 6, "A", 8, "A", 10, "A", 12, NULL);
  return f;
}

static int run_add_new_replica(void *fixture) {
  fx *f = fixture;
  return crdt_context_add(f->ctx, "B", 3);
}

static int run_add_cloud(void *fixture) {
  fx *f = fixture;
  return crdt_context_add(f->ctx, "A", 14);
}

static int run_add_gap_filler(void *fixture) {
  fx *f = fixture;
  return crdt_context_add(f->ctx, "A", 1); /* compacts A1..A2 */
}

static void test_kernel_oom_context_add(void **state) {
  (void)state;
  check("add to an empty context", setup_ctx_empty, run_add_new_replica, true);
  check("add a new replica", setup_ctx_full_cloud, run_add_new_replica, true);
  check("add growing the cloud", setup_ctx_full_cloud, run_add_cloud, true);
  check("add filling a gap", setup_ctx_full_cloud, run_add_gap_filler, false);
}

static void *setup_ctx_join(void) {
  fx *f = fx_new();
  f->ctx = ctx_with("A", 1, "A", 3, "A", 5, "B", 2, NULL);
  f->ctx_src = ctx_with("A", 2, "A", 4, "B", 1, "C", 5, "C", 7, "D", 1, "E", 9,
                        "F", 2, "G", 4, "C", 9, NULL);
  return f;
}

static void *setup_ctx_join_into_empty(void) {
  fx *f = fx_new();
  f->ctx = ctx_with(NULL);
  f->ctx_src = ctx_with("A", 1, "A", 3, "B", 2, NULL);
  return f;
}

static int run_ctx_join(void *fixture) {
  fx *f = fixture;
  return crdt_context_join(f->ctx, f->ctx_src);
}

static int run_ctx_copy(void *fixture) {
  fx *f = fixture;
  return crdt_context_copy(f->ctx_src, &f->ctx_out);
}

static int run_ctx_format(void *fixture) {
  fx *f = fixture;
  return crdt_context_format(f->ctx, f->buf, sizeof f->buf, NULL);
}

static void test_kernel_oom_context_join(void **state) {
  (void)state;
  check("context join", setup_ctx_join, run_ctx_join, true);
  check("context join into empty", setup_ctx_join_into_empty, run_ctx_join,
        true);
}

static void test_kernel_oom_context_copy(void **state) {
  (void)state;
  check("context copy", setup_ctx_join, run_ctx_copy, true);
}

static int run_ctx_from(void *fixture) {
  fx *f = fixture;
  return crdt__context_from(crdt__context_ctx(f->ctx_src),
                            crdt__context_replicas(f->ctx_src), &f->ctx_out);
}

static void test_kernel_oom_context_from(void **state) {
  (void)state;
  /* On failure *out stays NULL (the snapshot shows it). */
  check("context from kernel set", setup_ctx_join, run_ctx_from, true);
}

static void test_kernel_oom_context_format(void **state) {
  (void)state;
  check("context format", setup_ctx_join, run_ctx_format, true);
  fx *f = setup_ctx_join();
  assert_int_equal(run_ctx_format(f), 0);
  assert_string_equal(f->buf, "{A:1} + {A:3, A:5, B:2}");
  teardown(f);
}

/* ---- causal states ------------------------------------------------------- */

/* A full state with new replicas, new keys, shared keys gaining and losing
 * dots, a large shared key, and a cloud. */
static void *setup_causal_full(void) {
  fx *f = fx_new();
  crdt__causal *d = &f->dst, *s = &f->src;
  tu_put(d, "x", "A", 1, 1);
  tu_put(d, "y", "A", 2, 2);
  tu_put(d, "gone", "A", 3, 3);
  for (uint64_t n = 10; n < 22; n++) tu_put(d, "big", "B", n, (int64_t)n);
  tu_see(d, "B", 1);
  tu_see(s, "A", 3); /* s saw and removed "gone" */
  tu_put(s, "x", "A", 1, 1);
  tu_put(s, "x", "C", 1, -1);
  for (uint64_t n = 15; n < 30; n++) tu_put(s, "big", "B", n, (int64_t)n);
  tu_see(s, "B", 10); /* ... and B10 of "big" */
  char key[16];
  for (int i = 0; i < 9; i++) {
    snprintf(key, sizeof key, "new%d", i);
    tu_put(s, key, i % 2 ? "D" : "E", 5 + (uint64_t)i, i);
  }
  return f;
}

static void *setup_causal_full_into_empty(void) {
  fx *f = setup_causal_full();
  crdt__causal_free(&f->dst, &mem);
  return f;
}

/* Two keyed deltas: markers on both sides, a marker brought in. */
static void *setup_causal_keyed(void) {
  fx *f = fx_new();
  crdt__causal *d = &f->dst, *s = &f->src;
  d->keyed = s->keyed = true;
  tu_put(d, "x", "A", 1, 1);
  tu_put(d, "y", "A", 2, 2);
  tu_entry_or_new(d, "m");
  tu_see(d, "A", 3);
  tu_entry_or_new(s, "x"); /* removal of x, observed A1 */
  tu_see(s, "A", 1);
  tu_see(s, "B", 1);
  tu_entry_or_new(s, "n"); /* removal of an absent key */
  tu_see(s, "B", 2);
  tu_put(s, "y", "B", 3, 9);
  tu_put(s, "z", "C", 1, 4);
  return f;
}

static int run_causal_join(void *fixture) {
  fx *f = fixture;
  return crdt__causal_join(&f->dst, &mem, &f->src);
}

static int run_causal_copy(void *fixture) {
  fx *f = fixture;
  return crdt__causal_copy(&f->out, &mem, &f->src);
}

static void test_kernel_oom_causal_join(void **state) {
  (void)state;
  check("causal join, full", setup_causal_full, run_causal_join, true);
  check("causal join, into empty", setup_causal_full_into_empty,
        run_causal_join, true);
  check("causal join, keyed", setup_causal_keyed, run_causal_join, true);
}

static void test_kernel_oom_causal_copy(void **state) {
  (void)state;
  check("causal copy, full", setup_causal_full, run_causal_copy, true);
  check("causal copy, keyed", setup_causal_keyed, run_causal_copy, true);
}

/* Replica "A" holds x with dots A1 and B1 (from B) and records an operation
 * on x into a delta that already holds other keys. */
static fx *setup_record_base(void) {
  fx *f = fx_new();
  tu_put(&f->from, "x", "A", 1, 0);
  tu_put(&f->from, "x", "B", 1, 0);
  f->dst.keyed = true;
  tu_put(&f->dst, "w", "A", 2, 5); /* an earlier delta of A */
  tu_entry_or_new(&f->dst, "v");
  tu_see(&f->dst, "A", 3);
  uint32_t a = crdt__replicas_find(&f->from.replicas, "A", 1);
  uint32_t b = crdt__replicas_find(&f->from.replicas, "B", 1);
  /* Its own context: A1..A3 (w and v were its events too). */
  tu_see(&f->from, "A", 2);
  tu_see(&f->from, "A", 3);
  f->seen[0] = (crdt__dv){1, a, 0};
  f->seen[1] = (crdt__dv){1, b, 0};
  f->op.dot = (crdt__dot){4, a};
  f->op.key = "x";
  f->op.keylen = 1;
  f->op.hash = tu_key_hash("x");
  f->op.seen = f->seen;
  f->op.nseen = 2;
  return f;
}

/* An add that supersedes what it saw (an OR-set re-add or a cart change). */
static void *setup_record_add(void) {
  fx *f = setup_record_base();
  f->add[0] = (crdt__dv){4, f->op.dot.replica, 12};
  f->op.add = f->add;
  f->op.nadd = 1;
  return f;
}

/* A removal: no dots added, the key stays listed as a marker. */
static void *setup_record_remove(void) { return setup_record_base(); }

/* A write based on a read context from another object (MV-register). */
static void *setup_record_extra(void) {
  fx *f = setup_record_add();
  /* Joined into a full state (a delta with a read context is not keyed). */
  f->dst.keyed = false;
  crdt__store_delete(&f->dst.store, &mem,
                     crdt__store_find(&f->dst.store, "v", 1, tu_key_hash("v")));
  tu_see(&f->reader, "B", 1);
  tu_see(&f->reader, "C", 7);
  tu_see(&f->reader, "D", 1);
  tu_see(&f->reader, "A", 1);
  /* The client had read w's value: the write supersedes it. */
  tu_see(&f->reader, "A", 2);
  f->op.extra = &f->reader.ctx;
  f->op.extra_replicas = &f->reader.replicas;
  return f;
}

static int run_record(void *fixture) {
  fx *f = fixture;
  return crdt__causal_record(&f->dst, &mem, &f->from.replicas, &f->op);
}

static void test_kernel_oom_causal_record(void **state) {
  (void)state;
  check("record an add", setup_record_add, run_record, true);
  /* The delta lists the key and has room: recorded in place. */
  check("record a removal", setup_record_remove, run_record, false);
  check("record with a read context", setup_record_extra, run_record, true);
  /* What the successful runs produce. */
  fx *f = setup_record_remove();
  assert_int_equal(run_record(f), 0);
  char *s = snapshot(f);
  /* (The replica table's order is the kernel's business: not compared.) */
  assert_non_null(strstr(s, "dst=keyed replicas="));
  assert_non_null(strstr(s, " ctx={A:4, B:1} v:[] w:[A:2=5] x:[]\n"));
  free(s);
  teardown(f);
  f = setup_record_extra();
  assert_int_equal(run_record(f), 0);
  s = snapshot(f);
  assert_non_null(strstr(s, "dst=replicas="));
  assert_non_null(strstr(s, " ctx={A:4, B:1, D:1} + {C:7} x:[A:4=12]\n"));
  free(s);
  teardown(f);
}

/* ---- the replica table --------------------------------------------------- */

static void *setup_replicas_map(void) {
  fx *f = fx_new();
  char id[16];
  for (int i = 0; i < 300; i++) {
    snprintf(id, sizeof id, "id-%d", i);
    tu_rep(&f->src, id);
  }
  tu_rep(&f->dst, "id-7");
  return f;
}

static int run_replicas_map(void *fixture) {
  fx *f = fixture;
  uint32_t *map;
  int rc = crdt__replicas_map(&f->dst.replicas, &mem, &f->src.replicas, &map);
  if (rc) {
    assert_null(map);
    return rc;
  }
  for (uint32_t i = 0; i < f->src.replicas.count; i++) {
    size_t len;
    const char *id = crdt__replicas_id(&f->src.replicas, i, &len);
    assert_int_equal(crdt__replicas_find(&f->dst.replicas, id, len), map[i]);
  }
  crdt__free(&mem, map, f->src.replicas.count * sizeof *map);
  return 0;
}

/* Interning hundreds of ids grows the index array, the table and the id
 * chunks many times; a failure at any of them must roll every id interned
 * so far back. */
static void test_kernel_oom_replicas_map(void **state) {
  (void)state;
  check("replicas map", setup_replicas_map, run_replicas_map, true);
  fx *f = setup_replicas_map();
  assert_true(f->src.replicas.mask + 1 >= 2 * 300); /* load <= 1/2 */
  assert_int_equal(run_replicas_map(f), 0);
  assert_int_equal(f->dst.replicas.count, 300);
  assert_int_equal(crdt__replicas_find(&f->dst.replicas, "id-7", 4), 0);
  teardown(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_kernel_oom_vv_tick),
      cmocka_unit_test(test_kernel_oom_vv_observe),
      cmocka_unit_test(test_kernel_oom_vv_merge),
      cmocka_unit_test(test_kernel_oom_vv_copy),
      cmocka_unit_test(test_kernel_oom_vv_format),
      cmocka_unit_test(test_kernel_oom_vv_foreach),
      cmocka_unit_test(test_kernel_oom_context_add),
      cmocka_unit_test(test_kernel_oom_context_join),
      cmocka_unit_test(test_kernel_oom_context_copy),
      cmocka_unit_test(test_kernel_oom_context_from),
      cmocka_unit_test(test_kernel_oom_context_format),
      cmocka_unit_test(test_kernel_oom_causal_join),
      cmocka_unit_test(test_kernel_oom_causal_copy),
      cmocka_unit_test(test_kernel_oom_causal_record),
      cmocka_unit_test(test_kernel_oom_replicas_map),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

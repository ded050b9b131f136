/*
 * Hand-built causal states for the kernel's tests (see causal.h).
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "causal.h"
#include "testutil.h"
#include "text.h"

void tu_sb_printf(tu_sb *b, const char *fmt, ...) {
  va_list ap, ap2;
  va_start(ap, fmt);
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap);
  assert_true(n >= 0);
  b->s = realloc(b->s, b->len + (size_t)n + 1);
  assert_non_null(b->s);
  vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap2);
  b->len += (size_t)n;
  va_end(ap2);
  va_end(ap);
}

uint32_t tu_key_hash(const char *key) {
  return crdt__key_hash(key, strlen(key));
}

uint32_t tu_rep(crdt__causal *c, const char *id) {
  uint32_t index;
  assert_int_equal(crdt__causal_replica(c, crdt__mem_default(), id,
                                        strlen(id), &index),
                   0);
  return index;
}

crdt__entry *tu_entry(const crdt__causal *c, const char *key) {
  return crdt__store_find(&c->store, key, strlen(key), tu_key_hash(key));
}

crdt__entry *tu_entry_or_new(crdt__causal *c, const char *key) {
  crdt__entry *e = tu_entry(c, key);
  if (!e)
    assert_int_equal(crdt__store_insert(&c->store, crdt__mem_default(), key,
                                        strlen(key), tu_key_hash(key), &e),
                     0);
  return e;
}

void tu_see(crdt__causal *c, const char *id, uint64_t n) {
  crdt__ctx_add(&c->ctx, (crdt__dot){n, tu_rep(c, id)});
}

void tu_put(crdt__causal *c, const char *key, const char *id, uint64_t n,
            int64_t value) {
  uint32_t r = tu_rep(c, id);
  crdt__entry *e = tu_entry_or_new(c, key);
  crdt__dv d = {n, r, value};
  assert_int_equal(crdt__entry_reserve(e, crdt__mem_default(), e->ndots + 1,
                                       e->ndots == 0 && crdt__dv_packable(d)),
                   0);
  crdt__entry_push(e, d);
  crdt__ctx_add(&c->ctx, (crdt__dot){n, r});
}

void tu_causal_text(tu_sb *b, const crdt__causal *c) {
  const crdt_allocator *m = crdt__mem_default();
  tu_alloc_pause();
  tu_sb_printf(b, "%sreplicas=", c->keyed ? "keyed " : "");
  for (uint32_t i = 0; i < c->replicas.count; i++)
    tu_sb_printf(b, "%s%s", i ? "," : "",
                 crdt__replicas_id(&c->replicas, i, NULL));
  crdt__text measure = {NULL, 0, 0};
  assert_int_equal(crdt__ctx_format(&measure, &c->ctx, &c->replicas, m), 0);
  char *ctx = malloc(measure.len + 1);
  assert_non_null(ctx);
  crdt__text t = {ctx, measure.len + 1, 0};
  assert_int_equal(crdt__ctx_format(&t, &c->ctx, &c->replicas, m), 0);
  assert_int_equal(crdt__text_finish(&t, NULL), 0);
  tu_sb_printf(b, " ctx=%s", ctx);
  free(ctx);
  const crdt__entry **sorted;
  assert_int_equal(crdt__store_sorted(&c->store, m, &sorted), 0);
  for (uint32_t k = 0; k < c->store.count; k++) {
    const crdt__entry *e = sorted[k];
    tu_sb_printf(b, " %.*s:[", (int)e->keylen,
                 (const char *)crdt__entry_key(e));
    crdt__dv *dots = malloc((e->ndots + 1) * sizeof *dots);
    assert_non_null(dots);
    crdt__entry_sorted_dots(e, &c->replicas, dots);
    for (uint32_t i = 0; i < e->ndots; i++)
      tu_sb_printf(b, "%s%s:%llu=%lld", i ? " " : "",
                   crdt__replicas_id(&c->replicas, dots[i].replica, NULL),
                   (unsigned long long)dots[i].counter,
                   (long long)dots[i].value);
    tu_sb_printf(b, "]");
    free(dots);
  }
  crdt__free(m, sorted, c->store.count * sizeof *sorted);
  tu_alloc_resume();
}

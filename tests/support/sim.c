/*
 * The lockstep runner (see model.h): real replicas driven through the
 * public API next to the reference model of model.c, compared after every
 * step. Failures go to the caller's hook, so the same code serves cmocka
 * tests and fuzzers.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

static void sim_vfailf(sim_fail_fn fail, const char *fmt, va_list ap) {
  static char msg[8192];
  vsnprintf(msg, sizeof msg, fmt, ap);
  fail(msg);
  abort(); /* the hook must not return */
}

void sim_failf(sim_fail_fn fail, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  sim_vfailf(fail, fmt, ap);
  va_end(ap);
}

static void simfail(sim *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void simfail(sim *s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  sim_vfailf(s->fail, fmt, ap);
  va_end(ap);
}

#define FAIL_OK(fail, expr)                                                    \
  do {                                                                         \
    int rc_ = (expr);                                                          \
    if (rc_) sim_failf(fail, "%s: %s", #expr, crdt_err_name(rc_));            \
  } while (0)
#define SIM_OK(s, expr) FAIL_OK((s)->fail, expr)

char *sim_text(sim_fail_fn fail, const crdt_object *o,
               int (*fmt)(const crdt_object *, char *, size_t, size_t *)) {
  size_t need = 0;
  int rc = fmt(o, NULL, 0, &need);
  if (rc == CRDT_ENOTSUP) return NULL;
  if (rc != CRDT_ENOSPC) sim_failf(fail, "size query: %s", crdt_err_name(rc));
  char *t = malloc(need + 1);
  if (!t) sim_failf(fail, "out of memory");
  FAIL_OK(fail, fmt(o, t, need + 1, NULL));
  return t;
}

uint8_t *sim_encode(sim_fail_fn fail, const crdt_object *o, size_t *len) {
  size_t need = 0;
  int rc = crdt_encode(o, NULL, 0, &need);
  if (rc != CRDT_ENOSPC) sim_failf(fail, "encode size: %s", crdt_err_name(rc));
  uint8_t *b = malloc(need);
  if (!b) sim_failf(fail, "out of memory");
  FAIL_OK(fail, crdt_encode(o, b, need, len));
  if (*len != need) sim_failf(fail, "encode: size changed");
  return b;
}

crdt_object *sim_decode(sim_fail_fn fail, const uint8_t *b, size_t len,
                        const char *owner, crdt_type type) {
  crdt_object *o = NULL;
  FAIL_OK(fail, crdt_decode(b, len, owner, &o));
  if (crdt_object_type(o) != type) sim_failf(fail, "decode: wrong type");
  return o;
}

crdt_object *sim_join(sim_fail_fn fail, const crdt_object *a,
                      const crdt_object *b) {
  crdt_object *j = NULL;
  FAIL_OK(fail, crdt_object_copy(a, &j));
  FAIL_OK(fail, crdt_object_merge(j, b));
  return j;
}

void sim_same_state(sim_fail_fn fail, const crdt_object *a,
                    const crdt_object *b, const char *law) {
  if (!crdt_object_equal(a, b)) {
    char *ta = sim_text(fail, a, crdt_object_value_json);
    char *tb = sim_text(fail, b, crdt_object_value_json);
    sim_failf(fail, "%s violated: %s vs %s", law, ta, tb);
  }
  size_t la, lb;
  uint8_t *ba = sim_encode(fail, a, &la), *bb = sim_encode(fail, b, &lb);
  if (la != lb || memcmp(ba, bb, la) != 0)
    sim_failf(fail, "%s: equal states encode differently", law);
  free(ba);
  free(bb);
}

#define lib_text(s, o, fmt) sim_text((s)->fail, o, fmt)
#define lib_encode(s, o, len) sim_encode((s)->fail, o, len)
#define lib_decode(s, b, len, owner)                                           \
  sim_decode((s)->fail, b, len, owner, (s)->m.type)

static crdt_object *lib_new(sim *s, const char *owner) {
  crdt_object *o = NULL;
  SIM_OK(s, crdt_object_new(s->m.type, owner, &o));
  return o;
}

/* An object that has seen `set` prints what the model says. */
static void check_object(sim *s, const crdt_object *o, const model_set *set,
                         const char *what) {
  s->checks++;
  char *want = model_value_json(&s->m, set);
  char *got = lib_text(s, o, crdt_object_value_json);
  char *want_ctx = model_context_text(&s->m, set);
  char *got_ctx = lib_text(s, o, crdt_object_context_text);
  if (!want || strcmp(want, got) != 0 ||
      ((want_ctx || got_ctx) &&
       (!want_ctx || !got_ctx || strcmp(want_ctx, got_ctx) != 0)))
    simfail(s, "%s differs from the model:\n  model:   %s %s\n  library: %s %s",
            what, want ? want : "?", want_ctx ? want_ctx : "-", got,
            got_ctx ? got_ctx : "-");
  if (s->check_determined && !model_determined(&s->m, set))
    simfail(s, "%s: the model's state is not determined by its context "
               "(value %s, context %s)", what, want, want_ctx);
  if (model_closed(&s->m, set)) {
    char *hb = model_value_json_hb(&s->m, set);
    if (!hb || strcmp(hb, want) != 0)
      simfail(s, "model self-check: happens-before reading %s, rule %s",
              hb ? hb : "?", want);
    free(hb);
  }
  free(want);
  free(got);
  free(want_ctx);
  free(got_ctx);
}

sim *sim_new(crdt_type type, unsigned n, const char *const *ids,
             void (*fail)(const char *what)) {
  sim *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  model_init(&s->m, type, n, ids);
  s->fail = fail;
  s->check_determined = !model_replaces_on_readd(type);
  for (unsigned r = 0; r < n; r++) s->rep[r] = lib_new(s, ids[r]);
  return s;
}

void sim_free(sim *s) {
  if (!s) return;
  for (unsigned r = 0; r < s->m.nreplicas; r++) crdt_object_free(s->rep[r]);
  for (unsigned e = 0; e < s->m.nevents; e++) free(s->delta[e]);
  for (unsigned t = 0; t < SIM_TOKENS; t++) crdt_context_free(s->tok[t]);
  free(s);
}

void sim_check(sim *s, unsigned r) {
  const model *m = &s->m;
  char what[96];
  snprintf(what, sizeof what, "replica %s", m->id[r]);
  check_object(s, s->rep[r], &m->seen[r], what);
  for (unsigned q = 0; q < m->nreplicas; q++) {
    crdt_order got;
    int rc = crdt_object_compare(s->rep[r], s->rep[q], &got);
    if (m->type == CRDT_TYPE_LWWREG) {
      if (rc != CRDT_ENOTSUP) simfail(s, "LWW compare: %s", crdt_err_name(rc));
      continue;
    }
    if (rc) simfail(s, "compare: %s", crdt_err_name(rc));
    crdt_order want = model_order(m, &m->seen[r], &m->seen[q]);
    if (got != want)
      simfail(s, "compare(%s, %s) = %s, model: %s", m->id[r], m->id[q],
              crdt_order_name(got), crdt_order_name(want));
  }
}

/* Readers that take a key agree with the model too. */
static void check_key(sim *s, unsigned r, const void *key, size_t len) {
  const model_set *seen = &s->m.seen[r];
  crdt_object *o = s->rep[r];
  switch (s->m.type) {
  case CRDT_TYPE_ORSET:
    if (crdt_orset_contains(crdt_object_orset(o), key, len) !=
        model_orset_contains(&s->m, seen, key, len))
      simfail(s, "orset_contains disagrees with the model");
    break;
  case CRDT_TYPE_CART: {
    int64_t got = crdt_cart_quantity(crdt_object_cart(o), key, len);
    int64_t want = model_cart_quantity(&s->m, seen, key, len);
    if (got != want)
      simfail(s, "cart_quantity %lld, model %lld", (long long)got,
              (long long)want);
    break;
  }
  case CRDT_TYPE_MVREG:
    if (crdt_mvreg_count(crdt_object_mvreg(o)) != model_mvreg_count(&s->m, seen))
      simfail(s, "mvreg_count disagrees with the model");
    break;
  case CRDT_TYPE_FLAG:
    if (crdt_flag_enabled(crdt_object_flag(o)) !=
        model_flag_enabled(&s->m, seen))
      simfail(s, "flag_enabled disagrees with the model");
    break;
  default:
    break;
  }
}

typedef struct resolve_choice {
  uint64_t n;   /* which sibling to choose (mod their number) */
  size_t count; /* how many were offered */
} resolve_choice;

static int sim_resolver(const crdt_bytes *siblings, size_t n,
                        crdt_bytes *chosen, void *user) {
  resolve_choice *c = user;
  c->count = n;
  *chosen = siblings[c->n % n];
  return 0;
}

/* Calls the library's mutator. *model_rc gets the model's verdict, made
 * with the same arguments (for resolve, after the library chose). */
static int lib_update(sim *s, unsigned r, sim_kind kind, const void *key,
                      size_t len, uint64_t n, int token, crdt_object *delta,
                      int *model_rc, unsigned *ev) {
  model *m = &s->m;
  crdt_object *o = s->rep[r];
  uint64_t taken = 0, want_taken = 0;
  int rc = CRDT_EINVAL;
  *model_rc = CRDT_EINVAL;
  switch (m->type) {
  case CRDT_TYPE_GCOUNTER:
    rc = crdt_gcounter_inc(crdt_object_gcounter(o), n,
                           crdt_object_gcounter(delta));
    *model_rc = model_counter_inc(m, r, n, ev);
    break;
  case CRDT_TYPE_PNCOUNTER:
    if (kind == SIM_DEC) {
      rc = crdt_pncounter_dec(crdt_object_pncounter(o), n,
                              crdt_object_pncounter(delta));
      *model_rc = model_counter_dec(m, r, n, ev);
    } else {
      rc = crdt_pncounter_inc(crdt_object_pncounter(o), n,
                              crdt_object_pncounter(delta));
      *model_rc = model_counter_inc(m, r, n, ev);
    }
    break;
  case CRDT_TYPE_ORSET:
    if (kind == SIM_REMOVE) {
      rc = crdt_orset_remove(crdt_object_orset(o), key, len,
                             crdt_object_orset(delta));
      *model_rc = model_orset_remove(m, r, key, len, ev);
    } else {
      rc = crdt_orset_add(crdt_object_orset(o), key, len,
                          crdt_object_orset(delta));
      *model_rc = model_orset_add(m, r, key, len, ev);
    }
    break;
  case CRDT_TYPE_CART:
    if (kind == SIM_REMOVE) {
      rc = crdt_cart_remove(crdt_object_cart(o), key, len,
                            crdt_object_cart(delta));
      *model_rc = model_cart_remove(m, r, key, len, ev);
    } else if (kind == SIM_DEC) {
      rc = crdt_cart_dec(crdt_object_cart(o), key, len, n,
                         crdt_object_cart(delta), &taken);
      *model_rc = model_cart_dec(m, r, key, len, n, &want_taken, ev);
      if (rc == 0 && *model_rc == 0 && taken != want_taken)
        simfail(s, "cart_dec took %llu, model %llu",
                (unsigned long long)taken, (unsigned long long)want_taken);
    } else {
      rc = crdt_cart_add(crdt_object_cart(o), key, len, n,
                         crdt_object_cart(delta));
      *model_rc = model_cart_add(m, r, key, len, n, ev);
    }
    break;
  case CRDT_TYPE_MVREG:
    if (kind == SIM_RESOLVE) {
      resolve_choice c = {n, 0};
      size_t want = model_mvreg_count(m, &m->seen[r]);
      rc = crdt_mvreg_resolve(crdt_object_mvreg(o), sim_resolver, &c,
                              crdt_object_mvreg(delta));
      if (want == 0) {
        *model_rc = CRDT_ENOENT;
      } else {
        if (c.count != want)
          simfail(s, "resolve offered %zu siblings, model %zu", c.count, want);
        /* siblings come in canonical order: the model picks the same one
         * from its own list (the value check then confirms it) */
        model_key chosen = *model_mvreg_sibling(m, &m->seen[r], n);
        *model_rc = model_mvreg_write(m, r, chosen.bytes, chosen.len, NULL, ev);
      }
    } else {
      crdt_context *ctx = NULL;
      const model_set *read = NULL;
      model_set from;
      if (token == SIM_BLIND) {
        SIM_OK(s, crdt_context_new(&ctx));
        model_set_clear(&from);
        read = &from;
      } else if (token <= SIM_FROM(0)) {
        unsigned q = (unsigned)(SIM_FROM(0) - token);
        SIM_OK(s, crdt_mvreg_context(crdt_object_mvreg(s->rep[q]), &ctx));
        model_known(m, &m->seen[q], &from);
        read = &from;
      } else if (token >= 0 && token < SIM_TOKENS && s->tok[token]) {
        SIM_OK(s, crdt_context_copy(s->tok[token], &ctx));
        from = s->tokset[token];
        read = &from;
      }
      rc = crdt_mvreg_write(crdt_object_mvreg(o), key, len, ctx,
                            crdt_object_mvreg(delta));
      *model_rc = model_mvreg_write(m, r, key, len, read, ev);
      crdt_context_free(ctx);
    }
    break;
  case CRDT_TYPE_LWWREG:
    rc = crdt_lwwreg_write(crdt_object_lwwreg(o), key, len, n,
                           crdt_object_lwwreg(delta));
    *model_rc = model_lwwreg_write(m, r, key, len, n, ev);
    break;
  case CRDT_TYPE_FLAG:
    if (kind == SIM_REMOVE) {
      rc = crdt_flag_disable(crdt_object_flag(o), crdt_object_flag(delta));
      *model_rc = model_flag_disable(m, r, ev);
    } else {
      rc = crdt_flag_enable(crdt_object_flag(o), crdt_object_flag(delta));
      *model_rc = model_flag_enable(m, r, ev);
    }
    break;
  case CRDT_TYPE_MAP: /* modelled apart: tests/support/map_model.c */
    break;
  }
  return rc;
}

int sim_update(sim *s, unsigned r, sim_kind kind, const void *key, size_t len,
               uint64_t n, int token) {
  model *m = &s->m;
  if (model_full(m)) return CRDT_ETOOMANY;
  crdt_object *delta = lib_new(s, NULL);
  size_t empty_len;
  uint8_t *empty = lib_encode(s, delta, &empty_len);
  unsigned ev = 0;
  int want;
  int rc = lib_update(s, r, kind, key, len, n, token, delta, &want, &ev);
  if (rc != want)
    simfail(s, "update (kind %d) at %s returned %s, model %s", (int)kind,
            m->id[r], crdt_err_name(rc), crdt_err_name(want));
  size_t dlen;
  uint8_t *d = lib_encode(s, delta, &dlen);
  if (rc == 0) {
    s->delta[ev] = d;
    s->delta_len[ev] = dlen;
    check_object(s, delta, model_delta(m, ev), "delta");
    free(empty);
  } else {
    if (dlen != empty_len || memcmp(d, empty, dlen) != 0)
      simfail(s, "failed update (%s) changed its delta", crdt_err_name(rc));
    free(d);
    free(empty);
  }
  crdt_object_free(delta);
  check_key(s, r, key, len);
  sim_check(s, r);
  return rc;
}

void sim_sync(sim *s, unsigned src, unsigned dst, bool via_bytes) {
  if (via_bytes) {
    size_t len;
    uint8_t *b = lib_encode(s, s->rep[src], &len);
    crdt_object *o = lib_decode(s, b, len, NULL);
    SIM_OK(s, crdt_object_merge(s->rep[dst], o));
    crdt_object_free(o);
    free(b);
  } else {
    SIM_OK(s, crdt_object_merge(s->rep[dst], s->rep[src]));
  }
  model_receive(&s->m, dst, &s->m.seen[src]);
  sim_check(s, dst);
}

void sim_deliver(sim *s, unsigned e, unsigned dst) {
  crdt_object *o = lib_decode(s, s->delta[e], s->delta_len[e], NULL);
  SIM_OK(s, crdt_object_merge(s->rep[dst], o));
  crdt_object_free(o);
  model_receive(&s->m, dst, model_delta(&s->m, e));
  sim_check(s, dst);
}

void sim_deliver_group(sim *s, const unsigned *events, size_t n, unsigned dst,
                       bool via_bytes) {
  crdt_object *g = lib_new(s, NULL);
  model_set set;
  model_set_clear(&set);
  for (size_t i = 0; i < n; i++) {
    crdt_object *o = lib_decode(s, s->delta[events[i]],
                                s->delta_len[events[i]], NULL);
    SIM_OK(s, crdt_object_merge(g, o));
    crdt_object_free(o);
    model_set_union(&set, model_delta(&s->m, events[i]));
  }
  check_object(s, g, &set, "delta group");
  if (via_bytes) {
    size_t len;
    uint8_t *b = lib_encode(s, g, &len);
    crdt_object_free(g);
    g = lib_decode(s, b, len, NULL);
    free(b);
  }
  SIM_OK(s, crdt_object_merge(s->rep[dst], g));
  crdt_object_free(g);
  model_receive(&s->m, dst, &set);
  sim_check(s, dst);
}

void sim_restart(sim *s, unsigned r) {
  size_t len;
  uint8_t *b = lib_encode(s, s->rep[r], &len);
  crdt_object *o = lib_decode(s, b, len, s->m.id[r]);
  free(b);
  const char *owner = crdt_object_replica(o);
  if (!owner || strcmp(owner, s->m.id[r]) != 0)
    simfail(s, "decoded state has owner %s", owner ? owner : "(none)");
  if (!crdt_object_equal(o, s->rep[r])) simfail(s, "restart changed the state");
  crdt_object_free(s->rep[r]);
  s->rep[r] = o;
  sim_check(s, r);
}

void sim_take_token(sim *s, unsigned r, unsigned slot, int join) {
  if (s->m.type != CRDT_TYPE_MVREG || slot >= SIM_TOKENS) return;
  crdt_context *c = NULL;
  SIM_OK(s, crdt_mvreg_context(crdt_object_mvreg(s->rep[r]), &c));
  model_set set;
  model_known(&s->m, &s->m.seen[r], &set);
  if (join >= 0 && join < SIM_TOKENS && s->tok[join]) {
    SIM_OK(s, crdt_context_join(c, s->tok[join]));
    model_set_union(&set, &s->tokset[join]);
  }
  crdt_context_free(s->tok[slot]);
  s->tok[slot] = c;
  s->tokset[slot] = set;
}

void sim_final(sim_fail_fn fail, crdt_type type, crdt_object *const *rep,
               unsigned n, uint8_t *const *delta, const size_t *delta_len,
               unsigned nevents, sim_final_check check, void *user) {
  for (unsigned i = 0; i < n; i++) {
    crdt_object *aa = sim_join(fail, rep[i], rep[i]);
    sim_same_state(fail, aa, rep[i], "idempotence");
    crdt_object_free(aa);
    for (unsigned j = i + 1; j < n; j++) {
      crdt_object *ab = sim_join(fail, rep[i], rep[j]);
      crdt_object *ba = sim_join(fail, rep[j], rep[i]);
      sim_same_state(fail, ab, ba, "commutativity");
      check(user, (int)i, (int)j, ab);
      crdt_object_free(ab);
      crdt_object_free(ba);
    }
    /* round trip: identical bytes, equal state */
    size_t len, len2;
    uint8_t *b = sim_encode(fail, rep[i], &len);
    crdt_object *o = sim_decode(fail, b, len, NULL, type);
    uint8_t *b2 = sim_encode(fail, o, &len2);
    if (len != len2 || memcmp(b, b2, len) != 0)
      sim_failf(fail, "encode/decode/encode changed the bytes");
    if (!crdt_object_equal(o, rep[i]))
      sim_failf(fail, "decoded state differs from the original");
    crdt_object_free(o);
    free(b);
    free(b2);
  }
  if (n >= 3) {
    crdt_object *ab = sim_join(fail, rep[0], rep[1]);
    crdt_object *ab_c = sim_join(fail, ab, rep[2]);
    crdt_object *bc = sim_join(fail, rep[1], rep[2]);
    crdt_object *a_bc = sim_join(fail, rep[0], bc);
    sim_same_state(fail, ab_c, a_bc, "associativity");
    crdt_object_free(ab);
    crdt_object_free(ab_c);
    crdt_object_free(bc);
    crdt_object_free(a_bc);
  }
  /* everything: all replicas, and all deltas as one group (last first) */
  crdt_object *all = NULL, *group = NULL, *fresh = NULL;
  FAIL_OK(fail, crdt_object_new(type, NULL, &all));
  FAIL_OK(fail, crdt_object_new(type, NULL, &group));
  FAIL_OK(fail, crdt_object_new(type, "fresh", &fresh));
  for (unsigned r = 0; r < n; r++)
    FAIL_OK(fail, crdt_object_merge(all, rep[r]));
  check(user, SIM_FINAL_ALL, 0, all);
  for (unsigned e = nevents; e-- > 0;) {
    crdt_object *d = sim_decode(fail, delta[e], delta_len[e], NULL, type);
    FAIL_OK(fail, crdt_object_merge(group, d));
    crdt_object_free(d);
  }
  check(user, SIM_FINAL_GROUP, 0, group);
  FAIL_OK(fail, crdt_object_merge(fresh, group));
  sim_same_state(fail, fresh, all, "delta group vs full-state merge");
  crdt_object_free(fresh);
  crdt_object_free(all);
  crdt_object_free(group);
}

/* sim_final's check against the flat model. */
static void final_check(void *user, int i, int j, const crdt_object *o) {
  sim *s = user;
  const model *m = &s->m;
  model_set set;
  model_set_clear(&set);
  if (i >= 0) {
    model_set_union(&set, &m->seen[i]);
    model_set_union(&set, &m->seen[j]);
    check_object(s, o, &set, "join of two replicas");
  } else if (i == SIM_FINAL_ALL) {
    for (unsigned r = 0; r < m->nreplicas; r++)
      model_set_union(&set, &m->seen[r]);
    check_object(s, o, &set, "join of all replicas");
  } else {
    model_set every;
    model_set_clear(&every);
    for (unsigned e = 0; e < m->nevents; e++)
      model_set_union(&set, model_delta(m, e));
    for (unsigned r = 0; r < m->nreplicas; r++)
      model_set_union(&every, &m->seen[r]);
    check_object(s, o, &set, "group of every delta");
    /* every event is in its maker's seen set, so both saw everything */
    if (model_set_order(&every, &set) != CRDT_EQUAL)
      simfail(s, "model: replicas and deltas saw different events");
  }
}

void sim_check_final(sim *s) {
  sim_final(s->fail, s->m.type, s->rep, s->m.nreplicas, s->delta,
            s->delta_len, s->m.nevents, final_check, s);
}

crdt_object *sim_detach(sim *s, unsigned r) {
  crdt_object *orig = s->rep[r], *copy = NULL;
  SIM_OK(s, crdt_object_copy(orig, &copy));
  s->rep[r] = copy;
  return orig;
}

void sim_reattach(sim *s, unsigned r, crdt_object *original) {
  crdt_object_free(s->rep[r]);
  s->rep[r] = original;
}

void sim_rewind(sim *s, const model_mark *mark) {
  for (unsigned e = mark->nevents; e < s->m.nevents; e++) {
    free(s->delta[e]);
    s->delta[e] = NULL;
  }
  model_restore(&s->m, mark);
}

/*
 * The map's lockstep runner (see map_model.h): real crdt_map replicas
 * driven through the public API (crdt_map_* and crdt_object_update) next to
 * the model of map_model.c, compared after every step: return codes, the
 * value's JSON, the context's text, compare() against every replica, every
 * reader, and each update's delta.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "map_model.h"

#define MS_OK(s, expr)                                                         \
  do {                                                                         \
    int rc_ = (expr);                                                          \
    if (rc_) sim_failf((s)->fail, "%s: %s", #expr, crdt_err_name(rc_));       \
  } while (0)

static crdt_object *obj(crdt_map *m) { return crdt_map_object(m); }
/* crdt_map_object() is the same pointer (map.h), for const maps. */
static const crdt_object *cobj(const crdt_map *m) {
  return (const crdt_object *)(const void *)m;
}

static crdt_map *new_map(map_sim *s, const char *owner) {
  crdt_map *m = NULL;
  MS_OK(s, crdt_map_new(owner, &m));
  return m;
}

static uint8_t *encode(map_sim *s, const crdt_map *m, size_t *len) {
  return sim_encode(s->fail, cobj(m), len);
}

static crdt_map *decode(map_sim *s, const uint8_t *b, size_t len,
                        const char *owner) {
  return crdt_object_map(sim_decode(s->fail, b, len, owner, CRDT_TYPE_MAP));
}

/* A map that has seen `set` prints the model's value and context. */
static void check_state(map_sim *s, const crdt_map *o, const model_set *set,
                        const char *what) {
  s->checks++;
  char *want = mm_value_json(&s->m, set);
  char *want_ctx = mm_context_text(&s->m, set);
  char *got = sim_text(s->fail, cobj(o), crdt_object_value_json);
  char *got_ctx = sim_text(s->fail, cobj(o), crdt_object_context_text);
  if (!want || !want_ctx || strcmp(want, got) != 0 ||
      strcmp(want_ctx, got_ctx) != 0)
    sim_failf(s->fail,
              "%s differs from the model:\n  model:   %s %s\n  library: %s %s",
              what, want ? want : "?", want_ctx ? want_ctx : "?", got,
              got_ctx);
  if (s->check_determined && !mm_determined(&s->m, set))
    sim_failf(s->fail,
              "%s: the model's state is not determined by its context "
              "(value %s, context %s)",
              what, want, want_ctx);
  free(want);
  free(want_ctx);
  free(got);
  free(got_ctx);
}

map_sim *ms_new(unsigned n, const char *const *ids,
                void (*fail)(const char *what)) {
  map_sim *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  mm_init(&s->m, n, ids);
  s->fail = fail;
  s->check_determined = true;
  s->check_readers = true;
  for (unsigned r = 0; r < n; r++) s->rep[r] = new_map(s, ids[r]);
  return s;
}

void ms_free(map_sim *s) {
  if (!s) return;
  for (unsigned r = 0; r < s->m.nreplicas; r++) crdt_map_free(s->rep[r]);
  for (unsigned e = 0; e < s->m.nevents; e++) free(s->delta[e]);
  free(s);
}

/* ---- readers ------------------------------------------------------------- */

static int collect_item(crdt_bytes item, void *user) {
  model_str *t = user;
  if (t->len) model_str_puts(t, ", ");
  model_str_json(t, item.data, item.size);
  return 0;
}

static int collect_field(crdt_bytes name, crdt_field_type type, void *user) {
  model_str *t = user;
  if (t->len) model_str_puts(t, ", ");
  model_str_json(t, name.data, name.size);
  model_str_puts(t, ":");
  model_str_puts(t, crdt_field_type_name(type) ? crdt_field_type_name(type)
                                                : "?");
  return 0;
}

static void same_text(map_sim *s, char *got, char *want, const char *what) {
  if (!got || !want || strcmp(got, want) != 0)
    sim_failf(s->fail, "%s: library [%s], model [%s]", what,
              got ? got : "?", want ? want : "?");
  free(got);
  free(want);
}

/* The fields of the map at `path` (depth 0: the root). */
static void check_fields(map_sim *s, unsigned r, crdt_path path) {
  model_str t = {0};
  MS_OK(s, crdt_map_fields(s->rep[r], path, collect_field, &t));
  same_text(s, model_str_finish(&t), mm_fields_text(&s->m, &s->m.seen[r], path),
            "crdt_map_fields");
}

/* Every reader of the field (path, type) at replica r; `elem` is an element
 * to look up when it is an OR-set. */
static void check_field(map_sim *s, unsigned r, crdt_path path,
                        crdt_field_type type, crdt_bytes elem) {
  const crdt_map *o = s->rep[r];
  const map_model *m = &s->m;
  const model_set *seen = &m->seen[r];
  if (crdt_map_has(o, path, type) != mm_has(m, seen, path, type))
    sim_failf(s->fail, "crdt_map_has(%s) disagrees with the model",
              crdt_field_type_name(type));
  switch (type) {
  case CRDT_FIELD_COUNTER: {
    int64_t got = 1, want = 2;
    int rc = crdt_map_counter_value(o, path, &got);
    int want_rc = mm_counter_value(m, seen, path, &want);
    if (rc != want_rc || got != want)
      sim_failf(s->fail, "counter_value %s %lld, model %s %lld",
                crdt_err_name(rc), (long long)got, crdt_err_name(want_rc),
                (long long)want);
    break;
  }
  case CRDT_FIELD_ORSET:
  case CRDT_FIELD_MVREG: {
    /* the element asked about, and every key the model knows */
    for (unsigned k = 0; type == CRDT_FIELD_ORSET && k <= m->nkeys; k++) {
      crdt_bytes x = k < m->nkeys
                         ? (crdt_bytes){m->key[k].bytes, m->key[k].len}
                         : elem;
      if (crdt_map_orset_contains(o, path, x.data, x.size) !=
          mm_orset_contains(m, seen, path, x.data, x.size))
        sim_failf(s->fail, "orset_contains disagrees with the model");
    }
    model_str t = {0};
    MS_OK(s, crdt_map_items(o, path, type, collect_item, &t));
    same_text(s, model_str_finish(&t), mm_items_text(m, seen, path, type),
              "crdt_map_items");
    break;
  }
  case CRDT_FIELD_LWWREG: {
    crdt_bytes v = {0};
    uint64_t ts = 1, want_ts = 2;
    unsigned item = 0;
    int rc = crdt_map_lwwreg_get(o, path, &v, &ts);
    int want_rc = mm_lwwreg_get(m, seen, path, &item, &want_ts);
    if (rc != want_rc ||
        (rc == 0 &&
         (ts != want_ts || model_bytes_cmp(v.data, v.size, m->key[item].bytes,
                                           m->key[item].len) != 0)))
      sim_failf(s->fail, "lwwreg_get %s, model %s (or value or timestamp)",
                crdt_err_name(rc), crdt_err_name(want_rc));
    break;
  }
  case CRDT_FIELD_FLAG:
    if (crdt_map_flag_enabled(o, path) != mm_has(m, seen, path, type))
      sim_failf(s->fail, "flag_enabled disagrees with the model");
    break;
  case CRDT_FIELD_MAP:
    check_fields(s, r, path);
    break;
  }
}

/* Every reader on every field the model knows, at replica r. */
static void check_readers(map_sim *s, unsigned r) {
  const map_model *m = &s->m;
  check_fields(s, r, (crdt_path){NULL, 0});
  for (unsigned f = 0; f < m->nfields; f++) {
    const mm_field *x = &m->field[f];
    crdt_bytes names[MM_MAX_DEPTH];
    for (unsigned i = 0; i < x->depth; i++)
      names[i] = (crdt_bytes){m->key[x->name[i]].bytes, m->key[x->name[i]].len};
    check_field(s, r, (crdt_path){names, x->depth}, x->type,
                (crdt_bytes){NULL, 0});
    /* the maps above it */
    for (unsigned d = 1; d < x->depth; d++)
      check_field(s, r, (crdt_path){names, d}, CRDT_FIELD_MAP,
                  (crdt_bytes){NULL, 0});
  }
}

void ms_check(map_sim *s, unsigned r) {
  const map_model *m = &s->m;
  char what[96];
  snprintf(what, sizeof what, "replica %s", m->id[r]);
  check_state(s, s->rep[r], &m->seen[r], what);
  for (unsigned q = 0; q < m->nreplicas; q++) {
    crdt_order got;
    MS_OK(s, crdt_map_compare(s->rep[r], s->rep[q], &got));
    crdt_order want = mm_order(m, &m->seen[r], &m->seen[q]);
    if (got != want)
      sim_failf(s->fail, "compare(%s, %s) = %s, model: %s", m->id[r],
                m->id[q], crdt_order_name(got), crdt_order_name(want));
  }
  if (s->check_readers) check_readers(s, r);
}

/* ---- updates ------------------------------------------------------------- */

static int typed_call(crdt_map *o, const mm_op *op, crdt_map *d) {
  const void *a = op->arg.data;
  const size_t n = op->arg.size;
  switch (op->kind) {
  case MM_INC:
    return crdt_map_counter_inc(o, op->path, op->n, d);
  case MM_DEC:
    return crdt_map_counter_dec(o, op->path, op->n, d);
  case MM_ADD:
    return crdt_map_orset_add(o, op->path, a, n, d);
  case MM_RMELEM:
    return crdt_map_orset_remove(o, op->path, a, n, d);
  case MM_MVSET:
    return crdt_map_mvreg_set(o, op->path, a, n, d);
  case MM_LWWSET:
    return crdt_map_lwwreg_set(o, op->path, a, n, op->ts, d);
  case MM_ENABLE:
    return crdt_map_flag_enable(o, op->path, d);
  case MM_DISABLE:
    return crdt_map_flag_disable(o, op->path, d);
  case MM_REMOVE:
    break;
  }
  return crdt_map_remove(o, op->path, op->type, d);
}

static int object_call(crdt_map *o, const mm_op *op, crdt_map *d) {
  static const crdt_op ops[] = {
      [MM_INC] = CRDT_OP_INC,       [MM_DEC] = CRDT_OP_DEC,
      [MM_ADD] = CRDT_OP_ADD,       [MM_RMELEM] = CRDT_OP_REMOVE,
      [MM_MVSET] = CRDT_OP_SET,     [MM_LWWSET] = CRDT_OP_SET,
      [MM_ENABLE] = CRDT_OP_ENABLE, [MM_DISABLE] = CRDT_OP_DISABLE,
      [MM_REMOVE] = CRDT_OP_DELETE};
  crdt_update u = {0};
  u.op = ops[op->kind];
  u.arg = op->arg;
  u.n = op->n;
  u.time = op->ts;
  u.path = op->path;
  u.field = mm_op_field_type(op);
  return crdt_object_update(obj(o), &u, d ? obj(d) : NULL);
}

int ms_update(map_sim *s, unsigned r, const mm_op *op, bool by_object) {
  map_model *m = &s->m;
  if (mm_full(m)) return CRDT_ETOOMANY;
  /* crdt_update's n of 0 means 1: that case goes through the typed call */
  if (op->n == 0) by_object = false;
  crdt_map *delta = new_map(s, NULL);
  size_t empty_len, before_len;
  uint8_t *empty = encode(s, delta, &empty_len);
  uint8_t *before = encode(s, s->rep[r], &before_len);
  int rc = by_object ? object_call(s->rep[r], op, delta)
                     : typed_call(s->rep[r], op, delta);
  unsigned ev = 0;
  int want = mm_update(m, r, op, &ev);
  s->updates++;
  if (rc != want)
    sim_failf(s->fail, "update (kind %d, depth %zu) at %s returned %s, "
                       "model %s",
              (int)op->kind, op->path.depth, m->id[r], crdt_err_name(rc),
              crdt_err_name(want));
  size_t dlen, after_len;
  uint8_t *d = encode(s, delta, &dlen);
  if (rc == 0) {
    s->delta[ev] = d;
    s->delta_len[ev] = dlen;
    model_set one;
    mm_delta(m, ev, &one);
    check_state(s, delta, &one, "delta");
  } else {
    s->refused++;
    uint8_t *after = encode(s, s->rep[r], &after_len);
    if (dlen != empty_len || memcmp(d, empty, dlen) != 0)
      sim_failf(s->fail, "failed update (%s) changed its delta",
                crdt_err_name(rc));
    if (after_len != before_len || memcmp(after, before, after_len) != 0)
      sim_failf(s->fail, "failed update (%s) changed the replica",
                crdt_err_name(rc));
    free(after);
    free(d);
  }
  free(empty);
  free(before);
  crdt_map_free(delta);
  if (op->path.depth >= 1 && op->path.depth <= MM_MAX_DEPTH &&
      op->path.names && !s->check_readers)
    check_field(s, r, op->path, mm_op_field_type(op), op->arg);
  ms_check(s, r);
  return rc;
}

/* ---- syncs --------------------------------------------------------------- */

void ms_sync(map_sim *s, unsigned src, unsigned dst, unsigned mode) {
  if (mode == 0) {
    MS_OK(s, crdt_map_merge(s->rep[dst], s->rep[src]));
  } else {
    size_t len;
    uint8_t *b = encode(s, s->rep[src], &len);
    crdt_map *o = decode(s, b, len, mode == 2 ? s->m.id[dst] : NULL);
    MS_OK(s, crdt_map_merge(s->rep[dst], o));
    crdt_map_free(o);
    free(b);
  }
  mm_receive(&s->m, dst, &s->m.seen[src]);
  ms_check(s, dst);
}

void ms_deliver(map_sim *s, unsigned e, unsigned dst) {
  crdt_map *o = decode(s, s->delta[e], s->delta_len[e], NULL);
  MS_OK(s, crdt_map_merge(s->rep[dst], o));
  crdt_map_free(o);
  model_set one;
  mm_delta(&s->m, e, &one);
  mm_receive(&s->m, dst, &one);
  ms_check(s, dst);
}

/* The deltas of events[0 .. n-1] joined in that order; *set gets what the
 * group has seen. */
static crdt_map *group_of(map_sim *s, const unsigned *events, size_t n,
                          model_set *set) {
  crdt_map *g = new_map(s, NULL);
  model_set_clear(set);
  for (size_t i = 0; i < n; i++) {
    crdt_map *o = decode(s, s->delta[events[i]], s->delta_len[events[i]],
                         NULL);
    MS_OK(s, crdt_map_merge(g, o));
    crdt_map_free(o);
    model_set_add(set, events[i]);
  }
  return g;
}

void ms_deliver_group(map_sim *s, const unsigned *events, size_t n,
                      unsigned dst, bool via_bytes) {
  model_set set;
  crdt_map *g = group_of(s, events, n, &set);
  check_state(s, g, &set, "delta group");
  if (via_bytes) {
    size_t len;
    uint8_t *b = encode(s, g, &len);
    crdt_map_free(g);
    g = decode(s, b, len, NULL);
    free(b);
  }
  MS_OK(s, crdt_map_merge(s->rep[dst], g));
  crdt_map_free(g);
  mm_receive(&s->m, dst, &set);
  ms_check(s, dst);
}

void ms_restart(map_sim *s, unsigned r) {
  size_t len;
  uint8_t *b = encode(s, s->rep[r], &len);
  crdt_map *o = decode(s, b, len, s->m.id[r]);
  free(b);
  const char *owner = crdt_object_replica(obj(o));
  if (!owner || strcmp(owner, s->m.id[r]) != 0)
    sim_failf(s->fail, "decoded state has owner %s", owner ? owner : "(none)");
  if (!crdt_map_equal(o, s->rep[r]))
    sim_failf(s->fail, "restart changed the state");
  crdt_map_free(s->rep[r]);
  s->rep[r] = o;
  ms_check(s, r);
}

/* ---- the end of a history ------------------------------------------------ */

/* sim_final's check against the map model. */
static void final_check(void *user, int i, int j, const crdt_object *o) {
  map_sim *s = user;
  const map_model *m = &s->m;
  const crdt_map *map = (const crdt_map *)(const void *)o; /* same pointer */
  model_set set;
  model_set_clear(&set);
  if (i >= 0) {
    model_set_union(&set, &m->seen[i]);
    model_set_union(&set, &m->seen[j]);
    check_state(s, map, &set, "join of two replicas");
  } else if (i == SIM_FINAL_ALL) {
    for (unsigned r = 0; r < m->nreplicas; r++)
      model_set_union(&set, &m->seen[r]);
    check_state(s, map, &set, "join of all replicas");
  } else {
    for (unsigned e = 0; e < m->nevents; e++) model_set_add(&set, e);
    check_state(s, map, &set, "group of every delta");
  }
}

void ms_check_final(map_sim *s) {
  crdt_object *rep[MODEL_MAX_REPLICAS];
  for (unsigned r = 0; r < s->m.nreplicas; r++)
    rep[r] = crdt_map_object(s->rep[r]);
  sim_final(s->fail, CRDT_TYPE_MAP, rep, s->m.nreplicas, s->delta,
            s->delta_len, s->m.nevents, final_check, s);
}

crdt_map *ms_detach(map_sim *s, unsigned r) {
  crdt_map *orig = s->rep[r], *copy = NULL;
  MS_OK(s, crdt_map_copy(orig, &copy));
  s->rep[r] = copy;
  return orig;
}

void ms_reattach(map_sim *s, unsigned r, crdt_map *original) {
  crdt_map_free(s->rep[r]);
  s->rep[r] = original;
}

void ms_rewind(map_sim *s, const mm_mark *mark) {
  for (unsigned e = mark->nevents; e < s->m.nevents; e++) {
    free(s->delta[e]);
    s->delta[e] = NULL;
  }
  mm_restore(&s->m, mark);
}

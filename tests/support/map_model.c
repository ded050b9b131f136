/*
 * The map's reference model (see map_model.h). Deliberately naive: sets are
 * bitmaps over event numbers, values are recomputed from the events seen on
 * every call, sums are exact in 128 bits. Nothing here knows how the
 * library stores fields, dots or contexts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "map_model.h"

__extension__ typedef __int128 i128;

/* The wire names of the field types, from map.h. */
static const char *const TYPE_NAME[] = {NULL,     "counter", "orset", "mvreg",
                                        "lwwreg", "flag",    "map"};

crdt_field_type mm_op_field_type(const mm_op *op) {
  switch (op->kind) {
  case MM_INC:
  case MM_DEC:
    return CRDT_FIELD_COUNTER;
  case MM_ADD:
  case MM_RMELEM:
    return CRDT_FIELD_ORSET;
  case MM_MVSET:
    return CRDT_FIELD_MVREG;
  case MM_LWWSET:
    return CRDT_FIELD_LWWREG;
  case MM_ENABLE:
  case MM_DISABLE:
    return CRDT_FIELD_FLAG;
  case MM_REMOVE:
    break;
  }
  return op->type;
}

static bool has_payload(mm_kind k) {
  return k != MM_RMELEM && k != MM_DISABLE && k != MM_REMOVE;
}

/* ---- keys and fields ----------------------------------------------------- */

static int key_find(const map_model *m, const void *bytes, size_t len) {
  for (unsigned k = 0; k < m->nkeys; k++)
    if (model_bytes_cmp(m->key[k].bytes, m->key[k].len, bytes, len) == 0)
      return (int)k;
  return -1;
}

static unsigned key_of(map_model *m, const void *bytes, size_t len) {
  int k = key_find(m, bytes, len);
  if (k >= 0) return (unsigned)k;
  if (len > MODEL_KEY_MAX || m->nkeys == MM_MAX_KEYS) abort();
  model_key *x = &m->key[m->nkeys];
  x->len = len;
  if (len) memcpy(x->bytes, bytes, len);
  return m->nkeys++;
}

static int key_cmp(const map_model *m, unsigned a, unsigned b) {
  return model_bytes_cmp(m->key[a].bytes, m->key[a].len, m->key[b].bytes,
                         m->key[b].len);
}

/* A path as key indexes; false when a name is unknown (then no event is on
 * or below it). */
static bool path_keys(const map_model *m, crdt_path path, unsigned *out) {
  if (path.depth > MM_MAX_DEPTH) return false;
  for (size_t i = 0; i < path.depth; i++) {
    int k = key_find(m, path.names[i].data, path.names[i].size);
    if (k < 0) return false;
    out[i] = (unsigned)k;
  }
  return true;
}

static unsigned field_of(map_model *m, crdt_path path, crdt_field_type type) {
  mm_field f = {0};
  f.depth = (unsigned)path.depth;
  f.type = type;
  for (size_t i = 0; i < path.depth; i++)
    f.name[i] = key_of(m, path.names[i].data, path.names[i].size);
  for (unsigned i = 0; i < m->nfields; i++) {
    const mm_field *g = &m->field[i];
    if (g->depth == f.depth && g->type == f.type &&
        memcmp(g->name, f.name, f.depth * sizeof *f.name) == 0)
      return i;
  }
  if (m->nfields == MM_MAX_FIELDS) abort();
  m->field[m->nfields] = f;
  return m->nfields++;
}

/* Is event e's field the field (names[0 .. depth), type), or, for a map,
 * below it? */
static bool under(const map_model *m, unsigned e, const unsigned *names,
                  unsigned depth, crdt_field_type type) {
  const mm_field *g = &m->field[m->ev[e].field];
  if (g->depth < depth || memcmp(g->name, names, depth * sizeof *names) != 0)
    return false;
  return g->depth == depth ? g->type == type
                           : type == CRDT_FIELD_MAP;
}

/* ---- the model ----------------------------------------------------------- */

void mm_init(map_model *m, unsigned n, const char *const *ids) {
  if (n < 1 || n > MODEL_MAX_REPLICAS) abort();
  memset(m, 0, sizeof *m);
  m->nreplicas = n;
  for (unsigned r = 0; r < n; r++) {
    size_t len = strlen(ids[r]);
    if (len < 1 || len > CRDT_REPLICA_MAX) abort();
    memcpy(m->id[r], ids[r], len + 1);
  }
}

void mm_save(const map_model *m, mm_mark *mark) {
  mark->nevents = m->nevents;
  mark->nkeys = m->nkeys;
  mark->nfields = m->nfields;
  memcpy(mark->made, m->made, sizeof mark->made);
  memcpy(mark->seen, m->seen, sizeof mark->seen);
}

void mm_restore(map_model *m, const mm_mark *mark) {
  m->nevents = mark->nevents;
  m->nkeys = mark->nkeys;
  m->nfields = mark->nfields;
  memcpy(m->made, mark->made, sizeof m->made);
  memcpy(m->seen, mark->seen, sizeof m->seen);
}

bool mm_full(const map_model *m) {
  return m->nevents >= MM_MAX_EVENTS ||
         m->nkeys + MM_MAX_DEPTH + 1 > MM_MAX_KEYS ||
         m->nfields + 1 > MM_MAX_FIELDS;
}

void mm_receive(map_model *m, unsigned r, const model_set *t) {
  model_set_union(&m->seen[r], t);
}

void mm_delta(const map_model *m, unsigned e, model_set *out) {
  (void)m;
  model_set_clear(out);
  model_set_add(out, e);
}

void mm_known(const map_model *m, const model_set *s, model_set *out) {
  model_set_clear(out);
  for (unsigned e = 0; e < m->nevents; e++)
    if (model_set_has(s, e)) {
      model_set_union(out, &m->ev[e].kill);
      model_set_add(out, e);
    }
}

crdt_order mm_order(const map_model *m, const model_set *a,
                    const model_set *b) {
  model_set ka, kb;
  mm_known(m, a, &ka);
  mm_known(m, b, &kb);
  return model_set_order(&ka, &kb);
}

model_set mm_live(const map_model *m, const model_set *s) {
  model_set killed, out;
  model_set_clear(&killed);
  model_set_clear(&out);
  for (unsigned e = 0; e < m->nevents; e++)
    if (model_set_has(s, e)) model_set_union(&killed, &m->ev[e].kill);
  for (unsigned e = 0; e < m->nevents; e++)
    if (model_set_has(s, e) && !model_set_has(&killed, e) &&
        has_payload(m->ev[e].kind))
      model_set_add(&out, e);
  return out;
}

static bool set_empty(const model_set *s) {
  for (unsigned i = 0; i < MODEL_SET_WORDS; i++)
    if (s->w[i]) return false;
  return true;
}

/* The LWW order of two writes: timestamp, writer id bytes, value bytes. */
static int lww_cmp(const map_model *m, uint64_t ts_a, unsigned r_a,
                   const model_key *v_a, uint64_t ts_b, unsigned r_b,
                   const model_key *v_b) {
  if (ts_a != ts_b) return ts_a < ts_b ? -1 : 1;
  int c = model_bytes_cmp(m->id[r_a], strlen(m->id[r_a]), m->id[r_b],
                          strlen(m->id[r_b]));
  if (c) return c;
  return model_bytes_cmp(v_a->bytes, v_a->len, v_b->bytes, v_b->len);
}

/* Sum of the live counter changes on the field (names, depth). */
static i128 counter_sum(const map_model *m, const model_set *l,
                        const unsigned *names, unsigned depth) {
  i128 sum = 0;
  for (unsigned e = 0; e < m->nevents; e++)
    if (model_set_has(l, e) &&
        under(m, e, names, depth, CRDT_FIELD_COUNTER))
      sum += m->ev[e].kind == MM_DEC ? -(i128)m->ev[e].n : (i128)m->ev[e].n;
  return sum;
}

int mm_update(map_model *m, unsigned r, const mm_op *op, unsigned *ev) {
  if (op->kind == MM_INC || op->kind == MM_DEC) {
    if (op->n == 0) return CRDT_EINVAL;
    if (op->n > INT64_MAX) return CRDT_ERANGE;
  }
  const crdt_field_type type = mm_op_field_type(op);
  const crdt_path p = op->path;
  if (p.depth == 0 || p.depth > CRDT_MAP_DEPTH_MAX || !p.names ||
      type < CRDT_FIELD_COUNTER || type > CRDT_FIELD_MAP ||
      (op->kind != MM_REMOVE && type == CRDT_FIELD_MAP))
    return CRDT_EINVAL;
  for (size_t i = 0; i < p.depth; i++)
    if ((!p.names[i].data && p.names[i].size) ||
        p.names[i].size >= UINT32_MAX)
      return CRDT_EINVAL;
  if (p.depth > MM_MAX_DEPTH || mm_full(m)) abort();
  if (op->arg.size > MODEL_KEY_MAX) abort();
  model_key arg = {0};
  arg.len = op->arg.size;
  if (arg.len) memcpy(arg.bytes, op->arg.data, arg.len);
  const model_key *item = &arg;

  unsigned names[MM_MAX_DEPTH];
  const bool known = path_keys(m, p, names);
  const unsigned depth = (unsigned)p.depth;
  const model_set l = mm_live(m, &m->seen[r]);
  model_set kill;
  model_set_clear(&kill);
  for (unsigned e = 0; known && e < m->nevents; e++) {
    if (!model_set_has(&l, e) || !under(m, e, names, depth, type)) continue;
    const mm_event *x = &m->ev[e];
    bool k = false;
    switch (op->kind) {
    case MM_INC:
    case MM_DEC:
      break;
    case MM_ADD:
    case MM_RMELEM:
      k = model_bytes_cmp(m->key[x->item].bytes, m->key[x->item].len,
                          item->bytes, item->len) == 0;
      break;
    case MM_LWWSET:
      k = lww_cmp(m, x->ts, x->replica, &m->key[x->item], op->ts, r, item) <
          0;
      break;
    case MM_MVSET:
    case MM_ENABLE:
    case MM_DISABLE:
    case MM_REMOVE:
      k = true;
      break;
    }
    if (k) model_set_add(&kill, e);
  }
  if ((op->kind == MM_RMELEM || op->kind == MM_DISABLE ||
       op->kind == MM_REMOVE) &&
      set_empty(&kill))
    return CRDT_ENOENT;
  if (op->kind == MM_INC || op->kind == MM_DEC) {
    i128 sum = known ? counter_sum(m, &l, names, depth) : 0;
    /* refused when it would take the sum past the bound it moves towards
     * (a sum already outside int64 may move back) */
    if (op->kind == MM_INC ? sum + (i128)op->n > INT64_MAX
                           : sum - (i128)op->n < INT64_MIN)
      return CRDT_ERANGE;
  }
  /* record the event */
  unsigned e = m->nevents++;
  mm_event *x = &m->ev[e];
  memset(x, 0, sizeof *x);
  x->replica = r;
  x->counter = ++m->made[r];
  m->byrep[r][x->counter - 1] = e;
  x->kind = op->kind;
  x->field = field_of(m, p, type);
  x->item = key_of(m, item->bytes, item->len);
  x->n = op->n;
  x->ts = op->ts;
  x->past = m->seen[r];
  x->kill = kill;
  model_set_add(&m->seen[r], e);
  if (ev) *ev = e;
  return 0;
}

/* ---- rendering ----------------------------------------------------------- */

/* A field of the map at some prefix: its name and type. */
typedef struct child {
  unsigned name;
  crdt_field_type type;
} child;

/* The fields of the map at (prefix, d) that live events are on or below,
 * in canonical order; returns their number. */
static unsigned children(const map_model *m, const model_set *l,
                         const unsigned *prefix, unsigned d, child *out) {
  unsigned n = 0;
  for (unsigned e = 0; e < m->nevents; e++) {
    if (!model_set_has(l, e)) continue;
    const mm_field *g = &m->field[m->ev[e].field];
    if (g->depth <= d || memcmp(g->name, prefix, d * sizeof *prefix) != 0)
      continue;
    child c = {g->name[d], g->depth == d + 1 ? g->type : CRDT_FIELD_MAP};
    bool dup = false;
    for (unsigned i = 0; i < n && !dup; i++)
      dup = out[i].name == c.name && out[i].type == c.type;
    if (!dup) out[n++] = c;
  }
  for (unsigned i = 1; i < n; i++) /* insertion sort: few fields */
    for (unsigned j = i; j > 0; j--) {
      int c = key_cmp(m, out[j - 1].name, out[j].name);
      if (c < 0 || (c == 0 && out[j - 1].type < out[j].type)) break;
      child t = out[j];
      out[j] = out[j - 1];
      out[j - 1] = t;
    }
  return n;
}

/* The distinct items of the live events on a field, in canonical order. */
static unsigned items(const map_model *m, const model_set *l,
                      const unsigned *names, unsigned depth,
                      crdt_field_type type, unsigned *out) {
  unsigned n = 0;
  for (unsigned e = 0; e < m->nevents; e++) {
    if (!model_set_has(l, e) || !under(m, e, names, depth, type)) continue;
    bool dup = false;
    for (unsigned i = 0; i < n && !dup; i++) dup = out[i] == m->ev[e].item;
    if (!dup) out[n++] = m->ev[e].item;
  }
  for (unsigned i = 1; i < n; i++)
    for (unsigned j = i; j > 0 && key_cmp(m, out[j - 1], out[j]) > 0; j--) {
      unsigned t = out[j];
      out[j] = out[j - 1];
      out[j - 1] = t;
    }
  return n;
}

/* The live LWW write with the greatest (timestamp, writer, value), or -1. */
static int lww_best(const map_model *m, const model_set *l,
                    const unsigned *names, unsigned depth) {
  int best = -1;
  for (unsigned e = 0; e < m->nevents; e++) {
    if (!model_set_has(l, e) || !under(m, e, names, depth, CRDT_FIELD_LWWREG))
      continue;
    const mm_event *x = &m->ev[e];
    const mm_event *b = best >= 0 ? &m->ev[best] : NULL;
    if (!b || lww_cmp(m, x->ts, x->replica, &m->key[x->item], b->ts,
                      b->replica, &m->key[b->item]) > 0)
      best = (int)e;
  }
  return best;
}

static int64_t clamp64(i128 v) {
  return v > INT64_MAX ? INT64_MAX : v < INT64_MIN ? INT64_MIN : (int64_t)v;
}

static void put_key(model_str *t, const map_model *m, unsigned k) {
  model_str_json(t, m->key[k].bytes, m->key[k].len);
}

static void render_map(model_str *t, const map_model *m, const model_set *l,
                       unsigned *names, unsigned d) {
  child c[MM_MAX_FIELDS];
  unsigned n = children(m, l, names, d, c);
  model_str_puts(t, "[");
  for (unsigned i = 0; i < n; i++) {
    if (i) model_str_puts(t, ", ");
    names[d] = c[i].name;
    model_str_puts(t, "{\"name\": ");
    put_key(t, m, c[i].name);
    model_str_puts(t, ", \"type\": \"");
    model_str_puts(t, TYPE_NAME[c[i].type]);
    model_str_puts(t, "\", \"value\": ");
    switch (c[i].type) {
    case CRDT_FIELD_COUNTER: {
      char num[32];
      snprintf(num, sizeof num, "%lld",
               (long long)clamp64(counter_sum(m, l, names, d + 1)));
      model_str_puts(t, num);
      break;
    }
    case CRDT_FIELD_ORSET:
    case CRDT_FIELD_MVREG: {
      unsigned k[MM_MAX_EVENTS];
      unsigned nk = items(m, l, names, d + 1, c[i].type, k);
      model_str_puts(t, "[");
      for (unsigned j = 0; j < nk; j++) {
        if (j) model_str_puts(t, ", ");
        put_key(t, m, k[j]);
      }
      model_str_puts(t, "]");
      break;
    }
    case CRDT_FIELD_LWWREG:
      put_key(t, m, m->ev[lww_best(m, l, names, d + 1)].item);
      break;
    case CRDT_FIELD_FLAG:
      model_str_puts(t, "true");
      break;
    default:
      if (d + 1 >= MM_MAX_DEPTH) abort();
      render_map(t, m, l, names, d + 1);
      break;
    }
    model_str_puts(t, "}");
  }
  model_str_puts(t, "]");
}

char *mm_value_json(const map_model *m, const model_set *s) {
  model_set l = mm_live(m, s);
  model_str t = {0};
  unsigned names[MM_MAX_DEPTH];
  render_map(&t, m, &l, names, 0);
  return model_str_finish(&t);
}

static bool known_has(const void *ctx, unsigned r, uint64_t k) {
  const void *const *p = ctx;
  const map_model *m = p[0];
  return model_set_has(p[1], m->byrep[r][k - 1]);
}

char *mm_context_text(const map_model *m, const model_set *s) {
  model_set known;
  mm_known(m, s, &known);
  const void *ctx[2] = {m, &known};
  return model_dots_text(m->nreplicas, m->id, m->made, known_has, ctx);
}

bool mm_determined(const map_model *m, const model_set *s) {
  model_set known;
  mm_known(m, s, &known);
  char *a = mm_value_json(m, s), *b = mm_value_json(m, &known);
  bool same = a && b && strcmp(a, b) == 0;
  free(a);
  free(b);
  return same;
}

bool mm_closed(const map_model *m, const model_set *s) {
  for (unsigned e = 0; e < m->nevents; e++)
    if (model_set_has(s, e) && !model_set_subset(&m->ev[e].past, s))
      return false;
  return true;
}

/* ---- readers ------------------------------------------------------------- */

bool mm_has(const map_model *m, const model_set *s, crdt_path path,
            crdt_field_type type) {
  unsigned names[MM_MAX_DEPTH];
  if (path.depth == 0 || !path_keys(m, path, names)) return false;
  model_set l = mm_live(m, s);
  for (unsigned e = 0; e < m->nevents; e++)
    if (model_set_has(&l, e) &&
        under(m, e, names, (unsigned)path.depth, type))
      return true;
  return false;
}

int mm_counter_value(const map_model *m, const model_set *s, crdt_path path,
                     int64_t *out) {
  *out = 0;
  if (!mm_has(m, s, path, CRDT_FIELD_COUNTER)) return CRDT_ENOENT;
  unsigned names[MM_MAX_DEPTH];
  path_keys(m, path, names);
  model_set l = mm_live(m, s);
  i128 sum = counter_sum(m, &l, names, (unsigned)path.depth);
  *out = clamp64(sum);
  return sum == (i128)*out ? 0 : CRDT_ERANGE;
}

bool mm_orset_contains(const map_model *m, const model_set *s, crdt_path path,
                       const void *elem, size_t len) {
  unsigned names[MM_MAX_DEPTH], k[MM_MAX_EVENTS];
  if (path.depth == 0 || !path_keys(m, path, names)) return false;
  model_set l = mm_live(m, s);
  unsigned n = items(m, &l, names, (unsigned)path.depth, CRDT_FIELD_ORSET, k);
  for (unsigned i = 0; i < n; i++)
    if (model_bytes_cmp(m->key[k[i]].bytes, m->key[k[i]].len, elem, len) == 0)
      return true;
  return false;
}

int mm_lwwreg_get(const map_model *m, const model_set *s, crdt_path path,
                  unsigned *item, uint64_t *ts) {
  unsigned names[MM_MAX_DEPTH];
  if (path.depth == 0 || !path_keys(m, path, names)) return CRDT_ENOENT;
  model_set l = mm_live(m, s);
  int best = lww_best(m, &l, names, (unsigned)path.depth);
  if (best < 0) return CRDT_ENOENT;
  *item = m->ev[best].item;
  *ts = m->ev[best].ts;
  return 0;
}

char *mm_items_text(const map_model *m, const model_set *s, crdt_path path,
                    crdt_field_type type) {
  model_str t = {0};
  unsigned names[MM_MAX_DEPTH], k[MM_MAX_EVENTS];
  if (path.depth && path_keys(m, path, names)) {
    model_set l = mm_live(m, s);
    unsigned n = items(m, &l, names, (unsigned)path.depth, type, k);
    for (unsigned i = 0; i < n; i++) {
      if (i) model_str_puts(&t, ", ");
      put_key(&t, m, k[i]);
    }
  }
  return model_str_finish(&t);
}

char *mm_fields_text(const map_model *m, const model_set *s, crdt_path path) {
  model_str t = {0};
  unsigned names[MM_MAX_DEPTH];
  if (path_keys(m, path, names)) {
    model_set l = mm_live(m, s);
    child c[MM_MAX_FIELDS];
    unsigned n = children(m, &l, names, (unsigned)path.depth, c);
    for (unsigned i = 0; i < n; i++) {
      if (i) model_str_puts(&t, ", ");
      put_key(&t, m, c[i].name);
      model_str_puts(&t, ":");
      model_str_puts(&t, TYPE_NAME[c[i].type]);
    }
  }
  return model_str_finish(&t);
}

/*
 * The sync world's model: the flat types' runner or the map's (see
 * syncmodel.h).
 */
#include <stdlib.h>

#include "map_model.h"
#include "syncmodel.h"

struct sw_model {
  crdt_type type;
  sim *s;       /* the flat types */
  map_sim *ms;  /* the map */
};

sw_model *swm_new(crdt_type type, unsigned n, const char *const *ids,
                  void (*fail)(const char *what)) {
  sw_model *m = calloc(1, sizeof *m);
  if (!m) return NULL;
  m->type = type;
  if (type == CRDT_TYPE_MAP) {
    m->ms = ms_new(n, ids, fail);
    /* the updated field's readers after each update; every field's is
     * what the map's own model tests do */
    if (m->ms) m->ms->check_readers = false;
  } else {
    m->s = sim_new(type, n, ids, fail);
  }
  if (!m->s && !m->ms) {
    free(m);
    return NULL;
  }
  return m;
}

void swm_free(sw_model *m) {
  if (!m) return;
  sim_free(m->s);
  ms_free(m->ms);
  free(m);
}

crdt_type swm_type(const sw_model *m) { return m->type; }

crdt_object *swm_rep(const sw_model *m, unsigned r) {
  return m->ms ? crdt_map_object(m->ms->rep[r]) : m->s->rep[r];
}

const char *swm_id(const sw_model *m, unsigned r) {
  return m->ms ? m->ms->m.id[r] : m->s->m.id[r];
}

unsigned swm_nevents(const sw_model *m) {
  return m->ms ? m->ms->m.nevents : m->s->m.nevents;
}

void swm_event(const sw_model *m, unsigned e, unsigned *replica,
               uint64_t *counter, int *kind) {
  if (m->ms) {
    const mm_event *x = &m->ms->m.ev[e];
    *replica = x->replica;
    *counter = x->counter;
    *kind = (int)x->kind;
  } else {
    const model_event *x = &m->s->m.ev[e];
    *replica = x->replica;
    *counter = x->counter;
    *kind = (int)x->kind;
  }
}

const model_set *swm_seen(const sw_model *m, unsigned r) {
  return m->ms ? &m->ms->m.seen[r] : model_seen(&m->s->m, r);
}

void swm_receive(sw_model *m, unsigned r, const model_set *s) {
  if (m->ms)
    mm_receive(&m->ms->m, r, s);
  else
    model_receive(&m->s->m, r, s);
}

void swm_known(const sw_model *m, const model_set *s, model_set *out) {
  if (m->ms)
    mm_known(&m->ms->m, s, out);
  else
    model_known(&m->s->m, s, out);
}

model_set swm_live(const sw_model *m, const model_set *s) {
  if (m->ms) return mm_live(&m->ms->m, s);
  const model *mo = &m->s->m;
  model_set killed, out;
  model_set_clear(&killed);
  model_set_clear(&out);
  for (unsigned x = 0; x < mo->nevents; x++)
    if (model_set_has(s, x)) model_set_union(&killed, &mo->ev[x].kill);
  for (unsigned e = 0; e < mo->nevents; e++) {
    model_kind k = mo->ev[e].kind;
    bool dot = k == MODEL_ADD || k == MODEL_WRITE ||
               (k == MODEL_DEC && mo->type == CRDT_TYPE_CART);
    if (dot && model_set_has(s, e) && !model_set_has(&killed, e))
      model_set_add(&out, e);
  }
  return out;
}

bool swm_dotted(const sw_model *m) {
  crdt_type t = m->type;
  return t == CRDT_TYPE_ORSET || t == CRDT_TYPE_MVREG || t == CRDT_TYPE_CART ||
         t == CRDT_TYPE_FLAG || t == CRDT_TYPE_MAP;
}

bool swm_full(const sw_model *m) {
  return m->ms ? mm_full(&m->ms->m) : model_full(&m->s->m);
}

/* ---- updates ---------------------------------------------------------------- */

static const struct {
  const char *bytes;
  size_t len;
} KEYS[] = {{"x", 1}, {"", 0}, {"milk", 4}, {"mi", 2}, {"\xff\x00z", 3}};

/* Names that collide (a prefix of another, the empty name), and items
 * short and long. */
static const crdt_bytes NAMES[4] = {{"a", 1}, {"ab", 2}, {"", 0}, {"t", 1}};
static const crdt_bytes ITEMS[4] = {
    {"x", 1}, {"", 0}, {"\0\xff", 2}, {"a value longer than twelve bytes", 32}};

/* A map update picked by arg: mostly changes, a field remove now and then,
 * on paths of 1 to 3 names from a small set (so that fields collide). */
static void map_update(map_sim *ms, unsigned r, unsigned arg) {
  static const mm_kind kinds[16] = {
      MM_INC,   MM_INC,   MM_DEC,    MM_ADD,   MM_ADD,    MM_ADD,
      MM_RMELEM, MM_MVSET, MM_MVSET, MM_LWWSET, MM_LWWSET, MM_ENABLE,
      MM_ENABLE, MM_DISABLE, MM_REMOVE, MM_REMOVE};
  uint64_t x = (arg + 1) * UINT64_C(0x9E3779B97F4A7C15);
  x ^= x >> 29;
  crdt_bytes names[3];
  mm_op op = {0};
  op.kind = kinds[x & 15];
  op.path = (crdt_path){names, 1 + (x >> 4) % 3};
  for (unsigned i = 0; i < 3; i++) names[i] = NAMES[(x >> (6 + 2 * i)) & 3];
  op.arg = ITEMS[(x >> 12) & 3];
  op.n = 1 + (x >> 14) % 4;
  op.ts = (x >> 16) % 5;
  op.type = (crdt_field_type)(1 + (x >> 19) % 6);
  ms_update(ms, r, &op, (x >> 22) & 1);
}

void swm_update(sw_model *m, unsigned r, unsigned arg) {
  if (m->ms) {
    map_update(m->ms, r, arg);
    return;
  }
  sim *s = m->s;
  const unsigned n = s->m.nreplicas;
  unsigned k = arg % 5, p = arg / 5 % 8;
  const char *key = KEYS[k].bytes;
  size_t len = KEYS[k].len;
  static const sim_kind orset[] = {SIM_ADD, SIM_ADD, SIM_ADD, SIM_REMOVE};
  static const sim_kind cart[] = {SIM_ADD, SIM_ADD, SIM_DEC, SIM_REMOVE};
  uint64_t amount = 1 + arg / 40 % 4;
  switch (s->m.type) {
  case CRDT_TYPE_GCOUNTER: sim_update(s, r, SIM_INC, NULL, 0, amount, 0); break;
  case CRDT_TYPE_PNCOUNTER:
    sim_update(s, r, p & 1 ? SIM_DEC : SIM_INC, NULL, 0, amount, 0);
    break;
  case CRDT_TYPE_ORSET: sim_update(s, r, orset[p & 3], key, len, 0, 0); break;
  case CRDT_TYPE_CART: sim_update(s, r, cart[p & 3], key, len, amount, 0); break;
  case CRDT_TYPE_MVREG:
    sim_update(s, r, SIM_WRITE, key, len, 0,
               p < 5 ? SIM_OWN : p < 7 ? SIM_BLIND : SIM_FROM((r + 1) % n));
    break;
  case CRDT_TYPE_LWWREG:
    sim_update(s, r, SIM_WRITE, key, len, s->m.nevents / 2 + arg / 40 % 3, 0);
    break;
  case CRDT_TYPE_FLAG:
    sim_update(s, r, orset[p & 3], NULL, 0, 0, 0);
    break;
  case CRDT_TYPE_MAP: /* m->ms above */
    break;
  }
}

void swm_merge(sw_model *m, unsigned src, unsigned dst, unsigned arg) {
  if (m->ms)
    ms_sync(m->ms, src, dst, arg % 3);
  else
    sim_sync(m->s, src, dst, arg & 1);
}

void swm_restart(sw_model *m, unsigned r) {
  if (m->ms)
    ms_restart(m->ms, r);
  else
    sim_restart(m->s, r);
}

void swm_check(sw_model *m, unsigned r) {
  if (m->ms)
    ms_check(m->ms, r);
  else
    sim_check(m->s, r);
}

void swm_check_final(sw_model *m) {
  if (m->ms)
    ms_check_final(m->ms);
  else
    sim_check_final(m->s);
}

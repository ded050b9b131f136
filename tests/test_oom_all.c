/*
 * Fault injection for every type: each public mutator (with and without a
 * delta), merge (state into state, delta into state, state into delta,
 * delta into delta), copy, decode (with and without an owner, states and
 * delta groups, context tokens) and the readers that allocate, run with
 * allocation k failing for every k (tu_check_oom). Each failed run must
 * return CRDT_ENOMEM, leave every object byte-for-byte as it was (the
 * snapshot is the canonical encoding of every fixture object, taken with
 * the failure paused, plus its text), and leak nothing.
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

#define S(x) (x), strlen(x)

/* The type the fixtures are built for (tu_oom_case.setup takes no
 * argument). */
static crdt_type current;

typedef struct fx {
  crdt_object *a;     /* replica A: a few updates, and B's state merged */
  crdt_object *b;     /* replica B: concurrent updates, knows replica C */
  crdt_object *delta; /* a delta group of A's and B's updates */
  crdt_object *group; /* another delta group (B's) */
  crdt_object *out;   /* what copy, new and decode produce */
  crdt_context *tok;  /* B's read context (MV-register) */
  crdt_context *tok_out;
  uint8_t *blob, *dblob, *tblob; /* encodings of b, delta and tok */
  size_t blob_len, dblob_len, tblob_len;
  char text[4096]; /* output buffer of the text readers */
  uint8_t buf[4096];
} fx;

#define OBJ_OK(expr) assert_int_equal((expr), 0)

static crdt_object *obj_new(const char *replica) {
  crdt_object *o = NULL;
  OBJ_OK(crdt_object_new(current, replica, &o));
  return o;
}

static uint8_t *encode(const crdt_object *o, size_t *len) {
  size_t need = 0;
  assert_int_equal(crdt_encode(o, NULL, 0, &need), CRDT_ENOSPC);
  uint8_t *b = malloc(need);
  assert_non_null(b);
  OBJ_OK(crdt_encode(o, b, need, len));
  return b;
}

static uint8_t *encode_token(const crdt_context *c, size_t *len) {
  size_t need = 0;
  assert_int_equal(crdt_context_encode(c, NULL, 0, &need), CRDT_ENOSPC);
  uint8_t *b = malloc(need);
  assert_non_null(b);
  OBJ_OK(crdt_context_encode(c, b, need, len));
  return b;
}

/* Extra keys the fixture's replica A gets (test_oom_all_growth), so that
 * an insertion meets every fill level of the key table and key storage. */
static unsigned extra_keys;

/* Timestamps of the fixture's LWW writes (reset by each setup). */
static uint64_t lww_clock;

/* One update of the fixture's history: kind 0..2 picks the type's
 * mutators, `key` the element/item/value. */
static void history_update(crdt_object *o, int kind, const char *key,
                           crdt_object *delta) {
  switch (current) {
  case CRDT_TYPE_GCOUNTER:
    OBJ_OK(crdt_gcounter_inc(crdt_object_gcounter(o), 1 + (uint64_t)kind,
                             crdt_object_gcounter(delta)));
    break;
  case CRDT_TYPE_PNCOUNTER:
    if (kind == 1)
      OBJ_OK(crdt_pncounter_dec(crdt_object_pncounter(o), 2,
                                crdt_object_pncounter(delta)));
    else
      OBJ_OK(crdt_pncounter_inc(crdt_object_pncounter(o), 3,
                                crdt_object_pncounter(delta)));
    break;
  case CRDT_TYPE_ORSET:
    if (kind == 1)
      OBJ_OK(crdt_orset_remove(crdt_object_orset(o), S(key),
                               crdt_object_orset(delta)));
    else
      OBJ_OK(crdt_orset_add(crdt_object_orset(o), S(key),
                            crdt_object_orset(delta)));
    break;
  case CRDT_TYPE_MVREG: {
    crdt_context *none = NULL;
    OBJ_OK(crdt_context_new(&none));
    OBJ_OK(crdt_mvreg_write(crdt_object_mvreg(o), S(key),
                            kind == 1 ? none : NULL,
                            crdt_object_mvreg(delta)));
    crdt_context_free(none);
    break;
  }
  case CRDT_TYPE_CART:
    if (kind == 1)
      OBJ_OK(crdt_cart_dec(crdt_object_cart(o), S(key), 1,
                           crdt_object_cart(delta), NULL));
    else if (kind == 2)
      OBJ_OK(crdt_cart_remove(crdt_object_cart(o), S(key),
                              crdt_object_cart(delta)));
    else
      OBJ_OK(crdt_cart_add(crdt_object_cart(o), S(key), 3,
                           crdt_object_cart(delta)));
    break;
  case CRDT_TYPE_LWWREG:
    OBJ_OK(crdt_lwwreg_write(crdt_object_lwwreg(o), S(key), lww_clock++,
                             crdt_object_lwwreg(delta)));
    break;
  case CRDT_TYPE_FLAG: /* one key: enable, or (kinds 1, 2) disable */
    if (kind == 0)
      OBJ_OK(crdt_flag_enable(crdt_object_flag(o), crdt_object_flag(delta)));
    else
      OBJ_OK(crdt_flag_disable(crdt_object_flag(o), crdt_object_flag(delta)));
    break;
  case CRDT_TYPE_MAP: {
    crdt_map *m = crdt_object_map(o), *d = crdt_object_map(delta);
    crdt_bytes k = CRDT_STR(key);
    crdt_path at = {(crdt_bytes[]){CRDT_STR("rec"), k}, 2};
    if (kind == 1) {
      OBJ_OK(crdt_map_orset_remove(m, CRDT_PATH("rec", "tags"), S(key), d));
    } else if (kind == 2) {
      OBJ_OK(crdt_map_remove(m, at, CRDT_FIELD_COUNTER, d));
    } else {
      OBJ_OK(crdt_map_orset_add(m, CRDT_PATH("rec", "tags"), S(key), d));
      OBJ_OK(crdt_map_counter_inc(m, at, 2, d));
      OBJ_OK(crdt_map_mvreg_set(m, CRDT_PATH("rec", "note"), S(key), d));
      OBJ_OK(crdt_map_lwwreg_set(m, CRDT_PATH("lww"), S(key), lww_clock++, d));
      OBJ_OK(crdt_map_flag_enable(m, CRDT_PATH("deep", "on"), d));
    }
    break;
  }
  }
}

static void *fx_setup(void) {
  fx *f = calloc(1, sizeof *f);
  assert_non_null(f);
  lww_clock = 10;
  f->a = obj_new("A");
  f->b = obj_new("B");
  f->delta = obj_new(NULL);
  f->group = obj_new(NULL);
  crdt_object *c = obj_new("C");
  history_update(c, 0, "fig", NULL);
  history_update(f->a, 0, "apple", f->delta);
  history_update(f->a, 0, "apple", NULL); /* a second dot for apple */
  history_update(f->a, 0, "pear", f->delta);
  OBJ_OK(crdt_object_merge(f->b, f->a));
  OBJ_OK(crdt_object_merge(f->b, c));
  history_update(f->b, 1, "pear", f->group);
  history_update(f->b, 0, "kiwi", f->group);
  history_update(f->b, 2, "apple", f->group);
  OBJ_OK(crdt_object_merge(f->delta, f->group));
  history_update(f->a, 0, "fig", NULL);
  for (unsigned i = 0; i < extra_keys; i++) {
    char key[64];
    snprintf(key, sizeof key, "extra-%u-padding-to-make-it-longer", i);
    history_update(f->a, current == CRDT_TYPE_MVREG ? 1 : 0, key, NULL);
  }
  if (current == CRDT_TYPE_MVREG)
    OBJ_OK(crdt_mvreg_context(crdt_object_mvreg(f->b), &f->tok));
  else
    OBJ_OK(crdt_context_new(&f->tok));
  OBJ_OK(crdt_context_add(f->tok, "C", 1));
  f->blob = encode(f->b, &f->blob_len);
  f->dblob = encode(f->delta, &f->dblob_len);
  f->tblob = encode_token(f->tok, &f->tblob_len);
  crdt_object_free(c);
  return f;
}

static void fx_teardown(void *p) {
  fx *f = p;
  crdt_object_free(f->a);
  crdt_object_free(f->b);
  crdt_object_free(f->delta);
  crdt_object_free(f->group);
  crdt_object_free(f->out);
  crdt_context_free(f->tok);
  crdt_context_free(f->tok_out);
  free(f->blob);
  free(f->dblob);
  free(f->tblob);
  free(f);
}

static void append(char **s, size_t *len, const char *part) {
  size_t n = strlen(part);
  *s = realloc(*s, *len + n + 1);
  assert_non_null(*s);
  memcpy(*s + *len, part, n + 1);
  *len += n;
}

static void append_hex(char **s, size_t *len, const uint8_t *b, size_t n) {
  char two[3];
  for (size_t i = 0; i < n; i++) {
    snprintf(two, sizeof two, "%02x", b[i]);
    append(s, len, two);
  }
  append(s, len, " | ");
}

static void append_object(char **s, size_t *len, const crdt_object *o) {
  if (!o) {
    append(s, len, "- | ");
    return;
  }
  size_t n;
  uint8_t *b = encode(o, &n);
  append_hex(s, len, b, n);
  free(b);
  char *t = tu_object_text(o);
  append(s, len, t);
  append(s, len, " | ");
  free(t);
}

/* Every object's encoding and text, taken with the armed failure paused so
 * the snapshot neither fires nor uses it up. */
static char *fx_snapshot(void *p) {
  fx *f = p;
  char *s = NULL;
  size_t len = 0;
  tu_alloc_pause();
  append(&s, &len, "");
  const crdt_object *objs[] = {f->a, f->b, f->delta, f->group, f->out};
  for (size_t i = 0; i < sizeof objs / sizeof *objs; i++)
    append_object(&s, &len, objs[i]);
  const crdt_context *toks[] = {f->tok, f->tok_out};
  for (size_t i = 0; i < 2; i++) {
    if (!toks[i]) {
      append(&s, &len, "- | ");
      continue;
    }
    size_t n;
    uint8_t *b = encode_token(toks[i], &n);
    append_hex(&s, &len, b, n);
    free(b);
  }
  tu_alloc_resume();
  return s;
}

/* ---- runs ---------------------------------------------------------------------- */

#define RUN(name, expr)                                                        \
  static int name(void *p) {                                                   \
    fx *f = p;                                                                 \
    (void)f;                                                                   \
    return (expr);                                                             \
  }

RUN(run_merge_state, crdt_object_merge(f->a, f->b))
RUN(run_merge_delta, crdt_object_merge(f->a, f->group))
RUN(run_merge_state_into_delta, crdt_object_merge(f->delta, f->b))
RUN(run_merge_delta_into_delta, crdt_object_merge(f->group, f->delta))
RUN(run_copy, crdt_object_copy(f->a, &f->out))
RUN(run_new, crdt_object_new(current, "Z", &f->out))
RUN(run_decode, crdt_decode(f->blob, f->blob_len, NULL, &f->out))
RUN(run_decode_owned, crdt_decode(f->blob, f->blob_len, "B", &f->out))
RUN(run_decode_delta, crdt_decode(f->dblob, f->dblob_len, NULL, &f->out))
RUN(run_decode_delta_owned,
    crdt_decode(f->dblob, f->dblob_len, "new-owner", &f->out))
RUN(run_encode, crdt_encode(f->a, f->buf, sizeof f->buf, &(size_t){0}))
RUN(run_value_json, crdt_object_value_json(f->b, f->text, sizeof f->text, NULL))
RUN(run_context_text,
    crdt_object_context_text(f->b, f->text, sizeof f->text, NULL))
RUN(run_token_decode, crdt_context_decode(f->tblob, f->tblob_len, &f->tok_out))
RUN(run_token_encode,
    crdt_context_encode(f->tok, f->buf, sizeof f->buf, &(size_t){0}))
RUN(run_token_json,
    crdt_context_format_json(f->tok, f->text, sizeof f->text, NULL))

static const struct {
  const char *name;
  int (*run)(void *);
} common_runs[] = {
    {"merge state into state", run_merge_state},
    {"merge delta group into state", run_merge_delta},
    {"merge state into delta group", run_merge_state_into_delta},
    {"merge delta group into delta group", run_merge_delta_into_delta},
    {"copy", run_copy},
    {"new", run_new},
    {"decode state", run_decode},
    {"decode state with owner", run_decode_owned},
    {"decode delta group", run_decode_delta},
    {"decode delta group with owner", run_decode_delta_owned},
    {"encode", run_encode},
    {"value json", run_value_json},
    {"context text", run_context_text},
    {"context token decode", run_token_decode},
    {"context token encode", run_token_encode},
    {"context token json", run_token_json},
};

RUN(gc_inc, crdt_gcounter_inc(crdt_object_gcounter(f->a), 5, NULL))
RUN(gc_inc_delta, crdt_gcounter_inc(crdt_object_gcounter(f->a), 5,
                                    crdt_object_gcounter(f->group)))
RUN(gc_inc_new_delta, crdt_gcounter_inc(crdt_object_gcounter(f->b), 5,
                                        crdt_object_gcounter(f->delta)))
RUN(pn_inc, crdt_pncounter_inc(crdt_object_pncounter(f->a), 5, NULL))
RUN(pn_dec_delta, crdt_pncounter_dec(crdt_object_pncounter(f->a), 5,
                                     crdt_object_pncounter(f->group)))
RUN(pn_inc_delta, crdt_pncounter_inc(crdt_object_pncounter(f->b), 5,
                                     crdt_object_pncounter(f->delta)))

RUN(or_add_new, crdt_orset_add(crdt_object_orset(f->a), S("plum"), NULL))
RUN(or_add_new_delta, crdt_orset_add(crdt_object_orset(f->a), S("plum"),
                                     crdt_object_orset(f->group)))
RUN(or_add_existing, crdt_orset_add(crdt_object_orset(f->a), S("apple"), NULL))
RUN(or_add_existing_delta, crdt_orset_add(crdt_object_orset(f->a), S("apple"),
                                          crdt_object_orset(f->delta)))
RUN(or_remove, crdt_orset_remove(crdt_object_orset(f->a), S("apple"), NULL))
RUN(or_remove_delta, crdt_orset_remove(crdt_object_orset(f->a), S("apple"),
                                       crdt_object_orset(f->group)))

static int collect_orset(crdt_bytes e, void *user) {
  (void)e;
  (void)user;
  return 0;
}
RUN(or_foreach, crdt_orset_foreach(crdt_object_orset(f->b), collect_orset, NULL))

RUN(mv_write_own, crdt_mvreg_write(crdt_object_mvreg(f->a), S("v"), NULL, NULL))
RUN(mv_write_own_delta, crdt_mvreg_write(crdt_object_mvreg(f->a), S("v"), NULL,
                                         crdt_object_mvreg(f->group)))
RUN(mv_write_token, crdt_mvreg_write(crdt_object_mvreg(f->a), S("v"), f->tok,
                                     NULL))
RUN(mv_write_token_delta,
    crdt_mvreg_write(crdt_object_mvreg(f->a), S("apple"), f->tok,
                     crdt_object_mvreg(f->delta)))
RUN(mv_context, crdt_mvreg_context(crdt_object_mvreg(f->a), &f->tok_out))

static int pick_first(const crdt_bytes *siblings, size_t n, crdt_bytes *chosen,
                      void *user) {
  (void)n;
  (void)user;
  *chosen = siblings[0];
  return 0;
}
RUN(mv_resolve, crdt_mvreg_resolve(crdt_object_mvreg(f->b), pick_first, NULL,
                                   NULL))
RUN(mv_resolve_delta, crdt_mvreg_resolve(crdt_object_mvreg(f->b), pick_first,
                                         NULL, crdt_object_mvreg(f->group)))
static int visit_mv(crdt_bytes v, void *user) {
  (void)v;
  (void)user;
  return 0;
}
RUN(mv_foreach, crdt_mvreg_foreach(crdt_object_mvreg(f->b), visit_mv, NULL))

RUN(cart_add_new, crdt_cart_add(crdt_object_cart(f->a), S("plum"), 2, NULL))
RUN(cart_add_new_delta, crdt_cart_add(crdt_object_cart(f->a), S("plum"), 2,
                                      crdt_object_cart(f->group)))
RUN(cart_add_existing, crdt_cart_add(crdt_object_cart(f->a), S("pear"), 2,
                                     NULL))
RUN(cart_add_existing_delta, crdt_cart_add(crdt_object_cart(f->a), S("apple"),
                                           2, crdt_object_cart(f->delta)))
RUN(cart_dec, crdt_cart_dec(crdt_object_cart(f->a), S("apple"), 4, NULL, NULL))
RUN(cart_dec_delta, crdt_cart_dec(crdt_object_cart(f->a), S("apple"), 1,
                                  crdt_object_cart(f->group), NULL))
RUN(cart_remove, crdt_cart_remove(crdt_object_cart(f->a), S("apple"), NULL))
RUN(cart_remove_delta, crdt_cart_remove(crdt_object_cart(f->a), S("pear"),
                                        crdt_object_cart(f->group)))
static int visit_cart(crdt_bytes item, int64_t q, void *user) {
  (void)item;
  (void)q;
  (void)user;
  return 0;
}
RUN(cart_foreach, crdt_cart_foreach(crdt_object_cart(f->b), visit_cart, NULL))

RUN(lww_write, crdt_lwwreg_write(crdt_object_lwwreg(f->a), S("new value"),
                                 1000, NULL))
RUN(lww_write_delta, crdt_lwwreg_write(crdt_object_lwwreg(f->a), S("v2"), 1000,
                                       crdt_object_lwwreg(f->group)))

/* The fixture's A is enabled, B disabled. */
RUN(flag_enable, crdt_flag_enable(crdt_object_flag(f->b), NULL))
RUN(flag_enable_delta, crdt_flag_enable(crdt_object_flag(f->b),
                                        crdt_object_flag(f->group)))
RUN(flag_reenable, crdt_flag_enable(crdt_object_flag(f->a), NULL))
RUN(flag_reenable_delta, crdt_flag_enable(crdt_object_flag(f->a),
                                          crdt_object_flag(f->delta)))
RUN(flag_disable, crdt_flag_disable(crdt_object_flag(f->a), NULL))
RUN(flag_disable_delta, crdt_flag_disable(crdt_object_flag(f->a),
                                          crdt_object_flag(f->group)))
#define MAP(o) crdt_object_map(o)
RUN(map_inc_new, crdt_map_counter_inc(MAP(f->a), CRDT_PATH("x", "y", "n"), 1,
                                      NULL))
RUN(map_inc_new_delta, crdt_map_counter_inc(MAP(f->a),
                                            CRDT_PATH("x", "y", "n"), 1,
                                            MAP(f->group)))
RUN(map_inc_existing, crdt_map_counter_dec(MAP(f->a), CRDT_PATH("rec", "fig"),
                                           1, MAP(f->delta)))
RUN(map_add_new, crdt_map_orset_add(MAP(f->a), CRDT_PATH("rec", "tags"),
                                    S("plum"), MAP(f->group)))
RUN(map_add_existing, crdt_map_orset_add(MAP(f->a), CRDT_PATH("rec", "tags"),
                                         S("apple"), MAP(f->delta)))
RUN(map_remove_element, crdt_map_orset_remove(MAP(f->b),
                                              CRDT_PATH("rec", "tags"),
                                              S("apple"), MAP(f->group)))
RUN(map_mvreg_set, crdt_map_mvreg_set(MAP(f->b), CRDT_PATH("rec", "note"),
                                      S("a new note"), MAP(f->delta)))
RUN(map_lww_set, crdt_map_lwwreg_set(MAP(f->b), CRDT_PATH("lww"),
                                     S("a new value"), 1, MAP(f->group)))
RUN(map_flag_disable, crdt_map_flag_disable(MAP(f->b), CRDT_PATH("deep", "on"),
                                            MAP(f->group)))
RUN(map_remove_map, crdt_map_remove(MAP(f->b), CRDT_PATH("rec"),
                                    CRDT_FIELD_MAP, MAP(f->delta)))
RUN(map_remove_map_no_delta, crdt_map_remove(MAP(f->a), CRDT_PATH("rec"),
                                             CRDT_FIELD_MAP, NULL))
static int visit_item(crdt_bytes item, void *user) {
  (void)item;
  (void)user;
  return 0;
}
static int visit_field(crdt_bytes name, crdt_field_type type, void *user) {
  (void)name;
  (void)type;
  (void)user;
  return 0;
}
RUN(map_items, crdt_map_items(MAP(f->b), CRDT_PATH("rec", "tags"),
                              CRDT_FIELD_ORSET, visit_item, NULL))
RUN(map_fields, crdt_map_fields(MAP(f->b), CRDT_PATH("rec"), visit_field,
                                NULL))

static const struct {
  crdt_type type;
  const char *name;
  int (*run)(void *);
} typed_runs[] = {
    {CRDT_TYPE_GCOUNTER, "inc", gc_inc},
    {CRDT_TYPE_GCOUNTER, "inc into a delta group", gc_inc_delta},
    {CRDT_TYPE_GCOUNTER, "inc into a group without the replica",
     gc_inc_new_delta},
    {CRDT_TYPE_PNCOUNTER, "inc", pn_inc},
    {CRDT_TYPE_PNCOUNTER, "dec into a delta group", pn_dec_delta},
    {CRDT_TYPE_PNCOUNTER, "inc into a group without the replica",
     pn_inc_delta},
    {CRDT_TYPE_ORSET, "add new", or_add_new},
    {CRDT_TYPE_ORSET, "add new with delta", or_add_new_delta},
    {CRDT_TYPE_ORSET, "re-add", or_add_existing},
    {CRDT_TYPE_ORSET, "re-add with delta", or_add_existing_delta},
    {CRDT_TYPE_ORSET, "remove", or_remove},
    {CRDT_TYPE_ORSET, "remove with delta", or_remove_delta},
    {CRDT_TYPE_ORSET, "foreach", or_foreach},
    {CRDT_TYPE_MVREG, "write with own context", mv_write_own},
    {CRDT_TYPE_MVREG, "write with own context and delta", mv_write_own_delta},
    {CRDT_TYPE_MVREG, "write with a foreign token", mv_write_token},
    {CRDT_TYPE_MVREG, "rewrite with a foreign token and delta",
     mv_write_token_delta},
    {CRDT_TYPE_MVREG, "read context", mv_context},
    {CRDT_TYPE_MVREG, "resolve", mv_resolve},
    {CRDT_TYPE_MVREG, "resolve with delta", mv_resolve_delta},
    {CRDT_TYPE_MVREG, "foreach", mv_foreach},
    {CRDT_TYPE_CART, "add new item", cart_add_new},
    {CRDT_TYPE_CART, "add new item with delta", cart_add_new_delta},
    {CRDT_TYPE_CART, "add to item", cart_add_existing},
    {CRDT_TYPE_CART, "add to item with delta", cart_add_existing_delta},
    {CRDT_TYPE_CART, "dec", cart_dec},
    {CRDT_TYPE_CART, "dec with delta", cart_dec_delta},
    {CRDT_TYPE_CART, "remove", cart_remove},
    {CRDT_TYPE_CART, "remove with delta", cart_remove_delta},
    {CRDT_TYPE_CART, "foreach", cart_foreach},
    {CRDT_TYPE_LWWREG, "write", lww_write},
    {CRDT_TYPE_LWWREG, "write with delta", lww_write_delta},
    {CRDT_TYPE_FLAG, "enable", flag_enable},
    {CRDT_TYPE_FLAG, "enable into a delta group", flag_enable_delta},
    {CRDT_TYPE_FLAG, "re-enable", flag_reenable},
    {CRDT_TYPE_FLAG, "re-enable with delta", flag_reenable_delta},
    {CRDT_TYPE_FLAG, "disable", flag_disable},
    {CRDT_TYPE_FLAG, "disable with delta", flag_disable_delta},
    {CRDT_TYPE_MAP, "counter inc on a new path", map_inc_new},
    {CRDT_TYPE_MAP, "counter inc on a new path with delta", map_inc_new_delta},
    {CRDT_TYPE_MAP, "counter dec with delta", map_inc_existing},
    {CRDT_TYPE_MAP, "orset add new with delta", map_add_new},
    {CRDT_TYPE_MAP, "orset re-add with delta", map_add_existing},
    {CRDT_TYPE_MAP, "orset remove with delta", map_remove_element},
    {CRDT_TYPE_MAP, "mvreg set with delta", map_mvreg_set},
    {CRDT_TYPE_MAP, "lwwreg set with delta", map_lww_set},
    {CRDT_TYPE_MAP, "flag disable with delta", map_flag_disable},
    {CRDT_TYPE_MAP, "remove a map field with delta", map_remove_map},
    {CRDT_TYPE_MAP, "remove a map field", map_remove_map_no_delta},
    {CRDT_TYPE_MAP, "items", map_items},
    {CRDT_TYPE_MAP, "fields", map_fields},
};

static void check_type(crdt_type type) {
  current = type;
  unsigned points = 0, cases = 0;
  char name[128];
  for (size_t i = 0; i < sizeof common_runs / sizeof *common_runs; i++) {
    int (*run)(void *) = common_runs[i].run;
    if (type == CRDT_TYPE_LWWREG && run == run_context_text)
      continue; /* no context: CRDT_ENOTSUP */
    if (type != CRDT_TYPE_MVREG &&
        (run == run_token_decode || run == run_token_encode ||
         run == run_token_json))
      continue; /* tokens are the same for every type: once is enough */
    snprintf(name, sizeof name, "%s: %s", crdt_type_name(type),
             common_runs[i].name);
    tu_oom_case c = {name, fx_setup, common_runs[i].run, fx_snapshot,
                     fx_teardown};
    points += tu_check_oom(&c);
    cases++;
  }
  for (size_t i = 0; i < sizeof typed_runs / sizeof *typed_runs; i++) {
    if (typed_runs[i].type != type) continue;
    snprintf(name, sizeof name, "%s: %s", crdt_type_name(type),
             typed_runs[i].name);
    tu_oom_case c = {name, fx_setup, typed_runs[i].run, fx_snapshot,
                     fx_teardown};
    unsigned n = tu_check_oom(&c);
    points += n;
    cases++;
  }
  print_message("%s: %u operations, %u allocation points failed\n",
                crdt_type_name(type), cases, points);
  assert_true(points > 0);
}

static void test_oom_all_gcounter(void **state) {
  (void)state;
  check_type(CRDT_TYPE_GCOUNTER);
}
static void test_oom_all_pncounter(void **state) {
  (void)state;
  check_type(CRDT_TYPE_PNCOUNTER);
}
static void test_oom_all_orset(void **state) {
  (void)state;
  check_type(CRDT_TYPE_ORSET);
}
static void test_oom_all_mvreg(void **state) {
  (void)state;
  check_type(CRDT_TYPE_MVREG);
}
static void test_oom_all_cart(void **state) {
  (void)state;
  check_type(CRDT_TYPE_CART);
}
static void test_oom_all_lwwreg(void **state) {
  (void)state;
  check_type(CRDT_TYPE_LWWREG);
}
static void test_oom_all_flag(void **state) {
  (void)state;
  check_type(CRDT_TYPE_FLAG);
}
static void test_oom_all_map(void **state) {
  (void)state;
  check_type(CRDT_TYPE_MAP);
}

/* Insertions into tables of every size up to 70 keys: allocation failure
 * while the key table or the key storage grows. */
static void test_oom_all_growth(void **state) {
  (void)state;
  static const struct {
    crdt_type type;
    int (*run)(void *);
  } inserts[] = {
      {CRDT_TYPE_ORSET, or_add_new},
      {CRDT_TYPE_ORSET, or_add_new_delta},
      {CRDT_TYPE_CART, cart_add_new},
      {CRDT_TYPE_MVREG, mv_write_token},
  };
  unsigned points = 0;
  for (size_t i = 0; i < sizeof inserts / sizeof *inserts; i++) {
    current = inserts[i].type;
    for (extra_keys = 0; extra_keys <= 70; extra_keys++) {
      char name[96];
      snprintf(name, sizeof name, "%s: insert with %u extra keys",
               crdt_type_name(current), extra_keys);
      tu_oom_case c = {name, fx_setup, inserts[i].run, fx_snapshot,
                       fx_teardown};
      points += tu_check_oom(&c);
    }
  }
  extra_keys = 0;
  print_message("growth: %u allocation points failed\n", points);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_oom_all_gcounter),
      cmocka_unit_test(test_oom_all_pncounter),
      cmocka_unit_test(test_oom_all_orset),
      cmocka_unit_test(test_oom_all_mvreg),
      cmocka_unit_test(test_oom_all_cart),
      cmocka_unit_test(test_oom_all_lwwreg),
      cmocka_unit_test(test_oom_all_flag),
      cmocka_unit_test(test_oom_all_map),
      cmocka_unit_test(test_oom_all_growth),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

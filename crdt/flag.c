/*
 * Enable-wins flag on the kernel's dot store: one key, the empty key, whose
 * dots are the enables not yet disabled; enabled <=> it has a dot. Enable
 * is the OR-set's add of that key (a fresh dot replacing what this replica
 * sees), disable its remove. The kernel's join decides what survives a
 * merge, so an enable concurrent with a disable survives it.
 */
#include "crdt/flag.h"
#include "dotted.h"
#include "wire.h"

struct crdt_flag {
  crdt__dotted d;
};

/* The flag's one key. */
#define FLAG_KEY ""
#define FLAG_KEYLEN 0

static int flag_create(const char *replica, crdt_object **out) {
  return crdt__dotted_create(&crdt__flag_type, replica, out);
}

static bool enabled(const crdt__dotted *d) {
  uint32_t hash;
  const crdt__entry *e = crdt__dotted_find(d, FLAG_KEY, FLAG_KEYLEN, &hash);
  return e && e->ndots; /* a keyed delta's disable leaves a marker: no dots */
}

static int flag_value_json(const crdt_object *o, crdt__text *t) {
  if (enabled(crdt__dotted_cof(o)))
    crdt__text_put(t, "true", 4);
  else
    crdt__text_put(t, "false", 5);
  return 0;
}

const crdt__type crdt__flag_type = {
    CRDT_TYPE_FLAG,          "flag",
    flag_create,             crdt__dotted_merge,
    crdt__dotted_equal,      crdt__dotted_copy,
    crdt__dotted_compare,    crdt__dotted_destroy,
    crdt__dotted_replica,    flag_value_json,
    crdt__dotted_context_text,
    crdt__dotted_context,
};

CRDT__TYPED_API(flag, crdt__flag_type)
CRDT__TYPED_COMPARE(flag)

/* The dot-store body (docs/format.md). A flag knows one key, so a body that
 * names any other key, with dots or as a marker, is malformed: merged into
 * a flag it would be a second, invisible flag. */
static void flag_encode(const crdt_object *o, crdt__wbuf *w) {
  crdt__dotted_encode(o, w, false);
}

/* Decodes a body into a new flag, or CRDT_EFORMAT when it names another
 * key. */
static int decode_one_key(crdt__rbuf *body, uint8_t flags, const char *replica,
                          crdt_object **out) {
  crdt_object *o;
  int rc = crdt__dotted_decode(&crdt__flag_type, body, flags, replica, false,
                               &o);
  if (rc) return rc;
  const crdt__store *s = &crdt__dotted_cof(o)->c.store;
  if (s->count > 1 || (s->count == 1 && s->entries[0].keylen != FLAG_KEYLEN)) {
    crdt__dotted_destroy(o);
    return CRDT_EFORMAT;
  }
  *out = o;
  return 0;
}

/* Decoding for an owner drops a keyed delta's markers, a foreign key among
 * them; so such a body is first checked without an owner, and the verdict
 * does not depend on who decodes (a flag's body is a few bytes per replica,
 * so reading it twice costs little). Other bodies have no markers. A bad
 * owner id is reported first, as for every type. */
static int flag_decode(crdt__rbuf *body, uint8_t flags, const char *replica,
                       crdt_object **out) {
  size_t len;
  if (replica && crdt__replica_check(replica, &len)) return CRDT_EINVAL;
  if (replica && (flags & CRDT__WIRE_FLAG_KEYED)) {
    crdt__rbuf first = *body;
    crdt_object *o;
    int rc = decode_one_key(&first, flags, NULL, &o);
    if (rc) return rc;
    crdt__dotted_destroy(o);
  }
  return decode_one_key(body, flags, replica, out);
}

const crdt__codec crdt__flag_codec = {&crdt__flag_type, crdt__dotted_wire_flags,
                                      flag_encode, flag_decode};

/* A fresh dot replacing this replica's observation (crdt__dotted_add). */
int crdt_flag_enable(crdt_flag *flag, crdt_flag *delta) {
  if (!flag) return CRDT_EINVAL;
  return crdt__dotted_add(&flag->d, FLAG_KEY, FLAG_KEYLEN,
                          (crdt_object *)delta);
}

/* Drops only the enables this replica observed (crdt__dotted_remove). */
int crdt_flag_disable(crdt_flag *flag, crdt_flag *delta) {
  if (!flag) return CRDT_EINVAL;
  return crdt__dotted_remove(&flag->d, FLAG_KEY, FLAG_KEYLEN,
                             (crdt_object *)delta);
}

bool crdt_flag_enabled(const crdt_flag *flag) {
  return flag && enabled(&flag->d);
}

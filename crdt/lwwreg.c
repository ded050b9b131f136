/*
 * LWW-Register: the greatest (timestamp, writer id, value) wins. It keeps no
 * causal context, so it needs none of the kernel's dot machinery: only a
 * total order on writes, which makes the merge a max (commutative,
 * associative, idempotent).
 */
#include <string.h>

#include "crdt/lwwreg.h"
#include "replicas.h"
#include "type.h"
#include "wire.h"

struct crdt_lwwreg {
  struct crdt_object base;
  bool written;         /* false: empty, the fields below are unused */
  uint64_t timestamp;
  uint8_t *value;       /* owned, allocated with base.mem; NULL when len 0 */
  uint32_t len;
  uint8_t self_len;     /* 0: no owner (delta / receive-only register) */
  uint8_t writer_len;
  char self[CRDT_REPLICA_MAX + 1];
  char writer[CRDT_REPLICA_MAX + 1];
};

/* One write, as the order sees it. */
typedef struct lww_write {
  uint64_t timestamp;
  const char *writer;
  size_t writer_len;
  const void *value;
  size_t len;
} lww_write;

static crdt_lwwreg *of(crdt_object *o) { return (crdt_lwwreg *)o; }
static const crdt_lwwreg *cof(const crdt_object *o) {
  return (const crdt_lwwreg *)o;
}

static lww_write held(const crdt_lwwreg *r) {
  lww_write w = {r->timestamp, r->writer, r->writer_len, r->value, r->len};
  return w;
}

/* Byte order: memcmp on the common prefix, the shorter first. */
static int bytes_cmp(const void *a, size_t alen, const void *b, size_t blen) {
  size_t common = alen < blen ? alen : blen;
  int c = common ? memcmp(a, b, common) : 0;
  if (c) return c;
  return (alen > blen) - (alen < blen);
}

/* The total order on writes: timestamp, writer id, value. */
static int write_cmp(const lww_write *a, const lww_write *b) {
  if (a->timestamp != b->timestamp) return a->timestamp < b->timestamp ? -1 : 1;
  int c = crdt__replica_cmp(a->writer, a->writer_len, b->writer, b->writer_len);
  if (c) return c;
  return bytes_cmp(a->value, a->len, b->value, b->len);
}

/* true when w would replace what r holds. */
static bool wins_over(const lww_write *w, const crdt_lwwreg *r) {
  if (!r->written) return true;
  lww_write current = held(r);
  return write_cmp(w, &current) > 0;
}

static int value_dup(const crdt_allocator *m, const void *value, size_t len,
                     uint8_t **out) {
  *out = NULL;
  if (!len) return 0;
  if (!(*out = crdt__alloc(m, len))) return CRDT_ENOMEM;
  memcpy(*out, value, len);
  return 0;
}

/* Makes w the register's write; `copy` is w's value, already allocated with
 * r's allocator (ownership passes to r). Never fails. */
static void install(crdt_lwwreg *r, const lww_write *w, uint8_t *copy) {
  crdt__free(&r->base.mem, r->value, r->len);
  r->written = true;
  r->timestamp = w->timestamp;
  r->value = copy;
  r->len = (uint32_t)w->len;
  memmove(r->writer, w->writer, w->writer_len);
  r->writer[w->writer_len] = '\0';
  r->writer_len = (uint8_t)w->writer_len;
}

static int lwwreg_create(const char *replica, crdt_object **out) {
  size_t len = 0;
  if (!out || (replica && crdt__replica_check(replica, &len)))
    return CRDT_EINVAL;
  const crdt_allocator *m = crdt__mem_default();
  crdt_lwwreg *r = crdt__calloc(m, 1, sizeof *r);
  if (!r) return CRDT_ENOMEM;
  crdt__object_init(&r->base, &crdt__lwwreg_type, m);
  if (replica) memcpy(r->self, replica, len + 1);
  r->self_len = (uint8_t)len;
  *out = &r->base;
  return 0;
}

static int lwwreg_merge(crdt_object *dst, const crdt_object *src) {
  crdt_lwwreg *d = of(dst);
  const crdt_lwwreg *s = cof(src);
  if (!s->written) return 0;
  lww_write w = held(s);
  if (!wins_over(&w, d)) return 0;
  uint8_t *copy;
  if (value_dup(&d->base.mem, w.value, w.len, &copy)) return CRDT_ENOMEM;
  install(d, &w, copy);
  return 0;
}

static bool lwwreg_equal(const crdt_object *a, const crdt_object *b) {
  const crdt_lwwreg *x = cof(a), *y = cof(b);
  if (!x->written || !y->written) return x->written == y->written;
  lww_write wx = held(x), wy = held(y);
  return write_cmp(&wx, &wy) == 0;
}

static int lwwreg_copy(const crdt_object *src, crdt_object **out) {
  const crdt_lwwreg *s = cof(src);
  const crdt_allocator *m = crdt__mem_default();
  crdt_lwwreg *r = crdt__alloc(m, sizeof *r);
  if (!r) return CRDT_ENOMEM;
  *r = *s;
  crdt__object_init(&r->base, &crdt__lwwreg_type, m);
  if (value_dup(m, s->value, s->len, &r->value)) {
    crdt__free(m, r, sizeof *r);
    return CRDT_ENOMEM;
  }
  *out = &r->base;
  return 0;
}

static void lwwreg_destroy(crdt_object *o) {
  crdt_lwwreg *r = of(o);
  crdt_allocator m = r->base.mem;
  crdt__free(&m, r->value, r->len);
  crdt__free(&m, r, sizeof *r);
}

static const char *lwwreg_replica(const crdt_object *o) {
  const crdt_lwwreg *r = cof(o);
  return r->self_len ? r->self : NULL;
}

static int lwwreg_value_json(const crdt_object *o, crdt__text *t) {
  const crdt_lwwreg *r = cof(o);
  if (r->written)
    crdt__text_json(t, r->value, r->len);
  else
    crdt__text_str(t, "null");
  return 0;
}

/* compare and context_text are NULL: the generic layer then answers
 * CRDT_ENOTSUP, as the register keeps no causal history. */
const crdt__type crdt__lwwreg_type = {
    CRDT_TYPE_LWWREG,  "lwwreg",     lwwreg_create,  lwwreg_merge,
    lwwreg_equal,      lwwreg_copy,  NULL,           lwwreg_destroy,
    lwwreg_replica,    lwwreg_value_json,            NULL,
    NULL,
};

CRDT__TYPED_API(lwwreg, crdt__lwwreg_type)

int crdt_lwwreg_compare(const crdt_lwwreg *a, const crdt_lwwreg *b,
                        crdt_order *order) {
  return crdt_object_compare((const crdt_object *)a, (const crdt_object *)b,
                             order);
}

/* The delta of a write is the new state. Both value copies are made before
 * anything changes. */
int crdt_lwwreg_write(crdt_lwwreg *r, const void *value, size_t len,
                      uint64_t timestamp, crdt_lwwreg *delta) {
  if (!r || (!value && len) || len > UINT32_MAX || delta == r)
    return CRDT_EINVAL;
  if (delta && delta->base.type != r->base.type) return CRDT_ETYPE;
  if (!r->self_len) return CRDT_ENOREPLICA;
  lww_write w = {timestamp, r->self, r->self_len, value, len};
  if (!wins_over(&w, r)) return CRDT_ESTALE;
  const bool into_delta = delta && wins_over(&w, delta);
  uint8_t *copy, *delta_copy = NULL;
  if (value_dup(&r->base.mem, value, len, &copy)) return CRDT_ENOMEM;
  if (into_delta && value_dup(&delta->base.mem, value, len, &delta_copy)) {
    crdt__free(&r->base.mem, copy, len);
    return CRDT_ENOMEM;
  }
  if (into_delta) install(delta, &w, delta_copy);
  install(r, &w, copy);
  return 0;
}

int crdt_lwwreg_get(const crdt_lwwreg *r, crdt_bytes *value,
                    uint64_t *timestamp) {
  if (!r) return CRDT_EINVAL;
  if (!r->written) return CRDT_ENOENT;
  if (value) {
    value->data = r->value ? (const void *)r->value : (const void *)"";
    value->size = r->len;
  }
  if (timestamp) *timestamp = r->timestamp;
  return 0;
}

const char *crdt_lwwreg_writer(const crdt_lwwreg *r) {
  return r && r->written ? r->writer : NULL;
}

/* ---- wire format (docs/format.md, "LWW-register") ------------------------ */

static uint8_t lwwreg_wire_flags(const crdt_object *o) {
  (void)o;
  return 0;
}

static void lwwreg_encode(const crdt_object *o, crdt__wbuf *w) {
  const crdt_lwwreg *r = cof(o);
  crdt__w_varint(w, r->written);
  if (!r->written) return;
  crdt__w_varint(w, r->timestamp);
  crdt__w_varint(w, r->writer_len);
  crdt__w_bytes(w, r->writer, r->writer_len);
  crdt__w_varint(w, r->len);
  crdt__w_bytes(w, r->value, r->len);
}

static int lwwreg_decode(crdt__rbuf *body, uint8_t flags, const char *replica,
                         crdt_object **out) {
  if (flags) return CRDT_EFORMAT;
  uint64_t present, timestamp = 0, writer_len = 0, len = 0;
  const uint8_t *writer = NULL, *value = NULL;
  int rc = crdt__r_varint(body, &present);
  if (rc) return rc;
  if (present > 1) return CRDT_EFORMAT;
  if (present) {
    if ((rc = crdt__r_varint(body, &timestamp)) ||
        (rc = crdt__r_varint(body, &writer_len)))
      return rc;
    if (writer_len == 0 || writer_len > CRDT_REPLICA_MAX) return CRDT_EFORMAT;
    if ((rc = crdt__r_bytes(body, (size_t)writer_len, &writer))) return rc;
    if (memchr(writer, 0, (size_t)writer_len)) return CRDT_EFORMAT;
    if ((rc = crdt__r_varint(body, &len))) return rc;
    if (len > UINT32_MAX) return CRDT_ELENGTH;
    if ((rc = crdt__r_bytes(body, (size_t)len, &value))) return rc;
  }
  if (crdt__r_left(body)) return CRDT_ETRAILING;
  crdt_object *o;
  if ((rc = lwwreg_create(replica, &o))) return rc;
  if (present) {
    crdt_lwwreg *r = of(o);
    uint8_t *copy;
    if (value_dup(&r->base.mem, value, (size_t)len, &copy)) {
      lwwreg_destroy(o);
      return CRDT_ENOMEM;
    }
    lww_write w = {timestamp, (const char *)writer, (size_t)writer_len, value,
                   (size_t)len};
    install(r, &w, copy);
  }
  *out = o;
  return 0;
}

const crdt__codec crdt__lwwreg_codec = {&crdt__lwwreg_type, lwwreg_wire_flags,
                                        lwwreg_encode, lwwreg_decode};

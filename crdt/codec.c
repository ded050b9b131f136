/*
 * The public codec: framing around each type's body encoding (src/wire.c,
 * docs/format.md).
 */
#include <string.h>

#include "crdt/codec.h"
#include "type.h"
#include "vector.h"
#include "wire.h"

static const crdt__codec *const codecs[] = {
    &crdt__gcounter_codec, &crdt__pncounter_codec, &crdt__orset_codec,
    &crdt__mvreg_codec,    &crdt__cart_codec,      &crdt__lwwreg_codec,
    &crdt__flag_codec,
    &crdt__map_codec,
};

static const crdt__codec *codec_of(const crdt__type *t) {
  for (size_t i = 0; i < sizeof codecs / sizeof *codecs; i++)
    if (codecs[i]->type == t) return codecs[i];
  return NULL;
}

/* Finishes an encoding written with crdt__wbuf_into(buf, cap): the blob is
 * in the caller's buffer when it fits (a writer only leaves that buffer
 * when outgrowing it); *size is the blob's size either way. */
static int deliver(crdt__wbuf *w, void *buf, size_t cap, size_t *size) {
  int rc = w->err;
  if (!rc || rc == CRDT_ENOSPC) {
    *size = w->len;
    if (w->len > cap)
      rc = CRDT_ENOSPC;
    else if (w->data != buf)
      memcpy(buf, w->data, w->len);
  }
  crdt__wbuf_free(w);
  return rc;
}

int crdt_encode(const crdt_object *obj, void *buf, size_t cap, size_t *size) {
  if (!obj || !size || (!buf && cap)) return CRDT_EINVAL;
  const crdt__codec *c = codec_of(obj->type);
  if (!c) return CRDT_ENOTSUP;
  crdt__wbuf w = crdt__wbuf_into(buf, cap, &obj->mem);
  crdt__frame_begin(&w, (uint8_t)obj->type->tag, c->wire_flags(obj));
  c->encode(obj, &w);
  crdt__frame_end(&w);
  return deliver(&w, buf, cap, size);
}

int crdt_decode(const void *data, size_t len, const char *replica,
                crdt_object **out) {
  if (!out || (!data && len)) return CRDT_EINVAL;
  crdt__frame f;
  int rc = crdt__frame_open(data, len, &f);
  if (rc) return rc;
  const crdt__type *t = crdt__type_of((crdt_type)f.tag);
  const crdt__codec *c = t ? codec_of(t) : NULL;
  if (!c) return CRDT_EBADTYPE;
  return c->decode(&f.body, f.flags, replica, out);
}

int crdt_peek(const void *data, size_t len, crdt_blob_info *info) {
  if (!info) return CRDT_EINVAL;
  crdt__frame f;
  int rc = crdt__frame_peek(data, len, &f);
  if (rc) return rc;
  if (f.tag == CRDT__WIRE_TAG_SYNC || f.tag == CRDT__WIRE_TAG_SESSION)
    return CRDT_EBADTYPE; /* sync messages and sessions: crdt/sync.h */
  info->version = f.version;
  info->is_context = f.tag == CRDT__WIRE_TAG_CONTEXT;
  info->type = info->is_context ? (crdt_type)0 : (crdt_type)f.tag;
  info->is_delta = (f.flags & CRDT__WIRE_FLAG_KEYED) != 0;
  return 0;
}

int crdt_context_encode(const crdt_context *ctx, void *buf, size_t cap,
                        size_t *size) {
  if (!ctx || !size || (!buf && cap)) return CRDT_EINVAL;
  crdt__wbuf w = crdt__wbuf_into(buf, cap, crdt__mem_default());
  crdt__frame_begin(&w, CRDT__WIRE_TAG_CONTEXT, 0);
  crdt__wire_put_context(&w, crdt__context_ctx(ctx),
                         crdt__context_replicas(ctx));
  crdt__frame_end(&w);
  return deliver(&w, buf, cap, size);
}

/* Decodes into a temporary kernel context, then builds the public object
 * from it (tokens are small; the copy keeps vector.c the only owner of the
 * public struct). */
int crdt_context_decode(const void *data, size_t len, crdt_context **out) {
  if (!out || (!data && len)) return CRDT_EINVAL;
  crdt__frame f;
  int rc = crdt__frame_open(data, len, &f);
  if (rc) return rc;
  if (f.tag != CRDT__WIRE_TAG_CONTEXT) return CRDT_EBADTYPE;
  if (f.flags) return CRDT_EFORMAT;
  const crdt_allocator *m = crdt__mem_default();
  crdt__ctx ctx = {0};
  crdt__replicas reps = {0};
  rc = crdt__wire_get_context(&f.body, m, &ctx, &reps, crdt__r_left(&f.body));
  if (!rc && crdt__r_left(&f.body)) rc = CRDT_ETRAILING;
  if (!rc) rc = crdt__context_from(&ctx, &reps, out);
  crdt__ctx_free(&ctx, m);
  crdt__replicas_free(&reps, m);
  return rc;
}

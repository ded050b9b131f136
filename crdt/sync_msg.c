/*
 * Sync messages: writing sections and parsing a whole message (the layout
 * is in docs/sync.md). A message is parsed and checked completely before
 * anything of it is applied, so a malformed one changes nothing.
 */
#include <string.h>

#include "sync_session.h"

size_t crdt__sec_begin(crdt__wbuf *w, unsigned kind) {
  crdt__w_varint(w, kind);
  static const uint8_t room[5] = {0};
  crdt__w_bytes(w, room, sizeof room); /* the longest length varint */
  return w->len;
}

void crdt__sec_end(crdt__wbuf *w, size_t at) {
  if (w->err) return;
  size_t payload = w->len - at;
  uint8_t len[10];
  size_t n = 0;
  for (uint64_t v = payload;; v >>= 7) {
    len[n++] = (uint8_t)((v & 0x7F) | (v > 0x7F ? 0x80 : 0));
    if (v <= 0x7F) break;
  }
  /* the length goes where the 5 reserved bytes start */
  uint8_t *p = w->data + at - 5;
  memcpy(p, len, n);
  memmove(p + n, w->data + at, payload);
  w->len -= 5 - n;
}

void crdt__w_u64(crdt__wbuf *w, uint64_t v) {
  uint8_t b[8];
  for (int i = 0; i < 8; i++) b[i] = (uint8_t)(v >> (8 * i));
  crdt__w_bytes(w, b, 8);
}

int crdt__r_u64(crdt__rbuf *r, uint64_t *v) {
  const uint8_t *p;
  int rc = crdt__r_bytes(r, 8, &p);
  if (rc) return rc;
  *v = 0;
  for (int i = 0; i < 8; i++) *v |= (uint64_t)p[i] << (8 * i);
  return 0;
}

void crdt__hello_put(crdt__wbuf *w, const crdt__hello *h) {
  crdt__w_u8(w, h->flags);
  crdt__w_u64(w, h->jid);
  crdt__w_varint(w, h->pos);
  crdt__w_varint(w, h->oldest);
  crdt__w_u8(w, h->ack);
  if (h->ack) {
    crdt__w_u64(w, h->ack_jid);
    crdt__w_varint(w, h->ack_pos);
  }
  crdt__w_u64(w, h->digest);
  crdt__w_varint(w, h->live);
  crdt__sctx_put(w, &h->ctx);
}

void crdt__hello_free(crdt__hello *h, const crdt_allocator *m) {
  crdt__sctx_free(&h->ctx, m);
  memset(h, 0, sizeof *h);
}

static int hello_get(crdt__rbuf *r, const crdt_allocator *m, crdt__hello *h) {
  uint64_t ack;
  const uint8_t *flags;
  int rc;
  if ((rc = crdt__r_bytes(r, 1, &flags))) return rc;
  h->flags = flags[0];
  if (h->flags & ~CRDT__HELLO_FLAGS) return CRDT_EFORMAT;
  if ((rc = crdt__r_u64(r, &h->jid)) || (rc = crdt__r_varint(r, &h->pos)) ||
      (rc = crdt__r_varint(r, &h->oldest)) || (rc = crdt__r_varint(r, &ack)))
    return rc;
  if (ack > 1 || h->oldest > h->pos || (!h->jid && (h->pos || h->oldest)))
    return CRDT_EFORMAT;
  h->ack = ack;
  if (ack && ((rc = crdt__r_u64(r, &h->ack_jid)) ||
              (rc = crdt__r_varint(r, &h->ack_pos))))
    return rc;
  if (ack && !h->ack_jid) return CRDT_EFORMAT;
  if ((rc = crdt__r_u64(r, &h->digest)) || (rc = crdt__r_varint(r, &h->live)))
    return rc;
  return crdt__sctx_get(r, m, &h->ctx);
}

void crdt__cell_put(crdt__wbuf *w, const crdt__rcell *c) {
  crdt__w_zigzag(w, c->count);
  crdt__w_u64(w, c->key);
  uint8_t b[4];
  for (int i = 0; i < 4; i++) b[i] = (uint8_t)(c->check >> (8 * i));
  crdt__w_bytes(w, b, 4);
}

int crdt__cell_get(crdt__rbuf *r, crdt__rcell *c) {
  const uint8_t *p;
  int rc;
  if ((rc = crdt__r_zigzag(r, &c->count)) || (rc = crdt__r_u64(r, &c->key)) ||
      (rc = crdt__r_bytes(r, 4, &p)))
    return rc;
  c->check = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
             (uint32_t)p[3] << 24;
  return 0;
}

/* A varint that must fit 32 bits. */
static int r_u32(crdt__rbuf *r, uint32_t max, uint32_t *v) {
  uint64_t x;
  int rc = crdt__r_varint(r, &x);
  if (rc) return rc;
  if (x > max) return CRDT_EFORMAT;
  *v = (uint32_t)x;
  return 0;
}

static int section(crdt__msg *msg, unsigned kind, crdt__rbuf *p,
                   const crdt_allocator *m) {
  int rc = 0;
  uint64_t v;
  switch (kind) {
  case CRDT__SEC_HELLO:
    rc = hello_get(p, m, &msg->h);
    break;
  case CRDT__SEC_DELTA:
    if ((rc = crdt__r_u64(p, &msg->delta_jid)) ||
        (rc = crdt__r_varint(p, &msg->delta_from)) ||
        (rc = crdt__r_varint(p, &msg->delta_to)) ||
        (rc = crdt__r_varint(p, &v)))
      break;
    if (!msg->delta_jid || msg->delta_from >= msg->delta_to || v > 1)
      return CRDT_EFORMAT;
    msg->delta_keyed = v;
    msg->delta_body = *p;
    p->p = p->end;
    break;
  case CRDT__SEC_CELLS: {
    uint64_t n;
    if ((rc = r_u32(p, CRDT__RIBLT_MAX_CELLS, &msg->cells_start)) ||
        (rc = r_u32(p, CRDT__RIBLT_MAX_CELLS, &msg->cells_target)) ||
        (rc = crdt__r_count(p, 13, &n)))
      break;
    if (n == 0 || n > CRDT__RIBLT_MAX_CELLS - msg->cells_start)
      return CRDT_EFORMAT;
    msg->cells_n = (uint32_t)n;
    msg->cells = *p;
    for (uint64_t i = 0; i < n && !rc; i++) {
      crdt__rcell c;
      rc = crdt__cell_get(p, &c);
    }
    msg->cells.end = p->p;
    break;
  }
  case CRDT__SEC_NEED:
    if ((rc = crdt__r_varint(p, &msg->need))) break;
    if (msg->need == 0 || msg->need > CRDT__RIBLT_MAX_CELLS)
      return CRDT_EFORMAT;
    break;
  case CRDT__SEC_CHUNK:
    if ((rc = r_u32(p, UINT32_MAX - 1, &msg->chunk_no))) break;
    msg->chunk_body = *p;
    p->p = p->end;
    break;
  case CRDT__SEC_END:
    rc = r_u32(p, UINT32_MAX - 1, &msg->end_total);
    break;
  case CRDT__SEC_DROPS: {
    uint64_t n;
    if ((rc = crdt__r_count(p, 2, &n))) break; /* 0: nothing to drop */
    msg->ndrops = (uint32_t)n;
    msg->drops = *p;
    for (uint64_t i = 0; i < n && !rc; i++) {
      uint64_t rank, counter;
      if ((rc = crdt__r_varint(p, &rank)) || (rc = crdt__r_varint(p, &counter)))
        break;
      if (rank >= (1u << 16) || counter == 0 || counter >= (UINT64_C(1) << 48))
        return CRDT_EFORMAT;
    }
    msg->drops.end = p->p;
    break;
  }
  case CRDT__SEC_LIVE:
    if ((rc = r_u32(p, UINT32_MAX - 1, &msg->live_no)) ||
        (rc = crdt__r_varint(p, &v)))
      break;
    if (v > 1) return CRDT_EFORMAT;
    msg->live_last = v;
    msg->live = *p; /* runs: checked when taken, against the round */
    p->p = p->end;
    break;
  default:
    return CRDT_EFORMAT;
  }
  if (!rc && crdt__r_left(p)) rc = CRDT_ETRAILING;
  return rc;
}

int crdt__sync_frame(const void *data, size_t len, uint8_t tag,
                     crdt__frame *f) {
  int rc = crdt__frame_open(data, len, f);
  if (rc) return rc;
  if (f->tag != tag) return CRDT_EBADTYPE;
  return f->flags ? CRDT_EFORMAT : 0;
}

int crdt__msg_parse(const void *data, size_t len, const crdt_allocator *m,
                    crdt__msg *msg) {
  memset(msg, 0, sizeof *msg);
  crdt__frame f;
  int rc = crdt__sync_frame(data, len, CRDT__TAG_SYNC, &f);
  if (rc) return rc;
  crdt__rbuf *r = &f.body;
  uint64_t type;
  if ((rc = crdt__r_varint(r, &type)) || (rc = crdt__r_u64(r, &msg->sid)) ||
      (rc = crdt__r_u64(r, &msg->to)) ||
      (rc = r_u32(r, UINT32_MAX, &msg->hello)) ||
      (rc = r_u32(r, UINT32_MAX, &msg->answers)))
    return rc;
  if (type == 0 || type > 0xFF || !crdt__type_of((crdt_type)type))
    return CRDT_EBADTYPE;
  if (!msg->sid || !msg->hello) return CRDT_EFORMAT;
  msg->type = (crdt_type)type;
  while (crdt__r_left(r) && !rc) {
    uint64_t kind, n;
    const uint8_t *payload;
    if ((rc = crdt__r_varint(r, &kind)) || (rc = crdt__r_varint(r, &n)))
      break;
    if (kind == 0 || kind > CRDT__SEC_MAX || kind == 3 || msg->has[kind]) {
      rc = CRDT_EFORMAT;
      break;
    }
    if (n > crdt__r_left(r)) {
      rc = CRDT_ELENGTH;
      break;
    }
    if ((rc = crdt__r_bytes(r, (size_t)n, &payload))) break;
    msg->has[kind] = true;
    crdt__rbuf p = {payload, payload + n};
    rc = section(msg, (unsigned)kind, &p, m);
  }
  /* a journal delta never travels with a cold round's data */
  if (!rc && msg->has[CRDT__SEC_DELTA] &&
      (msg->has[CRDT__SEC_CELLS] || msg->has[CRDT__SEC_NEED] ||
       msg->has[CRDT__SEC_CHUNK] || msg->has[CRDT__SEC_END] ||
       msg->has[CRDT__SEC_DROPS] || msg->has[CRDT__SEC_LIVE]))
    rc = CRDT_EFORMAT;
  if (rc) crdt__msg_free(msg, m);
  return rc;
}

void crdt__msg_free(crdt__msg *msg, const crdt_allocator *m) {
  crdt__hello_free(&msg->h, m);
}

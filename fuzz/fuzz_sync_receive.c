/*
 * Sync-receive fuzz target: hostile bytes against a live session. Two
 * replicas A and B of one type, each with its own updates (and some shared
 * history that B then changed: removals for the sketch), run their sessions
 * a few ticks into a round; then B's session receives the input as a
 * message from A. Properties:
 *   - receive returns 0 or an error; on an error B's encoding is unchanged;
 *   - B stays a valid state: its encoding decodes to an equal object, and
 *     the digest its journal keeps equals the digest by scan;
 *   - the interrupted sessions go on (the rest of the queued messages, a
 *     bounded number of ticks) without an error or a crash, whatever they
 *     now believe;
 *   - fresh sessions then bring A and B to equal states, each equal to the
 *     full-state merge of the two.
 *
 * Input (docs/verification.md has the same table):
 *   byte 0  type: 1 + byte % 8 (gcounter .. lwwreg, flag, map; the same
 *           type as 1 + byte % 7 below 7, so older seeds keep their meaning)
 *   byte 1  setup: updates per side 2 + (b & 7) * 3; ticks before the
 *           message (b >> 3) & 3; message cap 300 bytes when b & 0x20,
 *           else 64 KiB; B shares A's first updates when b & 0x40
 *   byte 2  mode m: m & 3 = 0 the rest is a whole message; 1 the rest is a
 *           message body (framed and checksummed here); 2 the rest is a
 *           list of sections, behind a header that matches the round (A's
 *           session id and HELLO number + (m >> 2) % 3, B's id and HELLO
 *           number), framed; 3 the same, answering B's previous HELLO.
 *           m & 0x40: the message arrives twice; m & 0x80: the queued
 *           legitimate messages arrive twice too (replays)
 *   rest    the message, body or sections
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crdt/crdt.h"
#include "digest.h"
#include "dotted.h"
#include "fuzz.h"
#include "journal.h"
#include "sync_session.h"

void fuzz_fail(const char *what) {
  fprintf(stderr, "fuzz property failed: %s\n", what);
  abort();
}

#define OK(call) FUZZ_CHECK((call) == 0)

/* ---- queues of messages ---------------------------------------------------- */

#define MAXQ 4096

typedef struct queue {
  uint8_t *b[MAXQ];
  size_t n[MAXQ];
  unsigned count;
} queue;

static void q_clear(queue *q) {
  for (unsigned i = 0; i < q->count; i++) free(q->b[i]);
  q->count = 0;
}

/* Everything s has to say now (at most MAXQ messages), into q. */
static void drain(crdt_sync *s, queue *q, size_t cap) {
  static uint8_t buf[1 << 16];
  while (q->count < MAXQ) {
    size_t n;
    OK(crdt_sync_produce(s, buf, cap, &n));
    if (!n) return;
    q->b[q->count] = malloc(n);
    FUZZ_CHECK(q->b[q->count] != NULL);
    memcpy(q->b[q->count], buf, n);
    q->n[q->count++] = n;
  }
}

static void deliver(crdt_sync *to, queue *q, int times) {
  for (int t = 0; t < times; t++)
    for (unsigned i = 0; i < q->count; i++)
      OK(crdt_sync_receive(to, q->b[i], q->n[i]));
  q_clear(q);
}

/* One lockstep tick; true when it carried anything. */
static bool tick(crdt_sync *a, crdt_sync *b, queue *qa, queue *qb, size_t cap,
                 int times) {
  drain(a, qa, cap);
  drain(b, qb, cap);
  bool any = qa->count || qb->count;
  deliver(b, qa, times);
  deliver(a, qb, times);
  return any;
}

/* ---- the replicas ---------------------------------------------------------- */

/* Map update number i, a hash of i: a path of 1 to 3 names from two (so
 * that fields collide, and a name is a map and a leaf at once), every field
 * type, and seven in sixteen take something back: a decrement, an element
 * remove, a disable, or a field remove (of a nested map, one in sixteen).
 * `names` holds the path's storage. */
static void map_update(crdt_update *u, crdt_bytes names[3], unsigned i) {
  static const crdt_bytes NAMES[2] = {{"a", 1}, {"", 0}};
  static const crdt_bytes ITEMS[3] = {
      {"x", 1}, {"", 0}, {"a value longer than twelve bytes", 32}};
  static const struct {
    crdt_field_type type;
    crdt_op op;
  } KINDS[16] = {
      {CRDT_FIELD_COUNTER, CRDT_OP_INC},   {CRDT_FIELD_COUNTER, CRDT_OP_INC},
      {CRDT_FIELD_COUNTER, CRDT_OP_DEC},   {CRDT_FIELD_ORSET, CRDT_OP_ADD},
      {CRDT_FIELD_ORSET, CRDT_OP_ADD},     {CRDT_FIELD_ORSET, CRDT_OP_REMOVE},
      {CRDT_FIELD_MVREG, CRDT_OP_SET},     {CRDT_FIELD_MVREG, CRDT_OP_SET},
      {CRDT_FIELD_LWWREG, CRDT_OP_SET},    {CRDT_FIELD_LWWREG, CRDT_OP_SET},
      {CRDT_FIELD_FLAG, CRDT_OP_ENABLE},   {CRDT_FIELD_FLAG, CRDT_OP_DISABLE},
      {CRDT_FIELD_ORSET, CRDT_OP_DELETE},  {CRDT_FIELD_COUNTER, CRDT_OP_DELETE},
      {CRDT_FIELD_MVREG, CRDT_OP_DELETE},  {CRDT_FIELD_MAP, CRDT_OP_DELETE}};
  uint64_t x = (i + 1) * UINT64_C(0x9E3779B97F4A7C15);
  x ^= x >> 29;
  const unsigned k = x & 15;
  size_t depth = 1 + (x >> 4) % 3;
  if (KINDS[k].type == CRDT_FIELD_MAP && depth == 3) depth = 2;
  for (unsigned d = 0; d < 3; d++) names[d] = NAMES[(x >> (7 + d)) & 1];
  u->path = (crdt_path){names, depth};
  u->field = KINDS[k].type;
  u->op = KINDS[k].op;
  u->arg = ITEMS[(x >> 12) % 3];
}

/* Update number i at obj (errors such as removing what is not there are
 * fine: nothing changes). */
static void update(crdt_object *obj, unsigned i) {
  char text[16];
  int len = snprintf(text, sizeof text, "e%u", i % 23);
  crdt_update u;
  crdt_bytes names[3];
  memset(&u, 0, sizeof u);
  u.arg = (crdt_bytes){text, (size_t)len};
  u.n = 1 + i % 5;
  u.time = 100 + i;
  switch (crdt_object_type(obj)) {
  case CRDT_TYPE_GCOUNTER: u.op = CRDT_OP_INC; break;
  case CRDT_TYPE_PNCOUNTER: u.op = i % 3 ? CRDT_OP_INC : CRDT_OP_DEC; break;
  case CRDT_TYPE_ORSET:
  case CRDT_TYPE_CART:
    u.op = i % 4 == 3 ? CRDT_OP_REMOVE : i % 4 == 2 ? CRDT_OP_DEC : CRDT_OP_ADD;
    if (u.op == CRDT_OP_DEC && crdt_object_type(obj) == CRDT_TYPE_ORSET)
      u.op = CRDT_OP_ADD;
    break;
  case CRDT_TYPE_FLAG: u.op = i % 3 ? CRDT_OP_ENABLE : CRDT_OP_DISABLE; break;
  case CRDT_TYPE_MAP: map_update(&u, names, i); break;
  default: u.op = CRDT_OP_SET; break;
  }
  (void)crdt_object_update(obj, &u, NULL);
}

/* B's encoding, malloc'd. */
static uint8_t *encode(const crdt_object *o, size_t *n) {
  FUZZ_CHECK(crdt_encode(o, NULL, 0, n) == CRDT_ENOSPC);
  uint8_t *b = malloc(*n);
  FUZZ_CHECK(b != NULL);
  OK(crdt_encode(o, b, *n, n));
  return b;
}

static void check_valid(crdt_object *o, crdt_sync *s) {
  size_t n;
  uint8_t *b = encode(o, &n);
  crdt_object *back;
  OK(crdt_decode(b, n, crdt_object_replica(o), &back));
  FUZZ_CHECK(crdt_object_equal(o, back));
  crdt_object_free(back);
  free(b);
  if (s->j && s->j->digest_valid) {
    const crdt__causal *c = &crdt__dotted_cof(o)->c;
    FUZZ_CHECK(s->j->digest == crdt__causal_digest(c));
  }
}

/* ---- the hostile message ------------------------------------------------- */

/* The input as a message, per the mode byte; malloc'd. */
static uint8_t *hostile(const crdt_sync *a, const crdt_sync *b, uint8_t mode,
                        const uint8_t *in, size_t len, size_t *n) {
  if ((mode & 3) == 0) {
    uint8_t *out = malloc(len ? len : 1);
    FUZZ_CHECK(out != NULL);
    memcpy(out, in, len);
    *n = len;
    return out;
  }
  crdt__wbuf w = crdt__wbuf_into(NULL, 0, &b->obj->mem);
  crdt__frame_begin(&w, CRDT__TAG_SYNC, 0);
  if ((mode & 3) >= 2) {
    uint32_t answers = b->my_hello;
    if ((mode & 3) == 3 && answers > 1) answers--;
    crdt__w_varint(&w, b->obj->type->tag);
    crdt__w_u64(&w, a->sid);
    crdt__w_u64(&w, b->sid);
    crdt__w_varint(&w, (a->my_hello ? a->my_hello : 1) + (mode >> 2) % 3);
    crdt__w_varint(&w, answers);
  }
  crdt__w_bytes(&w, in, len);
  crdt__frame_end(&w);
  FUZZ_CHECK(w.err == 0);
  *n = w.len;
  return w.data;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 3) return 0;
  crdt_type type = fuzz_type(data[0], 8);
  uint8_t setup = data[1], mode = data[2];
  unsigned updates = 2 + (setup & 7) * 3, before = (setup >> 3) & 3;
  size_t cap = setup & 0x20 ? 300 : 65536;

  crdt_object *A, *B;
  OK(crdt_object_new(type, "A", &A));
  OK(crdt_object_new(type, "node-b", &B));
  for (unsigned i = 0; i < updates; i++) update(A, i);
  if (setup & 0x40) OK(crdt_object_merge(B, A));
  for (unsigned i = 0; i < updates; i++) update(B, 3 * i + 1);
  for (unsigned i = updates; i < 2 * updates; i += 2) update(A, i);

  crdt_sync *sa, *sb;
  OK(crdt_sync_new(A, &sa));
  OK(crdt_sync_new(B, &sb));
  static queue qa, qb;
  for (unsigned t = 0; t < before; t++) tick(sa, sb, &qa, &qb, cap, 1);
  drain(sa, &qa, cap); /* in flight: what A has to say now */
  drain(sb, &qb, cap);

  /* the hostile message, once or twice */
  size_t n, len0, len1;
  uint8_t *msg = hostile(sa, sb, mode, data + 3, size - 3, &n);
  uint8_t *enc0 = encode(B, &len0);
  for (int t = 0; t < (mode & 0x40 ? 2 : 1); t++) {
    int rc = crdt_sync_receive(sb, msg, n);
    FUZZ_CHECK(rc <= 0);
    uint8_t *enc1 = encode(B, &len1);
    if (rc) FUZZ_CHECK(len0 == len1 && memcmp(enc0, enc1, len0) == 0);
    free(enc0);
    enc0 = enc1;
    len0 = len1;
    check_valid(B, sb);
  }
  free(enc0);
  free(msg);

  /* the interrupted sessions go on, misled or not */
  int times = mode & 0x80 ? 2 : 1;
  deliver(sb, &qa, times);
  deliver(sa, &qb, times);
  for (int t = 0; t < 12 && tick(sa, sb, &qa, &qb, cap, times); t++) {
  }
  q_clear(&qa);
  q_clear(&qb);
  check_valid(A, sa);
  check_valid(B, sb);
  crdt_sync_free(sa);
  crdt_sync_free(sb);

  /* fresh sessions: both end equal to the join of the two */
  crdt_object *join;
  OK(crdt_object_copy(A, &join));
  OK(crdt_object_merge(join, B));
  OK(crdt_sync_new(A, &sa));
  OK(crdt_sync_new(B, &sb));
  int t = 0;
  while (tick(sa, sb, &qa, &qb, cap, 1) || !crdt_sync_in_sync(sa) ||
         !crdt_sync_in_sync(sb))
    FUZZ_CHECK(++t < 40);
  FUZZ_CHECK(crdt_object_equal(A, B));
  FUZZ_CHECK(crdt_object_equal(A, join));
  check_valid(A, sa);
  check_valid(B, sb);
  crdt_sync_free(sa);
  crdt_sync_free(sb);
  crdt_object_free(join);
  crdt_object_free(A);
  crdt_object_free(B);
  return 0;
}

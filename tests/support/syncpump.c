/*
 * Lockstep driver for two sync sessions (see syncpump.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syncpump.h"

typedef struct msgq {
  uint8_t **data;
  size_t *len;
  size_t n, cap;
} msgq;

static void q_push(msgq *q, const uint8_t *d, size_t len) {
  if (q->n == q->cap) {
    q->cap = q->cap ? q->cap * 2 : 16;
    q->data = realloc(q->data, q->cap * sizeof *q->data);
    q->len = realloc(q->len, q->cap * sizeof *q->len);
    if (!q->data || !q->len) abort();
  }
  q->data[q->n] = malloc(len ? len : 1);
  if (!q->data[q->n]) abort();
  memcpy(q->data[q->n], d, len);
  q->len[q->n++] = len;
}

static void q_free(msgq *q) {
  for (size_t i = 0; i < q->n; i++) free(q->data[i]);
  free(q->data);
  free(q->len);
  memset(q, 0, sizeof *q);
}

static void report(tu_pump *p, const char *what, int rc) {
  if (p->fail) p->fail(what, rc);
  fprintf(stderr, "sync pump: %s: %s\n", what, crdt_strerror(rc));
  abort();
}

/* Everything s has to say now, into q. */
static void drain(tu_pump *p, crdt_sync *s, msgq *q, uint64_t *bytes,
                  unsigned *msgs) {
  uint8_t *buf = malloc(p->cap);
  if (!buf) abort();
  for (int i = 0;; i++) {
    size_t n;
    if (i == 20000) report(p, "20000 messages in one tick (a livelock)", 0);
    int rc = crdt_sync_produce(s, buf, p->cap, &n);
    if (rc) report(p, "produce", rc);
    if (!n) break;
    q_push(q, buf, n);
    *bytes += n;
    (*msgs)++;
  }
  free(buf);
}

int tu_pump_run(tu_pump *p, crdt_sync *a, crdt_sync *b) {
  bool b_started = !p->b_waits;
  int ticks = 0, synced_at = -1;
  for (int t = 0; t < p->max_ticks; t++) {
    msgq na = {0}, nb = {0};
    drain(p, a, &nb, &p->ab, &p->msgs_ab);
    if (b_started) drain(p, b, &na, &p->ba, &p->msgs_ba);
    /* deliver this tick's messages */
    for (size_t i = 0; i < nb.n; i++) {
      int rc = crdt_sync_receive(b, nb.data[i], nb.len[i]);
      if (rc) report(p, "receive at b", rc);
      b_started = true;
    }
    for (size_t i = 0; i < na.n; i++) {
      int rc = crdt_sync_receive(a, na.data[i], na.len[i]);
      if (rc) report(p, "receive at a", rc);
    }
    bool carried = na.n || nb.n;
    q_free(&na);
    q_free(&nb);
    if (carried) ticks++;
    if (synced_at < 0 && crdt_sync_in_sync(a) && crdt_sync_in_sync(b))
      synced_at = ticks;
    if (!carried && synced_at >= 0) break;
  }
  return synced_at;
}

/* ---- helpers ---------------------------------------------------------------- */

static void must(int rc, const char *what) {
  if (rc == 0) return;
  fprintf(stderr, "%s: %s\n", what, crdt_strerror(rc));
  abort();
}

crdt_object *tu_new_object(crdt_type t, const char *id) {
  crdt_object *o;
  must(crdt_object_new(t, id, &o), "crdt_object_new");
  return o;
}

crdt_sync *tu_new_session(crdt_object *o) {
  crdt_sync *s;
  must(crdt_sync_new(o, &s), "crdt_sync_new");
  return s;
}

void tu_add_items(crdt_object *o, unsigned from, unsigned to) {
  char key[32];
  for (unsigned i = from; i < to; i++) {
    int n = snprintf(key, sizeof key, "item-%u", i);
    must(crdt_orset_add(crdt_object_orset(o), key, (size_t)n, NULL), "add");
  }
}

void tu_remove_items(crdt_object *o, unsigned from, unsigned to,
                     unsigned step) {
  char key[32];
  for (unsigned i = from; i < to; i += step) {
    int n = snprintf(key, sizeof key, "item-%u", i);
    must(crdt_orset_remove(crdt_object_orset(o), key, (size_t)n, NULL),
         "remove");
  }
}

size_t tu_encoded_size(const crdt_object *o) {
  size_t n = 0;
  if (crdt_encode(o, NULL, 0, &n) != CRDT_ENOSPC) abort();
  return n;
}

size_t tu_context_size(const crdt_object *o) {
  crdt_context *c;
  size_t n = 0;
  must(crdt_object_context(o, &c), "crdt_object_context");
  if (crdt_context_encode(c, NULL, 0, &n) != CRDT_ENOSPC) abort();
  crdt_context_free(c);
  return n;
}

crdt_object *tu_copy_as(const crdt_object *o, const char *owner) {
  size_t n = tu_encoded_size(o);
  uint8_t *b = malloc(n);
  if (!b) abort();
  must(crdt_encode(o, b, n, &n), "crdt_encode");
  crdt_object *c;
  must(crdt_decode(b, n, owner, &c), "crdt_decode");
  free(b);
  return c;
}

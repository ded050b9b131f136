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
  msgq to_a = {0}, to_b = {0};
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
  q_free(&to_a);
  q_free(&to_b);
  return synced_at;
}

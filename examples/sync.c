/*
 * Sync in practice: three replicas of a shopping list (an OR-set) and a cart
 * in one process, exchanging encoded deltas over a lossy network simulator
 * (messages reordered, duplicated, some lost), repaired by periodic
 * full-state anti-entropy. At the end every replica must hold identical
 * bytes.
 *
 * Usage: example_sync [SEED]     (the test suite runs several seeds)
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <crdt/crdt.h>

#define REPLICAS 3
#define ROUNDS 400
#define MAX_MESSAGES 4096

static const char *const ids[REPLICAS] = {"phone", "laptop", "server"};
static const char *const items[] = {"milk", "eggs", "bacon", "bread",
                                    "apples", "coffee", "tea", "rice"};
#define NITEMS (sizeof items / sizeof *items)

static void check(int rc, const char *what) {
  if (rc != 0) {
    fprintf(stderr, "example_sync: %s: %s\n", what, crdt_strerror(rc));
    exit(1);
  }
}

static unsigned long long rng_state;
static unsigned rnd(unsigned n) {
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return (unsigned)((rng_state * 2685821657736338717ull) >> 33) % n;
}

/* One message in flight: an encoded blob for one receiver. */
typedef struct message {
  int to;
  size_t len;
  unsigned char *bytes;
} message;

static message net[MAX_MESSAGES];
static unsigned loss_percent = 20;
static size_t in_flight;
static size_t sent, lost, duplicated, delivered;

static unsigned char *encode(const crdt_object *obj, size_t *len) {
  check(crdt_encode(obj, NULL, 0, len) == CRDT_ENOSPC ? 0 : CRDT_EINVAL,
        "size query");
  unsigned char *bytes = malloc(*len);
  if (!bytes) check(CRDT_ENOMEM, "malloc");
  check(crdt_encode(obj, bytes, *len, len), "encode");
  return bytes;
}

/* The network: drops loss_percent, duplicates 10%, delivers in random
 * order. */
static void post(int to, const crdt_object *obj) {
  sent++;
  if (rnd(100) < loss_percent) {
    lost++;
    return;
  }
  int copies = rnd(100) < 10 ? 2 : 1;
  duplicated += copies - 1;
  for (int c = 0; c < copies && in_flight < MAX_MESSAGES; c++) {
    message *m = &net[in_flight++];
    m->to = to;
    m->bytes = encode(obj, &m->len);
  }
}

typedef struct replica {
  crdt_orset *list;
  crdt_cart *cart;
  crdt_orset *list_out; /* deltas not yet sent (a delta group) */
  crdt_cart *cart_out;
} replica;

static replica r[REPLICAS];

/* Receives one blob: decode (no owner: a received state or delta), merge. */
static void receive(int to, const message *m) {
  crdt_object *obj;
  check(crdt_decode(m->bytes, m->len, NULL, &obj), "decode");
  crdt_object *into = crdt_object_type(obj) == CRDT_TYPE_ORSET
                          ? crdt_orset_object(r[to].list)
                          : crdt_cart_object(r[to].cart);
  check(crdt_object_merge(into, obj), "merge");
  crdt_object_free(obj);
  delivered++;
}

static void deliver_some(size_t how_many) {
  while (how_many-- && in_flight) {
    size_t i = rnd((unsigned)in_flight);
    message m = net[i];
    net[i] = net[--in_flight];
    receive(m.to, &m);
    free(m.bytes);
  }
}

/* Ships each replica's accumulated deltas to every peer and starts a new
 * delta group. */
static void flush(int from) {
  for (int to = 0; to < REPLICAS; to++) {
    if (to == from) continue;
    post(to, crdt_orset_object(r[from].list_out));
    post(to, crdt_cart_object(r[from].cart_out));
  }
  crdt_orset_free(r[from].list_out);
  crdt_cart_free(r[from].cart_out);
  check(crdt_orset_new(NULL, &r[from].list_out), "delta");
  check(crdt_cart_new(NULL, &r[from].cart_out), "delta");
}

/* Anti-entropy: one replica sends its full states to another, reliably. */
static void anti_entropy(int from, int to) {
  message m = {to, 0, NULL};
  m.bytes = encode(crdt_orset_object(r[from].list), &m.len);
  receive(to, &m);
  free(m.bytes);
  m.bytes = encode(crdt_cart_object(r[from].cart), &m.len);
  receive(to, &m);
  free(m.bytes);
}

static void update(int i) {
  const char *item = items[rnd(NITEMS)];
  size_t len = strlen(item);
  int rc;
  switch (rnd(5)) {
  case 0:
    rc = crdt_orset_remove(r[i].list, item, len, r[i].list_out);
    if (rc != CRDT_ENOENT) check(rc, "remove");
    break;
  case 1:
    rc = crdt_cart_dec(r[i].cart, item, len, 1 + rnd(2), r[i].cart_out, NULL);
    if (rc != CRDT_ENOENT) check(rc, "dec");
    break;
  case 2:
    rc = crdt_cart_remove(r[i].cart, item, len, r[i].cart_out);
    if (rc != CRDT_ENOENT) check(rc, "cart remove");
    break;
  case 3:
    check(crdt_cart_add(r[i].cart, item, len, 1 + rnd(3), r[i].cart_out),
          "cart add");
    break;
  default:
    check(crdt_orset_add(r[i].list, item, len, r[i].list_out), "add");
  }
}

static int print_item(crdt_bytes elem, void *user) {
  (void)user;
  printf(" %.*s", (int)elem.size, (const char *)elem.data);
  return 0;
}

static bool same_bytes(const crdt_object *a, const crdt_object *b) {
  size_t la, lb;
  unsigned char *x = encode(a, &la), *y = encode(b, &lb);
  bool same = la == lb && memcmp(x, y, la) == 0;
  free(x);
  free(y);
  return same;
}

/* Random updates at random replicas, deltas shipped and delivered at
 * random; every 50 rounds (when `repair`) one full-state exchange. */
static void run(int rounds, bool repair) {
  for (int round = 0; round < rounds; round++) {
    int i = (int)rnd(REPLICAS);
    update(i);
    if (rnd(4) == 0) flush(i);
    deliver_some(rnd(3));
    if (repair && round % 50 == 49)
      anti_entropy((int)rnd(REPLICAS), (int)rnd(REPLICAS));
  }
  for (int i = 0; i < REPLICAS; i++) flush(i);
  deliver_some(in_flight);
}

static bool converged(void) {
  bool ok = true;
  for (int i = 1; i < REPLICAS; i++)
    ok &= crdt_orset_equal(r[i].list, r[0].list) &&
          crdt_cart_equal(r[i].cart, r[0].cart) &&
          same_bytes(crdt_orset_object(r[i].list), crdt_orset_object(r[0].list)) &&
          same_bytes(crdt_cart_object(r[i].cart), crdt_cart_object(r[0].cart));
  return ok;
}

int main(int argc, char **argv) {
  unsigned long long seed = argc > 1 ? strtoull(argv[1], NULL, 10) : 1;
  rng_state = seed * 0x9E3779B97F4A7C15ull + 1;
  for (int i = 0; i < REPLICAS; i++) {
    check(crdt_orset_new(ids[i], &r[i].list), "new");
    check(crdt_cart_new(ids[i], &r[i].cart), "new");
    check(crdt_orset_new(NULL, &r[i].list_out), "new");
    check(crdt_cart_new(NULL, &r[i].cart_out), "new");
  }
  /* Phase 1: lossy network; anti-entropy repairs what is lost. */
  run(ROUNDS, true);
  for (int pass = 0; pass < 2; pass++)
    for (int i = 0; i < REPLICAS; i++) anti_entropy(i, (i + 1) % REPLICAS);
  if (!converged()) {
    printf("DIVERGED after anti-entropy\n");
    return 1;
  }
  /* Phase 2: nothing lost (still reordered and duplicated): deltas alone
   * must bring every replica to the same state, with no full exchange. */
  loss_percent = 0;
  run(ROUNDS / 2, false);
  printf("seed %llu: %zu messages sent, %zu lost, %zu duplicated, %zu delivered\n",
         seed, sent, lost, duplicated, delivered);
  bool ok = converged();
  for (int i = 0; i < REPLICAS; i++) {
    char ctx[512], cart[512];
    check(crdt_object_context_text(crdt_orset_object(r[i].list), ctx, sizeof ctx,
                                   NULL),
          "context");
    check(crdt_object_value_json(crdt_cart_object(r[i].cart), cart, sizeof cart,
                                 NULL),
          "cart");
    printf("%-7s list:", ids[i]);
    crdt_orset_foreach(r[i].list, print_item, NULL);
    printf("  seen %s\n        cart %s\n", ctx, cart);
  }
  printf(ok ? "converged by deltas alone: identical bytes on every replica\n"
            : "DIVERGED\n");
  for (int i = 0; i < REPLICAS; i++) {
    crdt_orset_free(r[i].list);
    crdt_cart_free(r[i].cart);
    crdt_orset_free(r[i].list_out);
    crdt_cart_free(r[i].cart_out);
  }
  return ok ? 0 : 1;
}

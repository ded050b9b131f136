/*
 * The two questions this project started from, replayed with version
 * vectors (public API only).
 *
 *  1. "Version numbers detect concurrent writes on one replica; how does
 *     that work when several replicas accept writes?" (seed 000)
 *  2. The three-node vector clock diagram where event H at node 2 finds the
 *     clocks F (from node 1) and G (from node 3) concurrent (seed 003).
 *
 * Build and run: scripts/demo.sh (or build/dev/example_seeds).
 */
#include <stdio.h>
#include <stdlib.h>

#include <crdt/crdt.h>

static void check(int rc, const char *what) {
  if (rc != 0) {
    fprintf(stderr, "example_seeds: %s: %s\n", what, crdt_strerror(rc));
    exit(1);
  }
}

static const char *text(const crdt_vv *vv) {
  static char buf[4][256];
  static int next;
  char *out = buf[next++ % 4];
  check(crdt_vv_format(vv, out, sizeof buf[0], NULL), "format");
  return out;
}

static crdt_vv *vv_new(void) {
  crdt_vv *vv;
  check(crdt_vv_new(&vv), "new");
  return vv;
}

static crdt_vv *vv_copy(const crdt_vv *src) {
  crdt_vv *vv;
  check(crdt_vv_copy(src, &vv), "copy");
  return vv;
}

/* A write based on what the client read, compared with what the server has
 * now: the comparison the single server's version number stood for. */
static void judge(const char *who, const crdt_vv *based_on,
                  const crdt_vv *server) {
  crdt_order o = crdt_vv_compare(based_on, server);
  printf("    %s wrote on %s; server has %s: %s\n", who, text(based_on),
         text(server),
         o == CRDT_EQUAL ? "it saw everything, it may overwrite"
                         : "it missed writes: keep both (concurrent)");
}

static void seed_000(void) {
  printf("1. One server, version numbers (seed 000)\n");
  crdt_vv *server = vv_new(), *empty = vv_new();
  check(crdt_vv_tick(server, "S", NULL), "tick");
  printf("  client 1 writes [eggs]                 -> server %s\n", text(server));
  crdt_vv *client1_read = vv_copy(server);
  judge("client 2 (read nothing)", empty, server);
  check(crdt_vv_tick(server, "S", NULL), "tick");
  printf("  client 2 writes [milk]                 -> server %s\n", text(server));
  judge("client 1 (read [eggs])", client1_read, server);
  check(crdt_vv_tick(server, "S", NULL), "tick");
  printf("  client 1 writes [eggs, bacon]          -> server %s\n", text(server));
  printf("  [eggs, bacon] replaces only what client 1 saw ([eggs]); [milk] stays.\n\n");

  printf("   ...with three replicas accepting writes, one number is not enough:\n");
  crdt_vv *a = vv_new(), *b = vv_new(), *c = vv_new();
  check(crdt_vv_tick(a, "A", NULL), "tick");
  check(crdt_vv_tick(b, "B", NULL), "tick");
  printf("  A writes: A %s;  B writes: B %s\n", text(a), text(b));
  printf("  both are 'version 1', yet A %s B: %s\n", text(a),
         crdt_order_name(crdt_vv_compare(a, b)));
  check(crdt_vv_merge(c, a), "merge");
  check(crdt_vv_tick(c, "C", NULL), "tick");
  printf("  C receives A's write, then writes: C %s; vs A: %s, vs B: %s\n\n",
         text(c), crdt_order_name(crdt_vv_compare(c, a)),
         crdt_order_name(crdt_vv_compare(c, b)));
  crdt_vv_free(a);
  crdt_vv_free(b);
  crdt_vv_free(c);
  crdt_vv_free(server);
  crdt_vv_free(empty);
  crdt_vv_free(client1_read);
}

static void seed_003(void) {
  printf("2. Three nodes (seed 003)\n");
  crdt_vv *n1 = vv_new(), *n2 = vv_new(), *n3 = vv_new();
  printf("  (1) start:  node1 %s  node2 %s  node3 %s\n", text(n1), text(n2), text(n3));
  check(crdt_vv_tick(n1, "node1", NULL), "tick"); /* A */
  check(crdt_vv_tick(n2, "node2", NULL), "tick"); /* B */
  check(crdt_vv_tick(n3, "node3", NULL), "tick"); /* C */
  printf("  (2) A, B, C: client updates tick each node: %s %s %s\n", text(n1),
         text(n2), text(n3));
  check(crdt_vv_merge(n1, n2), "merge"); /* D: node1 receives B */
  check(crdt_vv_tick(n1, "node1", NULL), "tick");
  check(crdt_vv_merge(n3, n2), "merge"); /* E: node3 receives B */
  check(crdt_vv_tick(n3, "node3", NULL), "tick");
  printf("  (3) D: node1 gets node2's clock -> %s;  E: node3 too -> %s\n",
         text(n1), text(n3));
  check(crdt_vv_tick(n1, "node1", NULL), "tick"); /* F */
  check(crdt_vv_tick(n3, "node3", NULL), "tick"); /* G */
  crdt_vv *f = vv_copy(n1), *g = vv_copy(n3);
  printf("      F at node1 %s;  G at node3 %s\n", text(f), text(g));
  printf("  (4) H: node2 receives F and G. F vs G: %s\n",
         crdt_order_name(crdt_vv_compare(f, g)));
  check(crdt_vv_merge(n2, f), "merge");
  check(crdt_vv_merge(n2, g), "merge");
  check(crdt_vv_tick(n2, "node2", NULL), "tick");
  printf("      node2 after H %s: %s F, %s G\n", text(n2),
         crdt_order_name(crdt_vv_compare(n2, f)),
         crdt_order_name(crdt_vv_compare(n2, g)));
  printf("  Neither F nor G knows all the other knows: both updates must be kept\n"
         "  (siblings), merged (CRDTs) or one dropped by timestamp (last write wins).\n");
  /* The example is also a test: it must agree with the seed's diagram. */
  if (crdt_vv_compare(f, g) != CRDT_CONCURRENT ||
      crdt_vv_compare(n2, f) != CRDT_AFTER || crdt_vv_compare(n2, g) != CRDT_AFTER) {
    fprintf(stderr, "example_seeds: vectors disagree with the seed\n");
    exit(1);
  }
  crdt_vv_free(n1);
  crdt_vv_free(n2);
  crdt_vv_free(n3);
  crdt_vv_free(f);
  crdt_vv_free(g);
}

int main(void) {
  printf("libcrdt %s: version numbers become version vectors\n\n", crdt_version());
  seed_000();
  seed_003();
  return 0;
}

/*
 * `crdt demo [--svg OUT.svg]`: a guided walk-through of the question this
 * project started from (shared/seeds/): "version numbers detect concurrent
 * writes on one replica; how does that work when several replicas accept
 * writes?", and the three-node vector clock diagram that goes with it.
 *
 * Every value, dot, context and comparison printed comes from the library
 * objects as the story runs them; the text around them only narrates. Lines
 * stay within 80 columns (tests/cli/cli.sh checks). The same run records
 * space-time diagrams that --svg writes out (diagram.c).
 *
 * This file: the command, the plumbing the parts share, part 3 (vector
 * clocks) and part 4 (three ways out). Parts 1 and 2: demo_siblings.c.
 */
#define _XOPEN_SOURCE 700 /* open_memstream */

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"

/* ---- plumbing shared by the parts (demo.h) --------------------------------
 */

/* The demo runs the library on fixed inputs, so an error is a bug in the
 * library or here: say which call failed and stop. _Exit skips the exit
 * handlers (and so the leak report on the objects in flight), which would
 * otherwise bury the message. */
void demo_check(int rc, const char *what) {
  if (rc == 0) return;
  fflush(stdout);
  cli_error("demo: %s: %s", what, crdt_strerror(rc));
  _Exit(CLI_FAIL);
}

/* A ring of buffers: each result stays valid for the next 15 calls.
 * Everything the demo formats is far below DEMO_TEXT_MAX. */
char *demo_scratch(void) {
  enum { POOL = 16 };
  static char pool[POOL][DEMO_TEXT_MAX];
  static unsigned next;
  return pool[next++ % POOL];
}

const char *demo_context_text(const crdt_context *ctx) {
  char *buf = demo_scratch();
  demo_check(crdt_context_format(ctx, buf, DEMO_TEXT_MAX, NULL),
             "format a context");
  return buf;
}

const char *demo_vv_text(const crdt_vv *vv) {
  char *buf = demo_scratch();
  demo_check(crdt_vv_format(vv, buf, DEMO_TEXT_MAX, NULL), "format a vector");
  return buf;
}

const char *demo_seen_text(const crdt_object *obj) {
  char *buf = demo_scratch();
  demo_check(crdt_object_context_text(obj, buf, DEMO_TEXT_MAX, NULL),
             "format a state");
  return buf;
}

const char *demo_value_text(const crdt_object *obj) {
  char *buf = demo_scratch();
  demo_check(crdt_object_value_json(obj, buf, DEMO_TEXT_MAX, NULL),
             "format a value");
  return buf;
}

const char *demo_textf(const char *fmt, ...) {
  char *buf = demo_scratch();
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, DEMO_TEXT_MAX, fmt, ap);
  va_end(ap);
  return buf;
}

void demo_heading(const char *title) {
  size_t n = strlen(title);
  printf("\n%s\n", title);
  for (size_t i = 0; i < n; i++) putchar('-');
  puts("\n");
}

diagram *demo_diagram(demo *d, const char *id, const char *title) {
  diagram *g = diagram_new(id, title);
  if (!g || d->ndiagrams == DEMO_MAX_DIAGRAMS)
    demo_check(CRDT_ENOMEM, "record a diagram");
  d->diagrams[d->ndiagrams++] = g;
  return g;
}

/* ---- 3. three nodes (seed 003) ----------------------------------------------
 */

typedef struct differ {
  const crdt_vv *other;
  char *buf;
  size_t len;
} differ;

/* Lists the replicas whose counter in the visited vector beats `other`. */
static int list_ahead(const char *replica, uint64_t counter, void *user) {
  differ *df = user;
  if (counter > crdt_vv_get(df->other, replica)) {
    df->len += (size_t)snprintf(df->buf + df->len, DEMO_TEXT_MAX - df->len,
                                "%s%s", df->len ? ", " : "", replica);
    if (df->len >= DEMO_TEXT_MAX) demo_check(CRDT_ENOSPC, "list replicas");
  }
  return 0;
}

static const char *ahead_of(const crdt_vv *a, const crdt_vv *b) {
  differ df = {b, demo_scratch(), 0};
  df.buf[0] = '\0';
  demo_check(crdt_vv_foreach(a, list_ahead, &df), "walk a vector");
  return df.buf;
}

static crdt_vv *vv_new(void) {
  crdt_vv *vv;
  demo_check(crdt_vv_new(&vv), "create a vector");
  return vv;
}

static crdt_vv *vv_copy(const crdt_vv *src) {
  crdt_vv *vv;
  demo_check(crdt_vv_copy(src, &vv), "copy a vector");
  return vv;
}

static void tick(crdt_vv *vv, const char *replica) {
  demo_check(crdt_vv_tick(vv, replica, NULL), "tick");
}

static void merge_vv(crdt_vv *dst, const crdt_vv *src) {
  demo_check(crdt_vv_merge(dst, src), "merge vectors");
}

static void part_three_nodes(demo *dm) {
  demo_heading(
      "3. Three nodes exchange vector clocks (the diagram of seed 003)");
  puts("Vector clocks are the same vectors, kept per node for every event: a\n"
       "node ticks its own entry for each update; on receiving a message it\n"
       "takes the entrywise maximum with the sender's vector, then ticks.\n");
  diagram *g = demo_diagram(dm, "part3",
                            "3. Three nodes (seed 003): H "
                            "finds F and G concurrent");
  int l1 = diagram_line(g, "node1"), l2 = diagram_line(g, "node2"),
      l3 = diagram_line(g, "node3");
  crdt_vv *n1 = vv_new(), *n2 = vv_new(), *n3 = vv_new();
  printf("  (1) all clocks start empty: node1 %s  node2 %s  node3 %s\n",
         demo_vv_text(n1), demo_vv_text(n2), demo_vv_text(n3));
  diagram_note(g, l1, demo_vv_text(n1));
  diagram_note(g, l2, demo_vv_text(n2));
  diagram_note(g, l3, demo_vv_text(n3));

  tick(n1, "node1");
  tick(n2, "node2");
  tick(n3, "node3");
  puts("  (2) a client update at each node ticks its own entry:");
  printf("        A at node1 %s\n", demo_vv_text(n1));
  printf("        B at node2 %s\n", demo_vv_text(n2));
  printf("        C at node3 %s\n", demo_vv_text(n3));
  diagram_event(g, l1, "A", demo_vv_text(n1), true, NULL, 0);
  int eb = diagram_event(g, l2, "B", demo_vv_text(n2), true, NULL, 0);
  diagram_event(g, l3, "C", demo_vv_text(n3), true, NULL, 0);

  merge_vv(n1, n2);
  tick(n1, "node1");
  merge_vv(n3, n2);
  tick(n3, "node3");
  puts("  (3) node2 sends B to node1 and node3; each merges it and ticks:");
  printf("        D at node1 %s\n", demo_vv_text(n1));
  printf("        E at node3 %s\n", demo_vv_text(n3));
  diagram_event(g, l1, "D", demo_vv_text(n1), true, &eb, 1);
  diagram_event(g, l3, "E", demo_vv_text(n3), true, &eb, 1);

  tick(n1, "node1");
  tick(n3, "node3");
  crdt_vv *f = vv_copy(n1), *gv = vv_copy(n3);
  puts("      then more client updates:");
  printf("        F at node1 %s\n", demo_vv_text(f));
  printf("        G at node3 %s\n", demo_vv_text(gv));
  int ef = diagram_event(g, l1, "F", demo_vv_text(f), true, NULL, 0);
  int eg = diagram_event(g, l3, "G", demo_vv_text(gv), true, NULL, 0);

  crdt_order fg = crdt_vv_compare(f, gv);
  puts("  (4) node2 receives F and G:");
  printf("        F %s vs G %s: %s\n", demo_vv_text(f), demo_vv_text(gv),
         crdt_order_name(fg));
  printf("        F is ahead on %s, G on %s: neither has seen the other.\n",
         ahead_of(f, gv), ahead_of(gv, f));
  merge_vv(n2, f);
  merge_vv(n2, gv);
  tick(n2, "node2");
  int from[2] = {ef, eg};
  diagram_event(g, l2, "H", demo_vv_text(n2), true, from, 2);
  printf("        H at node2 %s: %s F, %s G\n", demo_vv_text(n2),
         crdt_order_name(crdt_vv_compare(n2, f)),
         crdt_order_name(crdt_vv_compare(n2, gv)));
  puts("  node2 cannot tell which of F and G is \"newer\": each knows "
       "something\n"
       "  the other does not. What should it keep?");
  if (fg != CRDT_CONCURRENT || crdt_vv_compare(n2, f) != CRDT_AFTER ||
      crdt_vv_compare(n2, gv) != CRDT_AFTER)
    demo_check(CRDT_EINVAL, "the vectors disagree with seed 003's diagram");
  crdt_vv_free(n1);
  crdt_vv_free(n2);
  crdt_vv_free(n3);
  crdt_vv_free(f);
  crdt_vv_free(gv);
}

/* ---- 4. three ways out ------------------------------------------------------
 */

static void part_lww(demo *dm) {
  puts("(a) Last write wins, as in Cassandra: each write carries a timestamp\n"
       "    and the highest one wins. An LWW-register at two replicas whose\n"
       "    clocks disagree a little:");
  diagram *g = demo_diagram(dm, "part4",
                            "4a. Last write wins: the write "
                            "with the lower timestamp is lost");
  int la = diagram_line(g, "replica A"), lb = diagram_line(g, "replica B");
  crdt_lwwreg *a, *b;
  demo_check(crdt_lwwreg_new("A", &a), "create a register");
  demo_check(crdt_lwwreg_new("B", &b), "create a register");
  const char *first = "eggs, bacon", *second = "milk";
  demo_check(crdt_lwwreg_write(b, second, strlen(second), 1003, NULL), "write");
  demo_check(crdt_lwwreg_write(a, first, strlen(first), 1005, NULL), "write");
  uint64_t ta, tb;
  demo_check(crdt_lwwreg_get(a, NULL, &ta), "read");
  demo_check(crdt_lwwreg_get(b, NULL, &tb), "read");
  printf("  B sets [%s] at time %llu (its clock is behind)\n", second,
         (unsigned long long)tb);
  printf("  A sets [%s] at time %llu, a moment earlier in real time\n", first,
         (unsigned long long)ta);
  char caption[DEMO_TEXT_MAX];
  snprintf(caption, sizeof caption, "%s\ntime %llu",
           demo_value_text(crdt_lwwreg_object(a)), (unsigned long long)ta);
  int ea = diagram_event(g, la, "set", caption, true, NULL, 0);
  snprintf(caption, sizeof caption, "%s\ntime %llu",
           demo_value_text(crdt_lwwreg_object(b)), (unsigned long long)tb);
  int eb = diagram_event(g, lb, "set", caption, true, NULL, 0);

  crdt_lwwreg *a_sent;
  demo_check(crdt_lwwreg_copy(a, &a_sent), "copy");
  demo_check(crdt_lwwreg_merge(a, b), "merge");
  demo_check(crdt_lwwreg_merge(b, a_sent), "merge");
  crdt_lwwreg_free(a_sent);
  puts("  A and B exchange their states and merge:");
  demo_check(crdt_lwwreg_get(a, NULL, &ta), "read");
  demo_check(crdt_lwwreg_get(b, NULL, &tb), "read");
  printf("    A: %s (time %llu, by %s)   B: %s (time %llu, by %s)\n",
         demo_value_text(crdt_lwwreg_object(a)), (unsigned long long)ta,
         crdt_lwwreg_writer(a), demo_value_text(crdt_lwwreg_object(b)),
         (unsigned long long)tb, crdt_lwwreg_writer(b));
  snprintf(caption, sizeof caption, "%s\n[%s] lost",
           demo_value_text(crdt_lwwreg_object(a)), second);
  diagram_event(g, la, "merge", caption, false, &eb, 1);
  diagram_event(g, lb, "merge", caption, false, &ea, 1);
  crdt_order o;
  int rc = crdt_lwwreg_compare(a, b, &o);
  printf("    [%s] is lost, though the writer of [%s] never saw it.\n"
         "    The register keeps no history, so there is nothing to compare\n"
         "    (compare: %s).\n\n",
         second, first, crdt_strerror(rc));
  crdt_lwwreg_free(a);
  crdt_lwwreg_free(b);
}

static void print_object(const char *name, crdt_object *obj) {
  char label[16];
  snprintf(label, sizeof label, "%s:", name);
  printf("    %-3s %-30s context %s\n", label, demo_value_text(obj),
         demo_seen_text(obj));
}

static void part_merge(void) {
  puts("(c) Merge: data types whose concurrent updates combine (CRDTs).\n"
       "    The Dynamo shopping cart, as a cart of item quantities:");
  crdt_cart *a, *b;
  demo_check(crdt_cart_new("A", &a), "create a cart");
  demo_check(crdt_cart_new("B", &b), "create a cart");
  demo_check(crdt_cart_add(a, "eggs", 4, 2, NULL), "add");
  puts("  A adds 2 eggs, then sends its cart to B");
  demo_check(crdt_cart_merge(b, a), "merge");
  print_object("A", crdt_cart_object(a));
  print_object("B", crdt_cart_object(b));
  int64_t seen_by_b = crdt_cart_quantity(b, "eggs", 4);
  demo_check(crdt_cart_remove(b, "eggs", 4, NULL), "remove");
  demo_check(crdt_cart_add(a, "eggs", 4, 1, NULL), "add");
  demo_check(crdt_cart_add(a, "milk", 4, 1, NULL), "add");
  puts("  concurrently, B removes eggs while A adds 1 egg and 1 milk");
  print_object("A", crdt_cart_object(a));
  print_object("B", crdt_cart_object(b));
  crdt_cart *a_sent;
  demo_check(crdt_cart_copy(a, &a_sent), "copy");
  demo_check(crdt_cart_merge(a, b), "merge");
  demo_check(crdt_cart_merge(b, a_sent), "merge");
  crdt_cart_free(a_sent);
  puts("  they merge:");
  print_object("A", crdt_cart_object(a));
  print_object("B", crdt_cart_object(b));
  printf("    The remove took the %lld eggs B had seen; A's concurrent egg\n"
         "    stays. At worst an item comes back, never a lost order.\n",
         (long long)seen_by_b);
  crdt_cart_free(a);
  crdt_cart_free(b);

  puts("  Counters: increments at different replicas add up.");
  crdt_gcounter *ca, *cb;
  demo_check(crdt_gcounter_new("A", &ca), "create a counter");
  demo_check(crdt_gcounter_new("B", &cb), "create a counter");
  demo_check(crdt_gcounter_inc(ca, 2, NULL), "inc");
  demo_check(crdt_gcounter_inc(cb, 3, NULL), "inc");
  puts("  A counts 2 visits, B counts 3, concurrently");
  print_object("A", crdt_gcounter_object(ca));
  print_object("B", crdt_gcounter_object(cb));
  demo_check(crdt_gcounter_merge(ca, cb), "merge");
  puts("  B's state reaches A:");
  print_object("A", crdt_gcounter_object(ca));
  crdt_gcounter_free(ca);
  crdt_gcounter_free(cb);
}

static void part_ways_out(demo *dm) {
  demo_heading("4. Three ways out of a conflict");
  puts("Vectors detect that two writes are concurrent; they do not say which\n"
       "value to keep. Seed 003 names three answers.\n");
  part_lww(dm);
  demo_part_keep_siblings();
  part_merge();
}

static void summary(void) {
  demo_heading("In short");
  puts("A version number counts the writes of one server. When several\n"
       "replicas accept writes, each keeps such a number for itself and the\n"
       "highest number it has seen from every other replica: a version\n"
       "vector. A dot (replica, number) names one write; a context is what a\n"
       "write was based on. Comparing vectors says equal, before, after or\n"
       "concurrent; a write replaces exactly the values whose dots its\n"
       "context holds, and concurrent values are kept, merged, or dropped by\n"
       "timestamp.\n"
       "\n"
       "Try it on files: docs/tutorial.md, or crdt help.");
}

/* ---- the command
 * ------------------------------------------------------------- */

static int write_svg(const char *path, demo *dm) {
  for (size_t i = 0; i < dm->ndiagrams; i++)
    if (diagram_failed(dm->diagrams[i])) {
      cli_error("demo: %s: out of memory while recording the diagrams", path);
      return CLI_FAIL;
    }
  char *svg = NULL;
  size_t len = 0;
  FILE *mem = open_memstream(&svg, &len);
  if (!mem) {
    cli_error("demo: %s: out of memory", path);
    return CLI_FAIL;
  }
  int rc = diagram_write_svg(mem, dm->diagrams, dm->ndiagrams);
  if (fclose(mem) != 0) rc = -1;
  int status = CLI_FAIL;
  if (rc != 0)
    cli_error("demo: %s: out of memory", path);
  else
    status = cli_write_file(path, svg, len, CLI_REPLACE);
  free(svg);
  if (status == CLI_OK)
    printf("\nSpace-time diagrams of parts 1 to 4 written to:\n%s\n", path);
  return status;
}

int cli_cmd_demo(int argc, char **argv) {
  const char *svg = NULL;
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--svg") == 0 && !svg) {
      if (i + 1 >= argc) return cli_usage_error("demo", "--svg needs a file");
      svg = argv[++i];
    } else if (strncmp(argv[i], "--svg=", 6) == 0 && !svg && argv[i][6]) {
      svg = argv[i] + 6;
    } else {
      return cli_usage_error("demo", "unexpected argument '%s'", argv[i]);
    }
  }
  demo dm = {{NULL}, 0};
  printf("crdt demo (libcrdt %s): from version numbers to version vectors\n",
         crdt_version());
  puts("Every value, dot, context and comparison below is what the library's\n"
       "objects report as the story runs.");
  demo_part_one_server(&dm);
  demo_part_several_servers(&dm);
  part_three_nodes(&dm);
  part_ways_out(&dm);
  summary();
  int status = svg ? write_svg(svg, &dm) : CLI_OK;
  for (size_t i = 0; i < dm.ndiagrams; i++) diagram_free(dm.diagrams[i]);
  return status;
}

/*
 * `crdt demo`, parts 1 and 2: the multi-value register answers the seed's
 * question, first on one server (version numbers), then on two (version
 * vectors and dots). Each write is a client's, based on the read context it
 * kept; the text says, from the library's own contexts, why each sibling
 * was replaced or kept.
 */
#include <stdlib.h>
#include <string.h>

#include "demo.h"

/* ---- MV-register helpers: siblings and the dots that wrote them -----------
 */

enum { MAX_SIBLINGS = 8, VALUE_MAX = 48, MAX_WRITES = 16 };

typedef struct siblings {
  size_t count;
  char value[MAX_SIBLINGS][VALUE_MAX];
} siblings;

static int collect_sibling(crdt_bytes v, void *user) {
  siblings *s = user;
  if (s->count == MAX_SIBLINGS || v.size >= VALUE_MAX) return CRDT_ETOOMANY;
  memcpy(s->value[s->count], v.data, v.size);
  s->value[s->count][v.size] = '\0';
  s->count++;
  return 0;
}

static siblings siblings_of(const crdt_mvreg *reg) {
  siblings s = {0};
  demo_check(crdt_mvreg_foreach(reg, collect_sibling, &s), "read the siblings");
  return s;
}

static bool has_sibling(const siblings *s, const char *value) {
  for (size_t i = 0; i < s->count; i++)
    if (strcmp(s->value[i], value) == 0) return true;
  return false;
}

/* "[eggs] [milk]" (sep " ") or "[eggs] and [milk]" (sep " and "). */
static const char *siblings_text(const siblings *s, const char *sep) {
  char *buf = demo_scratch();
  size_t n = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < s->count; i++) {
    n += (size_t)snprintf(buf + n, DEMO_TEXT_MAX - n, "%s[%s]", i ? sep : "",
                          s->value[i]);
    if (n >= DEMO_TEXT_MAX) demo_check(CRDT_ENOSPC, "list the siblings");
  }
  if (s->count == 0) snprintf(buf, DEMO_TEXT_MAX, "(empty)");
  return buf;
}

/* A dot: the n-th write accepted by a replica. */
typedef struct dot {
  const char *replica;
  uint64_t counter;
} dot;

static const char *dot_text(dot d) {
  char *buf = demo_scratch();
  snprintf(buf, DEMO_TEXT_MAX, "%s%llu", d.replica,
           (unsigned long long)d.counter);
  return buf;
}

/* Which dot wrote which value: the demo's own bookkeeping, filled from the
 * counters the library hands out (crdt_context_next), so that it can say
 * why a write kept or replaced a sibling. */
typedef struct story {
  demo *demo;
  struct {
    char value[VALUE_MAX];
    dot dot;
  } writes[MAX_WRITES];
  size_t nwrites;
} story;

static dot dot_of(const story *st, const char *value) {
  for (size_t i = st->nwrites; i-- > 0;)
    if (strcmp(st->writes[i].value, value) == 0) return st->writes[i].dot;
  demo_check(CRDT_ENOENT, "find the dot of a sibling");
  return (dot){"?", 0};
}

static crdt_mvreg *mvreg_new(const char *replica) {
  crdt_mvreg *reg;
  demo_check(crdt_mvreg_new(replica, &reg), "create a register");
  return reg;
}

static crdt_context *read_context(const crdt_mvreg *reg) {
  crdt_context *ctx;
  demo_check(crdt_mvreg_context(reg, &ctx), "read a context");
  return ctx;
}

/* "    S:  [eggs] [milk]                 context {S:2}" */
static void print_register(const char *name, crdt_mvreg *reg) {
  siblings s = siblings_of(reg);
  char label[16];
  snprintf(label, sizeof label, "%s:", name);
  printf("    %-3s %-30s context %s\n", label, siblings_text(&s, " "),
         demo_seen_text(crdt_mvreg_object(reg)));
}

/* A client writes `value` at the replica `at` (which owns `reg`), based on
 * the read context `token`. Prints the step, the state, and for each
 * sibling the replica held before whether the write replaced it (its dot is
 * in the token) or kept it. Returns the write's dot. */
static dot client_write(story *st, crdt_mvreg *reg, const char *at,
                        const char *where, const char *who, const char *value,
                        const crdt_context *token) {
  crdt_context *before_ctx = read_context(reg);
  uint64_t counter;
  demo_check(crdt_context_next(before_ctx, at, &counter), "next dot");
  crdt_context_free(before_ctx);
  siblings before = siblings_of(reg);
  demo_check(crdt_mvreg_write(reg, value, strlen(value), token, NULL), "write");
  dot d = {at, counter};
  if (st->nwrites == MAX_WRITES || strlen(value) >= VALUE_MAX)
    demo_check(CRDT_ETOOMANY, "remember a write");
  snprintf(st->writes[st->nwrites].value, VALUE_MAX, "%s", value);
  st->writes[st->nwrites++].dot = d;

  char step[DEMO_TEXT_MAX];
  snprintf(step, sizeof step, "  %s writes [%s]%s, based on %s", who, value,
           where, demo_context_text(token));
  printf("%-60s -> dot %s\n", step, dot_text(d));
  print_register(at, reg);
  for (size_t i = 0; i < before.count; i++) {
    dot old = dot_of(st, before.value[i]);
    bool seen = crdt_context_has(token, old.replica, old.counter);
    printf("      %s [%s]: its dot %s is %sin %s\n",
           seen ? "replaces" : "keeps", before.value[i], dot_text(old),
           seen ? "" : "not ", demo_context_text(token));
  }
  return d;
}

/* `to` receives the state of `from` and merges it. With `explain`, says
 * for each sibling why it stays, goes or arrives. */
static void receive(story *st, crdt_mvreg *to, const char *to_name,
                    const crdt_mvreg *from, const char *from_name,
                    bool explain) {
  siblings mine = siblings_of(to), theirs = siblings_of(from);
  crdt_context *my_ctx = read_context(to), *their_ctx = read_context(from);
  demo_check(crdt_mvreg_merge(to, from), "merge");
  siblings after = siblings_of(to);
  print_register(to_name, to);
  for (size_t i = 0; explain && i < mine.count; i++) {
    dot d = dot_of(st, mine.value[i]);
    bool they_saw = crdt_context_has(their_ctx, d.replica, d.counter);
    if (has_sibling(&after, mine.value[i]) &&
        !has_sibling(&theirs, mine.value[i]))
      printf("      [%s] (%s) stays: %s had not seen %s\n", mine.value[i],
             dot_text(d), from_name, dot_text(d));
    else if (!has_sibling(&after, mine.value[i]) && they_saw)
      printf("      [%s] (%s) goes: %s saw %s and replaced it\n", mine.value[i],
             dot_text(d), from_name, dot_text(d));
  }
  for (size_t i = 0; explain && i < theirs.count; i++) {
    if (has_sibling(&mine, theirs.value[i])) continue;
    dot d = dot_of(st, theirs.value[i]);
    bool i_saw = crdt_context_has(my_ctx, d.replica, d.counter);
    if (has_sibling(&after, theirs.value[i]) && !i_saw)
      printf("      [%s] (%s) arrives: %s had not seen %s\n", theirs.value[i],
             dot_text(d), to_name, dot_text(d));
  }
  crdt_context_free(my_ctx);
  crdt_context_free(their_ctx);
}

/* ---- diagrams --------------------------------------------------------------
 */

/* "S3\n[eggs, bacon] [milk]\n{S:3}"-style captions. */
static const char *register_caption(crdt_mvreg *reg) {
  siblings s = siblings_of(reg);
  char *buf = demo_scratch();
  snprintf(buf, DEMO_TEXT_MAX, "%s\n%s", siblings_text(&s, " "),
           demo_seen_text(crdt_mvreg_object(reg)));
  return buf;
}

/* ---- 1. one server ---------------------------------------------------------
 */

void demo_part_one_server(demo *dm) {
  story story_ = {.demo = dm}, *st = &story_;
  demo_heading("1. One server: version numbers detect concurrent writes");
  puts(
      "A shopping list lives on one server, S, in a multi-value register.\n"
      "Each write S accepts gets the next version number, written S1, S2...:\n"
      "a dot. A client reads the list together with the versions it has seen,\n"
      "its read context, and sends that context back with its next write\n"
      "({} if it has read nothing). The write replaces exactly the values\n"
      "whose dots are in that context.\n");
  diagram *g = demo_diagram(st->demo, "part1",
                            "1. One server S: clients write "
                            "based on what they read");
  int c1 = diagram_line(g, "client 1"), s = diagram_line(g, "server S"),
      c2 = diagram_line(g, "client 2");
  crdt_mvreg *server = mvreg_new("S");
  crdt_context *nothing;
  demo_check(crdt_context_new(&nothing), "create a context");

  /* Client 1 writes [eggs] having read nothing. */
  int e = diagram_event(g, c1, "write [eggs]", "based on {}", false, NULL, 0);
  dot d = client_write(st, server, "S", "", "client 1", "eggs", nothing);
  int s1 =
      diagram_event(g, s, dot_text(d), register_caption(server), true, &e, 1);

  crdt_context *client1_read = read_context(server);
  printf("  client 1 reads [eggs] with context %s\n",
         demo_context_text(client1_read));

  e = diagram_event(g, c2, "write [milk]", "based on {}", false, NULL, 0);
  d = client_write(st, server, "S", "", "client 2", "milk", nothing);
  diagram_event(g, s, dot_text(d), register_caption(server), true, &e, 1);

  e = diagram_event(g, c1, "write [eggs, bacon]",
                    demo_textf("based on %s", demo_context_text(client1_read)),
                    false, &s1, 1);
  d = client_write(st, server, "S", "", "client 1", "eggs, bacon",
                   client1_read);
  int s3 =
      diagram_event(g, s, dot_text(d), register_caption(server), true, &e, 1);
  siblings now = siblings_of(server);
  printf("    %zu siblings: %s. Client 1 never saw [milk],\n"
         "    so its write could not replace it (the seed's \"version 3\").\n",
         now.count, siblings_text(&now, " and "));

  crdt_context *client2_read = read_context(server);
  printf("  client 2 reads %s with context %s\n", siblings_text(&now, " "),
         demo_context_text(client2_read));
  e = diagram_event(g, c2, "write [eggs, bacon, milk]",
                    demo_textf("based on %s", demo_context_text(client2_read)),
                    false, &s3, 1);
  d = client_write(st, server, "S", "", "client 2", "eggs, bacon, milk",
                   client2_read);
  diagram_event(g, s, dot_text(d), register_caption(server), true, &e, 1);
  now = siblings_of(server);
  printf("    %zu value again: the write was based on both siblings.\n\n",
         now.count);
  puts("  What decides is the version a write is based on, not the one it\n"
       "  gets: judged by its new number alone, [eggs, bacon] (S3) would look\n"
       "  newer than [milk] (S2) and replace it.");

  crdt_context_free(nothing);
  crdt_context_free(client1_read);
  crdt_context_free(client2_read);
  crdt_mvreg_free(server);
}

/* ---- 2. several servers ----------------------------------------------------
 */

static void compare_line(const char *an, crdt_mvreg *a, const char *bn,
                         crdt_mvreg *b) {
  crdt_order o;
  demo_check(crdt_mvreg_compare(a, b, &o), "compare");
  printf("  %s %s vs %s %s: %s\n", an, demo_seen_text(crdt_mvreg_object(a)), bn,
         demo_seen_text(crdt_mvreg_object(b)), crdt_order_name(o));
}

void demo_part_several_servers(demo *dm) {
  story story_ = {.demo = dm}, *st = &story_;
  demo_heading("2. Several servers accept writes: version vectors and dots");
  puts("Now two servers, A and B, both accept writes and send each other\n"
       "their states. One counter is no longer enough: A's write number 2 and\n"
       "B's write number 2 are different writes. So a dot names its server\n"
       "(A1, B1...), and a context keeps one counter per server, a version\n"
       "vector: {A:2, B:1} means \"A's writes up to 2 and B's up to 1\".\n");
  diagram *g = demo_diagram(st->demo, "part2",
                            "2. Two servers: dots name the "
                            "server, contexts are vectors");
  int la = diagram_line(g, "server A"), lb = diagram_line(g, "server B");
  crdt_mvreg *a = mvreg_new("A"), *b = mvreg_new("B");
  crdt_context *nothing;
  demo_check(crdt_context_new(&nothing), "create a context");

  dot d = client_write(st, a, "A", " at A", "client 1", "eggs", nothing);
  int a1 = diagram_event(
      g, la, demo_textf("%s [eggs]", dot_text(d)),
      demo_textf("based on {}\n%s", demo_seen_text(crdt_mvreg_object(a))), true,
      NULL, 0);
  puts("  A sends its state to B, which merges it");
  receive(st, b, "B", a, "A", false);
  diagram_event(g, lb, "merge", register_caption(b), false, &a1, 1);

  crdt_context *client1_read = read_context(b);
  printf("  client 1 reads [eggs] at B with context %s\n",
         demo_context_text(client1_read));
  d = client_write(st, a, "A", " at A", "client 2", "milk", nothing);
  int a2 = diagram_event(
      g, la, demo_textf("%s [milk]", dot_text(d)),
      demo_textf("based on {}\n%s", demo_seen_text(crdt_mvreg_object(a))), true,
      NULL, 0);
  d = client_write(st, b, "B", " at B", "client 1", "eggs, bacon",
                   client1_read);
  int b1 = diagram_event(g, lb, demo_textf("%s [eggs, bacon]", dot_text(d)),
                         demo_textf("based on %s\n%s",
                                    demo_context_text(client1_read),
                                    demo_seen_text(crdt_mvreg_object(b))),
                         true, NULL, 0);
  compare_line("A", a, "B", b);
  puts("    each has seen a write the other has not: the vectors say so.");

  puts("  A and B send each other their states and merge");
  crdt_mvreg *a_sent, *b_sent;
  demo_check(crdt_mvreg_copy(a, &a_sent), "copy");
  demo_check(crdt_mvreg_copy(b, &b_sent), "copy");
  receive(st, a, "A", b_sent, "B", true);
  diagram_event(g, la, "merge", register_caption(a), false, &b1, 1);
  receive(st, b, "B", a_sent, "A", true);
  diagram_event(g, lb, "merge", register_caption(b), false, &a2, 1);
  crdt_mvreg_free(a_sent);
  crdt_mvreg_free(b_sent);
  compare_line("A", a, "B", b);
  siblings now = siblings_of(a);
  printf("    Both hold %s, as the one server did.\n",
         siblings_text(&now, " and "));

  crdt_context *client2_read = read_context(b);
  printf("  client 2 reads both at B with context %s\n",
         demo_context_text(client2_read));
  d = client_write(st, b, "B", " at B", "client 2", "eggs, bacon, milk",
                   client2_read);
  int b3 = diagram_event(
      g, lb, demo_textf("%s [eggs, bacon, milk]", dot_text(d)),
      demo_textf("based on %s\n%s", demo_context_text(client2_read),
                 demo_seen_text(crdt_mvreg_object(b))),
      true, NULL, 0);
  puts("  B sends its state to A");
  receive(st, a, "A", b, "B", false);
  diagram_event(g, la, "merge", register_caption(a), false, &b3, 1);
  compare_line("A", a, "B", b);
  puts("\n  The rule is the one of the single server, with a vector where "
       "there\n"
       "  was one number: a write replaces the values whose dots its context\n"
       "  holds and keeps the others as siblings; comparing two vectors says\n"
       "  equal, before, after or concurrent.");

  crdt_context_free(nothing);
  crdt_context_free(client1_read);
  crdt_context_free(client2_read);
  crdt_mvreg_free(a);
  crdt_mvreg_free(b);
}

/* ---- 4 (b) ------------------------------------------------------------------
 */

void demo_part_keep_siblings(void) {
  puts("(b) Keep both and let the application decide, as Dynamo and Riak\n"
       "    do: the multi-value register of parts 1 and 2.");
  crdt_mvreg *a = mvreg_new("A"), *b = mvreg_new("B");
  demo_check(crdt_mvreg_write(a, "eggs, bacon", 11, NULL, NULL), "write");
  demo_check(crdt_mvreg_write(b, "milk", 4, NULL, NULL), "write");
  crdt_mvreg *a_sent;
  demo_check(crdt_mvreg_copy(a, &a_sent), "copy");
  demo_check(crdt_mvreg_merge(a, b), "merge");
  demo_check(crdt_mvreg_merge(b, a_sent), "merge");
  crdt_mvreg_free(a_sent);
  puts("  A writes [eggs, bacon], B writes [milk], concurrently; they merge:");
  print_register("A", a);
  print_register("B", b);
  puts("    Nothing is lost; a client that reads both writes one value.\n");
  crdt_mvreg_free(a);
  crdt_mvreg_free(b);
}

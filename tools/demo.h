/*
 * `crdt demo`: what its parts share (demo.c: the command, the plumbing, the
 * vector clocks and the ways out of a conflict; demo_siblings.c: the
 * multi-value register story of one server and of several).
 */
#ifndef CRDT_TOOLS_DEMO_H
#define CRDT_TOOLS_DEMO_H

#include "cli.h"
#include "diagram.h"

enum { DEMO_TEXT_MAX = 256, DEMO_MAX_DIAGRAMS = 8 };

/* The diagrams recorded while the story runs (for --svg). */
typedef struct demo {
  diagram *diagrams[DEMO_MAX_DIAGRAMS];
  size_t ndiagrams;
} demo;

/* Stops the program with a message when rc is an error (see demo.c). */
void demo_check(int rc, const char *what);

/* Short texts for printf, from a ring of 16 buffers of DEMO_TEXT_MAX bytes:
 * each stays valid for the next 15 calls. */
char *demo_scratch(void);
const char *demo_context_text(const crdt_context *ctx);
const char *demo_vv_text(const crdt_vv *vv);
const char *demo_seen_text(const crdt_object *obj);  /* its causal context */
const char *demo_value_text(const crdt_object *obj); /* its value JSON */
const char *demo_textf(const char *fmt, ...) CLI_PRINTF(1, 2);

/* Prints a section title, underlined. */
void demo_heading(const char *title);

/* A new diagram, kept in `d`. */
diagram *demo_diagram(demo *d, const char *id, const char *title);

/* demo_siblings.c: parts 1 and 2, and part 4's "keep the siblings". */
void demo_part_one_server(demo *d);
void demo_part_several_servers(demo *d);
void demo_part_keep_siblings(void);

#endif /* CRDT_TOOLS_DEMO_H */

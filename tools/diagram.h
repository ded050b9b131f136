/*
 * Space-time diagrams for `crdt demo --svg`: one horizontal line per
 * replica (or client), events as labelled dots, messages as arrows.
 *
 * The demo records what happens as it runs it; the layout is computed from
 * causality alone: an event sits one column right of the previous event on
 * its line and of every event it receives from.
 */
#ifndef CRDT_TOOLS_DIAGRAM_H
#define CRDT_TOOLS_DIAGRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct diagram diagram;

/* A new, empty diagram; `id` names it in the SVG (id="<id>", the lines
 * "<id>-<line name>"), `title` is printed above it. NULL when out of
 * memory. */
diagram *diagram_new(const char *id, const char *title);
void diagram_free(diagram *d);

/* Adds a line (top to bottom in call order). Returns its number, or -1
 * when out of memory (the diagram then refuses everything and
 * diagram_failed() says so). */
int diagram_line(diagram *d, const char *name);

/* Adds an event on `line`: `label` above the dot, `caption` (may be NULL)
 * below it; `update` draws a filled dot (a write, a tick), otherwise a
 * hollow one (a read, a merge). `from` lists up to `nfrom` earlier events
 * whose messages this event receives (arrows). Returns the event's number,
 * or -1. */
int diagram_event(diagram *d, int line, const char *label, const char *caption,
                  bool update, const int *from, size_t nfrom);

/* A note written at the start of a line, left of its first event (e.g. the
 * initial vector). */
int diagram_note(diagram *d, int line, const char *note);

/* true after any failed call (out of memory, bad index). */
bool diagram_failed(const diagram *d);

/* Writes one standalone SVG document holding the diagrams stacked
 * vertically. Returns 0, or -1 on a write error. */
int diagram_write_svg(FILE *out, diagram *const *diagrams, size_t count);

#endif /* CRDT_TOOLS_DIAGRAM_H */

/*
 * Space-time diagrams as SVG (see diagram.h).
 *
 * Text is monospace so widths can be computed without a font engine: a
 * column is as wide as the longest label or caption in the diagram. Every
 * element carries a class (replica, event, message, note, title) so tests
 * and style sheets can find them; the SVG is plain SVG 1.1 plus
 * paint-order (a white halo behind text that arrows cross), which viewers
 * without it simply ignore.
 */
#define _XOPEN_SOURCE 700 /* strdup */

#include "diagram.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct line {
  char *name;
  char *note;
} line;

typedef struct event {
  int line;
  char *label, *caption;
  bool update;
  int column;
} event;

typedef struct message {
  int from, to;
} message;

struct diagram {
  char *id, *title;
  line *lines;
  size_t nlines;
  event *events;
  size_t nevents;
  message *messages;
  size_t nmessages;
  bool failed;
};

/* Geometry, in SVG user units (pixels at scale 1). */
enum {
  FONT = 13,         /* font size */
  MARGIN = 20,       /* around everything */
  FIRST_LINE = 66,   /* from a diagram's top (title band) to its first line */
  LINE_GAP = 84,     /* between lines, plus CAPTION_LINE per caption line */
  BELOW_LAST = 24,   /* below the last line, plus CAPTION_LINE per line */
  CAPTION_LINE = 16, /* one line of a caption */
  LEGEND_H = 48,     /* the two legend lines at the bottom */
  PANEL_GAP = 26,    /* between diagrams */
  DOT_R = 6,         /* event dot radius */
  COLUMN_PAD = 26,   /* added to the widest text of a column */
  COLUMN_MIN = 110,
  NAME_PAD = 26 /* between line names and the first column */
};
#define CHAR_W (FONT * 0.6) /* advance of a monospace glyph */

static char *dup_or_null(const char *s, bool *failed) {
  if (!s) return NULL;
  char *copy = strdup(s);
  if (!copy) *failed = true;
  return copy;
}

diagram *diagram_new(const char *id, const char *title) {
  diagram *d = calloc(1, sizeof *d);
  if (!d) return NULL;
  d->id = dup_or_null(id, &d->failed);
  d->title = dup_or_null(title, &d->failed);
  if (d->failed) {
    diagram_free(d);
    return NULL;
  }
  return d;
}

void diagram_free(diagram *d) {
  if (!d) return;
  for (size_t i = 0; i < d->nlines; i++) {
    free(d->lines[i].name);
    free(d->lines[i].note);
  }
  for (size_t i = 0; i < d->nevents; i++) {
    free(d->events[i].label);
    free(d->events[i].caption);
  }
  free(d->lines);
  free(d->events);
  free(d->messages);
  free(d->id);
  free(d->title);
  free(d);
}

bool diagram_failed(const diagram *d) { return !d || d->failed; }

/* Grows *array (of *count elements of `size` bytes) by one zeroed slot. */
static void *grow(void *array, size_t *count, size_t size, bool *failed) {
  void *bigger = realloc(array, (*count + 1) * size);
  if (!bigger) {
    *failed = true;
    return NULL;
  }
  memset((char *)bigger + *count * size, 0, size);
  (*count)++;
  return bigger;
}

int diagram_line(diagram *d, const char *name) {
  if (!d || d->failed) return -1;
  line *lines = grow(d->lines, &d->nlines, sizeof *lines, &d->failed);
  if (!lines) return -1;
  d->lines = lines;
  lines[d->nlines - 1].name = dup_or_null(name, &d->failed);
  return d->failed ? -1 : (int)d->nlines - 1;
}

int diagram_note(diagram *d, int index, const char *note) {
  if (!d || d->failed) return -1;
  if (index < 0 || (size_t)index >= d->nlines || d->lines[index].note) {
    d->failed = true;
    return -1;
  }
  d->lines[index].note = dup_or_null(note, &d->failed);
  return d->failed ? -1 : 0;
}

int diagram_event(diagram *d, int index, const char *label, const char *caption,
                  bool update, const int *from, size_t nfrom) {
  if (!d || d->failed) return -1;
  if (index < 0 || (size_t)index >= d->nlines) {
    d->failed = true;
    return -1;
  }
  /* Column: right of the line's previous event and of every sender. */
  int column = 0;
  for (size_t i = 0; i < d->nevents; i++)
    if (d->events[i].line == index && d->events[i].column + 1 > column)
      column = d->events[i].column + 1;
  for (size_t i = 0; i < nfrom; i++) {
    if (from[i] < 0 || (size_t)from[i] >= d->nevents) {
      d->failed = true;
      return -1;
    }
    if (d->events[from[i]].column + 1 > column)
      column = d->events[from[i]].column + 1;
  }
  event *events = grow(d->events, &d->nevents, sizeof *events, &d->failed);
  if (!events) return -1;
  d->events = events;
  event *e = &events[d->nevents - 1];
  e->line = index;
  e->update = update;
  e->column = column;
  e->label = dup_or_null(label, &d->failed);
  e->caption = dup_or_null(caption, &d->failed);
  int to = (int)d->nevents - 1;
  for (size_t i = 0; i < nfrom && !d->failed; i++) {
    message *m = grow(d->messages, &d->nmessages, sizeof *m, &d->failed);
    if (!m) break;
    d->messages = m;
    m[d->nmessages - 1] = (message){from[i], to};
  }
  return d->failed ? -1 : to;
}

/* ---- SVG ----------------------------------------------------------------- */

/* Writes n bytes of s as XML character data. */
static void xml_text_n(FILE *out, const char *s, size_t n) {
  for (const char *end = s + n; s < end; s++) {
    switch (*s) {
    case '&':
      fputs("&amp;", out);
      break;
    case '<':
      fputs("&lt;", out);
      break;
    case '>':
      fputs("&gt;", out);
      break;
    case '"':
      fputs("&quot;", out);
      break;
    case '\'':
      fputs("&apos;", out);
      break;
    default:
      /* Control characters are not allowed in XML 1.0. */
      if ((unsigned char)*s < 0x20)
        fputc('?', out);
      else
        fputc(*s, out);
    }
  }
}

/* An id attribute's value: letters and digits kept, anything else '-'. */
static void xml_id(FILE *out, const char *s) {
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                (c >= '0' && c <= '9');
    fputc(keep ? c : '-', out);
  }
}

/* Longest line of a text that may hold '\n's (captions), and its lines. */
static size_t text_len(const char *s) {
  size_t widest = 0, n = 0;
  for (; s && *s; s++) {
    if (*s == '\n') {
      n = 0;
    } else if (++n > widest) {
      widest = n;
    }
  }
  return widest;
}

static size_t text_lines(const char *s) {
  if (!s) return 0;
  size_t lines = 1;
  for (; *s; s++)
    if (*s == '\n') lines++;
  return lines;
}

typedef struct layout {
  double name_w; /* left band holding line names */
  double gap;    /* between lines */
  double col_w;  /* one column */
  int col_base;  /* 1 when column 0 holds notes, else 0 */
  int columns;   /* columns used, notes included */
  double width, height;
} layout;

static layout measure(const diagram *d) {
  layout l = {0};
  size_t name = 0, widest = 0;
  bool notes = false;
  for (size_t i = 0; i < d->nlines; i++) {
    if (text_len(d->lines[i].name) > name) name = text_len(d->lines[i].name);
    if (d->lines[i].note) {
      notes = true;
      if (text_len(d->lines[i].note) > widest)
        widest = text_len(d->lines[i].note);
    }
  }
  int last = -1;
  size_t caption_lines = 1;
  for (size_t i = 0; i < d->nevents; i++) {
    const event *e = &d->events[i];
    if (text_lines(e->caption) > caption_lines)
      caption_lines = text_lines(e->caption);
    if (text_len(e->label) > widest) widest = text_len(e->label);
    if (text_len(e->caption) > widest) widest = text_len(e->caption);
    if (e->column > last) last = e->column;
  }
  l.name_w = (double)name * CHAR_W + NAME_PAD;
  l.col_w = (double)widest * CHAR_W + COLUMN_PAD;
  if (l.col_w < COLUMN_MIN) l.col_w = COLUMN_MIN;
  l.col_base = notes ? 1 : 0;
  l.columns = last + 1 + l.col_base;
  l.width = l.name_w + l.col_w * l.columns;
  size_t gaps = d->nlines ? d->nlines - 1 : 0;
  l.gap = LINE_GAP + (double)caption_lines * CAPTION_LINE;
  l.height = FIRST_LINE + (double)gaps * l.gap + BELOW_LAST +
             (double)caption_lines * CAPTION_LINE;
  return l;
}

static double line_y(const layout *l, double top, int index) {
  return top + FIRST_LINE + (double)index * l->gap;
}

static double column_x(const layout *l, double left, int column) {
  return left + l->name_w + l->col_w * (column + 0.5);
}

/* A text element with a white halo so arrows passing behind stay readable. */
static void svg_text(FILE *out, const char *cls, double x, double y,
                     const char *anchor, bool bold, const char *s) {
  fprintf(out,
          "    <text class=\"%s\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\"%s "
          "stroke=\"#ffffff\" stroke-width=\"4\" paint-order=\"stroke\">",
          cls, x, y, anchor, bold ? " font-weight=\"bold\"" : "");
  /* One tspan per line of a caption. */
  const char *start = s;
  for (int k = 0;; k++) {
    const char *end = strchr(start, '\n');
    size_t n = end ? (size_t)(end - start) : strlen(start);
    if (k == 0 && !end) {
      xml_text_n(out, start, n);
    } else {
      fprintf(out, "<tspan x=\"%.1f\" dy=\"%d\">", x, k ? CAPTION_LINE : 0);
      xml_text_n(out, start, n);
      fputs("</tspan>", out);
    }
    if (!end) break;
    start = end + 1;
  }
  fputs("</text>\n", out);
}

static void write_diagram(FILE *out, const diagram *d, const layout *l,
                          double left, double top, double width) {
  fputs("  <g id=\"", out);
  xml_id(out, d->id ? d->id : "diagram");
  fputs("\" class=\"diagram\">\n", out);
  if (d->title) svg_text(out, "title", left, top + 22, "start", true, d->title);

  /* Lines first, then arrows, then dots and text on top. */
  for (size_t i = 0; i < d->nlines; i++) {
    double y = line_y(l, top, (int)i);
    fputs("   <g class=\"replica\" id=\"", out);
    xml_id(out, d->id ? d->id : "diagram");
    fputc('-', out);
    xml_id(out, d->lines[i].name);
    fputs("\">\n", out);
    fprintf(out,
            "    <line class=\"replica\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
            "y2=\"%.1f\" stroke=\"#555555\" stroke-width=\"1.5\"/>\n",
            left + l->name_w - 10, y, left + width, y);
    svg_text(out, "name", left + l->name_w - 16, y + 4, "end", true,
             d->lines[i].name);
    if (d->lines[i].note)
      svg_text(out, "note", column_x(l, left, 0), y - 12, "middle", false,
               d->lines[i].note);
    fputs("   </g>\n", out);
  }
  for (size_t i = 0; i < d->nmessages; i++) {
    const event *a = &d->events[d->messages[i].from];
    const event *b = &d->events[d->messages[i].to];
    double x1 = column_x(l, left, a->column + l->col_base);
    double y1 = line_y(l, top, a->line);
    double x2 = column_x(l, left, b->column + l->col_base);
    double y2 = line_y(l, top, b->line);
    /* Start and end at the dots' rims, not their centres. */
    double dx = x2 - x1, dy = y2 - y1;
    double len = dx * dx + dy * dy;
    double shrink = 0;
    if (len > 0) {
      /* sqrt without libm: a few Newton steps are plenty here. */
      double r = len > 1 ? len / 2 : 1;
      for (int k = 0; k < 30; k++) r = (r + len / r) / 2;
      shrink = (DOT_R + 2) / r;
    }
    fprintf(out,
            "   <line class=\"message\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
            "y2=\"%.1f\" stroke=\"#b03a2e\" stroke-width=\"1.5\" "
            "marker-end=\"url(#arrow)\"/>\n",
            x1 + dx * shrink, y1 + dy * shrink, x2 - dx * shrink,
            y2 - dy * shrink);
  }
  for (size_t i = 0; i < d->nevents; i++) {
    const event *e = &d->events[i];
    double x = column_x(l, left, e->column + l->col_base);
    double y = line_y(l, top, e->line);
    fputs("   <g class=\"event\">\n", out);
    fprintf(out,
            "    <circle cx=\"%.1f\" cy=\"%.1f\" r=\"%d\" fill=\"%s\" "
            "stroke=\"#1f4e8c\" stroke-width=\"2\"/>\n",
            x, y, DOT_R, e->update ? "#1f4e8c" : "#ffffff");
    if (e->label) svg_text(out, "label", x, y - 12, "middle", true, e->label);
    if (e->caption)
      svg_text(out, "caption", x, y + 24, "middle", false, e->caption);
    fputs("   </g>\n", out);
  }
  fputs("  </g>\n", out);
}

int diagram_write_svg(FILE *out, diagram *const *diagrams, size_t count) {
  layout *layouts = calloc(count ? count : 1, sizeof *layouts);
  if (!layouts) return -1;
  double width = 0, height = MARGIN;
  for (size_t i = 0; i < count; i++) {
    layouts[i] = measure(diagrams[i]);
    if (layouts[i].width > width) width = layouts[i].width;
    height += layouts[i].height + (i + 1 < count ? PANEL_GAP : 0);
  }
  width += 2 * MARGIN;
  height += MARGIN + LEGEND_H;
  fprintf(out,
          "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
          "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
          "width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
          "font-family=\"DejaVu Sans Mono, Menlo, Consolas, monospace\" "
          "font-size=\"%d\">\n",
          width, height, width, height, FONT);
  fputs("  <title>crdt demo: space-time diagrams (time runs left to right; "
        "arrows are messages)</title>\n"
        "  <defs>\n"
        "   <marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" "
        "markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\">\n"
        "    <path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"#b03a2e\"/>\n"
        "   </marker>\n"
        "  </defs>\n",
        out);
  fprintf(out,
          "  <rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" "
          "fill=\"#ffffff\"/>\n",
          width, height);
  double top = MARGIN;
  for (size_t i = 0; i < count; i++) {
    if (i > 0)
      fprintf(out,
              "  <line x1=\"%d\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
              "stroke=\"#dddddd\"/>\n",
              MARGIN, top - PANEL_GAP / 2.0, width - MARGIN,
              top - PANEL_GAP / 2.0);
    write_diagram(out, diagrams[i], &layouts[i], MARGIN, top,
                  width - 2 * MARGIN);
    top += layouts[i].height + PANEL_GAP;
  }
  double y = height - MARGIN - LEGEND_H + 22;
  fprintf(out,
          "  <g class=\"legend\">\n"
          "   <circle cx=\"%d\" cy=\"%.1f\" r=\"%d\" fill=\"#1f4e8c\" "
          "stroke=\"#1f4e8c\" stroke-width=\"2\"/>\n"
          "   <text x=\"%d\" y=\"%.1f\">an event that creates a dot (a "
          "write, a tick)</text>\n"
          "   <circle cx=\"%d\" cy=\"%.1f\" r=\"%d\" fill=\"#ffffff\" "
          "stroke=\"#1f4e8c\" stroke-width=\"2\"/>\n"
          "   <text x=\"%d\" y=\"%.1f\">a client's request, or a merge of a "
          "received state; arrows are messages; time runs left to "
          "right</text>\n"
          "  </g>\n",
          MARGIN + DOT_R, y - 4, DOT_R, MARGIN + 3 * DOT_R, y, MARGIN + DOT_R,
          y + 20, DOT_R, MARGIN + 3 * DOT_R, y + 24);
  fputs("</svg>\n", out);
  free(layouts);
  return ferror(out) ? -1 : 0;
}

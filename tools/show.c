/*
 * `crdt show FILE [--json]`. The causal context comes from the library as
 * data (crdt_object_context and the canonical walks), so replica ids print
 * exactly whatever bytes they hold.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* ---- a state's context as data ------------------------------------------- */

static int collect(const char *replica, uint64_t counter, void *user) {
  cli_dots *dots = user;
  cli_dot *more = realloc(dots->items, (dots->count + 1) * sizeof *more);
  if (!more) return CRDT_ENOMEM;
  dots->items = more;
  size_t len = strlen(replica);
  char *copy = malloc(len + 1);
  if (!copy) return CRDT_ENOMEM;
  memcpy(copy, replica, len + 1);
  dots->items[dots->count++] = (cli_dot){copy, counter};
  return 0;
}

void cli_dots_free(cli_dots *dots) {
  for (size_t i = 0; i < dots->count; i++) free(dots->items[i].replica);
  free(dots->items);
  dots->items = NULL;
  dots->count = 0;
}

/* The prefix vector and the cloud of a state, in canonical order. */
static int state_dots(const crdt_object *obj, cli_dots *vector,
                      cli_dots *cloud) {
  crdt_context *ctx;
  int rc = crdt_object_context(obj, &ctx);
  if (rc) return rc;
  rc = crdt_context_foreach_prefix(ctx, collect, vector);
  if (!rc) rc = crdt_context_foreach_cloud(ctx, collect, cloud);
  crdt_context_free(ctx);
  if (rc) {
    cli_dots_free(vector);
    cli_dots_free(cloud);
  }
  return rc;
}

/* ---- show ---------------------------------------------------------------- */

enum { LABEL_WIDTH = 12 };

static void print_label(const char *label) {
  printf("%-*s", LABEL_WIDTH, label);
}

/* Per-replica totals of a counter: "{A:5, B:3}". */
typedef struct totals {
  bool first;
  bool decrements; /* pncounter: print n instead of p */
} totals;

static int print_g_total(const char *replica, uint64_t total, void *user) {
  totals *t = user;
  printf("%s%s:%llu", t->first ? "" : ", ", replica, (unsigned long long)total);
  t->first = false;
  return 0;
}

static int print_pn_total(const char *replica, uint64_t p, uint64_t n,
                          void *user) {
  totals *t = user;
  uint64_t v = t->decrements ? n : p;
  if (v == 0) return 0;
  return print_g_total(replica, v, user);
}

static int show_text(const char *path, crdt_object *obj) {
  int rc = 0;
  char *value = cli_object_text(obj, crdt_object_value_json, &rc);
  if (!value) {
    cli_error("%s: cannot print the value: %s", path, crdt_strerror(rc));
    return CLI_FAIL;
  }
  crdt_type type = crdt_object_type(obj);
  char *context = NULL;
  if (type != CRDT_TYPE_LWWREG &&
      !(context = cli_object_text(obj, crdt_object_context_text, &rc))) {
    free(value);
    cli_error("%s: cannot print the context: %s", path, crdt_strerror(rc));
    return CLI_FAIL;
  }
  print_label("type:");
  printf("%s\n", crdt_type_name(type));
  print_label("value:");
  if (type == CRDT_TYPE_MAP)
    rc = cli_map_print_value(obj, LABEL_WIDTH); /* aligned under the label */
  else
    printf("%s\n", value);
  if (type == CRDT_TYPE_LWWREG) {
    crdt_lwwreg *reg = crdt_object_lwwreg(obj);
    uint64_t time;
    print_label("timestamp:");
    if (crdt_lwwreg_get(reg, NULL, &time) == 0) {
      printf("%llu\n", (unsigned long long)time);
      print_label("writer:");
      printf("%s\n", crdt_lwwreg_writer(reg));
    } else {
      printf("none (never written)\n");
      print_label("writer:");
      printf("none\n");
    }
  } else {
    print_label("context:");
    printf("%s\n", context);
    totals t = {true, false};
    if (type == CRDT_TYPE_GCOUNTER) {
      print_label("increments:");
      putchar('{');
      rc = crdt_gcounter_foreach(crdt_object_gcounter(obj), print_g_total, &t);
      puts("}");
    } else if (type == CRDT_TYPE_PNCOUNTER) {
      print_label("increments:");
      putchar('{');
      rc = crdt_pncounter_foreach(crdt_object_pncounter(obj), print_pn_total,
                                  &t);
      puts("}");
      t = (totals){true, true};
      print_label("decrements:");
      putchar('{');
      if (rc == 0)
        rc = crdt_pncounter_foreach(crdt_object_pncounter(obj), print_pn_total,
                                    &t);
      puts("}");
    }
  }
  free(value);
  free(context);
  if (rc != 0) {
    cli_error("%s: %s", path, crdt_strerror(rc));
    return CLI_FAIL;
  }
  return CLI_OK;
}

static void print_json_dots(const cli_dots *dots, bool as_object) {
  for (size_t i = 0; i < dots->count; i++) {
    const cli_dot *d = &dots->items[i];
    fputs(i ? ", " : "", stdout);
    if (!as_object) putchar('[');
    cli_json_string(stdout, d->replica, strlen(d->replica));
    printf(as_object ? ": %llu" : ", %llu]", (unsigned long long)d->counter);
  }
}

/* {"type": T, "value": V, "vv": {...}[, "cloud": [[id, n], ...]]}, or for
 * the LWW-register {"type", "value", "timestamp", "writer"}. One line. */
static int show_json(const char *path, crdt_object *obj) {
  int rc = 0;
  char *value = cli_object_text(obj, crdt_object_value_json, &rc);
  if (!value) {
    cli_error("%s: cannot print the value: %s", path, crdt_strerror(rc));
    return CLI_FAIL;
  }
  crdt_type type = crdt_object_type(obj);
  cli_dots vector = {0}, cloud = {0};
  if (type != CRDT_TYPE_LWWREG && (rc = state_dots(obj, &vector, &cloud))) {
    cli_error("%s: cannot read the context: %s", path, crdt_strerror(rc));
    free(value);
    return CLI_FAIL;
  }
  printf("{\"type\": \"%s\", \"value\": %s", crdt_type_name(type), value);
  if (type == CRDT_TYPE_LWWREG) {
    crdt_lwwreg *reg = crdt_object_lwwreg(obj);
    uint64_t time;
    if (crdt_lwwreg_get(reg, NULL, &time) == 0) {
      const char *writer = crdt_lwwreg_writer(reg);
      printf(", \"timestamp\": %llu, \"writer\": ", (unsigned long long)time);
      cli_json_string(stdout, writer, strlen(writer));
    } else {
      fputs(", \"timestamp\": null, \"writer\": null", stdout);
    }
  } else {
    fputs(", \"vv\": {", stdout);
    print_json_dots(&vector, true);
    putchar('}');
    if (cloud.count) {
      fputs(", \"cloud\": [", stdout);
      print_json_dots(&cloud, false);
      putchar(']');
    }
  }
  puts("}");
  cli_dots_free(&vector);
  cli_dots_free(&cloud);
  free(value);
  return CLI_OK;
}

int cli_cmd_show(int argc, char **argv) {
  const char *path = NULL;
  bool json = false, options_done = false;
  for (int i = 0; i < argc; i++) {
    if (!options_done && strcmp(argv[i], "--") == 0) {
      options_done = true;
    } else if (!options_done && strcmp(argv[i], "--json") == 0) {
      json = true;
    } else if (!options_done && argv[i][0] == '-' && argv[i][1]) {
      return cli_usage_error("show", "unknown option '%s'", argv[i]);
    } else if (path) {
      return cli_usage_error("show", "too many arguments");
    } else {
      path = argv[i];
    }
  }
  if (!path) return cli_usage_error("show", "missing FILE");
  crdt_object *obj;
  if (cli_load(path, NULL, &obj) != CLI_OK) return CLI_FAIL;
  int status = json ? show_json(path, obj) : show_text(path, obj);
  crdt_object_free(obj);
  return status;
}

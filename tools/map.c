/*
 * The map in the `crdt` command: the --field options of `apply` (a field's
 * path, from the root map down to the field) and the value of `show` as a
 * tree.
 *
 * A path is a repeated option, one per name, each carrying its type:
 *   --field NAME:TYPE       NAME is the argument's bytes up to its LAST ':'
 *   --field-hex HEX:TYPE    NAME is HEX decoded (any bytes, NUL included)
 * Field types never contain ':', so splitting at the last one is
 * unambiguous: "a:b:counter" is the counter "a:b", ":flag" the flag "". The
 * update itself goes through crdt_object_update(); this file only turns
 * arguments into a crdt_update and errors into messages.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* ---- options ------------------------------------------------------------- */

int cli_field_option(int argc, char **argv, int i, cli_field_args *f) {
  const char *arg = argv[i], *rest;
  bool hex = strncmp(arg, "--field-hex", 11) == 0;
  if (hex)
    rest = arg + 11;
  else if (strncmp(arg, "--field", 7) == 0)
    rest = arg + 7;
  else
    return 0;
  if (*rest != '\0' && *rest != '=') return 0;
  const char *value = *rest == '=' ? rest + 1 : NULL;
  if (!value && i + 1 >= argc) {
    cli_usage_error("apply", "option %s needs a value (NAME:TYPE)", arg);
    return -1;
  }
  if (!value) value = argv[i + 1];
  if (f->count < CLI_FIELDS_MAX) {
    f->text[f->count] = value;
    f->hex[f->count] = hex;
  }
  f->count++;
  return *rest == '=' ? 1 : 2;
}

/* ---- the path ------------------------------------------------------------ */

typedef struct field_path {
  crdt_bytes names[CRDT_MAP_DEPTH_MAX];
  crdt_field_type types[CRDT_MAP_DEPTH_MAX];
  unsigned char *decoded[CRDT_MAP_DEPTH_MAX]; /* --field-hex names, owned */
  size_t depth;
} field_path;

static void path_free(field_path *p) {
  for (size_t i = 0; i < p->depth; i++) free(p->decoded[i]);
}

static const char field_type_list[] = "counter orset mvreg lwwreg flag map";

/* "a counter", "an orset", ...: the field type with its article. */
static const char *field_phrase(crdt_field_type type) {
  switch (type) {
  case CRDT_FIELD_COUNTER:
    return "a counter";
  case CRDT_FIELD_ORSET:
    return "an orset";
  case CRDT_FIELD_MVREG:
    return "an mvreg";
  case CRDT_FIELD_LWWREG:
    return "an lwwreg";
  case CRDT_FIELD_FLAG:
    return "a flag";
  case CRDT_FIELD_MAP:
    return "a map";
  }
  return "an unknown type";
}

/* Appends one --field (hex: --field-hex) value to the path. */
static int parse_field(const char *text, bool hex, field_path *p) {
  const char *option = hex ? "--field-hex" : "--field";
  const char *colon = strrchr(text, ':');
  if (!colon)
    return cli_usage_error("apply",
                           "%s '%s': give NAME:TYPE (TYPE after the last "
                           "':', one of %s)",
                           option, text, field_type_list);
  crdt_field_type type;
  if (crdt_field_type_from_name(colon + 1, &type) != 0) {
    cli_error("unknown field type '%s' in %s '%s' (field types: %s)", colon + 1,
              option, text, field_type_list);
    return CLI_FAIL;
  }
  size_t len = (size_t)(colon - text);
  crdt_bytes name = {text, len};
  unsigned char *decoded = NULL;
  if (hex && len > 0) {
    char *digits = malloc(len + 1);
    if (!digits) {
      cli_error("apply: out of memory");
      return CLI_FAIL;
    }
    memcpy(digits, text, len);
    digits[len] = '\0';
    int rc = cli_hex_decode(digits, &decoded, &name.size);
    free(digits);
    if (rc == -1)
      return cli_usage_error("apply",
                             "--field-hex '%s': the NAME before the last ':' "
                             "is not hex (two digits a byte)",
                             text);
    if (rc != 0) {
      cli_error("apply: %s", crdt_strerror(rc));
      return CLI_FAIL;
    }
    name.data = decoded;
  }
  p->names[p->depth] = name;
  p->types[p->depth] = type;
  p->decoded[p->depth] = decoded;
  p->depth++;
  return CLI_OK;
}

/* The path of the --field options: every name but the last is a map. */
static int parse_path(const cli_field_args *f, field_path *p) {
  if (f->count > CRDT_MAP_DEPTH_MAX)
    return cli_usage_error("apply",
                           "a path holds at most %d fields (maps nest at most "
                           "%d deep), not %d",
                           CRDT_MAP_DEPTH_MAX, CRDT_MAP_DEPTH_MAX, f->count);
  for (int i = 0; i < f->count; i++) {
    int status = parse_field(f->text[i], f->hex[i], p);
    if (status != CLI_OK) return status;
    if (i + 1 < f->count && p->types[i] != CRDT_FIELD_MAP)
      return cli_usage_error(
          "apply",
          "%s '%s' is %s field, but only the last --field may be "
          "other than a map (the others are the maps that hold it)",
          f->hex[i] ? "--field-hex" : "--field", f->text[i],
          field_phrase(p->types[i]));
  }
  return CLI_OK;
}

/* `"settings" (map) / "dark" (flag)`: names quoted as JSON strings, so any
 * byte is visible and the separators cannot be mistaken for a name's. */
static void print_path(FILE *out, const field_path *p) {
  for (size_t i = 0; i < p->depth; i++) {
    fputs(i ? " / " : "", out);
    cli_json_string(out, p->names[i].data, p->names[i].size);
    fprintf(out, " (%s)", crdt_field_type_name(p->types[i]));
  }
}

/* ---- ops ----------------------------------------------------------------- */

/* What `apply` accepts on a map, per field type: the op and its arguments. */
typedef struct field_op {
  crdt_field_type field; /* 0: every field type */
  const char *name;
  crdt_op kind;
  int min_args, max_args; /* after OP */
  const char *args;       /* for messages */
} field_op;

static const field_op field_ops[] = {
    {CRDT_FIELD_COUNTER, "inc", CRDT_OP_INC, 0, 1, "inc [N]"},
    {CRDT_FIELD_COUNTER, "dec", CRDT_OP_DEC, 0, 1, "dec [N]"},
    {CRDT_FIELD_ORSET, "add", CRDT_OP_ADD, 1, 1, "add ELEM"},
    {CRDT_FIELD_ORSET, "rm", CRDT_OP_REMOVE, 1, 1, "rm ELEM"},
    {CRDT_FIELD_MVREG, "set", CRDT_OP_SET, 1, 1, "set VALUE"},
    {CRDT_FIELD_LWWREG, "set", CRDT_OP_SET, 1, 1, "set VALUE --time T"},
    {CRDT_FIELD_FLAG, "enable", CRDT_OP_ENABLE, 0, 0, "enable"},
    {CRDT_FIELD_FLAG, "disable", CRDT_OP_DISABLE, 0, 0, "disable"},
    {0, "del", CRDT_OP_DELETE, 0, 0, "del"},
};
#define FIELD_OP_COUNT (sizeof field_ops / sizeof field_ops[0])

bool cli_map_op_known(const char *name) {
  for (size_t i = 0; i < FIELD_OP_COUNT; i++)
    if (strcmp(field_ops[i].name, name) == 0) return true;
  return false;
}

static bool op_fits(const field_op *op, crdt_field_type type) {
  return op->field == 0 || op->field == type;
}

static const field_op *find_field_op(crdt_field_type type, const char *name) {
  for (size_t i = 0; i < FIELD_OP_COUNT; i++)
    if (op_fits(&field_ops[i], type) && strcmp(field_ops[i].name, name) == 0)
      return &field_ops[i];
  return NULL;
}

static void print_field_ops(FILE *out, crdt_field_type type) {
  bool first = true;
  for (size_t i = 0; i < FIELD_OP_COUNT; i++) {
    if (!op_fits(&field_ops[i], type)) continue;
    fprintf(out, "%s%s", first ? "" : " | ", field_ops[i].args);
    first = false;
  }
}

static int field_usage(const field_op *op, const char *fmt, ...)
    CLI_PRINTF(2, 3);
static int field_usage(const field_op *op, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("crdt: apply: ", stderr);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr,
          "\nusage: crdt apply FILE --replica R --field NAME:TYPE... %s\n",
          op->args);
  return CLI_USAGE;
}

/* "crdt: FILE: PATH: OP "ARG": reason; nothing written" on stderr. */
static void field_error(const char *file, const field_path *p,
                        const field_op *op, const char *arg,
                        const char *reason) {
  fprintf(stderr, "crdt: %s: ", file);
  print_path(stderr, p);
  fprintf(stderr, ": %s", op->name);
  if (arg) {
    fputc(' ', stderr);
    cli_json_string(stderr, arg, strlen(arg));
  }
  fprintf(stderr, ": %s; nothing written\n", reason);
}

/* The checks of the op's arguments, then the update. */
static int run_field_op(const char *file, crdt_object *obj, const field_path *p,
                        const char *name, int nargs, const char *const *args,
                        const char *time, const char *context) {
  crdt_field_type type = p->types[p->depth - 1];
  const field_op *op = find_field_op(type, name);
  if (!op) {
    fprintf(stderr, "crdt: %s: ", file);
    print_path(stderr, p);
    fprintf(stderr, ": op '%s' is not valid for %s field (ops: ", name,
            field_phrase(type));
    print_field_ops(stderr, type);
    fputs(")\n", stderr);
    return CLI_FAIL;
  }
  if (nargs < op->min_args)
    return field_usage(op, "%s: missing argument", name);
  if (nargs > op->max_args)
    return field_usage(op, "%s: too many arguments", name);
  crdt_update u = {0};
  u.op = op->kind;
  u.path = (crdt_path){p->names, p->depth};
  u.field = type;
  const char *arg = op->min_args > 0 ? args[0] : NULL;
  if (arg) u.arg = (crdt_bytes){arg, strlen(arg)};
  const char *count = nargs > op->min_args ? args[op->min_args] : NULL;
  if (count && (!cli_parse_u64(count, &u.n) || u.n == 0))
    return field_usage(op, "N must be a positive integer, not '%s'", count);
  if (context)
    return field_usage(op, "--context is for mvreg files (a map's mvreg "
                           "fields take no read context)");
  bool takes_time = type == CRDT_FIELD_LWWREG && op->kind == CRDT_OP_SET;
  if (time && !takes_time)
    return field_usage(op, "--time is for lwwreg set only");
  if (takes_time && !time) return field_usage(op, "lwwreg set needs --time T");
  if (time && !cli_parse_u64(time, &u.time))
    return field_usage(op, "T must be an unsigned integer, not '%s'", time);

  int rc = crdt_object_update(obj, &u, NULL);
  if (rc == CRDT_ENOENT) {
    field_error(file, p, op, arg, "not there");
    return CLI_FAIL;
  }
  if (rc == CRDT_ERANGE) {
    field_error(file, p, op, arg, "out of range: the count would overflow");
    return CLI_FAIL;
  }
  if (rc != 0) {
    field_error(file, p, op, arg, crdt_strerror(rc));
    return CLI_FAIL;
  }
  return CLI_OK;
}

int cli_map_apply(const char *file, crdt_object *obj,
                  const cli_field_args *fields, const char *op, int nargs,
                  const char *const *args, const char *time,
                  const char *context) {
  crdt_type type = crdt_object_type(obj);
  if (type != CRDT_TYPE_MAP)
    return cli_usage_error("apply", "--field is for map files; %s holds %s",
                           file, cli_type_phrase(type));
  if (fields->count == 0)
    return cli_usage_error("apply",
                           "%s holds a map: name the field with --field "
                           "NAME:TYPE (once per level of nesting)",
                           file);
  field_path p = {0};
  int status = parse_path(fields, &p);
  if (status == CLI_OK)
    status = run_field_op(file, obj, &p, op, nargs, args, time, context);
  path_free(&p);
  return status;
}

/* ---- show: the value as a tree ------------------------------------------ */

/* The walk of show: the path of the map being printed, and how far it is
 * indented. */
typedef struct tree {
  const crdt_map *map;
  crdt_bytes names[CRDT_MAP_DEPTH_MAX];
  size_t depth;
  int indent;
  bool first; /* nothing printed yet: the first field shares the label's
                 line */
} tree;

static int print_item(crdt_bytes item, void *user) {
  bool *first = user;
  fputs(*first ? "" : ", ", stdout);
  *first = false;
  cli_json_string(stdout, item.data, item.size);
  return 0;
}

static int print_field(crdt_bytes name, crdt_field_type type, void *user) {
  tree *t = user;
  if (t->depth >= CRDT_MAP_DEPTH_MAX) return CRDT_ETOOMANY; /* cannot be */
  if (!t->first) printf("\n%*s", t->indent + 2 * (int)t->depth, "");
  t->first = false;
  cli_json_string(stdout, name.data, name.size);
  printf(" (%s):", crdt_field_type_name(type));
  t->names[t->depth] = name;
  crdt_path here = {t->names, t->depth + 1};
  int rc = 0;
  switch (type) {
  case CRDT_FIELD_COUNTER: {
    int64_t v = 0;
    rc = crdt_map_counter_value(t->map, here, &v);
    if (rc == CRDT_ERANGE) rc = 0; /* clamped, as the JSON value is */
    printf(" %lld", (long long)v);
    break;
  }
  case CRDT_FIELD_ORSET:
  case CRDT_FIELD_MVREG: {
    bool first = true;
    fputs(" [", stdout);
    rc = crdt_map_items(t->map, here, type, print_item, &first);
    putchar(']');
    break;
  }
  case CRDT_FIELD_LWWREG: {
    crdt_bytes value;
    uint64_t time;
    rc = crdt_map_lwwreg_get(t->map, here, &value, &time);
    if (rc == 0) {
      putchar(' ');
      cli_json_string(stdout, value.data, value.size);
      printf(" (timestamp %llu)", (unsigned long long)time);
    }
    break;
  }
  case CRDT_FIELD_FLAG:
    fputs(" true", stdout); /* a flag field is there while enabled */
    break;
  case CRDT_FIELD_MAP:
    t->depth++;
    rc = crdt_map_fields(t->map, here, print_field, t);
    t->depth--;
    break;
  }
  return rc;
}

int cli_map_print_value(crdt_object *obj, int indent) {
  tree t = {.map = crdt_object_map(obj), .indent = indent, .first = true};
  int rc = crdt_map_fields(t.map, (crdt_path){NULL, 0}, print_field, &t);
  if (t.first) fputs("no fields", stdout);
  putchar('\n');
  return rc;
}

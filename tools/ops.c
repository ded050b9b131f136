/*
 * The commands that create, update, merge and compare state files: new,
 * apply, merge, context, compare.
 *
 * A state file carries no owner. `apply --replica R` decodes it as R's state
 * (crdt_decode with owner R), so the update is stamped with R's next dot;
 * two writers using the same R at once would stamp two different updates
 * with the same dot, which replicas then take for one. Every command that
 * writes decodes everything first and writes once, atomically, at the end:
 * an error leaves the file byte for byte as it was. It holds the file's
 * lock (lock.c) from before the read until after the write, so commands run
 * at the same time on one file all take effect, one after the other.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* ---- argument parsing ---------------------------------------------------- */

bool cli_parse_u64(const char *s, uint64_t *out) {
  if (!*s) return false;
  uint64_t v = 0;
  for (; *s; s++) {
    if (*s < '0' || *s > '9') return false;
    unsigned d = (unsigned)(*s - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

/* Options of `apply`, in either form --name VALUE or --name=VALUE. */
typedef struct apply_args {
  const char *replica, *context, *time;
  const char *positional[8]; /* FILE, OP, up to two ARGs, and a few extra */
  int count;                 /* positionals given (may exceed the array) */
  cli_field_args fields;     /* a map field's path (map.c) */
} apply_args;

static int parse_apply_args(int argc, char **argv, apply_args *a) {
  static const char *const names[] = {"replica", "context", "time"};
  memset(a, 0, sizeof *a);
  bool options_done = false;
  for (int i = 0; i < argc; i++) {
    const char *arg = argv[i];
    if (!options_done && strcmp(arg, "--") == 0) {
      options_done = true;
      continue;
    }
    if (options_done || arg[0] != '-' || arg[1] == '\0') {
      if (a->count < (int)(sizeof a->positional / sizeof a->positional[0]))
        a->positional[a->count] = arg;
      a->count++;
      continue;
    }
    /* --field and --field-hex repeat, in path order (map.c). */
    int took = cli_field_option(argc, argv, i, &a->fields);
    if (took < 0) return CLI_USAGE;
    if (took > 0) {
      i += took - 1;
      continue;
    }
    const char **slot = NULL;
    const char *value = NULL;
    for (size_t k = 0; k < 3; k++) {
      size_t n = strlen(names[k]);
      if (arg[0] == '-' && arg[1] == '-' &&
          strncmp(arg + 2, names[k], n) == 0 &&
          (arg[2 + n] == '\0' || arg[2 + n] == '=')) {
        slot = k == 0 ? &a->replica : k == 1 ? &a->context : &a->time;
        value = arg[2 + n] == '=' ? arg + 3 + n : NULL;
        break;
      }
    }
    if (!slot)
      return cli_usage_error("apply",
                             "unknown option '%s' (put -- before a value "
                             "that starts with '-')",
                             arg);
    if (!value) {
      if (i + 1 >= argc)
        return cli_usage_error("apply", "option %s needs a value", arg);
      value = argv[++i];
    }
    if (*slot)
      return cli_usage_error("apply", "option --%s given twice",
                             slot == &a->replica   ? "replica"
                             : slot == &a->context ? "context"
                                                   : "time");
    *slot = value;
  }
  return CLI_OK;
}

/* ---- new ----------------------------------------------------------------- */

static const char type_list[] =
    "gcounter pncounter orset mvreg cart lwwreg flag map";

int cli_cmd_new(int argc, char **argv) {
  if (argc != 2)
    return cli_usage_error("new", "%s",
                           argc == 0   ? "missing TYPE and FILE"
                           : argc == 1 ? "missing FILE"
                                       : "too many arguments");
  crdt_type type;
  if (crdt_type_from_name(argv[0], &type) != 0) {
    cli_error("unknown type '%s' (types: %s)", argv[0], type_list);
    return CLI_FAIL;
  }
  crdt_object *obj;
  int rc = crdt_object_new(type, NULL, &obj);
  if (rc != 0) {
    cli_error("new: %s", crdt_strerror(rc));
    return CLI_FAIL;
  }
  int status = cli_save(argv[1], obj, CLI_CREATE);
  crdt_object_free(obj);
  return status;
}

/* ---- apply --------------------------------------------------------------- */

/* What `apply` accepts: per type, each op and its arguments. */
typedef struct op_spec {
  crdt_type type;
  const char *name;
  crdt_op kind;
  int min_args, max_args; /* after OP */
  const char *args;       /* for messages */
} op_spec;

static const op_spec ops[] = {
    {CRDT_TYPE_GCOUNTER, "inc", CRDT_OP_INC, 0, 1, "inc [N]"},
    {CRDT_TYPE_PNCOUNTER, "inc", CRDT_OP_INC, 0, 1, "inc [N]"},
    {CRDT_TYPE_PNCOUNTER, "dec", CRDT_OP_DEC, 0, 1, "dec [N]"},
    {CRDT_TYPE_ORSET, "add", CRDT_OP_ADD, 1, 1, "add ELEM"},
    {CRDT_TYPE_ORSET, "rm", CRDT_OP_REMOVE, 1, 1, "rm ELEM"},
    {CRDT_TYPE_MVREG, "set", CRDT_OP_SET, 1, 1, "set VALUE [--context TOKEN]"},
    {CRDT_TYPE_CART, "add", CRDT_OP_ADD, 1, 2, "add ITEM [N]"},
    {CRDT_TYPE_CART, "dec", CRDT_OP_DEC, 1, 2, "dec ITEM [N]"},
    {CRDT_TYPE_CART, "rm", CRDT_OP_REMOVE, 1, 1, "rm ITEM"},
    {CRDT_TYPE_LWWREG, "set", CRDT_OP_SET, 1, 1, "set VALUE --time T"},
    {CRDT_TYPE_FLAG, "enable", CRDT_OP_ENABLE, 0, 0, "enable"},
    {CRDT_TYPE_FLAG, "disable", CRDT_OP_DISABLE, 0, 0, "disable"},
};
#define OP_COUNT (sizeof ops / sizeof ops[0])

static bool op_name_known(const char *name) {
  for (size_t i = 0; i < OP_COUNT; i++)
    if (strcmp(ops[i].name, name) == 0) return true;
  return false;
}

static const op_spec *find_op(crdt_type type, const char *name) {
  for (size_t i = 0; i < OP_COUNT; i++)
    if (ops[i].type == type && strcmp(ops[i].name, name) == 0) return &ops[i];
  return NULL;
}

/* "add ELEM | rm ELEM" for the type. */
static void print_ops_of(FILE *out, crdt_type type) {
  bool first = true;
  for (size_t i = 0; i < OP_COUNT; i++) {
    if (ops[i].type != type) continue;
    fprintf(out, "%s%s", first ? "" : " | ", ops[i].args);
    first = false;
  }
}

static int apply_usage(const op_spec *op, const char *fmt, ...)
    CLI_PRINTF(2, 3);
static int apply_usage(const op_spec *op, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("crdt: apply: ", stderr);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\nusage: crdt apply FILE --replica R %s\n", op->args);
  return CLI_USAGE;
}

/* Prints "crdt: FILE: OP "ARG": reason" (or "crdt: FILE: OP: reason"), ARG
 * quoted as JSON so odd bytes stay visible. */
static void op_error(const char *path, const char *op, const char *arg,
                     const char *reason) {
  fprintf(stderr, "crdt: %s: %s", path, op);
  if (arg) {
    fputc(' ', stderr);
    cli_json_string(stderr, arg, strlen(arg));
  }
  fprintf(stderr, ": %s\n", reason);
}

/* The read context of `set VALUE --context TOKEN`: hex of a context token
 * (crdt_context_encode), as `crdt context` prints it. */
static int decode_token(const char *token, crdt_context **out) {
  unsigned char *blob;
  size_t len;
  int rc = cli_hex_decode(token, &blob, &len);
  if (rc == -1) {
    cli_error("invalid context token: not hex (use what `crdt context "
              "FILE` prints)");
    return CLI_FAIL;
  }
  if (rc != 0) {
    cli_error("context token: %s", crdt_strerror(rc));
    return CLI_FAIL;
  }
  rc = crdt_context_decode(blob, len, out);
  free(blob);
  if (rc != 0) {
    cli_error("invalid context token: %s", crdt_strerror(rc));
    return CLI_FAIL;
  }
  return CLI_OK;
}

/* Runs the update on `obj` (owned by the --replica). Returns CLI_OK when
 * the object changed and must be saved. */
static int run_op(const char *path, crdt_object *obj, const op_spec *op,
                  const char *arg, uint64_t n, uint64_t time,
                  const crdt_context *read_context) {
  crdt_update u = {0};
  u.op = op->kind;
  u.arg = (crdt_bytes){arg, arg ? strlen(arg) : 0};
  u.n = n;
  u.time = time;
  u.context = read_context;
  int rc = crdt_object_update(obj, &u, NULL);
  if (rc == CRDT_ENOENT) {
    op_error(path, op->name, arg,
             op->kind == CRDT_OP_DEC
                 ? "not in the cart (quantity 0 here; nothing written)"
             : op->type == CRDT_TYPE_CART ? "not in the cart (nothing written)"
             : op->type == CRDT_TYPE_FLAG
                 ? "the flag is not enabled here (nothing written)"
                 : "not in the set (nothing written)");
    return CLI_FAIL;
  }
  if (rc == CRDT_ESTALE) {
    crdt_lwwreg *reg = crdt_object_lwwreg(obj);
    uint64_t held = 0;
    (void)crdt_lwwreg_get(reg, NULL, &held);
    const char *writer = crdt_lwwreg_writer(reg);
    fprintf(stderr,
            "crdt: %s: set at time %llu is stale: the register holds a "
            "write at time %llu by ",
            path, (unsigned long long)time, (unsigned long long)held);
    cli_json_string(stderr, writer ? writer : "", writer ? strlen(writer) : 0);
    fputs(", which wins (nothing written)\n", stderr);
    return CLI_FAIL;
  }
  if (rc == CRDT_ERANGE) {
    op_error(path, op->name, arg,
             "out of range: the count would overflow (nothing written)");
    return CLI_FAIL;
  }
  if (rc != 0) {
    char reason[160];
    snprintf(reason, sizeof reason, "%s (nothing written)", crdt_strerror(rc));
    op_error(path, op->name, arg, reason);
    return CLI_FAIL;
  }
  return CLI_OK;
}

int cli_cmd_apply(int argc, char **argv) {
  apply_args a;
  if (parse_apply_args(argc, argv, &a) != CLI_OK) return CLI_USAGE;
  if (a.count < 1) return cli_usage_error("apply", "missing FILE");
  if (a.count < 2) return cli_usage_error("apply", "missing OP");
  if (!a.replica) return cli_usage_error("apply", "missing --replica R");
  size_t rlen = strlen(a.replica);
  if (rlen == 0 || rlen > CRDT_REPLICA_MAX)
    return cli_usage_error("apply", "a replica id is 1 to %d bytes",
                           CRDT_REPLICA_MAX);
  const char *path = a.positional[0], *name = a.positional[1];
  if (!op_name_known(name) && !cli_map_op_known(name)) {
    cli_error("unknown op '%s' (ops: inc dec add rm set enable disable del; "
              "crdt help)",
              name);
    return CLI_FAIL;
  }

  int lock;
  if (cli_lock(path, &lock) != CLI_OK) return CLI_FAIL;
  crdt_object *obj;
  if (cli_load(path, a.replica, &obj) != CLI_OK) {
    cli_unlock(lock);
    return CLI_FAIL;
  }
  crdt_type type = crdt_object_type(obj);
  int status = CLI_FAIL;
  crdt_context *read_context = NULL;
  if (type == CRDT_TYPE_MAP || a.fields.count) {
    status = cli_map_apply(path, obj, &a.fields, name, a.count - 2,
                           a.positional + 2, a.time, a.context);
    if (status == CLI_OK) status = cli_save(path, obj, CLI_REPLACE);
    goto done;
  }
  const op_spec *op = find_op(type, name);
  if (!op) {
    fprintf(stderr, "crdt: %s: op '%s' is not valid for %s (ops: ", path, name,
            cli_type_phrase(type));
    print_ops_of(stderr, type);
    fputs(")\n", stderr);
    goto done;
  }

  int nargs = a.count - 2;
  if (nargs < op->min_args) {
    status = apply_usage(op, "%s: missing argument", name);
    goto done;
  }
  if (nargs > op->max_args) {
    status = apply_usage(op, "%s: too many arguments", name);
    goto done;
  }
  const char *arg = op->min_args > 0 ? a.positional[2] : NULL;
  const char *count =
      nargs > op->min_args ? a.positional[2 + op->min_args] : NULL;
  uint64_t n = 1, time = 0;
  if (count && (!cli_parse_u64(count, &n) || n == 0)) {
    status = apply_usage(op, "N must be a positive integer, not '%s'", count);
    goto done;
  }
  bool takes_context = type == CRDT_TYPE_MVREG;
  bool takes_time = type == CRDT_TYPE_LWWREG;
  if (a.context && !takes_context) {
    status = apply_usage(op, "--context is for mvreg set only");
    goto done;
  }
  if (a.time && !takes_time) {
    status = apply_usage(op, "--time is for lwwreg set only");
    goto done;
  }
  if (takes_time) {
    if (!a.time) {
      status = apply_usage(op, "lwwreg set needs --time T");
      goto done;
    }
    if (!cli_parse_u64(a.time, &time)) {
      status =
          apply_usage(op, "T must be an unsigned integer, not '%s'", a.time);
      goto done;
    }
  }
  if (a.context && decode_token(a.context, &read_context) != CLI_OK) goto done;

  status = run_op(path, obj, op, arg, n, time, read_context);
  if (status == CLI_OK) status = cli_save(path, obj, CLI_REPLACE);
done:
  crdt_context_free(read_context);
  crdt_object_free(obj);
  cli_unlock(lock);
  return status;
}

/* ---- merge --------------------------------------------------------------- */

int cli_cmd_merge(int argc, char **argv) {
  if (argc < 2)
    return cli_usage_error("merge", argc == 0 ? "missing FILE and OTHER"
                                              : "missing OTHER");
  const char *path = argv[0];
  int lock;
  if (cli_lock(path, &lock) != CLI_OK) return CLI_FAIL;
  crdt_object *state;
  if (cli_load(path, NULL, &state) != CLI_OK) {
    cli_unlock(lock);
    return CLI_FAIL;
  }
  int status = CLI_OK;
  for (int i = 1; i < argc && status == CLI_OK; i++) {
    crdt_object *other;
    if (cli_load(argv[i], NULL, &other) != CLI_OK) {
      status = CLI_FAIL;
      break;
    }
    int rc = crdt_object_merge(state, other);
    if (rc == CRDT_ETYPE) {
      cli_error("cannot merge %s (%s) into %s (%s): different types; "
                "nothing written",
                argv[i], cli_type_phrase(crdt_object_type(other)), path,
                cli_type_phrase(crdt_object_type(state)));
      status = CLI_FAIL;
    } else if (rc != 0) {
      cli_error("cannot merge %s into %s: %s; nothing written", argv[i], path,
                crdt_strerror(rc));
      status = CLI_FAIL;
    }
    crdt_object_free(other);
  }
  if (status == CLI_OK) status = cli_save(path, state, CLI_REPLACE);
  crdt_object_free(state);
  cli_unlock(lock);
  return status;
}

/* ---- context ------------------------------------------------------------- */

int cli_cmd_context(int argc, char **argv) {
  if (argc != 1)
    return cli_usage_error("context",
                           argc ? "too many arguments" : "missing FILE");
  crdt_object *obj;
  if (cli_load(argv[0], NULL, &obj) != CLI_OK) return CLI_FAIL;
  int status = CLI_FAIL;
  crdt_context *ctx = NULL;
  unsigned char *blob = NULL;
  char *hex = NULL;
  crdt_mvreg *reg = crdt_object_mvreg(obj);
  if (!reg) {
    cli_error("%s: holds %s; read context tokens are for mvreg files", argv[0],
              cli_type_phrase(crdt_object_type(obj)));
    goto done;
  }
  int rc = crdt_mvreg_context(reg, &ctx);
  size_t size = 0;
  if (rc == 0) rc = crdt_context_encode(ctx, NULL, 0, &size);
  if (rc == CRDT_ENOSPC) {
    blob = malloc(size ? size : 1);
    rc = blob ? crdt_context_encode(ctx, blob, size, &size) : CRDT_ENOMEM;
  }
  if (rc == 0 && !(hex = cli_hex_encode(blob, size))) rc = CRDT_ENOMEM;
  if (rc != 0) {
    cli_error("%s: cannot make the context token: %s", argv[0],
              crdt_strerror(rc));
    goto done;
  }
  printf("%s\n", hex);
  status = CLI_OK;
done:
  free(hex);
  free(blob);
  crdt_context_free(ctx);
  crdt_object_free(obj);
  return status;
}

/* ---- compare ------------------------------------------------------------- */

int cli_cmd_compare(int argc, char **argv) {
  if (argc != 2)
    return cli_usage_error("compare", argc < 2 ? "needs FILE and OTHER"
                                               : "too many arguments");
  crdt_object *a, *b = NULL;
  if (cli_load(argv[0], NULL, &a) != CLI_OK) return CLI_FAIL;
  int status = CLI_FAIL;
  if (cli_load(argv[1], NULL, &b) != CLI_OK) goto done;
  crdt_order order;
  int rc = crdt_object_compare(a, b, &order);
  if (rc == CRDT_ETYPE) {
    cli_error("cannot compare %s (%s) with %s (%s): different types", argv[0],
              cli_type_phrase(crdt_object_type(a)), argv[1],
              cli_type_phrase(crdt_object_type(b)));
  } else if (rc == CRDT_ENOTSUP) {
    cli_error("cannot compare %s and %s: an lwwreg keeps no causal history",
              argv[0], argv[1]);
  } else if (rc != 0) {
    cli_error("cannot compare %s and %s: %s", argv[0], argv[1],
              crdt_strerror(rc));
  } else {
    printf("%s\n", crdt_order_name(order));
    status = CLI_OK;
  }
done:
  crdt_object_free(a);
  crdt_object_free(b);
  return status;
}

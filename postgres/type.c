/*
 * The `crdt` type: text I/O as hex, binary I/O as the blob, the bytea cast,
 * equality and hashing by bytes, and the functions that read, compare or
 * merge states. Nothing here knows one CRDT type from another: it all goes
 * through the library's crdt_object layer.
 */
#include "crdt_pg.h"

#include "common/hashfn.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

/* The byte-string arguments are detoasted copies only when stored
 * compressed or out of line; short inline values are read in place. */
#define ARG_CRDT(n) PG_GETARG_VARLENA_PP(n)

/* ---- text and binary I/O ------------------------------------------------------- */

static int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Text input: the blob in hex (either case, nothing else), validated. */
PG_FUNCTION_INFO_V1(crdt_pg_in);
Datum crdt_pg_in(PG_FUNCTION_ARGS) {
  const char *text = PG_GETARG_CSTRING(0);
  size_t len = strlen(text);
  if (len == 0 || len % 2 != 0)
    ereport(ERROR,
            (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
             errmsg("crdt: invalid input: %s", len ? "odd number of hex digits"
                                                   : "empty string"),
             errhint("A crdt value is written as the hex digits of its blob.")));
  struct varlena *out = palloc(VARHDRSZ + len / 2);
  char *bytes = VARDATA(out);
  for (size_t i = 0; i < len; i += 2) {
    int hi = hex_digit(text[i]), lo = hex_digit(text[i + 1]);
    if (hi < 0 || lo < 0)
      ereport(ERROR, (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
                      errmsg("crdt: invalid input: not a hex digit at "
                             "position %zu",
                             i + 1 + (hi >= 0)),
                      errhint("A crdt value is written as the hex digits of "
                              "its blob.")));
    bytes[i / 2] = (char)(hi << 4 | lo);
  }
  SET_VARSIZE(out, VARHDRSZ + len / 2);
  crdt_pg_memory(CurrentMemoryContext);
  crdt_pg_validate(bytes, len / 2, "reading a crdt value from text");
  PG_RETURN_POINTER(out);
}

PG_FUNCTION_INFO_V1(crdt_pg_out);
Datum crdt_pg_out(PG_FUNCTION_ARGS) {
  struct varlena *v = ARG_CRDT(0);
  size_t len = crdt_pg_size(v);
  char *text = palloc(2 * len + 1);
  hex_encode(crdt_pg_bytes(v), len, text);
  text[2 * len] = '\0';
  PG_RETURN_CSTRING(text);
}

/* Binary input (COPY BINARY, logical replication with binary = true): the
 * blob itself, validated like text input. */
PG_FUNCTION_INFO_V1(crdt_pg_recv);
Datum crdt_pg_recv(PG_FUNCTION_ARGS) {
  StringInfo buf = (StringInfo)PG_GETARG_POINTER(0);
  int len = buf->len - buf->cursor;
  struct varlena *out = palloc(VARHDRSZ + len);
  SET_VARSIZE(out, VARHDRSZ + len);
  pq_copymsgbytes(buf, VARDATA(out), len);
  crdt_pg_memory(CurrentMemoryContext);
  crdt_pg_validate(VARDATA(out), (size_t)len,
                   "reading a crdt value in binary format");
  PG_RETURN_POINTER(out);
}

PG_FUNCTION_INFO_V1(crdt_pg_send);
Datum crdt_pg_send(PG_FUNCTION_ARGS) {
  struct varlena *v = ARG_CRDT(0);
  StringInfoData buf;
  pq_begintypsend(&buf);
  pq_sendbytes(&buf, crdt_pg_bytes(v), (int)crdt_pg_size(v));
  PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* bytea -> crdt: validated. (crdt -> bytea needs no function.) */
PG_FUNCTION_INFO_V1(crdt_pg_from_bytea);
Datum crdt_pg_from_bytea(PG_FUNCTION_ARGS) {
  struct varlena *v = PG_GETARG_BYTEA_PP(0);
  crdt_pg_memory(CurrentMemoryContext);
  crdt_pg_validate(crdt_pg_bytes(v), crdt_pg_size(v),
                   "converting bytea to crdt");
  /* Same layout; a short-header datum is returned as it came. */
  PG_RETURN_POINTER(v);
}

/* ---- equality and hashing: by bytes (encodings are canonical) ------------- */

static bool same_bytes(const struct varlena *a, const struct varlena *b) {
  size_t n = crdt_pg_size(a);
  return n == crdt_pg_size(b) &&
         memcmp(crdt_pg_bytes(a), crdt_pg_bytes(b), n) == 0;
}

PG_FUNCTION_INFO_V1(crdt_pg_eq);
Datum crdt_pg_eq(PG_FUNCTION_ARGS) {
  PG_RETURN_BOOL(same_bytes(ARG_CRDT(0), ARG_CRDT(1)));
}

PG_FUNCTION_INFO_V1(crdt_pg_ne);
Datum crdt_pg_ne(PG_FUNCTION_ARGS) {
  PG_RETURN_BOOL(!same_bytes(ARG_CRDT(0), ARG_CRDT(1)));
}

PG_FUNCTION_INFO_V1(crdt_pg_hash);
Datum crdt_pg_hash(PG_FUNCTION_ARGS) {
  struct varlena *v = ARG_CRDT(0);
  return hash_any((const unsigned char *)crdt_pg_bytes(v),
                  (int)crdt_pg_size(v));
}

PG_FUNCTION_INFO_V1(crdt_pg_hash_extended);
Datum crdt_pg_hash_extended(PG_FUNCTION_ARGS) {
  struct varlena *v = ARG_CRDT(0);
  return hash_any_extended((const unsigned char *)crdt_pg_bytes(v),
                           (int)crdt_pg_size(v), PG_GETARG_INT64(1));
}

/* ---- reading states ---------------------------------------------------------- */

/* crdt_new(type text): the empty state of a type, by name. */
PG_FUNCTION_INFO_V1(crdt_pg_new);
Datum crdt_pg_new(PG_FUNCTION_ARGS) {
  crdt_type type = crdt_pg_type_named(text_to_cstring(PG_GETARG_TEXT_PP(0)));
  crdt_pg_memory(CurrentMemoryContext);
  crdt_object *obj;
  int rc = crdt_object_new(type, NULL, &obj);
  if (rc) crdt_pg_error(rc, "creating a state");
  struct varlena *out = crdt_pg_encode(obj, 64);
  crdt_object_free(obj);
  PG_RETURN_POINTER(out);
}

/* crdt_type(crdt): from the blob's header alone (the value was validated
 * when it entered the database). */
PG_FUNCTION_INFO_V1(crdt_pg_type);
Datum crdt_pg_type(PG_FUNCTION_ARGS) {
  struct varlena *v = ARG_CRDT(0);
  crdt_blob_info info;
  int rc = crdt_peek(crdt_pg_bytes(v), crdt_pg_size(v), &info);
  const char *name = rc ? NULL : crdt_type_name(info.type);
  if (!name) crdt_pg_error(rc ? rc : CRDT_EBADTYPE, "reading a crdt value");
  PG_RETURN_TEXT_P(cstring_to_text(name));
}

typedef int (*json_writer)(const void *source, char *buf, size_t cap,
                           size_t *needed);

/* Runs a library formatter with the buffer contract of crdt_vv_format()
 * (ask for the size, then format) and parses the result as jsonb. */
static Datum json_of(json_writer write, const void *source, const char *doing) {
  size_t needed = 0;
  int rc = write(source, NULL, 0, &needed);
  char *buf = NULL;
  if (rc == CRDT_ENOSPC) {
    if (needed >= MaxAllocSize) rc = CRDT_ENOSPC;
    else {
      buf = palloc(needed + 1);
      rc = write(source, buf, needed + 1, &needed);
    }
  }
  if (rc) crdt_pg_error(rc, doing);
  Datum out = DirectFunctionCall1(jsonb_in, CStringGetDatum(buf));
  pfree(buf);
  return out;
}

static int write_value(const void *obj, char *buf, size_t cap, size_t *needed) {
  return crdt_object_value_json(obj, buf, cap, needed);
}

static int write_context(const void *ctx, char *buf, size_t cap,
                         size_t *needed) {
  return crdt_context_format_json(ctx, buf, cap, needed);
}

/* crdt_value(crdt) -> jsonb: the library's JSON of the value. */
PG_FUNCTION_INFO_V1(crdt_pg_value);
Datum crdt_pg_value(PG_FUNCTION_ARGS) {
  crdt_pg_memory(CurrentMemoryContext);
  crdt_object *obj = crdt_pg_decode(ARG_CRDT(0), NULL, "reading a crdt value");
  Datum out = json_of(write_value, obj, "printing a value");
  crdt_object_free(obj);
  PG_RETURN_DATUM(out);
}

/* crdt_context(crdt) -> jsonb: {"vv": {...}[, "cloud": [...]]}. */
PG_FUNCTION_INFO_V1(crdt_pg_context);
Datum crdt_pg_context(PG_FUNCTION_ARGS) {
  crdt_pg_memory(CurrentMemoryContext);
  crdt_object *obj = crdt_pg_decode(ARG_CRDT(0), NULL, "reading a crdt value");
  crdt_context *ctx;
  int rc = crdt_object_context(obj, &ctx);
  crdt_object_free(obj);
  if (rc) crdt_pg_error(rc, "reading a causal context");
  Datum out = json_of(write_context, ctx, "printing a causal context");
  crdt_context_free(ctx);
  PG_RETURN_DATUM(out);
}

/* ---- two states --------------------------------------------------------------- */

/* crdt_merge(a, b) and a || b: the join. */
PG_FUNCTION_INFO_V1(crdt_pg_merge);
Datum crdt_pg_merge(PG_FUNCTION_ARGS) {
  struct varlena *a = ARG_CRDT(0), *b = ARG_CRDT(1);
  if (same_bytes(a, b)) PG_RETURN_POINTER(a); /* idempotent */
  crdt_pg_memory(CurrentMemoryContext);
  crdt_object *x = crdt_pg_decode(a, NULL, "reading a crdt value");
  crdt_object *y = crdt_pg_decode(b, NULL, "reading a crdt value");
  int rc = crdt_object_merge(x, y);
  crdt_object_free(y);
  if (rc) {
    crdt_object_free(x);
    crdt_pg_error(rc, "merging two states");
  }
  struct varlena *out =
      crdt_pg_encode(x, crdt_pg_size(a) + crdt_pg_size(b) + 16);
  crdt_object_free(x);
  PG_RETURN_POINTER(out);
}

/* The causal order of two states of one type (crdt_object_compare). */
static crdt_order order_of(FunctionCallInfo fcinfo) {
  struct varlena *a = ARG_CRDT(0), *b = ARG_CRDT(1);
  crdt_pg_memory(CurrentMemoryContext);
  crdt_object *x = crdt_pg_decode(a, NULL, "reading a crdt value");
  crdt_object *y = crdt_pg_decode(b, NULL, "reading a crdt value");
  crdt_order order = CRDT_CONCURRENT;
  int rc = crdt_object_compare(x, y, &order);
  crdt_object_free(x);
  crdt_object_free(y);
  if (rc) crdt_pg_error(rc, "comparing two states");
  return order;
}

/* crdt_compare(a, b) -> 'equal' | 'before' | 'after' | 'concurrent'. */
PG_FUNCTION_INFO_V1(crdt_pg_compare);
Datum crdt_pg_compare(PG_FUNCTION_ARGS) {
  PG_RETURN_TEXT_P(cstring_to_text(crdt_order_name(order_of(fcinfo))));
}

/* a <@ b: everything a has seen, b has seen too (equal or before). */
PG_FUNCTION_INFO_V1(crdt_pg_seen_by);
Datum crdt_pg_seen_by(PG_FUNCTION_ARGS) {
  crdt_order o = order_of(fcinfo);
  PG_RETURN_BOOL(o == CRDT_EQUAL || o == CRDT_BEFORE);
}

/* a @> b: a has seen everything b has (equal or after). */
PG_FUNCTION_INFO_V1(crdt_pg_has_seen);
Datum crdt_pg_has_seen(PG_FUNCTION_ARGS) {
  crdt_order o = order_of(fcinfo);
  PG_RETURN_BOOL(o == CRDT_EQUAL || o == CRDT_AFTER);
}

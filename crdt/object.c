/*
 * The type-erased layer: dispatch through each type's table.
 */
#include <string.h>

#include "journal.h"
#include "type.h"

static const crdt__type *const types[] = {
    &crdt__gcounter_type, &crdt__pncounter_type, &crdt__orset_type,
    &crdt__mvreg_type,    &crdt__cart_type,      &crdt__lwwreg_type,
    &crdt__flag_type,
    &crdt__map_type,
};

const crdt__type *crdt__type_of(crdt_type tag) {
  for (size_t i = 0; i < sizeof types / sizeof *types; i++)
    if (types[i]->tag == tag) return types[i];
  return NULL;
}

const char *crdt_type_name(crdt_type type) {
  const crdt__type *t = crdt__type_of(type);
  return t ? t->name : NULL;
}

int crdt_type_from_name(const char *name, crdt_type *type) {
  if (!name || !type) return CRDT_EINVAL;
  for (size_t i = 0; i < sizeof types / sizeof *types; i++)
    if (strcmp(types[i]->name, name) == 0) {
      *type = types[i]->tag;
      return 0;
    }
  return CRDT_EBADTYPE;
}

int crdt_object_new(crdt_type type, const char *replica, crdt_object **out) {
  const crdt__type *t = crdt__type_of(type);
  if (!out) return CRDT_EINVAL;
  if (!t) return CRDT_EBADTYPE;
  return t->create(replica, out);
}

void crdt_object_free(crdt_object *obj) {
  if (!obj) return;
  crdt__journal_destroy(obj); /* sync sessions must be freed first */
  obj->type->destroy(obj);
}

crdt_type crdt_object_type(const crdt_object *obj) {
  return obj ? obj->type->tag : (crdt_type)0;
}

const char *crdt_object_replica(const crdt_object *obj) {
  return obj ? obj->type->replica(obj) : NULL;
}

int crdt_object_merge(crdt_object *dst, const crdt_object *src) {
  if (!dst || !src) return CRDT_EINVAL;
  if (dst->type != src->type) return CRDT_ETYPE;
  if (dst == src) return 0;
  int rc = dst->type->merge(dst, src);
  if (!rc && dst->journal) crdt__journal_merged(dst, src);
  return rc;
}

bool crdt_object_equal(const crdt_object *a, const crdt_object *b) {
  if (!a || !b || a->type != b->type) return false;
  return a == b || a->type->equal(a, b);
}

int crdt_object_copy(const crdt_object *src, crdt_object **out) {
  if (!src || !out) return CRDT_EINVAL;
  return src->type->copy(src, out);
}

int crdt_object_compare(const crdt_object *a, const crdt_object *b,
                        crdt_order *order) {
  if (!a || !b || !order) return CRDT_EINVAL;
  if (a->type != b->type) return CRDT_ETYPE;
  if (!a->type->compare) return CRDT_ENOTSUP;
  return a->type->compare(a, b, order);
}

static int format_with(const crdt_object *obj, char *buf, size_t cap,
                       size_t *needed,
                       int (*fmt)(const crdt_object *, crdt__text *)) {
  if (!obj || (!buf && cap)) return CRDT_EINVAL;
  if (!fmt) return CRDT_ENOTSUP;
  crdt__text t = {buf, cap, 0};
  int rc = fmt(obj, &t);
  if (rc) return rc;
  return crdt__text_finish(&t, needed);
}

int crdt_object_value_json(const crdt_object *obj, char *buf, size_t cap,
                           size_t *needed) {
  return format_with(obj, buf, cap, needed, obj ? obj->type->value_json : NULL);
}

int crdt_object_context_text(const crdt_object *obj, char *buf, size_t cap,
                             size_t *needed) {
  return format_with(obj, buf, cap, needed,
                     obj ? obj->type->context_text : NULL);
}

int crdt_object_context(const crdt_object *obj, crdt_context **out) {
  if (!obj || !out) return CRDT_EINVAL;
  if (!obj->type->context) return CRDT_ENOTSUP;
  return obj->type->context(obj, out);
}

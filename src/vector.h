/*
 * Internal access to the public causal context (crdt_context), whose struct
 * is private to vector.c: the MV-register reads a client's read context and
 * hands out copies of its own context as read tokens.
 */
#ifndef CRDT_SRC_VECTOR_H
#define CRDT_SRC_VECTOR_H

#include "crdt/context.h"
#include "ctx.h"
#include "replicas.h"

/* The context's kernel set of dots; replica indexes refer to
 * crdt__context_replicas(c). Borrowed: valid until c changes. */
const crdt__ctx *crdt__context_ctx(const crdt_context *c);

/* The context's replica table. Borrowed: valid until c changes. */
const crdt__replicas *crdt__context_replicas(const crdt_context *c);

/* A new public context holding a copy of `ctx`, whose indexes refer to `r`
 * (tables are copied index for index). Uses the default allocator.
 * @return 0 or CRDT_ENOMEM; *out is untouched on error. */
int crdt__context_from(const crdt__ctx *ctx, const crdt__replicas *r,
                       crdt_context **out);

#endif

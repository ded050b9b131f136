/*
 * libcrdt: conflict-free replicated data types on one kernel of dots and
 * version vectors. Include this header to get the whole public API.
 */
#ifndef CRDT_CRDT_H
#define CRDT_CRDT_H

#include "crdt/cart.h"
#include "crdt/codec.h"
#include "crdt/common.h"
#include "crdt/context.h"
#include "crdt/flag.h"
#include "crdt/gcounter.h"
#include "crdt/lwwreg.h"
#include "crdt/map.h"
#include "crdt/mvreg.h"
#include "crdt/object.h"
#include "crdt/orset.h"
#include "crdt/pncounter.h"
#include "crdt/sync.h"
#include "crdt/update.h"
#include "crdt/vv.h"

#endif /* CRDT_CRDT_H */

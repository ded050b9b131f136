/*
 * libcrdt: the map, an observed-remove map of CRDTs (records, documents).
 */
#ifndef CRDT_MAP_H
#define CRDT_MAP_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "crdt/common.h"
#include "crdt/object.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @file map.h
 * A record that replicas update independently: a set of *fields*, each a
 * CRDT, nested to any depth (a user profile with a name, tags, a visit
 * count and a map of settings).
 *
 * **Fields.** A field is identified by its name (bytes, any bytes) *and* its
 * value type: "tags" as an OR-set and "tags" as a counter are two fields, so
 * replicas that chose different types for one name never fail to merge.
 * Value types (crdt_field_type): a counter (PN, exact under reset, like the
 * cart's quantities: one dot per increment or decrement, carrying its
 * amount), an add-wins OR-set, an MV-register, an LWW-register, an
 * enable-wins flag, and a map (the same as the root, nested). A field is
 * addressed by a crdt_path: the names of the maps that lead to it, then its
 * own name; all but the last name are map fields.
 *
 * **One causal context.** The map and everything nested in it share one
 * causal context (the delta-state paper's DotMap composition): no field
 * keeps a clock, no removed field leaves a tombstone. A field is present
 * exactly while its value holds a live dot, so an update below a field
 * creates the field and the maps above it, and a nested removal that
 * empties a value (the last element of a set, a flag disabled) removes the
 * field, and the maps above it that it empties.
 *
 * **Remove resets.** crdt_map_remove() is an observed remove with reset: it
 * kills every dot below the field that this replica has seen, at any depth.
 * An update below the field concurrent with the remove survives, and only
 * its own effect does: a counter concurrently incremented by 2 and removed
 * reads 2 (never old + 2), a concurrently added set element shows alone, a
 * concurrently written register shows that value alone. In general, a
 * field's value is its type's value over the updates below the field that
 * no remove of the field or of an enclosing field has observed.
 *
 * **The rules of every type hold.** Every update creates a dot at the
 * acting replica (removals too), so comparing two maps' contexts is exact
 * for full states and for deltas delivered in causal order (sync sessions);
 * raw deltas joined out of causal order can leave a map's context ahead of
 * its state until the missing delta arrives, as for the OR-set
 * (docs/verification.md, "Known issue").
 * Removing what this replica does not see (an absent field, an absent set
 * element, a disabled flag) changes nothing, creates no dot, and returns
 * CRDT_ENOENT. Within a field:
 * - counter: inc(n), dec(n) (n >= 1); the value may go below zero;
 * - OR-set: add wins over a concurrent remove of the same element;
 * - MV-register: a write supersedes the values this replica sees;
 *   concurrent writes are kept as siblings;
 * - LWW-register: the value is the write with the highest (timestamp,
 *   replica id, value bytes) among those no remove has observed. A write
 *   drops the lower writes this replica sees; unlike crdt_lwwreg_write() it
 *   is never refused as stale: a lower write is kept, and shows if a
 *   remove later takes the higher ones away;
 * - flag: enable wins over a concurrent disable.
 *
 * **Order.** Fields are walked, printed and encoded in canonical order: by
 * name bytes (the shorter first on a common prefix), then by type
 * (crdt_field_type order); elements and values by bytes. Equal maps print
 * identically and encode to equal bytes on every replica.
 *
 * **Limits.** A path holds 1 .. CRDT_MAP_DEPTH_MAX names (maps nest at most
 * 32 deep); names are 0 .. UINT32_MAX - 1 bytes; elements and values 0 ..
 * UINT32_MAX bytes. The decoder rejects deeper nesting (CRDT_ETOOMANY).
 *
 * **Cost.** An update walks its path (one hash lookup per name) and costs
 * what the same update of the flat type costs; its delta (the path and the
 * dot) is joined into a delta map in time proportional to the path. A
 * remove costs the size of the removed field. Merging two maps is linear in
 * their sizes; joining a delta is linear in the delta. A map whose fields
 * are counters stores each field as the cart stores an item.
 *
 * **Deltas.** Every mutator takes an optional delta map (created with a
 * NULL replica) into which the update's delta is joined. Deltas join each
 * other and full states in any order, duplicated or not. A remove's delta
 * lists every key it empties, so joining it costs the size of what it
 * removes, not the size of the map.
 */

/** Opaque map. Not thread-safe; distinct maps are independent. */
typedef struct crdt_map crdt_map;

/** Value types of map fields. The numbers are part of the wire format. */
typedef enum crdt_field_type {
  CRDT_FIELD_COUNTER = 1, /**< "counter": PN-counter, exact under reset */
  CRDT_FIELD_ORSET = 2,   /**< "orset": add-wins set of byte strings */
  CRDT_FIELD_MVREG = 3,   /**< "mvreg": multi-value register */
  CRDT_FIELD_LWWREG = 4,  /**< "lwwreg": last-writer-wins register */
  CRDT_FIELD_FLAG = 5,    /**< "flag": enable-wins flag */
  CRDT_FIELD_MAP = 6      /**< "map": a nested map */
} crdt_field_type;

/** Deepest nesting: a path holds at most this many names. */
#define CRDT_MAP_DEPTH_MAX 32

/** A field's address: `depth` names, from a field of the root map down to
 * the field itself (all names but the last are map fields). Borrowed: the
 * library copies what it keeps. */
typedef struct crdt_path {
  const crdt_bytes *names; /**< names[0 .. depth) */
  size_t depth;            /**< 1 .. CRDT_MAP_DEPTH_MAX */
} crdt_path;

/** A crdt_bytes view of a C string (its bytes up to the NUL). */
#define CRDT_STR(s) ((crdt_bytes){(s), strlen(s)})

/** A crdt_path of 1 to 8 C-string names, e.g.
 * `CRDT_PATH("user", "visits")`; its storage lives until the end of the
 * enclosing block. Names with NUL bytes need crdt_bytes built by hand. */
#define CRDT_PATH(...)                                                         \
  ((crdt_path){(const crdt_bytes[]){CRDT__MAP_NAMES(__VA_ARGS__)},            \
               CRDT__NARGS(__VA_ARGS__)})

/** @cond INTERNAL */
#define CRDT__NARGS(...) CRDT__NARGS_(__VA_ARGS__, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define CRDT__NARGS_(a, b, c, d, e, f, g, h, n, ...) n
#define CRDT__MAP_NAMES(...)                                                   \
  CRDT__MAP_N(CRDT__NARGS(__VA_ARGS__), __VA_ARGS__)
#define CRDT__MAP_N(n, ...) CRDT__MAP_N_(n, __VA_ARGS__)
#define CRDT__MAP_N_(n, ...) CRDT__MAP_##n(__VA_ARGS__)
#define CRDT__MAP_1(a) CRDT_STR(a)
#define CRDT__MAP_2(a, ...) CRDT_STR(a), CRDT__MAP_1(__VA_ARGS__)
#define CRDT__MAP_3(a, ...) CRDT_STR(a), CRDT__MAP_2(__VA_ARGS__)
#define CRDT__MAP_4(a, ...) CRDT_STR(a), CRDT__MAP_3(__VA_ARGS__)
#define CRDT__MAP_5(a, ...) CRDT_STR(a), CRDT__MAP_4(__VA_ARGS__)
#define CRDT__MAP_6(a, ...) CRDT_STR(a), CRDT__MAP_5(__VA_ARGS__)
#define CRDT__MAP_7(a, ...) CRDT_STR(a), CRDT__MAP_6(__VA_ARGS__)
#define CRDT__MAP_8(a, ...) CRDT_STR(a), CRDT__MAP_7(__VA_ARGS__)
/** @endcond */

/** The type's name ("counter", "orset", "mvreg", "lwwreg", "flag", "map");
 * NULL for other values. Static storage. */
CRDT_API const char *crdt_field_type_name(crdt_field_type type);

/** Looks a field type up by name.
 * @return 0 and *type, CRDT_EBADTYPE for an unknown name, CRDT_EINVAL for
 *   NULL arguments. */
CRDT_API int crdt_field_type_from_name(const char *name,
                                       crdt_field_type *type);

/** Creates an empty map.
 * @param replica the id this replica stamps its updates with (1..64 bytes),
 *   or NULL for a map that only collects deltas or receives states.
 * @param[out] out receives the map; free it with crdt_map_free().
 * @return 0, CRDT_EINVAL (bad id, out NULL) or CRDT_ENOMEM. */
CRDT_API int crdt_map_new(const char *replica, crdt_map **out);

/** Frees a map and everything in it; NULL does nothing. */
CRDT_API void crdt_map_free(crdt_map *map);

/** dst := dst ⊔ src. See crdt_object_merge() (CRDT_EINVAL, CRDT_ENOMEM,
 * CRDT_ETOOMANY; on error dst is unchanged). Linear in the sizes of both,
 * or in src's size when src is a delta. */
CRDT_API int crdt_map_merge(crdt_map *dst, const crdt_map *src);

/** Equal states (same context, same fields with the same dots). */
CRDT_API bool crdt_map_equal(const crdt_map *a, const crdt_map *b);

/** Deep copy (same owner). @return 0, CRDT_EINVAL or CRDT_ENOMEM. */
CRDT_API int crdt_map_copy(const crdt_map *src, crdt_map **out);

/** Compares the causal histories (see crdt_object_compare()).
 * @return 0 or CRDT_EINVAL. */
CRDT_API int crdt_map_compare(const crdt_map *a, const crdt_map *b,
                              crdt_order *order);

/** The map as a crdt_object (same pointer; owned by the map). */
CRDT_API crdt_object *crdt_map_object(crdt_map *map);

/** The object as a map, or NULL when it is of another type. */
CRDT_API crdt_map *crdt_object_map(crdt_object *obj);

/* ---- updates -------------------------------------------------------------
 * Each takes the map (it needs a replica id), the field's path, the update's
 * arguments, and an optional delta map (not `map`) into which the update's
 * delta is joined. Each returns 0 or: CRDT_EINVAL (NULL map, a path of 0 or
 * more than CRDT_MAP_DEPTH_MAX names, a name of UINT32_MAX bytes or more,
 * NULL data with a non-zero size, delta == map), CRDT_ETYPE (delta of
 * another type), CRDT_ENOREPLICA (the map has no replica id), CRDT_ERANGE
 * (counter space exhausted, or as stated), CRDT_ETOOMANY or CRDT_ENOMEM.
 * On error neither map nor delta changes. Argument errors come first, then
 * CRDT_ENOENT (nothing to remove here), then CRDT_ENOREPLICA, as for the
 * flat types. */

/** Adds n (>= 1) to the counter at `path`: a new dot carrying +n.
 * @return as above; CRDT_EINVAL also for n 0, CRDT_ERANGE for n past
 *   INT64_MAX or a value that would pass it. */
CRDT_API int crdt_map_counter_inc(crdt_map *map, crdt_path path, uint64_t n,
                                  crdt_map *delta);

/** Subtracts n (>= 1) from the counter at `path`: a new dot carrying -n.
 * The value may go below zero.
 * @return as crdt_map_counter_inc(). */
CRDT_API int crdt_map_counter_dec(crdt_map *map, crdt_path path, uint64_t n,
                                  crdt_map *delta);

/** Adds `elem` (len bytes, copied) to the OR-set at `path`; a re-add
 * replaces this replica's observation of the element. */
CRDT_API int crdt_map_orset_add(crdt_map *map, crdt_path path,
                                const void *elem, size_t len,
                                crdt_map *delta);

/** Removes `elem` from the OR-set at `path`: drops the adds of it this
 * replica sees. Removing the last element removes the field.
 * @return as above, or CRDT_ENOENT when the set does not hold elem here
 *   (nothing changes, no dot). */
CRDT_API int crdt_map_orset_remove(crdt_map *map, crdt_path path,
                                   const void *elem, size_t len,
                                   crdt_map *delta);

/** Writes `value` (copied) to the MV-register at `path`, superseding every
 * value this replica sees there. */
CRDT_API int crdt_map_mvreg_set(crdt_map *map, crdt_path path,
                                const void *value, size_t len,
                                crdt_map *delta);

/** Writes `value` (copied) at `timestamp` to the LWW-register at `path`
 * (see the file comment: the highest (timestamp, replica, value) shows). */
CRDT_API int crdt_map_lwwreg_set(crdt_map *map, crdt_path path,
                                 const void *value, size_t len,
                                 uint64_t timestamp, crdt_map *delta);

/** Enables the flag at `path` (a new dot replacing this replica's view). */
CRDT_API int crdt_map_flag_enable(crdt_map *map, crdt_path path,
                                  crdt_map *delta);

/** Disables the flag at `path`: drops the enables this replica sees, which
 * removes the field.
 * @return as above, or CRDT_ENOENT when the flag is not enabled here. */
CRDT_API int crdt_map_flag_disable(crdt_map *map, crdt_path path,
                                   crdt_map *delta);

/** Removes the field (the path's last name, of type `type`) with reset: the
 * dots below it that this replica sees are dropped, at any depth; the maps
 * above it that it leaves empty are removed too.
 * @return as above, or CRDT_ENOENT when there is no such field here
 *   (nothing changes, no dot); CRDT_EINVAL also for an unknown type. */
CRDT_API int crdt_map_remove(crdt_map *map, crdt_path path,
                             crdt_field_type type, crdt_map *delta);

/* ---- reads ---------------------------------------------------------------
 * Views handed out (names, elements, values) are valid until the map next
 * changes. A path that names no such field reads as absent. The readers
 * that return an int return CRDT_EINVAL for a bad path (see the updates)
 * and CRDT_ENOMEM when a path of more than 256 bytes of names cannot be
 * copied; the boolean readers answer false then. */

/** Is there a field of `type` at `path`? */
CRDT_API bool crdt_map_has(const crdt_map *map, crdt_path path,
                           crdt_field_type type);

/** The counter's value at `path`: the exact sum of its amounts.
 * Concurrent increments can sum past INT64_MAX (each replica's own updates
 * stay within range): *out is then clamped, the same on every replica.
 * @return 0 and *out, CRDT_ENOENT (no such field; *out is 0), CRDT_EINVAL,
 *   or CRDT_ERANGE (the exact sum is outside int64_t; *out is clamped). */
CRDT_API int crdt_map_counter_value(const crdt_map *map, crdt_path path,
                                    int64_t *out);

/** Does the OR-set at `path` hold `elem`? */
CRDT_API bool crdt_map_orset_contains(const crdt_map *map, crdt_path path,
                                      const void *elem, size_t len);

/** Is the flag at `path` enabled? */
CRDT_API bool crdt_map_flag_enabled(const crdt_map *map, crdt_path path);

/** The LWW-register's value at `path`.
 * @param[out] value receives a view of the value bytes (NULL to skip).
 * @param[out] timestamp receives its timestamp (NULL to skip).
 * @return 0, CRDT_ENOENT (no such field) or CRDT_EINVAL. */
CRDT_API int crdt_map_lwwreg_get(const crdt_map *map, crdt_path path,
                                 crdt_bytes *value, uint64_t *timestamp);

/** Callback for the walks below; `item` is valid during the call only.
 * Return non-zero to stop the walk. */
typedef int (*crdt_map_item_visit)(crdt_bytes item, void *user);

/** Calls `visit` for each element of the OR-set, or each sibling value of
 * the MV-register, at `path` (`type` says which), in canonical order. The
 * map must not change during the walk.
 * @return 0 (also when there is no such field), the callback's non-zero
 *   value, CRDT_EINVAL (type neither orset nor mvreg, a bad path) or
 *   CRDT_ENOMEM. */
CRDT_API int crdt_map_items(const crdt_map *map, crdt_path path,
                            crdt_field_type type, crdt_map_item_visit visit,
                            void *user);

/** Callback for crdt_map_fields(); `name` is valid during the call only.
 * Return non-zero to stop. */
typedef int (*crdt_map_field_visit)(crdt_bytes name, crdt_field_type type,
                                    void *user);

/** Calls `visit` for each field of the map at `path` (depth 0: the root
 * map; path.names may then be NULL) in canonical order. The map must not
 * change during the walk.
 * @return 0 (also when there is no such map), the callback's non-zero
 *   value, CRDT_EINVAL (a bad path) or CRDT_ENOMEM. */
CRDT_API int crdt_map_fields(const crdt_map *map, crdt_path path,
                             crdt_map_field_visit visit, void *user);

#ifdef __cplusplus
}
#endif

#endif /* CRDT_MAP_H */

/*
 * The README's first example, as a program the test suite runs: an add that
 * is concurrent with a remove wins.
 */
#include <stdio.h>

#include <crdt/crdt.h>

#define CHECK(call)                                                            \
  do {                                                                         \
    int rc_ = (call);                                                          \
    if (rc_ != 0) {                                                            \
      fprintf(stderr, "%s: %s\n", #call, crdt_strerror(rc_));                  \
      return 1;                                                                \
    }                                                                          \
  } while (0)

int main(void) {
  crdt_orset *a, *b;
  CHECK(crdt_orset_new("replica-a", &a));
  CHECK(crdt_orset_new("replica-b", &b));
  CHECK(crdt_orset_add(a, "milk", 4, NULL));
  CHECK(crdt_orset_merge(b, a)); /* b now has milk */
  CHECK(crdt_orset_remove(b, "milk", 4, NULL));
  CHECK(crdt_orset_add(a, "milk", 4, NULL)); /* concurrent re-add: add wins */
  CHECK(crdt_orset_merge(a, b));
  int ok = crdt_orset_contains(a, "milk", 4);
  printf("after merging the concurrent remove, milk is %s\n",
         ok ? "still in the set (add wins)" : "gone");
  crdt_orset_free(a);
  crdt_orset_free(b);
  return ok ? 0 : 1;
}

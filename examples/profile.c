/*
 * The README's record example, as a program the test suite runs: a user
 * profile in a map, edited at two replicas; a remove of "user" concurrent
 * with an increment of its visit count keeps only that increment.
 */
#include <stdio.h>
#include <string.h>

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
  crdt_map *phone, *laptop;
  CHECK(crdt_map_new("phone", &phone));
  CHECK(crdt_map_new("laptop", &laptop));

  /* One line per nested update. */
  CHECK(crdt_map_lwwreg_set(phone, CRDT_PATH("user", "name"), "Ada", 3, 1, NULL));
  CHECK(crdt_map_orset_add(phone, CRDT_PATH("user", "tags"), "admin", 5, NULL));
  CHECK(crdt_map_counter_inc(phone, CRDT_PATH("user", "visits"), 5, NULL));
  CHECK(crdt_map_flag_enable(phone, CRDT_PATH("user", "settings", "dark"), NULL));
  CHECK(crdt_map_merge(laptop, phone));

  /* Concurrently: the laptop removes the whole user record, the phone
   * counts two more visits. */
  CHECK(crdt_map_remove(laptop, CRDT_PATH("user"), CRDT_FIELD_MAP, NULL));
  CHECK(crdt_map_counter_inc(phone, CRDT_PATH("user", "visits"), 2, NULL));

  CHECK(crdt_map_merge(phone, laptop));
  CHECK(crdt_map_merge(laptop, phone));
  int64_t visits = 0;
  CHECK(crdt_map_counter_value(phone, CRDT_PATH("user", "visits"), &visits));
  char json[512];
  CHECK(crdt_object_value_json(crdt_map_object(phone), json, sizeof json, NULL));
  printf("%s\n", json);
  const bool ok = visits == 2 && crdt_map_equal(phone, laptop) &&
                  !crdt_map_has(phone, CRDT_PATH("user", "name"),
                                CRDT_FIELD_LWWREG) &&
                  strcmp(json, "[{\"name\": \"user\", \"type\": \"map\", "
                               "\"value\": [{\"name\": \"visits\", \"type\": "
                               "\"counter\", \"value\": 2}]}]") == 0;
  printf("visits after the concurrent remove: %lld (%s)\n", (long long)visits,
         ok ? "only the concurrent increment survives" : "WRONG");
  crdt_map_free(phone);
  crdt_map_free(laptop);
  return ok ? 0 : 1;
}

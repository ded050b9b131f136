/* The smallest program using an installed libcrdt. It proves that the
 * installed headers, libraries and package files (CMake and pkg-config) work
 * outside the source tree, and that header and library agree on the version. */
#include <crdt/crdt.h>

#include <stdio.h>
#include <string.h>

int main(void)
{
    const char *version = crdt_version();

    if (version == NULL) {
        fprintf(stderr, "consumer: crdt_version() returned NULL\n");
        return 1;
    }
    if (strcmp(version, CRDT_VERSION_STRING) != 0) {
        fprintf(stderr, "consumer: header is %s but library is %s\n",
                CRDT_VERSION_STRING, version);
        return 1;
    }
    printf("%s\n", version);
    printf("%s\n", crdt_strerror(CRDT_ENOMEM));
    return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * For the tests of weft/ipc.h's objects: what a child handed an object
 * does, done in one process. An object's export (src/ipc/ipc.h) names its
 * files, which a child would own as copies; here they are copied first
 * (dup, DuplicateHandle), so that the imported handle and the original own
 * different ones, as in two processes. Only in a static build, whose test
 * executables can reach weft's internal functions.
 */
#ifndef WEFT_TEST_IPC_HANDOFF_H
#define WEFT_TEST_IPC_HANDOFF_H

#if defined(WEFT_STATIC)
#define WEFT_TEST_HANDOFF 1
#define WEFT_BUILDING
#include "../src/ipc/ipc.h"

#ifdef _WIN32
#include <windows.h>
#else
#include <unistd.h>
#endif

/* Copy the files of `h` in place, as handing them to a child would. */
static inline void weft_test_handoff_copy_files(weft__ipc_handoff *h)
{
    size_t i;

    for (i = 0; i < h->nfiles; i++) {
#ifdef _WIN32
        HANDLE copy;

        CHECK(DuplicateHandle(GetCurrentProcess(), (HANDLE)h->files[i], GetCurrentProcess(), &copy, 0,
                              FALSE, DUPLICATE_SAME_ACCESS));
        h->files[i] = (weft_sys_file)copy;
#else
        int copy = dup((int)h->files[i]);

        CHECK(copy >= 0);
        h->files[i] = copy;
#endif
    }
}
#endif

#endif /* WEFT_TEST_IPC_HANDOFF_H */

/* SPDX-License-Identifier: MIT */
/*
 * atexit_clean: the Python idiom "clean up at exit with atexit, and know
 * that os._exit skips it", written with weft.
 *
 *     import atexit, os, sys
 *
 *     def clean():
 *         print("clean up")
 *
 *     atexit.register(clean)
 *     print("working")
 *     if sys.argv[1] == "exit":
 *         sys.exit(0)          # handlers run, stdio is flushed
 *     else:
 *         sys.stdout.flush()   # os._exit flushes nothing...
 *         os._exit(0)          # ...and runs no handler
 *
 * Run it as `atexit_clean exit` (weft_exit: "clean up" is printed) or
 * `atexit_clean now` (weft_exit_now: it is not).
 */
#include <weft.h>

#include <stdio.h>
#include <string.h>

static void clean(void *arg)
{
    (void)arg;
    printf("clean up\n");
}

int main(int argc, char **argv)
{
    bool now = argc == 2 && strcmp(argv[1], "now") == 0;

    if (argc != 2 || (!now && strcmp(argv[1], "exit") != 0)) {
        fprintf(stderr, "usage: atexit_clean exit|now\n");
        return 2;
    }
    if (weft_atexit(clean, NULL) != WEFT_OK) { /* atexit.register(clean) */
        fprintf(stderr, "atexit_clean: weft_atexit failed\n");
        return 1;
    }
    printf("working\n");
    if (!now)
        weft_exit(0); /* sys.exit(0) */
    printf("os._exit: flushing by hand, no handler will run\n");
    fflush(stdout);
    weft_exit_now(0); /* os._exit(0) */
}

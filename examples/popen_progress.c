/* SPDX-License-Identifier: MIT */
/*
 * popen_progress: the Python idiom "follow a child's progress line by line
 * as it prints it", written with weft.
 *
 *     import subprocess, sys, time
 *
 *     if sys.argv[1:] == ["child"]:
 *         for pct in (20, 40, 60, 80, 100):
 *             print(f"progress {pct}%", flush=True)
 *             time.sleep(0.05)
 *         print("done")
 *         sys.exit(0)
 *
 *     p = subprocess.Popen([sys.executable, sys.argv[0], "child"],
 *                          stdout=subprocess.PIPE, text=True)
 *     n = 0
 *     for line in p.stdout:  # each line as soon as the child prints it
 *         print("child says:", line.rstrip())
 *         n += 1
 *     print("lines read:", n)
 *     print("exit status:", p.wait())
 *
 * weft_popen_readline() hands over each line as soon as the child has
 * flushed it, and takes a timeout, which Python's readline lacks: a child
 * that goes silent cannot hang the parent (here 10 s per line).
 */
#include "example.h"

#include <stdio.h>
#include <string.h>

#define LINE_TIMEOUT 10.0

static int child(void)
{
    static const int steps[] = {20, 40, 60, 80, 100};
    size_t i;

    for (i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        printf("progress %d%%\n", steps[i]);
        fflush(stdout); /* print(..., flush=True): a pipe is fully buffered */
        weft_sleep(0.05);
    }
    printf("done\n");
    return 0;
}

int main(int argc, char **argv)
{
    const char *child_argv[3];
    weft_popen_opts opts = {0};
    weft_popen *p = NULL;
    char *line;
    size_t len;
    int n = 0, code = -1, rc;

    if (argc == 2 && strcmp(argv[1], "child") == 0)
        return child();

    /* Popen([...], stdout=PIPE) */
    child_argv[0] = argv[0];
    child_argv[1] = "child";
    child_argv[2] = NULL;
    opts.out = WEFT_STDIO_PIPE;
    CHECK_OK(weft_popen_start(&p, child_argv, &opts));

    /* for line in p.stdout: ... (WEFT_EOF once the child has closed it) */
    while ((rc = weft_popen_readline(p, WEFT_STREAM_OUT, &line, &len, LINE_TIMEOUT)) == WEFT_OK) {
        /* line.rstrip(): a Windows child ends its lines with "\r\n". */
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        printf("child says: %s\n", line);
        fflush(stdout);
        weft_free(line);
        n++;
    }
    if (rc == WEFT_ETIMEDOUT)
        printf("no line within %.0f s: giving up\n", LINE_TIMEOUT);
    CHECK(rc == WEFT_EOF);
    printf("lines read: %d\n", n);

    /* p.wait() */
    CHECK_OK(weft_popen_wait(p, WEFT_FOREVER, &code));
    printf("exit status: %d\n", code);
    weft_popen_release(p);
    printf("popen_progress: OK\n");
    return 0;
}

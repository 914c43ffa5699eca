/* SPDX-License-Identifier: MIT */
/*
 * popen_wait_write: the Python idiom "start a program with Popen, wait for
 * it, then write its exit status and output to a file", written with weft.
 *
 *     import subprocess, sys
 *
 *     p = subprocess.Popen([sys.executable, sys.argv[0], "child"],
 *                          stdout=subprocess.PIPE, text=True)
 *     out, _ = p.communicate()  # read stdout to its end...
 *     code = p.wait()           # ...then the exit status is there
 *     with open("popen_wait_write.txt", "w") as f:
 *         f.write(f"exit status: {code}\n")
 *         f.write(f"output: {out.strip()}\n")
 *     with open("popen_wait_write.txt") as f:
 *         print(f.read(), end="")
 *
 * (As the Python documentation warns, wait() alone on a child whose stdout
 * is a pipe can deadlock once the pipe is full: communicate() reads it.)
 * The child is this program run again with the argument "child"; it prints
 * a line and exits with status 3.
 */
#include "example.h"

#include <stdio.h>
#include <string.h>

#define RESULT_FILE "popen_wait_write.txt"

int main(int argc, char **argv)
{
    const char *child_argv[3];
    weft_popen_opts opts = {0};
    weft_popen *p = NULL;
    char *out = NULL, line[256];
    size_t out_len = 0;
    int code = -1;
    FILE *f;

    if (argc == 2 && strcmp(argv[1], "child") == 0) {
        printf("hello from the child\n");
        return 3;
    }

    /* Popen([...], stdout=PIPE) */
    child_argv[0] = argv[0];
    child_argv[1] = "child";
    child_argv[2] = NULL;
    opts.out = WEFT_STDIO_PIPE;
    CHECK_OK(weft_popen_start(&p, child_argv, &opts));
    /* communicate(), then wait() */
    CHECK_OK(weft_popen_communicate(p, NULL, 0, &out, &out_len, NULL, NULL, WEFT_FOREVER));
    CHECK_OK(weft_popen_wait(p, WEFT_FOREVER, &code));
    weft_popen_release(p);

    /* out.strip(): a Windows child ends its line with "\r\n". */
    while (out_len > 0 && (out[out_len - 1] == '\n' || out[out_len - 1] == '\r'))
        out[--out_len] = '\0';

    /* with open(...) as f: f.write(...) */
    f = fopen(RESULT_FILE, "w");
    CHECK(f != NULL);
    fprintf(f, "exit status: %d\n", code);
    fprintf(f, "output: %s\n", out ? out : "");
    CHECK(fclose(f) == 0);
    weft_free(out);

    /* with open(...) as f: print(f.read(), end="") */
    f = fopen(RESULT_FILE, "r");
    CHECK(f != NULL);
    printf("read back from %s:\n", RESULT_FILE);
    while (fgets(line, sizeof line, f) != NULL)
        fputs(line, stdout);
    fclose(f);
    remove(RESULT_FILE);
    printf("popen_wait_write: OK\n");
    return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * process_hello: the first multiprocessing example of the Python
 * documentation, written with weft: a function of this program runs in a
 * child process with an argument, and both processes show their ids.
 *
 *     from multiprocessing import Process
 *     import os
 *
 *     def f(name):
 *         print('hello', name)
 *         print('child pid', os.getpid())
 *
 *     if __name__ == '__main__':
 *         p = Process(target=f, args=('bob',))
 *         p.start()
 *         print('started child', p.pid)
 *         p.join()
 *         print('child exit code', p.exitcode)
 *
 * weft_process_main() is the `if __name__ == '__main__'` guard: the child
 * is this program run again (the spawn method), and there it runs `f` and
 * exits instead of going on with main().
 */
#include "example.h"

#include <stdio.h>

static int f(const void *arg, size_t len)
{
    printf("hello %.*s\n", (int)len, (const char *)arg);
    printf("child pid %lld\n", (long long)weft_getpid());
    return 0;
}

int main(int argc, char **argv)
{
    weft_process *p = NULL;
    int code = -1;

    CHECK_OK(weft_process_register("f", f));
    weft_process_main(argc, argv);

    CHECK_OK(weft_process_start(&p, "f", "bob", 3, NULL));
    printf("started child %lld\n", (long long)weft_process_pid(p));
    fflush(stdout); /* the child writes to the same stdout */
    CHECK_OK(weft_process_join(p, WEFT_FOREVER));
    CHECK_OK(weft_process_exitcode(p, &code));
    printf("child exit code %d\n", code);
    printf("parent pid %lld, child pid %lld\n", (long long)weft_getpid(),
           (long long)weft_process_pid(p));
    printf("the child is another process: %s\n",
           weft_getpid() != weft_process_pid(p) ? "yes" : "no");
    weft_process_release(p);
    return 0;
}

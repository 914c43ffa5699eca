/* SPDX-License-Identifier: MIT */
/* Process-wide facts on POSIX: the immediate exit, the exit hook and fork handlers. */
#include "posix.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

WEFT_NORETURN void weft_sys_exit_now(int code)
{
    _exit(code);
}

int weft_sys_atfork(void (*prepare)(void), void (*parent)(void), void (*child)(void))
{
    return pthread_atfork(prepare, parent, child) == 0 ? WEFT_OK : WEFT_ENOMEM;
}

int weft_sys_exit_hook(void (*hook)(void))
{
    return atexit(hook) == 0 ? WEFT_OK : WEFT_ENOMEM;
}

bool weft_sys_other_threads_gone(void)
{
    return false;
}

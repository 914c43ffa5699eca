/* SPDX-License-Identifier: MIT */
/* The immediate exit and the exit hook on POSIX. */
#include "posix.h"

#include <stdlib.h>
#include <unistd.h>

WEFT__NORETURN void weft_sys_exit_now(int code)
{
    _exit(code);
}

int weft_sys_exit_hook(void (*hook)(void))
{
    return atexit(hook) == 0 ? WEFT_OK : WEFT_ENOMEM;
}

void weft_sys_exit_hook_rearm(void (*hook)(void))
{
    (void)atexit(hook); /* fails only once exit() has run every function: too late anyway */
}

bool weft_sys_other_threads_gone(void)
{
    return false;
}

/* SPDX-License-Identifier: MIT */
/* The immediate exit and the exit hook on POSIX. */
#define _GNU_SOURCE /* unsetenv */
#include "posix.h"

#include <stdlib.h>
#include <string.h>
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

bool weft_sys_env_get(const char *name, char *buf, size_t cap)
{
    const char *value = getenv(name);
    size_t len;

    if (!value || (len = strlen(value)) >= cap)
        return false;
    memcpy(buf, value, len + 1);
    return true;
}

void weft_sys_env_unset(const char *name)
{
    (void)unsetenv(name); /* fails only for a name with '=' or an empty one */
}

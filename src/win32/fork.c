/* SPDX-License-Identifier: MIT */
/* Windows has no fork(): the spawn start method is the only one there. */
#include "win32.h"

int weft_sys_fork(weft_sys_child *out, bool *in_child)
{
    (void)out;
    (void)in_child;
    return weft__fail_text(WEFT_EINVAL, "fork: Windows has no fork(): use the spawn start method");
}

int weft_sys_atfork(void (*prepare)(void), void (*parent)(void), void (*child)(void))
{
    (void)prepare;
    (void)parent;
    (void)child;
    return WEFT_OK;
}

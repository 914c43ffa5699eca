/* SPDX-License-Identifier: MIT */
/*
 * One-time initialisation on one word:
 *
 *   state  0  not run
 *          1  running, nobody waiting
 *          2  running, threads parked (the runner must wake them)
 *          3  done
 */
#include "sync.h"

enum { NEW = 0, ONCE_RUNNING = 1, RUNNING_WAITED = 2, ONCE_DONE = 3 };

void weft_call_once(weft_once *once, void (*fn)(void *arg), void *arg)
{
    uint32_t s;

    if (!once || !fn)
        return;
    s = weft__load(&once->state);
    if (s == ONCE_DONE)
        return;
    if (s == NEW && weft__cas(&once->state, &s, ONCE_RUNNING)) {
        fn(arg);
        if (weft__swap(&once->state, ONCE_DONE) == RUNNING_WAITED)
            weft_sys_wake_all(&once->state);
        return;
    }
    /* Another thread runs fn: wait for it. */
    while (s != ONCE_DONE) {
        if (s == ONCE_RUNNING && !weft__cas(&once->state, &s, RUNNING_WAITED))
            continue; /* s now holds the state seen instead */
        weft_sys_wait(&once->state, RUNNING_WAITED, WEFT__NO_DEADLINE);
        s = weft__load(&once->state);
    }
}

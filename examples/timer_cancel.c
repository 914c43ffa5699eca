/* SPDX-License-Identifier: MIT */
/*
 * timer_cancel: threading.Timer, one left to fire and one cancelled,
 * written with weft.
 *
 *     import threading
 *
 *     def ring(what):
 *         print(what, "rings")
 *
 *     soon = threading.Timer(0.1, ring, args=("soon",))
 *     later = threading.Timer(30.0, ring, args=("later",))
 *     soon.start()
 *     later.start()
 *     later.cancel()      # before its 30 s are up: it never rings
 *     soon.join()
 *     later.join()        # at once: a cancelled timer's thread ends
 *     print("both timers joined")
 *
 * A weft timer is a thread: weft_timer_start() is Timer(...).start(), and
 * weft_thread_request_stop() is cancel(): it wakes the waiting timer
 * thread, which ends without calling ring, so the join returns at once
 * rather than after 30 seconds.
 */
#include "example.h"

#include <stdio.h>

static void ring(void *what)
{
    printf("%s rings\n", (const char *)what);
}

int main(void)
{
    weft_thread *soon = NULL, *later = NULL;

    CHECK_OK(weft_timer_start(&soon, 0.1, ring, "soon"));
    CHECK_OK(weft_timer_start(&later, 30.0, ring, "later"));
    CHECK_OK(weft_thread_request_stop(later)); /* later.cancel() */
    CHECK_OK(weft_thread_join(soon, WEFT_FOREVER, NULL));
    /* Far less than the 30 s: the test fails if the cancel did not work. */
    CHECK_OK(weft_thread_join(later, 10.0, NULL));
    printf("both timers joined\n");
    weft_thread_release(soon);
    weft_thread_release(later);
    return 0;
}

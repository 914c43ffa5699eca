/* SPDX-License-Identifier: MIT */
/* What the POSIX backend's files share. */
#ifndef WEFT_POSIX_H
#define WEFT_POSIX_H

#include "../internal.h"
#include "../sys/child.h"
#include "../sys/exit.h"
#include "../sys/file.h"
#include "../sys/fork.h"
#include "../sys/thread.h"
#include "../sys/time.h"
#include "../sys/wait.h"

#include <time.h>

/* The backend's one errno translator: the weft status for `err`, the error
 * of the POSIX call `call` (an errno, or what a pthread_* or posix_spawn*
 * call returned). 0 is WEFT_OK. Any other error is recorded for
 * weft_last_os_error(); the codes weft has a name for map to it; running out
 * of descriptors (EMFILE, ENFILE) is WEFT_EAGAIN, "try again once some are
 * closed", with a message naming `call`, as the headers promise; anything
 * else is WEFT_EOS. */
int weft__posix_status(int err, const char *call);

/* A count of nanoseconds (a deadline, or a time left) as a timespec. */
static inline struct timespec weft__timespec(int64_t ns)
{
    struct timespec ts;

    ts.tv_sec = (time_t)(ns / 1000000000);
    ts.tv_nsec = (long)(ns % 1000000000);
    return ts;
}

/* weft's one set of fork handlers (pthread_atfork, in posix/fork.c),
 * registered once by whichever part needs it first: the common code's
 * handlers (weft_sys_atfork), the parking lot, the main thread's id, the
 * shutdown signals. Returns WEFT_OK or WEFT_ENOMEM. */
int weft__posix_fork_handlers(void);

/* The backend's own after-fork work in the child, called by those
 * handlers before the common code's: each resets what its file holds. */
void weft__posix_wait_after_fork(void);    /* wait_*.c: the parking lot's buckets */
void weft__posix_thread_after_fork(void);  /* thread.c: the main thread's id */
void weft__posix_signals_after_fork(void); /* signals.c: dispositions, the pipe */

/* Held across fork() so the child finds the shutdown signals' state whole. */
void weft__posix_signals_before_fork(void);
void weft__posix_signals_after_fork_in_parent(void);

#endif /* WEFT_POSIX_H */

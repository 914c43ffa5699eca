/* SPDX-License-Identifier: MIT */
/* What the POSIX backend's files share. */
#ifndef WEFT_POSIX_H
#define WEFT_POSIX_H

#include "../internal.h"

/* The weft status for an errno from a POSIX call: the codes weft has a name
 * for map to it, anything else is WEFT_EOS with the errno recorded. */
int weft__status_from_errno(int err);

/* The status for the errno of a call that makes a descriptor (`call`
 * names it in the message): running out of descriptors (EMFILE, ENFILE)
 * is WEFT_EAGAIN, "try again once some are closed", with a message, as
 * the headers promise; ENOMEM is WEFT_ENOMEM; anything else WEFT_EOS. */
int weft__fd_status(int err, const char *call);

/* weft's one set of fork handlers (pthread_atfork, in posix/process.c),
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

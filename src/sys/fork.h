/* SPDX-License-Identifier: MIT */
/*
 * fork() and weft's one set of fork handlers: posix/fork.c, win32/fork.c
 * (where there is no fork); used by runtime.c and process.c.
 */
#ifndef WEFT_SYS_FORK_H
#define WEFT_SYS_FORK_H

#include "base.h"
#include "child.h"

/* ---- Fork ---------------------------------------------------------------- */

/* fork(). Returns WEFT_OK in both processes with *in_child telling which;
 * in the parent *out describes the child. WEFT_EINVAL where fork does not
 * exist (Windows); WEFT_EAGAIN; WEFT_ENOMEM; WEFT_EOS. */
int weft_sys_fork(weft_sys_child *out, bool *in_child);

/* Give the common code's fork handlers to the backend's one pthread_atfork
 * registration: `prepare` runs in the forking thread before fork(), `parent`
 * and `child` after it in each process, the child's after the backend has
 * reset its own state (the parking lot, the main thread's id, the shutdown
 * signals). Called once. A no-op where fork() does not exist. Returns
 * WEFT_OK or WEFT_ENOMEM. */
int weft_sys_atfork(void (*prepare)(void), void (*parent)(void), void (*child)(void));

#endif /* WEFT_SYS_FORK_H */

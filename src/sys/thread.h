/* SPDX-License-Identifier: MIT */
/*
 * OS threads and the one thread-local slot: posix/thread.c, win32/thread.c;
 * used by thread.c.
 */
#ifndef WEFT_SYS_THREAD_H
#define WEFT_SYS_THREAD_H

#include "base.h"

/* ---- OS threads --------------------------------------------------------- */

/* An OS thread handle (pthread_t, HANDLE), opaque to common code. */
typedef uintptr_t weft_sys_thread;

/* What a new OS thread runs: fn(arg). */
typedef struct weft_sys_start {
    void (*fn)(void *arg);
    void *arg;
} weft_sys_start;

/* Start an OS thread running start->fn(start->arg). `*start` is the
 * caller's and stays valid until the thread has ended, so the backend needs
 * no allocation of its own (a heap call in a new thread would make the C
 * library set up per-thread heap caches for nothing). stack_size 0 is the
 * OS default; other values are rounded up to what the OS accepts (page
 * size, its minimum). Returns WEFT_OK; WEFT_EINVAL when the OS refuses the
 * stack size; WEFT_EAGAIN when it has no resources for a thread;
 * WEFT_ENOMEM; WEFT_EOS. */
int weft_sys_thread_start(weft_sys_thread *out, const weft_sys_start *start, size_t stack_size);

/* Wait for a thread to end and free its OS resources. Exactly one of join or
 * detach is called for every started thread. Never called by the thread on
 * itself. */
void weft_sys_thread_join(weft_sys_thread thread);

/* Let the OS free the thread's resources when it ends (or now, if it has). */
void weft_sys_thread_detach(weft_sys_thread thread);

/* Whether the calling thread is the only thread of the process, as the C
 * library knows it (glibc's __libc_single_threaded, where the build found
 * it; else always false). True only while no other thread exists: the
 * thread that starts the second one sees false from then on, and the new
 * thread starts after that (the start is a full barrier), so plain
 * (relaxed) accesses made while it was true are seen by every later thread.
 * The C library may make it true again once the others are gone (glibc
 * 2.36 does not, not even in a fork child), after which their accesses
 * happened before. Inline: the lock's fast path asks on every call. A word
 * that another process maps (a lock in shared memory) must not use it. */
#if defined(WEFT_HAVE_LIBC_SINGLE_THREADED)
#include <sys/single_threaded.h>
static inline bool weft_sys_single_threaded(void)
{
    return __libc_single_threaded != 0;
}
#else
static inline bool weft_sys_single_threaded(void)
{
    return false;
}
#endif

/* Give the processor to another ready thread. */
void weft_sys_thread_yield(void);

/* The OS id of the calling thread (Linux TID, Windows thread id, macOS
 * pthread_threadid_np); never 0. */
uint64_t weft_sys_thread_native_id(void);

/* The OS id (as weft_sys_thread_native_id) of the process's main thread:
 * the one that ran main(), or in a forked child the thread that forked. */
uint64_t weft_sys_thread_main_id(void);

/* Set the OS-visible name (for debuggers, ps, top) of `thread`, or of the
 * calling thread when `thread` is NULL, truncated to the OS limit at a UTF-8
 * character boundary. `thread` is a started thread that was neither joined
 * nor detached. Best effort: failures are ignored, since the name is only a
 * diagnostic, and where the OS can only name the calling thread (macOS) a
 * non-NULL `thread` is ignored. */
void weft_sys_thread_set_name(const weft_sys_thread *thread, const char *name);

/* End the calling thread now (pthread_exit, _endthreadex): the thread-local
 * slot's destructor runs as for a thread that returns. */
WEFT__NORETURN void weft_sys_thread_exit(void);

/* ---- The thread-local slot ---------------------------------------------- */

/* Create the one native thread-local slot weft uses. `destructor` is called
 * with the slot's value in every thread that ends with a non-NULL value:
 * weft's threads and threads weft did not start alike (pthread key
 * destructor, FLS callback). Called once, before any get/set.
 * Returns WEFT_OK, WEFT_EAGAIN when the OS has no free slot, or WEFT_EOS. */
int weft_sys_tls_create(void (*destructor)(void *value));

/* The calling thread's value of the slot; NULL until set. */
void *weft_sys_tls_get(void);

/* Set the calling thread's value of the slot. Returns WEFT_OK or WEFT_ENOMEM. */
int weft_sys_tls_set(void *value);

#endif /* WEFT_SYS_THREAD_H */

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

#include <pthread.h>
#include <time.h>

/* The backend's one errno translator: the weft status for `err`, the error
 * of the POSIX call `call` (an errno, or what a pthread_* or posix_spawn*
 * call returned). 0 is WEFT_OK. Any other error is recorded for
 * weft_last_os_error(); the codes weft has a name for map to it; running out
 * of descriptors (EMFILE, ENFILE) is WEFT_EAGAIN, "try again once some are
 * closed", as the headers promise; anything else is WEFT_EOS. Every error
 * leaves a message naming `call` with the C library's words and the number
 * ("fork: Resource temporarily unavailable (os error 11)"); a caller adds
 * its context in front with weft__fail_wrap. */
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

/* Waiting on a word in memory shared between processes (posix/plock.c's
 * semaphores and events), with weft_sys_wait's contract otherwise: futexes
 * without FUTEX_PRIVATE_FLAG (wait_futex.c); a look at the word with
 * growing naps where the wait backend is a parking lot, whose buckets are
 * private to a process (wait_parkinglot.c). A waiter killed in its wait
 * leaves nothing behind in either. */
int weft__posix_wait_shared(const uint32_t *addr, uint32_t expected, int64_t deadline_ns);
void weft__posix_wake_shared(const uint32_t *addr, bool all);

/* ---- What differs between POSIX systems ------------------------------------------
 *
 * One of posix/linux.c (Linux, Android), posix/darwin.c (macOS) and
 * posix/bsd.c (FreeBSD, DragonFly, NetBSD, OpenBSD) is built;
 * cmake/posix.cmake picks it by the system's name. Each defines, for its
 * system, weft_sys_thread_native_id, weft_sys_executable_path,
 * weft_sys_first_argument_is, weft_sys_current_cpu, and these: */

/* The main thread's id, given `recorded`, the id posix/thread.c recorded
 * (see weft__posix_record_main_thread): Linux knows better (the pid). */
uint64_t weft__os_main_thread_id(uint64_t recorded);

/* Set the OS-visible name of `thread` (the calling thread when `self`),
 * fitted to the system's limit with weft__posix_short_name. */
void weft__os_set_thread_name(pthread_t thread, bool self, const char *name);

/* The environment a child inherits when it is given none. */
char **weft__os_environ(void);

/* The CPUs of the affinity mask of the process (`whole_process`: its main
 * thread's, as set from outside) or of the calling thread; 0 where the
 * system has no masks (sysconf then counts the machine's). */
int weft__os_affinity_cpus(bool whole_process);

/* What the OS files share, from the common POSIX files: */

/* Where the main thread's id is not the pid: record the calling thread's
 * id as the main thread's (an OS file's load-time constructor calls it),
 * and make sure a fork child records its own (posix/thread.c). */
void weft__posix_record_main_thread(void);

/* Fit name in `max` bytes into buf (max + 1 bytes) for the OS: as it is
 * when it fits; else its start, "..", and its trailing numbers, which tell
 * a pool's workers apart ("ThreadPoolExecutor-0_12" becomes
 * "ThreadPo..-0_12" in 15 bytes); never half a UTF-8 character
 * (posix/thread.c). */
void weft__posix_short_name(char *buf, const char *name, size_t max);

/* Whether argv[1] is `marker`, from /proc/self/cmdline; false without /proc
 * (posix/child.c). */
bool weft__posix_proc_first_argument_is(const char *marker);

#endif /* WEFT_POSIX_H */

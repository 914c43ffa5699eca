/* SPDX-License-Identifier: MIT */
/*
 * The runtime layer (HACKING.md): threads, thread-local values, child
 * processes, the orderly exit, queues and executors, and src/runtime.c,
 * their owner. It looks at the synchronisation layer and below.
 */
#ifndef WEFT_RUNTIME_H
#define WEFT_RUNTIME_H

#include "sync/sync.h"
#include "sys/child.h"
#include "sys/exit.h"
#include "sys/file.h"
#include "sys/fork.h"
#include "sys/thread.h"

/* ---- Intrusive lists ------------------------------------------------------------ */

/* A doubly linked list threaded through its nodes' members `next` and
 * `prev` (named by the caller); `head` is the list's first node or NULL.
 * The registries of threads, thread-local tables, executors and children
 * use these, each under its own lock. */
#define WEFT__LIST_PUSH(head, node, next, prev)                                              \
    do {                                                                                     \
        (node)->prev = NULL;                                                                 \
        (node)->next = (head);                                                               \
        if (head)                                                                            \
            (head)->prev = (node);                                                           \
        (head) = (node);                                                                     \
    } while (0)

#define WEFT__LIST_REMOVE(head, node, next, prev)                                            \
    do {                                                                                     \
        if ((node)->prev)                                                                    \
            (node)->prev->next = (node)->next;                                               \
        else                                                                                 \
            (head) = (node)->next;                                                           \
        if ((node)->next)                                                                    \
            (node)->next->prev = (node)->prev;                                               \
    } while (0)

/* ---- Handles in the debug build (handles.c) --------------------------------------- */

/* With -DWEFT_DEBUG_HANDLES=ON every handle is entered when made
 * (WEFT__HANDLE_BORN, with its kind: "queue", "thread"...) and removed when
 * its memory goes (WEFT__HANDLE_GONE); a public call begins with
 *     if (WEFT__HANDLE_DEAD(q, "queue")) return WEFT_EINVAL;
 * which, for a handle that is not a live one of that kind, leaves a message,
 * prints it on stderr and is true (WEFT__HANDLE_DEAD_IN names the call
 * itself, for a helper that checks on a public function's behalf). A NULL
 * handle is left to the call's own check. In other builds they cost
 * nothing. */
#ifdef WEFT_DEBUG_HANDLES
void weft__handle_born(const void *handle, const char *kind);
void weft__handle_gone(const void *handle);
bool weft__handle_dead(const void *handle, const char *kind, const char *call);
void weft__handles_at_fork(weft__fork_step step);
#define WEFT__HANDLE_BORN(handle, kind) weft__handle_born((handle), (kind))
#define WEFT__HANDLE_GONE(handle) weft__handle_gone(handle)
#define WEFT__HANDLE_DEAD_IN(call, handle, kind) ((handle) && weft__handle_dead((handle), (kind), (call)))
#else
#define WEFT__HANDLE_BORN(handle, kind) ((void)(handle), (void)(kind))
#define WEFT__HANDLE_GONE(handle) ((void)(handle))
#define WEFT__HANDLE_DEAD_IN(call, handle, kind) ((void)(call), (void)(kind), false)
#endif
/* The check in the public function itself, which it names. */
#define WEFT__HANDLE_DEAD(handle, kind) WEFT__HANDLE_DEAD_IN(__func__, handle, kind)

/* ---- Threads -------------------------------------------------------------------- */

/* The calling thread's record, made on first use, or NULL when it could not
 * be allocated (weft_thread_current() without the public contract). */
weft_thread *weft__self(void);

/* The calling thread's record if it has one, without making one: NULL
 * also before weft created its thread-local slot. */
weft_thread *weft__self_if_known(void);

/* Each record carries one pointer for local.c: the thread's table of
 * weft_local values. Only local.c reads or writes it. */
void **weft__thread_locals(weft_thread *t);

/* Call fn(t, ctx) for every live record, under the registry lock: fn must
 * not start, end or look up threads. */
void weft__registry_foreach(void (*fn)(weft_thread *t, void *ctx), void *ctx);

/* ---- Thread-local values (local.c) ------------------------------------------------ */

/* A thread is ending (weft's trampoline, weft_thread_exit, the slot
 * destructor of a borrowed thread, or the thread running an orderly exit):
 * run the destructors of its weft_local values, in rounds while destructors
 * set new values (a bounded number), and free its table. t is the calling
 * thread's record. */
void weft__locals_thread_end(weft_thread *t);

/* For the orderly exit: request a stop on every weft thread but the
 * caller (an exit a signal started); join every non-daemon weft thread but the caller, including those
 * started meanwhile, until none is left. */
void weft__threads_request_stop(void);
void weft__threads_join_non_daemon(void);

/* For weft__exit_report: print, on stderr, a line for each thread
 * weft__threads_join_non_daemon waits for. */
void weft__threads_report_non_daemon(void);

/* ---- The runtime (runtime.c) ------------------------------------------------------ */

/* Initialise the runtime if not done yet: the thread machinery, weft's one
 * set of fork handlers, the exit hook. Every entry point that needs the
 * runtime calls it first. WEFT_OK or the failure. */
int weft__runtime_init(void);

/* thread.c's part of weft__runtime_init: the thread-local slot and the
 * main thread's record. Called once. */
int weft__threads_setup(void);

/* Each runtime module's part of the fork handlers, which runtime.c calls
 * in its fixed order (the process layer's are in processes.h, the fault
 * hook's in internal.h). */
void weft__threads_at_fork(weft__fork_step step);
void weft__locals_at_fork(weft__fork_step step);
void weft__children_at_fork(weft__fork_step step);
void weft__exit_at_fork(weft__fork_step step);
void weft__executors_at_fork(weft__fork_step step);

/* ---- Executors (executor.c), for the process pool (pool.c) -------------------- */

/* weft_executor_submit_n with a future for each call (futures_out, n of
 * them), also on an executor that has an owner: each future's
 * dispose(arg, result), when not NULL, runs once its last reference is
 * gone, whatever became of the call (run, failed or cancelled; result is
 * NULL unless it returned). */
int weft__executor_submit(weft_executor *ex, void *(*fn)(void *arg), void *const args[], size_t n,
                          weft_future *futures_out[], void (*dispose)(void *arg, void *result));

/* Make `owner` (a process pool) the owner of ex, once, before ex is handed
 * out: weft_executor_submit then refuses function calls, and
 * weft_executor_destroy calls end(owner) after its shutdown. */
void weft__executor_set_owner(weft_executor *ex, void *owner, void (*end)(void *owner));

/* The owner of ex, or NULL for an executor of threads. */
void *weft__executor_owner(weft_executor *ex);


/* ---- Child processes (child.c) -------------------------------------------------- */

/* What the orderly exit does with a child: nothing (a Popen), wait for it
 * (a Process), or terminate it and wait (a daemon Process, a pool worker). */
typedef enum weft__child_kind {
    WEFT__CHILD_POPEN,
    WEFT__CHILD_PROCESS,
    WEFT__CHILD_DAEMON
} weft__child_kind;

typedef struct weft__child weft__child;

/* A record for a child about to start (allocated first, so a started child
 * always has one); NULL when out of memory. Hand it to weft__child_started
 * once the child runs, or to weft__child_release if it never started. */
weft__child *weft__child_new(weft__child_kind kind);
void weft__child_started(weft__child *c, const weft_sys_child *sys);

/* The owner gives c back; it is freed once also reaped (by the reaper
 * thread, see child.c, soon after it ends). Reaps other released
 * children that have ended. */
void weft__child_release(weft__child *c);

/* Reap the released children that have ended (call before a start). */
void weft__children_sweep(void);

/* Reap if ended: WEFT_OK with *code (exit status, -N for signal N), or
 * WEFT_EAGAIN while it runs. */
int weft__child_poll(weft__child *c, int *code);

/* Wait for the end by the deadline and reap: WEFT_OK with *code,
 * WEFT_ETIMEDOUT, WEFT_EOS. */
int weft__child_wait_until(weft__child *c, int64_t deadline, int *code);

/* Signal the child unless it is already reaped (SIGTERM, or SIGKILL when
 * `kill`). */
int weft__child_signal(weft__child *c, bool kill);

/* weft_sys_child_send_signal unless the child is already reaped (then
 * WEFT_OK: a pid given to another process is never signalled). */
int weft__child_send_signal(weft__child *c, int sig, bool new_group);

int64_t weft__child_pid(const weft__child *c);

/* Hold from creating a child's pipes until the parent closed the child's
 * ends of them and the child is on the list (see child.c). */
void weft__child_start_lock(void);
void weft__child_start_unlock(void);

/* With the start lock held: whether the orderly exit has come to the
 * children, after which no process child may start. */
bool weft__children_closed(void);

/* The orderly exit's step: terminate daemon children, wait for process
 * children. */
void weft__children_at_exit(void);

/* For weft__exit_report: print, on stderr, a line for each process child
 * still running or not reaped (the ones weft__children_at_exit waits for). */
void weft__children_report(void);


/* ---- Exit (exit.c) -------------------------------------------------------------- */

/* The C atexit hook that turns exit() and a return from main() into an
 * orderly exit; runtime.c installs it. */
void weft__exit_c_hook(void);

/* Whether weft_thread_start may still start threads: WEFT_OK, or
 * WEFT_ESHUTDOWN once the orderly exit has passed the point where threads
 * are joined. */
int weft__exit_allows_threads(void);

/* WEFT_DEBUG=exit (README, "Troubleshooting"): the exit's waits for threads
 * and children wait by this deadline (WEFT__NO_DEADLINE when the report is
 * off) and call weft__exit_report each time it passes, which prints what
 * the exit still waits for and moves the deadline on by a period. Only the
 * thread running the exit calls them. */
int64_t weft__exit_report_deadline(void);
void weft__exit_report(void);

#endif /* WEFT_RUNTIME_H */

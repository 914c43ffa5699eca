/* SPDX-License-Identifier: MIT */
/*
 * The runtime's owner: its lazy initialisation, weft's one set of fork
 * handlers, and the one place the exit hook is installed.
 *
 * Whatever needs the runtime (a thread, a thread-local value, an atexit
 * handler, a child process, the shutdown signals) calls
 * weft__runtime_init() first; the synchronisation primitives never do, so a
 * program that uses only locks and queues gets no hook and no handler.
 */
#include "processes.h" /* the process layer's fork parts: see fork_parts */

/*
 * Every module's part of the fork handlers, in the order their locks are
 * taken (an executor registers an exit handler with its registry's lock
 * held; a thread-local value is destroyed with no lock held but its own):
 * before fork() the parts run in this order and take their locks, so the
 * child finds what they guard whole; after it they run in the opposite
 * order, releasing them in the parent and resetting them in the child,
 * where only the forking thread exists. The first parts only reset, in the
 * child.
 */
static void (*const fork_parts[])(weft__fork_step step) = {
#ifdef WEFT_FAULT_INJECTION
    weft__fault_at_fork,     /* fault.c: the hook is the parent's */
#endif
    weft__ipc_at_fork,       /* ipc/pass.c: the registries of open handles */
    weft__pool_at_fork,      /* pool.c: the reply being written */
    weft__children_at_fork,  /* child.c: the parent's children are not the child's */
    weft__executors_at_fork, /* executor.c: the registry, the wait lock */
    weft__exit_at_fork,      /* exit.c: the handler stack, an exit under way */
    weft__targets_at_fork,   /* process.c: the registered targets */
    weft__locals_at_fork,    /* local.c: the table registry */
    weft__threads_at_fork,   /* thread.c: the registry; the forking thread is the main one */
#ifdef WEFT_DEBUG_HANDLES
    weft__handles_at_fork,   /* handles.c: a leaf, taken under any of the above */
#endif
};

enum { FORK_PARTS = sizeof fork_parts / sizeof fork_parts[0] };

static void runtime_before_fork(void)
{
    size_t i;

    for (i = 0; i < FORK_PARTS; i++)
        fork_parts[i](WEFT__FORK_PREPARE);
}

static void runtime_after_fork(weft__fork_step step)
{
    size_t i;

    for (i = FORK_PARTS; i-- > 0;)
        fork_parts[i](step);
}

static void runtime_after_fork_in_parent(void)
{
    runtime_after_fork(WEFT__FORK_PARENT);
}

static void runtime_after_fork_in_child(void)
{
    runtime_after_fork(WEFT__FORK_CHILD);
}

static weft_once runtime_once = WEFT_ONCE_INIT;
static int runtime_status;

static void runtime_setup(void *unused)
{
    (void)unused;
    runtime_status = weft__threads_setup();
    if (runtime_status == WEFT_OK)
        runtime_status = weft_sys_atfork(runtime_before_fork, runtime_after_fork_in_parent,
                                         runtime_after_fork_in_child);
    /* Not a failure of the runtime: without the hook, a return from
     * main() skips the orderly exit, as it did before weft was used. */
    if (runtime_status == WEFT_OK)
        (void)weft_sys_exit_hook(weft__exit_c_hook);
}

int weft__runtime_init(void)
{
    weft_call_once(&runtime_once, runtime_setup, NULL);
    if (runtime_status != WEFT_OK) /* every caller learns it, not only the first */
        return weft__fail(runtime_status, "weft's set-up (thread registry, fork handlers) failed: %s",
                          weft_strerror(runtime_status));
    return WEFT_OK;
}

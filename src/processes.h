/* SPDX-License-Identifier: MIT */
/*
 * The process layer (HACKING.md): Process and its targets, the spawned
 * child's side (bootstrap.c), the wire format, Pool and Popen. It looks at
 * the runtime layer and below.
 */
#ifndef WEFT_PROCESSES_H
#define WEFT_PROCESSES_H

#include "runtime.h"

/* ---- Processes (process.c, pool.c) ------------------------------------------------ */

/* The function registered as `name`, or NULL. */
weft_process_fn weft__target_find(const char *name);

/* What a new child runs: a registered target, or one of weft's internal
 * targets, which talk to the parent through a channel. */
typedef struct weft__start {
    weft_start_method method;
    weft__child_kind kind;
    const char *target; /* the target's name */
    /* NULL: a registered target. An internal target: its function (run in
     * a forked child; a spawned child finds it by name, bootstrap.c), and
     * *to_child and *from_child receive the parent's ends of its channel,
     * whose other ends the child finds with weft__wire_parent(). */
    weft_process_fn internal;
    const void *arg;
    size_t len;
    weft_sys_file *to_child, *from_child;
    /* Handles of weft/ipc.h the child receives (weft_process_passed). */
    const void *const *pass;
    size_t npass;
} weft__start;

/* Start a child as `how` says into a record made here (*out). Returns
 * WEFT_OK or the failure (nothing left behind). */
int weft__process_start(weft__child **out, const weft__start *how);

/* WEFT_OK when `method` is a weft_start_method, else WEFT_EINVAL with a
 * message naming `call` (process_start, pool_create). */
int weft__start_method_check(const char *call, weft_start_method method);

/* weft_process_main was called (bootstrap.c tells process.c, whose start
 * refuses to start a child in a spawned child before that). */
void weft__process_main_called(void);

/* The first argument of a child of the spawn method. */
#define WEFT__SPAWN_MARKER "--weft-process"

/* The environment variable that names, to a child of weft_popen_start
 * given handles to pass, the pipe holding their handoffs (its argv is the
 * caller's); weft_process_main reads and removes it (bootstrap.c). */
#define WEFT__PASSED_ENV "WEFT_PASSED"

/* The internal target of a pool's worker (pool.c), in the child: read
 * tasks from its parent, write results back, until told to stop or the
 * parent is gone. Returns the exit code. */
#define WEFT__INTERNAL_PREFIX "weft:" /* weft's own targets; refused to the program */
#define WEFT__POOL_WORKER WEFT__INTERNAL_PREFIX "pool-worker"
int weft__pool_worker(const void *arg, size_t len);

/* The process layer's parts of the fork handlers (src/runtime.c): the
 * registered targets; pool.c's reply (a worker's target may fork). */
void weft__targets_at_fork(weft__fork_step step);
void weft__pool_at_fork(weft__fork_step step);

/* src/ipc/'s part (pass.c): the registries of open handles, which a forked
 * child walks to let go of those it was not given. */
void weft__ipc_at_fork(weft__fork_step step);

/* ---- The wire (wire.c) ------------------------------------------------------------- */

/* A call as read: the target's name (NUL-terminated; "" tells a pool
 * worker to stop) and its argument bytes (len, plus a NUL), both from
 * weft__malloc. */
typedef struct weft__wire_call {
    char *name;
    void *arg;
    size_t len;
} weft__wire_call;

/* Send a call / a pool task's result: WEFT_OK, WEFT_ECHILD when the reader
 * is gone, or WEFT_EOS. */
int weft__wire_send_call(weft_sys_file f, const char *name, const void *arg, size_t len);
int weft__wire_send_result(weft_sys_file f, int status, int value, const void *data, size_t len);

/* Read a call into *call (free it with weft__wire_call_free; empty on
 * failure): WEFT_OK, WEFT_ECHILD when the writer is gone, WEFT_EINVAL for
 * a message that is not a call (a name over the cap), WEFT_ENOMEM, or
 * WEFT_EOS. */
int weft__wire_receive_call(weft_sys_file f, weft__wire_call *call);
void weft__wire_call_free(weft__wire_call *call);

/* Read a result into r's status, value, data (from weft__malloc, NULL when
 * empty) and len: WEFT_OK, WEFT_ECHILD, WEFT_ENOMEM, or WEFT_EOS. */
int weft__wire_receive_result(weft_sys_file f, weft_pool_result *r);

/* In a child running an internal target: its channel with the parent
 * (set by the start, read by the target). */
void weft__wire_set_parent(weft_sys_file in, weft_sys_file out);
void weft__wire_parent(weft_sys_file *in, weft_sys_file *out);


#endif /* WEFT_PROCESSES_H */

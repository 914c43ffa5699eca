/* SPDX-License-Identifier: MIT */
/*
 * multiprocessing.Process: the registered targets, the two start methods,
 * and the handles. The child's side of the spawn method is bootstrap.c.
 *
 * A spawned child is this executable run as `<exe> --weft-process <in>
 * [<out>]`, where <in> (and for an internal target that talks back, <out>)
 * name the pipes it inherited. The parent writes the start message (a
 * call, src/wire.c) into <in>; nothing but those names is on the command
 * line, so arguments of any size and content pass.
 */
#include "processes.h"
#include "ipc/ipc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct registered_target {
    char *name;
    weft_process_fn fn;
} registered_target;

static weft_lock targets_lock;
static registered_target *registered_targets;
static size_t target_count, target_cap;

struct weft_process {
    weft__child *child;
};

/* ---- Targets ------------------------------------------------------------------ */

static registered_target *find_locked(const char *name)
{
    size_t i;

    for (i = 0; i < target_count; i++) {
        if (strcmp(registered_targets[i].name, name) == 0)
            return &registered_targets[i];
    }
    return NULL;
}

void weft__targets_at_fork(weft__fork_step step)
{
    weft__lock_at_fork(&targets_lock, step);
}

weft_process_fn weft__target_find(const char *name)
{
    registered_target *t;
    weft_process_fn fn;

    weft__lock(&targets_lock);
    t = find_locked(name);
    fn = t ? t->fn : NULL;
    weft__unlock(&targets_lock);
    return fn;
}

int weft_process_register(const char *name, weft_process_fn fn)
{
    registered_target *t, *grown;
    char *copy;
    int rc = WEFT_OK;

    if (!name || !*name || !fn)
        return weft__fail(WEFT_EINVAL, "process_register: %s", !fn ? "fn is NULL"
                                                                : "the name is NULL or empty");
    if (strncmp(name, WEFT__INTERNAL_PREFIX, sizeof WEFT__INTERNAL_PREFIX - 1) == 0)
        return weft__fail(WEFT_EINVAL, "process_register: \"%s\": names starting with \"%s\" are weft's own",
                          name, WEFT__INTERNAL_PREFIX);
    weft__lock(&targets_lock);
    t = find_locked(name);
    if (t) {
        rc = t->fn == fn ? WEFT_OK
                         : weft__fail(WEFT_EINVAL, "process_register: \"%.100s\" is registered "
                                                   "with another function",
                                      name);
        goto out;
    }
    if (target_count == target_cap) {
        size_t cap = target_cap ? target_cap * 2 : 8;
        grown = weft__realloc(registered_targets, cap * sizeof *grown);
        if (!grown) {
            rc = weft__fail(WEFT_ENOMEM, "process_register: no memory for %zu targets", cap);
            goto out;
        }
        registered_targets = grown;
        target_cap = cap;
    }
    copy = weft__strdup(name);
    if (!copy) {
        rc = weft__fail(WEFT_ENOMEM, "process_register: no memory for the name");
        goto out;
    }
    registered_targets[target_count++] = (registered_target){copy, fn};
out:
    weft__unlock(&targets_lock);
    return rc;
}

static void close_file(weft_sys_file *f)
{
    if (*f != WEFT__NO_FILE) {
        weft_sys_close(*f);
        *f = WEFT__NO_FILE;
    }
}

/* ---- Starting a child --------------------------------------------------------------- */

/* This program's path, which the spawn method starts again: found by the
 * first spawn, under the start lock, which every later reader holds too.
 * A failure (no memory) is not kept: the next spawn tries again. */
static char *self_exe;

static int find_self_exe(void)
{
    int rc = WEFT_OK;

    weft__child_start_lock();
    if (!self_exe)
        rc = weft_sys_executable_path(&self_exe);
    weft__child_start_unlock();
    return rc;
}

/* The channel of a new child: the parent writes into `parent_write`,
 * reads `parent_read` (an internal target's answers); the child has the
 * other ends. */
typedef struct channel {
    weft_sys_file parent_write, child_read;
    weft_sys_file parent_read, child_write;
} channel;

static void channel_close(channel *ch)
{
    close_file(&ch->parent_write);
    close_file(&ch->child_read);
    close_file(&ch->parent_read);
    close_file(&ch->child_write);
}

static int channel_open(channel *ch, bool with_results)
{
    int rc;

    *ch = (channel){WEFT__NO_FILE, WEFT__NO_FILE, WEFT__NO_FILE, WEFT__NO_FILE};
    rc = weft_sys_pipe(&ch->child_read, &ch->parent_write);
    if (rc == WEFT_OK && with_results)
        rc = weft_sys_pipe(&ch->parent_read, &ch->child_write);
    if (rc != WEFT_OK)
        channel_close(ch);
    return rc;
}

/* The spawn method: run this executable again and hand it the start
 * message (the target's name and the argument) through the inherited pipe. */
static int start_by_spawn(weft__child *c, const weft__start *how, channel *ch,
                          weft__ipc_pass *passing)
{
    const char *argv[] = {self_exe, WEFT__SPAWN_MARKER, NULL};
    weft_sys_spawn_opts opts;
    weft_sys_child sys;
    weft_sys_file *in_child = NULL;
    int rc = WEFT_OK;

    memset(&opts, 0, sizeof opts);
    opts.argv = argv;
    opts.stdio[0] = opts.stdio[1] = opts.stdio[2] = WEFT__NO_FILE;
    opts.pass[0] = ch->child_read;
    opts.pass[1] = ch->child_write;
    opts.pass_count = ch->child_write != WEFT__NO_FILE ? 2 : 1;
    if (passing->nfiles > 0) {
        in_child = weft__calloc(passing->nfiles, sizeof *in_child);
        rc = in_child ? WEFT_OK
                      : weft__fail(WEFT_ENOMEM, "no memory for %zu passed files", passing->nfiles);
    }
    opts.inherit = passing->files;
    opts.inherit_as = in_child;
    opts.inherit_count = passing->nfiles;
    if (rc == WEFT_OK)
        rc = weft_sys_spawn(&sys, &opts);
    close_file(&ch->child_read);
    close_file(&ch->child_write);
    if (rc == WEFT_OK)
        weft__child_started(c, &sys);
    weft__child_start_unlock();
    if (rc == WEFT_OK) {
        /* The handoffs name the files as the child finds them. */
        weft__ipc_pass_rename(passing, in_child);
        rc = weft__wire_send_call(ch->parent_write, how->target, how->arg, how->len);
        if (rc == WEFT_OK)
            rc = weft__wire_send_handoffs(ch->parent_write, passing->items, passing->count);
        if (rc != WEFT_OK) {
            weft__fail(rc, "the start message did not reach the child: %s", weft_strerror(rc));
            weft__child_signal(c, true); /* it cannot run what it did not get */
        }
    }
    weft__free(in_child);
    return rc;
}

/* The fork method. The child never returns from here: it runs the target
 * (an internal one with its channel to the parent) and ends through the
 * immediate exit, so no handler inherited from the parent runs; stdio,
 * flushed before the fork (weft__process_start), is flushed again after the
 * work. */
static int start_by_fork(weft__child *c, const weft__start *how, channel *ch,
                         weft_process_fn fn)
{
    weft_sys_child sys;
    bool in_child = false;
    int rc, code;

    rc = weft_sys_fork(&sys, &in_child);
    if (rc == WEFT_OK && in_child) {
        close_file(&ch->parent_write);
        close_file(&ch->parent_read);
        weft__wire_set_parent(ch->child_read, ch->child_write);
        if (weft__ipc_adopt_forked(how->pass, how->npass) != WEFT_OK) {
            fprintf(stderr, "weft: a forked child could not take the objects passed to it: %s\n",
                    weft_last_error_message());
            weft_sys_exit_now(1);
        }
        code = fn(how->arg, how->len);
        fflush(NULL);
        weft_sys_exit_now(code);
    }
    close_file(&ch->child_read);
    close_file(&ch->child_write);
    if (rc == WEFT_OK)
        weft__child_started(c, &sys);
    weft__child_start_unlock();
    return rc;
}

/* ---- The bootstrap guard -------------------------------------------------------- */

/* weft_process_main has been called (whether or not this is a spawned
 * child). */
static uint32_t main_called;

static bool spawned_child;
static weft_once spawned_once = WEFT_ONCE_INIT;

static void find_spawned(void *unused)
{
    (void)unused;
    spawned_child = weft_sys_first_argument_is(WEFT__SPAWN_MARKER);
}

/* A child of the spawn method runs main() again. If main() starts a
 * process before weft_process_main() has taken the child over, every
 * child starts another, without end (a Pool's grow exponentially): as
 * Python's RuntimeError about the bootstrapping phase, refuse, loudly,
 * since such a program may well not look at the status. */
static int check_bootstrapped(void)
{
    static const char why[] =
        "a child of the spawn method must not start a process before weft_process_main() has "
        "run: call weft_process_main(argc, argv) at the top of main(), after registering the "
        "targets, or each child starts another without end";

    if (weft__load(&main_called))
        return WEFT_OK;
    weft_call_once(&spawned_once, find_spawned, NULL);
    if (!spawned_child)
        return WEFT_OK;
    fprintf(stderr, "weft: %s\n", why);
    return weft__fail(WEFT_EPERM, "starting a process: %s", why);
}

void weft__process_main_called(void)
{
    weft__store(&main_called, 1);
}

/* weft__process_start once the handles to pass are known good. */
static int start_child(weft__child **out, const weft__start *how, weft_process_fn fn,
                       weft__ipc_pass *passing)
{
    bool internal = how->internal != NULL;
    bool fork = how->method == WEFT_START_FORK;
    weft__child *c;
    channel ch;
    int rc;

    weft__children_sweep();
    /* What the parent printed before the start comes before what the child
     * prints, in a file both write to; a forked child would also write the
     * parent's buffered bytes a second time. */
    fflush(NULL);
    c = weft__child_new(how->kind);
    if (!c)
        return weft__fail(WEFT_ENOMEM, "no memory for the child's record");
    weft__child_start_lock();
    if (weft__children_closed()) {
        /* The exit has passed the list of children: this one would be
         * neither waited for nor terminated, and would be left without
         * its start message. */
        weft__child_start_unlock();
        weft__child_release(c);
        return weft__fail(WEFT_ESHUTDOWN,
                          "starting a process: the orderly exit has already dealt with the "
                          "children");
    }
    /* A forked Process needs no channel: the target and argument are in
     * its copy of memory already. An internal target talks to its parent. */
    if (fork && !internal)
        ch = (channel){WEFT__NO_FILE, WEFT__NO_FILE, WEFT__NO_FILE, WEFT__NO_FILE};
    else if ((rc = channel_open(&ch, internal)) != WEFT_OK) {
        weft__child_start_unlock();
        weft__child_release(c);
        return rc;
    }
    rc = fork ? start_by_fork(c, how, &ch, fn) : start_by_spawn(c, how, &ch, passing);
    if (rc == WEFT_OK && internal) {
        *how->to_child = ch.parent_write;
        *how->from_child = ch.parent_read;
    } else {
        channel_close(&ch);
    }
    if (rc != WEFT_OK) {
        weft__child_release(c);
        return rc;
    }
    *out = c;
    return WEFT_OK;
}

int weft__process_start(weft__child **out, const weft__start *how)
{
    weft_process_fn fn = how->internal;
    weft__ipc_pass passing;
    bool internal = fn != NULL;
    bool fork = how->method == WEFT_START_FORK;
    int rc;

    rc = check_bootstrapped();
    if (rc != WEFT_OK)
        return rc;
    if (!internal && (fn = weft__target_find(how->target)) == NULL)
        return weft__fail(WEFT_ENOENT, "no target \"%.100s\" is registered (weft_process_register)",
                          how->target);
    rc = weft__exit_allows_threads();
    if (rc != WEFT_OK)
        return rc;
    /* The runtime: its fork handlers make a forked child's weft
     * consistent, its exit hook deals with the children at the exit. */
    rc = weft__runtime_init();
    if (rc == WEFT_OK && !fork)
        rc = find_self_exe();
    if (rc != WEFT_OK)
        return rc;
    /* Every handle is looked at before anything starts: a bad one fails
     * the start with nothing left behind. A forked child uses the handles
     * themselves (weft__ipc_adopt_forked). */
    rc = weft__ipc_pass_export(&passing, how->pass, how->npass);
    if (rc != WEFT_OK)
        return rc;
    rc = start_child(out, how, fn, &passing);
    weft__ipc_pass_free(&passing);
    return rc;
}


/* ---- Process handles ---------------------------------------------------------------- */

/* pass and npass took two of the four reserved slots: the struct keeps its
 * size, so a program built against an older weft.h still passes a whole
 * one (and its zero reserved slots read as no handles). */
typedef struct process_opts_before_pass {
    weft_start_method method;
    bool daemon;
    void *reserved[4];
} process_opts_before_pass;
_Static_assert(sizeof(weft_process_opts) == sizeof(process_opts_before_pass),
               "weft_process_opts must keep its size");

int weft__start_method_check(const char *call, weft_start_method method)
{
    if (method == WEFT_START_DEFAULT || method == WEFT_START_FORK || method == WEFT_START_SPAWN)
        return WEFT_OK;
    return weft__fail(WEFT_EINVAL, "%s: method %d is not a weft_start_method", call, (int)method);
}

int weft_process_start(weft_process **out, const char *target, const void *arg, size_t len,
                       const weft_process_opts *opts)
{
    weft_process_opts o = opts ? *opts : (weft_process_opts){0};
    weft__start how;
    weft_process *p;
    int rc;

    if (!out || !target || (!arg && len > 0))
        return weft__fail(WEFT_EINVAL, "process_start: %s", !out ? "out is NULL"
                                                          : !target ? "target is NULL"
                                                                    : "arg is NULL, len > 0");
    rc = weft__start_method_check("process_start", o.method);
    if (rc != WEFT_OK)
        return rc;
    rc = WEFT__RESERVED_CHECK("process_start", &o);
    if (rc != WEFT_OK)
        return rc;
    p = weft__malloc(sizeof *p);
    if (!p)
        return weft__fail(WEFT_ENOMEM, "process_start: no memory for the handle");
    how = (weft__start){o.method, o.daemon ? WEFT__CHILD_DAEMON : WEFT__CHILD_PROCESS,
                        target, NULL, arg, len, NULL, NULL, o.pass, o.npass};
    rc = weft__process_start(&p->child, &how);
    if (rc != WEFT_OK) {
        weft__free(p);
        return weft__fail_wrap(rc, "process_start: \"%.100s\"", target);
    }
    WEFT__HANDLE_BORN(p, "process");
    *out = p;
    return WEFT_OK;
}

int weft_process_join(weft_process *process, double timeout)
{
    int64_t deadline;
    int code;
    int rc = weft__begin_wait(process, timeout, &deadline);

    if (rc != WEFT_OK)
        return rc;
    if (WEFT__HANDLE_DEAD(process, "process"))
        return WEFT_EINVAL;
    return weft__timed_out(weft__child_wait_until(process->child, deadline, &code),
                           "process_join: timed out: the child still runs");
}

bool weft_process_is_alive(weft_process *process)
{
    int code;

    return process && !WEFT__HANDLE_DEAD(process, "process") &&
           weft__child_poll(process->child, &code) == WEFT_EAGAIN;
}

int weft_process_exitcode(weft_process *process, int *code)
{
    int rc;

    if (!process || !code)
        return weft__fail_null(__func__);
    if (WEFT__HANDLE_DEAD(process, "process"))
        return WEFT_EINVAL;
    rc = weft__child_poll(process->child, code);
    if (rc == WEFT_EAGAIN)
        return weft__fail_text(rc, "process_exitcode: the child still runs");
    return rc;
}

int64_t weft_process_pid(const weft_process *process)
{
    return process && !WEFT__HANDLE_DEAD(process, "process") ? weft__child_pid(process->child) : -1;
}

int weft_process_terminate(weft_process *process)
{
    if (WEFT__HANDLE_DEAD(process, "process"))
        return WEFT_EINVAL;
    return process ? weft__child_signal(process->child, false) : weft__fail_null(__func__);
}

int weft_process_kill(weft_process *process)
{
    if (WEFT__HANDLE_DEAD(process, "process"))
        return WEFT_EINVAL;
    return process ? weft__child_signal(process->child, true) : weft__fail_null(__func__);
}

void weft_process_release(weft_process *process)
{
    if (process && !WEFT__HANDLE_DEAD(process, "process")) {
        WEFT__HANDLE_GONE(process);
        weft__child_release(process->child);
        weft__free(process);
    }
}

int64_t weft_getpid(void)
{
    return weft_sys_getpid();
}

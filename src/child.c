/* SPDX-License-Identifier: MIT */
/*
 * Child processes as the common modules see them (process.c, pool.c,
 * popen.c): waiting with a deadline, reaping, signalling, and what happens
 * to children at the orderly exit.
 *
 * Reap and signal take the child's lock, and a signal is sent only while
 * the child is not yet reaped: once waitpid has collected a child its pid
 * may be given to another process, which must never receive our signal.
 * Waiting happens outside the lock, so a kill is never held up by a
 * waiter, and many threads may wait at once. A wait may go by the pid (an
 * untimed wait is one waitid, as cheap as waitpid), so no reap happens
 * while anyone waits: `waiters` counts them. Once a wait has seen the end
 * (`ended`), nobody starts another: later callers sleep on `reaped`, and
 * the last waiter out reaps and wakes them.
 *
 * Every record is on one list until it is both released by its owner and
 * reaped, so the orderly exit finds every process child there. A child
 * joins the list under the start lock, and once the exit has come to the
 * children (`closed`, set under that lock) no other may start: one started
 * later would miss the exit's list walk, and the ending process would
 * leave it without its start message.
 *
 * Released children are reaped by the reaper: a thread (an OS thread of
 * its own, not a weft thread: nothing waits for it) started only when an
 * owner releases a child that still runs, and ending as soon as no
 * released child is left unreaped, so a program that never does that
 * pays nothing. It sweeps the list, then sleeps, from 1 ms doubling up to
 * 200 ms (REAPER_PAUSE_MAX_NS), started short again by each release, so a
 * released child stays a zombie (or, on Windows, keeps its handle) about
 * 200 ms at most after its end. It polls because it must watch many
 * children at once, and no portable call waits for any of a set of
 * children without reaping the others (a pidfd per child would do on
 * Linux, at the price of a descriptor each). When the OS has no thread
 * for it, the sweep at each start and release (as subprocess._cleanup)
 * is the fallback.
 */
#include "runtime.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

struct weft__child {
    weft_sys_child sys;
    weft_lock lock;  /* held around reap and signal */
    uint32_t reaped; /* set once `code` is valid and the pid is gone */
    uint32_t waiters; /* threads waiting for its end; under lock */
    bool ended;       /* a wait saw its end; under lock */
    int code;
    weft__child_kind kind;
    bool started;    /* sys is a real child */
    bool at_exit;    /* the orderly exit has dealt with it */
    uint32_t refs;   /* the owner's, and the exit's while it waits; under list_lock */
    weft__child *next, *prev;
};

static weft_lock list_lock;
static weft__child *list_head;

/* Held from the creation of a child's pipes until the parent has closed
 * the child's ends, so that a fork() for another child in between cannot
 * give that child a copy of them (a copy of a write end would keep the
 * reader from ever seeing the end of the file); and until the child is on
 * the list. */
static weft_lock start_lock;
static bool closed; /* under start_lock: the orderly exit has come to the children */

#define REAPER_PAUSE_FIRST_NS 1000000    /* 1 ms */
#define REAPER_PAUSE_MAX_NS 200000000    /* 200 ms */
#define REAPER_STACK (64 * 1024)

static bool reaper_running; /* under list_lock */
static uint32_t reaper_wake; /* bumped by each release that needs the reaper */

static void reaper_main(void *unused);
static const weft_sys_start reaper_start = {reaper_main, NULL};

void weft__child_start_lock(void)
{
    weft__lock(&start_lock);
}

void weft__child_start_unlock(void)
{
    weft__unlock(&start_lock);
}

bool weft__children_closed(void)
{
    return closed;
}

weft__child *weft__child_new(weft__child_kind kind)
{
    weft__child *c = weft__calloc(1, sizeof *c);

    if (c) {
        c->kind = kind;
        c->refs = 1;
    }
    return c;
}

void weft__child_started(weft__child *c, const weft_sys_child *sys)
{
    c->sys = *sys;
    c->started = true;
    weft__lock(&list_lock);
    WEFT__LIST_PUSH(list_head, c, next, prev);
    weft__unlock(&list_lock);
}

/* With c's lock: reap c if it has ended and nobody waits by its pid. */
static void reap_locked(weft__child *c)
{
    int code;

    if (!c->reaped && c->waiters == 0 && weft_sys_child_reap(&c->sys, &code) == WEFT_OK) {
        c->code = code;
        weft__store(&c->reaped, 1);
        weft_sys_wake_all(&c->reaped);
    }
}

static void try_reap(weft__child *c)
{
    if (weft__load(&c->reaped))
        return;
    weft__lock(&c->lock);
    reap_locked(c);
    weft__unlock(&c->lock);
}

/* With list_lock held: free c if nobody holds it and its pid is gone. */
static void free_if_done(weft__child *c)
{
    if (c->refs != 0 || !weft__load(&c->reaped))
        return;
    WEFT__LIST_REMOVE(list_head, c, next, prev);
    weft_sys_child_close(&c->sys);
    weft__free(c);
}

/* Reap whatever released children have ended. Returns whether a
 * released child is left that still runs. */
static bool sweep(void)
{
    weft__child *c, *next;
    bool left = false;

    weft__lock(&list_lock);
    for (c = list_head; c; c = next) {
        next = c->next;
        if (c->refs == 0) {
            try_reap(c);
            left = left || !weft__load(&c->reaped);
            free_if_done(c);
        }
    }
    weft__unlock(&list_lock);
    return left;
}

static void reaper_main(void *unused)
{
    int64_t pause = REAPER_PAUSE_FIRST_NS;
    uint32_t seen;
    bool left;

    (void)unused;
    for (;;) {
        seen = weft__load(&reaper_wake);
        left = sweep();
        if (!left) {
            /* A release after the sweep finds the reaper gone and starts
             * another (or, seeing it still marked running, has bumped the
             * wake word: then look again). */
            weft__lock(&list_lock);
            left = weft__load(&reaper_wake) != seen;
            reaper_running = left;
            weft__unlock(&list_lock);
            if (!left)
                return;
        }
        if (weft_sys_wait(&reaper_wake, seen, weft_sys_monotonic_ns() + pause) == WEFT_OK &&
            weft__load(&reaper_wake) != seen)
            pause = REAPER_PAUSE_FIRST_NS; /* a new release: its child may end soon */
        else if (pause < REAPER_PAUSE_MAX_NS / 2)
            pause *= 2;
        else
            pause = REAPER_PAUSE_MAX_NS;
    }
}

/* With list_lock held: a released child still runs; have the reaper watch
 * it. Without a thread for the reaper, the sweeps at later starts and
 * releases reap it. */
static void need_reaper_locked(void)
{
    weft_sys_thread thread;

    weft__fetch_add(&reaper_wake, 1);
    if (reaper_running) {
        weft_sys_wake_one(&reaper_wake);
        return;
    }
    if (weft_sys_thread_start(&thread, &reaper_start, REAPER_STACK) == WEFT_OK) {
        weft_sys_thread_detach(thread);
        reaper_running = true;
    }
}

void weft__child_release(weft__child *c)
{
    bool runs;

    if (!c)
        return;
    if (!c->started) {
        weft__free(c);
        return;
    }
    try_reap(c);
    weft__lock(&list_lock);
    c->refs--;
    runs = c->refs == 0 && !weft__load(&c->reaped);
    free_if_done(c);
    if (runs)
        need_reaper_locked();
    weft__unlock(&list_lock);
    sweep();
}

void weft__children_sweep(void)
{
    (void)sweep();
}

int weft__child_poll(weft__child *c, int *code)
{
    try_reap(c);
    if (!weft__load(&c->reaped))
        return WEFT_EAGAIN;
    *code = c->code;
    return WEFT_OK;
}

/* Wait for c's end without reaping it, counted in `waiters` so that no
 * reap frees its pid meanwhile. A wait by a deadline needs the child's
 * handle, made at the first such wait, while the child is surely not
 * reaped. */
static int wait_for_end(weft__child *c, int64_t deadline)
{
    int rc;

    weft__lock(&c->lock);
    if (c->reaped) {
        weft__unlock(&c->lock);
        return WEFT_OK;
    }
    if (c->ended) {
        /* The reap is due once the waiters still inside are out. */
        weft__unlock(&c->lock);
        return weft_sys_wait(&c->reaped, 0, deadline);
    }
    c->waiters++;
    if (deadline != WEFT__NO_DEADLINE)
        weft_sys_child_open(&c->sys);
    weft__unlock(&c->lock);
    rc = weft_sys_child_wait(&c->sys, deadline);
    weft__lock(&c->lock);
    c->waiters--;
    if (rc == WEFT_OK)
        c->ended = true;
    if (c->ended)
        reap_locked(c);
    weft__unlock(&c->lock);
    return rc;
}

int weft__child_wait_until(weft__child *c, int64_t deadline, int *code)
{
    int rc;

    while (weft__child_poll(c, code) == WEFT_EAGAIN) {
        rc = wait_for_end(c, deadline);
        if (rc != WEFT_OK && weft__child_poll(c, code) == WEFT_EAGAIN)
            return rc;
    }
    return WEFT_OK;
}

int weft__child_signal(weft__child *c, bool kill)
{
    int rc = WEFT_OK;

    weft__lock(&c->lock);
    if (!c->reaped)
        rc = weft_sys_child_signal(&c->sys, kill);
    weft__unlock(&c->lock);
    return rc;
}

int weft__child_send_signal(weft__child *c, int sig, bool new_group)
{
    int rc = WEFT_OK;

    weft__lock(&c->lock);
    if (!c->reaped)
        rc = weft_sys_child_send_signal(&c->sys, sig, new_group);
    weft__unlock(&c->lock);
    return rc;
}

int64_t weft__child_pid(const weft__child *c)
{
    return c->sys.pid;
}

/* The next process child the exit has not dealt with, held, or NULL. */
static weft__child *next_for_exit(void)
{
    weft__child *c;

    weft__lock(&list_lock);
    for (c = list_head; c; c = c->next) {
        if (c->kind != WEFT__CHILD_POPEN && !c->at_exit) {
            c->at_exit = true;
            c->refs++;
            break;
        }
    }
    weft__unlock(&list_lock);
    return c;
}

static void drop(weft__child *c)
{
    weft__lock(&list_lock);
    c->refs--;
    free_if_done(c);
    weft__unlock(&list_lock);
}

/* multiprocessing's exit: terminate the daemon children, then wait for
 * every process child (daemon or not); those started meanwhile too. */
void weft__children_at_exit(void)
{
    weft__child *c;
    int code;

    weft__lock(&start_lock);
    closed = true;
    weft__unlock(&start_lock);
    weft__lock(&list_lock);
    for (c = list_head; c; c = c->next) {
        if (c->kind == WEFT__CHILD_DAEMON)
            weft__child_signal(c, false);
    }
    weft__unlock(&list_lock);
    while ((c = next_for_exit()) != NULL) {
        if (c->kind == WEFT__CHILD_DAEMON)
            weft__child_signal(c, false);
        while (weft__child_wait_until(c, weft__exit_report_deadline(), &code) ==
               WEFT_ETIMEDOUT)
            weft__exit_report();
        drop(c);
    }
}

void weft__children_report(void)
{
    weft__child *c;

    weft__lock(&list_lock);
    for (c = list_head; c; c = c->next) {
        if (c->kind != WEFT__CHILD_POPEN && c->started && !weft__load(&c->reaped))
            fprintf(stderr, "weft:   child process pid %" PRId64 "\n", c->sys.pid);
    }
    weft__unlock(&list_lock);
}

/* A forked child has no children: forget the parent's (its handles stay
 * valid memory, but must not be used in the child), and it has no reaper
 * thread. The start lock may be held by the forking thread itself (a fork
 * start): it is free again. */
void weft__children_at_fork(weft__fork_step step)
{
    if (step != WEFT__FORK_CHILD)
        return;
    weft__lock_reset(&list_lock);
    weft__lock_reset(&start_lock);
    list_head = NULL;
    closed = false;
    reaper_running = false;
}

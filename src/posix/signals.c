/* SPDX-License-Identifier: MIT */
/*
 * Shutdown signals on POSIX. The handler does only what is async-signal-
 * safe: on the first signal it writes the signal number into a pipe; a
 * watcher thread reads it and calls the common code's callback, which runs
 * the orderly exit on that ordinary thread. A second signal, or one that
 * arrives while an exit runs, ends the process at once with _exit.
 *
 * The handling belongs to the process that installed it. A fork child has
 * the handler and the pipe but not the watcher: weft's fork handler gives
 * it back the dispositions that were there before and closes its copy of
 * the pipe, so that the child ends by the signal as before, and never
 * wakes the parent's watcher. The handler itself checks the pid too, for a
 * signal that reaches the child before that handler has run.
 *
 * Installing either completes or leaves nothing behind (no pipe, no
 * watcher, no handler), so a later call can succeed.
 */
#define _GNU_SOURCE /* sigaction under -std=c11 */
#include "posix.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#define SIGNAL_COUNT 3
static const int shutdown_signals[SIGNAL_COUNT] = {SIGINT, SIGTERM, SIGHUP};

/* Orders installs and fork. A pthread mutex, not a weft_lock: the backend
 * is below the synchronisation layer. */
static pthread_mutex_t install_lock = PTHREAD_MUTEX_INITIALIZER;
static bool installed;
static struct sigaction previous[SIGNAL_COUNT]; /* what was there before */
static int wake_pipe[2] = {-1, -1};
static pid_t owner; /* the process whose watcher reads the pipe */
static void (*on_signal_cb)(int code);
static bool (*exiting_cb)(void);
static volatile sig_atomic_t signal_seen;

/* The install returns only once the watcher runs: its thread start-up
 * (stack, thread-local storage, a sanitizer's bookkeeping: allocations
 * under the allocator's locks) is over before the caller can fork, so a
 * fork child never inherits a lock the watcher held half-way. */
static pthread_mutex_t watcher_start_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t watcher_started = PTHREAD_COND_INITIALIZER;
static bool watcher_running;

static void signal_handler(int sig)
{
    int saved = errno;
    unsigned char byte = (unsigned char)sig;
    size_t i;

    if (getpid() != owner) {
        /* A fork child before weft's fork handler reset it: the signal does
         * what it did before weft's handler was installed. */
        for (i = 0; i < SIGNAL_COUNT; i++) {
            if (shutdown_signals[i] == sig)
                sigaction(sig, &previous[i], NULL);
        }
        raise(sig);
        errno = saved;
        return;
    }
    if (signal_seen || exiting_cb())
        _exit(128 + sig);
    signal_seen = 1;
    if (write(wake_pipe[1], &byte, 1) != 1)
        _exit(128 + sig); /* no way to reach the watcher: end as the signal would */
    errno = saved;
}

/* Reads its own end of the pipe (the argument): when the write end closes
 * (an install that failed half-way), it closes that end and leaves. */
static void *watcher(void *arg)
{
    int fd = (int)(intptr_t)arg;
    unsigned char byte;
    ssize_t n;

    pthread_mutex_lock(&watcher_start_lock);
    watcher_running = true;
    pthread_cond_signal(&watcher_started);
    pthread_mutex_unlock(&watcher_start_lock);
    for (;;) {
        n = read(fd, &byte, 1);
        if (n == 1)
            on_signal_cb(128 + byte);
        else if (n < 0 && errno == EINTR)
            continue;
        else
            break;
    }
    close(fd);
    return NULL;
}

static void restore_dispositions(size_t count)
{
    size_t i;

    for (i = 0; i < count; i++)
        sigaction(shutdown_signals[i], &previous[i], NULL);
}

/* Under install_lock. */
static int install(void)
{
    struct sigaction sa;
    pthread_attr_t attr;
    pthread_t thread;
    weft_sys_file ends[2] = {WEFT__NO_FILE, WEFT__NO_FILE}; /* as in popen.c's child_end */
    size_t i;
    int rc, err;

    rc = weft__posix_fork_handlers();
    if (rc != WEFT_OK)
        return weft__fail(rc, "exit_on_signals: cannot register the fork handlers");
    rc = weft_sys_pipe(&ends[0], &ends[1]);
    if (rc != WEFT_OK)
        return weft__fail_wrap(rc, "exit_on_signals: cannot make the pipe that carries signals");
    watcher_running = false;
    err = pthread_attr_init(&attr);
    if (err == 0) {
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        err = pthread_create(&thread, &attr, watcher, (void *)(intptr_t)ends[0]);
        pthread_attr_destroy(&attr);
    }
    if (err == 0) {
        pthread_mutex_lock(&watcher_start_lock);
        while (!watcher_running)
            pthread_cond_wait(&watcher_started, &watcher_start_lock);
        pthread_mutex_unlock(&watcher_start_lock);
    }
    if (err != 0) {
        weft_sys_close(ends[0]);
        weft_sys_close(ends[1]);
        rc = weft__posix_status(err, "pthread_create");
        return weft__fail_wrap(rc, "exit_on_signals: cannot start the watcher thread");
    }
    wake_pipe[0] = (int)ends[0];
    wake_pipe[1] = (int)ends[1];
    owner = getpid();
    signal_seen = 0;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sa.sa_handler = signal_handler;
    for (i = 0; i < SIGNAL_COUNT; i++) {
        if (sigaction(shutdown_signals[i], &sa, &previous[i]) != 0) {
            err = errno;
            restore_dispositions(i);
            weft_sys_close(ends[1]); /* the watcher closes its end and leaves */
            wake_pipe[0] = wake_pipe[1] = -1;
            rc = weft__posix_status(err, "sigaction");
            return weft__fail_wrap(rc, "exit_on_signals: signal %d", shutdown_signals[i]);
        }
    }
    installed = true;
    return WEFT_OK;
}

int weft_sys_signals_install(void (*on_signal)(int code), bool (*exiting)(void))
{
    int rc = WEFT_OK;

    pthread_mutex_lock(&install_lock);
    on_signal_cb = on_signal;
    exiting_cb = exiting;
    if (!installed)
        rc = install();
    pthread_mutex_unlock(&install_lock);
    return rc;
}

void weft__posix_signals_before_fork(void)
{
    pthread_mutex_lock(&install_lock);
}

void weft__posix_signals_after_fork_in_parent(void)
{
    pthread_mutex_unlock(&install_lock);
}

/* The child starts without weft's handling: the dispositions from before
 * it, and not the parent's pipe, whose reader is the parent's watcher. */
void weft__posix_signals_after_fork(void)
{
    if (installed) {
        restore_dispositions(SIGNAL_COUNT);
        close(wake_pipe[0]);
        close(wake_pipe[1]);
        wake_pipe[0] = wake_pipe[1] = -1;
        installed = false;
        signal_seen = 0;
    }
    pthread_mutex_unlock(&install_lock); /* the forking thread took it before the fork */
}

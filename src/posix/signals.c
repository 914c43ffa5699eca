/* SPDX-License-Identifier: MIT */
/*
 * Shutdown signals on POSIX. The handler does only what is async-signal-
 * safe: on the first signal it writes the signal number into a pipe; a
 * watcher thread reads it and calls the common code's callback, which runs
 * the orderly exit on that ordinary thread. A second signal, or one that
 * arrives while an exit runs, ends the process at once with _exit.
 */
#define _GNU_SOURCE /* sigaction under -std=c11 */
#include "posix.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

static const int shutdown_signals[] = {SIGINT, SIGTERM, SIGHUP};

static int wake_pipe[2] = {-1, -1};
static void (*on_signal_cb)(int code);
static bool (*exiting_cb)(void);
static volatile sig_atomic_t signal_seen;
static pthread_once_t install_once = PTHREAD_ONCE_INIT;
static int install_status;

static void signal_handler(int sig)
{
    int saved = errno;
    unsigned char byte = (unsigned char)sig;

    if (signal_seen || exiting_cb())
        _exit(128 + sig);
    signal_seen = 1;
    if (write(wake_pipe[1], &byte, 1) != 1)
        _exit(128 + sig); /* no way to reach the watcher: end as the signal would */
    errno = saved;
}

static void *watcher(void *unused)
{
    unsigned char byte;
    ssize_t n;

    (void)unused;
    for (;;) {
        n = read(wake_pipe[0], &byte, 1);
        if (n == 1)
            on_signal_cb(128 + byte);
        else if (n < 0 && errno == EINTR)
            continue;
        else
            return NULL;
    }
}

static void install(void)
{
    struct sigaction sa;
    pthread_attr_t attr;
    pthread_t thread;
    weft_sys_file ends[2] = {WEFT__NO_FILE, WEFT__NO_FILE}; /* as in popen.c's child_end */
    size_t i;
    int err;

    install_status = weft_sys_pipe(&ends[0], &ends[1]);
    if (install_status != WEFT_OK)
        return;
    wake_pipe[0] = (int)ends[0];
    wake_pipe[1] = (int)ends[1];
    err = pthread_attr_init(&attr);
    if (err == 0) {
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        err = pthread_create(&thread, &attr, watcher, NULL);
        pthread_attr_destroy(&attr);
    }
    if (err != 0) {
        install_status = weft__status_from_errno(err);
        return;
    }
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sa.sa_handler = signal_handler;
    for (i = 0; i < sizeof shutdown_signals / sizeof shutdown_signals[0]; i++) {
        if (sigaction(shutdown_signals[i], &sa, NULL) != 0) {
            install_status = weft__status_from_errno(errno);
            return;
        }
    }
}

int weft_sys_signals_install(void (*on_signal)(int code), bool (*exiting)(void))
{
    on_signal_cb = on_signal;
    exiting_cb = exiting;
    pthread_once(&install_once, install);
    return install_status;
}

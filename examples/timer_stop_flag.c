/* SPDX-License-Identifier: MIT */
/*
 * timer_stop_flag: the Python idiom "a worker loop with a stop flag, so the
 * program can exit", written with weft.
 *
 *     import atexit, sys, threading, time
 *
 *     stop = threading.Event()
 *
 *     def worker():
 *         n = 0
 *         while not stop.wait(0.05):      # sleep, but wake at once on stop
 *             n += 1
 *             print(f"tick {n}")
 *         print("worker: stop requested, leaving the loop")
 *
 *     t = threading.Thread(target=worker)
 *     t.start()
 *     ...                                  # a few ticks later:
 *     stop.set()                           # without this, exit would hang
 *     sys.exit(0)
 *
 * In weft the flag comes built in: weft_thread_request_stop() is
 * stop.set(), and weft_sleep() returns WEFT_ECANCELED at once when a stop
 * was requested for its thread. So the loop is simply
 * `while (weft_sleep(0.05) == WEFT_OK)`. As in Python, weft_exit()
 * (sys.exit) requests no stop itself (only an exit that a signal started
 * does, under weft_exit_on_signals()): main asks first, and the exit, which
 * then waits for the (non-daemon) worker, ends as soon as the worker sees
 * the request, not after a tick. An atexit handler (run after the worker
 * was joined) prints how long the exit took.
 */
#include "example.h"

#include <stdio.h>
#include <stdlib.h>

#define TICKS_BEFORE_EXIT 3

/* threading.Semaphore(0): one release per tick; main waits for a few. */
static weft_sem ticks = WEFT_SEM_INIT(0);

static double exit_started; /* weft_monotonic() when main called weft_exit */

static void *worker(void *arg)
{
    int n = 0;

    (void)arg;
    while (weft_sleep(0.05) == WEFT_OK) { /* WEFT_ECANCELED: stop requested */
        n++;
        if (n <= TICKS_BEFORE_EXIT) /* the lines after these depend on timing */
            printf("tick %d\n", n);
        CHECK_OK(weft_sem_release(&ticks, 1));
    }
    printf("worker: stop requested, leaving the loop\n");
    return NULL;
}

/* atexit.register(report): runs after the worker was joined. */
static void report(void *arg)
{
    double took = weft_monotonic() - exit_started;

    (void)arg;
    printf("exit took %.3f s\n", took);
    printf("exit waited for the worker well under a second: %s\n", took < 0.5 ? "yes" : "no");
    fflush(stdout);
    if (took >= 0.5)
        _Exit(1);
}

int main(void)
{
    weft_thread *thread = NULL;

    CHECK_OK(weft_atexit(report, NULL));
    CHECK_OK(weft_thread_start(&thread, worker, NULL, NULL)); /* not a daemon */
    for (int i = 0; i < TICKS_BEFORE_EXIT; i++)
        CHECK_OK(weft_sem_acquire(&ticks, WEFT_FOREVER));
    printf("main: %d ticks seen, calling weft_exit(0)\n", TICKS_BEFORE_EXIT);
    exit_started = weft_monotonic();
    CHECK_OK(weft_thread_request_stop(thread)); /* stop.set() */
    weft_thread_release(thread); /* the exit finds it without the handle */
    weft_exit(0); /* sys.exit(0): worker joined, handlers run */
}

/* SPDX-License-Identifier: MIT */
/*
 * exit_vs_exit_now: the Python idiom "sys.exit waits for non-daemon
 * threads, os._exit does not", written with weft.
 *
 *     import atexit, os, sys, threading
 *
 *     stop = threading.Event()
 *     ready = threading.Event()
 *
 *     def writer():
 *         print("writer: working until asked to stop")
 *         ready.set()
 *         stop.wait()
 *         print("writer: asked to stop, last line written")
 *
 *     atexit.register(lambda: print("atexit: after the writer was joined"))
 *     threading.Thread(target=writer).start()   # not a daemon thread
 *     ready.wait()
 *     if sys.argv[1] == "exit":
 *         print("main: sys.exit(0)")
 *         stop.set()
 *         sys.exit(0)     # joins the writer, then runs the atexit handler
 *     else:
 *         print("main: os._exit(0)")
 *         sys.stdout.flush()
 *         os._exit(0)     # ends now: no last line, no handler
 *
 * Run it as `exit_vs_exit_now exit` (weft_exit: the writer's last line and
 * then the handler's are printed) or `exit_vs_exit_now now` (weft_exit_now:
 * neither is). weft_thread_request_stop() is stop.set(): it ends the
 * writer's weft_sleep(). weft_exit() then joins the non-daemon threads and
 * runs the handlers, so the writer's last line always comes before the
 * handler's; with weft_exit_now() it never comes, since no stop is
 * requested (weft_exit itself requests none either, as sys.exit sets no
 * event): neither depends on timing.
 */
#include "example.h"

#include <stdio.h>
#include <string.h>

static weft_event ready = WEFT_EVENT_INIT;

static void *writer(void *arg)
{
    (void)arg;
    printf("writer: working until asked to stop\n");
    weft_event_set(&ready);
    /* stop.wait(): sleeps until a stop is requested for this thread. */
    CHECK(weft_sleep(WEFT_FOREVER) == WEFT_ECANCELED);
    printf("writer: asked to stop, last line written\n");
    return NULL;
}

static void after_writer(void *arg)
{
    (void)arg;
    printf("atexit: after the writer was joined\n");
}

int main(int argc, char **argv)
{
    bool now = argc == 2 && strcmp(argv[1], "now") == 0;
    weft_thread *thread = NULL;

    if (argc != 2 || (!now && strcmp(argv[1], "exit") != 0)) {
        fprintf(stderr, "usage: exit_vs_exit_now exit|now\n");
        return 2;
    }
    CHECK_OK(weft_atexit(after_writer, NULL));
    CHECK_OK(weft_thread_start(&thread, writer, NULL, NULL)); /* not a daemon */
    CHECK_OK(weft_event_wait(&ready, WEFT_FOREVER));
    if (!now) {
        printf("main: weft_exit(0), like sys.exit(0)\n");
        CHECK_OK(weft_thread_request_stop(thread)); /* stop.set() */
        weft_thread_release(thread); /* the exit finds it without the handle */
        weft_exit(0);
    }
    printf("main: weft_exit_now(0), like os._exit(0)\n");
    fflush(stdout); /* weft_exit_now flushes nothing */
    weft_exit_now(0);
}

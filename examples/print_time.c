/* SPDX-License-Identifier: MIT */
/*
 * print_time: the classic threading tutorial ("threadLock" and
 * "print_time"), written with weft.
 *
 *     import threading, time
 *
 *     threadLock = threading.Lock()
 *
 *     def print_time(threadName, delay, counter):
 *         while counter:
 *             time.sleep(delay)
 *             with threadLock:        # one line at a time
 *                 print("%s: %s" % (threadName, time.ctime(time.time())))
 *             counter -= 1
 *
 *     class myThread(threading.Thread):
 *         def __init__(self, threadID, name, delay):
 *             threading.Thread.__init__(self, name=name)
 *             self.threadID, self.delay = threadID, delay
 *         def run(self):
 *             print("Starting " + self.name)
 *             print_time(self.name, self.delay, 3)
 *             print("Exiting " + self.name)
 *
 *     threads = [myThread(1, "Thread-1", 0.1), myThread(2, "Thread-2", 0.2)]
 *     for t in threads: t.start()
 *     for t in threads: t.join()
 *     print("Exiting Main Thread")
 *
 * (The tutorial holds the lock around the whole print_time loop, which
 * runs the two threads one after the other; here it is held around each
 * print, so they interleave but never mix the characters of a line.)
 * The delays are tenths of seconds rather than seconds. Lines with the time
 * differ from run to run; the others are what the test compares.
 */
#include "example.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static weft_lock thread_lock = WEFT_LOCK_INIT; /* threading.Lock() */

struct my_thread {
    int thread_id;
    const char *name;
    double delay;
    int printed; /* lines printed, counted under the lock */
    weft_thread *thread;
};

static void print_time(struct my_thread *self, int counter)
{
    while (counter) {
        CHECK_OK(weft_sleep(self->delay));
        CHECK_OK(weft_lock_acquire(&thread_lock, WEFT_FOREVER)); /* with threadLock: */
        time_t now = (time_t)weft_time();
        /* ctime's buffer is shared: the lock guards it too. It ends in '\n'. */
        printf("%s: %s", weft_thread_name(weft_thread_current()), ctime(&now));
        self->printed++;
        CHECK_OK(weft_lock_release(&thread_lock));
        counter--;
    }
}

static void *run(void *arg)
{
    struct my_thread *self = arg;
    const char *name = weft_thread_name(weft_thread_current());

    CHECK_OK(weft_lock_acquire(&thread_lock, WEFT_FOREVER));
    printf("Starting %s\n", name);
    CHECK_OK(weft_lock_release(&thread_lock));
    print_time(self, 3);
    CHECK_OK(weft_lock_acquire(&thread_lock, WEFT_FOREVER));
    printf("Exiting %s\n", name);
    CHECK_OK(weft_lock_release(&thread_lock));
    return NULL;
}

int main(void)
{
    struct my_thread threads[] = {
        {1, "Thread-1", 0.1, 0, NULL},
        {2, "Thread-2", 0.2, 0, NULL},
    };

    for (int i = 0; i < 2; i++) {
        weft_thread_opts opts = {0};
        opts.name = threads[i].name;
        CHECK_OK(weft_thread_start(&threads[i].thread, run, &threads[i], &opts));
    }
    for (int i = 0; i < 2; i++) {
        CHECK_OK(weft_thread_join(threads[i].thread, WEFT_FOREVER, NULL));
        weft_thread_release(threads[i].thread);
    }
    for (int i = 0; i < 2; i++) {
        printf("%s printed the time %d times\n", threads[i].name, threads[i].printed);
        CHECK(threads[i].printed == 3);
    }
    printf("Exiting Main Thread\n");
    return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * The program ci/amalgamation.sh links with the amalgamated weft.c: a
 * little of every module, through "weft.h" alone. Two workers feed a queue
 * and report under a lock and condition, holding an RLock twice and a
 * thread-local value; an executor maps a function; the program runs itself
 * as a child process. It prints "amalgamation: weft <version> OK" when all
 * of that worked.
 */
#include "weft.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define WORKERS 2
#define ITEMS 100

#define CHECK(expr)                                                                        \
    do {                                                                                   \
        if (!(expr)) {                                                                     \
            fprintf(stderr, "amalgamation: line %d: %s is false\n", __LINE__, #expr);      \
            return 1;                                                                      \
        }                                                                                  \
    } while (0)

static weft_lock lock = WEFT_LOCK_INIT;
static weft_cond changed = WEFT_COND_INIT;
static weft_rlock rlock = WEFT_RLOCK_INIT;
static weft_local *local;
static int finished, destroyed; /* guarded by lock */

static void destroy_value(void *value)
{
    weft_lock_acquire(&lock, WEFT_FOREVER);
    destroyed += *(int *)value;
    weft_lock_release(&lock);
}

static void *worker(void *queue)
{
    static int one = 1;
    intptr_t i;
    bool ok;

    for (i = 1; i <= ITEMS; i++)
        if (weft_queue_put(queue, (void *)i, WEFT_FOREVER) != WEFT_OK)
            return NULL;
    ok = weft_local_set(local, &one) == WEFT_OK && weft_local_get(local) == &one &&
         weft_rlock_acquire(&rlock, WEFT_FOREVER) == WEFT_OK &&
         weft_rlock_acquire(&rlock, 0) == WEFT_OK && weft_rlock_release(&rlock) == WEFT_OK &&
         weft_rlock_release(&rlock) == WEFT_OK;
    weft_lock_acquire(&lock, WEFT_FOREVER);
    finished++;
    weft_cond_notify_all(&changed);
    weft_lock_release(&lock);
    return ok ? queue : NULL;
}

static void *square(void *arg)
{
    return (void *)((intptr_t)arg * (intptr_t)arg);
}

static int child(const void *arg, size_t len)
{
    return len == 4 && memcmp(arg, "weft", 4) == 0 ? 7 : 1;
}

int main(int argc, char **argv)
{
    weft_thread *threads[WORKERS];
    weft_queue *queue;
    weft_executor *executor;
    weft_process *process;
    void *args[4] = {(void *)1, (void *)2, (void *)3, (void *)4}, *results[4], *item;
    intptr_t sum = 0;
    int i, code = -1;

    CHECK(weft_process_register("child", child) == WEFT_OK);
    weft_process_main(argc, argv); /* a spawned child runs `child` and ends here */

    CHECK(weft_local_create(&local, destroy_value) == WEFT_OK);
    CHECK(weft_queue_create(&queue, NULL) == WEFT_OK);
    for (i = 0; i < WORKERS; i++)
        CHECK(weft_thread_start(&threads[i], worker, queue, NULL) == WEFT_OK);
    for (i = 0; i < WORKERS * ITEMS; i++) {
        CHECK(weft_queue_get(queue, &item, 10.0) == WEFT_OK);
        sum += (intptr_t)item;
    }
    CHECK(sum == WORKERS * ITEMS * (ITEMS + 1) / 2);
    weft_lock_acquire(&lock, WEFT_FOREVER);
    while (finished < WORKERS)
        CHECK(weft_cond_wait(&changed, &lock, 10.0) == WEFT_OK);
    weft_lock_release(&lock);
    for (i = 0; i < WORKERS; i++) {
        CHECK(weft_thread_join(threads[i], WEFT_FOREVER, &item) == WEFT_OK && item == queue);
        weft_thread_release(threads[i]);
    }
    CHECK(destroyed == WORKERS && weft_local_get(local) == NULL);
    weft_local_destroy(local);
    weft_queue_destroy(queue);

    CHECK(weft_executor_create(&executor, 2, "square") == WEFT_OK);
    CHECK(weft_executor_map(executor, square, args, results, 4, 10.0) == WEFT_OK);
    CHECK(results[0] == (void *)1 && results[3] == (void *)16);
    weft_executor_destroy(executor);

    CHECK(weft_process_start(&process, "child", "weft", 4, NULL) == WEFT_OK);
    CHECK(weft_process_join(process, 30.0) == WEFT_OK);
    CHECK(weft_process_exitcode(process, &code) == WEFT_OK && code == 7);
    weft_process_release(process);

    CHECK(strcmp(weft_version(), WEFT_VERSION_STRING) == 0);
    printf("amalgamation: weft %s OK\n", weft_version());
    return 0;
}

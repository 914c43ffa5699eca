/* SPDX-License-Identifier: MIT */
/*
 * shared_counter: the Python tutorial idiom "a lock around a shared counter",
 * written with weft.
 *
 *     import threading
 *
 *     counter = 0
 *     lock = threading.Lock()
 *     start = threading.Event()
 *     done = threading.Barrier(N_WORKERS + 1)
 *
 *     def work():
 *         global counter
 *         start.wait()
 *         for _ in range(N_INCREMENTS):
 *             with lock:
 *                 counter += 1
 *         return done.wait()
 *
 *     threads = [threading.Thread(target=work, name=f"worker-{i}")
 *                for i in range(1, N_WORKERS + 1)]
 *     for t in threads: t.start()
 *     start.set()
 *     done.wait()
 *     for t in threads: t.join()
 *
 * It also takes an RLock recursively (a function that holds it calls another
 * that takes it again) and checks what threading.current_thread() says in
 * each worker. Every line it prints is the same on every run and platform,
 * so the test in examples/CMakeLists.txt can compare them.
 */
#include "example.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define N_WORKERS 4
#define N_INCREMENTS 10000 /* per worker, under the Lock */
#define N_PAIRS 1000       /* per worker, under the RLock, two levels deep */

/* threading.Lock around the shared counter. No allocation, no init call. */
static weft_lock counter_lock = WEFT_LOCK_INIT;
static long counter;

/* threading.RLock around a second tally, taken twice by the same thread. */
static weft_rlock tally_lock = WEFT_RLOCK_INIT;
static long tally;
static int deepest; /* the most levels of tally_lock one thread held */
static int depth;   /* levels held now; only the owner touches it */

/* threading.Event: the workers wait for it, so they all start together. */
static weft_event start = WEFT_EVENT_INIT;

/* threading.Barrier: the workers and the main thread meet when done. */
static weft_barrier done = WEFT_BARRIER_INIT(N_WORKERS + 1);

struct worker {
    weft_thread *thread; /* the handle main got from weft_thread_start */
    uint64_t seen_ident; /* weft_thread_ident(weft_thread_current()) inside */
    int name_ok;         /* whether current_thread() had the given name */
};

static void add_one(void)
{
    CHECK_OK(weft_rlock_acquire(&tally_lock, WEFT_FOREVER)); /* level 2 */
    depth++;
    if (depth > deepest)
        deepest = depth;
    tally++;
    depth--;
    CHECK_OK(weft_rlock_release(&tally_lock));
}

static void add_pair(void)
{
    CHECK_OK(weft_rlock_acquire(&tally_lock, WEFT_FOREVER)); /* level 1 */
    depth++;
    CHECK(weft_rlock_is_owned(&tally_lock));
    add_one(); /* takes the RLock again: fine, this thread owns it */
    add_one();
    depth--;
    CHECK_OK(weft_rlock_release(&tally_lock));
}

static void *work(void *arg)
{
    struct worker *self = arg;
    weft_thread *me = weft_thread_current();
    const char *name = weft_thread_name(me);

    self->seen_ident = weft_thread_ident(me);
    self->name_ok = name != NULL && name[0] == 'w'; /* "worker-N" */

    CHECK_OK(weft_event_wait(&start, WEFT_FOREVER));

    for (int i = 0; i < N_INCREMENTS; i++) {
        CHECK_OK(weft_lock_acquire(&counter_lock, WEFT_FOREVER)); /* with lock: */
        counter += 1;
        CHECK_OK(weft_lock_release(&counter_lock));
    }
    for (int i = 0; i < N_PAIRS; i++)
        add_pair();

    int index = weft_barrier_wait(&done, WEFT_FOREVER);
    CHECK(index >= 0);
    return (void *)(intptr_t)index; /* the thread's result, given to join */
}

int main(void)
{
    struct worker workers[N_WORKERS] = {0};
    char names[N_WORKERS][16];
    int index_seen[N_WORKERS + 1] = {0};

    printf("main thread: %s\n", weft_thread_name(weft_thread_current()));

    for (int i = 0; i < N_WORKERS; i++) {
        weft_thread_opts opts = {0};
        snprintf(names[i], sizeof names[i], "worker-%d", i + 1);
        opts.name = names[i];
        CHECK_OK(weft_thread_start(&workers[i].thread, work, &workers[i], &opts));
    }
    printf("started %d threads:", N_WORKERS);
    for (int i = 0; i < N_WORKERS; i++)
        printf(" %s", weft_thread_name(workers[i].thread));
    printf("\n");

    /* Nobody counts before the event is set. */
    CHECK_OK(weft_lock_acquire(&counter_lock, WEFT_FOREVER));
    printf("counter before the start event: %ld\n", counter);
    CHECK(counter == 0);
    CHECK_OK(weft_lock_release(&counter_lock));
    weft_event_set(&start);
    printf("start event set\n");

    /* The main thread is the last of N_WORKERS + 1 parties. Once it is
     * through, every worker has finished counting. */
    int index = weft_barrier_wait(&done, WEFT_FOREVER);
    CHECK(index >= 0 && index <= N_WORKERS);
    index_seen[index]++;

    CHECK_OK(weft_lock_acquire(&counter_lock, WEFT_FOREVER));
    long final_counter = counter;
    CHECK_OK(weft_lock_release(&counter_lock));
    printf("counter: %ld (%d threads x %d increments under a Lock)\n",
           final_counter, N_WORKERS, N_INCREMENTS);
    CHECK(final_counter == (long)N_WORKERS * N_INCREMENTS);

    CHECK_OK(weft_rlock_acquire(&tally_lock, WEFT_FOREVER));
    printf("rlock tally: %ld (%d threads x %d pairs), held %d levels deep\n",
           tally, N_WORKERS, N_PAIRS, deepest);
    CHECK(tally == 2L * N_WORKERS * N_PAIRS && deepest == 2);
    CHECK_OK(weft_rlock_release(&tally_lock));
    CHECK(!weft_rlock_is_owned(&tally_lock));
    /* Releasing a Lock nobody holds is an error code, not a crash. */
    CHECK(weft_lock_release(&counter_lock) == WEFT_EPERM);

    int ident_ok = 1;
    for (int i = 0; i < N_WORKERS; i++) {
        void *result = NULL;
        CHECK_OK(weft_thread_join(workers[i].thread, WEFT_FOREVER, &result));
        CHECK(!weft_thread_is_alive(workers[i].thread));
        intptr_t worker_index = (intptr_t)result;
        CHECK(worker_index >= 0 && worker_index <= N_WORKERS);
        index_seen[worker_index]++;
        if (workers[i].seen_ident != weft_thread_ident(workers[i].thread) ||
            workers[i].seen_ident == 0 || !workers[i].name_ok)
            ident_ok = 0;
        for (int j = 0; j < i; j++)
            if (workers[j].seen_ident == workers[i].seen_ident)
                ident_ok = 0;
    }
    printf("joined %d threads, none alive\n", N_WORKERS);

    int each_once = 1;
    for (int i = 0; i <= N_WORKERS; i++)
        each_once = each_once && index_seen[i] == 1;
    printf("barrier: %d parties, arrival indexes 0..%d each given once: %s\n",
           N_WORKERS + 1, N_WORKERS, each_once ? "yes" : "no");
    CHECK(each_once);
    printf("current_thread() in each worker was its own thread: %s\n",
           ident_ok ? "yes" : "no");
    CHECK(ident_ok);

    for (int i = 0; i < N_WORKERS; i++)
        weft_thread_release(workers[i].thread);
    printf("shared_counter: OK\n");
    return 0;
}

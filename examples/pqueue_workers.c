/* SPDX-License-Identifier: MIT */
/*
 * pqueue_workers: two producer processes fill a job queue, two consumer
 * processes square the numbers and put the results on a second queue, and
 * the parent adds them up; join tells the parent every job was handled.
 * In Python:
 *
 *     from multiprocessing import Process, JoinableQueue, Queue
 *
 *     N = 1000
 *
 *     def produce(jobs, first):
 *         for i in range(first, first + N):
 *             jobs.put(i)
 *
 *     def consume(jobs, results):
 *         while (i := jobs.get()) is not None:
 *             results.put(i * i)
 *             jobs.task_done()
 *         jobs.task_done()
 *
 *     if __name__ == '__main__':
 *         jobs, results = JoinableQueue(100), Queue()
 *         ps = [Process(target=produce, args=(jobs, k * N)) for k in range(2)]
 *         cs = [Process(target=consume, args=(jobs, results)) for _ in range(2)]
 *         for p in ps + cs: p.start()
 *         for p in ps: p.join()
 *         total = sum(results.get() for _ in range(2 * N))
 *         for c in cs: jobs.put(None)
 *         jobs.join()
 *         for c in cs: c.join()
 *         print('results', 2 * N)
 *         print('sum of squares', total)
 *
 * Messages are bytes: a job is one 8-byte number, the end mark an empty
 * message (None). The children are started by spawn, the default
 * everywhere: each is handed the two queues in its start call, as the
 * Python program hands them in args (weft_process_opts.pass; a child finds
 * them with weft_process_passed).
 */
#include "example.h"

#include <stdint.h>
#include <string.h>

enum { N = 1000, PRODUCERS = 2, CONSUMERS = 2 };

/* The queues, in the parent and, passed, in each child. */
static weft_pqueue *jobs, *results;

static void take_passed_queues(void)
{
    jobs = weft_process_passed(0);
    results = weft_process_passed(1);
    CHECK(jobs != NULL && results != NULL);
}

static int produce(const void *arg, size_t len)
{
    uint64_t first = 0, i;

    take_passed_queues();
    memcpy(&first, arg, len < sizeof first ? len : sizeof first);
    for (i = first; i < first + N; i++)
        CHECK_OK(weft_pqueue_put(jobs, &i, sizeof i, WEFT_FOREVER));
    return 0;
}

static int consume(const void *arg, size_t len)
{
    (void)arg;
    (void)len;
    take_passed_queues();
    for (;;) {
        uint64_t i, square;
        void *msg;
        size_t n;

        CHECK_OK(weft_pqueue_get(jobs, &msg, &n, WEFT_FOREVER));
        if (n == 0) { /* the end mark */
            weft_free(msg);
            CHECK_OK(weft_pqueue_task_done(jobs));
            return 0;
        }
        memcpy(&i, msg, sizeof i);
        weft_free(msg);
        square = i * i;
        CHECK_OK(weft_pqueue_put(results, &square, sizeof square, WEFT_FOREVER));
        CHECK_OK(weft_pqueue_task_done(jobs));
    }
}

static void join_ok(weft_process *p)
{
    int code = -1;

    CHECK_OK(weft_process_join(p, WEFT_FOREVER));
    CHECK_OK(weft_process_exitcode(p, &code));
    CHECK(code == 0);
    weft_process_release(p);
}

int main(int argc, char **argv)
{
    weft_process_opts opts = {0};
    const void *queues[2];
    weft_process *producers[PRODUCERS], *consumers[CONSUMERS];
    uint64_t total = 0, expected = 0, k;
    int i;

    CHECK_OK(weft_process_register("produce", produce));
    CHECK_OK(weft_process_register("consume", consume));
    weft_process_main(argc, argv);

    CHECK_OK(weft_pqueue_create(&jobs, 100));
    CHECK_OK(weft_pqueue_create(&results, 0));
    queues[0] = jobs;
    queues[1] = results;
    opts.pass = queues;
    opts.npass = 2;
    for (i = 0; i < PRODUCERS; i++) {
        uint64_t first = (uint64_t)i * N;

        CHECK_OK(weft_process_start(&producers[i], "produce", &first, sizeof first, &opts));
    }
    for (i = 0; i < CONSUMERS; i++)
        CHECK_OK(weft_process_start(&consumers[i], "consume", NULL, 0, &opts));
    for (i = 0; i < PRODUCERS; i++)
        join_ok(producers[i]);
    for (k = 0; k < PRODUCERS * N; k++) {
        void *msg;
        size_t n;
        uint64_t square;

        CHECK_OK(weft_pqueue_get(results, &msg, &n, WEFT_FOREVER));
        CHECK(n == sizeof square);
        memcpy(&square, msg, sizeof square);
        weft_free(msg);
        total += square;
        expected += k * k;
    }
    for (i = 0; i < CONSUMERS; i++)
        CHECK_OK(weft_pqueue_put(jobs, NULL, 0, WEFT_FOREVER));
    CHECK_OK(weft_pqueue_join(jobs, WEFT_FOREVER));
    for (i = 0; i < CONSUMERS; i++)
        join_ok(consumers[i]);
    printf("results %d\n", PRODUCERS * N);
    printf("sum of squares %llu\n", (unsigned long long)total);
    printf("expected %llu\n", (unsigned long long)expected);
    weft_pqueue_close(results);
    weft_pqueue_close(jobs);
    return 0;
}

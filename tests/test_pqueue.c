/* SPDX-License-Identifier: MIT */
/* weft_pqueue: multiprocessing.JoinableQueue. In one process, then between
 * a parent and its fork children (skipped on Windows, which has no fork;
 * there the hand-over is tested by export and import within one process).
 * Every wait for another process is bounded by weft_test_long(). */
#if !defined(_WIN32) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* sigaction, MAP_ANONYMOUS */
#endif
#include "runner.h"
#include "ipc_handoff.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifndef _WIN32
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>
#endif

static bool message_names(const char *what)
{
    return strstr(weft_last_error_message(), what) != NULL;
}

/* A message of `len` bytes whose bytes tell its tag and length: a torn,
 * truncated or swapped message shows in check_message. */
static unsigned char *make_message(uint32_t tag, size_t len)
{
    unsigned char *m = malloc(len ? len : 1);
    size_t i;

    CHECK(m != NULL);
    for (i = 0; i < len; i++)
        m[i] = (unsigned char)(weft_test_pattern(i) ^ (tag * 31u));
    if (len >= sizeof tag)
        memcpy(m, &tag, sizeof tag);
    return m;
}

static bool message_is(const void *got, size_t got_len, uint32_t tag, size_t len)
{
    unsigned char *want = make_message(tag, len);
    bool same = got_len == len && memcmp(got, want, len) == 0;

    free(want);
    return same;
}

static void put_message(weft_pqueue *q, uint32_t tag, size_t len)
{
    unsigned char *m = make_message(tag, len);

    CHECK_OK(weft_pqueue_put(q, m, len, weft_test_long()));
    free(m);
}

static void get_message(weft_pqueue *q, uint32_t tag, size_t len)
{
    void *m = NULL;
    size_t n = 99;

    CHECK_OK(weft_pqueue_get(q, &m, &n, weft_test_long()));
    CHECK(m != NULL);
    CHECK_EQ_UINT(n, len);
    CHECK(message_is(m, n, tag, len));
    weft_free(m);
}

/* ---- What the fork children share with the parent --------------------------------- */

static weft_pqueue *g_q;
static weft_pevent *g_ready;
static weft_shm *g_tally;

enum { PRODUCERS = 4, CONSUMERS = 4, TOTAL = 10000, PER_PRODUCER = TOTAL / PRODUCERS };

/* A tally slot per consumer and producer: how many messages of that
 * producer the consumer got. */
static uint64_t *tally(void)
{
    return weft_shm_ptr(g_tally);
}

static int producer(const void *arg, size_t len)
{
    uint32_t id = (uint32_t)weft_test_int_arg(arg, len), seq;

    for (seq = 0; seq < PER_PRODUCER; seq++) {
        uint32_t msg[2] = {id, seq};
        /* Some long messages, so that messages wrap around the ring and a
         * few go through a block of their own. */
        size_t extra = seq % 97 == 0 ? 70000 : seq % 7 == 0 ? 3000 : 0;
        unsigned char *m = make_message(id * 100000 + seq, sizeof msg + extra);

        memcpy(m, msg, sizeof msg);
        if (weft_pqueue_put(g_q, m, sizeof msg + extra, weft_test_long()) != WEFT_OK)
            return 2;
        free(m);
    }
    return 0;
}

/* Take messages until an empty one; check each producer's order. */
static int consumer(const void *arg, size_t len)
{
    int me = weft_test_int_arg(arg, len);
    uint32_t next[PRODUCERS] = {0};

    for (;;) {
        uint32_t msg[2];
        void *m;
        size_t n;

        if (weft_pqueue_get(g_q, &m, &n, weft_test_long()) != WEFT_OK)
            return 2;
        if (n == 0) {
            weft_free(m);
            weft_pqueue_task_done(g_q);
            return 0;
        }
        memcpy(msg, m, sizeof msg);
        if (msg[0] >= PRODUCERS || msg[1] < next[msg[0]])
            return 3; /* out of order (or garbage) */
        {
            unsigned char *want = make_message(msg[0] * 100000 + msg[1], n);
            int same;

            memcpy(want, msg, sizeof msg);
            same = memcmp(want, m, n) == 0;
            free(want);
            if (!same)
                return 4;
        }
        next[msg[0]] = msg[1] + 1;
        tally()[me * PRODUCERS + msg[0]]++;
        weft_free(m);
        if (weft_pqueue_task_done(g_q) != WEFT_OK)
            return 5;
    }
}

/* Say so, then get: the exit code is the status. The wait outlasts the
 * parent's (which fails first), and ends, so that a failing case leaves no
 * child behind. */
static int blocked_get(const void *arg, size_t len)
{
    void *m;
    size_t n;
    int rc;

    (void)arg;
    (void)len;
    weft_pevent_set(g_ready);
    rc = weft_pqueue_get(g_q, &m, &n, 3 * weft_test_long());
    if (rc == WEFT_OK)
        weft_free(m);
    return -rc;
}

static int blocked_put(const void *arg, size_t len)
{
    (void)arg;
    (void)len;
    weft_pevent_set(g_ready);
    return -weft_pqueue_put(g_q, "x", 1, 3 * weft_test_long());
}

#ifndef _WIN32
/* The producer killed mid-message: its message's second page cannot be
 * read, so the put faults inside its copy into the queue, holding the
 * queue's lock; the handler says so and waits to be killed. */
static void wait_to_be_killed(int sig)
{
    (void)sig;
    weft_pevent_set(g_ready);
    for (;;)
        pause();
}

static int put_then_fault(const void *arg, size_t len)
{
    long page = sysconf(_SC_PAGESIZE);
    unsigned char *m;
    struct sigaction sa;

    (void)arg;
    (void)len;
    put_message(g_q, 1, 100);
    put_message(g_q, 2, 0);
    m = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED || mprotect(m + page, (size_t)page, PROT_NONE) != 0)
        return 2;
    memset(m, 0xAB, (size_t)page);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = wait_to_be_killed;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    weft_pqueue_put(g_q, m, (size_t)page + 100, weft_test_long());
    return 3; /* the put read the unreadable page */
}
#endif

WEFT_TEST_SETUP
{
    weft_process_register("producer", producer);
    weft_process_register("consumer", consumer);
    weft_process_register("blocked_get", blocked_get);
    weft_process_register("blocked_put", blocked_put);
#ifndef _WIN32
    weft_process_register("put_then_fault", put_then_fault);
#endif
}

static weft_process *fork_child(const char *target, int arg)
{
    weft_process_opts opts = {.method = WEFT_START_FORK};
    weft_process *p;

    CHECK_OK(weft_process_start(&p, target, &arg, sizeof arg, &opts));
    return p;
}

/* ---- In one process --------------------------------------------------------------------- */

/* Sizes 0, 1, middling, and larger than the ring (which go through a block
 * of their own), out in the order they went in. */
WEFT_TEST(pqueue_put_get_order_and_sizes)
{
    static const size_t sizes[] = {0, 1, 7, 8, 9, 1000, 65535, 65536, 300000, 2u << 20, 0, 5};
    weft_pqueue *q;
    size_t i, round;

    CHECK_OK(weft_pqueue_create(&q, 0));
    for (round = 0; round < 3; round++) { /* again, so that the ring wraps */
        for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
            put_message(q, (uint32_t)i, sizes[i]);
        CHECK_EQ_UINT(weft_pqueue_size(q), sizeof sizes / sizeof sizes[0]);
        for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
            get_message(q, (uint32_t)i, sizes[i]);
        CHECK_EQ_UINT(weft_pqueue_size(q), 0);
    }
    CHECK_OK(weft_pqueue_put(q, NULL, 0, 0));
    get_message(q, 0, 0);
    weft_pqueue_close(q);
}

WEFT_TEST(pqueue_maxsize_and_timeouts_both_ways)
{
    weft_pqueue *q;
    void *m;
    size_t n;
    double t0;

    CHECK_OK(weft_pqueue_create(&q, 2));
    t0 = weft_monotonic();
    CHECK_STATUS(weft_pqueue_get(q, &m, &n, 0.2), WEFT_EEMPTY);
    CHECK_ELAPSED(t0, 0.2);
    CHECK(message_names("pqueue_get: timed out"));
    CHECK_STATUS(weft_pqueue_get(q, &m, &n, 0), WEFT_EEMPTY);
    put_message(q, 1, 10);
    put_message(q, 2, 10);
    CHECK_STATUS(weft_pqueue_put(q, "x", 1, 0), WEFT_EFULL);
    t0 = weft_monotonic();
    CHECK_STATUS(weft_pqueue_put(q, "x", 1, 0.2), WEFT_EFULL);
    CHECK_ELAPSED(t0, 0.2);
    CHECK(message_names("pqueue_put: timed out"));
    CHECK_EQ_UINT(weft_pqueue_size(q), 2);
    get_message(q, 1, 10);
    put_message(q, 3, 10);
    get_message(q, 2, 10);
    get_message(q, 3, 10);
    weft_pqueue_close(q);
}

/* Unbounded, but its memory fills: a put waits for a get to make room. */
static void *get_one_later(void *arg)
{
    weft_test_settle();
    get_message(arg, 0, 60000);
    return NULL;
}

WEFT_TEST(pqueue_full_ring_makes_a_put_wait_for_room)
{
    weft_pqueue *q;
    unsigned char *m = make_message(0, 60000);
    weft_thread *t;
    int puts = 0;

    CHECK_OK(weft_pqueue_create(&q, 0));
    while (weft_pqueue_put(q, m, 60000, 0) == WEFT_OK)
        puts++;
    CHECK_EQ_INT(puts, 4); /* 256 KiB of ring */
    CHECK(message_names("pqueue_put: timed out"));
    t = weft_test_start(get_one_later, q);
    CHECK_OK(weft_pqueue_put(q, m, 60000, weft_test_long()));
    weft_test_join(t);
    CHECK_EQ_UINT(weft_pqueue_size(q), 4);
    free(m);
    weft_pqueue_close(q);
}

static void *finish_tasks(void *arg)
{
    weft_test_settle();
    CHECK_OK(weft_pqueue_task_done(arg));
    CHECK_OK(weft_pqueue_task_done(arg));
    return NULL;
}

WEFT_TEST(pqueue_task_done_and_join)
{
    weft_pqueue *q;
    weft_thread *t;
    double t0;

    CHECK_OK(weft_pqueue_create(&q, 0));
    CHECK_OK(weft_pqueue_join(q, 0));
    CHECK_STATUS(weft_pqueue_task_done(q), WEFT_EINVAL);
    CHECK(message_names("pqueue_task_done: called more times"));
    put_message(q, 1, 1);
    put_message(q, 2, 2);
    get_message(q, 1, 1);
    get_message(q, 2, 2);
    t0 = weft_monotonic();
    CHECK_STATUS(weft_pqueue_join(q, 0.2), WEFT_ETIMEDOUT);
    CHECK_ELAPSED(t0, 0.2);
    CHECK(message_names("pqueue_join: timed out"));
    t = weft_test_start(finish_tasks, q);
    CHECK_OK(weft_pqueue_join(q, weft_test_long()));
    weft_test_join(t);
    CHECK_STATUS(weft_pqueue_task_done(q), WEFT_EINVAL);
    weft_pqueue_close(q);
}

WEFT_TEST(pqueue_shutdown_plain_drains_immediate_drops)
{
    weft_pqueue *q;
    void *m;
    size_t n;

    CHECK_OK(weft_pqueue_create(&q, 0));
    put_message(q, 1, 5);
    put_message(q, 2, 100000);
    weft_pqueue_shutdown(q, false);
    CHECK_STATUS(weft_pqueue_put(q, "x", 1, 0), WEFT_ESHUTDOWN);
    CHECK(message_names("pqueue_put: the queue is shut down"));
    get_message(q, 1, 5);
    get_message(q, 2, 100000);
    CHECK_STATUS(weft_pqueue_get(q, &m, &n, weft_test_long()), WEFT_ESHUTDOWN);
    CHECK(message_names("pqueue_get: the queue is shut down"));
    CHECK_STATUS(weft_pqueue_join(q, 0), WEFT_ETIMEDOUT); /* two not done */
    weft_pqueue_close(q);

    CHECK_OK(weft_pqueue_create(&q, 0));
    put_message(q, 1, 5);
    put_message(q, 2, 100000);
    put_message(q, 3, 7);
    get_message(q, 1, 5);
    weft_pqueue_shutdown(q, true);
    CHECK_EQ_UINT(weft_pqueue_size(q), 0);
    CHECK_STATUS(weft_pqueue_get(q, &m, &n, 0), WEFT_ESHUTDOWN);
    CHECK_STATUS(weft_pqueue_join(q, 0), WEFT_ETIMEDOUT); /* the one taken */
    CHECK_OK(weft_pqueue_task_done(q));
    CHECK_OK(weft_pqueue_join(q, 0));
    weft_pqueue_shutdown(q, false);
    CHECK_STATUS(weft_pqueue_put(q, "x", 1, 0), WEFT_ESHUTDOWN);
    weft_pqueue_close(q);
}

WEFT_TEST(pqueue_bad_input_is_a_status_with_a_message)
{
    weft_pqueue *q;
    void *m;
    size_t n;

    CHECK_STATUS(weft_pqueue_create(NULL, 0), WEFT_EINVAL);
    CHECK(message_names("pqueue_create"));
    CHECK_STATUS(weft_pqueue_put(NULL, "x", 1, 0), WEFT_EINVAL);
    CHECK(message_names("pqueue_put"));
    CHECK_STATUS(weft_pqueue_get(NULL, &m, &n, 0), WEFT_EINVAL);
    CHECK(message_names("pqueue_get"));
    CHECK_STATUS(weft_pqueue_task_done(NULL), WEFT_EINVAL);
    CHECK(message_names("pqueue_task_done"));
    CHECK_STATUS(weft_pqueue_join(NULL, 0), WEFT_EINVAL);
    CHECK(message_names("pqueue_join"));
    CHECK_EQ_UINT(weft_pqueue_size(NULL), 0);
    weft_pqueue_shutdown(NULL, true);
    weft_pqueue_close(NULL);

    CHECK_OK(weft_pqueue_create(&q, 0));
    CHECK_STATUS(weft_pqueue_put(q, NULL, 1, 0), WEFT_EINVAL);
    CHECK(message_names("msg is NULL"));
    CHECK_STATUS(weft_pqueue_put(q, "x", 1, -2.0), WEFT_EINVAL);
    CHECK_STATUS(weft_pqueue_put(q, "x", SIZE_MAX, 0), WEFT_ENOMEM);
    CHECK(message_names("pqueue_put"));
    CHECK_STATUS(weft_pqueue_get(q, NULL, &n, 0), WEFT_EINVAL);
    CHECK_STATUS(weft_pqueue_get(q, &m, NULL, 0), WEFT_EINVAL);
    CHECK_STATUS(weft_pqueue_get(q, &m, &n, -2.0), WEFT_EINVAL);
    CHECK_STATUS(weft_pqueue_join(q, -2.0), WEFT_EINVAL);
    /* still usable */
    put_message(q, 1, 3);
    get_message(q, 1, 3);
    weft_pqueue_close(q);
}

/* ---- Between processes ---------------------------------------------------------------- */

/* Waiters blocked in fork children wake with WEFT_ESHUTDOWN. */
WEFT_TEST(pqueue_shutdown_wakes_waiters_in_other_processes)
{
    weft_process *getter, *putter;

    weft_test_skip_without_fork();
    CHECK_OK(weft_pevent_create(&g_ready));
    CHECK_OK(weft_pqueue_create(&g_q, 1));
    getter = fork_child("blocked_get", 0);
    CHECK_OK(weft_pevent_wait(g_ready, weft_test_long()));
    weft_pevent_clear(g_ready);
    weft_test_settle();
    put_message(g_q, 1, 1); /* the getter takes it and ends */
    put_message(g_q, 2, 1); /* now full (once the getter took 1) */
    putter = fork_child("blocked_put", 0);
    CHECK_OK(weft_pevent_wait(g_ready, weft_test_long()));
    weft_test_settle();
    weft_pqueue_shutdown(g_q, true);
    CHECK_EQ_INT(weft_test_join_process(putter), -WEFT_ESHUTDOWN);
    CHECK_EQ_INT(weft_test_join_process(getter), 0); /* it took message 1 */

    getter = fork_child("blocked_get", 0);
    CHECK_EQ_INT(weft_test_join_process(getter), -WEFT_ESHUTDOWN);
    weft_pqueue_close(g_q);
    weft_pevent_close(g_ready);
}

/* The same with a plain shutdown: a getter blocked in another process
 * wakes, and gets still drain what is left. */
WEFT_TEST(pqueue_plain_shutdown_wakes_a_getter_in_another_process)
{
    weft_process *getter;

    weft_test_skip_without_fork();
    CHECK_OK(weft_pevent_create(&g_ready));
    CHECK_OK(weft_pqueue_create(&g_q, 0));
    getter = fork_child("blocked_get", 0);
    CHECK_OK(weft_pevent_wait(g_ready, weft_test_long()));
    weft_test_settle();
    weft_pqueue_shutdown(g_q, false);
    CHECK_EQ_INT(weft_test_join_process(getter), -WEFT_ESHUTDOWN);
    weft_pqueue_close(g_q);
    weft_pevent_close(g_ready);
}

/* 4 producer and 4 consumer processes move TOTAL messages: each exactly
 * once, each producer's in order, none torn. */
WEFT_TEST_TIMEOUT(pqueue_four_producers_four_consumers_between_processes, 300)
{
    weft_process *prod[PRODUCERS], *cons[CONSUMERS];
    int i, j;

    weft_test_skip_without_fork();
    CHECK_OK(weft_pqueue_create(&g_q, 64));
    CHECK_OK(weft_shm_create(&g_tally, NULL, sizeof(uint64_t) * PRODUCERS * CONSUMERS));
    CHECK_OK(weft_shm_unlink(weft_shm_name(g_tally))); /* fork children inherit the mapping */
    for (i = 0; i < CONSUMERS; i++)
        cons[i] = fork_child("consumer", i);
    for (i = 0; i < PRODUCERS; i++)
        prod[i] = fork_child("producer", i);
    for (i = 0; i < PRODUCERS; i++)
        CHECK_EQ_INT(weft_test_join_process(prod[i]), 0);
    for (i = 0; i < CONSUMERS; i++)
        CHECK_OK(weft_pqueue_put(g_q, NULL, 0, weft_test_long())); /* one end mark each */
    for (i = 0; i < CONSUMERS; i++)
        CHECK_EQ_INT(weft_test_join_process(cons[i]), 0);
    for (j = 0; j < PRODUCERS; j++) {
        uint64_t sum = 0;

        for (i = 0; i < CONSUMERS; i++)
            sum += tally()[i * PRODUCERS + j];
        CHECK_EQ_UINT(sum, PER_PRODUCER);
    }
    CHECK_EQ_UINT(weft_pqueue_size(g_q), 0);
    CHECK_OK(weft_pqueue_join(g_q, 0)); /* every consumer marked each done */
    weft_shm_close(g_tally);
    weft_pqueue_close(g_q);
}

/* A producer killed (SIGKILL) in the middle of copying its message, holding
 * the queue's lock: its earlier messages arrive, its partial one never
 * does, and the queue works on for everyone else. */
WEFT_TEST(pqueue_producer_killed_mid_message_leaves_it_working)
{
#ifdef _WIN32
    weft_test_skip("no fork");
#else
    weft_process *p;
    void *m;
    size_t n;
    int i;

#if defined(__APPLE__) || defined(__OpenBSD__) || defined(__NetBSD__)
    weft_test_skip("this system cannot tell that a lock's holder died (weft/ipc.h)");
#endif
    if (weft_test_under_qemu_user())
        weft_test_skip("qemu-user does not emulate set_robust_list, so no holder's death is told");
    weft_test_skip_without_fork();
    CHECK_OK(weft_pevent_create(&g_ready));
    CHECK_OK(weft_pqueue_create(&g_q, 0));
    p = fork_child("put_then_fault", 0);
    CHECK_OK(weft_pevent_wait(g_ready, weft_test_long()));
    /* It holds the lock: a put waits out its grace for it. */
    CHECK_STATUS(weft_pqueue_put(g_q, "y", 1, 0), WEFT_EFULL);
    CHECK(message_names("the queue's lock"));
    CHECK_OK(weft_process_kill(p));
    CHECK_EQ_INT(weft_test_join_process(p), -9);
    CHECK_OK(weft_pqueue_put(g_q, "y", 1, 0));
    get_message(g_q, 1, 100);
    get_message(g_q, 2, 0);
    CHECK_OK(weft_pqueue_get(g_q, &m, &n, weft_test_long()));
    CHECK_EQ_UINT(n, 1);
    CHECK(memcmp(m, "y", 1) == 0);
    weft_free(m);
    CHECK_STATUS(weft_pqueue_get(g_q, &m, &n, 0), WEFT_EEMPTY);
    for (i = 0; i < 10; i++) /* the ring's every byte, the dead one's too */
        put_message(g_q, (uint32_t)i, 20000);
    for (i = 0; i < 10; i++)
        get_message(g_q, (uint32_t)i, 20000);
    weft_pqueue_close(g_q);
    weft_pevent_close(g_ready);
#endif
}

/* A consumer killed while it waits in a get leaves the queue working. */
WEFT_TEST(pqueue_consumer_killed_in_its_wait_leaves_it_working)
{
    weft_process *p;

    weft_test_skip_without_fork();
    CHECK_OK(weft_pevent_create(&g_ready));
    CHECK_OK(weft_pqueue_create(&g_q, 0));
    p = fork_child("blocked_get", 0);
    CHECK_OK(weft_pevent_wait(g_ready, weft_test_long()));
    weft_test_settle();
    CHECK_OK(weft_process_kill(p));
    weft_test_join_process(p);
    put_message(g_q, 1, 10);
    get_message(g_q, 1, 10);
    p = fork_child("blocked_get", 0);
    put_message(g_q, 2, 10);
    CHECK_EQ_INT(weft_test_join_process(p), 0);
    CHECK_EQ_UINT(weft_pqueue_size(g_q), 0);
    weft_pqueue_close(g_q);
    weft_pevent_close(g_ready);
}

/* A consumer killed after it removed a large message's block and before
 * it committed its get leaves a frame whose block is gone: made here by
 * removing the block's name by hand (Linux lists names in /dev/shm). The
 * next get skips that message, counted done, and the queue goes on. */
WEFT_TEST(pqueue_large_message_whose_block_is_gone_is_skipped)
{
#if !defined(__linux__)
    weft_test_skip("names of shared memory are listed in /dev/shm on Linux only");
#else
    char prefix[32], name[300] = "";
    weft_pqueue *q;
    struct dirent *e;
    DIR *d;
    int found = 0;

    CHECK_OK(weft_pqueue_create(&q, 0));
    snprintf(prefix, sizeof prefix, "wsm_%x_", (unsigned)getpid());
    put_message(q, 1, 100000);
    put_message(q, 2, 10);
    d = opendir("/dev/shm");
    CHECK(d != NULL);
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0) {
            snprintf(name, sizeof name, "%s", e->d_name);
            found++;
        }
    }
    closedir(d);
    CHECK_EQ_INT(found, 1);
    CHECK_OK(weft_shm_unlink(name));
    get_message(q, 2, 10);
    CHECK_EQ_UINT(weft_pqueue_size(q), 0);
    CHECK_OK(weft_pqueue_task_done(q)); /* for message 2; the lost one counts done */
    CHECK_OK(weft_pqueue_join(q, 0));
    weft_pqueue_close(q);
#endif
}

/* ---- Handing to a child, in one process ------------------------------------------------- */

WEFT_TEST(pqueue_export_then_import_is_the_same_queue)
{
#if !defined(WEFT_TEST_HANDOFF)
    weft_test_skip("weft's internal functions are out of reach of a shared build's tests");
#else
    weft__ipc_handoff h, bad;
    weft_pqueue *q;
    void *q2 = NULL;

    CHECK_OK(weft_pqueue_create(&q, 0));
    CHECK_OK(weft__pqueue_export(q, &h));
    CHECK_EQ_UINT(h.kind, WEFT__IPC_PQUEUE);
    CHECK_EQ_UINT(h.nfiles, 4);
    bad = h;
    bad.desc_len = 3;
    weft_test_handoff_copy_files(&bad); /* a failed import closes them */
    CHECK_STATUS(weft__pqueue_import(&bad, &q2), WEFT_EINVAL);
    CHECK(q2 == NULL);
    weft_test_handoff_copy_files(&h);
    CHECK_OK(weft__pqueue_import(&h, &q2));
    put_message(q, 1, 10);
    put_message(q2, 2, 100000);
    get_message(q2, 1, 10);
    get_message(q, 2, 100000);
    weft_pqueue_shutdown(q2, false);
    CHECK_STATUS(weft_pqueue_put(q, "x", 1, 0), WEFT_ESHUTDOWN);
    weft_pqueue_close(q2);
    weft_pqueue_close(q);
#endif
}

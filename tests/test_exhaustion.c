/* SPDX-License-Identifier: MIT */
/* Running out of descriptors and threads: every call that makes them
 * returns its documented status with a message, leaks nothing, and works
 * again once the resources are back.
 *
 * Descriptors run out under a lowered RLIMIT_NOFILE: with the limit at
 * the lowest free descriptor number plus `spare`, for each spare count
 * from 0 up, so that every pipe and copy a call makes is the one that
 * fails in some round. Threads run out under a lowered RLIMIT_AS, which
 * leaves no room for a thread's stack (not under ASan or TSan, whose
 * shadow memory needs a huge address space, nor under qemu-user, which
 * ignores the limit). RLIMIT_NPROC cannot serve:
 * it does not bind root, and the tests may run as root.
 *
 * POSIX only (setrlimit): every case is skipped (77) on Windows, and so
 * is this file's exception to the rule that tests use only weft's API
 * and standard C. */
#include "runner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef _WIN32
#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>
#endif

static int return_arg(const void *arg, size_t len)
{
    return weft_test_int_arg(arg, len);
}

/* Exit with the int received on the end passed first. */
static int exit_with_received(const void *arg, size_t len)
{
    weft_conn *c = weft_process_passed(0);
    void *msg = NULL;
    size_t got = 0;
    int code;

    (void)arg;
    (void)len;
    if (!c || weft_conn_recv(c, &msg, &got, WEFT_FOREVER) != WEFT_OK)
        return 90;
    code = weft_test_int_arg(msg, got);
    weft_free(msg);
    weft_conn_close(c);
    return code;
}

WEFT_TEST_SETUP
{
    weft_process_register("return_arg", return_arg);
    weft_process_register("exit_with_received", exit_with_received);
}

#ifndef _WIN32

/* The rounds of each descriptor case: spare descriptors 0..MAX_SPARE. */
enum { MAX_SPARE = 12, PROBE_LIMIT = 4096 };

/* How many descriptors are open (probed one by one: portable POSIX). */
static int open_fds(void)
{
    int fd, n = 0;

    for (fd = 0; fd < PROBE_LIMIT; fd++) {
        if (fcntl(fd, F_GETFD) != -1)
            n++;
    }
    return n;
}

/* The number of open descriptors once it is back to `want`, or after
 * weft_test_long(): a popen's last reference (and with it the child's
 * pidfd) may be dropped by its reader thread just after communicate
 * returned. */
static int fds_settled(int want)
{
    double give_up = weft_monotonic() + weft_test_long();
    int n;

    while ((n = open_fds()) != want && weft_monotonic() < give_up)
        weft_sleep(0.001);
    return n;
}

static struct rlimit saved_nofile;

/* Lower the descriptor limit so that only `spare` more can be opened. */
static void limit_fds(int spare)
{
    struct rlimit lim;
    int lowest = dup(0);

    CHECK(lowest >= 0);
    close(lowest);
    CHECK_EQ_INT(getrlimit(RLIMIT_NOFILE, &saved_nofile), 0);
    lim = saved_nofile;
    lim.rlim_cur = (rlim_t)(lowest + spare);
    CHECK_EQ_INT(setrlimit(RLIMIT_NOFILE, &lim), 0);
}

static void restore_fds(void)
{
    CHECK_EQ_INT(setrlimit(RLIMIT_NOFILE, &saved_nofile), 0);
}

/* A call that makes descriptors: returns its status, and when that is
 * WEFT_OK has already cleaned up what it made. `method` is for the calls
 * that start a Process or a Pool. */
typedef int (*fd_call)(weft_start_method method);

/* Run `call` once with plenty of descriptors (so that what weft sets up
 * once, and keeps, is there before the count), then under each limit:
 * WEFT_EAGAIN with a message about descriptors, or WEFT_OK when the spare
 * ones sufficed; never another status; no descriptor left behind; and
 * WEFT_OK again once the limit is back. With `needs_fds`, at least the
 * first rounds fail. */
static void check_fd_exhaustion(fd_call call, weft_start_method method, bool needs_fds)
{
    int before, spare, rc, failed = 0;

    CHECK_OK(call(method));
    before = open_fds();
    for (spare = 0; spare <= MAX_SPARE; spare++) {
        limit_fds(spare);
        rc = call(method);
        restore_fds();
        if (rc != WEFT_OK) {
            if (rc != WEFT_EAGAIN)
                weft_test_fail(__FILE__, __LINE__, "%d spare descriptors: got %s, os error %d (%s)", spare,
                               weft_strerror(rc), weft_last_os_error(), weft_last_error_message());
            CHECK(strstr(weft_last_error_message(), "descriptor") != NULL);
            failed++;
        }
        CHECK_EQ_INT(fds_settled(before), before);
        CHECK_OK(call(method));
        CHECK_EQ_INT(fds_settled(before), before);
    }
    CHECK(failed > 0 || !needs_fds);
}

static int popen_all_piped(weft_start_method unused)
{
    const char *argv[] = {"true", NULL};
    weft_popen_opts opts = {0};
    weft_popen *p = NULL;
    int code, rc;

    (void)unused;
    opts.in = opts.out = opts.err = WEFT_STDIO_PIPE;
    rc = weft_popen_start(&p, argv, &opts);
    if (rc != WEFT_OK)
        return rc;
    CHECK_OK(weft_popen_wait(p, weft_test_long(), &code));
    weft_popen_release(p);
    return WEFT_OK;
}

static int run_captured(weft_start_method unused)
{
    const char *argv[] = {"true", NULL};
    char *out = NULL, *err = NULL;
    size_t out_len = 0, err_len = 0;
    int code = -1;
    int rc;

    (void)unused;
    rc = weft_run(argv, NULL, weft_test_long(), &code, &out, &out_len, &err, &err_len);
    weft_free(out);
    weft_free(err);
    return rc;
}

static int process_by(weft_start_method method)
{
    weft_process_opts opts = {.method = method};
    weft_process *p = NULL;
    int three = 3, code = -1;
    int rc = weft_process_start(&p, "return_arg", &three, sizeof three, &opts);

    if (rc != WEFT_OK)
        return rc;
    CHECK_OK(weft_process_join(p, weft_test_long()));
    CHECK_OK(weft_process_exitcode(p, &code));
    CHECK_EQ_INT(code, 3);
    weft_process_release(p);
    return WEFT_OK;
}

static int pool_by(weft_start_method method)
{
    weft_pool_opts opts = {.processes = 2, .method = method};
    weft_pool *pool = NULL;
    int seven = 7;
    weft_buffer items[2] = {{&seven, sizeof seven}, {&seven, sizeof seven}};
    weft_pool_result results[2];
    int rc = weft_pool_create(&pool, &opts);

    if (rc != WEFT_OK) {
        CHECK(pool == NULL);
        return rc;
    }
    CHECK_OK(weft_pool_map(pool, "return_arg", items, 2, results));
    CHECK_EQ_INT(results[0].value, 7);
    CHECK_EQ_INT(results[1].value, 7);
    CHECK_OK(weft_pool_close(pool));
    CHECK_OK(weft_pool_join(pool));
    weft_pool_destroy(pool);
    return WEFT_OK;
}

/* Shared memory and the locks between processes: each holds one
 * descriptor (its mapping's). */
static int ipc_objects(weft_start_method unused)
{
    weft_shm *shm = NULL;
    weft_plock *lock = NULL;
    weft_psem *sem = NULL;
    int rc;

    (void)unused;
    rc = weft_shm_create(&shm, NULL, 4096);
    if (rc != WEFT_OK)
        return rc;
    CHECK_OK(weft_shm_unlink(weft_shm_name(shm)));
    rc = weft_plock_create(&lock, false);
    if (rc == WEFT_OK)
        rc = weft_psem_create(&sem, 1, false);
    if (rc == WEFT_OK) {
        CHECK_OK(weft_plock_acquire(lock, 0));
        CHECK_OK(weft_plock_release(lock));
        CHECK_OK(weft_psem_acquire(sem, 0));
    }
    weft_psem_close(sem);
    weft_plock_close(lock);
    weft_shm_close(shm);
    return rc;
}

static int pipe_round(weft_start_method unused)
{
    weft_conn *a = NULL, *b = NULL;
    void *msg;
    size_t len;
    int rc = weft_pipe(&a, &b, true);

    (void)unused;
    if (rc != WEFT_OK) {
        CHECK(a == NULL && b == NULL);
        return rc;
    }
    CHECK_OK(weft_conn_send(a, "x", 1, 0));
    CHECK_OK(weft_conn_recv(b, &msg, &len, 0));
    weft_free(msg);
    weft_conn_close(a);
    weft_conn_close(b);
    return WEFT_OK;
}

/* A spawned child given an end: it reads an int from it and exits with it. */
static int spawn_passing(weft_start_method method)
{
    weft_process_opts opts = {.method = method};
    weft_conn *mine = NULL, *theirs = NULL;
    const void *handles[1];
    weft_process *p = NULL;
    int three = 3, code = -1;
    int rc = weft_pipe(&mine, &theirs, true);

    if (rc != WEFT_OK)
        return rc;
    handles[0] = theirs;
    opts.pass = handles;
    opts.npass = 1;
    rc = weft_process_start(&p, "exit_with_received", NULL, 0, &opts);
    weft_conn_close(theirs);
    if (rc == WEFT_OK) {
        CHECK_OK(weft_conn_send(mine, &three, sizeof three, weft_test_long()));
        CHECK_OK(weft_process_join(p, weft_test_long()));
        CHECK_OK(weft_process_exitcode(p, &code));
        CHECK_EQ_INT(code, 3);
        weft_process_release(p);
    }
    weft_conn_close(mine);
    return rc;
}

/* A process queue (four descriptors) and a message past its ring, which
 * takes one more to put and one more to get; a failed get leaves the
 * message queued, and the immediate shutdown removes its block. */
static int pqueue_objects(weft_start_method unused)
{
    static unsigned char big[100000];
    weft_pqueue *q = NULL;
    void *m;
    size_t n;
    int rc;

    (void)unused;
    rc = weft_pqueue_create(&q, 0);
    if (rc != WEFT_OK) {
        CHECK(q == NULL);
        return rc;
    }
    rc = weft_pqueue_put(q, big, sizeof big, 0);
    if (rc == WEFT_OK) {
        rc = weft_pqueue_get(q, &m, &n, 0);
        if (rc == WEFT_OK) {
            CHECK_EQ_UINT(n, sizeof big);
            weft_free(m);
        }
    }
    weft_pqueue_shutdown(q, true);
    weft_pqueue_close(q);
    return rc;
}

#endif /* !_WIN32 */

static void skip_on_windows(void)
{
#ifdef _WIN32
    weft_test_skip("setrlimit is POSIX");
#endif
}

WEFT_TEST(exhaustion_popen_start_without_descriptors)
{
    skip_on_windows();
#ifndef _WIN32
    check_fd_exhaustion(popen_all_piped, WEFT_START_DEFAULT, true);
#endif
}

WEFT_TEST(exhaustion_run_without_descriptors)
{
    skip_on_windows();
#ifndef _WIN32
    check_fd_exhaustion(run_captured, WEFT_START_DEFAULT, true);
#endif
}

WEFT_TEST(exhaustion_process_spawn_without_descriptors)
{
    skip_on_windows();
#ifndef _WIN32
    check_fd_exhaustion(process_by, WEFT_START_SPAWN, true);
#endif
}

WEFT_TEST(exhaustion_process_fork_without_descriptors)
{
    skip_on_windows();
#ifndef _WIN32
    check_fd_exhaustion(process_by, WEFT_START_FORK, false); /* a forked Process needs no pipe */
#endif
}

WEFT_TEST(exhaustion_pipe_without_descriptors)
{
    skip_on_windows();
#ifndef _WIN32
    check_fd_exhaustion(pipe_round, WEFT_START_DEFAULT, true);
#endif
}

WEFT_TEST(exhaustion_process_spawn_passing_a_conn_without_descriptors)
{
    skip_on_windows();
#ifndef _WIN32
    check_fd_exhaustion(spawn_passing, WEFT_START_SPAWN, true);
#endif
}

WEFT_TEST_TIMEOUT(exhaustion_pool_spawn_without_descriptors, 60)
{
    skip_on_windows();
#ifndef _WIN32
    check_fd_exhaustion(pool_by, WEFT_START_SPAWN, true);
#endif
}

WEFT_TEST_TIMEOUT(exhaustion_pool_fork_without_descriptors, 60)
{
    skip_on_windows();
#ifndef _WIN32
    check_fd_exhaustion(pool_by, WEFT_START_FORK, true);
#endif
}

/* ---- Threads ---------------------------------------------------------------------- */

/* The sanitizers reserve terabytes of address space: under them a cap on
 * it (RLIMIT_AS) cannot be used to make thread creation fail. */
#if !defined(_WIN32) && !WEFT_TEST_ASAN && !WEFT_TEST_TSAN && defined(__linux__)
#define THREAD_CASES 1

static struct rlimit saved_as;

/* The address space in use now, from /proc/self/statm (pages). */
static long mapped_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = -1;

    CHECK(f != NULL);
    CHECK_EQ_INT(fscanf(f, "%ld", &pages), 1);
    fclose(f);
    return pages * sysconf(_SC_PAGESIZE);
}

/* Leave 1 MiB of address space: less than a thread's default stack, more
 * than the allocations a failing call makes before it fails. */
static void limit_address_space(void)
{
    struct rlimit lim;

    CHECK_EQ_INT(getrlimit(RLIMIT_AS, &saved_as), 0);
    lim = saved_as;
    lim.rlim_cur = (rlim_t)(mapped_bytes() + (1L << 20));
    CHECK_EQ_INT(setrlimit(RLIMIT_AS, &lim), 0);
}

static void restore_address_space(void)
{
    CHECK_EQ_INT(setrlimit(RLIMIT_AS, &saved_as), 0);
}

static void *return_it(void *arg)
{
    return arg;
}

static void tick(void *arg)
{
    (void)arg;
}

/* A thread call that failed for want of room: the documented status, a
 * message, and no thread more than before. */
static void check_no_thread(int rc, size_t threads_before)
{
    if (rc != WEFT_EAGAIN && rc != WEFT_ENOMEM)
        weft_test_fail(__FILE__, __LINE__, "got %s (%s)", weft_strerror(rc),
                       weft_last_error_message());
    CHECK(weft_last_error_message()[0] != '\0');
    CHECK_EQ_UINT(weft_thread_active_count(), threads_before);
}

static void prepare_thread_case(size_t *threads_before, int *fds_before)
{
    /* weft's one-time set-up (the main thread's record) comes first; no
     * thread is started for it, since the C library would keep the ended
     * thread's stack for the next one. */
    CHECK(weft_thread_current() != NULL);
    *threads_before = weft_thread_active_count();
    *fds_before = open_fds();
}

static int start_thread(weft_thread **t)
{
    return weft_thread_start(t, return_it, NULL, NULL);
}

static int start_timer(weft_thread **t)
{
    return weft_timer_start(t, 0.01, tick, NULL);
}

/* `start` fails without room for a stack, then works once there is. */
static void check_start_without_room(int (*start)(weft_thread **t))
{
    weft_thread *t = NULL;
    size_t threads;
    int fds, rc;

    prepare_thread_case(&threads, &fds);
    limit_address_space();
    rc = start(&t);
    restore_address_space();
    check_no_thread(rc, threads);
    CHECK(t == NULL);
    CHECK_EQ_INT(open_fds(), fds);
    CHECK_OK(start(&t));
    weft_test_join(t);
}
#endif

static void skip_without_rlimit_as(void)
{
#ifndef THREAD_CASES
    weft_test_skip("needs Linux and no ASan/TSan (RLIMIT_AS)");
#endif
    if (weft_test_under_qemu_user())
        weft_test_skip("qemu-user ignores a program's RLIMIT_AS (it would cap qemu itself)");
}

WEFT_TEST(exhaustion_thread_start_without_room)
{
    skip_without_rlimit_as();
#ifdef THREAD_CASES
    check_start_without_room(start_thread);
#endif
}

WEFT_TEST(exhaustion_timer_start_without_room)
{
    skip_without_rlimit_as();
#ifdef THREAD_CASES
    check_start_without_room(start_timer);
#endif
}

WEFT_TEST(exhaustion_executor_without_room)
{
    skip_without_rlimit_as();
#ifdef THREAD_CASES
    {
        weft_executor *ex = NULL;
        weft_future *f = NULL;
        void *result = NULL;
        size_t threads;
        int fds, rc, x = 1;

        prepare_thread_case(&threads, &fds);
        limit_address_space();
        rc = weft_executor_create(&ex, 2, NULL); /* starts no thread */
        if (rc == WEFT_OK)
            rc = weft_executor_submit(ex, &f, return_it, &x);
        restore_address_space();
        check_no_thread(rc, threads);
        CHECK(f == NULL);
        CHECK_EQ_INT(open_fds(), fds);
        if (!ex)
            CHECK_OK(weft_executor_create(&ex, 2, NULL));
        CHECK_OK(weft_executor_submit(ex, &f, return_it, &x));
        CHECK_OK(weft_future_result(f, weft_test_long(), &result));
        CHECK_EQ_PTR(result, &x);
        weft_future_release(f);
        weft_executor_destroy(ex);
    }
#endif
}

WEFT_TEST(exhaustion_ipc_objects_without_descriptors)
{
    skip_on_windows();
#ifndef _WIN32
    check_fd_exhaustion(ipc_objects, WEFT_START_DEFAULT, true);
#endif
}

WEFT_TEST(exhaustion_pqueue_without_descriptors)
{
    skip_on_windows();
#ifndef _WIN32
    check_fd_exhaustion(pqueue_objects, WEFT_START_DEFAULT, true);
#endif
}

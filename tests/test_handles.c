/* SPDX-License-Identifier: MIT */
/* -DWEFT_DEBUG_HANDLES=ON (the asan entry): a handle used after its
 * destroy or release, or given where another kind belongs, is refused with
 * WEFT_EINVAL and a message (also on stderr) instead of touching freed
 * memory. Elsewhere such a call is undefined: every case skips. */
#include "runner.h"

#include <stdio.h>

static void need_checks(void)
{
#ifndef WEFT_TEST_DEBUG_HANDLES
    weft_test_skip("weft is built without WEFT_DEBUG_HANDLES: a use after destroy is undefined");
#endif
}

static void check_refused(int status, const char *call, const char *kind)
{
    CHECK_EQ_INT(status, WEFT_EINVAL);
    printf("%s\n", weft_last_error_message());
    CHECK(strstr(weft_last_error_message(), call) != NULL);
    CHECK(strstr(weft_last_error_message(), kind) != NULL);
}

static void *return_arg(void *arg)
{
    return arg;
}

WEFT_TEST(handles_thread_after_its_end_and_release)
{
    weft_thread *t;

    need_checks();
    t = weft_test_start(return_arg, NULL);
    CHECK_OK(weft_thread_join(t, weft_test_long(), NULL));
    weft_thread_release(t); /* joined and released: the record goes */
    check_refused(weft_thread_join(t, 0, NULL), "thread_join", "not a live thread");
    check_refused(weft_thread_request_stop(t), "thread_request_stop", "not a live thread");
    CHECK(weft_thread_name(t) == NULL);
    CHECK(!weft_thread_is_alive(t));
    weft_thread_release(t); /* a second release does nothing */
}

WEFT_TEST(handles_local_after_destroy)
{
    weft_local *local;

    need_checks();
    CHECK_OK(weft_local_create(&local, NULL));
    weft_local_destroy(local);
    check_refused(weft_local_set(local, &local), "local_set", "not a live local");
    CHECK(weft_local_get(local) == NULL);
    weft_local_destroy(local); /* a second destroy does nothing */
}

WEFT_TEST(handles_wrong_kind)
{
    weft_local *local;

    need_checks();
    CHECK_OK(weft_local_create(&local, NULL));
    check_refused(weft_thread_join((weft_thread *)(void *)local, 0, NULL), "thread_join",
                  "is a local, not a thread");
    weft_local_destroy(local);
}

WEFT_TEST(handles_pool_after_destroy)
{
    weft_pool_opts opts = {.processes = 1};
    weft_pool *pool;

    need_checks();
    CHECK_OK(weft_pool_create(&pool, &opts));
    weft_pool_destroy(pool);
    check_refused(weft_pool_close(pool), "pool_close", "not a live pool");
    check_refused(weft_pool_map(pool, "anything", NULL, 0, NULL), "pool_map", "not a live pool");
    weft_pool_destroy(pool);
}

WEFT_CHILD_MODE(exit_zero)
{
    return 0;
}

WEFT_TEST(handles_popen_after_release)
{
    const char *argv[] = {weft_test_self_path(), "--child", "exit_zero", NULL};
    weft_popen *p;
    int code = -1;

    need_checks();
    CHECK_OK(weft_popen_start(&p, argv, NULL));
    CHECK_OK(weft_popen_wait(p, weft_test_long(), &code));
    CHECK_EQ_INT(code, 0);
    weft_popen_release(p);
    check_refused(weft_popen_wait(p, 0, &code), "popen_wait", "not a live popen");
    check_refused(weft_popen_poll(p, &code), "popen_poll", "not a live popen");
    CHECK_EQ_INT(weft_popen_pid(p), -1);
    weft_popen_release(p);
}

WEFT_TEST(handles_queue_after_destroy)
{
    weft_queue *q;
    void *item;

    need_checks();
    CHECK_OK(weft_queue_create(&q, NULL));
    weft_queue_destroy(q);
    check_refused(weft_queue_put(q, NULL, 0), "queue_put", "not a live queue");
    check_refused(weft_queue_get(q, &item, 0), "queue_get", "not a live queue");
    CHECK_EQ_UINT(weft_queue_size(q), 0);
    weft_queue_destroy(q);
}

WEFT_TEST(handles_ipc_after_close)
{
    weft_conn *a, *b;
    weft_plock *lock;

    need_checks();
    CHECK_OK(weft_pipe(&a, &b, true));
    weft_conn_close(a);
    check_refused(weft_conn_send(a, "x", 1, 0), "conn_send", "not a live conn");
    weft_conn_close(b);
    CHECK_OK(weft_plock_create(&lock, false));
    weft_plock_close(lock);
    check_refused(weft_plock_acquire(lock, 0), "plock_acquire", "not a live plock");
    check_refused(weft_plock_acquire(lock, WEFT_FOREVER), "plock_acquire", "not a live plock");
    check_refused(weft_plock_acquire(lock, 0.5), "plock_acquire", "not a live plock");
    check_refused(weft_plock_release(lock), "plock_release", "not a live plock");
}

static int exit_zero_target(const void *arg, size_t len)
{
    (void)arg;
    (void)len;
    return 0;
}

WEFT_TEST_SETUP
{
    weft_process_register("exit_zero_target", exit_zero_target);
}

WEFT_TEST(handles_process_after_release)
{
    weft_process *p;
    int code;

    need_checks();
    CHECK_OK(weft_process_start(&p, "exit_zero_target", NULL, 0, NULL));
    CHECK_OK(weft_process_join(p, weft_test_long()));
    weft_process_release(p);
    check_refused(weft_process_join(p, 0), "process_join", "not a live process");
    check_refused(weft_process_exitcode(p, &code), "process_exitcode", "not a live process");
    CHECK_EQ_INT(weft_process_pid(p), -1);
    weft_process_release(p);
}

static void *return_it(void *arg)
{
    return arg;
}

/* The issue's own case: a submit after destroy hung in the lock. */
WEFT_TEST(handles_executor_after_destroy)
{
    weft_executor *ex;

    need_checks();
    CHECK_OK(weft_executor_create(&ex, 1, NULL));
    weft_executor_destroy(ex);
    check_refused(weft_executor_submit(ex, NULL, return_it, NULL), "executor_submit",
                  "not a live executor");
    weft_executor_shutdown(ex, true, false);
    weft_executor_destroy(ex);
}

WEFT_TEST(handles_future_after_release)
{
    weft_executor *ex;
    weft_future *f;

    need_checks();
    CHECK_OK(weft_executor_create(&ex, 1, NULL));
    CHECK_OK(weft_executor_submit(ex, &f, return_it, NULL));
    CHECK_OK(weft_future_result(f, weft_test_long(), NULL));
    weft_future_release(f);
    check_refused(weft_future_result(f, 0, NULL), "future_result", "not a live future");
    CHECK(!weft_future_done(f));
    weft_future_release(f);
    weft_executor_destroy(ex);
}

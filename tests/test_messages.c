/* SPDX-License-Identifier: MIT */
/* weft_last_error_message() on the failing paths of every module: each
 * names the call and the object, argument or value involved, and an OS
 * failure quotes the OS's words and number. One case per module. */
#include "runner.h"

#include <math.h>
#include <stdio.h>

/* `expr` returns `status`, and the message holds `part` (and `part2`,
 * unless NULL). */
#define CHECK_MESSAGE(expr, status, part, part2)                               \
    do {                                                                       \
        CHECK_STATUS((expr), (status));                                        \
        check_message_holds(weft_last_error_message(), (part), (part2));       \
    } while (0)

static void check_message_holds(const char *message, const char *part, const char *part2)
{
    if (!strstr(message, part) || (part2 && !strstr(message, part2))) {
        fprintf(stderr, "message \"%s\" lacks \"%s\"%s%s%s\n", message, part,
                part2 ? " or \"" : "", part2 ? part2 : "", part2 ? "\"" : "");
        CHECK(!"the message names what it should");
    }
}

WEFT_TEST(messages_lock)
{
    weft_lock lock = WEFT_LOCK_INIT;

    CHECK_MESSAGE(weft_lock_release(&lock), WEFT_EPERM, "lock_release: the lock is not locked",
                  NULL);
    CHECK_MESSAGE(weft_lock_acquire(NULL, 0), WEFT_EINVAL, "lock_acquire", "NULL");
    CHECK_MESSAGE(weft_lock_acquire(&lock, -2.0), WEFT_EINVAL, "lock_acquire", "timeout -2");
    CHECK_MESSAGE(weft_lock_acquire(&lock, NAN), WEFT_EINVAL, "lock_acquire", "timeout nan");
    CHECK_OK(weft_lock_acquire(&lock, 0));
    CHECK_MESSAGE(weft_lock_acquire(&lock, 0), WEFT_ETIMEDOUT, "lock_acquire: timed out", NULL);
    CHECK_MESSAGE(weft_lock_release(NULL), WEFT_EINVAL, "lock_release", "NULL");
}

static weft_rlock shared_rlock = WEFT_RLOCK_INIT;

static void *try_shared_rlock(void *arg)
{
    (void)arg;
    CHECK_MESSAGE(weft_rlock_acquire(&shared_rlock, 0), WEFT_ETIMEDOUT,
                  "rlock_acquire: timed out", NULL);
    CHECK_MESSAGE(weft_rlock_release(&shared_rlock), WEFT_EPERM, "rlock_release",
                  "does not own");
    return NULL;
}

WEFT_TEST(messages_rlock)
{
    CHECK_MESSAGE(weft_rlock_release(&shared_rlock), WEFT_EPERM, "rlock_release", "does not own");
    CHECK_MESSAGE(weft_rlock_acquire(NULL, 0), WEFT_EINVAL, "rlock_acquire", "NULL");
    CHECK_MESSAGE(weft_rlock_acquire(&shared_rlock, -5.0), WEFT_EINVAL, "rlock_acquire",
                  "timeout -5");
    CHECK_OK(weft_rlock_acquire(&shared_rlock, 0));
    weft_test_join(weft_test_start(try_shared_rlock, NULL));
    CHECK_OK(weft_rlock_release(&shared_rlock));
}

WEFT_TEST(messages_rwlock)
{
    weft_rwlock rw = WEFT_RWLOCK_INIT;

    CHECK_MESSAGE(weft_rwlock_read_release(&rw), WEFT_EPERM, "rwlock_read_release", "no reader");
    CHECK_MESSAGE(weft_rwlock_write_release(&rw), WEFT_EPERM, "rwlock_write_release",
                  "no writer");
    CHECK_MESSAGE(weft_rwlock_read_acquire(NULL, 0), WEFT_EINVAL, "rwlock_read_acquire", "NULL");
    CHECK_OK(weft_rwlock_read_acquire(&rw, 0));
    CHECK_MESSAGE(weft_rwlock_write_acquire(&rw, 0), WEFT_ETIMEDOUT,
                  "rwlock_write_acquire: timed out", NULL);
    CHECK_OK(weft_rwlock_read_release(&rw));
    CHECK_OK(weft_rwlock_write_acquire(&rw, 0));
    CHECK_MESSAGE(weft_rwlock_read_acquire(&rw, 0), WEFT_ETIMEDOUT,
                  "rwlock_read_acquire: timed out", NULL);
    CHECK_OK(weft_rwlock_write_release(&rw));
}

static bool never_true(void *arg)
{
    (void)arg;
    return false;
}

WEFT_TEST(messages_cond)
{
    weft_cond cond = WEFT_COND_INIT;
    weft_lock lock = WEFT_LOCK_INIT;
    weft_rlock rlock = WEFT_RLOCK_INIT;

    CHECK_MESSAGE(weft_cond_wait(&cond, &lock, 0), WEFT_EPERM, "cond_wait: the lock is not held",
                  NULL);
    CHECK_MESSAGE(weft_cond_wait_for(&cond, &lock, never_true, NULL, 0), WEFT_EPERM,
                  "cond_wait_for: the lock is not held", NULL);
    CHECK_MESSAGE(weft_cond_wait_rlock(&cond, &rlock, 0), WEFT_EPERM, "cond_wait_rlock",
                  "does not own");
    CHECK_MESSAGE(weft_cond_wait(&cond, NULL, 0), WEFT_EINVAL, "cond_wait", "NULL");
    CHECK_OK(weft_lock_acquire(&lock, WEFT_FOREVER));
    CHECK_MESSAGE(weft_cond_wait(&cond, &lock, 0), WEFT_ETIMEDOUT, "cond_wait: timed out", NULL);
    CHECK_MESSAGE(weft_cond_wait_for(&cond, &lock, never_true, NULL, 0), WEFT_ETIMEDOUT,
                  "cond_wait_for: timed out", NULL);
    CHECK_OK(weft_lock_release(&lock));
}

WEFT_TEST(messages_sem)
{
    weft_sem sem = WEFT_SEM_INIT(0);
    weft_sem bounded;

    weft_sem_init(&bounded, 1, true);
    CHECK_MESSAGE(weft_sem_acquire(&sem, 0), WEFT_ETIMEDOUT, "sem_acquire: timed out", NULL);
    CHECK_MESSAGE(weft_sem_release(&sem, 0), WEFT_EINVAL, "sem_release", "n is 0");
    CHECK_MESSAGE(weft_sem_release(&bounded, 1), WEFT_EOVERFLOW, "sem_release", "bound 1");
    CHECK_MESSAGE(weft_sem_release(NULL, 1), WEFT_EINVAL, "sem_release", "NULL");
}

WEFT_TEST(messages_event)
{
    weft_event event = WEFT_EVENT_INIT;

    CHECK_MESSAGE(weft_event_wait(&event, 0), WEFT_ETIMEDOUT, "event_wait: timed out", NULL);
    CHECK_MESSAGE(weft_event_wait(&event, -0.5), WEFT_EINVAL, "event_wait", "timeout -0.5");
}

WEFT_TEST(messages_barrier)
{
    weft_barrier zero;
    weft_barrier two = WEFT_BARRIER_INIT(2);

    memset(&zero, 0, sizeof zero);
    CHECK_MESSAGE(weft_barrier_wait(&zero, 0), WEFT_EINVAL, "barrier_wait", "0 parties");
    CHECK_MESSAGE(weft_barrier_wait(&two, 0), WEFT_EBROKEN, "barrier_wait", "broken");
    CHECK_MESSAGE(weft_barrier_wait(&two, 0), WEFT_EBROKEN, "barrier_wait", "broken");
}

static void *join_main_thread(void *arg)
{
    (void)arg;
    CHECK_MESSAGE(weft_thread_join(weft_thread_main(), 0, NULL), WEFT_EINVAL, "thread_join",
                  "MainThread");
    return NULL;
}

static void *wait_for_stop(void *arg)
{
    (void)arg;
    while (!weft_stop_requested())
        weft_sleep(0.001);
    return NULL;
}

static void ignore(void *arg)
{
    (void)arg;
}

WEFT_TEST(messages_thread)
{
    weft_thread *t = NULL;

    CHECK_MESSAGE(weft_thread_start(&t, NULL, NULL, NULL), WEFT_EINVAL, "thread_start", "fn");
    CHECK_MESSAGE(weft_thread_join(weft_thread_main(), 0, NULL), WEFT_EPERM, "thread_join",
                  "cannot join itself");
    weft_test_join(weft_test_start(join_main_thread, NULL));
    t = weft_test_start(wait_for_stop, NULL);
    CHECK_MESSAGE(weft_thread_join(t, 0, NULL), WEFT_ETIMEDOUT, "thread_join: timed out", NULL);
    CHECK_MESSAGE(weft_thread_join(t, -1.5, NULL), WEFT_EINVAL, "thread_join", "timeout -1.5");
    CHECK_OK(weft_thread_request_stop(t));
    weft_test_join(t);
    CHECK_MESSAGE(weft_thread_set_name(NULL, "x"), WEFT_EINVAL, "thread_set_name", "NULL");
    CHECK_MESSAGE(weft_thread_request_stop(NULL), WEFT_EINVAL, "thread_request_stop", "NULL");
    CHECK_MESSAGE(weft_timer_start(&t, -1.0, ignore, NULL), WEFT_EINVAL, "timer_start",
                  "interval -1");
    CHECK_MESSAGE(weft_sleep(-3.0), WEFT_EINVAL, "sleep", "timeout -3");
}

static void *sleep_until_stopped(void *arg)
{
    weft_event *started = arg;

    weft_event_set(started);
    CHECK_MESSAGE(weft_sleep(weft_test_long()), WEFT_ECANCELED, "sleep", "stop was requested");
    return NULL;
}

WEFT_TEST(messages_sleep_cancelled)
{
    weft_event started = WEFT_EVENT_INIT;
    weft_thread *t = weft_test_start(sleep_until_stopped, &started);

    weft_test_wait_event(&started);
    CHECK_OK(weft_thread_request_stop(t));
    weft_test_join(t);
}

WEFT_TEST(messages_local_and_exit)
{
    CHECK_MESSAGE(weft_local_set(NULL, NULL), WEFT_EINVAL, "local_set", "NULL");
    CHECK_MESSAGE(weft_local_create(NULL, NULL), WEFT_EINVAL, "local_create", "NULL");
    CHECK_MESSAGE(weft_atexit(NULL, NULL), WEFT_EINVAL, "atexit", "NULL");
    CHECK_MESSAGE(weft_atexit_unregister(ignore, NULL), WEFT_ENOENT, "atexit_unregister",
                  "no handler");
}

/* An OS failure quotes the OS's words and number, after weft's context. */
WEFT_TEST(messages_os_error)
{
    const char *missing[] = {"weft-no-such-program-here", NULL};
    const char *self[] = {weft_test_self_path(), "--child", "none", NULL};
    weft_popen_opts opts = {0};
    weft_popen *p = NULL;

    /* The README's aarch64 row: qemu-user runs posix_spawn's child as a
     * plain fork, so a failed chdir or exec there cannot reach the parent. */
    if (weft_test_under_qemu_user())
        weft_test_skip("qemu-user: a failed exec or chdir in the child does not reach the parent");
    opts.cwd = "/weft/no/such/directory";
    CHECK(weft_popen_start(&p, self, &opts) != WEFT_OK);
    check_message_holds(weft_last_error_message(), "in cwd \"/weft/no/such/directory\"",
                        "(os error ");
    check_message_holds(weft_last_error_message(), "popen_start: \"", NULL);
    /* A program that is nowhere: the message says where it was looked for. */
    CHECK_MESSAGE(weft_popen_start(&p, missing, NULL), WEFT_ENOENT,
                  "popen_start: \"weft-no-such-program-here\"", "PATH");
    check_message_holds(weft_last_error_message(), "(os error ", NULL);
}

WEFT_TEST(messages_queue)
{
    weft_queue_opts bounded = {.maxsize = 1}, priority = {.kind = WEFT_QUEUE_PRIORITY};
    weft_queue *q;
    void *item;

    CHECK_MESSAGE(weft_queue_create(&q, &priority), WEFT_EINVAL, "queue_create", "compare");
    CHECK_OK(weft_queue_create(&q, &bounded));
    CHECK_MESSAGE(weft_queue_get(q, &item, 0), WEFT_EEMPTY, "queue_get: the queue is empty",
                  NULL);
    CHECK_MESSAGE(weft_queue_task_done(q), WEFT_EINVAL, "queue_task_done", "more times");
    CHECK_OK(weft_queue_put(q, NULL, 0));
    CHECK_MESSAGE(weft_queue_put(q, NULL, 0), WEFT_EFULL, "queue_put: the queue is full", NULL);
    CHECK_MESSAGE(weft_queue_join(q, 0), WEFT_ETIMEDOUT, "queue_join: timed out", NULL);
    CHECK_MESSAGE(weft_queue_put(q, NULL, -4.0), WEFT_EINVAL, "queue_put", "timeout -4");
    weft_queue_shutdown(q, true);
    CHECK_MESSAGE(weft_queue_put(q, NULL, 0), WEFT_ESHUTDOWN, "queue_put", "shut down");
    CHECK_MESSAGE(weft_queue_get(q, &item, 0), WEFT_ESHUTDOWN, "queue_get", "shut down");
    weft_queue_destroy(q);
}

static int return_zero(const void *arg, size_t len)
{
    (void)arg;
    (void)len;
    return 0;
}

WEFT_TEST_SETUP
{
    weft_process_register("return_zero", return_zero);
}

WEFT_TEST(messages_process)
{
    weft_process_opts bad_method = {.method = (weft_start_method)7};
    weft_process *p;
    int code;

    CHECK_MESSAGE(weft_process_start(&p, "weft-no-such-target", NULL, 0, NULL), WEFT_ENOENT,
                  "process_start: \"weft-no-such-target\"", "no target");
    CHECK_MESSAGE(weft_process_start(&p, "return_zero", NULL, 0, &bad_method), WEFT_EINVAL,
                  "process_start", "method 7");
    CHECK_MESSAGE(weft_process_register("return_zero", NULL), WEFT_EINVAL, "process_register",
                  "fn is NULL");
    CHECK_OK(weft_process_start(&p, "return_zero", NULL, 0, NULL));
    CHECK_OK(weft_process_join(p, weft_test_long()));
    CHECK_OK(weft_process_exitcode(p, &code));
    CHECK_EQ_INT(code, 0);
    CHECK_MESSAGE(weft_process_exitcode(p, NULL), WEFT_EINVAL, "process_exitcode", "NULL");
    weft_process_release(p);
}

static void *fail_with_user_code(void *arg)
{
    (void)arg;
    weft_task_fail(WEFT_EUSER - 2);
    return NULL;
}

static void *return_arg_now(void *arg)
{
    return arg;
}

WEFT_TEST(messages_executor)
{
    weft_executor *ex;
    weft_future *f;
    bool taken[1] = {true};
    size_t index;

    CHECK_OK(weft_executor_create(&ex, 1, NULL));
    CHECK_OK(weft_executor_submit(ex, &f, fail_with_user_code, NULL));
    CHECK_MESSAGE(weft_future_result(f, weft_test_long(), NULL), WEFT_EUSER - 2,
                  "future_result: the task failed", NULL);
    CHECK_MESSAGE(weft_futures_next(&f, 1, taken, 0, &index), WEFT_EEMPTY, "futures_next",
                  "handed out");
    CHECK_MESSAGE(weft_futures_wait(&f, 1, 0, (weft_wait_mode)9), WEFT_EINVAL, "futures_wait",
                  "mode 9");
    weft_future_release(f);
    CHECK_MESSAGE(weft_executor_submit(ex, NULL, NULL, NULL), WEFT_EINVAL, "executor_submit",
                  "fn");
    weft_executor_shutdown(ex, true, false);
    CHECK_MESSAGE(weft_executor_submit(ex, NULL, return_arg_now, NULL), WEFT_ESHUTDOWN,
                  "executor_submit", "shut down");
    weft_executor_destroy(ex);
}

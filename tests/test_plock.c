/* SPDX-License-Identifier: MIT */
/* weft_plock, weft_psem, weft_pevent: multiprocessing.Lock/RLock,
 * Semaphore/BoundedSemaphore and Event. Between threads, then between a
 * parent and its fork children (skipped on Windows, which has no fork;
 * there the hand-over is tested by export and import within one process).
 * Every wait for another process is bounded by weft_test_long(). */
#include "runner.h"
#include "ipc_handoff.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

static bool message_names(const char *what)
{
    return strstr(weft_last_error_message(), what) != NULL;
}

/* Where the OS can tell that a lock's holder died (weft/ipc.h). */
static void skip_where_death_is_not_told(void)
{
#if defined(__APPLE__) || defined(__OpenBSD__) || defined(__NetBSD__)
    weft_test_skip("this system cannot tell that a plock's holder died");
#endif
    if (weft_test_under_qemu_user())
        weft_test_skip("qemu-user does not emulate set_robust_list, so no holder's death is told");
}

/* ---- What the fork children share with the parent --------------------------------- */

static weft_plock *g_lock;
static weft_shm *g_counter;
static weft_pevent *g_event, *g_go;
static weft_psem *g_sem_a, *g_sem_b;

enum { COUNT_ROUNDS = 10000 };

/* COUNT_ROUNDS increments of a plain counter in shared memory, each a read
 * and a later write under the plock: without exclusion, increments of the
 * two processes are lost. */
static int count_under_lock(void)
{
    volatile uint64_t *counter = weft_shm_ptr(g_counter);
    int i;

    for (i = 0; i < COUNT_ROUNDS; i++) {
        uint64_t v;

        if (weft_plock_acquire(g_lock, weft_test_long()) != WEFT_OK)
            return 2;
        v = *counter;
        *counter = v + 1;
        if (weft_plock_release(g_lock) != WEFT_OK)
            return 3;
    }
    return 0;
}

static int count_target(const void *arg, size_t len)
{
    (void)arg;
    (void)len;
    return count_under_lock();
}

static int g_hold_levels = 1; /* what hold_and_wait takes */

/* Take g_hold_levels levels of the lock, say so, then wait to be killed. */
static int hold_and_wait(const void *arg, size_t len)
{
    int i;

    (void)arg;
    (void)len;
    for (i = 0; i < g_hold_levels; i++) {
        if (weft_plock_acquire(g_lock, 0) != WEFT_OK)
            return 2;
    }
    weft_pevent_set(g_event);
    weft_psem_acquire(g_sem_a, WEFT_FOREVER); /* nobody releases it */
    return 3;
}

/* The parent holds g_lock: this child, whose thread is a copy of the
 * holder, neither releases it nor takes a level of it. */
static int touch_parents_lock(const void *arg, size_t len)
{
    (void)arg;
    (void)len;
    if (weft_plock_release(g_lock) != WEFT_EPERM)
        return 2;
    if (weft_plock_acquire(g_lock, 0) != WEFT_ETIMEDOUT)
        return 3;
    return 0;
}

static int sem_relay(const void *arg, size_t len)
{
    (void)arg;
    (void)len;
    if (weft_psem_acquire(g_sem_a, weft_test_long()) != WEFT_OK)
        return 2;
    return weft_psem_release(g_sem_b, 1) == WEFT_OK ? 0 : 3;
}

static int set_event_when_told(const void *arg, size_t len)
{
    (void)arg;
    (void)len;
    if (weft_pevent_wait(g_go, weft_test_long()) != WEFT_OK)
        return 2;
    weft_pevent_set(g_event);
    return 0;
}

/* Say so, then wait on a semaphore nobody releases, until killed. */
static int wait_forever(const void *arg, size_t len)
{
    (void)arg;
    (void)len;
    weft_pevent_set(g_go);
    if (weft_psem_acquire(g_sem_a, WEFT_FOREVER) == WEFT_OK)
        return 2;
    return 3;
}

WEFT_TEST_SETUP
{
    weft_process_register("wait_forever", wait_forever);
    weft_process_register("count_target", count_target);
    weft_process_register("hold_and_wait", hold_and_wait);
    weft_process_register("touch_parents_lock", touch_parents_lock);
    weft_process_register("sem_relay", sem_relay);
    weft_process_register("set_event_when_told", set_event_when_told);
}

static weft_process *fork_child(const char *target)
{
    weft_process_opts opts = {.method = WEFT_START_FORK};
    weft_process *p;

    CHECK_OK(weft_process_start(&p, target, NULL, 0, &opts));
    return p;
}

/* ---- Locks ---------------------------------------------------------------------------- */

WEFT_TEST(plock_lock_acquire_release_and_timeouts)
{
    weft_plock *lock;
    double t0;

    CHECK_OK(weft_plock_create(&lock, false));
    CHECK_OK(weft_plock_acquire(lock, 0));
    CHECK_STATUS(weft_plock_acquire(lock, 0), WEFT_ETIMEDOUT);
    /* Its holder waits for itself, as threading.Lock's does. */
    t0 = weft_monotonic();
    CHECK_STATUS(weft_plock_acquire(lock, 0.1), WEFT_ETIMEDOUT);
    CHECK_ELAPSED(t0, 0.1);
    CHECK_OK(weft_plock_release(lock));
    CHECK_STATUS(weft_plock_release(lock), WEFT_EPERM);
    CHECK(message_names("plock_release"));
    CHECK_OK(weft_plock_acquire(lock, WEFT_FOREVER));
    CHECK_OK(weft_plock_release(lock));
    weft_plock_close(lock);
}

WEFT_TEST(plock_recursive_counts_levels)
{
    weft_plock *lock;

    CHECK_OK(weft_plock_create(&lock, true));
    CHECK_OK(weft_plock_acquire(lock, 0));
    CHECK_OK(weft_plock_acquire(lock, WEFT_FOREVER));
    CHECK_OK(weft_plock_acquire(lock, 1));
    CHECK_OK(weft_plock_release(lock));
    CHECK_OK(weft_plock_release(lock));
    CHECK_OK(weft_plock_release(lock));
    CHECK_STATUS(weft_plock_release(lock), WEFT_EPERM);
    weft_plock_close(lock);
}

typedef struct other_thread {
    weft_plock *lock;
    int try_status, release_status;
    double waited;
} other_thread;

static void *try_from_other_thread(void *arg)
{
    other_thread *o = arg;
    double t0 = weft_monotonic();

    o->try_status = weft_plock_acquire(o->lock, 0.1);
    o->waited = weft_monotonic() - t0;
    o->release_status = weft_plock_release(o->lock);
    return NULL;
}

static void held_lock_refuses_other_threads(bool recursive)
{
    other_thread o = {0};

    CHECK_OK(weft_plock_create(&o.lock, recursive));
    CHECK_OK(weft_plock_acquire(o.lock, 0));
    weft_test_join(weft_test_start(try_from_other_thread, &o));
    CHECK_STATUS(o.try_status, WEFT_ETIMEDOUT);
    CHECK_GE_DBL(o.waited, 0.1);
    CHECK_STATUS(o.release_status, WEFT_EPERM); /* only its holder releases */
    CHECK_OK(weft_plock_release(o.lock));
    weft_plock_close(o.lock);
}

WEFT_TEST(plock_held_lock_times_out_other_threads)
{
    held_lock_refuses_other_threads(false);
}

WEFT_TEST(plock_held_rlock_times_out_other_threads)
{
    held_lock_refuses_other_threads(true);
}

static void *acquire_and_end(void *arg)
{
    return (void *)(intptr_t)weft_plock_acquire(arg, 0);
}

/* A thread that ends holding a plock counts as dead: the next acquirer
 * learns it, holds the lock, and the lock works on; whatever its timeout
 * (each takes its own way into the system: WEFT_FOREVER, 0, a time). */
WEFT_TEST(plock_thread_ended_holding_it_is_eownerdead)
{
    const double timeouts[] = {WEFT_FOREVER, 0, weft_test_long()};
    weft_plock *lock;

    skip_where_death_is_not_told();
    CHECK_OK(weft_plock_create(&lock, false));
    for (size_t i = 0; i < sizeof timeouts / sizeof timeouts[0]; i++) {
        CHECK_OK((int)(intptr_t)weft_test_join(weft_test_start(acquire_and_end, lock)));
        CHECK_STATUS(weft_plock_acquire(lock, timeouts[i]), WEFT_EOWNERDEAD);
        CHECK(message_names("plock_acquire"));
        CHECK_OK(weft_plock_release(lock));
        CHECK_OK(weft_plock_acquire(lock, 0));
        CHECK_OK(weft_plock_release(lock));
    }
    weft_plock_close(lock);
}

WEFT_TEST(plock_bad_input_is_a_status_with_a_message)
{
    weft_plock *lock;

    CHECK_STATUS(weft_plock_create(NULL, false), WEFT_EINVAL);
    CHECK(message_names("plock_create"));
    CHECK_STATUS(weft_plock_acquire(NULL, 0), WEFT_EINVAL);
    CHECK(message_names("plock_acquire"));
    CHECK_STATUS(weft_plock_acquire(NULL, WEFT_FOREVER), WEFT_EINVAL);
    CHECK(message_names("plock_acquire"));
    CHECK_STATUS(weft_plock_acquire(NULL, 0.5), WEFT_EINVAL);
    CHECK(message_names("plock_acquire"));
    CHECK_STATUS(weft_plock_release(NULL), WEFT_EINVAL);
    CHECK(message_names("plock_release"));
    weft_plock_close(NULL);
    CHECK_OK(weft_plock_create(&lock, false));
    CHECK_STATUS(weft_plock_acquire(lock, -2.0), WEFT_EINVAL);
    CHECK(message_names("timeout"));
    CHECK(message_names("plock_acquire"));
    CHECK_STATUS(weft_plock_acquire(lock, NAN), WEFT_EINVAL);
    CHECK(message_names("plock_acquire"));
    CHECK_OK(weft_plock_acquire(lock, 0)); /* still usable */
    CHECK_OK(weft_plock_release(lock));
    weft_plock_close(lock);
}

/* The parent and a fork child each add COUNT_ROUNDS to one counter under
 * the plock: not one increment is lost. */
WEFT_TEST_TIMEOUT(plock_fork_child_and_parent_count_exactly, 120)
{
    weft_process *p;
    int code;

    weft_test_skip_without_fork();
    CHECK_OK(weft_plock_create(&g_lock, false));
    CHECK_OK(weft_shm_create(&g_counter, NULL, sizeof(uint64_t)));
    CHECK_OK(weft_shm_unlink(weft_shm_name(g_counter)));
    p = fork_child("count_target");
    code = count_under_lock();
    CHECK_EQ_INT(weft_test_join_process(p), 0);
    CHECK_EQ_INT(code, 0);
    CHECK_EQ_UINT(*(uint64_t *)weft_shm_ptr(g_counter), 2 * COUNT_ROUNDS);
    weft_shm_close(g_counter);
    weft_plock_close(g_lock);
}

/* A child killed while it holds the plock: the parent's acquire gets it,
 * with WEFT_EOWNERDEAD. */
WEFT_TEST(plock_fork_child_killed_holding_it_is_eownerdead)
{
    weft_process *p;
    double t0;

    weft_test_skip_without_fork();
    skip_where_death_is_not_told();
    CHECK_OK(weft_plock_create(&g_lock, false));
    CHECK_OK(weft_pevent_create(&g_event));
    CHECK_OK(weft_psem_create(&g_sem_a, 0, false));
    p = fork_child("hold_and_wait");
    CHECK_OK(weft_pevent_wait(g_event, weft_test_long()));
    CHECK_STATUS(weft_plock_acquire(g_lock, 0), WEFT_ETIMEDOUT); /* the child holds it */
    t0 = weft_monotonic();
    CHECK_STATUS(weft_plock_acquire(g_lock, 0.2), WEFT_ETIMEDOUT);
    CHECK_ELAPSED(t0, 0.2);
    CHECK_OK(weft_process_kill(p));
    CHECK_OK(weft_process_join(p, weft_test_long()));
    weft_process_release(p);
    CHECK_STATUS(weft_plock_acquire(g_lock, weft_test_long()), WEFT_EOWNERDEAD);
    CHECK_OK(weft_plock_release(g_lock));
    CHECK_OK(weft_plock_acquire(g_lock, 0));
    CHECK_OK(weft_plock_release(g_lock));
    weft_psem_close(g_sem_a);
    weft_pevent_close(g_event);
    weft_plock_close(g_lock);
}

/* A recursive plock whose holder died holding two levels: the next
 * acquirer holds one, and one release frees it. */
WEFT_TEST(plock_fork_child_killed_holding_two_levels_leaves_one)
{
    weft_process *p;

    weft_test_skip_without_fork();
    skip_where_death_is_not_told();
    CHECK_OK(weft_plock_create(&g_lock, true));
    CHECK_OK(weft_pevent_create(&g_event));
    CHECK_OK(weft_psem_create(&g_sem_a, 0, false));
    g_hold_levels = 2;
    p = fork_child("hold_and_wait");
    CHECK_OK(weft_pevent_wait(g_event, weft_test_long()));
    CHECK_OK(weft_process_kill(p));
    CHECK_OK(weft_process_join(p, weft_test_long()));
    weft_process_release(p);
    CHECK_STATUS(weft_plock_acquire(g_lock, weft_test_long()), WEFT_EOWNERDEAD);
    CHECK_OK(weft_plock_release(g_lock));
    CHECK_STATUS(weft_plock_release(g_lock), WEFT_EPERM);
    CHECK_OK((int)(intptr_t)weft_test_join(weft_test_start(acquire_and_end, g_lock)));
    weft_psem_close(g_sem_a);
    weft_pevent_close(g_event);
    weft_plock_close(g_lock);
}

/* A fork child started while the parent's thread holds the plock is
 * another holder-to-be: its copy of that thread does not hold it. */
static void fork_child_does_not_hold(bool recursive)
{
    weft_test_skip_without_fork();
    CHECK_OK(weft_plock_create(&g_lock, recursive));
    CHECK_OK(weft_plock_acquire(g_lock, 0));
    CHECK_EQ_INT(weft_test_join_process(fork_child("touch_parents_lock")), 0);
    CHECK_OK(weft_plock_release(g_lock));
    CHECK_STATUS(weft_plock_release(g_lock), WEFT_EPERM);
    weft_plock_close(g_lock);
}

WEFT_TEST(plock_fork_child_does_not_hold_the_parents_lock)
{
    fork_child_does_not_hold(false);
}

WEFT_TEST(plock_fork_child_does_not_hold_the_parents_rlock)
{
    fork_child_does_not_hold(true);
}

/* ---- Semaphores ------------------------------------------------------------------ */

WEFT_TEST(plock_psem_value_and_timeouts)
{
    weft_psem *sem;
    double t0;

    CHECK_OK(weft_psem_create(&sem, 2, false));
    CHECK_OK(weft_psem_acquire(sem, 0));
    CHECK_OK(weft_psem_acquire(sem, WEFT_FOREVER));
    CHECK_STATUS(weft_psem_acquire(sem, 0), WEFT_ETIMEDOUT);
    t0 = weft_monotonic();
    CHECK_STATUS(weft_psem_acquire(sem, 0.1), WEFT_ETIMEDOUT);
    CHECK_ELAPSED(t0, 0.1);
    CHECK_OK(weft_psem_release(sem, 3));
    CHECK_OK(weft_psem_acquire(sem, 0));
    CHECK_OK(weft_psem_acquire(sem, 0));
    CHECK_OK(weft_psem_acquire(sem, 0));
    CHECK_STATUS(weft_psem_acquire(sem, 0), WEFT_ETIMEDOUT);
    weft_psem_close(sem);
}

WEFT_TEST(plock_psem_bounds_are_eoverflow)
{
    weft_psem *sem;

    CHECK_OK(weft_psem_create(&sem, 1, true));
    CHECK_STATUS(weft_psem_release(sem, 1), WEFT_EOVERFLOW);
    CHECK(message_names("psem_release"));
    CHECK_OK(weft_psem_acquire(sem, 0));
    CHECK_STATUS(weft_psem_release(sem, 2), WEFT_EOVERFLOW);
    CHECK_OK(weft_psem_release(sem, 1));
    CHECK_OK(weft_psem_acquire(sem, 0)); /* the failed release changed nothing */
    CHECK_STATUS(weft_psem_acquire(sem, 0), WEFT_ETIMEDOUT);
    weft_psem_close(sem);

    CHECK_OK(weft_psem_create(&sem, INT32_MAX - 1, false));
    CHECK_OK(weft_psem_release(sem, 1));
    CHECK_STATUS(weft_psem_release(sem, 1), WEFT_EOVERFLOW);
    weft_psem_close(sem);
}

WEFT_TEST(plock_psem_bad_input_is_a_status_with_a_message)
{
    weft_psem *sem;

    CHECK_STATUS(weft_psem_create(NULL, 0, false), WEFT_EINVAL);
    CHECK_STATUS(weft_psem_create(&sem, (uint32_t)INT32_MAX + 1, false), WEFT_EINVAL);
    CHECK(message_names("INT32_MAX"));
    CHECK_STATUS(weft_psem_acquire(NULL, 0), WEFT_EINVAL);
    CHECK_STATUS(weft_psem_release(NULL, 1), WEFT_EINVAL);
    weft_psem_close(NULL);
    CHECK_OK(weft_psem_create(&sem, 0, false));
    CHECK_STATUS(weft_psem_release(sem, 0), WEFT_EINVAL);
    CHECK(message_names("n is 0"));
    CHECK_STATUS(weft_psem_acquire(sem, -5.0), WEFT_EINVAL);
    CHECK_OK(weft_psem_release(sem, 1));
    CHECK_OK(weft_psem_acquire(sem, 0));
    weft_psem_close(sem);
}

typedef struct sem_waiter {
    weft_psem *sem;
    weft_test_counter *started;
} sem_waiter;

static void *wait_for_sem(void *arg)
{
    sem_waiter *w = arg;

    weft_test_counter_add(w->started, 1);
    return (void *)(intptr_t)weft_psem_acquire(w->sem, weft_test_long());
}

WEFT_TEST(plock_psem_release_n_wakes_n_waiters)
{
    weft_test_counter started = WEFT_TEST_COUNTER_INIT;
    weft_thread *threads[3];
    sem_waiter w = {NULL, &started};
    int i;

    CHECK_OK(weft_psem_create(&w.sem, 0, false));
    weft_test_start_parked(threads, 3, wait_for_sem, &w, &started);
    CHECK_OK(weft_psem_release(w.sem, 3));
    for (i = 0; i < 3; i++)
        CHECK_OK((int)(intptr_t)weft_test_join(threads[i]));
    CHECK_STATUS(weft_psem_acquire(w.sem, 0), WEFT_ETIMEDOUT);
    weft_psem_close(w.sem);
}

/* The parent releases one semaphore that a fork child waits for; the
 * child releases another that the parent waits for. */
WEFT_TEST(plock_psem_between_processes)
{
    weft_process *p;

    weft_test_skip_without_fork();
    CHECK_OK(weft_psem_create(&g_sem_a, 0, false));
    CHECK_OK(weft_psem_create(&g_sem_b, 0, false));
    p = fork_child("sem_relay");
    CHECK_OK(weft_psem_release(g_sem_a, 1));
    CHECK_OK(weft_psem_acquire(g_sem_b, weft_test_long()));
    CHECK_EQ_INT(weft_test_join_process(p), 0);
    CHECK_STATUS(weft_psem_acquire(g_sem_a, 0), WEFT_ETIMEDOUT);
    weft_psem_close(g_sem_a);
    weft_psem_close(g_sem_b);
}

static void *acquire_sem_a(void *arg)
{
    (void)arg;
    return (void *)(intptr_t)weft_psem_acquire(g_sem_a, weft_test_long());
}

/* Waiters killed in their wait leave nothing behind: the semaphore still
 * works for the processes that remain. (On the process-shared condition
 * variable of the first version, the first hand-over hung.) */
WEFT_TEST(plock_psem_waiter_killed_in_its_wait_leaves_it_working)
{
    weft_process *p[3];
    weft_thread *t;
    int i, round;

    weft_test_skip_without_fork();
    CHECK_OK(weft_psem_create(&g_sem_a, 0, false));
    CHECK_OK(weft_pevent_create(&g_go));
    for (i = 0; i < 3; i++) {
        weft_pevent_clear(g_go);
        p[i] = fork_child("wait_forever");
        CHECK_OK(weft_pevent_wait(g_go, weft_test_long()));
    }
    weft_test_settle();
    for (i = 0; i < 3; i++) {
        CHECK_OK(weft_process_kill(p[i]));
        CHECK_OK(weft_process_join(p[i], weft_test_long()));
        weft_process_release(p[i]);
    }
    for (round = 0; round < 50; round++) {
        t = weft_test_start(acquire_sem_a, NULL);
        CHECK_OK(weft_psem_release(g_sem_a, 1));
        CHECK_OK((int)(intptr_t)weft_test_join(t));
        CHECK_OK(weft_psem_release(g_sem_a, 1));
        CHECK_OK(weft_psem_acquire(g_sem_a, weft_test_long()));
    }
    weft_pevent_close(g_go);
    weft_psem_close(g_sem_a);
}

/* ---- Events ------------------------------------------------------------------------ */

WEFT_TEST(plock_pevent_set_clear_wait)
{
    weft_pevent *ev;
    double t0;

    CHECK_OK(weft_pevent_create(&ev));
    CHECK(!weft_pevent_is_set(ev));
    CHECK_STATUS(weft_pevent_wait(ev, 0), WEFT_ETIMEDOUT);
    t0 = weft_monotonic();
    CHECK_STATUS(weft_pevent_wait(ev, 0.1), WEFT_ETIMEDOUT);
    CHECK_ELAPSED(t0, 0.1);
    weft_pevent_set(ev);
    weft_pevent_set(ev);
    CHECK(weft_pevent_is_set(ev));
    CHECK_OK(weft_pevent_wait(ev, 0));
    CHECK_OK(weft_pevent_wait(ev, WEFT_FOREVER));
    weft_pevent_clear(ev);
    CHECK(!weft_pevent_is_set(ev));
    CHECK_STATUS(weft_pevent_wait(ev, 0), WEFT_ETIMEDOUT);
    weft_pevent_close(ev);
}

WEFT_TEST(plock_pevent_bad_input)
{
    CHECK_STATUS(weft_pevent_create(NULL), WEFT_EINVAL);
    CHECK(message_names("pevent_create"));
    CHECK_STATUS(weft_pevent_wait(NULL, 0), WEFT_EINVAL);
    CHECK(!weft_pevent_is_set(NULL));
    weft_pevent_set(NULL);
    weft_pevent_clear(NULL);
    weft_pevent_close(NULL);
}

/* A fork child sets the event the parent waits for. */
WEFT_TEST(plock_pevent_set_in_child_wakes_parent)
{
    weft_process *p;

    weft_test_skip_without_fork();
    CHECK_OK(weft_pevent_create(&g_event));
    CHECK_OK(weft_pevent_create(&g_go));
    p = fork_child("set_event_when_told");
    weft_pevent_set(g_go);
    CHECK_OK(weft_pevent_wait(g_event, weft_test_long()));
    CHECK(weft_pevent_is_set(g_event));
    CHECK_EQ_INT(weft_test_join_process(p), 0);
    weft_pevent_close(g_go);
    weft_pevent_close(g_event);
}

/* ---- Handing to a child, in one process ------------------------------------------------- */

#if defined(WEFT_TEST_HANDOFF)
static void *try_lock_once(void *arg)
{
    return (void *)(intptr_t)weft_plock_acquire(arg, 0);
}

static void *release_in_thread(void *arg)
{
    return (void *)(intptr_t)weft_plock_release(arg);
}
#endif

/* What a child handed each object does (src/ipc/ipc.h): the imported
 * handle is the same lock, semaphore or event. */
WEFT_TEST(plock_export_then_import_is_the_same_object)
{
#if !defined(WEFT_TEST_HANDOFF)
    weft_test_skip("weft's internal functions are out of reach of a shared build's tests");
#else
    weft__ipc_handoff h, bad;
    weft_plock *lock;
    weft_psem *sem;
    weft_pevent *ev;
    void *lock2 = NULL, *sem2 = NULL, *ev2 = NULL;

    CHECK_OK(weft_plock_create(&lock, false));
    CHECK_OK(weft__plock_export(lock, &h));
    CHECK_EQ_UINT(h.kind, WEFT__IPC_PLOCK);
    bad = h;
    bad.kind = WEFT__IPC_PSEM;
    CHECK_STATUS(weft__psem_import(&bad, &lock2), WEFT_EINVAL);
    bad = h;
    bad.desc[0] = 99;
    CHECK_STATUS(weft__plock_import(&bad, &lock2), WEFT_EINVAL);
    CHECK(lock2 == NULL);
    weft_test_handoff_copy_files(&h);
    CHECK_OK(weft__plock_import(&h, &lock2));
    CHECK_OK(weft_plock_acquire(lock2, 0));
    CHECK_STATUS((int)(intptr_t)weft_test_join(weft_test_start(try_lock_once, lock)),
                 WEFT_ETIMEDOUT);
    CHECK_STATUS((int)(intptr_t)weft_test_join(weft_test_start(release_in_thread, lock)), WEFT_EPERM);
    CHECK_OK(weft_plock_release(lock2));
    CHECK_OK((int)(intptr_t)weft_test_join(weft_test_start(try_lock_once, lock)));
    weft_plock_close(lock2);
    weft_plock_close(lock);

    CHECK_OK(weft_psem_create(&sem, 0, false));
    CHECK_OK(weft__psem_export(sem, &h));
    weft_test_handoff_copy_files(&h);
    CHECK_OK(weft__psem_import(&h, &sem2));
    CHECK_OK(weft_psem_release(sem, 1));
    CHECK_OK(weft_psem_acquire(sem2, 0));
    CHECK_STATUS(weft_psem_acquire(sem, 0), WEFT_ETIMEDOUT);
    weft_psem_close(sem);
    weft_psem_close(sem2);

    CHECK_OK(weft_pevent_create(&ev));
    CHECK_OK(weft__pevent_export(ev, &h));
    weft_test_handoff_copy_files(&h);
    CHECK_OK(weft__pevent_import(&h, &ev2));
    weft_pevent_set(ev2);
    CHECK(weft_pevent_is_set(ev));
    CHECK_OK(weft_pevent_wait(ev, 0));
    weft_pevent_close(ev2);
    weft_pevent_close(ev);
#endif
}

/* Two handles of one recursive lock in one thread: a level taken through
 * either counts, and the lock is free once each is given back. */
WEFT_TEST(plock_two_handles_of_one_rlock_count_levels_together)
{
#if !defined(WEFT_TEST_HANDOFF)
    weft_test_skip("weft's internal functions are out of reach of a shared build's tests");
#else
    weft__ipc_handoff h;
    weft_plock *lock;
    void *lock2 = NULL;

    CHECK_OK(weft_plock_create(&lock, true));
    CHECK_OK(weft__plock_export(lock, &h));
    weft_test_handoff_copy_files(&h);
    CHECK_OK(weft__plock_import(&h, &lock2));
    CHECK_OK(weft_plock_acquire(lock2, 0));
    CHECK_OK(weft_plock_acquire(lock, 0));
    CHECK_STATUS((int)(intptr_t)weft_test_join(weft_test_start(try_lock_once, lock)),
                 WEFT_ETIMEDOUT);
    CHECK_OK(weft_plock_release(lock));
    CHECK_STATUS((int)(intptr_t)weft_test_join(weft_test_start(try_lock_once, lock)),
                 WEFT_ETIMEDOUT);
    CHECK_OK(weft_plock_release(lock2));
    CHECK_OK((int)(intptr_t)weft_test_join(weft_test_start(try_lock_once, lock)));
    weft_plock_close(lock2);
    weft_plock_close(lock);
#endif
}

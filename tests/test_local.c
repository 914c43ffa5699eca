/* SPDX-License-Identifier: MIT */
/* weft_local: threading.local, with destructors: at the end of weft's
 * threads, of threads weft did not start (made with the platform's own
 * call), of the main thread at the orderly exit (a child mode), and on
 * weft_local_destroy. */
#include "runner.h"

#include <stdio.h>
#include <stdlib.h>

#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#else
#include <pthread.h>
#endif

/* ---- A destructor that counts ---------------------------------------------------- */

/* Counts destructor calls and sums their values (small integers cast to
 * pointers), under a lock: destructors run on many threads. */
typedef struct tally {
    weft_lock lock;
    long calls;
    intptr_t sum;
} tally;

static tally counted;

static void count_destructor(void *value)
{
    weft_lock_acquire(&counted.lock, WEFT_FOREVER);
    counted.calls++;
    counted.sum += (intptr_t)value;
    weft_lock_release(&counted.lock);
}

static long counted_calls(void)
{
    long n;

    weft_lock_acquire(&counted.lock, WEFT_FOREVER);
    n = counted.calls;
    weft_lock_release(&counted.lock);
    return n;
}

static intptr_t counted_sum(void)
{
    intptr_t s;

    weft_lock_acquire(&counted.lock, WEFT_FOREVER);
    s = counted.sum;
    weft_lock_release(&counted.lock);
    return s;
}

#define VALUE(n) ((void *)(intptr_t)(n))

/* ---- Arguments and the basics -------------------------------------------------------- */

WEFT_TEST(local_null_arguments)
{
    weft_local *local = VALUE(1);
    int x = 0;

    CHECK_STATUS(weft_local_create(NULL, NULL), WEFT_EINVAL);
    CHECK_STATUS(weft_local_create(NULL, count_destructor), WEFT_EINVAL);
    CHECK_EQ_PTR(weft_local_get(NULL), NULL);
    CHECK_STATUS(weft_local_set(NULL, &x), WEFT_EINVAL);
    CHECK_STATUS(weft_local_set(NULL, NULL), WEFT_EINVAL);
    weft_local_destroy(NULL); /* does nothing */
    CHECK_OK(weft_local_create(&local, NULL)); /* no destructor is fine */
    CHECK(local != NULL);
    weft_local_destroy(local);
}

WEFT_TEST(local_get_set_null)
{
    weft_local *a, *b;
    int x = 0, y = 0;

    CHECK_OK(weft_local_create(&a, count_destructor));
    CHECK_OK(weft_local_create(&b, count_destructor));
    CHECK_EQ_PTR(weft_local_get(a), NULL); /* a new local reads NULL */
    CHECK_OK(weft_local_set(a, NULL));     /* setting NULL where nothing is */
    CHECK_EQ_PTR(weft_local_get(a), NULL);
    CHECK_OK(weft_local_set(a, &x));
    CHECK_EQ_PTR(weft_local_get(a), &x);
    CHECK_EQ_PTR(weft_local_get(b), NULL); /* locals are independent */
    CHECK_OK(weft_local_set(b, &y));
    CHECK_EQ_PTR(weft_local_get(a), &x);
    CHECK_EQ_PTR(weft_local_get(b), &y);
    CHECK_OK(weft_local_set(a, &y)); /* replacing: the old value is not destroyed */
    CHECK_EQ_PTR(weft_local_get(a), &y);
    CHECK_OK(weft_local_set(a, NULL));
    CHECK_EQ_PTR(weft_local_get(a), NULL);
    CHECK_OK(weft_local_set(b, NULL));
    CHECK_EQ_INT(counted_calls(), 0);
    weft_local_destroy(a); /* only NULL values: no destructor call */
    weft_local_destroy(b);
    CHECK_EQ_INT(counted_calls(), 0);
}

/* ---- Isolation ----------------------------------------------------------------------------- */

enum { ISO_THREADS = 4 };

typedef struct isolation {
    weft_local *local;
    weft_barrier all_set; /* every thread has set its value */
} isolation;

typedef struct iso_arg {
    isolation *iso;
    int value;
} iso_arg;

static void *iso_thread(void *arg)
{
    iso_arg *a = arg;
    weft_local *local = a->iso->local;

    CHECK_EQ_PTR(weft_local_get(local), NULL); /* not main's value */
    CHECK_OK(weft_local_set(local, &a->value));
    CHECK_EQ_PTR(weft_local_get(local), &a->value);
    CHECK_GE_INT(weft_barrier_wait(&a->iso->all_set, weft_test_long()), 0);
    /* Every thread has set its own: each still sees its own. */
    CHECK_EQ_PTR(weft_local_get(local), &a->value);
    CHECK_OK(weft_local_set(local, NULL));
    return NULL;
}

WEFT_TEST(local_values_isolated_between_threads)
{
    isolation iso;
    iso_arg args[ISO_THREADS];
    weft_thread *threads[ISO_THREADS];
    int mine = -1;

    CHECK_OK(weft_local_create(&iso.local, NULL));
    weft_barrier_init(&iso.all_set, ISO_THREADS);
    CHECK_OK(weft_local_set(iso.local, &mine));
    for (int i = 0; i < ISO_THREADS; i++) {
        args[i].iso = &iso;
        args[i].value = i;
    }
    weft_test_start_each(threads, ISO_THREADS, iso_thread, args, sizeof args[0]);
    weft_test_join_all(threads, ISO_THREADS);
    CHECK_EQ_PTR(weft_local_get(iso.local), &mine);
    weft_local_destroy(iso.local);
}

/* ---- Destructors at a thread's end ------------------------------------------------------- */

typedef struct end_case {
    weft_local *with;    /* count_destructor */
    weft_local *without; /* no destructor */
    weft_local *cleared; /* count_destructor, set then cleared */
    bool use_exit;       /* end with weft_thread_exit() */
} end_case;

static void *set_and_end(void *arg)
{
    end_case *c = arg;

    CHECK_OK(weft_local_set(c->with, VALUE(1)));
    CHECK_OK(weft_local_set(c->with, VALUE(10))); /* replaces 1, which is not destroyed */
    CHECK_OK(weft_local_set(c->without, VALUE(100)));
    CHECK_OK(weft_local_set(c->cleared, VALUE(1000)));
    CHECK_OK(weft_local_set(c->cleared, NULL));
    if (c->use_exit)
        weft_thread_exit(VALUE(7));
    return VALUE(7);
}

static void check_destructor_at_end(bool use_exit)
{
    end_case c;
    weft_thread *thread;

    c.use_exit = use_exit;
    CHECK_OK(weft_local_create(&c.with, count_destructor));
    CHECK_OK(weft_local_create(&c.without, NULL));
    CHECK_OK(weft_local_create(&c.cleared, count_destructor));
    thread = weft_test_start(set_and_end, &c);
    CHECK_EQ_PTR(weft_test_join(thread), VALUE(7));
    /* Exactly once, with the last value; nothing for NULL. */
    CHECK_EQ_INT(counted_calls(), 1);
    CHECK_EQ_INT(counted_sum(), 10);
    /* The values went with the thread: destroying finds none. */
    weft_local_destroy(c.with);
    weft_local_destroy(c.without);
    weft_local_destroy(c.cleared);
    CHECK_EQ_INT(counted_calls(), 1);
}

WEFT_TEST(local_destructor_once_at_thread_end)
{
    check_destructor_at_end(false);
}

WEFT_TEST(local_destructor_once_at_thread_exit)
{
    check_destructor_at_end(true);
}

/* A destructor sees its own local cleared, and runs on the ending thread. */
static weft_local *seen_local;
static bool seen_null;
static uint64_t seen_ident;

static void seeing_destructor(void *value)
{
    (void)value;
    seen_null = weft_local_get(seen_local) == NULL;
    seen_ident = weft_thread_ident(weft_thread_current());
}

static void *set_seen(void *arg)
{
    (void)arg;
    CHECK_OK(weft_local_set(seen_local, VALUE(1)));
    return VALUE((intptr_t)weft_thread_ident(weft_thread_current()));
}

WEFT_TEST(local_destructor_runs_on_ending_thread_with_value_cleared)
{
    void *ident;

    CHECK_OK(weft_local_create(&seen_local, seeing_destructor));
    ident = weft_test_join(weft_test_start(set_seen, NULL));
    CHECK(seen_null);
    CHECK_EQ_UINT(seen_ident, (uint64_t)(intptr_t)ident);
    weft_local_destroy(seen_local);
}

/* ---- Destructors that set values ------------------------------------------------------------ */

static weft_local *resetting_local;
static long resetting_calls;
static long resetting_limit; /* how many calls set the value again */

static void resetting_destructor(void *value)
{
    resetting_calls++; /* only the ending thread runs these */
    if (resetting_calls <= resetting_limit)
        CHECK_OK(weft_local_set(resetting_local, value));
}

static void *set_resetting(void *arg)
{
    (void)arg;
    CHECK_OK(weft_local_set(resetting_local, VALUE(1)));
    return NULL;
}

WEFT_TEST(local_destructor_setting_again_is_rerun)
{
    CHECK_OK(weft_local_create(&resetting_local, resetting_destructor));
    resetting_calls = 0;
    resetting_limit = 1; /* sets once more: destroyed twice */
    weft_test_join(weft_test_start(set_resetting, NULL));
    CHECK_EQ_INT(resetting_calls, 2);
    weft_local_destroy(resetting_local);
}

WEFT_TEST(local_destructor_setting_forever_is_bounded)
{
    CHECK_OK(weft_local_create(&resetting_local, resetting_destructor));
    resetting_calls = 0;
    resetting_limit = 1000000; /* always sets again */
    weft_test_join(weft_test_start(set_resetting, NULL));
    CHECK_EQ_INT(resetting_calls, WEFT_LOCAL_DESTRUCTOR_ROUNDS);
    weft_local_destroy(resetting_local);
    CHECK_EQ_INT(resetting_calls, WEFT_LOCAL_DESTRUCTOR_ROUNDS); /* the last value was dropped */
}

/* A destructor that sets another local, whose destructor then runs too. */
static weft_local *chain_first, *chain_second;

static void chain_first_destructor(void *value)
{
    count_destructor(value);
    CHECK_OK(weft_local_set(chain_second, VALUE(20))); /* may grow the table */
}

static void *set_chain(void *arg)
{
    (void)arg;
    CHECK_OK(weft_local_set(chain_first, VALUE(1)));
    return NULL;
}

WEFT_TEST(local_destructor_setting_another_local)
{
    weft_local *spacer[100];

    CHECK_OK(weft_local_create(&chain_first, chain_first_destructor));
    /* Make the second local's index larger than the thread's table. */
    for (int i = 0; i < 100; i++)
        CHECK_OK(weft_local_create(&spacer[i], NULL));
    CHECK_OK(weft_local_create(&chain_second, count_destructor));
    weft_test_join(weft_test_start(set_chain, NULL));
    CHECK_EQ_INT(counted_calls(), 2);
    CHECK_EQ_INT(counted_sum(), 21);
    for (int i = 0; i < 100; i++)
        weft_local_destroy(spacer[i]);
    weft_local_destroy(chain_first);
    weft_local_destroy(chain_second);
}

/* ---- Destroy ---------------------------------------------------------------------------------- */

enum { PARKED_THREADS = 4 };

typedef struct parked {
    weft_local *local;
    weft_test_counter set;   /* threads that have set their value */
    weft_event go;           /* main has destroyed the local */
    weft_local *fresh;       /* made by main after the destroy */
} parked;

static void *set_and_park(void *arg)
{
    parked *p = arg;
    intptr_t v = (intptr_t)weft_thread_ident(weft_thread_current());

    CHECK_OK(weft_local_set(p->local, VALUE(v)));
    weft_test_counter_add(&p->set, 1);
    weft_test_wait_event(&p->go);
    /* The old local is gone; a new one, perhaps on the same index, reads
     * NULL here. */
    CHECK_EQ_PTR(weft_local_get(p->fresh), NULL);
    return VALUE(v);
}

WEFT_TEST(local_destroy_runs_every_threads_value)
{
    parked p = {NULL, WEFT_TEST_COUNTER_INIT, WEFT_EVENT_INIT, NULL};
    weft_thread *threads[PARKED_THREADS];
    intptr_t sum = 5;

    CHECK_OK(weft_local_create(&p.local, count_destructor));
    CHECK_OK(weft_local_set(p.local, VALUE(5)));
    weft_test_start_all(threads, PARKED_THREADS, set_and_park, &p);
    weft_test_counter_wait(&p.set, PARKED_THREADS);
    weft_local_destroy(p.local);
    CHECK_EQ_INT(counted_calls(), PARKED_THREADS + 1); /* theirs and main's */
    CHECK_OK(weft_local_create(&p.fresh, count_destructor));
    CHECK_EQ_PTR(weft_local_get(p.fresh), NULL);
    weft_event_set(&p.go);
    for (int i = 0; i < PARKED_THREADS; i++)
        sum += (intptr_t)weft_test_join(threads[i]);
    /* Their ends found nothing more to destroy. */
    CHECK_EQ_INT(counted_calls(), PARKED_THREADS + 1);
    CHECK_EQ_INT(counted_sum(), sum);
    weft_local_destroy(p.fresh);
}

WEFT_TEST(local_reused_index_shows_no_stale_value)
{
    enum { N = 50 };
    parked p = {NULL, WEFT_TEST_COUNTER_INIT, WEFT_EVENT_INIT, NULL};
    weft_local *old[N], *fresh[N];
    weft_thread *thread;

    for (int i = 0; i < N; i++) {
        CHECK_OK(weft_local_create(&old[i], NULL));
        CHECK_OK(weft_local_set(old[i], VALUE(i + 1)));
    }
    p.local = old[N - 1];
    thread = weft_test_start(set_and_park, &p);
    weft_test_counter_wait(&p.set, 1);
    for (int i = 0; i < N; i++)
        weft_local_destroy(old[i]);
    for (int i = 0; i < N; i++) {
        CHECK_OK(weft_local_create(&fresh[i], NULL));
        CHECK_EQ_PTR(weft_local_get(fresh[i]), NULL);
    }
    p.fresh = fresh[0]; /* the thread checks the last index freed, reused first */
    weft_event_set(&p.go);
    weft_test_join(thread);
    for (int i = 0; i < N; i++)
        weft_local_destroy(fresh[i]);
}

/* A destructor run by weft_local_destroy sets the local it destroys:
 * bounded re-runs, as at a thread's end. */
WEFT_TEST(local_destructor_setting_during_destroy_is_bounded)
{
    CHECK_OK(weft_local_create(&resetting_local, resetting_destructor));
    resetting_calls = 0;
    resetting_limit = 1;
    CHECK_OK(weft_local_set(resetting_local, VALUE(1)));
    weft_local_destroy(resetting_local);
    CHECK_EQ_INT(resetting_calls, 2);

    CHECK_OK(weft_local_create(&resetting_local, resetting_destructor));
    resetting_calls = 0;
    resetting_limit = 1000000;
    CHECK_OK(weft_local_set(resetting_local, VALUE(1)));
    weft_local_destroy(resetting_local);
    CHECK_EQ_INT(resetting_calls, WEFT_LOCAL_DESTRUCTOR_ROUNDS);
}

/* A destructor running at its thread's end destroys its own local. */
static weft_local *self_destroying;
static long self_destroyed_calls;

static void self_destroying_destructor(void *value)
{
    (void)value;
    self_destroyed_calls++;
    weft_local_destroy(self_destroying);
}

static void *set_self_destroying(void *arg)
{
    (void)arg;
    CHECK_OK(weft_local_set(self_destroying, VALUE(1)));
    return NULL;
}

WEFT_TEST(local_destructor_destroys_its_own_local)
{
    weft_local *next;

    CHECK_OK(weft_local_create(&self_destroying, self_destroying_destructor));
    weft_test_join(weft_test_start(set_self_destroying, NULL));
    CHECK_EQ_INT(self_destroyed_calls, 1);
    CHECK_OK(weft_local_create(&next, NULL)); /* the index was given back */
    CHECK_EQ_PTR(weft_local_get(next), NULL);
    weft_local_destroy(next);
}

/* Threads end while the local is destroyed: every value is destroyed
 * exactly once, and no destructor runs after weft_local_destroy returns. */
typedef struct race {
    weft_local *local;
    weft_test_counter set;
    uint32_t destroyed; /* set by main once destroy returned */
    weft_lock lock;
    long calls;
    long late; /* calls seen after destroy returned */
} race;

static race the_race;

static void race_destructor(void *value)
{
    (void)value;
    weft_lock_acquire(&the_race.lock, WEFT_FOREVER);
    the_race.calls++;
    if (the_race.destroyed)
        the_race.late++;
    weft_lock_release(&the_race.lock);
}

static void *set_and_leave(void *arg)
{
    race *r = arg;

    CHECK_OK(weft_local_set(r->local, VALUE(1)));
    weft_test_counter_add(&r->set, 1);
    return NULL;
}

WEFT_TEST_TIMEOUT(local_destroy_races_thread_ends, 60)
{
    enum { THREADS = 4 };
    long rounds = weft_test_iterations(300);
    weft_thread *threads[THREADS];

    for (long r = 0; r < rounds; r++) {
        weft_test_counter set = WEFT_TEST_COUNTER_INIT;

        the_race.set = set;
        the_race.destroyed = 0;
        the_race.calls = 0;
        the_race.late = 0;
        CHECK_OK(weft_local_create(&the_race.local, race_destructor));
        CHECK_OK(weft_local_set(the_race.local, VALUE(1)));
        weft_test_start_all(threads, THREADS, set_and_leave, &the_race);
        /* Every thread has set its value and is ending, or has ended:
         * the destroy races their ends. (None may set after it.) */
        weft_test_counter_wait(&the_race.set, THREADS);
        weft_local_destroy(the_race.local);
        weft_lock_acquire(&the_race.lock, WEFT_FOREVER);
        the_race.destroyed = 1;
        weft_lock_release(&the_race.lock);
        weft_test_join_all(threads, THREADS);
        CHECK_EQ_INT(the_race.late, 0);
        CHECK_EQ_INT(the_race.calls, THREADS + 1); /* once per value, main's too */
    }
}

/* ---- Many locals -------------------------------------------------------------------------------- */

enum { MANY = 100000, MANY_THREADS = 4 };

typedef struct many {
    weft_local **locals;
    weft_barrier start;
} many;

static many the_many;

static void many_destructor(void *value)
{
    count_destructor(VALUE(1));
    (void)value;
}

static void *use_many(void *arg)
{
    intptr_t base = (intptr_t)arg * MANY;

    CHECK_GE_INT(weft_barrier_wait(&the_many.start, weft_test_long()), 0);
    for (intptr_t i = 0; i < MANY; i++)
        CHECK_EQ_PTR(weft_local_get(the_many.locals[i]), NULL);
    for (intptr_t i = 0; i < MANY; i++)
        CHECK_OK(weft_local_set(the_many.locals[i], VALUE(base + i + 1)));
    for (intptr_t i = 0; i < MANY; i++)
        if (weft_local_get(the_many.locals[i]) != VALUE(base + i + 1))
            CHECK_EQ_PTR(weft_local_get(the_many.locals[i]), VALUE(base + i + 1));
    return NULL;
}

WEFT_TEST_TIMEOUT(local_100000_locals_from_4_threads, 120)
{
    weft_thread *threads[MANY_THREADS];

    the_many.locals = malloc(MANY * sizeof *the_many.locals);
    CHECK(the_many.locals != NULL);
    for (long i = 0; i < MANY; i++)
        CHECK_OK(weft_local_create(&the_many.locals[i], many_destructor));
    weft_barrier_init(&the_many.start, MANY_THREADS);
    /* Thread i sets values i*MANY+1 ..; main keeps a few of its own. */
    for (intptr_t i = 0; i < MANY_THREADS; i++)
        threads[i] = weft_test_start(use_many, VALUE(i + 1));
    CHECK_OK(weft_local_set(the_many.locals[MANY - 1], VALUE(-1)));
    weft_test_join_all(threads, MANY_THREADS);
    CHECK_EQ_INT(counted_calls(), (long)MANY * MANY_THREADS);
    CHECK_EQ_PTR(weft_local_get(the_many.locals[MANY - 1]), VALUE(-1));
    for (long i = 0; i < MANY; i++)
        weft_local_destroy(the_many.locals[i]);
    CHECK_EQ_INT(counted_calls(), (long)MANY * MANY_THREADS + 1);
    free(the_many.locals);
}

/* ---- Threads weft did not start, and the main thread at exit ------------------------ */

static weft_local *raw_local;

static void raw_thread_body(void)
{
    CHECK_OK(weft_local_set(raw_local, (void *)(intptr_t)7));
    CHECK_EQ_PTR(weft_local_get(raw_local), (void *)(intptr_t)7);
}

#ifdef _WIN32
static DWORD WINAPI raw_thread(LPVOID unused)
{
    (void)unused;
    raw_thread_body();
    return 0;
}
#else
static void *raw_thread(void *unused)
{
    (void)unused;
    raw_thread_body();
    return NULL;
}
#endif

WEFT_TEST(local_destructor_at_end_of_thread_weft_did_not_start)
{
    long before = counted_calls();
    intptr_t sum_before = counted_sum();

    CHECK_OK(weft_local_create(&raw_local, count_destructor));
#ifdef _WIN32
    {
        HANDLE h = CreateThread(NULL, 0, raw_thread, NULL, 0, NULL);
        CHECK(h != NULL);
        CHECK(WaitForSingleObject(h, INFINITE) == WAIT_OBJECT_0);
        CloseHandle(h);
    }
#else
    {
        pthread_t t;
        CHECK_EQ_INT(pthread_create(&t, NULL, raw_thread, NULL), 0);
        CHECK_EQ_INT(pthread_join(t, NULL), 0);
    }
#endif
    /* The OS join returns after the thread's destructors ran. */
    CHECK_EQ_INT(counted_calls(), before + 1);
    CHECK_EQ_INT((long)(counted_sum() - sum_before), 7);
    weft_local_destroy(raw_local);
}

static void print_destructor(void *value)
{
    printf("destructor: %s\n", (const char *)value);
}

static void print_handler(void *line)
{
    printf("%s\n", (const char *)line);
}

WEFT_CHILD_MODE(main_local_at_exit)
{
    weft_local *l;

    CHECK_OK(weft_local_create(&l, print_destructor));
    CHECK_OK(weft_atexit(print_handler, "handler"));
    CHECK_OK(weft_local_set(l, "main's value"));
    return 4; /* returning from main() is the orderly exit */
}

WEFT_TEST(local_destructor_for_main_thread_at_orderly_exit)
{
    char out[WEFT_TEST_OUT_CAP];

    weft_test_run_mode("main_local_at_exit", 4, out);
    CHECK_BEFORE(out, "handler", "destructor: main's value");
    CHECK_ONCE(out, "destructor: main's value");
}

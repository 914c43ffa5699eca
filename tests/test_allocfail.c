/* SPDX-License-Identifier: MIT */
/* Allocation failure injection (built only with -DWEFT_FAULT_INJECTION=ON,
 * run by ci/allocfail.sh under ASan): each case is one public call path.
 * sweep() runs it once counting the allocations weft makes in it (k), then
 * k more times, failing the 1st, the 2nd, ... the k-th of them (src/fault.h),
 * each run in a fresh process (`--child path <path> <n>`), so what weft
 * makes once per process is failed too. Each run checks the call reports
 * WEFT_ENOMEM (or, where weft does without, succeeds and behaves), that the
 * object is still usable (the call done again works), and releases
 * everything: LeakSanitizer checks at that process's end that nothing
 * leaked, and on Linux the descriptors it has open before and after are
 * counted. sweep_children() fails the allocations of the processes a path
 * spawns instead (WEFT_ALLOCFAIL_CHILD_AT in their environment, which
 * replaces the whole environment: ASAN_OPTIONS are the defaults there).
 *
 * Each case prints "allocfail: <path>: <k> allocations failed in turn" and
 * where each failed allocation was made; ci/allocfail.sh adds them up.
 * Left out: weft_exit_on_signals (it allocates nothing through weft). */
#include "runner.h"

#include "../src/fault.h"

#include <stdio.h>
#include <stdlib.h>

#ifdef __linux__
#include <dirent.h>
#endif
#if WEFT_TEST_ASAN
#include <sanitizer/common_interface_defs.h>
#endif
#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#else
#include <pthread.h>
#endif

/* ---- The sweep ------------------------------------------------------------------ */

/* A call path: sets up what it needs, arm(n)s the hook right before the
 * calls under test, disarm()s it after them, checks, releases everything.
 * Returns how many allocations the armed calls made. */
typedef long (*path_fn)(long n, int how);

static void arm(long n)
{
    weft_fault_alloc_fail_at(n);
}

/* The hook off again; how many allocations were made since arm(). */
static long disarm(void)
{
    long k = weft_fault_alloc_count();

    weft_fault_alloc_fail_at(0);
    return k;
}

/* Whether the n-th allocation failed, in a section that made k. */
static bool hit(long n, long k)
{
    return n > 0 && n <= k;
}

/* The status of an armed call that made k allocations: WEFT_OK when its
 * n-th was not reached; else WEFT_ENOMEM, or WEFT_OK where weft does
 * without what it could not allocate (it makes it later: the main thread's
 * record, a worker that a running one replaces...). The checks after the
 * call see that it then behaves. */
static void expect(int status, long n, long k)
{
    if (status != WEFT_OK)
        CHECK_STATUS(status, hit(n, k) ? WEFT_ENOMEM : WEFT_OK);
}

/* Descriptors this process has open (Linux); 0 elsewhere. */
static long open_fds(void)
{
#ifdef __linux__
    DIR *d = opendir("/proc/self/fd");
    long count = 0;

    CHECK(d != NULL);
    while (readdir(d))
        count++;
    closedir(d);
    return count;
#else
    return 0;
#endif
}

/* A path, and the variant of it to run (its `how`). */
typedef struct path_entry {
    const char *name;
    path_fn fn;
    int how;
} path_entry;

static const path_entry *find_path(const char *name);

/* Where the failed allocation was asked for, as "src/file.c:line" (under a
 * sanitizer, whose symbolizer reads the debug information), else "?";
 * "none" when the n-th allocation was not reached (a path whose count
 * varies with its threads' timing). */
static void failed_site(char *buf, size_t size)
{
    const char *site = weft_fault_alloc_failed_site();
    const char *src;

    snprintf(buf, size, site ? "?" : "none");
    if (!site)
        return;
#if WEFT_TEST_ASAN
    /* A return address: the call is the instruction before it. */
    __sanitizer_symbolize_pc((void *)(site - 1), "%s:%l", buf, size);
    src = strstr(buf, "src/");
    if (src)
        memmove(buf, src, strlen(src) + 1);
#else
    (void)src;
#endif
}

/* `<self> --child path <name> <n>`: run the path once in this fresh
 * process, so what weft makes once per process is counted (and failed)
 * too; print the allocations it made and the descriptors it left open.
 * LeakSanitizer checks at this process's end that nothing leaked. */
WEFT_CHILD_MODE(path)
{
    int count;
    char **args = weft_test_child_args(&count);
    const path_entry *e;
    long fds, k;
    char site[512];

    arm(0); /* failures are for the children (CHILD_AT), not for this process */
    CHECK_EQ_INT(count, 2);
    e = find_path(args[0]);
    CHECK(e != NULL);
    fds = open_fds();
    k = e->fn(atol(args[1]), e->how);
    fds = open_fds() - fds;
    failed_site(site, sizeof site); /* after the count: the symbolizer has pipes */
    printf("k=%ld fds=%ld site=%s\n", k, fds, site);
    return 0;
}

/* The environment variable that makes a spawned child of a path fail its
 * n-th allocation (counted from its start), and whether this process is a
 * path run with it: then its children's failures are what is tested. */
#define CHILD_AT "WEFT_ALLOCFAIL_CHILD_AT"
static bool children_fail;

/* In a child started with CHILD_AT: say where its failure happened ("none"
 * if it made fewer allocations), on stdout, which its path reads. */
static void report_child(void *arg)
{
    char site[512];

    (void)arg;
    failed_site(site, sizeof site);
    printf("child site=%s\n", site);
    fflush(stdout);
}

/* Run path `name` with its n-th allocation failed, in a child; or, with
 * child_n > 0, with the child_n-th of each of its own spawned children
 * (they inherit CHILD_AT). *fds: the descriptors it left open. Returns the
 * allocations it made; `sites` gets the children's sites, one per line. */
static long run_path(const char *name, long n, long child_n, long *fds, char site[512],
                     char *sites, size_t sites_cap)
{
    char arg[32], env_at[64];
    const char *argv[] = {weft_test_self_path(), "--child", "path", name, arg, NULL};
    const char *env[] = {env_at, NULL};
    weft_popen_opts opts = {0};
    char *out = NULL, *line;
    int code = -1;
    long k = -1;

    snprintf(arg, sizeof arg, "%ld", n);
    snprintf(env_at, sizeof env_at, CHILD_AT "=%ld", child_n);
    opts.out = WEFT_STDIO_PIPE;
    if (child_n > 0)
        opts.env = env;
    CHECK_OK(weft_run(argv, &opts, weft_test_long(), &code, &out, NULL, NULL, NULL));
    if (code != 0)
        weft_test_fail(__FILE__, __LINE__,
                       "path %s failing allocation %ld (children: %ld): exit code %d", name, n,
                       child_n, code);
    CHECK(out != NULL);
    if (sites_cap > 0)
        sites[0] = '\0';
    for (line = out; line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        char child_site[512];

        if (sscanf(line, "k=%ld fds=%ld site=%511s", &k, fds, site) == 3)
            continue;
        if (sscanf(line, "child site=%511s", child_site) == 1 &&
            strcmp(child_site, "none") != 0 && !strstr(sites, child_site) &&
            strlen(sites) + strlen(child_site) + 2 < sites_cap) {
            strcat(sites, child_site);
            strcat(sites, "\n");
        }
    }
    CHECK_GE_INT(k, 0);
    weft_free(out);
    return k;
}

/* Count the allocations of path `name` (k), then fail each in turn. */
static void sweep(const char *name)
{
    long k, i, fds, fds_i;
    char site[512];

    k = run_path(name, 0, 0, &fds, site, NULL, 0);
    CHECK_GE_INT(k, 1);
    for (i = 1; i <= k; i++) {
        run_path(name, i, 0, &fds_i, site, NULL, 0);
        CHECK_LE_INT(fds_i, fds);
        printf("allocfail: %s #%ld failed at %s\n", name, i, site);
    }
    printf("allocfail: %s: %ld allocations failed in turn\n", name, k);
    fflush(stdout);
}

enum { CHILD_SWEEP_MAX = 64 };

/* The same for the allocations of the children path `name` spawns: the
 * first of each child, then the second..., until no child reaches the
 * n-th. The path checks that the parent copes (a child that fails exits
 * with an error: the parent sees its exit code or WEFT_ECHILD). */
static void sweep_children(const char *name)
{
    char site[512], sites[4096];
    long i, fds, fds_i, failed = 0;

    run_path(name, 0, 0, &fds, site, NULL, 0);
    for (i = 1; i <= CHILD_SWEEP_MAX; i++) {
        const char *s;

        run_path(name, 0, i, &fds_i, site, sites, sizeof sites);
        CHECK_LE_INT(fds_i, fds);
        if (!sites[0])
            break;
        for (s = sites; *s; s = strchr(s, '\n') + 1) {
            printf("allocfail: %s child #%ld failed at %.*s\n", name, i,
                   (int)(strchr(s, '\n') - s), s);
            failed++;
        }
    }
    CHECK_LT_INT(i, CHILD_SWEEP_MAX + 1);
    CHECK_GE_INT(failed, 1);
    printf("allocfail: %s/children: %ld allocations failed in turn\n", name, i - 1);
    fflush(stdout);
}

/* ---- Queues --------------------------------------------------------------------- */

static int compare_ints(const void *a, const void *b)
{
    intptr_t x = (intptr_t)a, y = (intptr_t)b;

    return (x > y) - (x < y);
}

#define ITEM(i) ((void *)(intptr_t)(i))
enum { QUEUE_ITEMS = 1000 }; /* several FIFO chunks, several heap doublings */

/* Create a queue of `kind`, put QUEUE_ITEMS items through its growth and
 * take them out again, all armed: a failed create leaves nothing, a failed
 * put leaves the queue as it was (the same put then works), and every item
 * comes out once, in order. */
static long queue_path(long n, int how)
{
    weft_queue_kind kind = (weft_queue_kind)how;
    weft_queue_opts opts = {.kind = kind, .compare = compare_ints};
    weft_queue *q = NULL;
    bool failed = false;
    void *item;
    long i, k;
    int rc;

    arm(n);
    rc = weft_queue_create(&q, &opts);
    if (rc == WEFT_ENOMEM) {
        CHECK(n > 0);
        CHECK(q == NULL);
        failed = true;
        CHECK_OK(weft_queue_create(&q, &opts));
    }
    CHECK_OK(rc == WEFT_ENOMEM ? WEFT_OK : rc);
    for (i = 0; i < QUEUE_ITEMS; i++) {
        /* LIFO and PRIORITY put the items in reverse, so both hand them
         * back in the order 0, 1, 2... as FIFO does. */
        long v = kind == WEFT_QUEUE_FIFO ? i : QUEUE_ITEMS - 1 - i;

        rc = weft_queue_put(q, ITEM(v), 0);
        if (rc == WEFT_ENOMEM) {
            CHECK(n > 0 && !failed);
            failed = true;
            CHECK_EQ_UINT(weft_queue_size(q), (size_t)i);
            rc = weft_queue_put(q, ITEM(v), 0);
        }
        CHECK_OK(rc);
    }
    for (i = 0; i < QUEUE_ITEMS; i++) {
        CHECK_OK(weft_queue_get(q, &item, 0));
        CHECK_EQ_INT((intptr_t)item, i);
    }
    k = disarm();
    CHECK(!failed || hit(n, k));
    CHECK(weft_queue_empty(q));
    weft_queue_destroy(q);
    return k;
}

WEFT_TEST(allocfail_queue_fifo_create_put_get)
{
    sweep("queue_fifo");
}

WEFT_TEST(allocfail_queue_lifo_create_put_get)
{
    sweep("queue_lifo");
}

WEFT_TEST(allocfail_queue_priority_create_put_get)
{
    sweep("queue_priority");
}

/* ---- Threads --------------------------------------------------------------------- */

static void *return_arg(void *arg)
{
    return arg;
}

/* Start a thread, join it: its result comes back. */
static void start_and_join(const weft_thread_opts *opts)
{
    weft_thread *t = NULL;

    CHECK_OK(weft_thread_start(&t, return_arg, ITEM(7), opts));
    CHECK_EQ_PTR(weft_test_join(t), ITEM(7));
}

/* A thread named (how 1) or not. */
static long thread_start_path(long n, int how)
{
    weft_thread_opts opts = {.name = how ? "named" : NULL};
    weft_thread *t = (weft_thread *)ITEM(1);
    long k;
    int rc;

    arm(n);
    rc = weft_thread_start(&t, return_arg, ITEM(7), &opts);
    k = disarm();
    expect(rc, n, k);
    if (rc == WEFT_OK)
        CHECK_EQ_PTR(weft_test_join(t), ITEM(7));
    else
        CHECK(t == NULL);
    CHECK_EQ_UINT(weft_thread_active_count(), 1);
    start_and_join(&opts);
    return k;
}

WEFT_TEST(allocfail_thread_start_named)
{
    sweep("thread_start_named");
}

WEFT_TEST(allocfail_thread_start_unnamed)
{
    sweep("thread_start_unnamed");
}

static long thread_set_name(long n, int how)
{
    weft_thread *t = weft_thread_current();
    const char *before = weft_thread_name(t);
    long k;
    int rc;

    (void)how;
    arm(n);
    rc = weft_thread_set_name(t, "renamed by the sweep");
    k = disarm();
    expect(rc, n, k);
    CHECK_EQ_STR(weft_thread_name(t), rc == WEFT_OK ? "renamed by the sweep" : before);
    CHECK_OK(weft_thread_set_name(t, "MainThread"));
    CHECK_EQ_STR(weft_thread_name(t), "MainThread");
    return k;
}

WEFT_TEST(allocfail_thread_set_name)
{
    sweep("thread_set_name");
}

static void fire(void *arg)
{
    weft_event_set(arg);
}

static long timer_start(long n, int how)
{
    weft_event fired = WEFT_EVENT_INIT;
    weft_thread *t = (weft_thread *)ITEM(1);
    long k;
    int rc;

    (void)how;
    arm(n);
    rc = weft_timer_start(&t, 0, fire, &fired);
    k = disarm();
    expect(rc, n, k);
    if (rc != WEFT_OK) {
        CHECK(t == NULL);
        CHECK(!weft_event_is_set(&fired));
        CHECK_OK(weft_timer_start(&t, 0, fire, &fired));
    }
    weft_test_wait_event(&fired);
    weft_test_join(t);
    return k;
}

WEFT_TEST(allocfail_timer_start)
{
    sweep("timer_start");
}

/* ---- Threads weft did not start --------------------------------------------------- */

/* What a foreign thread does: the first weft calls that need its record
 * (made on first use) report WEFT_ENOMEM (NULL for current()) when the
 * record cannot be made; the next call makes it. */
typedef struct foreign_run {
    long n, k;
} foreign_run;

static void foreign_calls(foreign_run *r)
{
    weft_rlock rlock = WEFT_RLOCK_INIT;
    weft_thread *self;
    bool failed = false;
    int rc;

    arm(r->n);
    self = weft_thread_current();
    if (!self) {
        failed = true;
        self = weft_thread_current();
    }
    CHECK(self != NULL);
    rc = weft_sleep(0);
    CHECK_OK(rc);
    rc = weft_rlock_acquire(&rlock, WEFT_FOREVER);
    CHECK_OK(rc);
    CHECK_OK(weft_rlock_release(&rlock));
    r->k = disarm();
    CHECK(!failed || hit(r->n, r->k));
    CHECK(weft_thread_current() == self);
    CHECK(weft_thread_name(self) != NULL);
}

/* Each first call of a foreign thread, failed in turn: a new thread for
 * each, since its record is made only once. */
static void foreign_first_call(foreign_run *r, int which)
{
    weft_rlock rlock = WEFT_RLOCK_INIT;
    int rc;

    arm(r->n);
    rc = which == 0 ? weft_sleep(0) : weft_rlock_acquire(&rlock, 0);
    r->k = disarm();
    expect(rc, r->n, r->k);
    if (rc != WEFT_OK) {
        CHECK_EQ_INT(weft_rlock_is_owned(&rlock), false);
        rc = which == 0 ? weft_sleep(0) : weft_rlock_acquire(&rlock, 0);
    }
    CHECK_OK(rc);
    if (which != 0)
        CHECK_OK(weft_rlock_release(&rlock));
    CHECK(weft_thread_current() != NULL);
}

typedef struct foreign_job {
    foreign_run run;
    int which; /* -1: foreign_calls; else foreign_first_call's */
} foreign_job;

#ifdef _WIN32
static DWORD WINAPI foreign_main(LPVOID arg)
#else
static void *foreign_main(void *arg)
#endif
{
    foreign_job *job = arg;

    if (job->which < 0)
        foreign_calls(&job->run);
    else
        foreign_first_call(&job->run, job->which);
    return 0;
}

/* Run the job on a thread made with the platform's own call. */
static long run_foreign(long n, int how)
{
    foreign_job job = {{n, 0}, how};
#ifdef _WIN32
    HANDLE h = CreateThread(NULL, 0, foreign_main, &job, 0, NULL);

    CHECK(h != NULL);
    CHECK_EQ_INT(WaitForSingleObject(h, INFINITE), WAIT_OBJECT_0);
    CloseHandle(h);
#else
    pthread_t t;

    CHECK_EQ_INT(pthread_create(&t, NULL, foreign_main, &job), 0);
    CHECK_EQ_INT(pthread_join(t, NULL), 0);
#endif
    return job.run.k;
}

WEFT_TEST(allocfail_foreign_thread_current)
{
    sweep("foreign_current");
}

WEFT_TEST(allocfail_foreign_thread_sleep)
{
    sweep("foreign_sleep");
}

/* An RLock takes its owner's ident from the synchronisation layer, not
 * from a thread record: a foreign thread's first acquire allocates nothing
 * (so it cannot fail for want of memory). */
WEFT_TEST(allocfail_foreign_thread_rlock_allocates_nothing)
{
    CHECK_EQ_INT(run_foreign(0, 1), 0);
}

/* ---- Thread-local values ------------------------------------------------------------ */

static long destroyed;
static weft_lock destroyed_lock = WEFT_LOCK_INIT;

static void count_destroyed(void *value)
{
    (void)value;
    weft_lock_acquire(&destroyed_lock, WEFT_FOREVER);
    destroyed++;
    weft_lock_release(&destroyed_lock);
}

static long destroyed_count(void)
{
    long d;

    weft_lock_acquire(&destroyed_lock, WEFT_FOREVER);
    d = destroyed;
    weft_lock_release(&destroyed_lock);
    return d;
}

enum { LOCALS = 40 }; /* past the first slot tables of a thread */

typedef struct local_run {
    weft_local **locals;
    long n, k;
} local_run;

/* In a new thread: set every local, armed. A failed set leaves the value
 * unset (NULL) and the same set then works. */
static void *set_locals(void *arg)
{
    local_run *r = arg;
    bool failed = false;
    int i, rc;

    arm(r->n);
    for (i = 0; i < LOCALS; i++) {
        rc = weft_local_set(r->locals[i], ITEM(i + 1));
        if (rc == WEFT_ENOMEM) {
            CHECK(r->n > 0 && !failed);
            failed = true;
            CHECK_EQ_PTR(weft_local_get(r->locals[i]), NULL);
            rc = weft_local_set(r->locals[i], ITEM(i + 1));
        }
        CHECK_OK(rc);
    }
    r->k = disarm();
    CHECK(!failed || hit(r->n, r->k));
    for (i = 0; i < LOCALS; i++)
        CHECK_EQ_PTR(weft_local_get(r->locals[i]), ITEM(i + 1));
    return NULL;
}

static long local_create_set_get(long n, int how)
{
    weft_local *locals[LOCALS];
    local_run run = {locals, n, 0};
    long k, before = destroyed_count();
    int i, rc;
    bool failed = false;

    (void)how;
    arm(n);
    for (i = 0; i < LOCALS; i++) {
        rc = weft_local_create(&locals[i], count_destroyed);
        if (rc == WEFT_ENOMEM) {
            CHECK(n > 0 && !failed);
            failed = true;
            rc = weft_local_create(&locals[i], count_destroyed);
        }
        CHECK_OK(rc);
    }
    k = disarm();
    CHECK(!failed || hit(n, k));
    /* The sets, armed at n - k: the n-th allocation of the whole path. */
    run.n = n > k ? n - k : 0;
    weft_test_join(weft_test_start(set_locals, &run));
    CHECK_EQ_INT(destroyed_count(), before + LOCALS);
    for (i = 0; i < LOCALS; i++)
        weft_local_destroy(locals[i]);
    return k + run.k;
}

WEFT_TEST(allocfail_local_create_set_get)
{
    sweep("local_create_set_get");
}

/* ---- atexit --------------------------------------------------------------------- */

static void handler(void *arg)
{
    (void)arg;
}

enum { HANDLERS = 100 }; /* several doublings of the handler table */

static long atexit_register(long n, int how)
{
    bool failed = false;
    long k, i;
    int rc;

    (void)how;
    arm(n);
    for (i = 0; i < HANDLERS; i++) {
        rc = weft_atexit(handler, ITEM(i));
        if (rc == WEFT_ENOMEM) {
            CHECK(n > 0 && !failed);
            failed = true;
            CHECK_STATUS(weft_atexit_unregister(handler, ITEM(i)), WEFT_ENOENT);
            rc = weft_atexit(handler, ITEM(i));
        }
        CHECK_OK(rc);
    }
    k = disarm();
    CHECK(!failed || hit(n, k));
    for (i = 0; i < HANDLERS; i++)
        CHECK_OK(weft_atexit_unregister(handler, ITEM(i)));
    return k;
}

WEFT_TEST(allocfail_atexit_register)
{
    sweep("atexit_register");
}

/* ---- Executors -------------------------------------------------------------------- */

static void *twice(void *arg)
{
    return ITEM(2 * (intptr_t)arg);
}

static void count_callback(weft_future *f, void *arg)
{
    (void)f;
    weft_test_counter_add(arg, 1);
}

enum { JOBS = 12 };

/* Create an executor, submit to it (workers start as they are needed), add
 * a callback, wait for the futures, map, shut it down: all armed. Each
 * failed call is retried once (the object must still work). A submit whose
 * worker could not start succeeds when another worker runs (documented), so
 * only the statuses are relaxed there: every job must still run. */
static long executor_path(long n, int how)
{
    weft_executor *ex = NULL, *named = NULL;
    weft_future *fs[JOBS];
    void *args[JOBS], *results[JOBS];
    weft_test_counter calls = WEFT_TEST_COUNTER_INIT;
    long k, fails = 0;
    int i, rc;

    (void)how;
    for (i = 0; i < JOBS; i++)
        args[i] = ITEM(i);
    arm(n);
    rc = weft_executor_create(&ex, 4, NULL);
    if (rc == WEFT_ENOMEM) {
        CHECK(ex == NULL);
        fails++;
        rc = weft_executor_create(&ex, 4, NULL);
    }
    CHECK_OK(rc);
    for (i = 0; i < JOBS; i++) {
        rc = weft_executor_submit(ex, &fs[i], twice, args[i]);
        if (rc == WEFT_ENOMEM) {
            CHECK(fs[i] == NULL);
            fails++;
            rc = weft_executor_submit(ex, &fs[i], twice, args[i]);
        }
        CHECK_OK(rc);
        rc = weft_future_add_done_callback(fs[i], count_callback, &calls);
        if (rc == WEFT_ENOMEM) {
            fails++;
            rc = weft_future_add_done_callback(fs[i], count_callback, &calls);
        }
        CHECK_OK(rc);
    }
    rc = weft_futures_wait(fs, JOBS, WEFT_FOREVER, WEFT_ALL_COMPLETED);
    if (rc == WEFT_ENOMEM) {
        fails++;
        rc = weft_futures_wait(fs, JOBS, WEFT_FOREVER, WEFT_ALL_COMPLETED);
    }
    CHECK_OK(rc);
    rc = weft_executor_map(ex, twice, args, results, JOBS, WEFT_FOREVER);
    if (rc == WEFT_ENOMEM) {
        fails++;
        rc = weft_executor_map(ex, twice, args, results, JOBS, WEFT_FOREVER);
    }
    CHECK_OK(rc);
    weft_executor_shutdown(ex, true, false);
    /* A named one too (its prefix is copied from the caller's). */
    rc = weft_executor_create(&named, 1, "sweep");
    if (rc == WEFT_ENOMEM) {
        fails++;
        rc = weft_executor_create(&named, 1, "sweep");
    }
    CHECK_OK(rc);
    k = disarm();
    weft_executor_destroy(named);
    /* A failure may also land in a worker's start that another worker
     * covers: no call fails then, and every job still ran. */
    CHECK_LE_INT(fails, hit(n, k) ? 1 : 0);
    weft_test_counter_wait(&calls, JOBS);
    for (i = 0; i < JOBS; i++) {
        void *r = NULL;

        CHECK_OK(weft_future_result(fs[i], 0, &r));
        CHECK_EQ_PTR(r, ITEM(2 * i));
        CHECK_EQ_PTR(results[i], ITEM(2 * i));
        weft_future_release(fs[i]);
    }
    weft_executor_destroy(ex);
    return k;
}

WEFT_TEST(allocfail_executor_submit_map_callbacks)
{
    sweep("executor_path");
}

/* Counts its calls (a test counter). */
static void *count_stream_call(void *arg)
{
    weft_test_counter_add(arg, 1);
    return NULL;
}

/* A stream of calls in batches that span several queue blocks, whose
 * futures are kept until the batch has run and then released: the
 * submitter's release is the last use of each block, which used to free
 * the block to the allocator (a future does not know its executor), so
 * every batch allocated its blocks again (on glibc, a page fault each:
 * bench_queue's executor-as-used family). Now the blocks come back to the
 * executor's cache and the later batches allocate nothing. A few
 * allocations are let through (a worker that starts late). */
WEFT_TEST(allocfail_executor_stream_reuses_blocks)
{
    enum { BATCH = 31 * 6, BATCHES = 20 };
    weft_test_counter calls = WEFT_TEST_COUNTER_INIT;
    weft_future *fs[BATCH];
    weft_executor *ex = NULL;
    long allocated;
    int b, i;

    CHECK_OK(weft_executor_create(&ex, 2, NULL));
    for (b = 0; b <= BATCHES; b++) {
        if (b == 1)
            weft_fault_alloc_fail_at(0); /* count from here, fail nothing */
        for (i = 0; i < BATCH; i++)
            CHECK_OK(weft_executor_submit(ex, &fs[i], count_stream_call, &calls));
        weft_test_counter_wait(&calls, (long)(b + 1) * BATCH);
        for (i = 0; i < BATCH; i++)
            weft_future_release(fs[i]);
    }
    allocated = weft_fault_alloc_count();
    weft_executor_destroy(ex);
    printf("allocfail: %ld allocations in %d batches of %d calls\n", allocated, BATCHES, BATCH);
    CHECK_LE_INT(allocated, BATCHES / 2);
}

/* ---- Processes -------------------------------------------------------------------- */

static int square(const void *arg, size_t len)
{
    int x = weft_test_int_arg(arg, len);

    return x * x;
}

/* Squares, and replies with the square's decimal digits. */
static int square_reply(const void *arg, size_t len)
{
    int x = square(arg, len);
    char text[16];

    snprintf(text, sizeof text, "%d", x);
    weft_process_reply(text, strlen(text));
    return x;
}

/* A pool's initializer that does nothing. */
static int ready(const void *arg, size_t len)
{
    (void)arg;
    (void)len;
    return 0;
}

/* A child given an end (weft_process_opts.pass): it receives a number and
 * returns its square; 1 when it had no memory (said so). */
static int square_passed(const void *arg, size_t len)
{
    weft_conn *c = weft_process_passed(0);
    void *msg;
    size_t got;
    int x = 0, rc;

    (void)arg;
    (void)len;
    if (!c)
        return 70;
    rc = weft_conn_recv(c, &msg, &got, WEFT_FOREVER);
    if (rc == WEFT_ENOMEM)
        return 1;
    if (rc != WEFT_OK || got != sizeof x)
        return 71;
    memcpy(&x, msg, sizeof x);
    weft_free(msg);
    weft_conn_close(c);
    return x * x;
}

/* Every run of this executable, the spawned children too: with CHILD_AT
 * set, arm the hook (after the registrations) and report at the end. */
WEFT_TEST_SETUP
{
    const char *at = getenv(CHILD_AT);

    weft_process_register("square", square);
    weft_process_register("square_reply", square_reply);
    weft_process_register("square_passed", square_passed);
    weft_process_register("ready", ready);
    if (at) {
        children_fail = true;
        CHECK_OK(weft_atexit(report_child, NULL));
        arm(atol(at));
    }
}

static long process_start_path(long n, int how)
{
    weft_start_method method = (weft_start_method)how;
    weft_process_opts opts = {0};
    weft_process *p = (weft_process *)ITEM(1);
    int x = 9, code = -1;
    long k;
    int rc;

    opts.method = method;
    arm(n);
    rc = weft_process_start(&p, "square", &x, sizeof x, &opts);
    k = disarm();
    expect(rc, n, k);
    if (rc != WEFT_OK)
        CHECK_OK(weft_process_start(&p, "square", &x, sizeof x, &opts));
    CHECK_OK(weft_process_join(p, weft_test_long()));
    CHECK_OK(weft_process_exitcode(p, &code));
    if (children_fail && code == 1)
        code = 81; /* it had no memory for its argument: said so, exited 1 */
    CHECK_EQ_INT(code, 81);
    weft_process_release(p);
    return k;
}

WEFT_TEST(allocfail_process_start_spawn)
{
    sweep("process_spawn");
}

/* The spawned child's own allocations (the target's name, its argument). */
WEFT_TEST(allocfail_process_spawned_child)
{
    sweep_children("process_spawn");
}

WEFT_TEST(allocfail_process_start_fork)
{
    weft_test_skip_without_fork();
    sweep("process_fork");
}

/* The hook's own fork part is one of weft's fork handlers, not a second
 * registration that replaces them: arming it after the runtime is up must
 * leave a fork whole (it once left the common handlers NULL). */
WEFT_TEST(allocfail_process_fork_after_the_hook_is_armed)
{
    weft_process_opts opts = {0};
    weft_process *p;
    int x = 7, code = -1;

    weft_test_skip_without_fork();
    CHECK(weft_thread_current() != NULL); /* the runtime and its fork handlers */
    arm(0);
    opts.method = WEFT_START_FORK;
    CHECK_OK(weft_process_start(&p, "square", &x, sizeof x, &opts));
    CHECK_OK(weft_process_join(p, weft_test_long()));
    CHECK_OK(weft_process_exitcode(p, &code));
    CHECK_EQ_INT(code, 49);
    weft_process_release(p);
    disarm();
}

enum { TARGETS = 40 }; /* several doublings of the table of targets */

/* Register TARGETS more targets, armed: a failed registration leaves the
 * name unknown, and registering it again works. */
static long process_register(long n, int how)
{
    char name[32];
    bool failed = false;
    long k;
    int i, rc;

    (void)how;
    arm(n);
    for (i = 0; i < TARGETS; i++) {
        snprintf(name, sizeof name, "square_%d", i);
        rc = weft_process_register(name, square);
        if (rc == WEFT_ENOMEM) {
            CHECK(n > 0 && !failed);
            failed = true;
            rc = weft_process_register(name, square);
        }
        CHECK_OK(rc);
    }
    k = disarm();
    CHECK(!failed || hit(n, k));
    CHECK_OK(weft_process_register(name, square)); /* the same again is fine */
    return k;
}

WEFT_TEST(allocfail_process_register)
{
    sweep("process_register");
}

/* ---- Pools ------------------------------------------------------------------------ */

enum { POOL_ITEMS = 6 };

/* Submit one call to the pool and check its result (x*x, and its digits
 * as the reply), armed: a failed submit, or a result whose reply could not
 * be stored, is tried again; returns how many failed. */
static long pool_submit_path(weft_pool *pool, int x)
{
    weft_pool_result *r = NULL;
    weft_future *f;
    char text[16];
    long fails = 0;
    int rc;

    for (;;) {
        rc = weft_pool_submit(pool, &f, "square_reply", &x, sizeof x);
        if (rc == WEFT_OK)
            rc = weft_future_result(f, WEFT_FOREVER, (void **)&r);
        else
            CHECK(f == NULL);
        if (rc != WEFT_ENOMEM || fails > 0)
            break;
        fails++;
        weft_future_release(f);
    }
    if (children_fail && rc == WEFT_ECHILD) { /* its worker's allocation failed */
        weft_future_release(f);
        return fails;
    }
    CHECK_OK(rc);
    snprintf(text, sizeof text, "%d", x * x);
    CHECK_EQ_INT(r->value, x * x);
    if (!children_fail || r->len > 0) {
        CHECK_EQ_UINT(r->len, strlen(text));
        CHECK(memcmp(r->data, text, r->len) == 0);
    }
    weft_future_release(f); /* frees r */
    return fails;
}

/* Create a pool of two workers (with an initializer), map over it and
 * submit to it, armed: a failed create leaves nothing running; a failed
 * map or submit leaves the pool usable. */
static long pool_path(long n, int how)
{
    weft_pool_opts opts = {.processes = 2, .method = (weft_start_method)how,
                           .initializer = "ready"};
    weft_pool *pool = NULL;
    int xs[POOL_ITEMS];
    weft_buffer items[POOL_ITEMS];
    weft_pool_result results[POOL_ITEMS];
    long k, fails = 0;
    int i, rc;

    for (i = 0; i < POOL_ITEMS; i++) {
        xs[i] = i;
        items[i] = (weft_buffer){&xs[i], sizeof xs[i]};
    }
    memset(results, 0, sizeof results); /* a map failing early leaves it */
    arm(n);
    rc = weft_pool_create(&pool, &opts);
    if (rc == WEFT_ENOMEM) {
        CHECK(pool == NULL);
        fails++;
        rc = weft_pool_create(&pool, &opts);
    }
    CHECK_OK(rc);
    rc = weft_pool_map(pool, "square_reply", items, POOL_ITEMS, results);
    if (rc == WEFT_ENOMEM) {
        fails++;
        /* Failed before anything ran, or an input's reply could not be
         * stored: run them all again. */
        for (i = 0; i < POOL_ITEMS; i++)
            weft_free(results[i].data);
        rc = weft_pool_map(pool, "square_reply", items, POOL_ITEMS, results);
    }
    fails += pool_submit_path(pool, 3);
    k = disarm();
    /* A worker whose own allocation failed ended (WEFT_ECHILD for its
     * input), or its reply was lost (the target got WEFT_ENOMEM). */
    if (children_fail && rc == WEFT_ECHILD)
        rc = WEFT_OK;
    CHECK_OK(rc);
    CHECK_LE_INT(fails, hit(n, k) ? 1 : 0);
    for (i = 0; i < POOL_ITEMS; i++) {
        char text[16];

        snprintf(text, sizeof text, "%d", i * i);
        if (children_fail && results[i].status == WEFT_ECHILD)
            continue;
        CHECK_OK(results[i].status);
        CHECK_EQ_INT(results[i].value, i * i);
        if (!children_fail || results[i].len > 0) {
            CHECK_EQ_UINT(results[i].len, strlen(text));
            CHECK(memcmp(results[i].data, text, results[i].len) == 0);
        }
        weft_free(results[i].data);
    }
    CHECK_OK(weft_pool_close(pool));
    CHECK_OK(weft_pool_join(pool));
    weft_pool_destroy(pool);
    return k;
}

WEFT_TEST_TIMEOUT(allocfail_pool_create_map_spawn, 120)
{
    sweep("pool_spawn");
}

/* The workers' own allocations (a task's name and bytes, the reply). */
WEFT_TEST_TIMEOUT(allocfail_pool_workers_spawn, 120)
{
    sweep_children("pool_spawn");
}

WEFT_TEST_TIMEOUT(allocfail_pool_create_map_fork, 120)
{
    weft_test_skip_without_fork();
    sweep("pool_fork");
}

/* ---- Programs ----------------------------------------------------------------------- */

/* This executable as a program that prints the argument it is given. */
WEFT_CHILD_MODE(print_arg)
{
    int count;
    char **args = weft_test_child_args(&count);

    printf("%s", count > 0 ? args[0] : "");
    return 3;
}

/* Start a program that exits with 3, armed: this executable (how 0) or
 * the shell, found through PATH (how 1). */
static long popen_start(long n, int how)
{
    const char *self[] = {weft_test_self_path(), "--child", "print_arg", "hello", NULL};
#ifdef _WIN32
    const char *shell[] = {"cmd", "/c", "exit 3", NULL};
#else
    const char *shell[] = {"sh", "-c", "exit 3", NULL};
#endif
    const char *const *argv = how ? shell : self;
    weft_popen_opts opts = {0};
    weft_popen *p = NULL;
    int code = -1;
    long k;
    int rc;

    opts.out = WEFT_STDIO_NULL;
    arm(n);
    rc = weft_popen_start(&p, argv, &opts);
    k = disarm();
    expect(rc, n, k);
    if (rc != WEFT_OK)
        CHECK_OK(weft_popen_start(&p, argv, &opts));
    CHECK_OK(weft_popen_wait(p, weft_test_long(), &code));
    CHECK_EQ_INT(code, 3);
    weft_popen_release(p);
    return k;
}

WEFT_TEST(allocfail_popen_start)
{
    sweep("popen_start");
}

WEFT_TEST(allocfail_popen_start_path)
{
    sweep("popen_start_path");
}

static long popen_run(long n, int how)
{
    const char *argv[] = {weft_test_self_path(), "--child", "print_arg", "hello", NULL};
    weft_popen_opts opts = {0};
    char *out = NULL;
    size_t len = 0;
    int code = -1;
    long k;
    int rc;

    (void)how;
    opts.out = WEFT_STDIO_PIPE;
    arm(n);
    rc = weft_run(argv, &opts, weft_test_long(), &code, &out, &len, NULL, NULL);
    k = disarm();
    expect(rc, n, k);
    if (rc != WEFT_OK) {
        CHECK(out == NULL);
        CHECK_OK(weft_run(argv, &opts, weft_test_long(), &code, &out, &len, NULL, NULL));
    }
    CHECK_EQ_INT(code, 3);
    CHECK_EQ_STR(out, "hello");
    CHECK_EQ_UINT(len, 5);
    weft_free(out);
    return k;
}

WEFT_TEST(allocfail_run)
{
    sweep("popen_run");
}

WEFT_CHILD_MODE(echo_stdin)
{
    int c;

    while ((c = getchar()) != EOF)
        putchar(c);
    return 0;
}

/* echo_stdin, with its stdin and stdout piped. */
static weft_popen *start_echo(void)
{
    const char *argv[] = {weft_test_self_path(), "--child", "echo_stdin", NULL};
    weft_popen_opts opts = {0};
    weft_popen *p = NULL;

    opts.in = WEFT_STDIO_PIPE;
    opts.out = WEFT_STDIO_PIPE;
    CHECK_OK(weft_popen_start(&p, argv, &opts));
    return p;
}

/* Communicate with a child that echoes its input, armed: a failed call must
 * leave the popen as it was, so the same call again gets the whole echo. */
static long popen_communicate(long n, int how)
{
    weft_popen *p = start_echo();
    char *out = NULL;
    size_t len = 0;
    int code = -1;
    long k;
    int rc;

    (void)how;
    arm(n);
    rc = weft_popen_communicate(p, "hello", 5, &out, &len, NULL, NULL, weft_test_long());
    k = disarm();
    expect(rc, n, k);
    if (rc != WEFT_OK) {
        CHECK(out == NULL);
        rc = weft_popen_communicate(p, "hello", 5, &out, &len, NULL, NULL, weft_test_long());
    }
    if (rc == WEFT_EINVAL) {
        /* The threads had started: the reader could not keep what it read.
         * The loss is reported again, never hidden. */
        CHECK(strstr(weft_last_error_message(), "already given") != NULL);
        CHECK_STATUS(weft_popen_communicate(p, NULL, 0, &out, &len, NULL, NULL, weft_test_long()),
                     WEFT_ENOMEM);
        CHECK(strstr(weft_last_error_message(), "stdout") != NULL);
    } else {
        CHECK_OK(rc);
        CHECK_EQ_UINT(len, 5);
        CHECK(out != NULL && memcmp(out, "hello", 5) == 0);
    }
    CHECK_OK(weft_popen_wait(p, weft_test_long(), &code));
    CHECK_EQ_INT(code, 0);
    weft_free(out);
    weft_popen_release(p);
    return k;
}

WEFT_TEST(allocfail_popen_communicate)
{
    sweep("popen_communicate");
}

/* A line from a child's stdout, armed: a failed readline consumes
 * nothing, so the same call again gets the whole line. */
static long popen_readline(long n, int how)
{
    weft_popen *p = start_echo();
    char *line = NULL;
    size_t len = 0;
    int code = -1;
    long k;
    int rc;

    (void)how;
    CHECK_OK(weft_popen_write(p, "hello\n", 6, weft_test_long()));
    CHECK_OK(weft_popen_close_stdin(p));
    arm(n);
    rc = weft_popen_readline(p, WEFT_STREAM_OUT, &line, &len, weft_test_long());
    k = disarm();
    expect(rc, n, k);
    if (rc != WEFT_OK) {
        CHECK(line == NULL);
        CHECK(strstr(weft_last_error_message(), "popen_readline") != NULL);
        CHECK_OK(weft_popen_readline(p, WEFT_STREAM_OUT, &line, &len, weft_test_long()));
    }
    CHECK_EQ_UINT(len, 6);
    CHECK(line != NULL && strcmp(line, "hello\n") == 0);
    weft_free(line);
    CHECK_STATUS(weft_popen_readline(p, WEFT_STREAM_OUT, &line, &len, weft_test_long()),
                 WEFT_EOF);
    CHECK_OK(weft_popen_wait(p, weft_test_long(), &code));
    CHECK_EQ_INT(code, 0);
    weft_popen_release(p);
    return k;
}

WEFT_TEST(allocfail_popen_readline)
{
    sweep("popen_readline");
}

/* ---- Connections ------------------------------------------------------------------ */

/* A pair made, two messages sent and received: a receive that finds no
 * memory drops its message (WEFT_ENOMEM) and the next one still comes. */
static long conn_path(long n, int how)
{
    static const char *const want[2] = {"first", "second"};
    weft_conn *a = NULL, *b = NULL;
    long fds = open_fds(), k;
    bool failed = false;
    void *msg;
    size_t len;
    int rc, i;

    (void)how;
    arm(n);
    rc = weft_pipe(&a, &b, true);
    if (rc == WEFT_ENOMEM) {
        failed = true;
        rc = weft_pipe(&a, &b, true);
    }
    CHECK_OK(rc);
    for (i = 0; i < 2; i++)
        CHECK_OK(weft_conn_send(a, want[i], strlen(want[i]), 0));
    for (i = 0; i < 2; i++) {
        rc = weft_conn_recv(b, &msg, &len, 0);
        if (rc == WEFT_ENOMEM) {
            CHECK(n > 0 && !failed);
            CHECK(msg == NULL);
            failed = true;
            continue;
        }
        CHECK_OK(rc);
        CHECK_EQ_UINT(len, strlen(want[i]));
        CHECK(memcmp(msg, want[i], len) == 0);
        weft_free(msg);
    }
    CHECK_STATUS(weft_conn_poll(b, 0), WEFT_ETIMEDOUT);
    k = disarm();
    CHECK(failed == hit(n, k));
    weft_conn_close(a);
    weft_conn_close(b);
    CHECK_EQ_INT(open_fds(), fds);
    return k;
}

WEFT_TEST(allocfail_conn_pipe_send_recv)
{
    sweep("conn");
}

/* square_passed as a child of weft_popen_start (this executable), which
 * takes the end in weft_process_main. */
WEFT_CHILD_MODE(square_passed)
{
    return square_passed(NULL, 0);
}

/* How process_pass_path starts its child besides the two methods. */
enum { BY_POPEN = -1 };

/* Start square_passed with `handles` given: by weft_process_start with
 * method `how`, or by weft_popen_start (BY_POPEN). */
static int start_square_passed(int how, const void *const *handles, weft_process **p,
                               weft_popen **pp)
{
    const char *argv[] = {weft_test_self_path(), "--child", "square_passed", NULL};
    weft_popen_opts popen_opts = {0};
    weft_process_opts opts = {0};

    if (how == BY_POPEN) {
        popen_opts.pass = handles;
        popen_opts.npass = 1;
        return weft_popen_start(pp, argv, &popen_opts);
    }
    opts.method = (weft_start_method)how;
    opts.pass = handles;
    opts.npass = 1;
    return weft_process_start(p, "square_passed", NULL, 0, &opts);
}

static long process_pass_path(long n, int how)
{
    const void *handles[1];
    weft_conn *mine, *theirs;
    weft_process *p = NULL;
    weft_popen *pp = NULL;
    long fds = open_fds(), k;
    int x = 9, code = -1, rc;

    CHECK_OK(weft_pipe(&mine, &theirs, true));
    handles[0] = theirs;
    arm(n);
    rc = start_square_passed(how, handles, &p, &pp);
    k = disarm();
    expect(rc, n, k);
    if (rc != WEFT_OK)
        CHECK_OK(start_square_passed(how, handles, &p, &pp));
    weft_conn_close(theirs);
    rc = weft_conn_send(mine, &x, sizeof x, weft_test_long());
    CHECK(rc == WEFT_OK || (children_fail && rc == WEFT_EOF));
    if (pp) {
        CHECK_OK(weft_popen_wait(pp, weft_test_long(), &code));
        weft_popen_release(pp);
    } else {
        CHECK_OK(weft_process_join(p, weft_test_long()));
        CHECK_OK(weft_process_exitcode(p, &code));
        weft_process_release(p);
    }
    if (children_fail && code == 1)
        code = 81;
    CHECK_EQ_INT(code, 81);
    weft_conn_close(mine);
    CHECK_EQ_INT(open_fds(), fds);
    return k;
}

WEFT_TEST(allocfail_conn_pass_spawn)
{
    sweep("conn_pass_spawn");
}

/* The spawned child's own allocations: its handles too. */
WEFT_TEST(allocfail_conn_pass_spawned_child)
{
    sweep_children("conn_pass_spawn");
}

WEFT_TEST(allocfail_conn_pass_fork)
{
    weft_test_skip_without_fork();
    sweep("conn_pass_fork");
}

WEFT_TEST(allocfail_conn_pass_popen)
{
    sweep("conn_pass_popen");
}

/* The Popen child's own allocations, in weft_process_main. */
WEFT_TEST(allocfail_conn_pass_popen_child)
{
    sweep_children("conn_pass_popen");
}

/* ---- The table of paths ------------------------------------------------------------ */

/* weft_exit_on_signals() is not here: it allocates nothing through weft
 * (its watcher is an OS thread of the backend's own). */
/* ---- Between processes ---------------------------------------------------------------- */

/* An armed call, made once more if it reported the failed allocation: the
 * failure left nothing behind, so the second call works. */
#define ONCE_MORE(call)                                                        \
    do {                                                                       \
        int rc_ = (call);                                                      \
        if (rc_ == WEFT_ENOMEM) {                                              \
            CHECK(n > 0 && !failed);                                           \
            failed = true;                                                     \
            rc_ = (call);                                                      \
        }                                                                      \
        CHECK_OK(rc_);                                                         \
    } while (0)

static long ipc_path(long n, int how)
{
    weft_shm *shm = NULL, *opened = NULL;
    weft_plock *lock = NULL;
    weft_psem *sem = NULL;
    weft_pevent *ev = NULL;
    bool failed = false;
    long k;

    (void)how;
    arm(n);
    ONCE_MORE(weft_shm_create(&shm, NULL, 4096));
    ONCE_MORE(weft_shm_open(&opened, weft_shm_name(shm)));
    ONCE_MORE(weft_plock_create(&lock, true));
    ONCE_MORE(weft_psem_create(&sem, 1, true));
    ONCE_MORE(weft_pevent_create(&ev));
    k = disarm();
    CHECK(!failed || hit(n, k));
    ((unsigned char *)weft_shm_ptr(shm))[7] = 7;
    CHECK_EQ_INT(((unsigned char *)weft_shm_ptr(opened))[7], 7);
    CHECK_OK(weft_plock_acquire(lock, 0));
    CHECK_OK(weft_plock_release(lock));
    CHECK_OK(weft_psem_acquire(sem, 0));
    CHECK_OK(weft_psem_release(sem, 1));
    weft_pevent_set(ev);
    CHECK_OK(weft_pevent_wait(ev, 0));
    weft_shm_close(opened);
    CHECK_OK(weft_shm_unlink(weft_shm_name(shm)));
    weft_shm_close(shm);
    weft_plock_close(lock);
    weft_psem_close(sem);
    weft_pevent_close(ev);
    return k;
}

WEFT_TEST(allocfail_ipc_shm_and_locks)
{
    sweep("ipc_shm_and_locks");
}

/* A small message and one past the ring (a block of its own), each put and
 * got: a failed allocation puts or takes nothing. */
static long pqueue_path(long n, int how)
{
    static unsigned char big[100000];
    weft_pqueue *q = NULL;
    bool failed = false;
    void *m1 = NULL, *m2 = NULL;
    size_t n1 = 0, n2 = 0;
    long k;

    (void)how;
    big[99999] = 9;
    arm(n);
    ONCE_MORE(weft_pqueue_create(&q, 0));
    ONCE_MORE(weft_pqueue_put(q, "abc", 3, 0));
    ONCE_MORE(weft_pqueue_put(q, big, sizeof big, 0));
    ONCE_MORE(weft_pqueue_get(q, &m1, &n1, 0));
    ONCE_MORE(weft_pqueue_get(q, &m2, &n2, 0));
    k = disarm();
    CHECK(!failed || hit(n, k));
    CHECK_EQ_UINT(n1, 3);
    CHECK(memcmp(m1, "abc", 3) == 0);
    CHECK_EQ_UINT(n2, sizeof big);
    CHECK_EQ_INT(((unsigned char *)m2)[99999], 9);
    CHECK_EQ_UINT(weft_pqueue_size(q), 0);
    weft_free(m1);
    weft_free(m2);
    weft_pqueue_close(q);
    return k;
}

WEFT_TEST(allocfail_ipc_pqueue)
{
    sweep("ipc_pqueue");
}

static const path_entry paths[] = {
    {"queue_fifo", queue_path, WEFT_QUEUE_FIFO},
    {"queue_lifo", queue_path, WEFT_QUEUE_LIFO},
    {"queue_priority", queue_path, WEFT_QUEUE_PRIORITY},
    {"thread_start_named", thread_start_path, 1},
    {"thread_start_unnamed", thread_start_path, 0},
    {"thread_set_name", thread_set_name, 0},
    {"timer_start", timer_start, 0},
    {"foreign_current", run_foreign, -1},
    {"foreign_sleep", run_foreign, 0},
    {"local_create_set_get", local_create_set_get, 0},
    {"atexit_register", atexit_register, 0},
    {"executor_path", executor_path, 0},
    {"process_spawn", process_start_path, WEFT_START_SPAWN},
    {"process_fork", process_start_path, WEFT_START_FORK},
    {"process_register", process_register, 0},
    {"pool_spawn", pool_path, WEFT_START_SPAWN},
    {"pool_fork", pool_path, WEFT_START_FORK},
    {"popen_start", popen_start, 0},
    {"popen_start_path", popen_start, 1},
    {"popen_run", popen_run, 0},
    {"popen_communicate", popen_communicate, 0},
    {"popen_readline", popen_readline, 0},
    {"ipc_shm_and_locks", ipc_path, 0},
    {"conn", conn_path, 0},
    {"conn_pass_spawn", process_pass_path, WEFT_START_SPAWN},
    {"conn_pass_fork", process_pass_path, WEFT_START_FORK},
    {"conn_pass_popen", process_pass_path, BY_POPEN},
    {"ipc_pqueue", pqueue_path, 0},
};
static const path_entry *find_path(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        if (strcmp(paths[i].name, name) == 0)
            return &paths[i];
    }
    return NULL;
}

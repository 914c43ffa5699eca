/* SPDX-License-Identifier: MIT */
/* weft_pool: multiprocessing.Pool, with workers started by spawn (this
 * executable again; WEFT_TEST_SETUP registers the targets in every run) or
 * by fork (POSIX only; skipped on Windows). */
#include "runner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _WIN32
#include <io.h>
#define dup2 _dup2
#else
#include <unistd.h>
#endif

/* ---- Targets ------------------------------------------------------------------ */

/* x -> x*x, and the decimal text of x*x as the reply bytes. */
static int square(const void *arg, size_t len)
{
    int x = weft_test_int_arg(arg, len);
    char text[32];

    snprintf(text, sizeof text, "%d", x * x);
    weft_process_reply(text, strlen(text));
    return x * x;
}

/* Crashes on 5, exits at once on 7, squares the rest. */
static int fragile(const void *arg, size_t len)
{
    int x = weft_test_int_arg(arg, len);

    if (x == 5)
        abort();
    if (x == 7)
        weft_exit_now(3);
    return x * x;
}

/* Says it has started, with a byte appended to the file named by its
 * argument (the line from the child the parent waits for), then sleeps
 * until the pool is terminated. */
static int slow(const void *arg, size_t len)
{
    char path[256];
    FILE *f;

    if (len == 0 || len >= sizeof path)
        return -1;
    memcpy(path, arg, len);
    path[len] = '\0';
    f = fopen(path, "ab");
    if (!f)
        return -1;
    fputc('s', f);
    fclose(f);
    weft_sleep(60);
    return 0;
}

/* Echoes its input back, reversed, as the reply. */
static int reverse(const void *arg, size_t len)
{
    const unsigned char *in = arg;
    unsigned char *out = malloc(len + 1);
    size_t i;

    if (!out)
        return -1;
    for (i = 0; i < len; i++)
        out[i] = in[len - 1 - i];
    weft_process_reply(out, len);
    free(out);
    return (int)(len % 1000);
}

/* Returns the worker's pid, truncated: workers are processes. */
static int whoami(const void *arg, size_t len)
{
    (void)arg;
    (void)len;
    return (int)(weft_getpid() & 0x7fffffff);
}

static int nap(const void *arg, size_t len)
{
    (void)arg;
    (void)len;
    weft_sleep(0.002);
    return 0;
}

/* Sleeps as many milliseconds as its argument says. */
static int sleep_ms(const void *arg, size_t len)
{
    weft_sleep(weft_test_int_arg(arg, len) / 1000.0);
    return 0;
}

/* The initializer's runs in this worker, which init_runs reports. */
static int initializer_runs;

static int init_mark(const void *arg, size_t len)
{
    (void)arg;
    (void)len;
    initializer_runs++;
    return 0;
}

static int init_runs(const void *arg, size_t len)
{
    (void)arg;
    (void)len;
    return initializer_runs;
}

/* Initializers that fail: with a user status, and with a plain number. */
static int init_fail_user(const void *arg, size_t len)
{
    (void)arg;
    (void)len;
    return WEFT_EUSER - 1;
}

static int init_fail_positive(const void *arg, size_t len)
{
    (void)arg;
    (void)len;
    return 3;
}

WEFT_TEST_SETUP
{
    weft_process_register("sleep_ms", sleep_ms);
    weft_process_register("init_mark", init_mark);
    weft_process_register("init_runs", init_runs);
    weft_process_register("init_fail_user", init_fail_user);
    weft_process_register("init_fail_positive", init_fail_positive);
    weft_process_register("nap", nap);
    weft_process_register("square", square);
    weft_process_register("fragile", fragile);
    weft_process_register("slow", slow);
    weft_process_register("reverse", reverse);
    weft_process_register("whoami", whoami);
}

/* ---- Helpers -------------------------------------------------------------------- */

static void skip_without_fork(weft_start_method method)
{
    if (method == WEFT_START_FORK)
        weft_test_skip_without_fork();
}

static weft_pool *make_pool(int processes, weft_start_method method)
{
    weft_pool_opts opts = {.processes = processes, .method = method};
    weft_pool *pool = NULL;

    CHECK_OK(weft_pool_create(&pool, &opts));
    CHECK(pool != NULL);
    return pool;
}

enum { MAX_ITEMS = 64 };

/* Inputs 0..count-1 as ints. */
static void int_items(int *values, weft_buffer *items, size_t count)
{
    size_t i;

    for (i = 0; i < count; i++) {
        values[i] = (int)i;
        items[i] = (weft_buffer){&values[i], sizeof values[i]};
    }
}

static void free_results(weft_pool_result *results, size_t count)
{
    size_t i;

    for (i = 0; i < count; i++)
        weft_free(results[i].data);
}

/* ---- Cases ---------------------------------------------------------------------------- */

static void map_squares_in_order(weft_start_method method, int processes)
{
    int values[13], twenty_value = 20;
    weft_buffer items[13], twenty = {&twenty_value, sizeof twenty_value};
    weft_pool_result results[13];
    char text[32];
    weft_pool *pool;
    size_t i;

    skip_without_fork(method);
    pool = make_pool(processes, method);
    int_items(values, items, 13);
    CHECK_OK(weft_pool_map(pool, "square", items, 13, results));
    for (i = 0; i < 13; i++) {
        CHECK_OK(results[i].status);
        CHECK_EQ_INT(results[i].value, (int)(i * i));
        snprintf(text, sizeof text, "%d", (int)(i * i));
        CHECK_EQ_UINT(results[i].len, strlen(text));
        CHECK(memcmp(results[i].data, text, results[i].len) == 0);
    }
    free_results(results, 13);
    /* The pool serves a second map, too. */
    CHECK_OK(weft_pool_map(pool, "square", items + 3, 2, results));
    CHECK_EQ_INT(results[0].value, 9);
    CHECK_EQ_INT(results[1].value, 16);
    free_results(results, 2);
    /* The whole int comes back, past what an exit code could hold. */
    CHECK_OK(weft_pool_map(pool, "square", &twenty, 1, results));
    CHECK_EQ_INT(results[0].value, 400);
    free_results(results, 1);
    CHECK_OK(weft_pool_close(pool));
    CHECK_OK(weft_pool_join(pool));
    weft_pool_destroy(pool);
}

WEFT_TEST(pool_spawn_map_squares_in_order)
{
    map_squares_in_order(WEFT_START_SPAWN, 5);
}

WEFT_TEST(pool_fork_map_squares_in_order)
{
    map_squares_in_order(WEFT_START_FORK, 5);
}

WEFT_TEST(pool_one_worker_keeps_order)
{
    map_squares_in_order(WEFT_START_DEFAULT, 1);
}

WEFT_TEST(pool_default_size_is_cpu_count)
{
    enum { N = 32 };
    int values[N], pids[N];
    weft_buffer items[N];
    weft_pool_result results[N];
    weft_pool *pool = make_pool(0, WEFT_START_DEFAULT);
    size_t i, j, distinct = 0;

    int_items(values, items, N);
    CHECK_OK(weft_pool_map(pool, "whoami", items, N, results));
    for (i = 0; i < N; i++) {
        pids[i] = results[i].value;
        for (j = 0; j < i && pids[j] != pids[i]; j++)
            ;
        distinct += j == i;
    }
    free_results(results, N);
    /* No more workers than CPUs served the map. */
    CHECK_GE_INT(distinct, 1);
    CHECK_LE_INT(distinct, weft_cpu_count());
    weft_pool_destroy(pool);
}

WEFT_TEST(pool_workers_are_other_processes)
{
    int values[8];
    weft_buffer items[8];
    weft_pool_result results[8];
    weft_pool *pool = make_pool(2, WEFT_START_DEFAULT);
    size_t i;

    int_items(values, items, 8);
    CHECK_OK(weft_pool_map(pool, "whoami", items, 8, results));
    for (i = 0; i < 8; i++)
        CHECK_NE_INT(results[i].value, weft_getpid() & 0x7fffffff);
    free_results(results, 8);
    weft_pool_destroy(pool);
}

static void crashed_worker_is_replaced(weft_start_method method)
{
    int values[12];
    weft_buffer items[12];
    weft_pool_result results[12];
    weft_pool *pool;
    size_t i;

    skip_without_fork(method);
    pool = make_pool(3, method);
    int_items(values, items, 12);
    CHECK_STATUS(weft_pool_map(pool, "fragile", items, 12, results), WEFT_ECHILD);
    for (i = 0; i < 12; i++) {
        if (i == 5 || i == 7) {
            CHECK_STATUS(results[i].status, WEFT_ECHILD);
        } else {
            CHECK_OK(results[i].status);
            CHECK_EQ_INT(results[i].value, (int)(i * i));
        }
    }
    free_results(results, 12);
    /* The replacements serve the next map in full. */
    CHECK_OK(weft_pool_map(pool, "square", items, 12, results));
    for (i = 0; i < 12; i++)
        CHECK_EQ_INT(results[i].value, (int)(i * i));
    free_results(results, 12);
    weft_pool_destroy(pool);
}

WEFT_TEST(pool_spawn_crashed_worker_is_replaced)
{
    crashed_worker_is_replaced(WEFT_START_SPAWN);
}

WEFT_TEST(pool_fork_crashed_worker_is_replaced)
{
    crashed_worker_is_replaced(WEFT_START_FORK);
}

WEFT_TEST_TIMEOUT(pool_big_inputs_and_replies, 60)
{
    enum { N = 4, SIZE = 4 << 20 };
    unsigned char *data = malloc((size_t)N * SIZE);
    weft_buffer items[N];
    weft_pool_result results[N];
    weft_pool *pool = make_pool(2, WEFT_START_DEFAULT);
    size_t i, j;

    CHECK(data != NULL);
    for (i = 0; i < (size_t)N * SIZE; i++)
        data[i] = (unsigned char)(i * 131 + (i >> 16));
    for (i = 0; i < N; i++)
        items[i] = (weft_buffer){data + i * SIZE, SIZE - i};
    CHECK_OK(weft_pool_map(pool, "reverse", items, N, results));
    for (i = 0; i < N; i++) {
        const unsigned char *in = items[i].data, *out = results[i].data;
        CHECK_EQ_UINT(results[i].len, items[i].len);
        for (j = 0; j < items[i].len; j++) {
            if (out[j] != in[items[i].len - 1 - j])
                CHECK(!"reply bytes differ");
        }
    }
    free_results(results, N);
    weft_pool_destroy(pool);
    free(data);
}

WEFT_TEST(pool_empty_input_and_empty_map)
{
    weft_buffer item = {NULL, 0};
    weft_pool_result result;
    weft_pool *pool = make_pool(1, WEFT_START_DEFAULT);

    CHECK_OK(weft_pool_map(pool, "square", NULL, 0, NULL));
    CHECK_OK(weft_pool_map(pool, "reverse", &item, 1, &result));
    CHECK_OK(result.status);
    CHECK_EQ_UINT(result.len, 0);
    weft_free(result.data);
    weft_pool_destroy(pool);
}

WEFT_TEST(pool_arguments_are_checked)
{
    weft_pool_opts negative = {.processes = -1};
    weft_pool_opts bad_method = {.processes = 1, .method = (weft_start_method)42};
    weft_buffer item = {NULL, 4};
    weft_pool_result result;
    weft_pool *pool = NULL;

    CHECK_STATUS(weft_pool_create(NULL, NULL), WEFT_EINVAL);
    CHECK_STATUS(weft_pool_create(&pool, &negative), WEFT_EINVAL);
    CHECK_STATUS(weft_pool_create(&pool, &bad_method), WEFT_EINVAL);
    CHECK(pool == NULL);
    pool = make_pool(1, WEFT_START_DEFAULT);
    CHECK_STATUS(weft_pool_map(NULL, "square", NULL, 0, NULL), WEFT_EINVAL);
    CHECK_STATUS(weft_pool_map(pool, NULL, NULL, 0, NULL), WEFT_EINVAL);
    CHECK_STATUS(weft_pool_map(pool, "square", NULL, 1, &result), WEFT_EINVAL);
    CHECK_STATUS(weft_pool_map(pool, "square", &item, 1, &result), WEFT_EINVAL);
    CHECK_STATUS(weft_pool_map(pool, "no_such_target", NULL, 0, NULL), WEFT_ENOENT);
    CHECK_STATUS(weft_pool_join(pool), WEFT_EINVAL); /* still open */
    CHECK_STATUS(weft_pool_close(NULL), WEFT_EINVAL);
    CHECK_STATUS(weft_pool_terminate(NULL), WEFT_EINVAL);
    CHECK_STATUS(weft_pool_join(NULL), WEFT_EINVAL);
    /* Outside a pool worker there is no task to reply to. */
    CHECK_STATUS(weft_process_reply("x", 1), WEFT_EINVAL);
    weft_pool_destroy(pool);
    weft_pool_destroy(NULL);
}

WEFT_TEST(pool_closed_pool_refuses_maps)
{
    int value = 3;
    weft_buffer item = {&value, sizeof value};
    weft_pool_result result;
    weft_pool *pool = make_pool(2, WEFT_START_DEFAULT);

    CHECK_OK(weft_pool_close(pool));
    CHECK_STATUS(weft_pool_map(pool, "square", &item, 1, &result), WEFT_ESHUTDOWN);
    CHECK_OK(weft_pool_join(pool));
    weft_pool_destroy(pool);
}

typedef struct terminator_arg {
    weft_pool *pool;
    const char *started; /* the file `slow` appends to */
} terminator_arg;

/* Whether the file exists and holds at least one byte. */
static bool file_has_data(const char *path)
{
    FILE *f = fopen(path, "rb");
    bool has;

    if (!f)
        return false;
    has = fgetc(f) != EOF;
    fclose(f);
    return has;
}

/* Terminate the pool once a worker runs `slow`: the map is then running
 * whatever the load (a terminate before the map would make it
 * WEFT_ESHUTDOWN instead). */
static void *terminate_when_started(void *arg)
{
    terminator_arg *t = arg;
    double give_up = weft_monotonic() + weft_test_long();

    while (!file_has_data(t->started) && weft_monotonic() < give_up)
        weft_sleep(0.005);
    weft_pool_terminate(t->pool);
    return NULL;
}

WEFT_TEST(pool_terminate_ends_a_running_map)
{
    char started[64];
    weft_buffer items[6];
    weft_pool_result results[6];
    weft_pool *pool = make_pool(2, WEFT_START_DEFAULT);
    terminator_arg arg = {pool, started};
    weft_thread *thread;
    double t0;
    size_t i;

    /* In the working directory (CTest's: the build tree), unique per run. */
    snprintf(started, sizeof started, "weft-pool-started-%" PRId64 ".txt", weft_monotonic_ns());
    remove(started);
    for (i = 0; i < 6; i++)
        items[i] = (weft_buffer){started, strlen(started)};
    CHECK_OK(weft_thread_start(&thread, terminate_when_started, &arg, NULL));
    t0 = weft_monotonic();
    CHECK_STATUS(weft_pool_map(pool, "slow", items, 6, results), WEFT_ECHILD);
    CHECK_LT_DBL(weft_monotonic() - t0, weft_test_long());
    CHECK(file_has_data(started)); /* terminated while `slow` ran, not on the give-up */
    for (i = 0; i < 6; i++)
        CHECK_STATUS(results[i].status, WEFT_ECHILD);
    free_results(results, 6);
    CHECK_OK(weft_thread_join(thread, WEFT_FOREVER, NULL));
    weft_thread_release(thread);
    CHECK_OK(weft_pool_join(pool));
    CHECK_STATUS(weft_pool_map(pool, "square", items, 1, results), WEFT_ESHUTDOWN);
    weft_pool_destroy(pool);
    remove(started);
}

/* Returning from main() with a pool not destroyed, its workers idle: the
 * exit terminates them (they are daemon children) rather than hang. */
static weft_pool *live_pool; /* reachable to the end, so no leak is reported */

WEFT_CHILD_MODE(exit_with_live_pool)
{
    weft_pool_opts opts = {.processes = 2};

    if (weft_pool_create(&live_pool, &opts) != WEFT_OK)
        return 10;
    printf("main returns\n");
    return 0;
}

WEFT_TEST(pool_exit_ends_live_pool_workers)
{
    char out[WEFT_TEST_OUT_CAP];

    weft_test_run_mode("exit_with_live_pool", 0, out);
    CHECK_ONCE(out, "main returns");
}

/* weft_exit() while a daemon thread maps: the exit terminates the workers,
 * and the map, which goes on, must not start a replacement that the
 * ending process leaves without its start message. Nothing may be printed
 * (the mode's stderr, which the workers share, goes to its stdout). */
static weft_pool *exit_pool; /* reachable to the end, so no leak is reported */
static weft_event mapping = WEFT_EVENT_INIT;

static void *map_until_exit(void *unused)
{
    int values[8];
    weft_buffer items[8];
    weft_pool_result results[8];

    (void)unused;
    int_items(values, items, 8);
    for (;;) {
        if (weft_pool_map(exit_pool, "nap", items, 8, results) == WEFT_ESHUTDOWN)
            return NULL;
        free_results(results, 8);
        weft_event_set(&mapping);
    }
}

WEFT_CHILD_MODE(exit_during_map)
{
    weft_pool_opts opts = {.processes = 2};
    weft_thread_opts daemon = {.name = "mapper", .daemon = true};
    weft_thread *t;

    fflush(stderr);
    if (dup2(1, 2) < 0)
        return 10;
    if (weft_pool_create(&exit_pool, &opts) != WEFT_OK)
        return 11;
    if (weft_thread_start(&t, map_until_exit, NULL, &daemon) != WEFT_OK)
        return 12;
    weft_thread_release(t);
    if (weft_event_wait(&mapping, WEFT_FOREVER) != WEFT_OK)
        return 13;
    weft_exit(5);
}

WEFT_TEST_TIMEOUT(pool_exit_during_map_starts_no_worker, 120)
{
    char out[WEFT_TEST_OUT_CAP];
    long i, runs = weft_test_iterations(20);

    for (i = 0; i < runs; i++) {
        weft_test_run_mode("exit_during_map", 5, out);
        if (strstr(out, "weft:") != NULL)
            weft_test_fail(__FILE__, __LINE__, "run %ld printed: %s", i, out);
    }
}

/* ---- Submit (apply_async), initializer, max_tasks_per_child ---------------------------- */

/* The pool result a finished future holds. */
static const weft_pool_result *result_of(weft_future *f)
{
    void *r = NULL;

    CHECK_OK(weft_future_result(f, weft_test_long(), &r));
    CHECK(r != NULL);
    return r;
}

static void submit_returns_results(weft_start_method method)
{
    enum { N = 9 };
    weft_future *fs[N];
    weft_pool *pool;
    int i;

    skip_without_fork(method);
    pool = make_pool(3, method);
    for (i = 0; i < N; i++)
        CHECK_OK(weft_pool_submit(pool, &fs[i], "square", &i, sizeof i));
    for (i = 0; i < N; i++) {
        const weft_pool_result *r = result_of(fs[i]);
        char text[16];

        snprintf(text, sizeof text, "%d", i * i);
        CHECK_OK(r->status);
        CHECK_EQ_INT(r->value, i * i);
        CHECK_EQ_UINT(r->len, strlen(text));
        CHECK(memcmp(r->data, text, r->len) == 0);
        CHECK_OK(weft_future_status(fs[i]));
        weft_future_release(fs[i]); /* frees the result and its bytes */
    }
    weft_pool_destroy(pool);
}

WEFT_TEST(pool_spawn_submit_returns_results)
{
    submit_returns_results(WEFT_START_SPAWN);
}

WEFT_TEST(pool_fork_submit_returns_results)
{
    submit_returns_results(WEFT_START_FORK);
}

WEFT_TEST(pool_submit_crash_fails_only_its_call)
{
    int xs[4] = {5, 7, 3, 4};
    weft_future *fs[4];
    weft_pool *pool = make_pool(2, WEFT_START_DEFAULT);
    void *r = NULL;
    int i;

    for (i = 0; i < 4; i++)
        CHECK_OK(weft_pool_submit(pool, &fs[i], "fragile", &xs[i], sizeof xs[i]));
    /* abort() and weft_exit_now() end the worker: Future.exception(). */
    CHECK_STATUS(weft_future_result(fs[0], weft_test_long(), &r), WEFT_ECHILD);
    CHECK_STATUS(weft_future_result(fs[1], weft_test_long(), &r), WEFT_ECHILD);
    CHECK_STATUS(weft_future_status(fs[1]), WEFT_ECHILD);
    CHECK_EQ_INT(result_of(fs[2])->value, 9);
    CHECK_EQ_INT(result_of(fs[3])->value, 16);
    for (i = 0; i < 4; i++)
        weft_future_release(fs[i]);
    weft_pool_destroy(pool);
}

/* imap_unordered: each future handed out once, as it finishes; the slow
 * input comes last. */
WEFT_TEST(pool_submit_futures_next_is_imap_unordered)
{
    enum { N = 6 };
    int ms[N] = {600, 0, 0, 0, 0, 0};
    weft_future *fs[N];
    bool taken[N] = {false};
    size_t seen = 0, index = 0, order[N];
    weft_pool *pool = make_pool(2, WEFT_START_DEFAULT);
    int i;

    for (i = 0; i < N; i++)
        CHECK_OK(weft_pool_submit(pool, &fs[i], "sleep_ms", &ms[i], sizeof ms[i]));
    while (weft_futures_next(fs, N, taken, weft_test_long(), &index) == WEFT_OK) {
        CHECK(seen < N);
        order[seen++] = index;
        CHECK_OK(result_of(fs[index])->status);
    }
    CHECK_STATUS(weft_futures_next(fs, N, taken, 0, &index), WEFT_EEMPTY);
    CHECK_EQ_UINT(seen, N);
    CHECK_EQ_UINT(order[N - 1], 0); /* 600 ms while the other worker ran the rest */
    for (i = 0; i < N; i++)
        weft_future_release(fs[i]);
    weft_pool_destroy(pool);
}

WEFT_TEST(pool_submit_pending_call_can_be_cancelled)
{
    int ms = 1000, zero = 0;
    weft_future *running, *pending;
    weft_pool *pool = make_pool(1, WEFT_START_DEFAULT);

    CHECK_OK(weft_pool_submit(pool, &running, "sleep_ms", &ms, sizeof ms));
    CHECK_OK(weft_pool_submit(pool, &pending, "sleep_ms", &zero, sizeof zero));
    /* One worker: the second waits until the first has run its second. */
    CHECK(weft_future_cancel(pending));
    CHECK_STATUS(weft_future_result(pending, 0, NULL), WEFT_ECANCELED);
    CHECK_OK(result_of(running)->status);
    weft_future_release(pending);
    weft_future_release(running);
    weft_pool_destroy(pool);
}

WEFT_TEST(pool_submit_arguments_are_checked)
{
    int x = 2;
    weft_future *f;
    weft_pool *pool = make_pool(1, WEFT_START_DEFAULT);

    memset(&f, 0xa5, sizeof f); /* a failing submit sets it to NULL */

    CHECK_STATUS(weft_pool_submit(NULL, &f, "square", &x, sizeof x), WEFT_EINVAL);
    CHECK(f == NULL);
    CHECK_STATUS(weft_pool_submit(pool, NULL, "square", &x, sizeof x), WEFT_EINVAL);
    CHECK_STATUS(weft_pool_submit(pool, &f, NULL, &x, sizeof x), WEFT_EINVAL);
    CHECK_STATUS(weft_pool_submit(pool, &f, "square", NULL, 4), WEFT_EINVAL);
    CHECK_STATUS(weft_pool_submit(pool, &f, "no_such_target", NULL, 0), WEFT_ENOENT);
    CHECK(strstr(weft_last_error_message(), "no_such_target") != NULL);
    CHECK(f == NULL);
    /* The pool is still usable. */
    CHECK_OK(weft_pool_submit(pool, &f, "square", &x, sizeof x));
    CHECK_EQ_INT(result_of(f)->value, 4);
    weft_future_release(f);
    CHECK_OK(weft_pool_close(pool));
    CHECK_STATUS(weft_pool_submit(pool, &f, "square", &x, sizeof x), WEFT_ESHUTDOWN);
    CHECK(f == NULL);
    CHECK_OK(weft_pool_join(pool));
    weft_pool_destroy(pool);
}

/* close() then join(): the calls already submitted still run. */
WEFT_TEST(pool_join_waits_for_submitted_calls)
{
    enum { N = 5 };
    int ms = 50;
    weft_future *fs[N];
    weft_pool *pool = make_pool(2, WEFT_START_DEFAULT);
    int i;

    for (i = 0; i < N; i++)
        CHECK_OK(weft_pool_submit(pool, &fs[i], "sleep_ms", &ms, sizeof ms));
    CHECK_OK(weft_pool_close(pool));
    CHECK_OK(weft_pool_join(pool));
    for (i = 0; i < N; i++) {
        CHECK(weft_future_done(fs[i]));
        CHECK_OK(weft_future_status(fs[i]));
        weft_future_release(fs[i]);
    }
    weft_pool_destroy(pool);
}

/* A future outlives its pool; its result stays until its release. */
WEFT_TEST(pool_future_outlives_the_pool)
{
    int x = 6;
    weft_future *f;
    weft_pool *pool = make_pool(1, WEFT_START_DEFAULT);

    CHECK_OK(weft_pool_submit(pool, &f, "square", &x, sizeof x));
    CHECK_OK(weft_pool_close(pool));
    CHECK_OK(weft_pool_join(pool));
    weft_pool_destroy(pool);
    CHECK_EQ_INT(result_of(f)->value, 36);
    weft_future_release(f);
}

static void initializer_runs_once_per_worker(weft_start_method method)
{
    enum { N = 12 };
    weft_pool_opts opts = {.processes = 2, .method = method, .initializer = "init_mark"};
    int values[N];
    weft_buffer items[N];
    weft_pool_result results[N];
    weft_future *f;
    weft_pool *pool = NULL;
    size_t i;

    skip_without_fork(method);
    CHECK_OK(weft_pool_create(&pool, &opts));
    int_items(values, items, N);
    CHECK_OK(weft_pool_map(pool, "init_runs", items, N, results));
    for (i = 0; i < N; i++)
        CHECK_EQ_INT(results[i].value, 1);
    free_results(results, N);
    CHECK_OK(weft_pool_submit(pool, &f, "init_runs", NULL, 0));
    CHECK_EQ_INT(result_of(f)->value, 1);
    weft_future_release(f);
    weft_pool_destroy(pool);
}

WEFT_TEST(pool_spawn_initializer_runs_once_per_worker)
{
    initializer_runs_once_per_worker(WEFT_START_SPAWN);
}

WEFT_TEST(pool_fork_initializer_runs_once_per_worker)
{
    initializer_runs_once_per_worker(WEFT_START_FORK);
}

WEFT_TEST(pool_failing_initializer_fails_the_tasks)
{
    weft_pool_opts user = {.processes = 2, .initializer = "init_fail_user"};
    weft_pool_opts positive = {.processes = 1, .initializer = "init_fail_positive"};
    weft_pool_opts missing = {.processes = 1, .initializer = "no_such_initializer"};
    int values[4];
    weft_buffer items[4];
    weft_pool_result results[4];
    weft_future *f;
    weft_pool *pool = NULL;
    size_t i;

    CHECK_STATUS(weft_pool_create(&pool, &missing), WEFT_ENOENT);
    CHECK(pool == NULL);
    int_items(values, items, 4);
    CHECK_OK(weft_pool_create(&pool, &user));
    CHECK_STATUS(weft_pool_map(pool, "square", items, 4, results), WEFT_EUSER - 1);
    for (i = 0; i < 4; i++)
        CHECK_STATUS(results[i].status, WEFT_EUSER - 1);
    free_results(results, 4);
    CHECK_OK(weft_pool_submit(pool, &f, "square", &values[2], sizeof values[2]));
    CHECK_STATUS(weft_future_result(f, weft_test_long(), NULL), WEFT_EUSER - 1);
    weft_future_release(f);
    weft_pool_destroy(pool);
    CHECK_OK(weft_pool_create(&pool, &positive));
    CHECK_STATUS(weft_pool_map(pool, "square", items, 2, results), WEFT_ECHILD);
    free_results(results, 2);
    weft_pool_destroy(pool);
}

static void max_tasks_per_child_replaces_workers(weft_start_method method)
{
    enum { N = 6 };
    weft_pool_opts opts = {.processes = 1, .method = method, .max_tasks_per_child = 2};
    int values[N];
    weft_buffer items[N];
    weft_pool_result results[N];
    weft_pool *pool = NULL;
    size_t i;

    skip_without_fork(method);
    CHECK_OK(weft_pool_create(&pool, &opts));
    int_items(values, items, N);
    CHECK_OK(weft_pool_map(pool, "whoami", items, N, results));
    /* One worker at a time, each for two tasks: pids a a b b c c. */
    for (i = 0; i < N; i += 2) {
        CHECK_EQ_INT(results[i].value, results[i + 1].value);
        if (i > 0)
            CHECK_NE_INT(results[i].value, results[i - 1].value);
    }
    free_results(results, N);
    weft_pool_destroy(pool);
}

WEFT_TEST(pool_spawn_max_tasks_per_child_replaces_workers)
{
    max_tasks_per_child_replaces_workers(WEFT_START_SPAWN);
}

WEFT_TEST(pool_fork_max_tasks_per_child_replaces_workers)
{
    max_tasks_per_child_replaces_workers(WEFT_START_FORK);
}

/* ---- ProcessPoolExecutor -------------------------------------------------------- */

static void *identity(void *arg)
{
    return arg;
}

WEFT_TEST(pool_executor_of_processes_runs_targets)
{
    enum { N = 8 };
    weft_executor *ex = NULL, *threads = NULL;
    weft_future *fs[N], *f;
    void *arg = NULL, *result = NULL;
    int i;

    CHECK_STATUS(weft_executor_create_processes(NULL, 2), WEFT_EINVAL);
    CHECK_OK(weft_executor_create_processes(&ex, 2));
    for (i = 0; i < N; i++)
        CHECK_OK(weft_executor_submit_target(ex, &fs[i], "square", &i, sizeof i));
    CHECK_OK(weft_futures_wait(fs, N, weft_test_long(), WEFT_ALL_COMPLETED));
    for (i = 0; i < N; i++) {
        CHECK_EQ_INT(result_of(fs[i])->value, i * i);
        weft_future_release(fs[i]);
    }
    /* A worker that dies fails only its call. */
    i = 5;
    CHECK_OK(weft_executor_submit_target(ex, &f, "fragile", &i, sizeof i));
    CHECK_STATUS(weft_future_result(f, weft_test_long(), &result), WEFT_ECHILD);
    weft_future_release(f);
    CHECK_OK(weft_executor_submit_target(ex, &f, "whoami", NULL, 0));
    CHECK_NE_INT(result_of(f)->value, (int)(weft_getpid() & 0x7fffffff));
    weft_future_release(f);
    /* Function pointers cannot cross to another process. */
    CHECK_STATUS(weft_executor_submit(ex, &f, identity, arg), WEFT_EINVAL);
    CHECK(strstr(weft_last_error_message(), "executor_submit_target") != NULL);
    CHECK_STATUS(weft_executor_map(ex, identity, &arg, &result, 1, 1.0),
                 WEFT_EINVAL);
    CHECK_STATUS(weft_executor_submit_target(ex, &f, "no_such_target", NULL, 0), WEFT_ENOENT);
    CHECK_STATUS(weft_executor_submit_target(NULL, &f, "square", NULL, 0), WEFT_EINVAL);
    CHECK_OK(weft_executor_create(&threads, 1, NULL));
    CHECK_STATUS(weft_executor_submit_target(threads, &f, "square", NULL, 0), WEFT_EINVAL);
    CHECK(f == NULL);
    weft_executor_destroy(threads);
    /* shutdown then destroy, with a call still pending: it runs first. */
    i = 7;
    CHECK_OK(weft_executor_submit_target(ex, &f, "square", &i, sizeof i));
    weft_executor_shutdown(ex, false, false);
    CHECK_STATUS(weft_executor_submit_target(ex, &fs[0], "square", &i, sizeof i),
                 WEFT_ESHUTDOWN);
    weft_executor_destroy(ex);
    CHECK_EQ_INT(result_of(f)->value, 49);
    weft_future_release(f);
}

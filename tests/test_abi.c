/* SPDX-License-Identifier: MIT */
/* The binary layout of every public struct, and the reserved tail of the
 * option structs (weft/base.h, "Option structs").
 *
 * The expected values are written out for each data model, worked out by
 * hand from the declarations: a change of layout, even one that keeps the
 * API, fails here on purpose, and whoever makes it decides whether it is
 * an ABI break (a new SONAME) or a mistake. Enums are int-sized and bool
 * is one byte on every model below. */
#include "runner.h"

#include <stdio.h>
#include <string.h>

/* The models, told apart by pointer and long sizes and by how a uint64_t
 * member is aligned (4 in the i386 System V ABI, 8 in the others). */
enum model {
    LP64,      /* Linux, macOS, BSDs on 64-bit CPUs */
    LLP64,     /* Win64: mingw-w64, MSVC */
    ILP32,     /* 32-bit ARM, Win32 x86, ...: uint64_t members 8-aligned */
    ILP32_I386, /* i386 System V (Linux, BSDs on x86): uint64_t members 4-aligned */
    MODELS
};

static const char *const model_names[MODELS] = {"LP64", "LLP64", "ILP32", "ILP32 (i386 System V)"};

struct u64_member {
    char c;
    uint64_t u;
};

static int data_model(void)
{
    if (sizeof(void *) == 8)
        return sizeof(long) == 8 ? LP64 : sizeof(long) == 4 ? LLP64 : MODELS;
    if (sizeof(void *) == 4 && sizeof(long) == 4)
        return offsetof(struct u64_member, u) == 8 ? ILP32 : ILP32_I386;
    return MODELS;
}

typedef struct layout_row {
    const char *what;
    size_t actual;
    size_t expected[MODELS]; /* in the order of enum model */
} layout_row;

/* One row each: the four expected values in the order LP64, LLP64, ILP32,
 * ILP32_I386. */
#define SIZE(T, lp64, llp64, ilp32, i386) {"sizeof(" #T ")", sizeof(T), {lp64, llp64, ilp32, i386}}
#define ALIGN(T, lp64, llp64, ilp32, i386)                                                     \
    {"_Alignof(" #T ")", _Alignof(T), {lp64, llp64, ilp32, i386}}
#define OFFSET(T, m, lp64, llp64, ilp32, i386)                                                 \
    {"offsetof(" #T ", " #m ")", offsetof(T, m), {lp64, llp64, ilp32, i386}}

static void check_layout(const layout_row *rows, size_t count)
{
    int model = data_model();
    int wrong = 0;
    size_t i;

    if (model == MODELS) {
        fprintf(stderr, "a data model test_abi.c has no column for (pointer %u, long %u)\n",
                (unsigned)sizeof(void *), (unsigned)sizeof(long));
        CHECK(model != MODELS);
    }
    /* Every wrong value is printed before the case fails, so one run shows
     * the whole of a layout change. */
    for (i = 0; i < count; i++) {
        if (rows[i].actual == rows[i].expected[model])
            continue;
        fprintf(stderr, "%s: %s is %u, expected %u\n", model_names[model], rows[i].what,
                (unsigned)rows[i].actual, (unsigned)rows[i].expected[model]);
        wrong++;
    }
    CHECK_EQ_INT(wrong, 0);
}

#define CHECK_LAYOUT(rows) check_layout((rows), sizeof(rows) / sizeof(rows)[0])

WEFT_TEST(abi_data_model_is_one_the_tables_know)
{
    CHECK(data_model() != MODELS);
    printf("data model: %s\n", model_names[data_model()]);
}

WEFT_TEST(abi_lock_struct_layouts)
{
    static const layout_row rows[] = {
        SIZE(weft_lock, 4, 4, 4, 4),
        ALIGN(weft_lock, 4, 4, 4, 4),
        OFFSET(weft_lock, state, 0, 0, 0, 0),

        /* owner is WEFT_ALIGN8: 8-aligned even on i386. */
        SIZE(weft_rlock, 16, 16, 16, 16),
        ALIGN(weft_rlock, 8, 8, 8, 8),
        OFFSET(weft_rlock, lock, 0, 0, 0, 0),
        OFFSET(weft_rlock, count, 4, 4, 4, 4),
        OFFSET(weft_rlock, owner, 8, 8, 8, 8),

        /* writer is a plain uint64_t (only read under `lock`): 4-aligned on i386. */
        SIZE(weft_rwlock, 32, 32, 32, 32),
        ALIGN(weft_rwlock, 8, 8, 8, 4),
        OFFSET(weft_rwlock, lock, 0, 0, 0, 0),
        OFFSET(weft_rwlock, readers, 4, 4, 4, 4),
        OFFSET(weft_rwlock, writers_waiting, 8, 8, 8, 8),
        OFFSET(weft_rwlock, readers_seq, 12, 12, 12, 12),
        OFFSET(weft_rwlock, writers_seq, 16, 16, 16, 16),
        OFFSET(weft_rwlock, readers_waiting, 20, 20, 20, 20),
        OFFSET(weft_rwlock, writer, 24, 24, 24, 24),

        SIZE(weft_once, 4, 4, 4, 4),
        ALIGN(weft_once, 4, 4, 4, 4),
        OFFSET(weft_once, state, 0, 0, 0, 0),
    };

    CHECK_LAYOUT(rows);
}

WEFT_TEST(abi_sync_struct_layouts)
{
    static const layout_row rows[] = {
        SIZE(weft_cond, 16, 16, 12, 12),
        ALIGN(weft_cond, 8, 8, 4, 4),
        OFFSET(weft_cond, guard, 0, 0, 0, 0),
        OFFSET(weft_cond, unused, 4, 4, 4, 4),
        OFFSET(weft_cond, head, 8, 8, 8, 8),

        SIZE(weft_sem, 16, 16, 16, 16),
        ALIGN(weft_sem, 4, 4, 4, 4),
        OFFSET(weft_sem, value, 0, 0, 0, 0),
        OFFSET(weft_sem, waiters, 4, 4, 4, 4),
        OFFSET(weft_sem, bound, 8, 8, 8, 8),
        OFFSET(weft_sem, bounded, 12, 12, 12, 12),

        SIZE(weft_event, 8, 8, 8, 8),
        ALIGN(weft_event, 4, 4, 4, 4),
        OFFSET(weft_event, state, 0, 0, 0, 0),
        OFFSET(weft_event, waiters, 4, 4, 4, 4),

        SIZE(weft_barrier, 24, 24, 24, 24),
        ALIGN(weft_barrier, 4, 4, 4, 4),
        OFFSET(weft_barrier, lock, 0, 0, 0, 0),
        OFFSET(weft_barrier, parties, 4, 4, 4, 4),
        OFFSET(weft_barrier, count, 8, 8, 8, 8),
        OFFSET(weft_barrier, state, 12, 12, 12, 12),
        OFFSET(weft_barrier, seq, 16, 16, 16, 16),
        OFFSET(weft_barrier, waiters, 20, 20, 20, 20),
    };

    CHECK_LAYOUT(rows);
}

WEFT_TEST(abi_option_struct_layouts)
{
    static const layout_row rows[] = {
        SIZE(weft_thread_opts, 56, 56, 28, 28),
        ALIGN(weft_thread_opts, 8, 8, 4, 4),
        OFFSET(weft_thread_opts, name, 0, 0, 0, 0),
        OFFSET(weft_thread_opts, daemon, 8, 8, 4, 4),
        OFFSET(weft_thread_opts, stack_size, 16, 16, 8, 8),
        OFFSET(weft_thread_opts, reserved, 24, 24, 12, 12),

        SIZE(weft_queue_opts, 56, 56, 28, 28),
        ALIGN(weft_queue_opts, 8, 8, 4, 4),
        OFFSET(weft_queue_opts, kind, 0, 0, 0, 0),
        OFFSET(weft_queue_opts, maxsize, 8, 8, 4, 4),
        OFFSET(weft_queue_opts, compare, 16, 16, 8, 8),
        OFFSET(weft_queue_opts, reserved, 24, 24, 12, 12),

        SIZE(weft_process_opts, 40, 40, 24, 24),
        ALIGN(weft_process_opts, 8, 8, 4, 4),
        OFFSET(weft_process_opts, method, 0, 0, 0, 0),
        OFFSET(weft_process_opts, daemon, 4, 4, 4, 4),
        OFFSET(weft_process_opts, pass, 8, 8, 8, 8),
        OFFSET(weft_process_opts, npass, 16, 16, 12, 12),
        OFFSET(weft_process_opts, reserved, 24, 24, 16, 16),

        SIZE(weft_pool_opts, 40, 40, 24, 24),
        ALIGN(weft_pool_opts, 8, 8, 4, 4),
        OFFSET(weft_pool_opts, processes, 0, 0, 0, 0),
        OFFSET(weft_pool_opts, method, 4, 4, 4, 4),
        OFFSET(weft_pool_opts, initializer, 8, 8, 8, 8),
        OFFSET(weft_pool_opts, max_tasks_per_child, 16, 16, 12, 12),
        OFFSET(weft_pool_opts, reserved, 24, 24, 16, 16),

        SIZE(weft_popen_opts, 64, 64, 40, 40),
        ALIGN(weft_popen_opts, 8, 8, 4, 4),
        OFFSET(weft_popen_opts, cwd, 0, 0, 0, 0),
        OFFSET(weft_popen_opts, env, 8, 8, 4, 4),
        OFFSET(weft_popen_opts, in, 16, 16, 8, 8),
        OFFSET(weft_popen_opts, out, 20, 20, 12, 12),
        OFFSET(weft_popen_opts, err, 24, 24, 16, 16),
        OFFSET(weft_popen_opts, new_process_group, 28, 28, 20, 20),
        OFFSET(weft_popen_opts, pass, 32, 32, 24, 24),
        OFFSET(weft_popen_opts, npass, 40, 40, 28, 28),
        OFFSET(weft_popen_opts, reserved, 48, 48, 32, 32),
    };

    CHECK_LAYOUT(rows);
}

/* Arrays of these cross the API (weft_pool_map's inputs and results), so
 * they can never grow: a new field would change the stride. */
WEFT_TEST(abi_pool_array_struct_layouts)
{
    static const layout_row rows[] = {
        SIZE(weft_buffer, 16, 16, 8, 8),
        ALIGN(weft_buffer, 8, 8, 4, 4),
        OFFSET(weft_buffer, data, 0, 0, 0, 0),
        OFFSET(weft_buffer, len, 8, 8, 4, 4),

        SIZE(weft_pool_result, 24, 24, 16, 16),
        ALIGN(weft_pool_result, 8, 8, 4, 4),
        OFFSET(weft_pool_result, status, 0, 0, 0, 0),
        OFFSET(weft_pool_result, value, 4, 4, 4, 4),
        OFFSET(weft_pool_result, data, 8, 8, 8, 8),
        OFFSET(weft_pool_result, len, 16, 16, 12, 12),
    };

    CHECK_LAYOUT(rows);
}

/* Each option struct has four reserved slots, each as wide as a pointer,
 * so that a later field of any of the promised types takes one slot; two
 * of weft_process_opts's and of weft_popen_opts's became pass and npass,
 * two of weft_pool_opts's initializer and max_tasks_per_child. */
WEFT_TEST(abi_option_structs_reserve_four_pointer_slots)
{
    CHECK_EQ_UINT(sizeof(((weft_thread_opts *)0)->reserved), 4 * sizeof(void *));
    CHECK_EQ_UINT(sizeof(((weft_queue_opts *)0)->reserved), 4 * sizeof(void *));
    CHECK_EQ_UINT(sizeof(((weft_process_opts *)0)->reserved), 2 * sizeof(void *));
    CHECK_EQ_UINT(sizeof(((weft_pool_opts *)0)->reserved), 2 * sizeof(void *));
    CHECK_EQ_UINT(sizeof(((weft_popen_opts *)0)->reserved), 2 * sizeof(void *));
    CHECK_EQ_UINT(sizeof(size_t), sizeof(void *));
    CHECK_LE_INT(sizeof(int), sizeof(void *));
}

static void *return_arg(void *arg)
{
    return arg;
}

/* The failing call left a message that names it and the reserved slot. */
/* The message names the call and the first reserved slot set. */
static void check_reserved_message(const char *call, const char *slot)
{
    const char *message = weft_last_error_message();

    CHECK(strstr(message, call) != NULL);
    CHECK(strstr(message, slot) != NULL);
}

WEFT_TEST(abi_nonzero_reserved_slot_is_einval_everywhere)
{
    static int marker;
    const char *const argv[] = {"weft-no-such-program", NULL};
    weft_thread_opts thread_opts = {.name = "abi"};
    weft_queue_opts queue_opts = {.kind = WEFT_QUEUE_LIFO};
    weft_process_opts process_opts = {.method = WEFT_START_SPAWN};
    weft_pool_opts pool_opts = {.processes = 1};
    weft_popen_opts popen_opts = {.out = WEFT_STDIO_NULL};
    weft_thread *thread = NULL;
    weft_queue *queue = NULL;
    weft_process *process = NULL;
    weft_pool *pool = NULL;
    weft_popen *child = NULL;

    thread_opts.reserved[3] = &marker;
    CHECK_STATUS(weft_thread_start(&thread, return_arg, NULL, &thread_opts), WEFT_EINVAL);
    CHECK_EQ_PTR(thread, NULL);
    check_reserved_message("thread_start", "reserved[3]");

    queue_opts.reserved[3] = &marker;
    CHECK_STATUS(weft_queue_create(&queue, &queue_opts), WEFT_EINVAL);
    CHECK_EQ_PTR(queue, NULL);
    check_reserved_message("queue_create", "reserved[3]");

    /* Rejected before a target is looked up or a child starts. */
    process_opts.reserved[1] = &marker;
    CHECK_STATUS(weft_process_start(&process, "abi-no-such-target", NULL, 0, &process_opts),
                 WEFT_EINVAL);
    CHECK_EQ_PTR(process, NULL);
    check_reserved_message("process_start", "reserved[1]");

    pool_opts.reserved[1] = &marker;
    CHECK_STATUS(weft_pool_create(&pool, &pool_opts), WEFT_EINVAL);
    CHECK_EQ_PTR(pool, NULL);
    check_reserved_message("pool_create", "reserved[1]");

    /* Rejected before the program is looked for (else WEFT_ENOENT). */
    popen_opts.reserved[1] = &marker;
    CHECK_STATUS(weft_popen_start(&child, argv, &popen_opts), WEFT_EINVAL);
    CHECK_EQ_PTR(child, NULL);
    check_reserved_message("popen_start", "reserved[1]");
    CHECK_STATUS(weft_run(argv, &popen_opts, WEFT_FOREVER, NULL, NULL, NULL, NULL, NULL),
                 WEFT_EINVAL);
    check_reserved_message("popen_start", "reserved[1]");
}

WEFT_TEST(abi_zero_reserved_slots_are_accepted)
{
    static int marker;
    weft_thread_opts thread_opts = {.name = "abi"};
    weft_queue_opts queue_opts = {.kind = WEFT_QUEUE_LIFO, .maxsize = 1};
    weft_thread *thread;
    weft_queue *queue;
    void *item = NULL;

    CHECK_OK(weft_thread_start(&thread, return_arg, &marker, &thread_opts));
    CHECK_EQ_PTR(weft_test_join(thread), &marker);
    CHECK_OK(weft_queue_create(&queue, &queue_opts));
    CHECK_OK(weft_queue_put(queue, &marker, 0));
    CHECK_OK(weft_queue_get(queue, &item, 0));
    CHECK_EQ_PTR(item, &marker);
    weft_queue_destroy(queue);
}

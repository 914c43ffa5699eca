/* SPDX-License-Identifier: MIT */
/* weft_shm: multiprocessing.shared_memory.SharedMemory. Names are made
 * unique per run (the pid) so that parallel runs never meet; every case
 * unlinks what it made. The fork cases are skipped on Windows; there the
 * hand-over is tested by export and import within one process. */
#ifndef _WIN32
#define _POSIX_C_SOURCE 200809L
#endif
#include "runner.h"
#include "ipc_handoff.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* A name of this run: "t<pid>_<tag>". */
static const char *name_of(const char *tag)
{
    static char buf[4][WEFT_SHM_NAME_MAX + 1];
    static int next;
    char *b = buf[next++ % 4];

    snprintf(b, sizeof buf[0], "t%lld_%s", (long long)weft_getpid(), tag);
    return b;
}

static bool all_zero(const unsigned char *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (p[i] != 0)
            return false;
    }
    return true;
}

static bool message_names(const char *what)
{
    return strstr(weft_last_error_message(), what) != NULL;
}

/* ---- Targets (fork children) ------------------------------------------------------ */

static weft_shm *shared_block;

/* Write the pattern into the block the parent made before the fork. */
static int write_pattern(const void *arg, size_t len)
{
    unsigned char *p = weft_shm_ptr(shared_block);
    size_t i;

    (void)arg;
    (void)len;
    for (i = 0; i < weft_shm_size(shared_block); i++)
        p[i] = weft_test_pattern(i);
    return 0;
}

/* Open the block by the name given and write 42 at its start. */
static int open_and_write(const void *arg, size_t len)
{
    char name[WEFT_SHM_NAME_MAX + 2] = {0};
    weft_shm *shm;

    if (len == 0 || len >= sizeof name)
        return 2;
    memcpy(name, arg, len);
    if (weft_shm_open(&shm, name) != WEFT_OK)
        return 3;
    ((unsigned char *)weft_shm_ptr(shm))[0] = 42;
    weft_shm_close(shm);
    return 0;
}

/* Write 43 at the start of the block passed as handle 0, and set the
 * event passed as handle 1. */
static int write_passed(const void *arg, size_t len)
{
    weft_shm *shm = weft_process_passed(0);
    weft_pevent *done = weft_process_passed(1);

    (void)arg;
    (void)len;
    if (!shm || !done || weft_process_passed(2) != NULL)
        return 2;
    ((unsigned char *)weft_shm_ptr(shm))[0] = 43;
    weft_pevent_set(done);
    weft_shm_close(shm);
    weft_pevent_close(done);
    return 0;
}

WEFT_TEST_SETUP
{
    weft_process_register("write_pattern", write_pattern);
    weft_process_register("open_and_write", open_and_write);
    weft_process_register("write_passed", write_passed);
}

static int run_child(const char *target, const void *arg, size_t len, weft_start_method method)
{
    weft_process_opts opts = {.method = method};
    weft_process *p;

    CHECK_OK(weft_process_start(&p, target, arg, len, &opts));
    return weft_test_join_process(p);
}

/* A block and an event handed to a child by either method: a nameless
 * block too (unlinked first), which the child cannot open by name. */
static void passed_to_child(weft_start_method method)
{
    weft_process_opts opts = {.method = method};
    const void *handles[2];
    weft_pevent *done;
    weft_process *p;
    weft_shm *shm;
    int code = -1;

    CHECK_OK(weft_shm_create(&shm, NULL, 4096));
    CHECK_OK(weft_shm_unlink(weft_shm_name(shm)));
    CHECK_OK(weft_pevent_create(&done));
    handles[0] = shm;
    handles[1] = done;
    opts.pass = handles;
    opts.npass = 2;
    CHECK_OK(weft_process_start(&p, "write_passed", NULL, 0, &opts));
    CHECK_OK(weft_pevent_wait(done, weft_test_long()));
    CHECK_EQ_INT(((unsigned char *)weft_shm_ptr(shm))[0], 43);
    CHECK_OK(weft_process_join(p, weft_test_long()));
    CHECK_OK(weft_process_exitcode(p, &code));
    CHECK_EQ_INT(code, 0);
    weft_process_release(p);
    weft_pevent_close(done);
    weft_shm_close(shm);
}

WEFT_TEST(shm_passed_to_a_spawned_child)
{
    passed_to_child(WEFT_START_SPAWN);
}

WEFT_TEST(shm_passed_to_a_fork_child)
{
    weft_test_skip_without_fork();
    passed_to_child(WEFT_START_FORK);
}

/* ---- Create, open, close, unlink ----------------------------------------------------- */

WEFT_TEST(shm_create_open_see_the_same_memory)
{
    const char *name = name_of("same");
    weft_shm *a, *b;
    unsigned char *pa, *pb;

    CHECK_OK(weft_shm_create(&a, name, 10000));
    pa = weft_shm_ptr(a);
    CHECK(pa != NULL);
    CHECK_EQ_UINT((uintptr_t)pa % 4096, 0);
    CHECK_EQ_UINT(weft_shm_size(a), 10000);
    CHECK_EQ_STR(weft_shm_name(a), name);
    CHECK(all_zero(pa, 10000));
    memcpy(pa + 9000, "hello", 6);

    CHECK_OK(weft_shm_open(&b, name));
    pb = weft_shm_ptr(b);
    CHECK(pb != pa);
    CHECK_GE_INT(weft_shm_size(b), 10000); /* a page multiple on Windows */
    CHECK_EQ_STR((char *)pb + 9000, "hello");
    pb[1] = 7;
    CHECK_EQ_INT(pa[1], 7);

    weft_shm_close(a);
    CHECK_EQ_INT(pb[1], 7); /* b's mapping keeps the memory */
    weft_shm_close(b);
    CHECK_OK(weft_shm_unlink(name));
}

WEFT_TEST(shm_leading_slash_is_the_same_name)
{
    const char *name = name_of("slash");
    char slashed[WEFT_SHM_NAME_MAX + 2];
    weft_shm *a, *b;

    snprintf(slashed, sizeof slashed, "/%s", name);
    CHECK_OK(weft_shm_create(&a, slashed, 100));
    CHECK_EQ_STR(weft_shm_name(a), name);
    CHECK_OK(weft_shm_open(&b, name));
    weft_shm_close(b);
    CHECK_STATUS(weft_shm_create(&b, name, 100), WEFT_EEXIST);
    weft_shm_close(a);
    CHECK_OK(weft_shm_unlink(slashed));
}

WEFT_TEST(shm_fresh_names_are_unique_and_open)
{
    weft_shm *a, *b, *c;

    CHECK_OK(weft_shm_create(&a, NULL, 64));
    CHECK_OK(weft_shm_create(&b, NULL, 64));
    CHECK(strlen(weft_shm_name(a)) > 0 && strlen(weft_shm_name(a)) <= WEFT_SHM_NAME_MAX);
    CHECK(strcmp(weft_shm_name(a), weft_shm_name(b)) != 0);
    ((unsigned char *)weft_shm_ptr(a))[3] = 9;
    CHECK_OK(weft_shm_open(&c, weft_shm_name(a)));
    CHECK_EQ_INT(((unsigned char *)weft_shm_ptr(c))[3], 9);
    weft_shm_close(c);
    CHECK_OK(weft_shm_unlink(weft_shm_name(a)));
    CHECK_OK(weft_shm_unlink(weft_shm_name(b)));
    weft_shm_close(a);
    weft_shm_close(b);
}

WEFT_TEST(shm_create_taken_name_is_eexist)
{
    const char *name = name_of("taken");
    weft_shm *a, *b = NULL;

    CHECK_OK(weft_shm_create(&a, name, 4096));
    ((unsigned char *)weft_shm_ptr(a))[0] = 5;
    CHECK_STATUS(weft_shm_create(&b, name, 4096), WEFT_EEXIST);
    CHECK(b == NULL);
    CHECK(message_names(name));
    CHECK_EQ_INT(((unsigned char *)weft_shm_ptr(a))[0], 5); /* untouched */
    weft_shm_close(a);
    CHECK_OK(weft_shm_unlink(name));
}

WEFT_TEST(shm_missing_name_is_enoent)
{
    const char *name = name_of("missing");
    weft_shm *a = NULL;

    CHECK_STATUS(weft_shm_open(&a, name), WEFT_ENOENT);
    CHECK(a == NULL);
    CHECK(message_names(name));
#ifdef _WIN32
    CHECK_OK(weft_shm_unlink(name)); /* removes nothing, as Python's there */
#else
    CHECK_STATUS(weft_shm_unlink(name), WEFT_ENOENT);
    CHECK(message_names(name));
#endif
}

/* POSIX: after the unlink the name is gone and a new block may take it,
 * while the old block lives on in its mapping. Windows has no unlink: the
 * name goes with the last handle. Elsewhere the cases close, then unlink,
 * as Python programs do: that works on both. */
WEFT_TEST(shm_unlink_removes_the_name_not_the_memory)
{
    const char *name = name_of("unlink");
    weft_shm *a, *b;

    CHECK_OK(weft_shm_create(&a, name, 4096));
    ((unsigned char *)weft_shm_ptr(a))[0] = 1;
    CHECK_OK(weft_shm_unlink(name));
#ifdef _WIN32
    CHECK_OK(weft_shm_open(&b, name)); /* the name lives while a handle does */
    weft_shm_close(b);
    weft_shm_close(a);
    CHECK_STATUS(weft_shm_open(&b, name), WEFT_ENOENT);
#else
    CHECK_STATUS(weft_shm_open(&b, name), WEFT_ENOENT);
    CHECK_STATUS(weft_shm_unlink(name), WEFT_ENOENT);
    CHECK_OK(weft_shm_create(&b, name, 4096));
    CHECK(all_zero(weft_shm_ptr(b), 4096));
    CHECK_EQ_INT(((unsigned char *)weft_shm_ptr(a))[0], 1);
    weft_shm_close(b);
    weft_shm_close(a);
    CHECK_OK(weft_shm_unlink(name));
#endif
}

/* ---- Bad input ---------------------------------------------------------------------- */

WEFT_TEST(shm_bad_input_is_a_status_with_a_message)
{
    char longest[WEFT_SHM_NAME_MAX + 1], too_long[WEFT_SHM_NAME_MAX + 2];
    weft_shm *a = NULL;

    CHECK_STATUS(weft_shm_create(NULL, name_of("x"), 10), WEFT_EINVAL);
    CHECK(message_names("shm_create"));
    CHECK_STATUS(weft_shm_create(&a, name_of("x"), 0), WEFT_EINVAL);
    CHECK(message_names("size"));
    CHECK_STATUS(weft_shm_create(&a, name_of("x"), SIZE_MAX), WEFT_ENOMEM);
    CHECK(message_names("shm_create"));
    CHECK_STATUS(weft_shm_create(&a, "", 10), WEFT_EINVAL);
    CHECK_STATUS(weft_shm_create(&a, "/", 10), WEFT_EINVAL);
    CHECK_STATUS(weft_shm_create(&a, "a/b", 10), WEFT_EINVAL);
    CHECK(message_names("'/'"));
    CHECK_STATUS(weft_shm_create(&a, "//a", 10), WEFT_EINVAL);
    CHECK_STATUS(weft_shm_create(&a, "a\\b", 10), WEFT_EINVAL);
    memset(too_long, 'n', sizeof too_long - 1);
    too_long[sizeof too_long - 1] = '\0';
    CHECK_STATUS(weft_shm_create(&a, too_long, 10), WEFT_EINVAL);
    CHECK(message_names("more than"));
    CHECK_STATUS(weft_shm_open(&a, too_long), WEFT_EINVAL);
    CHECK_STATUS(weft_shm_unlink(too_long), WEFT_EINVAL);
    CHECK(a == NULL);
    CHECK_STATUS(weft_shm_open(NULL, "x"), WEFT_EINVAL);
    CHECK_STATUS(weft_shm_open(&a, NULL), WEFT_EINVAL);
    CHECK_STATUS(weft_shm_unlink(NULL), WEFT_EINVAL);
    CHECK(weft_shm_ptr(NULL) == NULL);
    CHECK_EQ_UINT(weft_shm_size(NULL), 0);
    CHECK(weft_shm_name(NULL) == NULL);
    weft_shm_close(NULL);

    /* The longest name is fine (macOS's limit, with the '/'). */
    snprintf(longest, sizeof longest, "%s", name_of("l"));
    memset(longest + strlen(longest), 'n', sizeof longest - 1 - strlen(longest));
    longest[sizeof longest - 1] = '\0';
    CHECK_EQ_UINT(strlen(longest), WEFT_SHM_NAME_MAX);
    CHECK_OK(weft_shm_create(&a, longest, 10));
    weft_shm_close(a);
    CHECK_OK(weft_shm_unlink(longest));
}

/* More than the system has room for: a status at the create, with no name
 * left behind, never a SIGBUS when the memory is touched. (A full /dev/shm
 * is the same failure: the create reserves every page.) */
WEFT_TEST(shm_no_room_is_enomem_and_leaves_nothing)
{
    const char *name = name_of("huge");
    weft_shm *a = NULL;
    uint64_t tera = (uint64_t)1 << 40;
    size_t huge = (size_t)tera;

    if ((uint64_t)huge != tera)
        weft_test_skip("a 32-bit process cannot ask for a terabyte");
    CHECK_STATUS(weft_shm_create(&a, name, huge), WEFT_ENOMEM);
    CHECK(a == NULL);
    CHECK(message_names("shm")); /* Wine: the section is made, its view fails */
    CHECK_STATUS(weft_shm_open(&a, name), WEFT_ENOENT);
    CHECK_STATUS(weft_shm_create(&a, NULL, huge), WEFT_ENOMEM);
}

/* Sizes beyond 4 GiB where pointers have 64 bits: no 32-bit truncation
 * between the call and the OS. */
WEFT_TEST_TIMEOUT(shm_beyond_4_gib, 120)
{
    const char *name = name_of("big");
    uint64_t four_gib = (uint64_t)4 << 30;
    size_t size = (size_t)(four_gib + 4096), past = (size_t)four_gib;
    weft_shm *a, *b;
    unsigned char *p;

    if ((uint64_t)size != four_gib + 4096)
        weft_test_skip("a 32-bit process has no 4 GiB to map");
    CHECK_OK(weft_shm_create(&a, name, size));
    CHECK_EQ_UINT(weft_shm_size(a), size);
    p = weft_shm_ptr(a);
    CHECK_EQ_INT(p[size - 1], 0);
    p[size - 1] = 0xab;
    p[past] = 0xcd;
    CHECK_OK(weft_shm_open(&b, name));
    CHECK_GE_INT(weft_shm_size(b), size);
    CHECK_EQ_INT(((unsigned char *)weft_shm_ptr(b))[size - 1], 0xab);
    CHECK_EQ_INT(((unsigned char *)weft_shm_ptr(b))[past], 0xcd);
    weft_shm_close(b);
    weft_shm_close(a);
    CHECK_OK(weft_shm_unlink(name));
}

/* ---- Children ------------------------------------------------------------------------ */

WEFT_TEST(shm_fork_child_writes_what_the_parent_reads)
{
    const char *name = name_of("fork");
    const unsigned char *p;
    size_t i;

    weft_test_skip_without_fork();
    CHECK_OK(weft_shm_create(&shared_block, name, 100000));
    CHECK_EQ_INT(run_child("write_pattern", NULL, 0, WEFT_START_FORK), 0);
    p = weft_shm_ptr(shared_block);
    for (i = 0; i < 100000; i++)
        CHECK_EQ_INT(p[i], weft_test_pattern(i));
    weft_shm_close(shared_block);
    CHECK_OK(weft_shm_unlink(name));
}

static void child_opens_by_name(weft_start_method method)
{
    weft_shm *a;

    CHECK_OK(weft_shm_create(&a, NULL, 4096));
    CHECK_EQ_INT(run_child("open_and_write", weft_shm_name(a), strlen(weft_shm_name(a)), method), 0);
    CHECK_EQ_INT(((unsigned char *)weft_shm_ptr(a))[0], 42);
    CHECK_OK(weft_shm_unlink(weft_shm_name(a)));
    weft_shm_close(a);
}

WEFT_TEST(shm_fork_child_opens_by_name)
{
    weft_test_skip_without_fork();
    child_opens_by_name(WEFT_START_FORK);
}

/* A spawned child (Windows too) finds the block by its name. */
WEFT_TEST(shm_spawn_child_opens_by_name)
{
    child_opens_by_name(WEFT_START_SPAWN);
}

/* What a child handed the block does (src/ipc/ipc.h), in one process: the
 * imported handle maps the same memory under the same name and size. */
WEFT_TEST(shm_export_then_import_maps_the_same_memory)
{
#if !defined(WEFT_TEST_HANDOFF)
    weft_test_skip("weft's internal functions are out of reach of a shared build's tests");
#else
    const char *name = name_of("handoff");
    weft__ipc_handoff h, bad;
    weft_shm *a;
    void *b = NULL;

    CHECK_OK(weft_shm_create(&a, name, 5000));
    CHECK_OK(weft__shm_export(a, &h));
    CHECK_EQ_UINT(h.kind, WEFT__IPC_SHM);
    CHECK_EQ_UINT(h.nfiles, 1);
    bad = h;
    bad.desc_len = 3;
    CHECK_STATUS(weft__shm_import(&bad, &b), WEFT_EINVAL);
    bad = h;
    bad.kind = WEFT__IPC_PLOCK;
    CHECK_STATUS(weft__shm_import(&bad, &b), WEFT_EINVAL);
    CHECK(b == NULL);
    weft_test_handoff_copy_files(&h);
    CHECK_OK(weft__shm_import(&h, &b));
    CHECK_EQ_STR(weft_shm_name(b), name);
    CHECK_EQ_UINT(weft_shm_size(b), 5000);
    ((unsigned char *)weft_shm_ptr(b))[4999] = 3;
    CHECK_EQ_INT(((unsigned char *)weft_shm_ptr(a))[4999], 3);
    weft_shm_close(a);
    CHECK_OK(weft_shm_unlink(name));
    CHECK_EQ_INT(((unsigned char *)weft_shm_ptr(b))[4999], 3);
    weft_shm_close(b);
#endif
}

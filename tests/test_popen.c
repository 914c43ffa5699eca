/* SPDX-License-Identifier: MIT */
/* weft_popen and weft_run: subprocess.Popen and subprocess.run.
 *
 * The programs the cases start are this test executable again, run as
 * `<self> --child <mode> args...` (WEFT_CHILD_MODE below): a cat, an echo
 * of the argument vector, an exit code, a long sleep, and so on. Every
 * case starts them through the API under test, never through the shell.
 *
 * Temporary files and directories go to the current directory (CTest's:
 * the build tree), named with this process's id, since the cases of this
 * module may run at the same time. A few cases are for one platform only
 * (descriptors on POSIX, batch files on Windows); they exist everywhere and
 * skip themselves elsewhere. */
#ifndef _WIN32
#define _POSIX_C_SOURCE 200809L /* setenv, fcntl, open, chmod, mkdir, getcwd, kill */
#endif
#include "runner.h"

#include <errno.h>
#include <math.h>
#include <signal.h> /* SIGTERM, on Windows too */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#include <windows.h>
#include <shellapi.h> /* CommandLineToArgvW */
#include <direct.h>   /* _mkdir, _rmdir, _getcwd */
#include <fcntl.h>    /* _O_BINARY */
#include <io.h>       /* _setmode */
#else
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#endif

/* The exit code a killed / terminated child reports: -SIGKILL, -SIGTERM on
 * POSIX; TerminateProcess's code (1) on Windows. */
#ifdef _WIN32
#define KILLED_CODE 1
#define TERMINATED_CODE 1
#else
#define KILLED_CODE (-9)
#define TERMINATED_CODE (-15)
#endif

enum { MIB = 1 << 20, BIG = 8 * MIB, CHUNK = 64 * 1024 };

/* ---- Helpers -------------------------------------------------------------------- */

/* argv = {self, "--child", mode, extra..., NULL}; `extra` ends with NULL.
 * argv must have room for `cap` entries. */
static void child_argv(const char **argv, size_t cap, const char *mode, ...)
{
    va_list ap;
    const char *arg;
    size_t n = 0;

    CHECK(cap >= 4);
    argv[n++] = weft_test_self_path();
    argv[n++] = "--child";
    argv[n++] = mode;
    va_start(ap, mode);
    while ((arg = va_arg(ap, const char *)) != NULL) {
        CHECK(n + 1 < cap);
        argv[n++] = arg;
    }
    va_end(ap);
    argv[n] = NULL;
}

/* A name in the current directory, unique to this process:
 * "weft_popen_<stem>_<pid><ext>". */
static void temp_name(char *buf, size_t cap, const char *stem, const char *ext)
{
    int n = snprintf(buf, cap, "weft_popen_%s_%lld%s", stem, (long long)weft_getpid(), ext);

    CHECK(n > 0 && (size_t)n < cap);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");

    CHECK(f != NULL);
    CHECK(fputs(text, f) >= 0);
    CHECK(fclose(f) == 0);
}

static char *strdup_checked(const char *text)
{
    char *copy = malloc(strlen(text) + 1);

    CHECK(copy != NULL);
    return strcpy(copy, text);
}

/* Set this process's PATH (NULL: unset it). */
static void set_parent_path(const char *value)
{
#ifdef _WIN32
    CHECK(SetEnvironmentVariableA("PATH", value));
#else
    CHECK((value ? setenv("PATH", value, 1) : unsetenv("PATH")) == 0);
#endif
}

/* Wait (within weft_test_long()) for partial_then_sleep to create its
 * marker file, which says it has written and flushed both lines, and
 * remove it. The removal is the test: it fails while there is no file,
 * and on Windows also while the child still has it open. */
static void wait_for_marker(const char *marker)
{
    double t0 = weft_monotonic();

    while (remove(marker) != 0) {
        CHECK_LT_DBL(weft_monotonic() - t0, weft_test_long());
        weft_sleep(0.005);
    }
}

/* weft_popen_start, tried again where Wine fails a start now and then
 * (weft_test_wine_start_flaked). */
static int popen_start(weft_popen **p, const char *const *argv, const weft_popen_opts *opts)
{
    int rc = weft_popen_start(p, argv, opts);
    int tries;

    for (tries = 1; weft_test_wine_start_flaked(rc, tries); tries++)
        rc = weft_popen_start(p, argv, opts);
    return rc;
}

/* Start argv with opts (checked). */
static weft_popen *start(const char *const *argv, const weft_popen_opts *opts)
{
    weft_popen *p = NULL;

    CHECK_OK(popen_start(&p, argv, opts));
    CHECK(p != NULL);
    CHECK_GE_INT(weft_popen_pid(p), 1);
    return p;
}

/* cat (below) with all three streams piped, and `n` bytes of input for
 * it: weft_test_pattern(0 .. n-1). */
static weft_popen *start_cat(unsigned char *input, size_t n)
{
    const char *argv[8];
    weft_popen_opts opts = {0};
    size_t i;

    for (i = 0; i < n; i++)
        input[i] = weft_test_pattern(i);
    opts.in = WEFT_STDIO_PIPE;
    opts.out = WEFT_STDIO_PIPE;
    opts.err = WEFT_STDIO_PIPE;
    child_argv(argv, 8, "cat", NULL);
    return start(argv, &opts);
}

/* The child's stdio in binary mode, so Windows writes what it is given. */
static void binary_stdio(void)
{
#ifdef _WIN32
    _setmode(_fileno(stdin), _O_BINARY);
    _setmode(_fileno(stdout), _O_BINARY);
    _setmode(_fileno(stderr), _O_BINARY);
#endif
}

#ifdef _WIN32
#define DIR_SEP '\\'
#else
#define DIR_SEP '/'
#endif

static bool is_absolute(const char *path)
{
#ifdef _WIN32
    return path[0] == '\\' || path[0] == '/' || (path[0] != '\0' && path[1] == ':');
#else
    return path[0] == '/';
#endif
}

/* The current directory, into buf. */
static void current_dir(char *buf, size_t cap)
{
#ifdef _WIN32
    CHECK(_getcwd(buf, (int)cap) != NULL);
#else
    CHECK(getcwd(buf, cap) != NULL);
#endif
}

/* ---- Child modes ---------------------------------------------------------------- */

/* Copy stdin to stdout to the end; exit with the code of the first
 * argument (0 without one). */
WEFT_CHILD_MODE(cat)
{
    static char buf[CHUNK];
    int count;
    char **args = weft_test_child_args(&count);
    size_t n;

    binary_stdio();
    while ((n = fread(buf, 1, sizeof buf, stdin)) > 0) {
        if (fwrite(buf, 1, n, stdout) != n)
            return 100;
    }
    if (ferror(stdin) || fflush(stdout) != 0)
        return 101;
    return count > 0 ? atoi(args[0]) : 0;
}

/* Each argument, as the child received it, followed by a NUL byte. On
 * Windows the C runtime's argv is in the ANSI code page, not UTF-8: the
 * arguments are read from the UTF-16 command line, as CommandLineToArgvW
 * splits it. */
WEFT_CHILD_MODE(echo_argv)
{
    binary_stdio();
#ifdef _WIN32
    {
        int n = 0, i;
        wchar_t **w = CommandLineToArgvW(GetCommandLineW(), &n);

        if (w == NULL)
            return 102;
        /* w[0..2]: the program, "--child", "echo_argv". */
        for (i = 3; i < n; i++) {
            int len = WideCharToMultiByte(CP_UTF8, 0, w[i], -1, NULL, 0, NULL, NULL);
            char *s = len > 0 ? malloc((size_t)len) : NULL;

            if (s == NULL || WideCharToMultiByte(CP_UTF8, 0, w[i], -1, s, len, NULL, NULL) != len)
                return 103;
            fwrite(s, 1, (size_t)len, stdout); /* the NUL too */
            free(s);
        }
        LocalFree(w);
    }
#else
    {
        int count, i;
        char **args = weft_test_child_args(&count);

        for (i = 0; i < count; i++)
            fwrite(args[i], 1, strlen(args[i]) + 1, stdout);
    }
#endif
    return fflush(stdout) == 0 ? 0 : 104;
}

WEFT_CHILD_MODE(exit_with)
{
    int count;
    char **args = weft_test_child_args(&count);

    return count > 0 ? atoi(args[0]) : 0;
}

/* Sleep 30 s: "still running" for every case. */
WEFT_CHILD_MODE(sleep_long)
{
    weft_sleep(30.0);
    return 0;
}

/* Write args[0] to stdout, flush, then args[1] to stderr; exit with
 * args[2] (0 without it). */
WEFT_CHILD_MODE(say)
{
    int count;
    char **args = weft_test_child_args(&count);

    binary_stdio();
    if (count > 0)
        fputs(args[0], stdout);
    fflush(stdout);
    if (count > 1)
        fputs(args[1], stderr);
    fflush(stderr);
    return count > 2 ? atoi(args[2]) : 0;
}

/* Write args[0] bytes to stdout (weft_test_pattern(i)) and as many to stderr
 * (weft_test_pattern(i) ^ 0x5a), alternating 64 KiB chunks, reading nothing: a
 * parent that reads one pipe to its end before the other deadlocks. */
WEFT_CHILD_MODE(write_both)
{
    static unsigned char buf[CHUNK];
    int count;
    char **args = weft_test_child_args(&count);
    size_t total = count > 0 ? (size_t)strtoul(args[0], NULL, 10) : 0;
    size_t done = 0, n, i;

    binary_stdio();
    while (done < total) {
        n = total - done < CHUNK ? total - done : CHUNK;
        for (i = 0; i < n; i++)
            buf[i] = weft_test_pattern(done + i);
        if (fwrite(buf, 1, n, stdout) != n || fflush(stdout) != 0)
            return 105;
        for (i = 0; i < n; i++)
            buf[i] ^= 0x5a;
        if (fwrite(buf, 1, n, stderr) != n || fflush(stderr) != 0)
            return 106;
        done += n;
    }
    return 0;
}

/* Write a line to stdout and one to stderr, then (when given args[0])
 * create that file to say so, then sleep 30 s. */
WEFT_CHILD_MODE(partial_then_sleep)
{
    int count;
    char **args = weft_test_child_args(&count);

    binary_stdio();
    fputs("partial output\n", stdout);
    fputs("partial error\n", stderr);
    if (fflush(stdout) != 0 || fflush(stderr) != 0)
        return 107;
    if (count > 0) {
        FILE *f = fopen(args[0], "wb");
        if (f == NULL || fclose(f) != 0)
            return 108;
    }
    weft_sleep(30.0);
    return 0;
}

/* "NAME=value\n" for each argument NAME, "NAME unset\n" when unset. */
WEFT_CHILD_MODE(print_env)
{
    int count, i;
    char **args = weft_test_child_args(&count);

    binary_stdio();
    for (i = 0; i < count; i++) {
        const char *value = getenv(args[i]);

        if (value)
            printf("%s=%s\n", args[i], value);
        else
            printf("%s unset\n", args[i]);
    }
    return 0;
}

WEFT_CHILD_MODE(print_cwd)
{
    char dir[4096];

    binary_stdio();
    current_dir(dir, sizeof dir);
    fputs(dir, stdout);
    return 0;
}

WEFT_CHILD_MODE(print_pid)
{
    printf("%lld", (long long)weft_getpid());
    return 0;
}

/* POSIX: the open descriptors among 0..4095, as "0 1 2".
 * Windows: how many of the handle values given as arguments are open in
 * this process (the parent's inheritable handles that leaked in). */
WEFT_CHILD_MODE(fd_count)
{
#ifdef _WIN32
    int count, i, open = 0;
    char **args = weft_test_child_args(&count);

    for (i = 0; i < count; i++) {
        DWORD flags;
        HANDLE h = (HANDLE)(uintptr_t)strtoull(args[i], NULL, 10);

        if (GetHandleInformation(h, &flags))
            open++;
    }
    printf("%d", open);
#else
    int fd;
    bool first = true;

    for (fd = 0; fd < 4096; fd++) {
        if (fcntl(fd, F_GETFD) != -1) {
            printf(first ? "%d" : " %d", fd);
            first = false;
        }
    }
#endif
    return 0;
}

/* POSIX: "leader" when the child leads its own process group, else "member". */
WEFT_CHILD_MODE(print_pgrp)
{
#ifdef _WIN32
    return 77;
#else
    fputs(getpgrp() == getpid() ? "leader" : "member", stdout);
    return 0;
#endif
}

/* ---- Start, wait, poll --------------------------------------------------------------- */

WEFT_TEST(popen_wait_exit_codes)
{
    static const char *const codes[] = {"0", "3", "42"};
    const char *argv[8];
    size_t i;

    for (i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        weft_popen *p;
        int code = -12345;

        child_argv(argv, 8, "exit_with", codes[i], NULL);
        p = start(argv, NULL);
        CHECK_OK(weft_popen_wait(p, WEFT_FOREVER, &code));
        CHECK_EQ_INT(code, atoi(codes[i]));
        /* Reaped: the status stays, for wait and poll alike. */
        code = -12345;
        CHECK_OK(weft_popen_wait(p, 0, &code));
        CHECK_EQ_INT(code, atoi(codes[i]));
        code = -12345;
        CHECK_OK(weft_popen_poll(p, &code));
        CHECK_EQ_INT(code, atoi(codes[i]));
        CHECK_OK(weft_popen_wait(p, WEFT_FOREVER, NULL)); /* exit_code may be NULL */
        weft_popen_release(p);
    }
}

WEFT_TEST(popen_pid_is_the_childs)
{
    const char *argv[8];
    weft_popen *p;
    char *out = NULL;
    size_t out_len = 0;
    weft_popen_opts opts = {0};

    opts.out = WEFT_STDIO_PIPE;
    child_argv(argv, 8, "print_pid", NULL);
    p = start(argv, &opts);
    CHECK_OK(weft_popen_communicate(p, NULL, 0, &out, &out_len, NULL, NULL, weft_test_long()));
    CHECK(out != NULL);
    CHECK_EQ_INT(strtoll(out, NULL, 10), weft_popen_pid(p));
    CHECK_NE_INT(weft_popen_pid(p), weft_getpid());
    weft_free(out);
    weft_popen_release(p);
}

WEFT_TEST(popen_poll_running_then_exit_code)
{
    const char *argv[8];
    weft_popen *p;
    weft_popen_opts opts = {0};
    int code = -12345;

    /* cat runs until its stdin ends: running for sure until communicate
     * closes it. */
    opts.in = WEFT_STDIO_PIPE;
    opts.out = WEFT_STDIO_NULL;
    child_argv(argv, 8, "cat", "7", NULL);
    p = start(argv, &opts);
    CHECK_STATUS(weft_popen_poll(p, &code), WEFT_EAGAIN);
    CHECK_EQ_INT(code, -12345); /* untouched */
    CHECK_STATUS(weft_popen_poll(p, NULL), WEFT_EAGAIN);
    CHECK_STATUS(weft_popen_wait(p, 0, &code), WEFT_ETIMEDOUT);
    CHECK_OK(weft_popen_communicate(p, NULL, 0, NULL, NULL, NULL, NULL, weft_test_long()));
    CHECK_OK(weft_popen_poll(p, &code));
    CHECK_EQ_INT(code, 7);
    weft_popen_release(p);

    /* A child that ends by itself is seen by poll alone. */
    child_argv(argv, 8, "exit_with", "3", NULL);
    p = start(argv, NULL);
    {
        double t0 = weft_monotonic();
        int rc;

        while ((rc = weft_popen_poll(p, &code)) == WEFT_EAGAIN) {
            CHECK_LT_DBL(weft_monotonic() - t0, weft_test_long());
            weft_sleep(0.002);
        }
        CHECK_OK(rc);
    }
    CHECK_EQ_INT(code, 3);
    weft_popen_release(p);
}

WEFT_TEST(popen_wait_timeout_then_kill)
{
    const char *argv[8];
    weft_popen *p;
    weft_popen_opts opts = {0};
    double t0;
    int code = -12345;

    opts.out = WEFT_STDIO_NULL;
    opts.err = WEFT_STDIO_NULL;
    child_argv(argv, 8, "sleep_long", NULL);
    p = start(argv, &opts);
    t0 = weft_monotonic();
    CHECK_STATUS(weft_popen_wait(p, 0.3, &code), WEFT_ETIMEDOUT);
    CHECK_ELAPSED(t0, 0.3);
    CHECK_EQ_INT(code, -12345);
    CHECK_STATUS(weft_popen_wait(p, 0, &code), WEFT_ETIMEDOUT);
    CHECK_STATUS(weft_popen_poll(p, &code), WEFT_EAGAIN);
    CHECK_OK(weft_popen_kill(p));
    t0 = weft_monotonic();
    CHECK_OK(weft_popen_wait(p, weft_test_long(), &code));
    CHECK_LT_DBL(weft_monotonic() - t0, weft_test_slack()); /* not the 30 s sleep */
    CHECK_EQ_INT(code, KILLED_CODE);
    weft_popen_release(p);
}

WEFT_TEST(popen_terminate_running_child)
{
    const char *argv[8];
    weft_popen *p;
    weft_popen_opts opts = {0};
    int code = -12345;

    opts.out = WEFT_STDIO_NULL;
    opts.err = WEFT_STDIO_NULL;
    child_argv(argv, 8, "sleep_long", NULL);
    p = start(argv, &opts);
    CHECK_OK(weft_popen_terminate(p));
    CHECK_OK(weft_popen_wait(p, weft_test_long(), &code));
    CHECK_EQ_INT(code, TERMINATED_CODE);
    weft_popen_release(p);
}

WEFT_TEST(popen_signal_after_reap_does_nothing)
{
    const char *argv[8];
    weft_popen *p;
    int code = -12345;

    child_argv(argv, 8, "exit_with", "5", NULL);
    p = start(argv, NULL);
    CHECK_OK(weft_popen_wait(p, weft_test_long(), &code));
    CHECK_EQ_INT(code, 5);
    /* Reaped: the pid may belong to another process by now; nothing is
     * sent, and the status stays. */
    CHECK_OK(weft_popen_terminate(p));
    CHECK_OK(weft_popen_kill(p));
    CHECK_OK(weft_popen_kill(p));
    code = -12345;
    CHECK_OK(weft_popen_wait(p, 0, &code));
    CHECK_EQ_INT(code, 5);
    code = -12345;
    CHECK_OK(weft_popen_poll(p, &code));
    CHECK_EQ_INT(code, 5);
    weft_popen_release(p);
}

static void *wait_for_child(void *arg)
{
    int code = -12345;

    CHECK_OK(weft_popen_wait((weft_popen *)arg, weft_test_long(), &code));
    return (void *)(intptr_t)code;
}

WEFT_TEST(popen_wait_from_several_threads)
{
    enum { THREADS = 4 };
    weft_thread *threads[THREADS];
    const char *argv[8];
    weft_popen *p;
    weft_popen_opts opts = {0};
    int i;

    opts.out = WEFT_STDIO_NULL;
    opts.err = WEFT_STDIO_NULL;
    child_argv(argv, 8, "sleep_long", NULL);
    p = start(argv, &opts);
    weft_test_start_all(threads, THREADS, wait_for_child, p);
    weft_test_settle(); /* most likely all blocked in the wait by now */
    CHECK_OK(weft_popen_kill(p));
    for (i = 0; i < THREADS; i++)
        CHECK_EQ_INT((intptr_t)weft_test_join(threads[i]), KILLED_CODE);
    weft_popen_release(p);
}

/* ---- Programs that cannot run -------------------------------------------------------- */

/* qemu-user runs posix_spawn's CLONE_VFORK child as a plain fork (the
 * child cannot share the emulator's memory), so an exec or chdir that
 * fails in the child never reaches posix_spawn's return: the parent sees
 * a child that exits with 127 instead. Under qemu-user, a case that checks
 * such a failure stops there, skipped. */
static void skip_child_failure_under_qemu(void)
{
    if (weft_test_under_qemu_user())
        weft_test_skip("qemu-user runs posix_spawn's CLONE_VFORK child as a plain fork: "
                       "an exec or chdir failure in the child cannot reach the parent");
}

WEFT_TEST(popen_missing_program_enoent)
{
    static const char *const names[] = {
#ifdef _WIN32
        "C:\\weft-no-such-dir\\weft-no-such-program.exe",
        ".\\weft-no-such-program.exe",
#else
        "/weft-no-such-dir/weft-no-such-program",
        "./weft-no-such-program",
#endif
        "weft-no-such-program", /* a bare name: the PATH search finds nothing */
    };
    size_t i;

    skip_child_failure_under_qemu();
    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *argv[] = {names[i], "arg", NULL};
        weft_popen *p = NULL;
        int code = -12345;

        CHECK_STATUS(weft_popen_start(&p, argv, NULL), WEFT_ENOENT);
        CHECK_EQ_PTR(p, NULL);
        /* run passes start's status through, and runs nothing. */
        CHECK_STATUS(weft_run(argv, NULL, weft_test_long(), &code, NULL, NULL, NULL, NULL),
                     WEFT_ENOENT);
        CHECK_EQ_INT(code, -12345);
    }
}

WEFT_TEST(popen_not_executable_eos)
{
    char name[128], path[160];
    weft_popen *p = NULL;
    int rc;

#ifdef _WIN32
    /* Not a program, whatever its name says: Windows cannot run it. */
    temp_name(name, sizeof name, "noexec", ".exe");
    snprintf(path, sizeof path, ".\\%s", name);
    write_file(name, "this is not a program\r\n");
#else
    temp_name(name, sizeof name, "noexec", "");
    snprintf(path, sizeof path, "./%s", name);
    write_file(name, "#!/bin/sh\nexit 0\n");
    CHECK(chmod(name, 0644) == 0); /* no execute bit for anyone */
#endif
    {
        const char *argv[] = {path, NULL};

        rc = weft_popen_start(&p, argv, NULL);
        remove(name);
        skip_child_failure_under_qemu();
        CHECK_STATUS(rc, WEFT_EOS);
        CHECK_EQ_PTR(p, NULL);
#ifndef _WIN32
        CHECK_EQ_INT(weft_last_os_error(), EACCES);
#endif
    }
}

/* A bare name is looked for on PATH only, never in the current directory,
 * even where PATH has empty elements (which exec would read as "."). */
WEFT_TEST(popen_bare_name_not_from_cwd)
{
    char name[128], path[160];
    int code = -12345;

#ifdef _WIN32
    char file[160], env_path[] = "PATH=C:\\weft-no-such-dir;;", sysroot[300];
    const char *env[] = {env_path, NULL, NULL};
    const char *root = getenv("SystemRoot");

    if (root) {
        snprintf(sysroot, sizeof sysroot, "SystemRoot=%s", root);
        env[1] = sysroot;
    }
    temp_name(name, sizeof name, "cwd_probe", "");
    snprintf(file, sizeof file, "%s.bat", name);
    snprintf(path, sizeof path, ".\\%s", file);
    write_file(file, "@exit /b 0\r\n");
#else
    char env_path[] = "PATH=/weft-no-such-dir::/bin:";
    const char *env[] = {env_path, NULL};
    const char *file = name;

    temp_name(name, sizeof name, "cwd_probe", "");
    snprintf(path, sizeof path, "./%s", name);
    write_file(name, "#!/bin/sh\nexit 0\n");
    CHECK(chmod(name, 0755) == 0);
#endif
    {
        const char *parent_path = getenv("PATH");
        char *saved_path = parent_path ? strdup_checked(parent_path) : NULL;
        weft_popen_opts opts = {0};
        const char *by_path[] = {path, NULL};
        const char *bare[] = {name, NULL};
        const char *bare_ext[] = {file, NULL};
        int rc_path, rc_bare, rc_bare_ext, rc_parent_path;

        /* The file runs when named by a path: what follows is no accident. */
        opts.out = WEFT_STDIO_NULL;
        rc_path = weft_run(by_path, &opts, weft_test_long(), &code, NULL, NULL, NULL, NULL);
        opts.env = env;
        rc_bare = weft_run(bare, &opts, weft_test_long(), NULL, NULL, NULL, NULL, NULL);
        rc_bare_ext = weft_run(bare_ext, &opts, weft_test_long(), NULL, NULL, NULL, NULL, NULL);
        /* Without env: the parent's PATH, here with empty elements too. */
        opts.env = NULL;
        set_parent_path(env_path + 5);
        rc_parent_path = weft_run(bare, &opts, weft_test_long(), NULL, NULL, NULL, NULL, NULL);
        set_parent_path(saved_path);
        free(saved_path);
        remove(file);
        CHECK_OK(rc_path);
        CHECK_EQ_INT(code, 0);
        skip_child_failure_under_qemu();
        CHECK_STATUS(rc_bare, WEFT_ENOENT);
        CHECK_STATUS(rc_bare_ext, WEFT_ENOENT);
        CHECK_STATUS(rc_parent_path, WEFT_ENOENT);
    }
}

/* ---- communicate ------------------------------------------------------------------------ */

WEFT_TEST_TIMEOUT(popen_communicate_8mib_through_cat, 120)
{
    weft_popen *p;
    unsigned char *input = malloc(BIG);
    char *out = NULL, *err = NULL;
    size_t out_len = 0, err_len = 99;
    int code = -12345;

    CHECK(input != NULL);
    p = start_cat(input, BIG);
    /* Both pipes fill long before 8 MiB: a communicate that wrote all the
     * input before reading would deadlock here. */
    CHECK_OK(weft_popen_communicate(p, input, BIG, &out, &out_len, &err, &err_len,
                                    4 * weft_test_long()));
    CHECK_EQ_UINT(out_len, BIG);
    CHECK(out != NULL);
    CHECK(memcmp(out, input, BIG) == 0);
    CHECK_EQ_INT(out[out_len], '\0'); /* NUL-terminated */
    CHECK_EQ_UINT(err_len, 0);
    CHECK(err == NULL || err[0] == '\0');
    CHECK_OK(weft_popen_wait(p, 0, &code));
    CHECK_EQ_INT(code, 0);
    weft_free(out);
    weft_free(err);
    free(input);
    weft_popen_release(p);
}

WEFT_TEST_TIMEOUT(popen_communicate_8mib_on_stdout_and_stderr, 120)
{
    const char *argv[8];
    char size[32];
    weft_popen *p;
    weft_popen_opts opts = {0};
    char *out = NULL, *err = NULL;
    size_t out_len = 0, err_len = 0, i;
    int code = -12345;

    snprintf(size, sizeof size, "%d", BIG);
    opts.in = WEFT_STDIO_NULL;
    opts.out = WEFT_STDIO_PIPE;
    opts.err = WEFT_STDIO_PIPE;
    child_argv(argv, 8, "write_both", size, NULL);
    p = start(argv, &opts);
    CHECK_OK(weft_popen_communicate(p, NULL, 0, &out, &out_len, &err, &err_len,
                                    4 * weft_test_long()));
    CHECK_EQ_UINT(out_len, BIG);
    CHECK_EQ_UINT(err_len, BIG);
    for (i = 0; i < BIG; i++) {
        if ((unsigned char)out[i] != weft_test_pattern(i) ||
            (unsigned char)err[i] != (weft_test_pattern(i) ^ 0x5a))
            weft_test_fail(__FILE__, __LINE__, "byte %lu differs", (unsigned long)i);
    }
    CHECK_OK(weft_popen_wait(p, 0, &code));
    CHECK_EQ_INT(code, 0);
    weft_free(out);
    weft_free(err);
    weft_popen_release(p);
}

/* A child that stops reading (here: never reads) is not an error of
 * communicate (Python ignores the broken pipe too). */
WEFT_TEST(popen_communicate_input_to_child_that_does_not_read)
{
    const char *argv[8];
    weft_popen *p;
    weft_popen_opts opts = {0};
    char *input = calloc(1, BIG);
    int code = -12345;

    CHECK(input != NULL);
    opts.in = WEFT_STDIO_PIPE;
    child_argv(argv, 8, "exit_with", "4", NULL);
    p = start(argv, &opts);
    CHECK_OK(weft_popen_communicate(p, input, BIG, NULL, NULL, NULL, NULL, weft_test_long()));
    CHECK_OK(weft_popen_wait(p, 0, &code));
    CHECK_EQ_INT(code, 4);
    free(input);
    weft_popen_release(p);
}

WEFT_TEST(popen_communicate_timeout_then_collect_the_rest)
{
    const char *argv[8];
    char marker[128];
    weft_popen *p;
    weft_popen_opts opts = {0};
    char *out = NULL, *err = NULL;
    size_t out_len = 0, err_len = 0;
    double t0;
    int code = -12345;

    temp_name(marker, sizeof marker, "marker", ".tmp");
    remove(marker);
    opts.out = WEFT_STDIO_PIPE;
    opts.err = WEFT_STDIO_PIPE;
    child_argv(argv, 8, "partial_then_sleep", marker, NULL);
    p = start(argv, &opts);
    wait_for_marker(marker);

    t0 = weft_monotonic();
    CHECK_STATUS(weft_popen_communicate(p, NULL, 0, &out, &out_len, &err, &err_len, 0.3),
                 WEFT_ETIMEDOUT);
    CHECK_ELAPSED(t0, 0.3);
    weft_free(out);
    weft_free(err);
    out = err = NULL;
    CHECK_STATUS(weft_popen_poll(p, &code), WEFT_EAGAIN); /* it runs on */
    /* A second timeout keeps everything too. */
    CHECK_STATUS(weft_popen_communicate(p, NULL, 0, &out, &out_len, &err, &err_len, 0),
                 WEFT_ETIMEDOUT);
    weft_free(out);
    weft_free(err);
    out = err = NULL;

    CHECK_OK(weft_popen_kill(p));
    CHECK_OK(weft_popen_communicate(p, NULL, 0, &out, &out_len, &err, &err_len,
                                    weft_test_long()));
    CHECK_EQ_STR(out, "partial output\n");
    CHECK_EQ_UINT(out_len, strlen("partial output\n"));
    CHECK_EQ_STR(err, "partial error\n");
    CHECK_EQ_UINT(err_len, strlen("partial error\n"));
    CHECK_OK(weft_popen_wait(p, 0, &code));
    CHECK_EQ_INT(code, KILLED_CODE);
    weft_free(out);
    weft_free(err);
    weft_popen_release(p);
}

WEFT_TEST(popen_communicate_input_without_stdin_pipe_einval)
{
    static const weft_stdio not_piped[] = {WEFT_STDIO_NULL, WEFT_STDIO_INHERIT};
    const char *argv[8];
    size_t i;

    for (i = 0; i < 2; i++) {
        weft_popen *p;
        weft_popen_opts opts = {0};
        int code = -12345;

        opts.in = not_piped[i];
        child_argv(argv, 8, "exit_with", "0", NULL);
        p = start(argv, &opts);
        CHECK_STATUS(weft_popen_communicate(p, "x", 1, NULL, NULL, NULL, NULL, weft_test_long()),
                     WEFT_EINVAL);
        /* No input is fine. */
        CHECK_OK(weft_popen_communicate(p, NULL, 0, NULL, NULL, NULL, NULL, weft_test_long()));
        CHECK_OK(weft_popen_wait(p, 0, &code));
        CHECK_EQ_INT(code, 0);
        weft_popen_release(p);
    }
}

WEFT_TEST(popen_communicate_input_after_start_einval)
{
    const char *argv[8];
    char marker[128];
    weft_popen *p;
    weft_popen_opts opts = {0};
    char *out = NULL;
    size_t out_len = 0;

    temp_name(marker, sizeof marker, "marker", ".tmp");
    remove(marker);
    opts.in = WEFT_STDIO_PIPE;
    opts.out = WEFT_STDIO_PIPE;
    opts.err = WEFT_STDIO_NULL;
    child_argv(argv, 8, "partial_then_sleep", marker, NULL);
    p = start(argv, &opts);
    CHECK_STATUS(weft_popen_communicate(p, "abc", 3, NULL, NULL, NULL, NULL, 0.05),
                 WEFT_ETIMEDOUT);
    /* Communication has started: stdin belongs to it now. */
    CHECK_STATUS(weft_popen_communicate(p, "more", 4, NULL, NULL, NULL, NULL, 0.05),
                 WEFT_EINVAL);
    CHECK_STATUS(weft_popen_communicate(p, NULL, 0, NULL, NULL, NULL, NULL, 0.05),
                 WEFT_ETIMEDOUT);
    wait_for_marker(marker); /* its line is written: killing it loses nothing */
    CHECK_OK(weft_popen_kill(p));
    CHECK_OK(weft_popen_communicate(p, NULL, 0, &out, &out_len, NULL, NULL, weft_test_long()));
    CHECK_EQ_STR(out, "partial output\n");
    weft_free(out);
    weft_popen_release(p);
}

/* ---- Where the streams go ------------------------------------------------------------- */

WEFT_TEST(popen_stdout_devnull)
{
    const char *argv[8];
    weft_popen *p;
    weft_popen_opts opts = {0};
    char *out = (char *)"sentinel", *err = NULL;
    size_t out_len = 99, err_len = 0;
    int code = -12345;

    opts.out = WEFT_STDIO_NULL;
    opts.err = WEFT_STDIO_PIPE;
    child_argv(argv, 8, "say", "discarded", "kept", "6", NULL);
    p = start(argv, &opts);
    CHECK_OK(weft_popen_communicate(p, NULL, 0, &out, &out_len, &err, &err_len,
                                    weft_test_long()));
    CHECK_EQ_PTR(out, NULL); /* not piped: NULL and 0 */
    CHECK_EQ_UINT(out_len, 0);
    CHECK_EQ_STR(err, "kept");
    CHECK_OK(weft_popen_wait(p, 0, &code));
    CHECK_EQ_INT(code, 6);
    weft_free(err);
    weft_popen_release(p);

    /* stdin from the null device: the child reads an end of file at once. */
    opts.in = WEFT_STDIO_NULL;
    opts.out = WEFT_STDIO_PIPE;
    opts.err = WEFT_STDIO_INHERIT;
    child_argv(argv, 8, "cat", NULL);
    p = start(argv, &opts);
    CHECK_OK(weft_popen_communicate(p, NULL, 0, &out, &out_len, NULL, NULL, weft_test_long()));
    CHECK_EQ_UINT(out_len, 0);
    weft_free(out);
    CHECK_OK(weft_popen_wait(p, 0, &code));
    CHECK_EQ_INT(code, 0);
    weft_popen_release(p);
}

WEFT_TEST(popen_stderr_to_stdout)
{
    const char *argv[8];
    weft_popen *p;
    weft_popen_opts opts = {0};
    char *out = NULL, *err = (char *)"sentinel";
    size_t out_len = 0, err_len = 99;

    opts.out = WEFT_STDIO_PIPE;
    opts.err = WEFT_STDIO_STDOUT;
    child_argv(argv, 8, "say", "to stdout|", "to stderr", NULL);
    p = start(argv, &opts);
    CHECK_OK(weft_popen_communicate(p, NULL, 0, &out, &out_len, &err, &err_len,
                                    weft_test_long()));
    /* One pipe, in the order the child wrote (it flushed stdout first). */
    CHECK_EQ_STR(out, "to stdout|to stderr");
    CHECK_EQ_PTR(err, NULL);
    CHECK_EQ_UINT(err_len, 0);
    weft_free(out);
    weft_popen_release(p);
}

/* Windows: put "SystemRoot=<the parent's>" into *slot, since a child
 * given an environment without it may not start; elsewhere nothing. */
static void keep_system_root(const char **slot, char *buf, size_t cap)
{
#ifdef _WIN32
    const char *root = getenv("SystemRoot");

    if (root) {
        snprintf(buf, cap, "SystemRoot=%s", root);
        *slot = buf;
    }
#else
    (void)slot;
    (void)buf;
    (void)cap;
#endif
}

WEFT_TEST(popen_env)
{
    const char *argv[8];
    char *out = NULL;
    int code = -12345;
    weft_popen_opts opts = {0};
    char sysroot[300];
    const char *env[] = {"WEFT_K=a value", "WEFT_EMPTY=", NULL, NULL};

    keep_system_root(&env[2], sysroot, sizeof sysroot);
#ifdef _WIN32
    CHECK(SetEnvironmentVariableA("WEFT_PARENT_ONLY", "1"));
#else
    CHECK(setenv("WEFT_PARENT_ONLY", "1", 1) == 0);
#endif
    child_argv(argv, 8, "print_env", "WEFT_K", "WEFT_EMPTY", "WEFT_PARENT_ONLY", NULL);

    /* The given environment, and nothing else. */
    opts.env = env;
    CHECK_OK(weft_run(argv, &opts, weft_test_long(), &code, &out, NULL, NULL, NULL));
    CHECK_EQ_INT(code, 0);
    CHECK_EQ_STR(out, "WEFT_K=a value\nWEFT_EMPTY=\nWEFT_PARENT_ONLY unset\n");
    weft_free(out);

    /* No env: the parent's. */
    opts.env = NULL;
    CHECK_OK(weft_run(argv, &opts, weft_test_long(), &code, &out, NULL, NULL, NULL));
    CHECK_EQ_STR(out, "WEFT_K unset\nWEFT_EMPTY unset\nWEFT_PARENT_ONLY=1\n");
    weft_free(out);
}

/* POSIX: a bare name is searched on the PATH of the child's environment
 * when it has one, not on the parent's. */
WEFT_TEST(popen_env_path_used_for_search)
{
#ifdef _WIN32
    weft_test_skip("POSIX only (the Windows search is in popen_bare_name_not_from_cwd)");
#else
    const char *argv[] = {"sh", "-c", "printf '%s' \"$WEFT_K\"", NULL};
    const char *good[] = {"PATH=/bin:/usr/bin", "WEFT_K=found through env PATH", NULL};
    const char *bad[] = {"PATH=/weft-no-such-dir", "WEFT_K=x", NULL};
    const char *saved = getenv("PATH");
    char *parent_path = saved ? strdup_checked(saved) : NULL;
    weft_popen_opts opts = {0};
    char *out = NULL;
    int code = -12345, rc_good, rc_bad;

    /* The parent's PATH finds no sh: only the env's can. */
    set_parent_path("/weft-no-such-dir");
    opts.env = good;
    rc_good = weft_run(argv, &opts, weft_test_long(), &code, &out, NULL, NULL, NULL);
    /* The parent's PATH finds sh, the env's does not. */
    set_parent_path(parent_path);
    opts.env = bad;
    rc_bad = weft_run(argv, &opts, weft_test_long(), NULL, NULL, NULL, NULL, NULL);
    free(parent_path);
    CHECK_OK(rc_good);
    CHECK_EQ_INT(code, 0);
    CHECK_EQ_STR(out, "found through env PATH");
    weft_free(out);
    skip_child_failure_under_qemu();
    CHECK_STATUS(rc_bad, WEFT_ENOENT);
#endif
}

WEFT_TEST(popen_cwd)
{
    const char *argv[8];
    char name[128], parent[4096], want[4300], self[8300];
    weft_popen_opts opts = {0};
    char *out = NULL;
    int code = -12345, rc;

    snprintf(self, sizeof self, "%s", weft_test_self_path());
    temp_name(name, sizeof name, "cwd", ".dir");
    current_dir(parent, sizeof parent);
#ifdef _WIN32
    CHECK(_mkdir(name) == 0);
#else
    CHECK(mkdir(name, 0700) == 0);
#endif
    snprintf(want, sizeof want, "%s%c%s", parent, DIR_SEP, name);
    /* The program's path made absolute, so the new directory cannot
     * matter to finding it (a relative one is looked up from there on
     * POSIX, from the parent's directory on Windows). */
    child_argv(argv, 8, "print_cwd", NULL);
    if (!is_absolute(self)) {
        snprintf(self, sizeof self, "%s%c%s", parent, DIR_SEP, weft_test_self_path());
        argv[0] = self;
    }
    opts.cwd = name;
    rc = weft_run(argv, &opts, weft_test_long(), &code, &out, NULL, NULL, NULL);
#ifdef _WIN32
    _rmdir(name);
#else
    rmdir(name);
#endif
    CHECK_OK(rc);
    CHECK_EQ_INT(code, 0);
    CHECK_EQ_STR(out, want);
    weft_free(out);

    /* Without cwd: the parent's. */
    CHECK_OK(weft_run(argv, NULL, weft_test_long(), &code, &out, NULL, NULL, NULL));
    CHECK_EQ_STR(out, parent);
    weft_free(out);

    /* A directory that does not exist: the start fails, nothing runs. */
    skip_child_failure_under_qemu();
    {
        weft_popen *p = NULL;

        opts.cwd = "weft-no-such-directory";
        CHECK(weft_popen_start(&p, argv, &opts) != WEFT_OK);
        CHECK_EQ_PTR(p, NULL);
    }
}

WEFT_TEST(popen_new_process_group)
{
#ifdef _WIN32
    weft_test_skip("POSIX only (a process group is not visible to a Windows child)");
#else
    const char *argv[8];
    weft_popen_opts opts = {0};
    char *out = NULL;

    child_argv(argv, 8, "print_pgrp", NULL);
    CHECK_OK(weft_run(argv, &opts, weft_test_long(), NULL, &out, NULL, NULL, NULL));
    CHECK_EQ_STR(out, "member");
    weft_free(out);
    opts.new_process_group = true;
    CHECK_OK(weft_run(argv, &opts, weft_test_long(), NULL, &out, NULL, NULL, NULL));
    CHECK_EQ_STR(out, "leader");
    weft_free(out);
#endif
}

/* ---- weft_run ------------------------------------------------------------------------------ */

WEFT_TEST(popen_run_captures_and_exit_code)
{
    const char *argv[8];
    char *out = NULL, *err = NULL;
    size_t out_len = 0, err_len = 0;
    int code = -12345;

    child_argv(argv, 8, "say", "out text", "err text", "9", NULL);
    CHECK_OK(weft_run(argv, NULL, weft_test_long(), &code, &out, &out_len, &err, &err_len));
    CHECK_EQ_INT(code, 9);
    CHECK_EQ_STR(out, "out text");
    CHECK_EQ_UINT(out_len, 8);
    CHECK_EQ_STR(err, "err text");
    CHECK_EQ_UINT(err_len, 8);
    weft_free(out);
    weft_free(err);

    /* Only stdout captured; exit_code may be NULL. */
    {
        weft_popen_opts opts = {0};

        opts.err = WEFT_STDIO_NULL;
        CHECK_OK(weft_run(argv, &opts, WEFT_FOREVER, NULL, &out, NULL, NULL, NULL));
        CHECK_EQ_STR(out, "out text");
        weft_free(out);
    }
}

WEFT_TEST(popen_run_timeout_kills_and_reaps)
{
    const char *argv[8];
    char *out = NULL;
    size_t out_len = 0;
    weft_popen_opts opts = {0};
    double t0;
    int code = -12345;

    opts.err = WEFT_STDIO_NULL;
    child_argv(argv, 8, "sleep_long", NULL);
    t0 = weft_monotonic();
    CHECK_STATUS(weft_run(argv, &opts, 0.3, &code, &out, &out_len, NULL, NULL), WEFT_ETIMEDOUT);
    CHECK_ELAPSED(t0, 0.3); /* the kill and the reap take no time to speak of */
    CHECK_EQ_INT(code, KILLED_CODE); /* reaped: the code is known */
    CHECK_EQ_UINT(out_len, 0);
    weft_free(out);
}

/* What the child wrote before the timeout comes back with WEFT_ETIMEDOUT. */
WEFT_TEST(popen_run_timeout_keeps_partial_output)
{
    const char *argv[8];
    char *out = NULL, *err = NULL;
    size_t out_len = 0, err_len = 0;
    double t0;
    int code = -12345;

    child_argv(argv, 8, "partial_then_sleep", NULL);
    t0 = weft_monotonic();
    /* 2 s: time enough for the child to start and write its lines. */
    CHECK_STATUS(weft_run(argv, NULL, 2.0, &code, &out, &out_len, &err, &err_len),
                 WEFT_ETIMEDOUT);
    CHECK_ELAPSED(t0, 2.0);
    CHECK_EQ_INT(code, KILLED_CODE);
    CHECK_EQ_STR(out, "partial output\n");
    CHECK_EQ_UINT(out_len, strlen("partial output\n"));
    CHECK_EQ_STR(err, "partial error\n");
    weft_free(out);
    weft_free(err);
}

/* ---- When no thread can start -------------------------------------------------------------- */

/* communicate's threads cannot start when the address space is capped
 * (RLIMIT_AS) below what a thread's stack needs: a child mode of this
 * executable caps its own, so the rest of the case is not touched. Linux
 * only (the cap is set from /proc/self/statm); skipped under the
 * sanitizers, whose shadow memory needs an uncapped address space, and
 * under qemu-user, which ignores a program's RLIMIT_AS (it would cap qemu
 * itself). */

#ifndef _WIN32
/* The address space this process maps now; 0 where that cannot be told. */
static size_t mapped_now(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long pages = 0;
    long page = sysconf(_SC_PAGESIZE);
    bool ok = f != NULL && fscanf(f, "%lu", &pages) == 1;

    if (f != NULL)
        fclose(f);
    return ok && page > 0 ? (size_t)pages * (size_t)page : 0;
}

/* Cap this process's address space `room` bytes above what it maps now;
 * the previous limits go to *saved, for setrlimit() to restore. False
 * where the cap cannot be set. */
static bool cap_address_space(size_t room, struct rlimit *saved)
{
    /* The sanitizers reserve terabytes of address space: under them a cap
     * on it cannot be used to make thread creation fail. */
    size_t now = WEFT_TEST_ASAN || WEFT_TEST_TSAN || weft_test_under_qemu_user() ? 0 : mapped_now();
    struct rlimit cap;

    if (now == 0 || getrlimit(RLIMIT_AS, saved) != 0)
        return false;
    cap.rlim_cur = (rlim_t)(now + room);
    cap.rlim_max = saved->rlim_max;
    if (saved->rlim_max != RLIM_INFINITY && cap.rlim_cur > saved->rlim_max)
        return false;
    return setrlimit(RLIMIT_AS, &cap) == 0;
}

/* The default stack of a new thread (RLIMIT_STACK, as glibc takes it);
 * 0 when unlimited or too large to cap around. */
static size_t default_stack(void)
{
    struct rlimit stack;

    if (getrlimit(RLIMIT_STACK, &stack) != 0 || stack.rlim_cur == RLIM_INFINITY ||
        stack.rlim_cur > 64 * (rlim_t)MIB)
        return 0;
    return (size_t)stack.rlim_cur;
}
#endif

/* weft_run of a child that writes 200 kB, with no thread to read them:
 * it must come back within its timeout (not wait for the child, which
 * waits for a reader), with the child killed and reaped. */
WEFT_CHILD_MODE(run_without_threads)
{
#ifdef _WIN32
    return WEFT_TEST_SKIP_CODE;
#else
    const char *argv[8];
    struct rlimit saved;
    char *out = NULL, *err = NULL;
    size_t out_len = 0, err_len = 0;
    double t0, elapsed;
    int rc, code = -12345;

    child_argv(argv, 8, "write_both", "200000", NULL);
    if (!cap_address_space(MIB, &saved))
        return WEFT_TEST_SKIP_CODE;
    t0 = weft_monotonic();
    rc = weft_run(argv, NULL, 2.0, &code, &out, &out_len, &err, &err_len);
    elapsed = weft_monotonic() - t0;
    CHECK(setrlimit(RLIMIT_AS, &saved) == 0);
    printf("weft_run: %s after %.3f s: %s\n", weft_strerror(rc), elapsed,
           weft_last_error_message());
    CHECK(rc == WEFT_EAGAIN || rc == WEFT_ETIMEDOUT);
    CHECK_LT_DBL(elapsed, 2.0 + weft_test_slack());
    CHECK(weft_last_error_message()[0] != '\0');
    CHECK_EQ_INT(code, KILLED_CODE);
    weft_free(out);
    weft_free(err);
    return 0;
#endif
}

#ifndef _WIN32
/* A communicate with `room` bytes of address space to spare fails for
 * want of a thread, and leaves the popen as it was: the retry hands cat
 * all its input and gets all of it back. */
static void communicate_again(size_t room)
{
    enum { BYTES = 200 * 1000 };
    static unsigned char input[BYTES];
    struct rlimit saved;
    weft_popen *p = start_cat(input, BYTES);
    char *out = NULL, *err = NULL;
    size_t out_len = 1, err_len = 1;
    int rc, code = -12345;

    CHECK(cap_address_space(room, &saved));
    rc = weft_popen_communicate(p, input, BYTES, &out, &out_len, &err, &err_len,
                                weft_test_long());
    CHECK(setrlimit(RLIMIT_AS, &saved) == 0);
    printf("room %zu MiB: %s: %s\n", room / MIB, weft_strerror(rc), weft_last_error_message());
    CHECK_STATUS(rc, WEFT_EAGAIN);
    CHECK(weft_last_error_message()[0] != '\0');
    CHECK(out == NULL && out_len == 0 && err == NULL && err_len == 0);
    CHECK_STATUS(weft_popen_poll(p, NULL), WEFT_EAGAIN); /* cat waits for its input */

    CHECK_OK(weft_popen_communicate(p, input, BYTES, &out, &out_len, &err, &err_len,
                                    weft_test_long()));
    CHECK_EQ_UINT(out_len, BYTES);
    CHECK(memcmp(out, input, BYTES) == 0);
    CHECK_EQ_UINT(err_len, 0);
    CHECK_OK(weft_popen_wait(p, 0, &code));
    CHECK_EQ_INT(code, 0);
    weft_free(out);
    weft_free(err);
    weft_popen_release(p);
}
#endif

/* args[0] "none": room for no thread; "one": for one thread's stack but
 * not two, so the thread that did start must be undone. Each in a process
 * of its own, where no thread ran before: glibc keeps the stacks of ended
 * threads for new ones, which a cap then cannot stop. */
WEFT_CHILD_MODE(communicate_without_threads)
{
#ifdef _WIN32
    return WEFT_TEST_SKIP_CODE;
#else
    int count;
    char **args = weft_test_child_args(&count);
    struct rlimit probe;
    size_t stack = default_stack();

    CHECK(count == 1);
    if (!cap_address_space(0, &probe))
        return WEFT_TEST_SKIP_CODE;
    CHECK(setrlimit(RLIMIT_AS, &probe) == 0);
    if (strcmp(args[0], "none") == 0)
        communicate_again(MIB);
    else if (stack != 0)
        communicate_again(stack + stack / 2);
    else
        return WEFT_TEST_SKIP_CODE;
    return 0;
#endif
}

/* Run child mode `mode` with argument `arg` (NULL: none) and inherited
 * stdio; fail when it does not end within weft_test_long() (it is killed
 * then), skip when it skipped. */
static void run_mode_bounded(const char *mode, const char *arg)
{
    const char *argv[8];
    weft_popen *p;
    int rc, code = -12345;

    child_argv(argv, 8, mode, arg, NULL);
    p = start(argv, NULL);
    rc = weft_popen_wait(p, weft_test_long(), &code);
    if (rc == WEFT_ETIMEDOUT) {
        CHECK_OK(weft_popen_kill(p));
        CHECK_OK(weft_popen_wait(p, WEFT_FOREVER, NULL));
    }
    weft_popen_release(p);
    CHECK_OK(rc); /* it did not hang */
    if (code == WEFT_TEST_SKIP_CODE)
        weft_test_skip("no address-space cap here (Windows, a sanitizer, qemu-user, no /proc)");
    CHECK_EQ_INT(code, 0);
}

WEFT_TEST(popen_run_returns_when_no_thread_can_start)
{
    run_mode_bounded("run_without_threads", NULL);
}

WEFT_TEST(popen_communicate_failed_for_want_of_threads_then_retried)
{
    run_mode_bounded("communicate_without_threads", "none");
    run_mode_bounded("communicate_without_threads", "one");
}

/* ---- Descriptors and handles ------------------------------------------------------------- */

#ifdef _WIN32
/* argv = {self, "--child", "fd_count", the values of n new inheritable
 * handles of NUL (in handles[], as text in values[]), NULL}: the child
 * says how many of them it has. */
static void fd_count_of_inheritable(const char **argv, HANDLE *handles, char (*values)[24], int n)
{
    SECURITY_ATTRIBUTES sa = {(DWORD)sizeof sa, NULL, TRUE}; /* inheritable */
    int i;

    argv[0] = weft_test_self_path();
    argv[1] = "--child";
    argv[2] = "fd_count";
    for (i = 0; i < n; i++) {
        handles[i] = CreateFileA("NUL", GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, &sa,
                                 OPEN_EXISTING, 0, NULL);
        CHECK(handles[i] != INVALID_HANDLE_VALUE);
        snprintf(values[i], sizeof values[i], "%llu", (unsigned long long)(uintptr_t)handles[i]);
        argv[3 + i] = values[i];
    }
    argv[3 + n] = NULL;
}
#endif

WEFT_TEST(popen_no_descriptor_leaks_into_child)
{
    enum { EXTRA = 100 };
    const char *argv[EXTRA + 8];
    char values[EXTRA][24];
    weft_popen_opts opts = {0};
    char *out = NULL;
    int code = -12345, i;

    opts.in = WEFT_STDIO_NULL;
#ifdef _WIN32
    {
        HANDLE handles[EXTRA];

        fd_count_of_inheritable(argv, handles, values, EXTRA);
        CHECK_OK(weft_run(argv, &opts, weft_test_long(), &code, &out, NULL, NULL, NULL));
        for (i = 0; i < EXTRA; i++)
            CloseHandle(handles[i]);
        CHECK_EQ_INT(code, 0);
        /* Only the three std handles are inherited, none of ours. */
        CHECK_EQ_STR(out, "0");
    }
#else
    {
        int fds[EXTRA], pipe_fds[2];

        (void)values;
        for (i = 0; i < EXTRA; i++) {
            fds[i] = open("/dev/null", O_RDONLY); /* no O_CLOEXEC: inheritable */
            CHECK_GE_INT(fds[i], 3);
        }
        CHECK(pipe(pipe_fds) == 0); /* no O_CLOEXEC either */
        child_argv(argv, EXTRA + 8, "fd_count", NULL);
        CHECK_OK(weft_run(argv, &opts, weft_test_long(), &code, &out, NULL, NULL, NULL));
        for (i = 0; i < EXTRA; i++)
            close(fds[i]);
        close(pipe_fds[0]);
        close(pipe_fds[1]);
        CHECK_EQ_INT(code, 0);
        CHECK_EQ_STR(out, "0 1 2");
    }
#endif
    weft_free(out);
}

/* A released child that still runs is reaped later (at the next start or
 * release): no zombie stays. */
WEFT_TEST(popen_release_running_child_no_zombie)
{
    const char *argv[8];
    weft_popen *p;
    weft_popen_opts opts = {0};
    int64_t pid;

    /* cat ends when its stdin does, which the release closes. */
    opts.in = WEFT_STDIO_PIPE;
    opts.out = WEFT_STDIO_NULL;
    child_argv(argv, 8, "cat", NULL);
    p = start(argv, &opts);
    pid = weft_popen_pid(p);
    CHECK_STATUS(weft_popen_poll(p, NULL), WEFT_EAGAIN);
    weft_popen_release(p);
#ifdef _WIN32
    (void)pid; /* Windows has no zombies; the release closed the handle */
#else
    {
        double t0 = weft_monotonic();

        /* Each start sweeps the released children that have ended. A
         * zombie still answers kill(pid, 0); a reaped child does not. */
        for (;;) {
            int code = -12345;

            child_argv(argv, 8, "exit_with", "0", NULL);
            p = start(argv, NULL);
            CHECK_OK(weft_popen_wait(p, weft_test_long(), &code));
            weft_popen_release(p);
            if (kill((pid_t)pid, 0) != 0 && errno == ESRCH)
                break;
            CHECK_LT_DBL(weft_monotonic() - t0, weft_test_long());
            weft_sleep(0.01);
        }
    }
#endif
}

/* Released with the communicate threads still running (after a timeout):
 * they finish on their own and free everything (the ASan build checks). */
WEFT_TEST(popen_release_during_communication)
{
    const char *argv[8];
    weft_popen *p;
    weft_popen_opts opts = {0};

    opts.in = WEFT_STDIO_PIPE;
    opts.out = WEFT_STDIO_PIPE;
    opts.err = WEFT_STDIO_PIPE;
    child_argv(argv, 8, "partial_then_sleep", NULL);
    p = start(argv, &opts);
    CHECK_STATUS(weft_popen_communicate(p, "input", 5, NULL, NULL, NULL, NULL, 0.05),
                 WEFT_ETIMEDOUT);
    CHECK_OK(weft_popen_kill(p));
    weft_popen_release(p);
}

/* ---- Arguments ---------------------------------------------------------------------------- */

/* Pieces arguments are made of: what Windows quoting gets wrong (spaces,
 * tabs, quotes, backslashes before quotes and at the end), shell
 * metacharacters (which no shell sees here), and non-ASCII UTF-8. */
static const char *const pieces[] = {
    "a", "b", "Z", "0", "-", "=", " ", "  ", "\t", "\"", "\"\"", "\\", "\\\\", "\\\"",
    "'", "*", "?", "$HOME", "&", "|", "%PATH%", "^", "<", ">", "(", ")", ";", "!",
    "\xc3\xa9",         /* é */
    "\xe6\xbc\xa2",     /* 漢 */
    "\xf0\x9f\x98\x80", /* 😀, outside the BMP: a surrogate pair in UTF-16 */
};

enum { MAX_ARGS = 6, MAX_ARG = 64, BATCH = 8 };

typedef struct vector {
    int argc;
    char args[MAX_ARGS][MAX_ARG];
} vector;

static uint32_t rng(uint64_t *state)
{
    *state = *state * 6364136223846793005u + 1442695040888963407u;
    return (uint32_t)(*state >> 33);
}

static void random_vector(vector *v, uint64_t *state)
{
    int i, k, n;

    v->argc = (int)(rng(state) % (MAX_ARGS + 1));
    for (i = 0; i < v->argc; i++) {
        char *a = v->args[i];

        a[0] = '\0';
        /* 0 pieces (an empty argument) now and then. */
        n = (int)(rng(state) % 8);
        for (k = 0; k < n; k++)
            strcat(a, pieces[rng(state) % (sizeof pieces / sizeof pieces[0])]);
        /* Trailing backslashes, which the closing quote makes special. */
        if (rng(state) % 4 == 0) {
            n = 1 + (int)(rng(state) % 3);
            for (k = 0; k < n; k++)
                strcat(a, "\\");
        }
    }
}

/* The vectors every run tries first. */
static const char *const fixed[][4] = {
    {"", NULL},
    {"", "", NULL},
    {"\"", NULL},
    {"\\", NULL},
    {"a\\", "a b\\", "a b\\\\", NULL},
    {"\\\"", "\\\\\"", "a\\\\\\\"b", NULL},
    {" ", "\t", " \t ", NULL},
    {"\"a b\"", "a\"b\"c", "\"\"\"", NULL},
    {"\xc3\xa9\xe6\xbc\xa2\xf0\x9f\x98\x80", "x \xf0\x9f\x98\x80 y", NULL},
    {"--child", "echo_argv", "-", NULL},
};

/* Print a vector with C escapes, for a failure message. */
static void show_vector(const vector *v)
{
    int i;
    const unsigned char *c;

    fprintf(stderr, "argument vector (%d):", v->argc);
    for (i = 0; i < v->argc; i++) {
        fputs(" \"", stderr);
        for (c = (const unsigned char *)v->args[i]; *c; c++) {
            if (*c == '"' || *c == '\\')
                fprintf(stderr, "\\%c", *c);
            else if (*c < 0x20 || *c >= 0x7f)
                fprintf(stderr, "\\x%02x", *c);
            else
                fputc(*c, stderr);
        }
        fputc('"', stderr);
    }
    fputc('\n', stderr);
}

/* Start a batch of children, then collect each one's echo and compare. */
static void round_trip(const vector *v, int n)
{
    const char *argv[BATCH][MAX_ARGS + 4];
    weft_popen *p[BATCH];
    weft_popen_opts opts = {0};
    int b, i;

    opts.in = WEFT_STDIO_NULL;
    opts.out = WEFT_STDIO_PIPE;
    for (b = 0; b < n; b++) {
        int rc;

        argv[b][0] = weft_test_self_path();
        argv[b][1] = "--child";
        argv[b][2] = "echo_argv";
        for (i = 0; i < v[b].argc; i++)
            argv[b][3 + i] = v[b].args[i];
        argv[b][3 + v[b].argc] = NULL;
        rc = popen_start(&p[b], argv[b], &opts);
        if (rc != WEFT_OK) {
            show_vector(&v[b]);
            weft_test_fail(__FILE__, __LINE__, "weft_popen_start: %s (OS error %d)",
                           weft_strerror(rc), rc == WEFT_EOS ? weft_last_os_error() : 0);
        }
    }
    for (b = 0; b < n; b++) {
        char want[MAX_ARGS * MAX_ARG], *out = NULL;
        size_t want_len = 0, out_len = 0;
        int code = -12345, rc;

        for (i = 0; i < v[b].argc; i++) {
            size_t len = strlen(v[b].args[i]) + 1;

            memcpy(want + want_len, v[b].args[i], len);
            want_len += len;
        }
        rc = weft_popen_communicate(p[b], NULL, 0, &out, &out_len, NULL, NULL, weft_test_long());
        if (rc == WEFT_OK)
            rc = weft_popen_wait(p[b], 0, &code);
        if (rc != WEFT_OK || code != 0 || out_len != want_len ||
            (want_len > 0 && memcmp(out, want, want_len) != 0)) {
            show_vector(&v[b]);
            fprintf(stderr, "echoed %lu bytes:", (unsigned long)out_len);
            for (i = 0; i < (int)out_len; i++)
                fprintf(stderr, " %02x", (unsigned char)out[i]);
            fputc('\n', stderr);
            weft_test_fail(__FILE__, __LINE__, "no round trip: %s, exit code %d",
                           weft_strerror(rc), code);
        }
        weft_free(out);
        weft_popen_release(p[b]);
    }
}

WEFT_TEST_TIMEOUT(popen_argv_round_trip_random, 120)
{
    vector batch[BATCH];
    uint64_t state = 0x5eed0f3a11ce5ULL;
    /* 1,000 vectors natively; fewer where WEFT_TEST_STRESS_SCALE says so:
     * an emulator (Wine took 80-143 s for the 1,000) does the fixed
     * vectors and a share of the random ones, in the same time bound. */
    long total = weft_test_iterations(1000), done = 0;
    size_t f = 0;
    int n;

    if (total < (long)(sizeof fixed / sizeof fixed[0]))
        total = (long)(sizeof fixed / sizeof fixed[0]);

    while (done < total) {
        for (n = 0; n < BATCH && done < total; n++, done++) {
            vector *v = &batch[n];

            if (f < sizeof fixed / sizeof fixed[0]) {
                for (v->argc = 0; fixed[f][v->argc] != NULL; v->argc++)
                    strcpy(v->args[v->argc], fixed[f][v->argc]);
                f++;
            } else {
                random_vector(v, &state);
            }
        }
        round_trip(batch, n);
    }
}

/* Windows: a batch file runs (through cmd.exe) with arguments cmd.exe
 * cannot misread, and arguments it would re-interpret are refused. */
WEFT_TEST(popen_batch_file_safe_argument)
{
#ifdef _WIN32
    char name[128], path[160];
    const char *argv[] = {path, "safe arg-1.2,x", NULL};
    char *out = NULL;
    int code = -12345, rc;

    temp_name(name, sizeof name, "echo", ".bat");
    snprintf(path, sizeof path, ".\\%s", name);
    write_file(name, "@echo off\r\necho [%~1]\r\nexit /b 3\r\n");
    rc = weft_run(argv, NULL, weft_test_long(), &code, &out, NULL, NULL, NULL);
    remove(name);
    CHECK_OK(rc);
    CHECK_EQ_INT(code, 3);
    CHECK_EQ_STR(out, "[safe arg-1.2,x]\r\n");
    weft_free(out);
#else
    weft_test_skip("Windows only");
#endif
}

WEFT_TEST(popen_batch_file_unsafe_arguments_einval)
{
#ifdef _WIN32
    static const char *const unsafe[] = {
        "a&b", "a\"b", "\"", "%PATH%", "50%", "a^b", "a|b", "<x", ">x", "(x)", "!x!",
        "a\nb", "safe\" & calc.exe & \"",
    };
    static const char *const exts[] = {".bat", ".cmd", ".BAT"};
    char name[128], path[160];
    size_t e, i;

    for (e = 0; e < sizeof exts / sizeof exts[0]; e++) {
        temp_name(name, sizeof name, "unsafe", exts[e]);
        snprintf(path, sizeof path, ".\\%s", name);
        write_file(name, "@echo off\r\necho ran\r\n");
        for (i = 0; i < sizeof unsafe / sizeof unsafe[0]; i++) {
            const char *argv[] = {path, "ok", unsafe[i], NULL};
            weft_popen *p = NULL;
            int rc = weft_popen_start(&p, argv, NULL);

            if (rc != WEFT_EINVAL) {
                remove(name);
                if (p) {
                    weft_popen_kill(p);
                    weft_popen_wait(p, weft_test_long(), NULL);
                    weft_popen_release(p);
                }
                weft_test_fail(__FILE__, __LINE__, "%s %s: got %s, want WEFT_EINVAL", name,
                               unsafe[i], weft_strerror(rc));
            }
            CHECK_EQ_PTR(p, NULL);
        }
        remove(name);
    }
#else
    weft_test_skip("Windows only");
#endif
}

/* ---- Misuse -------------------------------------------------------------------------------- */

WEFT_TEST(popen_invalid_arguments)
{
    const char *argv[8];
    const char *empty[] = {NULL};
    weft_popen *p = NULL;
    weft_popen_opts opts = {0};
    int code = -12345;
    char *out = NULL;

    child_argv(argv, 8, "exit_with", "0", NULL);
    CHECK_STATUS(weft_popen_start(NULL, argv, NULL), WEFT_EINVAL);
    CHECK_STATUS(weft_popen_start(&p, NULL, NULL), WEFT_EINVAL);
    CHECK_STATUS(weft_popen_start(&p, empty, NULL), WEFT_EINVAL);
    opts.in = WEFT_STDIO_STDOUT;
    CHECK_STATUS(weft_popen_start(&p, argv, &opts), WEFT_EINVAL);
    opts.in = WEFT_STDIO_INHERIT;
    opts.out = WEFT_STDIO_STDOUT;
    CHECK_STATUS(weft_popen_start(&p, argv, &opts), WEFT_EINVAL);
    opts.out = (weft_stdio)42;
    CHECK_STATUS(weft_popen_start(&p, argv, &opts), WEFT_EINVAL);
    opts.out = WEFT_STDIO_INHERIT;
    opts.err = (weft_stdio)-1;
    CHECK_STATUS(weft_popen_start(&p, argv, &opts), WEFT_EINVAL);
    CHECK_EQ_PTR(p, NULL);

    CHECK_STATUS(weft_popen_communicate(NULL, NULL, 0, NULL, NULL, NULL, NULL, 1), WEFT_EINVAL);
    CHECK_STATUS(weft_popen_wait(NULL, 1, &code), WEFT_EINVAL);
    CHECK_STATUS(weft_popen_poll(NULL, &code), WEFT_EINVAL);
    CHECK_STATUS(weft_popen_terminate(NULL), WEFT_EINVAL);
    CHECK_STATUS(weft_popen_kill(NULL), WEFT_EINVAL);
    CHECK_EQ_INT(weft_popen_pid(NULL), -1);
    weft_popen_release(NULL); /* harmless */
    CHECK_EQ_INT(code, -12345);

    CHECK_STATUS(weft_run(NULL, NULL, 1, &code, NULL, NULL, NULL, NULL), WEFT_EINVAL);
    CHECK_STATUS(weft_run(empty, NULL, 1, &code, NULL, NULL, NULL, NULL), WEFT_EINVAL);
    CHECK_STATUS(weft_run(argv, NULL, -2.0, &code, NULL, NULL, NULL, NULL), WEFT_EINVAL);
    CHECK_STATUS(weft_run(argv, NULL, (double)NAN, &code, &out, NULL, NULL, NULL), WEFT_EINVAL);
    CHECK_EQ_INT(code, -12345); /* nothing ran */

    /* Bad timeouts on a real handle. */
    opts.err = WEFT_STDIO_INHERIT;
    opts.in = WEFT_STDIO_PIPE;
    opts.out = WEFT_STDIO_NULL;
    child_argv(argv, 8, "cat", NULL);
    p = start(argv, &opts);
    CHECK_STATUS(weft_popen_wait(p, -2.0, &code), WEFT_EINVAL);
    CHECK_STATUS(weft_popen_wait(p, (double)NAN, &code), WEFT_EINVAL);
    CHECK_STATUS(weft_popen_communicate(p, NULL, 0, NULL, NULL, NULL, NULL, -0.5), WEFT_EINVAL);
    /* Input with a length but no bytes. */
    CHECK_STATUS(weft_popen_communicate(p, NULL, 3, NULL, NULL, NULL, NULL, 1), WEFT_EINVAL);
    CHECK_EQ_INT(code, -12345);
    CHECK_STATUS(weft_popen_poll(p, NULL), WEFT_EAGAIN); /* none of that touched the child */
    CHECK_OK(weft_popen_communicate(p, NULL, 0, NULL, NULL, NULL, NULL, weft_test_long()));
    CHECK_OK(weft_popen_wait(p, 0, &code));
    CHECK_EQ_INT(code, 0);
    weft_popen_release(p);
}

/* ---- Streaming: write, close_stdin, read, readline, send_signal --------------------------- */

/* args[0] lines "step <i> of <n>", each flushed, args[1] ms apart. */
WEFT_CHILD_MODE(progress)
{
    int count, i, n, pause_ms;
    char **args = weft_test_child_args(&count);

    if (count < 2)
        return 110;
    n = atoi(args[0]);
    pause_ms = atoi(args[1]);
    binary_stdio();
    for (i = 1; i <= n; i++) {
        printf("step %d of %d\n", i, n);
        if (fflush(stdout) != 0)
            return 111;
        if (i < n)
            weft_sleep(pause_ms / 1000.0);
    }
    return 0;
}

/* Each line of stdin back on stdout as it comes; "bye\n" at its end. */
WEFT_CHILD_MODE(echo_lines)
{
    char line[4096];

    binary_stdio();
    while (fgets(line, sizeof line, stdin) != NULL) {
        if (fputs(line, stdout) < 0 || fflush(stdout) != 0)
            return 112;
    }
    fputs("bye\n", stdout);
    return fflush(stdout) == 0 ? 0 : 113;
}

/* "par" on stdout, then "ready\n" on stderr (so "par" is in its pipe when
 * the parent reads "ready"), then, once a line comes on stdin, "tial\n"
 * and a last line without its '\n': "last". */
WEFT_CHILD_MODE(partial_line)
{
    char line[256];

    binary_stdio();
    fputs("par", stdout);
    fflush(stdout);
    fputs("ready\n", stderr);
    fflush(stderr);
    if (fgets(line, sizeof line, stdin) == NULL)
        return 114;
    fputs("tial\nlast", stdout);
    return fflush(stdout) == 0 ? 0 : 115;
}

/* Read nothing until the file args[0] exists, then read stdin to its end,
 * checking that byte i is weft_test_pattern(i), and print "<count> <ok>". */
WEFT_CHILD_MODE(count_after_marker)
{
    static unsigned char buf[CHUNK];
    int count;
    char **args = weft_test_child_args(&count);
    double t0 = weft_monotonic();
    size_t total = 0, n, i;
    bool ok = true;
    FILE *f;

    if (count < 1)
        return 116;
    while ((f = fopen(args[0], "rb")) == NULL) {
        if (weft_monotonic() - t0 > weft_test_long())
            return 117;
        weft_sleep(0.005);
    }
    fclose(f);
    binary_stdio();
    while ((n = fread(buf, 1, sizeof buf, stdin)) > 0) {
        for (i = 0; i < n; i++)
            ok = ok && buf[i] == weft_test_pattern(total + i);
        total += n;
    }
    printf("%llu %s", (unsigned long long)total, ok ? "ok" : "corrupt");
    return fflush(stdout) == 0 ? 0 : 118;
}

/* Options with the given streams piped, the others null. */
static weft_popen_opts piped(bool in, bool out, bool err)
{
    weft_popen_opts opts = {0};

    opts.in = in ? WEFT_STDIO_PIPE : WEFT_STDIO_NULL;
    opts.out = out ? WEFT_STDIO_PIPE : WEFT_STDIO_NULL;
    opts.err = err ? WEFT_STDIO_PIPE : WEFT_STDIO_NULL;
    return opts;
}

/* readline within weft_test_long(): the line, checked to be `want`. */
static void check_line(weft_popen *p, weft_stdio_stream which, const char *want)
{
    char *line = NULL;
    size_t len = 0;

    CHECK_OK(weft_popen_readline(p, which, &line, &len, weft_test_long()));
    CHECK_EQ_STR(line, want);
    CHECK_EQ_UINT(len, strlen(want));
    weft_free(line);
}

/* The stream's end: readline and read both say so, again and again. */
static void check_eof(weft_popen *p, weft_stdio_stream which)
{
    char *line = (char *)"unset", buf[8];
    size_t len = 99, got = 99;

    CHECK_STATUS(weft_popen_readline(p, which, &line, &len, weft_test_long()), WEFT_EOF);
    CHECK_EQ_PTR(line, NULL);
    CHECK_EQ_UINT(len, 0);
    CHECK_STATUS(weft_popen_read(p, which, buf, sizeof buf, &got, 0), WEFT_EOF);
    CHECK_EQ_UINT(got, 0);
    CHECK_STATUS(weft_popen_readline(p, which, &line, NULL, 0), WEFT_EOF);
}

static void check_exit(weft_popen *p, int want)
{
    int code = -12345;

    CHECK_OK(weft_popen_wait(p, weft_test_long(), &code));
    CHECK_EQ_INT(code, want);
}

/* The last failure's message mentions `part`. */
static void check_message(const char *part)
{
    const char *m = weft_last_error_message();

    if (strstr(m, part) == NULL)
        weft_test_fail(__FILE__, __LINE__, "message \"%s\" does not mention \"%s\"", m, part);
}

WEFT_TEST(popen_readline_follows_progress)
{
    const char *argv[8];
    weft_popen_opts opts = piped(false, true, false);
    weft_popen *p;
    char want[64];
    int i;

    child_argv(argv, 8, "progress", "5", "50", NULL);
    p = start(argv, &opts);
    for (i = 1; i <= 5; i++) {
        snprintf(want, sizeof want, "step %d of 5\n", i);
        check_line(p, WEFT_STREAM_OUT, want);
    }
    check_eof(p, WEFT_STREAM_OUT);
    check_exit(p, 0);
    weft_popen_release(p);
}

/* Start partial_line and wait until "par" is in its stdout pipe. */
static weft_popen *start_partial_line(void)
{
    const char *argv[8];
    weft_popen_opts opts = piped(true, true, true);
    weft_popen *p;

    child_argv(argv, 8, "partial_line", NULL);
    p = start(argv, &opts);
    check_line(p, WEFT_STREAM_ERR, "ready\n");
    return p;
}

/* A readline that times out on "par": nothing handed out. */
static void readline_times_out(weft_popen *p)
{
    char *line = (char *)"unset";
    size_t len = 99;
    double t0 = weft_monotonic();

    CHECK_STATUS(weft_popen_readline(p, WEFT_STREAM_OUT, &line, &len, 0.2), WEFT_ETIMEDOUT);
    CHECK_ELAPSED(t0, 0.2);
    CHECK_EQ_PTR(line, NULL);
    CHECK_EQ_UINT(len, 0);
    CHECK_STATUS(weft_popen_readline(p, WEFT_STREAM_OUT, &line, &len, 0), WEFT_ETIMEDOUT);
}

WEFT_TEST(popen_readline_timeout_keeps_partial_line)
{
    weft_popen *p = start_partial_line();

    readline_times_out(p);
    CHECK_OK(weft_popen_write(p, "go\n", 3, weft_test_long()));
    check_line(p, WEFT_STREAM_OUT, "partial\n"); /* not "tial\n": "par" was kept */
    check_line(p, WEFT_STREAM_OUT, "last");      /* the last line, without its '\n' */
    check_eof(p, WEFT_STREAM_OUT);
    check_eof(p, WEFT_STREAM_ERR);
    check_exit(p, 0);
    weft_popen_release(p);
}

WEFT_TEST(popen_read_returns_kept_bytes_first)
{
    weft_popen *p = start_partial_line();
    char buf[64], all[64];
    size_t got = 0, n = 0;
    int rc;

    readline_times_out(p);
    /* The kept "par", from the handle: no wait, and only cap bytes. */
    CHECK_OK(weft_popen_read(p, WEFT_STREAM_OUT, buf, 2, &got, 0));
    CHECK_EQ_UINT(got, 2);
    CHECK(memcmp(buf, "pa", 2) == 0);
    CHECK_OK(weft_popen_read(p, WEFT_STREAM_OUT, buf, sizeof buf, &got, 0));
    CHECK_EQ_UINT(got, 1);
    CHECK(buf[0] == 'r');
    CHECK_STATUS(weft_popen_read(p, WEFT_STREAM_OUT, buf, sizeof buf, &got, 0.05),
                 WEFT_ETIMEDOUT);
    CHECK_EQ_UINT(got, 0);
    CHECK_OK(weft_popen_write(p, "go\n", 3, weft_test_long()));
    while ((rc = weft_popen_read(p, WEFT_STREAM_OUT, buf, sizeof buf, &got, weft_test_long())) ==
           WEFT_OK) {
        CHECK_GE_INT(got, 1);
        CHECK(n + got < sizeof all);
        memcpy(all + n, buf, got);
        n += got;
    }
    CHECK_STATUS(rc, WEFT_EOF);
    all[n] = '\0';
    CHECK_EQ_STR(all, "tial\nlast");
    check_exit(p, 0);
    weft_popen_release(p);
}

WEFT_TEST(popen_communicate_after_streaming_returns_kept_bytes)
{
    weft_popen *p = start_partial_line();
    char *out = NULL, *err = NULL;
    size_t out_len = 0, err_len = 0;

    readline_times_out(p);
    CHECK_OK(weft_popen_communicate(p, "go\n", 3, &out, &out_len, &err, &err_len,
                                    weft_test_long()));
    CHECK_EQ_STR(out, "partial\nlast");
    CHECK_EQ_UINT(out_len, strlen("partial\nlast"));
    CHECK_EQ_PTR(err, NULL); /* "ready\n" was read by streaming: nothing more came */
    CHECK_EQ_UINT(err_len, 0);
    check_exit(p, 0);
    weft_free(out);
    weft_popen_release(p);
}

WEFT_TEST(popen_echo_write_readline_close_stdin)
{
    const char *argv[8];
    weft_popen_opts opts = piped(true, true, false);
    weft_popen *p;

    child_argv(argv, 8, "echo_lines", NULL);
    p = start(argv, &opts);
    CHECK_OK(weft_popen_write(p, "hello\n", 6, weft_test_long()));
    check_line(p, WEFT_STREAM_OUT, "hello\n");
    CHECK_OK(weft_popen_write(p, "a\nb\n", 4, weft_test_long()));
    CHECK_OK(weft_popen_write(p, NULL, 0, 0)); /* writes nothing */
    check_line(p, WEFT_STREAM_OUT, "a\n");
    check_line(p, WEFT_STREAM_OUT, "b\n");
    CHECK_OK(weft_popen_close_stdin(p));
    check_line(p, WEFT_STREAM_OUT, "bye\n");
    check_eof(p, WEFT_STREAM_OUT);
    CHECK_OK(weft_popen_close_stdin(p)); /* again: nothing to do */
    CHECK_STATUS(weft_popen_write(p, "late\n", 5, 0), WEFT_EINVAL);
    check_message("closed");
    CHECK_STATUS(weft_popen_communicate(p, "late\n", 5, NULL, NULL, NULL, NULL, 0), WEFT_EINVAL);
    check_message("closed");
    check_exit(p, 0);
    weft_popen_release(p);
}

WEFT_TEST(popen_read_stdout_and_stderr)
{
    const char *argv[8];
    weft_popen_opts opts = piped(false, true, true);
    weft_popen *p;
    static const weft_stdio_stream which[2] = {WEFT_STREAM_OUT, WEFT_STREAM_ERR};
    static const char *const want[2] = {"to stdout", "to stderr"};
    int i;

    child_argv(argv, 8, "say", "to stdout", "to stderr", "3", NULL);
    p = start(argv, &opts);
    for (i = 0; i < 2; i++) {
        char all[64], buf[4];
        size_t n = 0, got = 0;
        int rc;

        /* 3 bytes at a time: the call never gives more than cap. */
        while ((rc = weft_popen_read(p, which[i], buf, 3, &got, weft_test_long())) == WEFT_OK) {
            CHECK_GE_INT(got, 1);
            CHECK_LE_INT(got, 3);
            CHECK(n + got < sizeof all);
            memcpy(all + n, buf, got);
            n += got;
        }
        CHECK_STATUS(rc, WEFT_EOF);
        all[n] = '\0';
        CHECK_EQ_STR(all, want[i]);
        check_eof(p, which[i]);
    }
    check_exit(p, 3);
    weft_popen_release(p);
}

WEFT_TEST(popen_streaming_then_communicate)
{
    const char *argv[8];
    weft_popen_opts opts = piped(true, true, false);
    weft_popen *p;
    char *out = NULL, *line = NULL, buf[8];
    size_t out_len = 0, got = 0;

    child_argv(argv, 8, "echo_lines", NULL);
    p = start(argv, &opts);
    CHECK_OK(weft_popen_write(p, "x\n", 2, weft_test_long()));
    check_line(p, WEFT_STREAM_OUT, "x\n");
    CHECK_OK(weft_popen_communicate(p, "y\nz\n", 4, &out, &out_len, NULL, NULL,
                                    weft_test_long()));
    CHECK_EQ_STR(out, "y\nz\nbye\n");
    CHECK_EQ_UINT(out_len, 8);
    weft_free(out);
    check_exit(p, 0);

    /* communicate took the pipes over: streaming is refused from now on. */
    CHECK_STATUS(weft_popen_read(p, WEFT_STREAM_OUT, buf, sizeof buf, &got, 0), WEFT_EINVAL);
    check_message("communicate");
    check_message("stdout");
    CHECK_STATUS(weft_popen_readline(p, WEFT_STREAM_OUT, &line, NULL, 0), WEFT_EINVAL);
    CHECK_EQ_PTR(line, NULL);
    CHECK_STATUS(weft_popen_write(p, "w\n", 2, 0), WEFT_EINVAL);
    check_message("stdin");
    CHECK_OK(weft_popen_close_stdin(p)); /* communicate closed it: nothing to do */
    /* communicate itself still answers, with nothing more. */
    CHECK_OK(weft_popen_communicate(p, NULL, 0, &out, &out_len, NULL, NULL, 0));
    CHECK_EQ_PTR(out, NULL);
    weft_popen_release(p);
}

/* A write that times out writes nothing: the child, once let read, finds
 * exactly the bytes of the writes that succeeded. */
WEFT_TEST(popen_write_timeout_writes_nothing)
{
    static unsigned char chunk[4096];
    const char *argv[8];
    char marker[128], *out = NULL;
    weft_popen_opts opts = piped(true, true, false);
    weft_popen *p;
    size_t written = 0, i, out_len = 0;
    char want[64];
    double t0 = 0;
    int rc = WEFT_OK, tries;
    FILE *f;

    temp_name(marker, sizeof marker, "marker", ".tmp");
    remove(marker);
    child_argv(argv, 8, "count_after_marker", marker, NULL);
    p = start(argv, &opts);
    /* 16 MiB is far more than any pipe holds. */
    for (tries = 0; tries < 4096 && rc == WEFT_OK; tries++) {
        for (i = 0; i < sizeof chunk; i++)
            chunk[i] = weft_test_pattern(written + i);
        t0 = weft_monotonic();
        rc = weft_popen_write(p, chunk, sizeof chunk, 0.2);
        if (rc == WEFT_OK)
            written += sizeof chunk;
    }
    CHECK_STATUS(rc, WEFT_ETIMEDOUT);
    CHECK_ELAPSED(t0, 0.2);
    CHECK_GE_INT(written, 4096);

    f = fopen(marker, "wb");
    CHECK(f != NULL);
    CHECK(fclose(f) == 0);
    CHECK_OK(weft_popen_close_stdin(p));
    CHECK_OK(weft_popen_communicate(p, NULL, 0, &out, &out_len, NULL, NULL, weft_test_long()));
    snprintf(want, sizeof want, "%llu ok", (unsigned long long)written);
    CHECK_EQ_STR(out, want);
    weft_free(out);
    check_exit(p, 0);
    remove(marker);
    weft_popen_release(p);
}

WEFT_TEST(popen_write_to_ended_child_eof)
{
    const char *argv[8];
    weft_popen_opts opts = piped(true, false, false);
    weft_popen *p;

    child_argv(argv, 8, "exit_with", "0", NULL);
    p = start(argv, &opts);
    check_exit(p, 0);
    /* Its stdin is gone: WEFT_EOF, and no SIGPIPE ends this process. */
    CHECK_STATUS(weft_popen_write(p, "x", 1, weft_test_long()), WEFT_EOF);
    CHECK_STATUS(weft_popen_write(p, "x", 1, 0), WEFT_EOF);
    weft_popen_release(p);
}

typedef struct transfer {
    weft_popen *p;
    size_t len;
} transfer;

/* Write weft_test_pattern(0 .. len-1) in pieces, then close stdin. */
static void *write_pattern(void *arg)
{
    static unsigned char chunk[CHUNK];
    transfer *t = arg;
    size_t done = 0, n, i;

    while (done < t->len) {
        n = t->len - done < CHUNK ? t->len - done : CHUNK;
        for (i = 0; i < n; i++)
            chunk[i] = weft_test_pattern(done + i);
        CHECK_OK(weft_popen_write(t->p, chunk, n, weft_test_long()));
        done += n;
    }
    CHECK_OK(weft_popen_close_stdin(t->p));
    return NULL;
}

WEFT_TEST(popen_write_on_one_thread_read_on_another)
{
    unsigned char input[1], buf[CHUNK];
    transfer t;
    weft_thread *writer;
    size_t done = 0, got = 0, i;
    int rc;

    t.p = start_cat(input, 0);
    t.len = BIG;
    writer = weft_test_start(write_pattern, &t);
    while ((rc = weft_popen_read(t.p, WEFT_STREAM_OUT, buf, sizeof buf, &got,
                                 weft_test_long())) == WEFT_OK) {
        for (i = 0; i < got; i++) {
            if (buf[i] != weft_test_pattern(done + i))
                weft_test_fail(__FILE__, __LINE__, "byte %llu is wrong",
                               (unsigned long long)(done + i));
        }
        done += got;
    }
    CHECK_STATUS(rc, WEFT_EOF);
    CHECK_EQ_UINT(done, BIG);
    weft_test_join(writer);
    check_exit(t.p, 0);
    weft_popen_release(t.p);
}

typedef struct reader {
    weft_popen *p;
    weft_test_counter *started;
    char *line;
} reader;

static void *read_one_line(void *arg)
{
    reader *r = arg;

    weft_test_counter_add(r->started, 1);
    CHECK_OK(weft_popen_readline(r->p, WEFT_STREAM_OUT, &r->line, NULL, weft_test_long()));
    return NULL;
}

/* Two threads reading one stream take turns: each gets a whole line. */
WEFT_TEST(popen_two_readers_of_one_stream_take_turns)
{
    const char *argv[8];
    weft_popen_opts opts = piped(true, true, false);
    weft_test_counter started = WEFT_TEST_COUNTER_INIT;
    reader r[2];
    weft_thread *t[2];
    int i;

    child_argv(argv, 8, "echo_lines", NULL);
    for (i = 0; i < 2; i++) {
        r[i].p = NULL;
        r[i].started = &started;
        r[i].line = NULL;
    }
    r[0].p = r[1].p = start(argv, &opts);
    for (i = 0; i < 2; i++)
        t[i] = weft_test_start(read_one_line, &r[i]);
    weft_test_counter_wait(&started, 2);
    weft_test_settle(); /* likely both wait now: one on the pipe, one for its turn */
    CHECK_OK(weft_popen_write(r[0].p, "first line\nsecond line\n", 23, weft_test_long()));
    for (i = 0; i < 2; i++)
        weft_test_join(t[i]);
    CHECK(r[0].line != NULL && r[1].line != NULL);
    CHECK((strcmp(r[0].line, "first line\n") == 0 && strcmp(r[1].line, "second line\n") == 0) ||
          (strcmp(r[1].line, "first line\n") == 0 && strcmp(r[0].line, "second line\n") == 0));
    weft_free(r[0].line);
    weft_free(r[1].line);
    CHECK_OK(weft_popen_close_stdin(r[0].p));
    check_line(r[0].p, WEFT_STREAM_OUT, "bye\n");
    check_exit(r[0].p, 0);
    weft_popen_release(r[0].p);
}

WEFT_TEST(popen_send_signal_sigterm)
{
    const char *argv[8];
    weft_popen *p;

    child_argv(argv, 8, "sleep_long", NULL);
    p = start(argv, NULL);
#ifdef _WIN32
    /* Only SIGTERM and the two console events exist there. */
    CHECK_STATUS(weft_popen_send_signal(p, SIGINT), WEFT_EINVAL);
    check_message("SIGTERM");
    /* A console event needs a child that leads its process group. */
    CHECK_STATUS(weft_popen_send_signal(p, CTRL_BREAK_EVENT), WEFT_EINVAL);
    check_message("new_process_group");
#else
    CHECK_STATUS(weft_popen_send_signal(p, -1), WEFT_EINVAL);
    check_message("-1");
    CHECK_OK(weft_popen_send_signal(p, 0)); /* it is there */
#endif
    CHECK_STATUS(weft_popen_poll(p, NULL), WEFT_EAGAIN);
    CHECK_OK(weft_popen_send_signal(p, SIGTERM));
    check_exit(p, TERMINATED_CODE);
    CHECK_OK(weft_popen_send_signal(p, SIGTERM)); /* reaped: nothing is sent */
    weft_popen_release(p);
}

WEFT_TEST(popen_streaming_invalid_arguments)
{
    const char *argv[8];
    weft_popen_opts opts = {0};
    weft_popen *p;
    char buf[8], *line = (char *)"unset";
    size_t got = 99, len = 99;

    CHECK_STATUS(weft_popen_write(NULL, "x", 1, 0), WEFT_EINVAL);
    check_message("NULL");
    CHECK_STATUS(weft_popen_close_stdin(NULL), WEFT_EINVAL);
    CHECK_STATUS(weft_popen_read(NULL, WEFT_STREAM_OUT, buf, sizeof buf, &got, 0), WEFT_EINVAL);
    CHECK_EQ_UINT(got, 0);
    CHECK_STATUS(weft_popen_readline(NULL, WEFT_STREAM_OUT, &line, &len, 0), WEFT_EINVAL);
    CHECK_EQ_PTR(line, NULL);
    CHECK_EQ_UINT(len, 0);
    CHECK_STATUS(weft_popen_send_signal(NULL, SIGTERM), WEFT_EINVAL);

    /* No stream piped: each call names the stream that is not a pipe. */
    opts.in = WEFT_STDIO_NULL;
    opts.out = WEFT_STDIO_NULL;
    opts.err = WEFT_STDIO_STDOUT;
    child_argv(argv, 8, "exit_with", "0", NULL);
    p = start(argv, &opts);
    CHECK_STATUS(weft_popen_write(p, "x", 1, 0), WEFT_EINVAL);
    check_message("stdin");
    CHECK_STATUS(weft_popen_close_stdin(p), WEFT_EINVAL);
    check_message("stdin");
    CHECK_STATUS(weft_popen_read(p, WEFT_STREAM_OUT, buf, sizeof buf, &got, 0), WEFT_EINVAL);
    check_message("stdout");
    CHECK_STATUS(weft_popen_readline(p, WEFT_STREAM_ERR, &line, NULL, 0), WEFT_EINVAL);
    check_message("stderr");
    check_message("sent to stdout");
    check_exit(p, 0);
    weft_popen_release(p);

    /* Bad arguments on a piped child, which none of them touches. */
    opts = piped(true, true, true);
    child_argv(argv, 8, "echo_lines", NULL);
    p = start(argv, &opts);
    CHECK_STATUS(weft_popen_write(p, NULL, 1, 0), WEFT_EINVAL);
    CHECK_STATUS(weft_popen_write(p, "x", 1, -2.0), WEFT_EINVAL);
    check_message("timeout");
    CHECK_STATUS(weft_popen_write(p, "x", 1, (double)NAN), WEFT_EINVAL);
    CHECK_STATUS(weft_popen_read(p, (weft_stdio_stream)2, buf, sizeof buf, &got, 0),
                 WEFT_EINVAL);
    check_message("which");
    CHECK_STATUS(weft_popen_read(p, (weft_stdio_stream)-1, buf, sizeof buf, &got, 0),
                 WEFT_EINVAL);
    CHECK_STATUS(weft_popen_read(p, WEFT_STREAM_OUT, buf, 0, &got, 0), WEFT_EINVAL);
    check_message("cap");
    CHECK_STATUS(weft_popen_read(p, WEFT_STREAM_OUT, NULL, 1, &got, 0), WEFT_EINVAL);
    CHECK_STATUS(weft_popen_read(p, WEFT_STREAM_OUT, buf, sizeof buf, NULL, 0), WEFT_EINVAL);
    CHECK_STATUS(weft_popen_read(p, WEFT_STREAM_OUT, buf, sizeof buf, &got, -1.5), WEFT_EINVAL);
    CHECK_STATUS(weft_popen_readline(p, WEFT_STREAM_OUT, NULL, &len, 0), WEFT_EINVAL);
    CHECK_STATUS(weft_popen_readline(p, WEFT_STREAM_ERR, &line, &len, (double)NAN), WEFT_EINVAL);
    /* The handle still works. */
    CHECK_OK(weft_popen_write(p, "still\n", 6, weft_test_long()));
    check_line(p, WEFT_STREAM_OUT, "still\n");
    CHECK_OK(weft_popen_close_stdin(p));
    check_line(p, WEFT_STREAM_OUT, "bye\n");
    check_eof(p, WEFT_STREAM_ERR);
    check_exit(p, 0);
    weft_popen_release(p);
}

/* Windows: CTRL_BREAK_EVENT to a child that leads its own process group
 * ends it as a console program's default handler does. */
WEFT_TEST(popen_send_signal_console_event)
{
#ifdef _WIN32
    const char *argv[8];
    weft_popen_opts opts = {0};
    weft_popen *p;
    int rc;

    opts.new_process_group = true;
    child_argv(argv, 8, "sleep_long", NULL);
    p = start(argv, &opts);
    rc = weft_popen_send_signal(p, CTRL_BREAK_EVENT);
    if (rc != WEFT_OK && weft_test_under_wine()) {
        /* Wine 8 refuses the event to a process of a console-less run
         * (ERROR_INVALID_ACCESS), as seen under ctest. */
        printf("%s\n", weft_last_error_message());
        CHECK_OK(weft_popen_kill(p));
        check_exit(p, KILLED_CODE);
        weft_popen_release(p);
        weft_test_skip("Wine: GenerateConsoleCtrlEvent fails here");
    }
    CHECK_OK(rc);
    check_exit(p, (int)0xC000013Au); /* STATUS_CONTROL_C_EXIT */
    weft_popen_release(p);
#else
    weft_test_skip("Windows only: POSIX signals a new process group's child like any other");
#endif
}

/* ---- Handing objects of weft/ipc.h to the child (opts.pass) ----------------------------- */

/* Whether this process's environment has `name` (on Windows the process's
 * own block, which the C runtime's getenv does not follow). */
static bool env_has(const char *name)
{
#ifdef _WIN32
    return GetEnvironmentVariableA(name, NULL, 0) != 0;
#else
    return getenv(name) != NULL;
#endif
}

/* Given a connection, a block of shared memory and a process queue, in
 * that order (and nothing more): read a message from the connection, write
 * 43 at the start of the block, put the message into the queue, answer
 * "done". The variable that named them to weft_process_main has left the
 * environment, so that no child this one starts takes it for its own. */
WEFT_CHILD_MODE(use_passed)
{
    weft_conn *conn = weft_process_passed(0);
    weft_shm *shm = weft_process_passed(1);
    weft_pqueue *q = weft_process_passed(2);
    void *msg = NULL;
    size_t len = 0;

    if (!conn || !shm || !q || weft_process_passed(3) != NULL)
        return 3;
    if (env_has("WEFT_PASSED"))
        return 4;
    if (weft_conn_recv(conn, &msg, &len, weft_test_long()) != WEFT_OK)
        return 5;
    ((unsigned char *)weft_shm_ptr(shm))[0] = 43;
    if (weft_pqueue_put(q, msg, len, weft_test_long()) != WEFT_OK)
        return 6;
    weft_free(msg);
    if (weft_conn_send(conn, "done", 4, weft_test_long()) != WEFT_OK)
        return 7;
    weft_conn_close(conn);
    weft_shm_close(shm);
    weft_pqueue_close(q);
    return 0;
}

/* Receive one message within weft_test_long() and check it; should the
 * child have ended instead (EOF), its exit code says why. */
static void expect_message(weft_popen *p, weft_conn *c, const char *want)
{
    void *msg = NULL;
    size_t len = 0;
    int rc = weft_conn_recv(c, &msg, &len, weft_test_long());

    if (rc != WEFT_OK)
        check_exit(p, 0);
    CHECK_OK(rc);
    CHECK_EQ_UINT(len, strlen(want));
    CHECK(memcmp(msg, want, len) == 0);
    weft_free(msg);
}

/* use_passed, started with `env` (NULL: the parent's). */
static void pass_and_use(const char *const *env)
{
    const char *argv[8];
    const void *handles[3];
    weft_popen_opts opts = {0};
    weft_conn *mine, *theirs;
    weft_pqueue *q;
    weft_shm *shm;
    weft_popen *p;
    void *msg = NULL;
    size_t len = 0;

    CHECK_OK(weft_pipe(&mine, &theirs, true));
    CHECK_OK(weft_shm_create(&shm, NULL, 4096));
    CHECK_OK(weft_shm_unlink(weft_shm_name(shm))); /* the child cannot open it by name */
    CHECK_OK(weft_pqueue_create(&q, 0));
    handles[0] = theirs;
    handles[1] = shm;
    handles[2] = q;
    opts.pass = handles;
    opts.npass = 3;
    opts.env = env;
    child_argv(argv, 8, "use_passed", NULL);
    p = start(argv, &opts);
    /* The child has its own end: the parent's goes, or an early end of
     * the child would not show as EOF here. */
    weft_conn_close(theirs);
    CHECK_OK(weft_conn_send(mine, "ping", 4, weft_test_long()));
    expect_message(p, mine, "done");
    CHECK_EQ_INT(((unsigned char *)weft_shm_ptr(shm))[0], 43);
    CHECK_OK(weft_pqueue_get(q, &msg, &len, weft_test_long()));
    CHECK_EQ_UINT(len, 4);
    CHECK(memcmp(msg, "ping", 4) == 0);
    weft_free(msg);
    check_exit(p, 0);
    weft_popen_release(p);
    weft_conn_close(mine);
    weft_pqueue_close(q);
    weft_shm_close(shm);
}

WEFT_TEST(popen_pass_conn_shm_pqueue)
{
    pass_and_use(NULL);
}

/* A given environment gets the variable too, and keeps its own entries. */
WEFT_TEST(popen_pass_with_given_env)
{
    char sysroot[300];
    const char *env[] = {"WEFT_K=1", "WEFT_PASSED=stale", NULL, NULL};

    keep_system_root(&env[2], sysroot, sizeof sysroot);
    pass_and_use(env);
}

/* The child inherits the passed handles' files and the pipe that describes
 * them, and nothing else the parent holds open and inheritable. POSIX: a
 * weft child has descriptor 4, the connection (3, the pipe, it read and
 * closed); on Linux a shell, which does not link weft, has both and
 * WEFT_PASSED naming 3. Windows: none of the parent's inheritable handles
 * is open in the child. */
WEFT_TEST(popen_pass_inherits_nothing_else)
{
    enum { EXTRA = 100 };
    const char *argv[EXTRA + 8];
    const void *handles[1];
    weft_popen_opts opts = {0};
    weft_conn *mine, *theirs;
    char *out = NULL;
    int code = -12345, i;

    CHECK_OK(weft_pipe(&mine, &theirs, true));
    handles[0] = theirs;
    opts.pass = handles;
    opts.npass = 1;
    opts.in = WEFT_STDIO_NULL;
#ifdef _WIN32
    {
        HANDLE extra[EXTRA];
        char values[EXTRA][24];

        fd_count_of_inheritable(argv, extra, values, EXTRA);
        CHECK_OK(weft_run(argv, &opts, weft_test_long(), &code, &out, NULL, NULL, NULL));
        for (i = 0; i < EXTRA; i++)
            CloseHandle(extra[i]);
        CHECK_EQ_INT(code, 0);
        CHECK_EQ_STR(out, "0");
        weft_free(out);
    }
#else
    {
        static const char script[] =
            "f=3; while [ $f -lt 256 ]; do [ -e /proc/self/fd/$f ] && printf '%s ' $f; "
            "f=$((f + 1)); done; printf 'WEFT_PASSED=%s' \"$WEFT_PASSED\"";
        int fds[EXTRA];

        for (i = 0; i < EXTRA; i++) {
            fds[i] = open("/dev/null", O_RDONLY); /* no O_CLOEXEC: inheritable */
            CHECK_GE_INT(fds[i], 3);
        }
        child_argv(argv, EXTRA + 8, "fd_count", NULL);
        CHECK_OK(weft_run(argv, &opts, weft_test_long(), &code, &out, NULL, NULL, NULL));
        CHECK_EQ_INT(code, 0);
        CHECK_EQ_STR(out, "0 1 2 4");
        weft_free(out);
#ifdef __linux__
        argv[0] = "/bin/sh";
        argv[1] = "-c";
        argv[2] = script;
        argv[3] = NULL;
        CHECK_OK(weft_run(argv, &opts, weft_test_long(), &code, &out, NULL, NULL, NULL));
        CHECK_EQ_INT(code, 0);
        CHECK_EQ_STR(out, "3 4 WEFT_PASSED=3");
        weft_free(out);
#else
        (void)script;
#endif
        for (i = 0; i < EXTRA; i++)
            close(fds[i]);
    }
#endif
    weft_conn_close(theirs);
    weft_conn_close(mine);
}

/* NULL pass, an entry that is no handle, too many: WEFT_EINVAL with a
 * message, nothing started; 13 handles (the most) go. */
WEFT_TEST(popen_pass_bad_input_einval)
{
    static int not_a_handle[4];
    const void *bad[1] = {not_a_handle};
    const void *null_one[1] = {NULL};
    const void *many[14];
    const char *argv[8];
    weft_popen_opts opts = {0};
    weft_popen *p = NULL;
    weft_conn *mine, *theirs;
    int code = -12345, i;

    child_argv(argv, 8, "exit_with", "0", NULL);
    opts.npass = 1;
    CHECK_STATUS(weft_popen_start(&p, argv, &opts), WEFT_EINVAL);
    check_message("NULL pass with npass 1");
    opts.pass = bad;
    CHECK_STATUS(weft_popen_start(&p, argv, &opts), WEFT_EINVAL);
    check_message("popen_start: pass[0]:");
    check_message("not an open handle");
    opts.pass = null_one;
    CHECK_STATUS(weft_run(argv, &opts, weft_test_long(), &code, NULL, NULL, NULL, NULL),
                 WEFT_EINVAL);
    check_message("a NULL handle");
    CHECK_EQ_PTR(p, NULL);
    CHECK_EQ_INT(code, -12345); /* nothing ran */

    CHECK_OK(weft_pipe(&mine, &theirs, true));
    for (i = 0; i < 14; i++)
        many[i] = theirs;
    opts.pass = many;
    opts.npass = 14;
    CHECK_STATUS(weft_popen_start(&p, argv, &opts), WEFT_EINVAL);
    check_message("at most 13");
    CHECK_EQ_PTR(p, NULL);
    opts.npass = 13;
    CHECK_OK(weft_run(argv, &opts, weft_test_long(), &code, NULL, NULL, NULL, NULL));
    CHECK_EQ_INT(code, 0);
    weft_conn_close(theirs);
    weft_conn_close(mine);
}

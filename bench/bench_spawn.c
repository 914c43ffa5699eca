/* SPDX-License-Identifier: MIT */
/*
 * bench_spawn: starting child processes with weft, from a small parent and
 * from a parent that has touched a lot of memory, against the raw POSIX
 * calls, GLib, libuv and APR. POSIX only (CMake does not build it on
 * Windows).
 *
 * What is measured
 *   - Spawn + wait of a trivial program (`true`: --program, by default the
 *     first `true` on PATH, else /bin/true; every method gets the same
 *     absolute path, so no method pays for a PATH search): milliseconds per
 *     program started and waited for, children started one after the other
 *     (see How for the turns they are timed in).
 *     Competitors: weft_popen_start + weft_popen_wait (+ release);
 *     weft_run; fork + execv + waitpid; posix_spawn + waitpid (the
 *     baseline; it leaves this process's other descriptors open in the
 *     child, which weft and Python's subprocess do not, so its @result
 *     competitor is "posix_spawn (fds left open)"); where the C library
 *     has posix_spawn_file_actions_addclosefrom_np (glibc 2.34), the same
 *     with every descriptor from 3 on closed, as weft closes them
 *     ("posix_spawn+closefrom", the row with weft's semantics); on Linux
 *     vfork + execv + waitpid, a reference only (the
 *     floor a library could reach by hand, with vfork's hazards); and, where
 *     their library was found at build time (CMake defines
 *     WEFT_BENCH_HAVE_GLIB, _UV, _APR; the header of the output names those
 *     left out):
 *       GLib   g_spawn_sync, GLib's one call to run a program and wait for
 *              it (g_spawn_async + G_SPAWN_DO_NOT_REAP_CHILD + waitpid takes
 *              the same path), with the default flags: the child's other
 *              descriptors are closed, as weft closes them, and GLib 2.74
 *              forks to do that; and, for reference, with
 *              G_SPAWN_LEAVE_DESCRIPTORS_OPEN, which lets it posix_spawn
 *              (descriptors then leak into the child, as with the raw
 *              posix_spawn row);
 *       libuv  uv_spawn on a loop, then uv_run until the exit callback has
 *              closed the handle (libuv 1.44 forks); a loop of its own per
 *              run, made and closed outside the timing, so that libuv's
 *              SIGCHLD handler is installed only during libuv's runs;
 *       APR    apr_proc_create (APR_PROGRAM_ENV: this environment, no PATH
 *              search) + apr_proc_wait, in a pool cleared after each child
 *              (APR 1.7 forks).
 *     weft's row of the family (the `@result` competitor "weft") is
 *     weft_popen_start+wait; weft_run's is "weft_run".
 *   - Process start + join: a registered target that returns 0, started by
 *     weft_process_start with WEFT_START_SPAWN and with WEFT_START_FORK,
 *     then weft_process_join (+ release); milliseconds per process. Their
 *     baselines: posix_spawn of this executable with an argument that makes
 *     it return from main at once (the spawn method's floor: the same exec
 *     and dynamic linking), and fork + _exit(0) + waitpid (the fork
 *     method's floor). Neither runs a target or passes it an argument, so
 *     both are marked "(ref)": floors to compare with, not competitors.
 *   Every child's exit code is checked to be 0.
 *
 * The two parents, and why they are measured this way
 *   The "small" parent is this program as it starts (a few MiB resident).
 *   The "large" parent is the same process after it has malloc'ed --mem-mib
 *   MiB (default 2048) and written one byte to every page, so all of it is
 *   resident and mapped by page tables that a fork() must copy. On Linux
 *   the block is madvise'd MADV_NOHUGEPAGE before it is touched, so it is
 *   mapped by 4 KiB pages (a heap grown by many small allocations looks
 *   like that, and it is fork's worst case); --thp leaves the pages to the
 *   system's transparent-huge-page setting.
 *   Both parents are measured in the same process, in every repetition:
 *   the block is allocated and touched at the start of the repetition's
 *   large phase and freed (munmap'ed: it is far above malloc's mmap
 *   threshold) at its end, and the order of the phases alternates (small
 *   first in even repetitions, large first in odd ones). So small and large
 *   are measured moments apart under the same conditions, and a drift of
 *   the machine over the run falls on both alike instead of on whichever
 *   phase came last. The resident size of each phase is read back from
 *   /proc/self/smaps_rollup (Linux) and printed, to show the phases really
 *   differ as intended; the time the touching took is printed too, but is
 *   never part of a measurement.
 *
 * How
 *   In each phase of each repetition the competitors take turns: round
 *   after round, each starts and waits for children one after the other
 *   for --slice-ms (at least one child: a fork of the large parent makes
 *   a turn of one child, a cheap spawn one of a few), the first one
 *   rotating from round to round, until there have been --spawns rounds
 *   and --run-ms ms. A competitor's value for the repetition is the median
 *   of its turns' milliseconds per child. Runs made one competitor after
 *   the other would lie seconds apart, and on a shared two-CPU machine a
 *   neighbour's burst moves one of them by 10-30%, more than the
 *   differences sought; in turns every competitor sees the same moments,
 *   and the median leaves out the turns a burst hit. Reported are the
 *   median, minimum and maximum over the repetitions, the ratio of the
 *   medians to the baseline at the same parent size, and the spread of the
 *   per-repetition ("paired") ratios. Then, per method, large / small,
 *   paired within each repetition.
 *   Head to head: after the turns, each phase has one run per weft spawn
 *   competitor in which its children and raw posix_spawn's alternate
 *   (ABBA...), each child timed on its own; the run's ratio is weft's
 *   total over posix_spawn's: the finest pairing, for the bars.
 *   Then the bars, each at most 1.10: weft against raw posix_spawn
 *   at each size, judged on the median of the head-to-head ratios; and
 *   what a large parent costs weft beyond what it costs posix_spawn, judged
 *   on the median over the repetitions of the large phase's head-to-head
 *   ratio over the small phase's. A fork would show there as it would in
 *   weft's own large / small (about 17 at 2 GiB), but the phases lie
 *   seconds apart, and on a VM whose spawn takes 2 ms a drift of the
 *   machine between them moved weft's own large / small by 0.9-1.4 while
 *   posix_spawn's moved alike; the head-to-head ratios divide that out.
 *   Weft's own large / small (paired per repetition) and the ratio of the
 *   medians of the tables are printed beside each, unjudged.
 *   Last, weft against every other row of its family at each parent size,
 *   and one machine-readable `@result` line per row: families spawn.small
 *   and spawn.large, process.spawn.small/.large, process.fork.small/.large.
 *   One untimed round at the small parent first pays for faulting in code,
 *   weft's first-use setup and the page cache of the programs. Each phase
 *   then opens with an untimed 20 ms run of raw posix_spawn: the first run
 *   after the block is touched or freed is about 10% slower whoever makes
 *   it, and rotation alone would leave that on the competitors that happen
 *   to come first more often.
 *
 * Usage: bench_spawn [--smoke] [--reps N] [--spawns N] [--run-ms N]
 *                    [--slice-ms N] [--mem-mib N] [--program PATH] [--thp]
 *                    [--verbose] [--only A,B,..] [--regime NAME]
 * Environment: WEFT_BENCH_REPS, WEFT_BENCH_SPAWNS, WEFT_BENCH_RUN_MS,
 *              WEFT_BENCH_SLICE_MS, WEFT_BENCH_MEM_MIB, WEFT_BENCH_PROGRAM
 *              (the command line wins).
 */
#if defined(__linux__)
#ifndef _GNU_SOURCE /* APR's pkg-config flags define it too */
#define _GNU_SOURCE /* vfork, madvise's MADV_NOHUGEPAGE */
#endif
#define HAVE_VFORK 1
#else
#define _XOPEN_SOURCE 700
#define HAVE_VFORK 0
#endif

#include <weft/popen.h>
#include <weft/process.h>
#include <weft/time.h>

#define BENCH_NAME "bench_spawn"
#include "bench_util.h"
#include "bench_regime.h"

#include <errno.h>
#include <limits.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_competitors.h"

#if !defined(__linux__)
extern char **environ;
#endif

#define MAX_REPS BENCH_MAX_REPS

/* argv[1] of a child that is to return from main at once: the raw
 * posix_spawn baseline of the process table. */
#define EXIT_AT_ONCE "--bench-spawn-exit-at-once"

/* The registered target of the process table. */
#define TARGET "bench_spawn_noop"

enum { SMALL, LARGE, PHASES };

/* ---- What the children run ----------------------------------------------------------- */

static char *prog_args[2];    /* {the program's absolute path, NULL} */
static char *self_args[3];    /* {this executable, EXIT_AT_ONCE, NULL}; [0] NULL if unknown */

static int noop_target(const void *arg, size_t len)
{
    (void)arg;
    (void)len;
    return 0;
}

/* The first executable `name` in the directories of PATH, malloc'ed; NULL
 * when there is none. An empty entry (the current directory) is skipped. */
static char *find_on_path(const char *name)
{
    const char *path = getenv("PATH");
    char buf[PATH_MAX];

    while (path && *path) {
        const char *colon = strchr(path, ':');
        size_t len = colon ? (size_t)(colon - path) : strlen(path);

        if (len > 0 && len + 1 + strlen(name) < sizeof buf) {
            memcpy(buf, path, len);
            buf[len] = '/';
            strcpy(buf + len + 1, name);
            if (buf[0] == '/' && access(buf, X_OK) == 0)
                return strdup(buf);
        }
        path = colon ? colon + 1 : NULL;
    }
    return NULL;
}

/* This executable's path, malloc'ed, or NULL when it cannot be told. */
static char *find_self(const char *argv0)
{
#if defined(__linux__)
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);

    if (n > 0) {
        buf[n] = '\0';
        return strdup(buf);
    }
#endif
    return argv0 && strchr(argv0, '/') ? realpath(argv0, NULL) : NULL;
}

/* ---- The competitors -------------------------------------------------------------------
 * Each starts one child and waits for it; run() times them. */

static void reap(pid_t pid, const char *what)
{
    int status = 0;
    pid_t got;

    do
        got = waitpid(pid, &status, 0);
    while (got < 0 && errno == EINTR);
    if (got != pid)
        die("%s: waitpid: %s", what, strerror(errno));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        die("%s: the child did not exit with code 0 (wait status 0x%x)", what, (unsigned)status);
}

static void one_weft_popen(void)
{
    weft_popen *p;
    int code = -1;
    int rc = weft_popen_start(&p, (const char *const *)prog_args, NULL);

    if (rc != WEFT_OK)
        die("weft_popen_start(%s): %s", prog_args[0], weft_strerror(rc));
    rc = weft_popen_wait(p, WEFT_FOREVER, &code);
    if (rc != WEFT_OK || code != 0)
        die("weft_popen_wait: %s, exit code %d", weft_strerror(rc), code);
    weft_popen_release(p);
}

static void one_weft_run(void)
{
    int code = -1;
    int rc = weft_run((const char *const *)prog_args, NULL, WEFT_FOREVER, &code, NULL, NULL, NULL,
                      NULL);

    if (rc != WEFT_OK || code != 0)
        die("weft_run(%s): %s, exit code %d", prog_args[0], weft_strerror(rc), code);
}

static void one_fork_exec(void)
{
    pid_t pid = fork();

    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        execv(prog_args[0], prog_args);
        _exit(127);
    }
    reap(pid, "fork+execv");
}

static void posix_spawn_and_reap(char *const *argv, const char *what)
{
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], NULL, NULL, argv, environ);

    if (rc != 0)
        die("%s: posix_spawn(%s): %s", what, argv[0], strerror(rc));
    reap(pid, what);
}

static void one_posix_spawn(void)
{
    posix_spawn_and_reap(prog_args, "posix_spawn");
}

#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
#define HAVE_ADDCLOSEFROM 1

/* What a C program writes to start a program as weft and Python do: no
 * descriptor but stdin, stdout and stderr reaches the child. */
static void one_posix_spawn_closefrom(void)
{
    posix_spawn_file_actions_t actions;
    pid_t pid;
    int rc;

    rc = posix_spawn_file_actions_init(&actions);
    if (rc != 0)
        die("posix_spawn_file_actions_init: %s", strerror(rc));
    rc = posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    if (rc != 0)
        die("posix_spawn_file_actions_addclosefrom_np: %s", strerror(rc));
    rc = posix_spawn(&pid, prog_args[0], &actions, NULL, prog_args, environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0)
        die("posix_spawn+closefrom(%s): %s", prog_args[0], strerror(rc));
    reap(pid, "posix_spawn+closefrom");
}
#else
#define HAVE_ADDCLOSEFROM 0
#endif

#if HAVE_VFORK
/* vfork in a function of its own with nothing to clobber: the child only
 * calls execv or _exit. */
static pid_t vfork_exec(void)
{
    pid_t pid = vfork();

    if (pid == 0) {
        execv(prog_args[0], prog_args);
        _exit(127);
    }
    return pid;
}

static void one_vfork_exec(void)
{
    pid_t pid = vfork_exec();

    if (pid < 0)
        die("vfork: %s", strerror(errno));
    reap(pid, "vfork+execv");
}
#endif

static void one_weft_process(weft_start_method method)
{
    weft_process_opts opts = {.method = method};
    weft_process *p;
    int code = -1;
    int rc = weft_process_start(&p, TARGET, NULL, 0, &opts);

    if (rc != WEFT_OK)
        die("weft_process_start(%s): %s", method == WEFT_START_FORK ? "fork" : "spawn",
            weft_strerror(rc));
    rc = weft_process_join(p, WEFT_FOREVER);
    if (rc == WEFT_OK)
        rc = weft_process_exitcode(p, &code);
    if (rc != WEFT_OK || code != 0)
        die("weft_process_join: %s, exit code %d", weft_strerror(rc), code);
    weft_process_release(p);
}

static void one_weft_process_spawn(void)
{
    one_weft_process(WEFT_START_SPAWN);
}

static void one_weft_process_fork(void)
{
    one_weft_process(WEFT_START_FORK);
}

static void one_posix_spawn_self(void)
{
    posix_spawn_and_reap(self_args, "posix_spawn(self)");
}

static void one_fork_exit(void)
{
    pid_t pid = fork();

    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0)
        _exit(0);
    reap(pid, "fork+_exit");
}

/* ---- The other libraries' ways to run a program and wait for it ----------------------- */

#if defined(WEFT_BENCH_HAVE_GLIB)
/* GLib's one call to run a program and wait for it. With the default
 * flags GLib closes the child's other descriptors, as weft does, and on
 * GLib 2.74 that path forks; G_SPAWN_LEAVE_DESCRIPTORS_OPEN lets it use
 * posix_spawn (descriptors then leak into the child, as with the raw
 * posix_spawn row). g_spawn_async with G_SPAWN_DO_NOT_REAP_CHILD and a
 * waitpid goes down the same path. */
static void glib_spawn_sync(GSpawnFlags flags, const char *what)
{
    GError *error = NULL;
    gint status = 0;

    if (!g_spawn_sync(NULL, prog_args, NULL, flags, NULL, NULL, NULL, NULL, &status, &error))
        die("%s(%s): %s", what, prog_args[0], error ? error->message : "failed");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        die("%s: the child did not exit with code 0 (wait status 0x%x)", what, (unsigned)status);
}

static void one_glib_spawn(void)
{
    glib_spawn_sync(G_SPAWN_DEFAULT, "g_spawn_sync");
}

static void one_glib_spawn_fds_open(void)
{
    glib_spawn_sync(G_SPAWN_LEAVE_DESCRIPTORS_OPEN, "g_spawn_sync(LEAVE_DESCRIPTORS_OPEN)");
}
#endif

#if defined(WEFT_BENCH_HAVE_UV)
/* A loop of its own for each run: libuv watches its children with a
 * SIGCHLD handler that lives as long as the loop, and no other
 * competitor's children should wake it. The loop's setup is paid once per
 * run, outside the children. */
static uv_loop_t uv_loop;
static int64_t uv_status;
static bool uv_exited;

static void setup_uv(void)
{
    int rc = uv_loop_init(&uv_loop);

    if (rc != 0)
        die("uv_loop_init: %s", uv_strerror(rc));
}

static void teardown_uv(void)
{
    int rc = uv_loop_close(&uv_loop);

    if (rc != 0)
        die("uv_loop_close: %s", uv_strerror(rc));
}

static void on_uv_exit(uv_process_t *process, int64_t status, int signal)
{
    uv_status = signal ? -signal : status;
    uv_exited = true;
    uv_close((uv_handle_t *)process, NULL);
}

/* uv_spawn, then run the loop until the exit callback has closed the
 * handle. */
static void one_uv_spawn(void)
{
    uv_process_t process;
    uv_process_options_t options;
    int rc;

    memset(&options, 0, sizeof options);
    options.exit_cb = on_uv_exit;
    options.file = prog_args[0];
    options.args = prog_args;
    uv_exited = false;
    rc = uv_spawn(&uv_loop, &process, &options);
    if (rc != 0)
        die("uv_spawn(%s): %s", prog_args[0], uv_strerror(rc));
    rc = uv_run(&uv_loop, UV_RUN_DEFAULT);
    if (rc != 0 || !uv_exited || uv_status != 0)
        die("uv_run: %d, the child %s with %lld", rc, uv_exited ? "exited" : "did not exit",
            (long long)uv_status);
}
#endif

#if defined(WEFT_BENCH_HAVE_APR)
/* The children's records and attributes come from a pool that is cleared
 * after each child (else it grows by them), made and destroyed per run. */
static apr_pool_t *apr_run_pool;

static void setup_apr(void)
{
    static bool initialised;

    if (!initialised) {
        initialised = true;
        if (apr_initialize() != APR_SUCCESS)
            die("apr_initialize failed");
        atexit(apr_terminate);
    }
    if (apr_pool_create(&apr_run_pool, NULL) != APR_SUCCESS)
        die("apr_pool_create failed");
}

static void teardown_apr(void)
{
    apr_pool_destroy(apr_run_pool);
}

/* apr_proc_create with the program's path and this environment
 * (APR_PROGRAM_ENV: no PATH search), then apr_proc_wait. */
static void one_apr_proc(void)
{
    apr_procattr_t *attr;
    apr_proc_t proc;
    apr_exit_why_e why;
    int code = -1;
    apr_status_t rv;

    if (apr_procattr_create(&attr, apr_run_pool) != APR_SUCCESS ||
        apr_procattr_cmdtype_set(attr, APR_PROGRAM_ENV) != APR_SUCCESS)
        die("apr_procattr_create failed");
    rv = apr_proc_create(&proc, prog_args[0], (const char *const *)prog_args, NULL, attr,
                         apr_run_pool);
    if (rv != APR_SUCCESS)
        die("apr_proc_create(%s): error %d", prog_args[0], (int)rv);
    rv = apr_proc_wait(&proc, &code, &why, APR_WAIT);
    if (rv != APR_CHILD_DONE || why != APR_PROC_EXIT || code != 0)
        die("apr_proc_wait: status %d, why %d, exit code %d", (int)rv, (int)why, code);
    apr_pool_clear(apr_run_pool);
}
#endif

/* One run: children started and waited for one after the other until at
 * least min_n of them have been and min_ms have passed. Returns the
 * milliseconds per child; *count gets how many there were. */
static double run(void (*one)(void), long min_n, long min_ms, long *count)
{
    int64_t t0 = weft_monotonic_ns(), t;
    long n = 0;

    do {
        one();
        n++;
        t = weft_monotonic_ns() - t0;
    } while (n < min_n || t < (int64_t)min_ms * 1000000);
    if (count)
        *count = n;
    return (double)t / 1e6 / (double)n;
}

/* A head-to-head run: children of `a` and of `b` in turns, ABBA..., each
 * child timed on its own, until each side has had at least min_n and the
 * run has lasted min_ms. Returns a's time over b's; *count gets the
 * children of each side. Both sides see the same moments of the machine,
 * so a stall or a drift that would fall on one whole run of the rotation
 * falls on both here. */
static double run_alternating(void (*a)(void), void (*b)(void), long min_n, long min_ms,
                              long *count)
{
    int64_t ta = 0, tb = 0, t0, t1, t2;
    long n = 0;

    do {
        void (*first)(void) = n % 2 ? b : a;
        void (*second)(void) = n % 2 ? a : b;

        t0 = weft_monotonic_ns();
        first();
        t1 = weft_monotonic_ns();
        second();
        t2 = weft_monotonic_ns();
        ta += n % 2 ? t2 - t1 : t1 - t0;
        tb += n % 2 ? t1 - t0 : t2 - t1;
        n++;
    } while (n < min_n || ta + tb < (int64_t)min_ms * 1000000);
    if (count)
        *count = n;
    return (double)ta / (double)tb;
}

enum { T_SPAWN, T_PROCESS };

typedef struct competitor {
    int table;          /* T_SPAWN or T_PROCESS */
    const char *family; /* the rows compared with one baseline; the @result
                           family is this and ".small" or ".large" */
    const char *name;   /* in the tables, and what --only matches */
    const char *result; /* the competitor of the @result lines */
    bool baseline;
    void (*one)(void);  /* start one child and wait for it */
    void (*setup)(void);    /* before each run of `one`, untimed; or NULL */
    void (*teardown)(void); /* after it; or NULL */
} competitor;

static const competitor competitors[] = {
    {T_SPAWN, "spawn", "weft_popen_start+wait", "weft", false, one_weft_popen, NULL, NULL},
    {T_SPAWN, "spawn", "weft_run", "weft_run", false, one_weft_run, NULL, NULL},
    {T_SPAWN, "spawn", "fork+execv+waitpid", "fork+execv", false, one_fork_exec, NULL, NULL},
    {T_SPAWN, "spawn", "posix_spawn+waitpid", "posix_spawn (fds left open)", true,
     one_posix_spawn, NULL, NULL},
#if HAVE_ADDCLOSEFROM
    {T_SPAWN, "spawn", "posix_spawn+closefrom+waitpid", "posix_spawn+closefrom", false,
     one_posix_spawn_closefrom, NULL, NULL},
#endif
#if HAVE_VFORK
    {T_SPAWN, "spawn", "vfork+execv+waitpid (ref)", "vfork+execv (ref)", false, one_vfork_exec,
     NULL, NULL},
#endif
#if defined(WEFT_BENCH_HAVE_GLIB)
    {T_SPAWN, "spawn", "GLib g_spawn_sync", "GLib g_spawn_sync", false, one_glib_spawn, NULL,
     NULL},
    {T_SPAWN, "spawn", "GLib g_spawn_sync, fds open", "GLib g_spawn_sync (fds left open)", false,
     one_glib_spawn_fds_open, NULL, NULL},
#endif
#if defined(WEFT_BENCH_HAVE_UV)
    {T_SPAWN, "spawn", "libuv uv_spawn+uv_run", "libuv uv_spawn", false, one_uv_spawn, setup_uv,
     teardown_uv},
#endif
#if defined(WEFT_BENCH_HAVE_APR)
    {T_SPAWN, "spawn", "APR apr_proc_create+wait", "APR apr_proc_create", false, one_apr_proc,
     setup_apr, teardown_apr},
#endif
    {T_PROCESS, "process.spawn", "weft_process SPAWN+join", "weft", false, one_weft_process_spawn,
     NULL, NULL},
    {T_PROCESS, "process.spawn", "posix_spawn(self)+waitpid", "posix_spawn(self) (ref)", true,
     one_posix_spawn_self, NULL, NULL},
    {T_PROCESS, "process.fork", "weft_process FORK+join", "weft", false, one_weft_process_fork,
     NULL, NULL},
    {T_PROCESS, "process.fork", "fork+_exit+waitpid", "fork+_exit (ref)", true, one_fork_exit,
     NULL, NULL},
};

#define NCOMP ((int)(sizeof competitors / sizeof competitors[0]))

static bool available[NCOMP];

/* One run of competitor c, between its setup and teardown. */
static double run_competitor(int c, long min_n, long min_ms, long *count)
{
    double ms;

    if (competitors[c].setup)
        competitors[c].setup();
    ms = run(competitors[c].one, min_n, min_ms, count);
    if (competitors[c].teardown)
        competitors[c].teardown();
    return ms;
}

static bool any_available(void)
{
    for (int c = 0; c < NCOMP; c++)
        if (available[c])
            return true;
    return false;
}

static int baseline_of(int c)
{
    for (int i = 0; i < NCOMP; i++)
        if (available[i] && competitors[i].baseline &&
            strcmp(competitors[i].family, competitors[c].family) == 0)
            return i;
    return -1;
}

static int find_competitor(const char *name)
{
    for (int c = 0; c < NCOMP; c++)
        if (strcmp(competitors[c].name, name) == 0)
            return c;
    die("no competitor %s", name);
}

/* Whether `name` contains one of the comma-separated parts of `only`
 * (NULL: every name). */
static bool selected(const char *name, const char *only)
{
    char part[128];

    while (only && *only) {
        size_t len = strcspn(only, ",");

        if (len > 0 && len < sizeof part) {
            memcpy(part, only, len);
            part[len] = '\0';
            if (strstr(name, part))
                return true;
        }
        only += len + (only[len] == ',');
    }
    return !only;
}

/* ---- The large parent ---------------------------------------------------------------- */

typedef struct memory_use {
    double rss_mib;       /* resident, from /proc/self/smaps_rollup; -1: unknown */
    double huge_mib;      /* of which anonymous huge pages; -1: unknown */
} memory_use;

static memory_use read_memory_use(void)
{
    memory_use m = {-1, -1};
#if defined(__linux__)
    FILE *f = fopen("/proc/self/smaps_rollup", "r");
    char line[256];
    long long kb;

    if (!f)
        return m;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "Rss: %lld kB", &kb) == 1)
            m.rss_mib = (double)kb / 1024.0;
        else if (sscanf(line, "AnonHugePages: %lld kB", &kb) == 1)
            m.huge_mib = (double)kb / 1024.0;
    }
    fclose(f);
#endif
    return m;
}

/* malloc `bytes` and write a byte to every page of them, through a
 * volatile pointer so no store can be dropped. */
static char *touch_memory(size_t bytes, bool thp)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    char *block = malloc(bytes);
    volatile char *v = block;

    if (!block)
        die("malloc(%zu MiB) failed", bytes >> 20);
#if defined(__linux__) && defined(MADV_NOHUGEPAGE)
    if (!thp) {
        uintptr_t start = ((uintptr_t)block + page - 1) & ~(uintptr_t)(page - 1);
        uintptr_t end = ((uintptr_t)block + bytes) & ~(uintptr_t)(page - 1);

        if (end > start && madvise((void *)start, end - start, MADV_NOHUGEPAGE) != 0)
            die("madvise(MADV_NOHUGEPAGE): %s", strerror(errno));
    }
#else
    (void)thp;
#endif
    for (size_t off = 0; off < bytes; off += page)
        v[off] = (char)(off / page) | 1;
    v[bytes - 1] = 1;
    return block;
}

/* ---- Settings ---------------------------------------------------------------------- */

typedef struct settings {
    int reps;
    long long spawns;
    long long run_ms;
    long long slice_ms;
    long long mem_mib;
    const char *program;
    bool thp;
    bool verbose;
    const char *only; /* NULL, or comma-separated parts of competitor names */
} settings;

static const char usage[] =
    "usage: bench_spawn [--smoke] [--reps N] [--spawns N] [--run-ms N] [--slice-ms N]\n"
    "                   [--mem-mib N] [--program PATH] [--thp] [--verbose]\n"
    "                   [--only A,B,...]\n"
    "  --reps N        repetitions, each measuring every competitor at each parent\n"
    "                  size (default 11)\n"
    "  --spawns N      the fewest turns of each competitor in a phase, and the\n"
    "                  fewest children of each side of a head-to-head run\n"
    "                  (default 10)\n"
    "  --run-ms N      the turns of a phase, and a head-to-head run, go on until\n"
    "                  they have also lasted N ms (default 200)\n"
    "  --slice-ms N    a competitor's turn starts children until it has lasted\n"
    "                  N ms, and at least one (default 5)\n"
    "  --mem-mib N     MiB the large parent mallocs and touches (default 2048)\n"
    "  --program PATH  the trivial program: a path, or a name looked up on PATH\n"
    "                  once (default: the first `true` on PATH, else /bin/true)\n"
    "  --thp           leave the large block's pages to the system's transparent\n"
    "                  huge page setting (default on Linux: MADV_NOHUGEPAGE, 4 KiB\n"
    "                  pages, fork's worst case)\n"
    "  --verbose       print every run as it ends, on stderr\n"
    "  --only A,B      run only the competitors whose names contain A or B\n"
    "  --smoke         a quick check: 1 repetition, 3 turns and 5 ms, turns of\n"
    "                  1 ms, a 256 MiB large parent\n"
    BENCH_REGIME_USAGE
    "environment: WEFT_BENCH_REPS, WEFT_BENCH_SPAWNS, WEFT_BENCH_RUN_MS,\n"
    "  WEFT_BENCH_SLICE_MS, WEFT_BENCH_MEM_MIB, WEFT_BENCH_PROGRAM set the same;\n"
    "  the command line wins\n";

/* ---- Output ------------------------------------------------------------------------------- */

static double results[PHASES][NCOMP][MAX_REPS];
static double counts[PHASES][NCOMP][MAX_REPS]; /* children per phase */

/* One phase's turns: each competitor's milliseconds per child, one value
 * per turn (grown as needed). */
static double *turn_ms[NCOMP];
static size_t turn_cap[NCOMP];

/* The head-to-head runs: each weft spawn against raw posix_spawn. */
static const char *const pair_names[] = {"weft_popen_start+wait", "weft_run"};
#define NPAIRS ((int)(sizeof pair_names / sizeof pair_names[0]))
static int pair_comp[NPAIRS];   /* the competitor; -1: not run */
static double h2h[PHASES][NPAIRS][MAX_REPS];
static double h2h_counts[PHASES][NPAIRS][MAX_REPS];
static const char *phase_names[PHASES];

static void print_table(int table, const char *title, int reps)
{
    bool any = false;

    for (int c = 0; c < NCOMP; c++)
        any |= available[c] && competitors[c].table == table;
    if (!any)
        return;
    printf("\n%s (lower is better)\n", title);
    printf("  ratio = median / median of the baseline row at the same parent size;\n"
           "  paired = the same ratio within each repetition: median (min-max)\n");
    printf("  n/run = the median number of children per phase (a repetition's turns)\n");
    printf("%-30s %-9s %6s %9s %9s %9s  %5s  %s\n", "competitor", "parent", "n/run", "median",
           "min", "max", "ratio", "paired");
    for (int ph = 0; ph < PHASES; ph++) {
        for (int c = 0; c < NCOMP; c++) {
            int b = baseline_of(c);

            if (!available[c] || competitors[c].table != table)
                continue;
            printf("%-30s %-9s %6.0f", competitors[c].name, phase_names[ph],
                   median(counts[ph][c], reps));
            print_stats(results[ph][c], b < 0 ? NULL : results[ph][b], b == c, reps, "%.3f", 0);
            printf("%s\n", competitors[c].baseline ? "  <- baseline" : "");
        }
    }
}

/* "x1.02; paired 1.01 (0.97-1.05)" for v against base. */
static void print_ratio(const double *v, const double *base, int reps)
{
    double ratios[MAX_REPS] = {0}, lo, hi;

    paired_ratios(v, base, reps, ratios);
    min_max(ratios, reps, &lo, &hi);
    printf("x%.2f; paired %.2f (%.2f-%.2f)", median_ratio(v, base, reps), median(ratios, reps),
           lo, hi);
}

static void print_growth(int reps)
{
    printf("\nLarge parent / small parent, per method: ratio of medians; paired median (min-max)\n");
    for (int c = 0; c < NCOMP; c++) {
        if (!available[c])
            continue;
        printf("  %-30s ", competitors[c].name);
        print_ratio(results[LARGE][c], results[SMALL][c], reps);
        printf("\n");
    }
}

static void print_h2h(int reps)
{
    bool any = false;

    for (int k = 0; k < NPAIRS; k++)
        any |= pair_comp[k] >= 0;
    if (!any)
        return;
    printf("\nHead to head: weft's children and raw posix_spawn's in turns in one run,\n"
           "each child timed; the ratio weft / posix_spawn of each run (lower is better)\n");
    printf("%-30s %-9s %6s %9s %9s %9s\n", "weft", "parent", "n/run", "median", "min", "max");
    for (int ph = 0; ph < PHASES; ph++) {
        for (int k = 0; k < NPAIRS; k++) {
            double lo, hi;

            if (pair_comp[k] < 0)
                continue;
            min_max(h2h[ph][k], reps, &lo, &hi);
            printf("%-30s %-9s %6.0f %9.3f %9.3f %9.3f\n", pair_names[k], phase_names[ph],
                   median(h2h_counts[ph][k], reps), median(h2h[ph][k], reps), lo, hi);
        }
    }
}

/* One bar, at most `bar`: judged on `judged`, with `also` (a ratio of runs
 * made seconds apart) shown beside it. Returns whether it holds. */
static bool print_bar(const char *what, const char *how, double judged, double lo, double hi,
                      double also, double bar)
{
    bool ok = judged <= bar;

    printf("  %-42s %-12s %5.2f (%4.2f-%4.2f)  %7.2f  %s\n", what, how, judged, lo, hi, also,
           ok ? "ok" : "MISSED");
    return ok;
}

static bool print_bars(int reps)
{
    int ps = find_competitor("posix_spawn+waitpid");
    double ratios[MAX_REPS], lo, hi, own;
    bool all = true;
    int checked = 0;
    char what[128];

    printf("\nThe bars, each at most 1.10. Judged on: weft / posix_spawn, the head-to-head\n"
           "median; large / small, the median over the repetitions of the large phase's\n"
           "head-to-head ratio over the small phase's (what a large parent costs weft beyond\n"
           "what it costs posix_spawn). Shown beside, not judged: the ratio of the medians\n"
           "of the tables, and for large / small weft's own paired ratio; both compare runs\n"
           "made seconds apart, which a busy machine skews by more than 10%%.\n");
    printf("  %-42s %-12s %5s %-11s  %7s  %s\n", "bar", "judged on", "value", "(min-max)",
           "beside", "verdict");
    for (int k = 0; k < NPAIRS; k++) {
        int w = pair_comp[k];

        if (w < 0) {
            printf("  %-44s n/a: not run with posix_spawn+waitpid\n", pair_names[k]);
            continue;
        }
        checked += 3;
        paired_ratios(results[LARGE][w], results[SMALL][w], reps, ratios);
        own = median(ratios, reps);
        paired_ratios(h2h[LARGE][k], h2h[SMALL][k], reps, ratios);
        min_max(ratios, reps, &lo, &hi);
        snprintf(what, sizeof what, "%s: large / small", pair_names[k]);
        all &= print_bar(what, "h2h ratios", median(ratios, reps), lo, hi, own, 1.10);
        for (int ph = 0; ph < PHASES; ph++) {
            min_max(h2h[ph][k], reps, &lo, &hi);
            snprintf(what, sizeof what, "%s / posix_spawn, %s", pair_names[k],
                     ph == SMALL ? "small" : "large");
            all &= print_bar(what, "head to head", median(h2h[ph][k], reps), lo, hi,
                             median_ratio(results[ph][w], results[ph][ps], reps), 1.10);
        }
    }
    if (checked == 0)
        printf("  verdict: no bar checked\n");
    else
        printf("  verdict: %s%s\n", all ? "weft meets every bar" : "WEFT MISSES AT LEAST ONE BAR",
               checked < 3 * NPAIRS ? " (of those checked)" : "");
    return all;
}

/* weft against every other row of its family, at each parent size: the
 * time ratio weft / other (below 1.00 weft is faster), and the best other. */
static void print_summary(int reps)
{
    printf("\nSummary: weft against every other competitor at the same parent size; time\n"
           "ratio weft / other, ratio of medians; paired median (min-max); below 1.00 weft\n"
           "is faster. weft's row of the spawn family is weft_popen_start+wait.\n");
    for (int ph = 0; ph < PHASES; ph++) {
        for (int w = 0; w < NCOMP; w++) {
            int best = -1;

            if (!available[w] || strcmp(competitors[w].result, "weft") != 0)
                continue;
            for (int c = 0; c < NCOMP; c++) {
                double ratios[MAX_REPS] = {0}, lo, hi;

                if (c == w || !available[c] || strcmp(competitors[c].family, competitors[w].family))
                    continue;
                if (best < 0 || median(results[ph][c], reps) < median(results[ph][best], reps))
                    best = c;
                paired_ratios(results[ph][w], results[ph][c], reps, ratios);
                min_max(ratios, reps, &lo, &hi);
                printf("  %-13s %-9s vs %-30s x%6.3f; %6.3f (%.3f-%.3f)  %s\n",
                       competitors[w].family, phase_names[ph], competitors[c].name,
                       median_ratio(results[ph][w], results[ph][c], reps), median(ratios, reps),
                       lo, hi, verdict(results[ph][w], results[ph][c], reps, true));
            }
            if (best >= 0)
                printf("  %-13s %-9s best other: %s; weft x%.3f of it (paired %.3f)\n",
                       competitors[w].family, phase_names[ph], competitors[best].name,
                       median_ratio(results[ph][w], results[ph][best], reps),
                       paired_median(results[ph][w], results[ph][best], reps));
        }
    }
}

/* One @result line per row and parent size: family "spawn.small",
 * "spawn.large", "process.spawn.small", ..., milliseconds per child. */
static void print_results(int reps)
{
    char family[64];

    for (int ph = 0; ph < PHASES; ph++) {
        for (int c = 0; c < NCOMP; c++) {
            if (!available[c])
                continue;
            snprintf(family, sizeof family, "%s.%s", competitors[c].family,
                     ph == SMALL ? "small" : "large");
            bench_result(family, competitors[c].result, results[ph][c], reps, "ms", false);
        }
    }
}

/* ---- main ----------------------------------------------------------------------------------- */

/* The untimed run that opens each phase, in milliseconds. */
#define SETTLE_MS 20

/* The median of v[0..n-1], which it sorts. */
static double median_in_place(double *v, size_t n)
{
    qsort(v, n, sizeof *v, compare_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

/* The competitors of one phase in turns: round after round, each runs a
 * turn (children one after the other for --slice-ms, at least one), the
 * first one rotating from round to round, until there have been --spawns
 * rounds and --run-ms ms. A competitor's result is the median of its
 * turns' milliseconds per child: every competitor sees the same moments
 * of the machine, and the turns a neighbour's burst hit fall out. */
static void run_turns(int phase, int r, const settings *s)
{
    int list[NCOMP], nlist = 0;
    size_t nturns[NCOMP] = {0};
    long children[NCOMP] = {0};
    long rounds = 0;
    int64_t t0 = weft_monotonic_ns();

    for (int c = 0; c < NCOMP; c++)
        if (available[c])
            list[nlist++] = c;
    do {
        for (int k = 0; k < nlist; k++) {
            int c = list[(rounds + r + k) % nlist];
            long n;
            double ms = run_competitor(c, 1, (long)s->slice_ms, &n);

            if (nturns[c] == turn_cap[c]) {
                size_t cap = turn_cap[c] ? 2 * turn_cap[c] : 64;
                double *grown = realloc(turn_ms[c], cap * sizeof *grown);

                if (!grown)
                    die("out of memory");
                turn_ms[c] = grown;
                turn_cap[c] = cap;
            }
            turn_ms[c][nturns[c]++] = ms;
            children[c] += n;
        }
        rounds++;
    } while (rounds < s->spawns || weft_monotonic_ns() - t0 < (int64_t)s->run_ms * 1000000);
    for (int k = 0; k < nlist; k++) {
        int c = list[k];

        results[phase][c][r] = median_in_place(turn_ms[c], nturns[c]);
        counts[phase][c][r] = (double)children[c];
        if (s->verbose)
            fprintf(stderr, "rep %d %-9s %-30s %4ld children in %zu turns, median %.3f ms\n",
                    r + 1, phase_names[phase], competitors[c].name, children[c], nturns[c],
                    results[phase][c][r]);
    }
}

static void run_phase(int phase, int r, const settings *s)
{
    fflush(stdout);
    fflush(stderr);
    /* The first run after the block was touched or freed is some 10%
     * slower, whatever runs it (the caches and the kernel's free page
     * lists are in disarray): an untimed run of raw posix_spawn takes
     * that, not whichever competitor comes first. */
    (void)run(one_posix_spawn, 1, SETTLE_MS, NULL);
    run_turns(phase, r, s);
    for (int i = 0; i < NPAIRS; i++) {
        int k = (r + i) % NPAIRS;
        long n;

        if (pair_comp[k] < 0)
            continue;
        h2h[phase][k][r] = run_alternating(competitors[pair_comp[k]].one, one_posix_spawn,
                                           (long)s->spawns, (long)s->run_ms, &n);
        h2h_counts[phase][k][r] = (double)n;
        if (s->verbose)
            fprintf(stderr, "rep %d %-9s %-30s %4ld pairs   weft / posix_spawn %.3f\n", r + 1,
                    phase_names[phase], pair_names[k], n, h2h[phase][k][r]);
    }
}

int main(int argc, char **argv)
{
    settings s = {.reps = 11, .spawns = 10, .run_ms = 200, .slice_ms = 5, .mem_mib = 2048,
                  .program = NULL};
    const bench_option options[] = {
        BENCH_OPT_INT("--reps", "WEFT_BENCH_REPS", &s.reps, 1, MAX_REPS, 1),
        BENCH_OPT_REGIME,
        BENCH_OPT_LLONG("--spawns", "WEFT_BENCH_SPAWNS", &s.spawns, 1, 10000000, 3),
        BENCH_OPT_LLONG("--run-ms", "WEFT_BENCH_RUN_MS", &s.run_ms, 0, 3600000, 5),
        BENCH_OPT_LLONG("--slice-ms", "WEFT_BENCH_SLICE_MS", &s.slice_ms, 0, 3600000, 1),
        BENCH_OPT_LLONG("--mem-mib", "WEFT_BENCH_MEM_MIB", &s.mem_mib, 1,
                        (long long)(SIZE_MAX >> 21), 256),
        BENCH_OPT_TEXT("--program", "WEFT_BENCH_PROGRAM", &s.program),
        BENCH_OPT_FLAG("--thp", &s.thp, true),
        BENCH_OPT_FLAG("--verbose", &s.verbose, true),
        BENCH_OPT_TEXT("--only", NULL, &s.only),
    };
    double touch_ms[MAX_REPS], rss[PHASES][MAX_REPS], huge[PHASES][MAX_REPS];
    char large_name[32];
    int64_t started;
    int rc;

    /* The posix_spawn(self) baseline's child: out before weft is touched. */
    if (argc == 2 && strcmp(argv[1], EXIT_AT_ONCE) == 0)
        return 0;
    /* A child of the spawn start method runs its target in here. */
    rc = weft_process_register(TARGET, noop_target);
    if (rc != WEFT_OK)
        die("weft_process_register: %s", weft_strerror(rc));
    weft_process_main(argc, argv);

    bench_parse_options(options, BENCH_NOPTS(options), usage, argc, argv);
    /* A path as given (not resolved: a multi-call binary behind a symbolic
     * link goes by its argv[0]); a bare name from PATH, here, once. */
    if (s.program)
        prog_args[0] = strchr(s.program, '/') ? strdup(s.program) : find_on_path(s.program);
    else if (!(prog_args[0] = find_on_path("true")))
        prog_args[0] = strdup("/bin/true");
    if (!prog_args[0] || access(prog_args[0], X_OK) != 0)
        die("the program %s is not an executable file on PATH or at that path",
            s.program ? s.program : "/bin/true");
    self_args[0] = find_self(argv[0]);
    self_args[1] = EXIT_AT_ONCE;
    for (int c = 0; c < NCOMP; c++)
        available[c] = (competitors[c].one != one_posix_spawn_self || self_args[0]) &&
                       selected(competitors[c].name, s.only);
    if (s.only && !any_available())
        die("--only %s: no competitor's name contains that", s.only);
    for (int k = 0; k < NPAIRS; k++) {
        int w = find_competitor(pair_names[k]);

        pair_comp[k] = available[w] && available[find_competitor("posix_spawn+waitpid")] ? w : -1;
    }
    snprintf(large_name, sizeof large_name, "%lld MiB", s.mem_mib);
    phase_names[SMALL] = "small";
    phase_names[LARGE] = large_name;

    printf("weft bench_spawn: spawn+wait of a program and process start+join, from a small\n"
           "parent and from one that touched %lld MiB, against the raw POSIX calls\n", s.mem_mib);
    print_command(argc, argv, options, BENCH_NOPTS(options));
    printf("settings: %d repetition%s; a phase is at least %lld turns of every competitor\n"
           "          and %lld ms, a turn at least %lld ms; a head-to-head run at least\n"
           "          %lld pairs and %lld ms; large parent %lld MiB, %s\n",
           s.reps, s.reps == 1 ? "" : "s", s.spawns, s.run_ms, s.slice_ms, s.spawns, s.run_ms,
           s.mem_mib,
#if defined(__linux__)
           s.thp ? "pages as the system's THP setting gives them" : "4 KiB pages (MADV_NOHUGEPAGE)"
#else
           "pages as the system gives them"
#endif
    );
    print_skipped();
    printf("program:  %s\n", prog_args[0]);
    print_build();
    printf("machine:  %d CPUs usable\n", weft_cpu_count());
    bench_regime(bench_regime_confined());
    printf("order:    in each repetition a small and a large phase, small first in even\n"
           "          repetitions and large first in odd ones; the block is allocated and\n"
           "          touched before the large phase and freed after it; within a phase,\n"
           "          after an untimed %d ms run of posix_spawn, the competitors take\n"
           "          turns, the first one rotating; then the head-to-head runs\n",
           SETTLE_MS);
    if (!self_args[0])
        printf("note:     this executable's path is unknown; no posix_spawn(self) row\n");
    fflush(stdout);

    started = weft_monotonic_ns();
    /* One untimed round: code, weft's first-use setup (the executable's
     * path, the exit hook), the programs in the page cache. */
    for (int c = 0; c < NCOMP; c++)
        if (available[c])
            (void)run_competitor(c, 1, (long)(s.run_ms / 10), NULL);

    for (int r = 0; r < s.reps; r++) {
        for (int k = 0; k < PHASES; k++) {
            int phase = r % 2 == 0 ? k : PHASES - 1 - k;
            memory_use m;
            char *block = NULL;

            if (phase == LARGE) {
                int64_t t0 = weft_monotonic_ns();
                block = touch_memory((size_t)s.mem_mib << 20, s.thp);
                touch_ms[r] = (double)(weft_monotonic_ns() - t0) / 1e6;
            }
            m = read_memory_use();
            rss[phase][r] = m.rss_mib;
            huge[phase][r] = m.huge_mib;
            run_phase(phase, r, &s);
            free(block);
        }
    }

    printf("\nparent:   resident (Rss of /proc/self/smaps_rollup), median over repetitions:\n");
    for (int ph = 0; ph < PHASES; ph++) {
        if (median(rss[ph], s.reps) < 0)
            printf("          %-9s unknown on this system\n", phase_names[ph]);
        else
            printf("          %-9s %.1f MiB, of which %.1f MiB anonymous huge pages\n",
                   phase_names[ph], median(rss[ph], s.reps), median(huge[ph], s.reps));
    }
    {
        double lo, hi;

        min_max(touch_ms, s.reps, &lo, &hi);
        printf("          touching the block took %.0f ms (%.0f-%.0f), outside every "
               "measurement\n", median(touch_ms, s.reps), lo, hi);
    }

    print_table(T_SPAWN, "Spawn + wait of the program: milliseconds per child", s.reps);
    print_table(T_PROCESS, "Process start + join of a target that returns 0: milliseconds per child",
                s.reps);
    print_growth(s.reps);
    print_h2h(s.reps);
    print_bars(s.reps);
    print_summary(s.reps);
    printf("\n");
    print_results(s.reps);
    printf("\ntotal time: %.1f s\n", (double)(weft_monotonic_ns() - started) / 1e9);
    free(prog_args[0]);
    free(self_args[0]);
    for (int c = 0; c < NCOMP; c++)
        free(turn_ms[c]);
    return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * Child processes on POSIX: posix_spawn, with the program searched on PATH
 * here so the search can follow the child's own PATH and never look in the
 * current directory; fork; waiting for a child's end without reaping it;
 * reaping; signals; the process id. The running executable's path and
 * the first argument are the OS files' (posix/linux.c, darwin.c, bsd.c).
 *
 * A child's end is waited for without reaping it: with no deadline by one
 * waitid(WNOWAIT) that sleeps until it ends; by a deadline on a pidfd,
 * opened at the first such wait, where the build uses them
 * (WEFT_CHILD_WAIT_PIDFD, Linux), else, or when the kernel gives none, by
 * polling waitid(WNOWAIT). child.c holds reaps off while anyone waits.
 */
#define _GNU_SOURCE /* ppoll, posix_spawn_file_actions_addclosefrom_np, addchdir_np */
#include "posix.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#if defined(WEFT_CHILD_WAIT_PIDFD)
#include <poll.h>
#include <sys/syscall.h>
#endif

/* The files a child is given land on descriptors 0, 1, 2, then 3... for
 * `pass`, then on for `inherit`. */
#define FIRST_PASS 3
#define MAX_PASS 2
_Static_assert(sizeof(((weft_sys_spawn_opts *)0)->pass) == MAX_PASS * sizeof(weft_sys_file),
               "MAX_PASS must match weft_sys_spawn_opts.pass");

/* The arguments appended to name the passed files: their fixed numbers. */
static const char *const pass_names[MAX_PASS] = {"3", "4"};

#if defined(WEFT_CHILD_WAIT_PIDFD)
/* The pidfd (close-on-exec from birth) that makes the child's end a
 * readable event; -1 when the kernel has none, and waits then poll. */
static intptr_t open_handle(pid_t pid)
{
    long fd = syscall(SYS_pidfd_open, pid, 0);

    return fd >= 0 ? (intptr_t)fd : -1;
}
#else
static intptr_t open_handle(pid_t pid)
{
    (void)pid;
    return -1;
}
#endif

/* opts->argv followed by the names of the passed files; NULL when out of
 * memory. */
static const char **child_argv(const weft_sys_spawn_opts *opts)
{
    const char **argv;
    size_t n = 0, i;

    while (opts->argv[n] != NULL)
        n++;
    argv = weft__malloc((n + opts->pass_count + 1) * sizeof *argv);
    if (argv == NULL)
        return NULL;
    memcpy(argv, opts->argv, n * sizeof *argv);
    for (i = 0; i < opts->pass_count; i++)
        argv[n + i] = pass_names[i];
    argv[n + opts->pass_count] = NULL;
    return argv;
}

/* A relative program path or PATH directory is then found from the new
 * directory, as exec in the child finds it (and as Python's subprocess
 * documents). */
static int add_chdir(posix_spawn_file_actions_t *actions, const char *cwd)
{
#if defined(WEFT_HAVE_SPAWN_CHDIR)
    return posix_spawn_file_actions_addchdir(actions, cwd);
#elif defined(WEFT_HAVE_SPAWN_CHDIR_NP)
    return posix_spawn_file_actions_addchdir_np(actions, cwd);
#else
    (void)actions;
    (void)cwd;
    return ENOSYS;
#endif
}

#if defined(WEFT_SPAWN_CLOSE_SCAN)
/* The most descriptors looked at where the open ones cannot be listed: a
 * limit of millions would make every spawn slow. */
#define SCAN_LIMIT 65536

/* Add a close action for `fd` unless exec closes it anyway. */
static int close_if_inherited(posix_spawn_file_actions_t *actions, int fd)
{
    int flags = fcntl(fd, F_GETFD);

    if (flags < 0 || (flags & FD_CLOEXEC) != 0)
        return WEFT_OK;
    flags = posix_spawn_file_actions_addclose(actions, fd);
    /* EBADF: fd is at or above RLIMIT_NOFILE (lowered since it was
     * opened), so no action can name it: the process is out of room. */
    if (flags == EBADF)
        flags = EMFILE;
    return weft__posix_status(flags, "posix_spawn_file_actions_addclose");
}

/* Without a closefrom action: a close action for every descriptor from
 * `first` on that is open and not close-on-exec, listed from /proc/self/fd
 * where it exists, else tried one by one. One that another thread closes
 * before the spawn is harmless: glibc and musl ignore a close action that
 * fails (only a number out of range is an error). */
static int close_the_rest(posix_spawn_file_actions_t *actions, int first)
{
    DIR *dir = opendir("/proc/self/fd");
    struct dirent *entry;
    long fd, max;
    int rc = WEFT_OK;

    if (dir != NULL) {
        while (rc == WEFT_OK && (entry = readdir(dir)) != NULL) {
            fd = strtol(entry->d_name, NULL, 10);
            if (entry->d_name[0] != '.' && fd >= first && fd != dirfd(dir))
                rc = close_if_inherited(actions, (int)fd);
        }
        closedir(dir);
        return rc;
    }
    max = sysconf(_SC_OPEN_MAX);
    if (max < 0 || max > SCAN_LIMIT)
        max = SCAN_LIMIT;
    for (fd = first; fd < max && rc == WEFT_OK; fd++)
        rc = close_if_inherited(actions, (int)fd);
    return rc;
}
#elif defined(WEFT_SPAWN_CLOSE_CLOSEFROM)
static int close_the_rest(posix_spawn_file_actions_t *actions, int first)
{
    int err = posix_spawn_file_actions_addclosefrom_np(actions, first);

    return weft__posix_status(err, "posix_spawn_file_actions_addclosefrom_np");
}
#else
/* POSIX_SPAWN_CLOEXEC_DEFAULT (set_attributes) closes the rest. */
static int close_the_rest(posix_spawn_file_actions_t *actions, int first)
{
    (void)actions;
    (void)first;
    return WEFT_OK;
}
#endif

/* The file the child finds on descriptor fd (of `targets`). */
static weft_sys_file file_for(const weft_sys_spawn_opts *opts, int fd)
{
    if (fd < FIRST_PASS)
        return opts->stdio[fd];
    if (fd < FIRST_PASS + (int)opts->pass_count)
        return opts->pass[fd - FIRST_PASS];
    return opts->inherit[fd - FIRST_PASS - (int)opts->pass_count];
}

/* The file actions that give the child its files on 0, 1, 2 and 3..,
 * close every other descriptor, and change directory. Each file goes
 * through a close-on-exec copy numbered above every target, so no dup2 can
 * overwrite a file a later one still reads (a pipe end that is descriptor
 * 1 in the parent but meant for the child's stderr, say). copy[] (one per
 * target) receives the copies (-1 where none), for the caller to close. */
static int add_files(posix_spawn_file_actions_t *actions, const weft_sys_spawn_opts *opts,
                     int targets, int *copy)
{
    int fd, err;

    for (fd = 0; fd < targets; fd++) {
        weft_sys_file src = file_for(opts, fd);
        bool own = fd < FIRST_PASS && src == WEFT__NO_FILE;

#if defined(WEFT_SPAWN_CLOSE_CLOEXEC)
        /* The parent's own standard file is given explicitly too: spawn
         * closes every descriptor no action names. */
#else
        /* The parent's own standard file is the child's already. */
        if (own)
            continue;
#endif
        copy[fd] = fcntl(own ? fd : (int)src, F_DUPFD_CLOEXEC, targets);
        if (copy[fd] < 0) {
            if (own && errno == EBADF)
                continue; /* the parent has none, so neither has the child */
            /* EINVAL: `targets` is at or above the limit, so no number
             * above the targets is free either. */
            return weft__posix_status(errno == EINVAL ? EMFILE : errno, "fcntl F_DUPFD_CLOEXEC");
        }
        err = posix_spawn_file_actions_adddup2(actions, copy[fd], fd);
        if (err != 0)
            return weft__posix_status(err, "posix_spawn_file_actions_adddup2");
    }
    err = close_the_rest(actions, targets);
    if (err != WEFT_OK)
        return err;
    if (opts->cwd != NULL) {
        err = add_chdir(actions, opts->cwd);
        if (err != 0)
            return weft__posix_status(err, "posix_spawn_file_actions_addchdir");
    }
    return WEFT_OK;
}

static int set_attributes(posix_spawnattr_t *attr, bool new_group)
{
    sigset_t none, defaults;
    short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    int err;

    /* The child starts as a fresh program would, not with the state of
     * whichever thread spawned it: no signal blocked, and SIGPIPE at its
     * default even if this process ignores it (Python's restore_signals). */
    sigemptyset(&none);
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
#if defined(WEFT_SPAWN_CLOSE_CLOEXEC)
    flags |= POSIX_SPAWN_CLOEXEC_DEFAULT; /* the rest is closed at exec */
#endif
    if (new_group)
        flags |= POSIX_SPAWN_SETPGROUP;
    err = posix_spawnattr_setsigmask(attr, &none);
    if (err == 0)
        err = posix_spawnattr_setsigdefault(attr, &defaults);
    if (err == 0 && new_group)
        err = posix_spawnattr_setpgroup(attr, 0);
    if (err == 0)
        err = posix_spawnattr_setflags(attr, flags);
    return weft__posix_status(err, "posix_spawnattr_set*");
}

/* The directories a name without a '/' is searched in: the PATH of the
 * child's environment when it sets one, else this process's. */
static const char *search_dirs(const char *const *env)
{
    const char *path;
    size_t i;

    for (i = 0; env != NULL && env[i] != NULL; i++)
        if (strncmp(env[i], "PATH=", 5) == 0)
            return env[i] + 5;
    path = getenv("PATH");
    return path != NULL ? path : "/bin:/usr/bin";
}

/* posix_spawn `name`, searched in `dirs` unless it holds a '/'. As execvp
 * does, a candidate that is missing (ENOENT, ENOTDIR) or not executable
 * (EACCES, remembered) passes to the next, and any other failure ends the
 * search. Empty elements of `dirs` are skipped: they would mean the current
 * directory. glibc, macOS and the BSDs return exec's errno from posix_spawn. */
static int spawn_program(pid_t *pid, const char *name, const char *dirs,
                         const posix_spawn_file_actions_t *actions, const posix_spawnattr_t *attr,
                         char *const *argv, char *const *envp)
{
    size_t name_len = strlen(name);
    bool denied = false;
    int err = ENOENT;

    if (strchr(name, '/') != NULL) {
        err = posix_spawn(pid, name, actions, attr, argv, envp);
    } else if (name_len > 0) {
        char *file = weft__malloc(strlen(dirs) + name_len + 2);
        const char *dir, *end;

        if (file == NULL)
            return weft__fail_text(WEFT_ENOMEM, "no memory for the program's path");
        for (dir = dirs;; dir = end + 1) {
            end = strchr(dir, ':');
            if (end == NULL)
                end = dir + strlen(dir);
            if (end > dir) {
                size_t dir_len = (size_t)(end - dir);

                memcpy(file, dir, dir_len);
                file[dir_len] = '/';
                memcpy(file + dir_len + 1, name, name_len + 1);
                err = posix_spawn(pid, file, actions, attr, argv, envp);
                if (err == EACCES)
                    denied = true;
                else if (err != ENOENT && err != ENOTDIR)
                    break;
            }
            if (*end == '\0')
                break;
        }
        weft__free(file);
    }

    if (err == 0)
        return WEFT_OK;
    if (err == ENOTDIR)
        err = ENOENT;
    if (denied && err == ENOENT)
        err = EACCES; /* found, but no permission to run it */
    /* musl's posix_spawn makes a pipe of its own: EMFILE and ENFILE are
     * descriptors running out, as for weft's own pipes (WEFT_EAGAIN). */
    if (err == ENOENT && strchr(name, '/') == NULL)
        return weft__fail_wrap(weft__posix_status(err, "posix_spawn"),
                               "not found in the PATH directories \"%.120s\"", dirs);
    return weft__posix_status(err, "posix_spawn");
}

/* The child's environment: opts->env or this process's, with the entry
 * that names inherit[0] (opts->inherit_env) first, in place of any so
 * named. *list is the caller's to free with free_env when it is not NULL
 * (when the entry was added). */
static int child_env(const weft_sys_spawn_opts *opts, char *const **envp, char ***list)
{
    char *const *base = opts->env != NULL ? (char *const *)opts->env : weft__os_environ();
    size_t n = 0, k = 1, i, name_len, cap;
    char **l;

    *envp = base;
    *list = NULL;
    if (opts->inherit_env == NULL || opts->inherit_count == 0)
        return WEFT_OK;
    while (base != NULL && base[n] != NULL)
        n++;
    name_len = strlen(opts->inherit_env);
    cap = name_len + 16; /* '=', an int, the NUL */
    l = weft__malloc((n + 2) * sizeof *l);
    if (l != NULL && (l[0] = weft__malloc(cap)) == NULL) {
        weft__free(l);
        l = NULL;
    }
    if (l == NULL)
        return weft__fail_text(WEFT_ENOMEM, "no memory for the child's environment");
    snprintf(l[0], cap, "%s=%d", opts->inherit_env, FIRST_PASS + (int)opts->pass_count);
    for (i = 0; i < n; i++)
        if (strncmp(base[i], l[0], name_len + 1) != 0) /* "NAME=" */
            l[k++] = base[i];
    l[k] = NULL;
    *envp = l;
    *list = l;
    return WEFT_OK;
}

static void free_env(char **list)
{
    if (list != NULL) {
        weft__free(list[0]);
        weft__free(list);
    }
}

int weft_sys_spawn(weft_sys_child *out, const weft_sys_spawn_opts *opts)
{
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    int *copy;
    char *const *envp;
    char **env_list;
    const char **argv;
    pid_t pid;
    int status, err, i, targets;

    if (opts->argv == NULL || opts->argv[0] == NULL || opts->pass_count > MAX_PASS ||
        opts->inherit_count > (size_t)(INT_MAX / 2))
        return WEFT_EINVAL;
    targets = FIRST_PASS + (int)opts->pass_count + (int)opts->inherit_count;
    argv = child_argv(opts);
    copy = weft__malloc((size_t)targets * sizeof *copy);
    if (argv == NULL || copy == NULL) {
        weft__free(argv);
        weft__free(copy);
        return weft__fail_text(WEFT_ENOMEM, "no memory for the child's argv");
    }
    for (i = 0; i < targets; i++)
        copy[i] = -1;
    err = posix_spawn_file_actions_init(&actions);
    if (err != 0) {
        weft__free(copy);
        weft__free(argv);
        return weft__posix_status(err, "posix_spawn_file_actions_init");
    }
    err = posix_spawnattr_init(&attr);
    if (err != 0) {
        posix_spawn_file_actions_destroy(&actions);
        weft__free(copy);
        weft__free(argv);
        return weft__posix_status(err, "posix_spawnattr_init");
    }

    /* posix_spawn's prototypes predate const; it writes to neither array. */
    status = child_env(opts, &envp, &env_list);
    if (status == WEFT_OK)
        status = add_files(&actions, opts, targets, copy);
    if (status == WEFT_OK)
        status = set_attributes(&attr, opts->new_process_group);
    if (status == WEFT_OK)
        status = spawn_program(&pid, opts->argv[0], search_dirs(opts->env), &actions, &attr,
                               (char *const *)argv, envp);

    for (i = 0; i < targets; i++)
        if (copy[i] >= 0)
            close(copy[i]);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&actions);
    free_env(env_list);
    weft__free(copy);
    weft__free(argv);
    if (status == WEFT_OK) {
        out->pid = pid;
        out->handle = -1;
        for (i = 0; i < (int)opts->inherit_count; i++)
            opts->inherit_as[i] = FIRST_PASS + (int)opts->pass_count + i;
    }
    return status;
}

weft_sys_file weft_sys_file_from_name(const char *name)
{
    int value = 0;

    if (*name == '\0')
        return WEFT__NO_FILE;
    for (; *name != '\0'; name++) {
        if (*name < '0' || *name > '9' || value > (INT_MAX - (*name - '0')) / 10)
            return WEFT__NO_FILE;
        value = value * 10 + (*name - '0');
    }
    return value;
}


#if defined(WEFT_CHILD_WAIT_PIDFD)
static int wait_pidfd(int fd, int64_t deadline_ns)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    struct timespec ts, *timeout = NULL;
    int n;

    for (;;) {
        if (deadline_ns != WEFT__NO_DEADLINE) {
            int64_t left = deadline_ns - weft_sys_monotonic_ns();

            if (left < 0)
                left = 0;
            ts = weft__timespec(left);
            timeout = &ts;
        }
        n = ppoll(&p, 1, timeout, NULL);
        if (n > 0)
            return p.revents & POLLNVAL ? weft__posix_status(EBADF, "ppoll pidfd") : WEFT_OK;
        if (n == 0)
            return WEFT_ETIMEDOUT;
        if (errno != EINTR)
            return weft__posix_status(errno, "ppoll pidfd");
    }
}
#endif

/* Ask waitid, and sleep between asks from 50 us doubling up to 5 ms: a
 * short child is seen soon, a long one costs few wake-ups. */
static int wait_polling(pid_t pid, int64_t deadline_ns)
{
    int64_t pause = 50000, now;
    struct timespec ts;
    siginfo_t info;

    for (;;) {
        /* Some systems leave info untouched when no child has ended. */
        memset(&info, 0, sizeof info);
        if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
            if (errno == EINTR)
                continue;
            if (errno == ECHILD)
                return WEFT_OK; /* gone already: the kernel reaped it (SIGCHLD ignored) */
            return weft__posix_status(errno, "waitid");
        }
        if (info.si_pid != 0)
            return WEFT_OK;
        now = weft_sys_monotonic_ns();
        if (now >= deadline_ns)
            return WEFT_ETIMEDOUT;
        ts = weft__timespec(deadline_ns - now < pause ? deadline_ns - now : pause);
        nanosleep(&ts, NULL);
        pause = pause * 2 < 5000000 ? pause * 2 : 5000000;
    }
}

void weft_sys_child_open(weft_sys_child *child)
{
    if (child->handle < 0)
        child->handle = open_handle((pid_t)child->pid);
}

/* Sleep in waitid until the child ends: the caller holds reaps off, so the
 * pid is still this child's. */
static int wait_blocking(pid_t pid)
{
    siginfo_t info;

    while (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT) != 0) {
        if (errno == ECHILD)
            return WEFT_OK; /* the kernel reaped it (SIGCHLD ignored) */
        if (errno != EINTR)
            return weft__posix_status(errno, "waitid");
    }
    return WEFT_OK;
}

int weft_sys_child_wait(const weft_sys_child *child, int64_t deadline_ns)
{
    if (deadline_ns == WEFT__NO_DEADLINE)
        return wait_blocking((pid_t)child->pid);
#if defined(WEFT_CHILD_WAIT_PIDFD)
    if (child->handle >= 0)
        return wait_pidfd((int)child->handle, deadline_ns);
#endif
    return wait_polling((pid_t)child->pid, deadline_ns);
}

int weft_sys_child_reap(weft_sys_child *child, int *code)
{
    pid_t r;
    int status;

    do
        r = waitpid((pid_t)child->pid, &status, WNOHANG);
    while (r < 0 && errno == EINTR);
    if (r == 0)
        return WEFT_EAGAIN;
    if (r < 0) {
        /* SIGCHLD set to SIG_IGN: the kernel reaped it and kept no status.
         * Python reports 0 then too. */
        if (errno != ECHILD)
            return weft__posix_status(errno, "waitpid");
        *code = 0;
        return WEFT_OK;
    }
    *code = WIFSIGNALED(status) ? -WTERMSIG(status) : WEXITSTATUS(status);
    return WEFT_OK;
}

int weft_sys_child_signal(const weft_sys_child *child, bool kill_it)
{
    /* ESRCH: the child has ended and has not been reaped, or the kernel
     * reaped it; either way there is nothing left to signal. */
    if (kill((pid_t)child->pid, kill_it ? SIGKILL : SIGTERM) != 0 && errno != ESRCH)
        return weft__posix_status(errno, "kill");
    return WEFT_OK;
}

int weft_sys_child_send_signal(const weft_sys_child *child, int sig, bool new_group)
{
    (void)new_group; /* kill() reaches the child alone, as Python's send_signal */
    if (kill((pid_t)child->pid, sig) == 0 || errno == ESRCH)
        return WEFT_OK;
    if (errno == EINVAL)
        return weft__fail(WEFT_EINVAL, "popen_send_signal: %d is not a signal number", sig);
    return weft__posix_status(errno, "kill");
}

void weft_sys_child_close(weft_sys_child *child)
{
    if (child->handle >= 0)
        close((int)child->handle);
    child->handle = -1;
}

int64_t weft_sys_getpid(void)
{
    return (int64_t)getpid();
}


bool weft__posix_proc_first_argument_is(const char *marker)
{
    char buf[8192];
    size_t len = 0, first;
    ssize_t n;
    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return false;
    do {
        n = read(fd, buf + len, sizeof buf - 1 - len);
        if (n > 0)
            len += (size_t)n;
    } while ((n > 0 && len < sizeof buf - 1) || (n < 0 && errno == EINTR));
    close(fd);
    buf[len] = '\0';
    first = strlen(buf) + 1; /* past argv[0] */
    return first < len && strcmp(buf + first, marker) == 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * Child processes: posix/child.c, win32/child.c (+ win32/cmdline.c);
 * used by child.c and the process layer.
 */
#ifndef WEFT_SYS_CHILD_H
#define WEFT_SYS_CHILD_H

#include "base.h"
#include "file.h"

/* ---- Child processes ------------------------------------------------------------- */

/* A started child process. `handle` is what a wait by a deadline needs
 * besides the pid: the process HANDLE on Windows; on Linux a pidfd, made
 * by weft_sys_child_open when first needed; else -1. */
typedef struct weft_sys_child {
    int64_t pid;
    intptr_t handle;
} weft_sys_child;

/* What weft_sys_spawn starts. */
typedef struct weft_sys_spawn_opts {
    /* The program and its arguments, UTF-8, NULL-terminated, at least the
     * program. A program without a directory separator is searched in the
     * directories of PATH (the PATH of `env` when it has one, else the
     * parent's), never in the current directory; on Windows a name without
     * an extension is tried with each of PATHEXT's. */
    const char *const *argv;
    const char *const *env; /* "K=V" entries, NULL-terminated; NULL: the parent's */
    const char *cwd;        /* NULL: the parent's */
    /* The child's stdin, stdout and stderr; WEFT__NO_FILE: the parent's own. */
    weft_sys_file stdio[3];
    /* Further files the child inherits (the spawn start method's channel).
     * The child learns their names from pass_count extra arguments that
     * the backend appends to argv: each the decimal value (a descriptor
     * number on POSIX, a handle value on Windows) under which the child
     * finds pass[i]; weft_sys_file_from_name() reads one back. */
    weft_sys_file pass[2];
    size_t pass_count;
    /* And these inherit_count files (the handles of weft_process_opts.pass),
     * named to the child by the caller's own means (the start message):
     * the backend stores in inherit_as[i] the value (descriptor number,
     * handle value) under which the child finds inherit[i]. */
    const weft_sys_file *inherit;
    weft_sys_file *inherit_as;
    size_t inherit_count;
    /* When not NULL (and inherit_count > 0): the name of an environment
     * variable the child finds inherit[0] by (a Popen child, whose argv is
     * the caller's): its environment (`env`, or this process's) gets the
     * entry "<inherit_env>=<that name>" in place of any entry so named. */
    const char *inherit_env;
    bool new_process_group; /* setpgid(0) / CREATE_NEW_PROCESS_GROUP */
} weft_sys_spawn_opts;

/* Start a program (posix_spawn; CreateProcessW with an explicit list of
 * inherited handles). The child inherits no file but its three standard
 * ones, `pass` and `inherit`. Returns WEFT_OK; WEFT_ENOENT when the program does not
 * exist (no PATH entry has it, or exec reported ENOENT); WEFT_EINVAL for an
 * empty argv, a bad pass entry, a string Windows cannot carry (not UTF-8,
 * '"' in argv[0], an env entry without '=', a command line over 32767
 * units, an argument to a .bat/.cmd program that cmd.exe would
 * re-interpret); WEFT_ENOMEM; WEFT_EOS
 * with the OS error (the errno exec failed with, e.g. EACCES). */
int weft_sys_spawn(weft_sys_child *out, const weft_sys_spawn_opts *opts);

/* In a spawned child: the file named by an argument that weft_sys_spawn
 * appended for a passed file, or WEFT__NO_FILE when `name` is not a
 * decimal number that can name one. */
weft_sys_file weft_sys_file_from_name(const char *name);

/* Whether this process's first argument (argv[1]) is `marker`, read from
 * what the OS keeps of the command line (/proc/self/cmdline, _NSGetArgv,
 * GetCommandLineW), since weft sees main()'s argv only when the program
 * calls weft_process_main. False where it cannot be read. Allocates
 * nothing; may open and close a file. */
bool weft_sys_first_argument_is(const char *marker);

/* Get the child ready for waits by a deadline: on Linux, open its pidfd
 * (when that fails, such waits poll). Call it while the child is not
 * reaped, serialised with the reap; Windows has nothing to do. */
void weft_sys_child_open(weft_sys_child *child);

/* Wait until the child has ended or the deadline passes, without reaping
 * it (several threads may wait at once). Without a deadline, one call that
 * sleeps until the child ends (waitid by pid on POSIX). With one: the
 * pidfd and poll on Linux, the process handle on Windows, polling where
 * neither exists. The caller keeps the child from being reaped while it
 * waits: its pid could then be given to another process. Returns WEFT_OK
 * once it has ended, WEFT_ETIMEDOUT, or WEFT_EOS. */
int weft_sys_child_wait(const weft_sys_child *child, int64_t deadline_ns);

/* Collect an ended child's exit code without blocking: its exit status, or
 * -N when signal N ended it (POSIX); the 32-bit exit code cast to int
 * (Windows). Returns WEFT_OK (then the pid is free
 * for reuse on POSIX: never call again, never signal it again), WEFT_EAGAIN
 * while it runs, or WEFT_EOS. The caller serialises reap and signal. */
int weft_sys_child_reap(weft_sys_child *child, int *code);

/* SIGTERM, or SIGKILL when `force`; on Windows TerminateProcess with exit
 * code 1 for both. Never called after a successful reap. Returns WEFT_OK
 * (also when the child has ended but is not reaped) or WEFT_EOS. */
int weft_sys_child_signal(const weft_sys_child *child, bool force);

/* Send `sig` as Popen.send_signal: POSIX kill(pid, sig); Windows,
 * as Python does: SIGTERM ends the child (weft_sys_child_signal),
 * CTRL_C_EVENT and CTRL_BREAK_EVENT go to its console process group by
 * GenerateConsoleCtrlEvent, only when it leads one (`new_group`: started
 * with new_process_group); any other value is WEFT_EINVAL. Never called
 * after a successful reap. Returns WEFT_OK (also when the child has ended
 * but is not reaped), WEFT_EINVAL with a message for a value that is not
 * a signal here, or WEFT_EOS. */
int weft_sys_child_send_signal(const weft_sys_child *child, int sig, bool new_group);

/* Free what the record holds besides the process itself (the pidfd, the
 * process handle); the child may still run. */
void weft_sys_child_close(weft_sys_child *child);

/* The calling process's id. */
int64_t weft_sys_getpid(void);

/* The path of the running executable, found without trusting argv[0]
 * (/proc/self/exe, _NSGetExecutablePath, sysctl KERN_PROC_PATHNAME,
 * GetModuleFileNameW), UTF-8, malloc'd into *out. Returns WEFT_OK,
 * WEFT_ENOMEM or WEFT_EOS. */
int weft_sys_executable_path(char **out);

#endif /* WEFT_SYS_CHILD_H */

/* SPDX-License-Identifier: MIT */
/* What differs on Linux (and Android): thread ids and names, the running
 * executable, the CPUs of the affinity mask, the CPU a thread runs on
 * (posix.h, "What differs"). */
#define _GNU_SOURCE /* pthread_setname_np, sched_getaffinity, CPU_COUNT, sched_getcpu */
#include "posix.h"

#include <errno.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

uint64_t weft_sys_thread_native_id(void)
{
    return (uint64_t)syscall(SYS_gettid);
}

uint64_t weft__os_main_thread_id(uint64_t recorded)
{
    (void)recorded;
    return (uint64_t)getpid(); /* the main thread's TID is the PID, in a forked child too */
}

void weft__os_set_thread_name(pthread_t thread, bool self, const char *name)
{
    char buf[16];

    (void)self;
    weft__posix_short_name(buf, name, 15); /* the kernel's TASK_COMM_LEN is 16 */
    pthread_setname_np(thread, buf);
}

char **weft__os_environ(void)
{
    return environ;
}

int weft_sys_current_cpu(void)
{
    /* glibc 2.35 and later read it from the thread's rseq area; the vDSO
     * before. */
    return sched_getcpu();
}

int weft__os_affinity_cpus(bool whole_process)
{
    cpu_set_t set;

    /* The main thread's mask (its id is the pid) is the process's as set
     * from outside, whatever the caller's own; 0 is the calling thread. */
    if (sched_getaffinity(whole_process ? getpid() : 0, sizeof set, &set) == 0)
        return CPU_COUNT(&set);
    return 0;
}

bool weft_sys_first_argument_is(const char *marker)
{
    return weft__posix_proc_first_argument_is(marker);
}

int weft_sys_executable_path(char **out)
{
    size_t size = 256;
    char *buf = NULL;

    for (;;) {
        char *bigger = weft__realloc(buf, size);
        ssize_t n;

        if (bigger == NULL) {
            weft__free(buf);
            return weft__fail_text(WEFT_ENOMEM, "no memory for the executable's path");
        }
        buf = bigger;
        n = readlink("/proc/self/exe", buf, size);
        if (n < 0) {
            int err = errno;

            weft__free(buf);
            return weft__posix_status(err, "readlink /proc/self/exe");
        }
        /* readlink truncates silently: a full buffer may hold part of it. */
        if ((size_t)n < size) {
            buf[n] = '\0';
            *out = buf;
            return WEFT_OK;
        }
        size *= 2;
    }
}

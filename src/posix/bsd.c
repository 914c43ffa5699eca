/* SPDX-License-Identifier: MIT */
/* What differs on FreeBSD, DragonFly, NetBSD and OpenBSD: thread ids and
 * names, the running executable (posix.h, "What differs"). */
#include "posix.h"

#include <errno.h>
#include <sys/types.h>
#include <sys/sysctl.h>
#include <unistd.h>
#if defined(__NetBSD__)
#include <lwp.h>
#else
#include <pthread_np.h>
#endif

extern char **environ;

uint64_t weft_sys_thread_native_id(void)
{
#if defined(__NetBSD__)
    return (uint64_t)_lwp_self();
#elif defined(__OpenBSD__)
    return (uint64_t)getthrid();
#else
    return (uint64_t)pthread_getthreadid_np();
#endif
}

/* The main thread's id is not the process id here: it is recorded when the
 * library is loaded, by the thread that loads it (for an executable, or a
 * library it links, the main thread), and again in a forked child. */
__attribute__((constructor)) static void record_main_thread_at_load(void)
{
    weft__posix_record_main_thread();
}

uint64_t weft__os_main_thread_id(uint64_t recorded)
{
    return recorded;
}

void weft__os_set_thread_name(pthread_t thread, bool self, const char *name)
{
    char buf[32];

    (void)self;
    weft__posix_short_name(buf, name, 31);
#if defined(__NetBSD__)
    pthread_setname_np(thread, "%s", buf);
#else
    pthread_set_name_np(thread, buf);
#endif
}

char **weft__os_environ(void)
{
    return environ;
}

int weft_sys_current_cpu(void)
{
    return -1; /* no cheap way to ask */
}

int weft__os_affinity_cpus(bool whole_process)
{
    (void)whole_process;
    return 0; /* sysconf counts the CPUs */
}

/* Where /proc is mounted; false elsewhere. */
bool weft_sys_first_argument_is(const char *marker)
{
    return weft__posix_proc_first_argument_is(marker);
}

#if defined(__OpenBSD__)
/* OpenBSD keeps no record of the executable's path: the spawn start method
 * cannot find its program there. */
int weft_sys_executable_path(char **out)
{
    (void)out;
    return weft__posix_status(ENOSYS, "weft_sys_executable_path");
}
#else
int weft_sys_executable_path(char **out)
{
#if defined(__NetBSD__)
    const int mib[4] = {CTL_KERN, KERN_PROC_ARGS, -1, KERN_PROC_PATHNAME};
#else
    const int mib[4] = {CTL_KERN, KERN_PROC, KERN_PROC_PATHNAME, -1};
#endif
    size_t size = 0;
    char *buf;

    /* The first call gives the size, NUL included. */
    if (sysctl(mib, 4, NULL, &size, NULL, 0) != 0)
        return weft__posix_status(errno, "sysctl KERN_PROC_PATHNAME");
    buf = weft__malloc(size);
    if (buf == NULL)
        return weft__fail_text(WEFT_ENOMEM, "no memory for the executable's path");
    if (sysctl(mib, 4, buf, &size, NULL, 0) != 0) {
        int err = errno;

        weft__free(buf);
        return weft__posix_status(err, "sysctl KERN_PROC_PATHNAME");
    }
    *out = buf;
    return WEFT_OK;
}
#endif

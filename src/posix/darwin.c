/* SPDX-License-Identifier: MIT */
/* What differs on macOS: thread ids and names, the environment and
 * arguments of a shared library's process, the running executable
 * (posix.h, "What differs"). */
#include "posix.h"

#include <crt_externs.h>
#include <errno.h>
#include <mach-o/dyld.h>
#include <stdlib.h>
#include <string.h>

uint64_t weft_sys_thread_native_id(void)
{
    uint64_t id = 0;

    pthread_threadid_np(NULL, &id);
    return id;
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
    char buf[64];

    (void)thread;
    if (!self)
        return; /* macOS names only the calling thread */
    weft__posix_short_name(buf, name, 63);
    pthread_setname_np(buf);
}

char **weft__os_environ(void)
{
    return *_NSGetEnviron(); /* a shared library cannot link against `environ` here */
}

int weft_sys_current_cpu(void)
{
    return -1; /* no cheap way to ask */
}

int weft__os_affinity_cpus(bool whole_process)
{
    (void)whole_process;
    return 0; /* no affinity masks */
}

bool weft_sys_first_argument_is(const char *marker)
{
    return *_NSGetArgc() > 1 && strcmp((*_NSGetArgv())[1], marker) == 0;
}

int weft_sys_executable_path(char **out)
{
    uint32_t size = 0;
    char *buf, *real;
    int err;

    _NSGetExecutablePath(NULL, &size); /* fails, giving the size needed */
    buf = weft__malloc(size);
    if (buf == NULL)
        return weft__fail_text(WEFT_ENOMEM, "no memory for the executable's path");
    if (_NSGetExecutablePath(buf, &size) != 0) {
        weft__free(buf);
        return weft__posix_status(ENAMETOOLONG, "_NSGetExecutablePath");
    }
    /* The path the program was started by may hold symbolic links and "..". */
    real = realpath(buf, NULL);
    err = errno;
    weft__free(buf);
    if (real == NULL)
        return weft__posix_status(err, "realpath");
    *out = real;
    return WEFT_OK;
}

/* SPDX-License-Identifier: MIT */
/* OS threads and the thread-local slot on pthreads. */
#define _GNU_SOURCE /* pthread_setname_np, gettid */
#include "posix.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/syscall.h>
#elif defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__DragonFly__)
#include <pthread_np.h>
#elif defined(__NetBSD__)
#include <lwp.h>
#endif

/* pthread_t is an integer or a pointer on every system weft supports. */
_Static_assert(sizeof(pthread_t) <= sizeof(weft_sys_thread), "pthread_t must fit a weft_sys_thread");

static pthread_t to_pthread(weft_sys_thread t)
{
    pthread_t p;

    memcpy(&p, &t, sizeof p);
    return p;
}

static void *thread_main(void *p)
{
    const weft_sys_start *start = p;

    start->fn(start->arg);
    return NULL;
}

static size_t round_stack_size(size_t size)
{
    long page = sysconf(_SC_PAGESIZE);
    size_t step = page > 0 ? (size_t)page : 4096;

    if (size < (size_t)PTHREAD_STACK_MIN)
        size = (size_t)PTHREAD_STACK_MIN;
    if (size > SIZE_MAX - step)
        return 0;
    return (size + step - 1) / step * step;
}

int weft_sys_thread_start(weft_sys_thread *out, const weft_sys_start *start, size_t stack_size)
{
    pthread_attr_t attr;
    pthread_t thread;
    int err;

    err = pthread_attr_init(&attr);
    if (err != 0)
        return weft__status_from_errno(err);
    if (stack_size != 0) {
        size_t rounded = round_stack_size(stack_size);
        err = rounded ? pthread_attr_setstacksize(&attr, rounded) : EINVAL;
    }
    if (err == 0)
        err = pthread_create(&thread, &attr, thread_main, (void *)start);
    pthread_attr_destroy(&attr);
    if (err != 0)
        return weft__status_from_errno(err);
    *out = 0;
    memcpy(out, &thread, sizeof thread);
    return WEFT_OK;
}

void weft_sys_thread_join(weft_sys_thread thread)
{
    int err = pthread_join(to_pthread(thread), NULL);

    if (err != 0)
        WEFT__FATAL(err, "pthread_join");
}

void weft_sys_thread_detach(weft_sys_thread thread)
{
    int err = pthread_detach(to_pthread(thread));

    if (err != 0)
        WEFT__FATAL(err, "pthread_detach");
}

void weft_sys_thread_yield(void)
{
    sched_yield();
}

uint64_t weft_sys_thread_native_id(void)
{
#if defined(__linux__)
    return (uint64_t)syscall(SYS_gettid);
#elif defined(__APPLE__)
    uint64_t id = 0;
    pthread_threadid_np(NULL, &id);
    return id;
#elif defined(__FreeBSD__) || defined(__DragonFly__)
    return (uint64_t)pthread_getthreadid_np();
#elif defined(__NetBSD__)
    return (uint64_t)_lwp_self();
#elif defined(__OpenBSD__)
    return (uint64_t)getthrid();
#else
#error "weft: no native thread id for this system"
#endif
}

#if !defined(__linux__)
/* Where the main thread's id is not the process id, it is recorded when
 * the library is loaded, by the thread that loads it (for an executable, or
 * a library it links, the main thread), and again in a forked child. */
static uint64_t main_thread_id;

static void record_main_thread(void)
{
    main_thread_id = weft_sys_thread_native_id();
}

__attribute__((constructor)) static void record_main_thread_at_load(void)
{
    record_main_thread();
    /* Without fork handlers (no memory at load), weft's first own use of
     * them tries again. */
    (void)weft__posix_fork_handlers();
}
#endif

void weft__posix_thread_after_fork(void)
{
#if !defined(__linux__)
    record_main_thread();
#endif
}

uint64_t weft_sys_thread_main_id(void)
{
#if defined(__linux__)
    /* The main thread's TID is the PID, in a forked child too. */
    return (uint64_t)getpid();
#else
    return main_thread_id;
#endif
}

WEFT_NORETURN void weft_sys_thread_exit(void)
{
    pthread_exit(NULL);
}

/* Copy at most `max` bytes of name into buf, cutting at a UTF-8 character
 * boundary so the OS never sees half a character. */
static void truncate_utf8(char *buf, const char *name, size_t max)
{
    size_t n = strlen(name);

    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)name[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(buf, name, n);
    buf[n] = '\0';
}

void weft_sys_thread_set_name(const weft_sys_thread *thread, const char *name)
{
    pthread_t target = thread ? to_pthread(*thread) : pthread_self();
    char buf[64];

#if defined(__linux__)
    truncate_utf8(buf, name, 15); /* the kernel's TASK_COMM_LEN is 16 */
    pthread_setname_np(target, buf);
#elif defined(__APPLE__)
    if (thread && !pthread_equal(target, pthread_self()))
        return; /* macOS names only the calling thread */
    truncate_utf8(buf, name, 63);
    pthread_setname_np(buf);
#elif defined(__NetBSD__)
    truncate_utf8(buf, name, 31);
    pthread_setname_np(target, "%s", buf);
#elif defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__DragonFly__)
    truncate_utf8(buf, name, 31);
    pthread_set_name_np(target, buf);
#else
    (void)target;
    (void)buf;
    (void)name;
#endif
}

static pthread_key_t tls_key;

int weft_sys_tls_create(void (*destructor)(void *value))
{
    int err = pthread_key_create(&tls_key, destructor);

    return err == 0 ? WEFT_OK : weft__status_from_errno(err);
}

void *weft_sys_tls_get(void)
{
    return pthread_getspecific(tls_key);
}

int weft_sys_tls_set(void *value)
{
    int err = pthread_setspecific(tls_key, value);

    return err == 0 ? WEFT_OK : weft__status_from_errno(err);
}

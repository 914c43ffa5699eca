/* SPDX-License-Identifier: MIT */
/* OS threads and the thread-local slot on pthreads. */
#define _GNU_SOURCE /* PTHREAD_STACK_MIN under -std=c11 */
#include "posix.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
        return weft__posix_status(err, "pthread_attr_init");
    if (stack_size != 0) {
        size_t rounded = round_stack_size(stack_size);
        err = rounded ? pthread_attr_setstacksize(&attr, rounded) : EINVAL;
    }
    if (err == 0)
        err = pthread_create(&thread, &attr, thread_main, (void *)start);
    pthread_attr_destroy(&attr);
    if (err != 0)
        return weft__posix_status(err, "pthread_create");
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

/* The id of the thread that loaded weft (the OS files record it where the
 * main thread's id is not the process id), and of the forking thread in a
 * child. */
static uint64_t main_thread_id;

void weft__posix_thread_after_fork(void)
{
    main_thread_id = weft_sys_thread_native_id();
}

void weft__posix_record_main_thread(void)
{
    weft__posix_thread_after_fork();
    /* Without fork handlers (no memory at load), weft's first own use of
     * them tries again. */
    (void)weft__posix_fork_handlers();
}

uint64_t weft_sys_thread_main_id(void)
{
    return weft__os_main_thread_id(main_thread_id);
}

WEFT__NORETURN void weft_sys_thread_exit(void)
{
    pthread_exit(NULL);
}

/* How many bytes of name fit in n or fewer, cut at a UTF-8 character
 * boundary so the OS never sees half a character. */
static size_t utf8_fit(const char *name, size_t n)
{
    while (n > 0 && ((unsigned char)name[n] & 0xC0) == 0x80)
        n--;
    return n;
}

/* The trailing numbers and their separators ("-0_12") tell workers of one
 * pool apart: a name too long keeps them, after its start and "..". A tail
 * that leaves no room for the start is cut off with the rest. */
void weft__posix_short_name(char *buf, const char *name, size_t max)
{
    size_t n = strlen(name), tail = n, head;

    if (n <= max) {
        memcpy(buf, name, n + 1);
        return;
    }
    while (tail > 0 && strchr("0123456789-_.:# ", name[tail - 1]) != NULL)
        tail--;
    if (tail == n || n - tail + 3 > max) {
        head = utf8_fit(name, max);
        memcpy(buf, name, head);
        buf[head] = '\0';
        return;
    }
    head = utf8_fit(name, max - 2 - (n - tail));
    memcpy(buf, name, head);
    memcpy(buf + head, "..", 2);
    memcpy(buf + head + 2, name + tail, n - tail + 1);
}

void weft_sys_thread_set_name(const weft_sys_thread *thread, const char *name)
{
    pthread_t target = thread ? to_pthread(*thread) : pthread_self();

    weft__os_set_thread_name(target, !thread || pthread_equal(target, pthread_self()), name);
}

static pthread_key_t tls_key;

int weft_sys_tls_create(void (*destructor)(void *value))
{
    int err = pthread_key_create(&tls_key, destructor);

    return weft__posix_status(err, "pthread_key_create");
}

void *weft_sys_tls_get(void)
{
    return pthread_getspecific(tls_key);
}

int weft_sys_tls_set(void *value)
{
    int err = pthread_setspecific(tls_key, value);

    return weft__posix_status(err, "pthread_setspecific");
}

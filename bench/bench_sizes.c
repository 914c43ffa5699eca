/* SPDX-License-Identifier: MIT */
/*
 * bench_sizes: how many bytes each synchronisation object takes, weft's
 * against the platform's and the other libraries' (issue 6's memory
 * table). Built on every platform, Windows included (run it under Wine or
 * on Windows for the Win32 column), with whatever competitor libraries
 * pkg-config found. Prints one Markdown table.
 *
 * Usage: bench_sizes
 */
#ifndef _GNU_SOURCE /* APR's pkg-config flags define it too */
#define _GNU_SOURCE
#endif
#include <weft.h>

#include <stdio.h>

#if defined(_WIN32)
#include <windows.h>
#else
#include <pthread.h>
#include <semaphore.h>
#endif
#include "bench_competitors.h"

/* One row: what it is, weft's size, then the others' "name size" text. */
static void row(const char *what, size_t weft, const char *others)
{
    printf("| %s | %zu | %s |\n", what, weft, others);
}

static void append(char *buf, size_t cap, const char *name, size_t size)
{
    size_t len = 0;

    while (len < cap && buf[len])
        len++;
    if (len < cap)
        snprintf(buf + len, cap - len, "%s%s %zu", len ? ", " : "", name, size);
}

#define ADD(buf, type) append(buf, sizeof buf, "`" #type "`", sizeof(type))

int main(void)
{
    char lock[512] = "", rlock[512] = "", cond[512] = "", sem[512] = "", event[512] = "",
         barrier[512] = "", rwlock[512] = "", once[512] = "";

#if defined(_WIN32)
    ADD(lock, SRWLOCK);
    ADD(lock, CRITICAL_SECTION);
    ADD(rlock, CRITICAL_SECTION);
    ADD(cond, CONDITION_VARIABLE);
    ADD(sem, HANDLE);
    ADD(event, HANDLE);
    ADD(barrier, SYNCHRONIZATION_BARRIER);
    ADD(rwlock, SRWLOCK);
    ADD(once, INIT_ONCE);
#else
    ADD(lock, pthread_mutex_t);
    ADD(rlock, pthread_mutex_t);
    ADD(cond, pthread_cond_t);
    ADD(sem, sem_t);
#if defined(_POSIX_BARRIERS) && _POSIX_BARRIERS > 0
    ADD(barrier, pthread_barrier_t);
#endif
    ADD(rwlock, pthread_rwlock_t);
    ADD(once, pthread_once_t);
#endif
#if defined(WEFT_BENCH_HAVE_C11_THREADS)
    ADD(lock, mtx_t);
    ADD(cond, cnd_t);
    ADD(once, once_flag);
#endif
#if defined(WEFT_BENCH_HAVE_GLIB)
    ADD(lock, GMutex);
    ADD(rlock, GRecMutex);
    ADD(cond, GCond);
    ADD(rwlock, GRWLock);
    ADD(once, GOnce);
#endif
#if defined(WEFT_BENCH_HAVE_UV)
    ADD(lock, uv_mutex_t);
    ADD(cond, uv_cond_t);
    ADD(sem, uv_sem_t);
    ADD(barrier, uv_barrier_t);
    ADD(rwlock, uv_rwlock_t);
    ADD(once, uv_once_t);
#endif

    printf("weft bench_sizes: bytes per object (sizeof), weft against the platform and the other "
           "libraries built in\n\n");
    printf("| object | weft | others |\n|---|---:|---|\n");
    row("Lock", sizeof(weft_lock), lock);
    row("RLock", sizeof(weft_rlock), rlock);
    row("Condition (with its own lock in weft)", sizeof(weft_cond), cond);
    row("Semaphore", sizeof(weft_sem), sem);
    row("Event (Win32: a kernel object behind the HANDLE)", sizeof(weft_event), event);
    row("Barrier", sizeof(weft_barrier), barrier);
    row("RWLock", sizeof(weft_rwlock), rwlock);
    row("once", sizeof(weft_once), once);
    return 0;
}

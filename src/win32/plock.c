/* SPDX-License-Identifier: MIT */
/*
 * Locks, semaphores and events between processes on Windows: a mutex,
 * semaphore or manual-reset event object, nameless and not inheritable;
 * its handle is what a child is handed.
 *
 * A mutex object is owned by the thread that waited for it and is
 * recursive; Windows tells the next waiter when its owner ended without
 * releasing it (WAIT_ABANDONED), which becomes WEFT_EOWNERDEAD. A PLOCK is
 * not recursive: the handle counts this process's levels, and a thread
 * that finds it already holds the mutex gives the extra level back at
 * once.
 */
#include "win32.h"
#include "../sys/plock.h"

struct weft_sys_psync {
    HANDLE h;
    weft_sys_psync_kind kind;
    uint32_t owner; /* a PLOCK: the id of this process's thread that holds it, or 0 */
};

static int psync_make_handle(weft_sys_psync **out, weft_sys_psync_kind kind, HANDLE h)
{
    weft_sys_psync *p = weft__calloc(1, sizeof *p);

    if (!p)
        return weft__fail(WEFT_ENOMEM, "plock: no memory for a handle");
    p->h = h;
    p->kind = kind;
    *out = p;
    return WEFT_OK;
}

int weft_sys_psync_create(weft_sys_psync **out, weft_sys_psync_kind kind, uint32_t value,
                          bool bounded)
{
    HANDLE h;
    int rc;

    switch (kind) {
    case WEFT_SYS_PSEM:
        h = CreateSemaphoreW(NULL, (LONG)value, bounded ? (LONG)value : INT32_MAX, NULL);
        break;
    case WEFT_SYS_PEVENT:
        h = CreateEventW(NULL, TRUE, FALSE, NULL);
        break;
    default:
        h = CreateMutexW(NULL, FALSE, NULL);
        break;
    }
    if (!h) {
        DWORD err = GetLastError();

        rc = weft__handle_status(err, "plock: CreateMutexW/CreateSemaphoreW/CreateEventW");
        return rc == WEFT_EAGAIN ? rc
                                 : weft__fail(rc, "plock: making the kernel object failed (error %lu)",
                                              (unsigned long)err);
    }
    rc = psync_make_handle(out, kind, h);
    if (rc != WEFT_OK)
        CloseHandle(h);
    return rc;
}

weft_sys_file weft_sys_psync_file(const weft_sys_psync *p)
{
    return (weft_sys_file)p->h;
}

int weft_sys_psync_adopt(weft_sys_psync **out, weft_sys_psync_kind kind, weft_sys_file file)
{
    return psync_make_handle(out, kind, (HANDLE)file);
}

void weft_sys_psync_close(weft_sys_psync *p)
{
    CloseHandle(p->h);
    weft__free(p);
}

/* Wait for the object by the deadline: WAIT_OBJECT_0, WAIT_ABANDONED or
 * WAIT_TIMEOUT. A wait longer than a DWORD of milliseconds holds is made
 * of several. */
static DWORD psync_wait_until(HANDLE h, int64_t deadline)
{
    for (;;) {
        DWORD ms = INFINITE, r;

        if (deadline != WEFT__NO_DEADLINE) {
            int64_t left = deadline - weft_sys_monotonic_ns();

            if (left <= 0)
                ms = 0;
            else if (left / 1000000 >= INFINITE - 1)
                ms = INFINITE - 1;
            else
                ms = (DWORD)((left + 999999) / 1000000); /* never wake before it */
        }
        r = WaitForSingleObject(h, ms);
        if (r != WAIT_TIMEOUT || ms != INFINITE - 1)
            return r == WAIT_FAILED ? WAIT_TIMEOUT : r;
    }
}

/* ---- Locks ------------------------------------------------------------------------ */

int weft_sys_plock_acquire(weft_sys_psync *p, int64_t deadline)
{
    uint32_t me = (uint32_t)GetCurrentThreadId();
    DWORD r;

    if (p->kind == WEFT_SYS_PLOCK && weft__load_relaxed(&p->owner) == me)
        return WEFT_EPERM;
    r = psync_wait_until(p->h, deadline);
    if (r == WAIT_TIMEOUT)
        return WEFT_ETIMEDOUT;
    if (p->kind == WEFT_SYS_PLOCK)
        weft__store_relaxed(&p->owner, me);
    return r == WAIT_ABANDONED ? WEFT_EOWNERDEAD : WEFT_OK;
}

int weft_sys_plock_release(weft_sys_psync *p)
{
    if (p->kind == WEFT_SYS_PLOCK) {
        if (weft__load_relaxed(&p->owner) != (uint32_t)GetCurrentThreadId())
            return weft__fail(WEFT_EPERM, "plock_release: the calling thread does not hold the plock");
        weft__store_relaxed(&p->owner, 0);
    }
    if (!ReleaseMutex(p->h))
        return weft__fail(WEFT_EPERM, "plock_release: the calling thread does not hold the plock");
    return WEFT_OK;
}

weft_sys_plock_at *weft_sys_plock_at_of(weft_sys_psync *p)
{
    return p;
}

/* The first try tried nothing (sys/plock.h): the whole acquire is here. */
int weft_sys_plock_acquire_after(weft_sys_psync *p, int code, int64_t deadline)
{
    (void)code;
    return weft_sys_plock_acquire(p, deadline);
}

/* ---- Semaphores ------------------------------------------------------------------ */

int weft_sys_psem_acquire(weft_sys_psync *p, int64_t deadline)
{
    return psync_wait_until(p->h, deadline) == WAIT_TIMEOUT ? WEFT_ETIMEDOUT : WEFT_OK;
}

int weft_sys_psem_release(weft_sys_psync *p, uint32_t n)
{
    if (n > INT32_MAX || !ReleaseSemaphore(p->h, (LONG)n, NULL))
        return WEFT_EOVERFLOW; /* ERROR_TOO_MANY_POSTS: nothing changed */
    return WEFT_OK;
}

/* ---- Events ------------------------------------------------------------------------ */

void weft_sys_pevent_set(weft_sys_psync *p)
{
    SetEvent(p->h);
}

void weft_sys_pevent_clear(weft_sys_psync *p)
{
    ResetEvent(p->h);
}

bool weft_sys_pevent_is_set(weft_sys_psync *p)
{
    return WaitForSingleObject(p->h, 0) == WAIT_OBJECT_0;
}

int weft_sys_pevent_wait(weft_sys_psync *p, int64_t deadline)
{
    return psync_wait_until(p->h, deadline) == WAIT_TIMEOUT ? WEFT_ETIMEDOUT : WEFT_OK;
}

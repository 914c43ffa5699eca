/* SPDX-License-Identifier: MIT */
/*
 * multiprocessing.Lock, RLock, Semaphore, BoundedSemaphore and Event over
 * the backend's objects between processes (sys/plock.h): argument checks,
 * deadlines, messages, and what a child is handed (the object's one file,
 * and its kind as the description).
 */
#include "ipc.h"
#include "plock_spin.h"

#include <string.h>

/* What every handle of the three types is. */
typedef struct psync {
    weft__ipc_head head;
    weft_sys_psync *sys;
    weft_sys_plock_at *at; /* a lock's: where its first steps find it */
    weft_sys_psync_kind sys_kind;
} psync;

struct weft_plock {
    psync p;
};
struct weft_psem {
    psync p;
};
struct weft_pevent {
    psync p;
};

/* A new handle (of `size` bytes: the public type, whose first member is the
 * psync) for a new object (file: WEFT__NO_FILE) or for the object whose
 * file a child was handed; *out is that psync, or NULL on failure. */
/* The name of a kind, for WEFT_DEBUG_HANDLES. */
static const char *kind_name(uint32_t kind)
{
    return kind == WEFT__IPC_PLOCK ? "plock" : kind == WEFT__IPC_PSEM ? "psem" : "pevent";
}

static int psync_make(psync **out, size_t size, weft__ipc_kind kind, weft_sys_psync_kind sys_kind,
                uint32_t value, bool bounded, weft_sys_file file, const char *call)
{
    psync *p;
    int rc;

    *out = NULL;
    p = weft__calloc(1, size);
    if (!p)
        return weft__fail(WEFT_ENOMEM, "%s: no memory for the handle", call);
    rc = file == WEFT__NO_FILE ? weft_sys_psync_create(&p->sys, sys_kind, value, bounded)
                               : weft_sys_psync_adopt(&p->sys, sys_kind, file);
    if (rc != WEFT_OK) {
        weft__free(p);
        return rc;
    }
    p->head.kind = kind;
    p->sys_kind = sys_kind;
    if (kind == WEFT__IPC_PLOCK)
        p->at = weft_sys_plock_at_of(p->sys);
    WEFT__HANDLE_BORN(p, kind_name(kind));
    *out = p;
    return WEFT_OK;
}

static void close_psync(psync *p, const char *call)
{
    if (!p || WEFT__HANDLE_DEAD_IN(call, p, kind_name(p->head.kind)))
        return;
    weft_sys_psync_close(p->sys);
    WEFT__HANDLE_GONE(p);
    weft__free(p);
}

/* The prologue of a timed call `call` on a handle of `kind`: WEFT_EINVAL
 * for a NULL or dead handle or a bad timeout (with a message), else the
 * deadline. */
static int psync_begin_wait(const char *call, const void *handle, const char *kind, double timeout,
                            int64_t *deadline)
{
    int rc = weft__begin_wait_in(call, handle, timeout, deadline);

    if (rc == WEFT_OK && WEFT__HANDLE_DEAD_IN(call, handle, kind))
        rc = WEFT_EINVAL;
    return rc;
}

/* ---- Locks ------------------------------------------------------------------------ */

int weft_plock_create(weft_plock **out, bool recursive)
{
    psync *p;
    int rc;

    if (!out)
        return weft__fail(WEFT_EINVAL, "plock_create: out is NULL");
    rc = psync_make(&p, sizeof(weft_plock), WEFT__IPC_PLOCK, recursive ? WEFT_SYS_PRLOCK : WEFT_SYS_PLOCK,
              0, false, WEFT__NO_FILE, "plock_create");
    *out = (weft_plock *)p;
    return rc;
}

/* After a first try found a lock held (`code`, of weft_sys_plock_try):
 * try again through WEFT__SPIN_ROUNDS rounds of growing pauses, as a
 * weft_lock's contender does, before the caller parks. Holders of these
 * locks keep them briefly (a weft_pqueue's for one copy and a commit), and
 * the mutex parks at once: between two processes on two CPUs, most of
 * those parks found the lock free again by the time the system looked (a
 * FUTEX_WAIT returning EAGAIN, then a FUTEX_WAKE: two system calls).
 *   - weft_pqueue, one process putting 64-byte messages to another, each
 *     pinned to a CPU beside a busy loop (cache-line round trip
 *     277-4458 ns): 0.5 futex calls per message before, 0.07 with the
 *     spin, 1.6-1.9 -> 3.1-3.8 million a second.
 *   - weft_plock, two processes hammering one (bench_ipc
 *     plock.contended.2proc, pinned, quiet, cache-line round trip 78-87
 *     ns; medians of 8 runs): 36.8 -> 17.6 ns and 72 -> 33 CPU ns an
 *     operation, where a robust mutex parking at once took 32-33.
 * Kinds of their own (`kind`: WEFT__SPIN_PLOCK or WEFT__SPIN_PQUEUE),
 * since a process pinned to one CPU still gains (the holder runs on
 * another). Returns the last try's code: 0 when it took the lock. */
int weft__plock_spin(weft_sys_plock_at *at, int code, weft__spin_kind kind)
{
    unsigned round;

    if (!weft_sys_plock_held(code) || !weft__spin_begin(kind))
        return code;
    for (round = 0; round < WEFT__SPIN_ROUNDS && weft_sys_plock_held(code); round++) {
        weft__backoff(round);
        code = weft_sys_plock_try(at);
    }
    weft__spin_end(kind, !weft_sys_plock_held(code));
    return code;
}

/* The rest of an acquire whose first try did not take the lock (`code`,
 * which the backend reads): the deadline, the wait, every outcome. Out of
 * line, so that an acquire of a free lock costs as little as the
 * backend's. */
static WEFT__NOINLINE int plock_acquire_after(weft_plock *lock, int code, double timeout)
{
    int64_t deadline = 0;
    int rc;

    (void)weft__deadline_in("weft_plock_acquire", timeout, &deadline); /* the timeout is valid */
    if (deadline != 0) /* a timeout of 0 waits for nothing, a spin included */
        code = weft__plock_spin(lock->p.at, code, WEFT__SPIN_PLOCK);
    rc = weft_sys_plock_acquire_after(lock->p.sys, code, deadline);
    if (rc == WEFT_EPERM) {
        /* Its holder acquires a Lock again: it waits for itself, as
         * threading.Lock does, on a word nobody changes. */
        uint32_t unchanged = 0;

        while (weft_sys_wait(&unchanged, 0, deadline) != WEFT_ETIMEDOUT)
            ;
        rc = WEFT_ETIMEDOUT;
    }
    if (rc == WEFT_EOWNERDEAD)
        return weft__fail_text(rc, "plock_acquire: acquired, but its previous holder died "
                                   "holding it: what it guards may be half-changed");
    return weft__timed_out(rc, "plock_acquire: timed out: the lock is held");
}

int weft_plock_acquire(weft_plock *lock, double timeout)
{
    int64_t unused;
    int code;

    /* The first try comes before any deadline is worked out (a free lock
     * is taken with no clock read, whatever the timeout) and is made here,
     * inline: no call beside the system's (issue 16). A bad timeout is
     * refused before it, with the lock left alone. */
    if (!lock || !weft__timeout_valid(timeout))
        return psync_begin_wait(__func__, lock, "plock", timeout, &unused);
    if (WEFT__HANDLE_DEAD(lock, "plock"))
        return WEFT_EINVAL;
    code = weft_sys_plock_try(lock->p.at);
    return code == 0 ? WEFT_OK : plock_acquire_after(lock, code, timeout);
}

int weft_plock_release(weft_plock *lock)
{
    if (!lock)
        return weft__fail(WEFT_EINVAL, "plock_release: the handle is NULL");
    if (WEFT__HANDLE_DEAD(lock, "plock"))
        return WEFT_EINVAL;
    return weft_sys_plock_release_at(lock->p.at);
}

void weft_plock_close(weft_plock *lock)
{
    close_psync(lock ? &lock->p : NULL, __func__);
}

/* ---- Semaphores ------------------------------------------------------------------ */

int weft_psem_create(weft_psem **out, uint32_t value, bool bounded)
{
    psync *p;
    int rc;

    if (!out)
        return weft__fail(WEFT_EINVAL, "psem_create: out is NULL");
    if (value > INT32_MAX)
        return weft__fail(WEFT_EINVAL, "psem_create: the value %u is above INT32_MAX", (unsigned)value);
    rc = psync_make(&p, sizeof(weft_psem), WEFT__IPC_PSEM, WEFT_SYS_PSEM, value, bounded, WEFT__NO_FILE,
              "psem_create");
    *out = (weft_psem *)p;
    return rc;
}

int weft_psem_acquire(weft_psem *sem, double timeout)
{
    int64_t deadline = 0;
    int rc = psync_begin_wait(__func__, sem, "psem", timeout, &deadline);

    if (rc != WEFT_OK)
        return rc;
    return weft__timed_out(weft_sys_psem_acquire(sem->p.sys, deadline),
                           "psem_acquire: timed out: the semaphore's value is 0");
}

int weft_psem_release(weft_psem *sem, uint32_t n)
{
    if (!sem)
        return weft__fail(WEFT_EINVAL, "psem_release: the handle is NULL");
    if (n == 0)
        return weft__fail(WEFT_EINVAL, "psem_release: n is 0");
    if (WEFT__HANDLE_DEAD(sem, "psem"))
        return WEFT_EINVAL;
    if (weft_sys_psem_release(sem->p.sys, n) != WEFT_OK)
        return weft__fail(WEFT_EOVERFLOW, "psem_release: %u more would pass the semaphore's bound",
                          (unsigned)n);
    return WEFT_OK;
}

void weft_psem_close(weft_psem *sem)
{
    close_psync(sem ? &sem->p : NULL, __func__);
}

/* ---- Events ------------------------------------------------------------------------ */

int weft_pevent_create(weft_pevent **out)
{
    psync *p;
    int rc;

    if (!out)
        return weft__fail(WEFT_EINVAL, "pevent_create: out is NULL");
    rc = psync_make(&p, sizeof(weft_pevent), WEFT__IPC_PEVENT, WEFT_SYS_PEVENT, 0, false, WEFT__NO_FILE,
              "pevent_create");
    *out = (weft_pevent *)p;
    return rc;
}

void weft_pevent_set(weft_pevent *event)
{
    if (event && !WEFT__HANDLE_DEAD(event, "pevent"))
        weft_sys_pevent_set(event->p.sys);
}

void weft_pevent_clear(weft_pevent *event)
{
    if (event && !WEFT__HANDLE_DEAD(event, "pevent"))
        weft_sys_pevent_clear(event->p.sys);
}

bool weft_pevent_is_set(weft_pevent *event)
{
    return event && !WEFT__HANDLE_DEAD(event, "pevent") && weft_sys_pevent_is_set(event->p.sys);
}

int weft_pevent_wait(weft_pevent *event, double timeout)
{
    int64_t deadline = 0;
    int rc = psync_begin_wait(__func__, event, "pevent", timeout, &deadline);

    if (rc != WEFT_OK)
        return rc;
    return weft__timed_out(weft_sys_pevent_wait(event->p.sys, deadline),
                           "pevent_wait: timed out: the event is not set");
}

void weft_pevent_close(weft_pevent *event)
{
    close_psync(event ? &event->p : NULL, __func__);
}

/* ---- Handing to a child -------------------------------------------------------- */

/* The description is the backend's kind, one byte: a plock's says whether
 * it is recursive. */
static int export_psync(const psync *p, weft__ipc_handoff *out)
{
    memset(out, 0, sizeof *out);
    out->kind = p->head.kind;
    out->files[0] = weft_sys_psync_file(p->sys);
    out->nfiles = 1;
    out->desc[0] = (unsigned char)p->sys_kind;
    out->desc_len = 1;
    return WEFT_OK;
}

static int import_psync(const weft__ipc_handoff *in, void **out, size_t size, weft__ipc_kind kind)
{
    weft_sys_psync_kind sys_kind = (weft_sys_psync_kind)in->desc[0];
    bool known;
    psync *p;
    int rc;

    if (kind == WEFT__IPC_PLOCK)
        known = sys_kind == WEFT_SYS_PLOCK || sys_kind == WEFT_SYS_PRLOCK;
    else
        known = sys_kind == (kind == WEFT__IPC_PSEM ? WEFT_SYS_PSEM : WEFT_SYS_PEVENT);
    if (in->kind != (uint32_t)kind || in->nfiles != 1 || in->desc_len != 1 || !known)
        return weft__fail(WEFT_EINVAL, "plock: the description handed over is not of this kind");
    rc = psync_make(&p, size, kind, sys_kind, 0, false, in->files[0], "plock (handed over)");
    *out = p;
    return rc;
}

int weft__plock_export(const weft_plock *lock, weft__ipc_handoff *out)
{
    return export_psync(&lock->p, out);
}

int weft__plock_import(const weft__ipc_handoff *in, void **out)
{
    return import_psync(in, out, sizeof(weft_plock), WEFT__IPC_PLOCK);
}

int weft__psem_export(const weft_psem *sem, weft__ipc_handoff *out)
{
    return export_psync(&sem->p, out);
}

int weft__psem_import(const weft__ipc_handoff *in, void **out)
{
    return import_psync(in, out, sizeof(weft_psem), WEFT__IPC_PSEM);
}

int weft__pevent_export(const weft_pevent *event, weft__ipc_handoff *out)
{
    return export_psync(&event->p, out);
}

int weft__pevent_import(const weft__ipc_handoff *in, void **out)
{
    return import_psync(in, out, sizeof(weft_pevent), WEFT__IPC_PEVENT);
}

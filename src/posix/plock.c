/* SPDX-License-Identifier: MIT */
/*
 * Locks, semaphores and events between processes on POSIX, in a nameless
 * shared mapping (posix/shm.c) whose descriptor is what a child is handed.
 *
 * A lock is a process-shared pthread mutex, robust where the system has
 * robust mutexes (Linux, FreeBSD): when its holder dies, the C library's
 * robust list hands the next acquirer EOWNERDEAD, which a hand-made futex
 * word could only match by re-implementing that list. The mutex also
 * carries everything else a lock promises, so nothing beside it is written
 * on the way in or out: PTHREAD_MUTEX_ERRORCHECK (a Lock) refuses a second
 * acquire by its holder with EDEADLK, PTHREAD_MUTEX_RECURSIVE (an RLock)
 * counts its holder's levels, and both refuse an unlock by any other thread
 * with EPERM, a thread of a fork child included (POSIX requires both for
 * these types). macOS has no robust mutexes: there a dead holder's lock
 * stays held, as the public header says.
 *
 * A semaphore or an event is words changed by atomic operations and waited
 * for with weft__posix_wait_shared (shared futexes, or naps where there are
 * none). Not a process-shared condition variable: glibc's is left broken by
 * a waiter killed in its wait (test plock_psem_waiter_killed_in_its_wait_*
 * hung with one), and nothing here may depend on every process ending well.
 */
#define _GNU_SOURCE
#include "posix.h"
#include "../sys/plock.h"
#include "../sys/shm.h"

#include <errno.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

/* Robust mutexes: their holder's death is reported to the next acquirer. */
#if defined(__linux__) || defined(__FreeBSD__) || defined(PTHREAD_MUTEX_ROBUST)
#define WEFT_POSIX_ROBUST 1
#endif

#define PSYNC_MAGIC 0x77706c6bu /* "wplk": the mapping is one of ours */

typedef struct psync_block {
    pthread_mutex_t mutex; /* a lock */
    uint32_t magic;
    uint32_t kind;
    uint32_t value, bound, bounded; /* a semaphore */
    uint32_t state;                 /* an event: bit 0 the flag, bits 1-31 count the sets */
    uint32_t waiters;               /* a semaphore or event: waiters, dead ones included */
} psync_block;

struct weft_sys_psync {
    weft_sys_shm shm;
    psync_block *s;
};

static int psync_block_init(psync_block *s, weft_sys_psync_kind kind)
{
    pthread_mutexattr_t ma;
    int err;

    s->kind = (uint32_t)kind;
    s->magic = PSYNC_MAGIC;
    if (kind == WEFT_SYS_PSEM || kind == WEFT_SYS_PEVENT)
        return WEFT_OK;
    err = pthread_mutexattr_init(&ma);
    if (err != 0)
        return weft__posix_status(err, "pthread_mutexattr_init");
    err = pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
    if (err == 0)
        err = pthread_mutexattr_settype(&ma, kind == WEFT_SYS_PRLOCK ? PTHREAD_MUTEX_RECURSIVE
                                                                     : PTHREAD_MUTEX_ERRORCHECK);
#if defined(WEFT_POSIX_ROBUST)
    if (err == 0)
        err = pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
#endif
    if (err == 0)
        err = pthread_mutex_init(&s->mutex, &ma);
    pthread_mutexattr_destroy(&ma);
    if (err != 0)
        return weft__fail_wrap(weft__posix_status(err, "pthread_mutex_init"),
                               "plock: no process-shared mutex could be made");
    return WEFT_OK;
}

static int psync_new_handle(weft_sys_psync **out)
{
    *out = weft__malloc(sizeof **out);
    if (!*out)
        return weft__fail(WEFT_ENOMEM, "plock: no memory for a handle");
    return WEFT_OK;
}

int weft_sys_psync_create(weft_sys_psync **out, weft_sys_psync_kind kind, uint32_t value,
                          bool bounded)
{
    weft_sys_psync *p;
    int rc = psync_new_handle(&p);

    if (rc != WEFT_OK)
        return rc;
    rc = weft_sys_shm_create(&p->shm, NULL, sizeof(psync_block));
    if (rc == WEFT_OK) {
        p->s = p->shm.ptr;
        p->s->value = value;
        p->s->bound = value;
        p->s->bounded = bounded;
        rc = psync_block_init(p->s, kind);
        if (rc != WEFT_OK)
            weft_sys_shm_close(&p->shm);
    }
    if (rc != WEFT_OK) {
        weft__free(p);
        return rc;
    }
    *out = p;
    return WEFT_OK;
}

weft_sys_file weft_sys_psync_file(const weft_sys_psync *p)
{
    return p->shm.file;
}

int weft_sys_psync_adopt(weft_sys_psync **out, weft_sys_psync_kind kind, weft_sys_file file)
{
    weft_sys_psync *p;
    struct stat st;
    int rc;

    /* Mapping past the end of a smaller file would fault on the first look. */
    if (fstat((int)file, &st) != 0 || st.st_size < (off_t)sizeof(psync_block))
        return weft__fail(WEFT_EINVAL, "plock: the file handed over is not a lock");
    rc = psync_new_handle(&p);
    if (rc != WEFT_OK)
        return rc;
    rc = weft_sys_shm_adopt(&p->shm, file, sizeof(psync_block));
    if (rc == WEFT_OK) {
        p->s = p->shm.ptr;
        if (p->s->magic == PSYNC_MAGIC && p->s->kind == (uint32_t)kind) {
            *out = p;
            return WEFT_OK;
        }
        munmap(p->shm.ptr, p->shm.size); /* the file stays the caller's */
        rc = weft__fail(WEFT_EINVAL, "plock: the file handed over is not a lock of this kind");
    }
    weft__free(p);
    return rc;
}

void weft_sys_psync_close(weft_sys_psync *p)
{
    /* The mutex is not destroyed: other processes may still use it; the
     * memory goes with the last mapping. */
    weft_sys_shm_close(&p->shm);
    weft__free(p);
}

/* ---- Locking the mutex ----------------------------------------------------------- */

/* One try: 0 (locked), ETIMEDOUT (held; by the caller too where the C
 * library's trylock says EBUSY then), EOWNERDEAD (locked: its holder died),
 * EDEADLK (a Lock the caller holds), EAGAIN (an RLock's levels at the C
 * library's limit), or the error. */
static int mutex_try_once(pthread_mutex_t *m)
{
    int err = pthread_mutex_trylock(m);

    return err == EBUSY ? ETIMEDOUT : err;
}

#if defined(__APPLE__)
/* No pthread_mutex_timedlock: try, and sleep a millisecond between tries. */
static int mutex_lock_by(pthread_mutex_t *m, int64_t deadline)
{
    for (;;) {
        int err = mutex_try_once(m);
        int64_t left;
        struct timespec nap = {0, 1000000};

        if (err != ETIMEDOUT)
            return err;
        left = deadline - weft_sys_monotonic_ns();
        if (left <= 0)
            return ETIMEDOUT;
        if (left < nap.tv_nsec)
            nap.tv_nsec = (long)left;
        nanosleep(&nap, NULL);
    }
}
#else
/* pthread_mutex_timedlock measures its timeout on the wall clock (ThreadSanitizer
 * does not see glibc's pthread_mutex_clocklock, and other C libraries lack it),
 * so the wait is cut into slices of at most a second, each turned into a wall
 * time just before it: a step of the wall clock can move the end of the wait
 * by a second at most. */
static int mutex_lock_by(pthread_mutex_t *m, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - weft_sys_monotonic_ns();
        struct timespec ts;
        int err;

        if (left <= 0)
            return mutex_try_once(m);
        ts = weft__timespec(weft_sys_wall_ns() + (left < 1000000000 ? left : 1000000000));
        err = pthread_mutex_timedlock(m, &ts);
        if (err != ETIMEDOUT)
            return err;
    }
}
#endif

/* Lock `m` by the deadline, after a first try found it held: as
 * mutex_try_once. */
static int mutex_lock_after_try(pthread_mutex_t *m, int64_t deadline)
{
    if (deadline == 0)
        return ETIMEDOUT;
    if (deadline == WEFT__NO_DEADLINE)
        return pthread_mutex_lock(m);
    return mutex_lock_by(m, deadline);
}

/* ---- Locks ------------------------------------------------------------------------ */

weft_sys_plock_at *weft_sys_plock_at_of(weft_sys_psync *p)
{
    return &p->s->mutex;
}

/* Every outcome of a first try (weft_sys_plock_try's `code`: the error of
 * pthread_mutex_trylock) but 0: a held lock waited for by the deadline, a
 * dead holder, the errors. Out of line (the public call's first try is
 * inline, sys/plock.h): while the lock is contended, every instruction
 * between taking it and returning to the caller lengthens the other
 * process's wait. */
WEFT__NOINLINE int weft_sys_plock_acquire_after(weft_sys_psync *p, int code, int64_t deadline)
{
    pthread_mutex_t *m = &p->s->mutex;
    int err = code == EBUSY ? mutex_lock_after_try(m, deadline) : code;

    if (err == 0)
        return WEFT_OK;
    switch (err) {
    case EOWNERDEAD:
#if defined(WEFT_POSIX_ROBUST)
        pthread_mutex_consistent(m); /* ours, and usable again */
#endif
        return WEFT_EOWNERDEAD;
    case EDEADLK:
        return WEFT_EPERM;
    case EAGAIN:
        return weft__fail(WEFT_EOVERFLOW, "plock_acquire: the caller holds as many levels as the "
                                          "system counts");
    case ETIMEDOUT:
        return WEFT_ETIMEDOUT;
    default:
        weft__posix_status(err, "pthread_mutex_lock");
        return weft__fail(WEFT_EOS, "plock_acquire: pthread_mutex_lock failed (os error %d)", err);
    }
}

int weft_sys_plock_acquire(weft_sys_psync *p, int64_t deadline)
{
    int code = weft_sys_plock_try(&p->s->mutex);

    return code == 0 ? WEFT_OK : weft_sys_plock_acquire_after(p, code, deadline);
}

int weft_sys_plock_release_refused(void)
{
    return weft__fail(WEFT_EPERM, "plock_release: the calling thread does not hold the plock");
}

int weft_sys_plock_release(weft_sys_psync *p)
{
    return weft_sys_plock_release_at(&p->s->mutex);
}

/* ---- Semaphores ------------------------------------------------------------------ */

static bool psem_take(psync_block *s)
{
    uint32_t v = weft__load_relaxed(&s->value);

    while (v > 0) {
        if (weft__cas(&s->value, &v, v - 1))
            return true;
    }
    return false;
}

/* Wait on `word` (which held `seen`) by the deadline, counted in `waiters`
 * so that a waker without waiters makes no system call. */
static int psync_wait_counted(psync_block *s, uint32_t *word, uint32_t seen, int64_t deadline)
{
    int rc;

    weft__fetch_add(&s->waiters, 1);
    rc = weft__posix_wait_shared(word, seen, deadline);
    weft__fetch_sub(&s->waiters, 1);
    return rc;
}

int weft_sys_psem_acquire(weft_sys_psync *p, int64_t deadline)
{
    psync_block *s = p->s;

    while (!psem_take(s)) {
        if (psync_wait_counted(s, &s->value, 0, deadline) == WEFT_ETIMEDOUT && !psem_take(s))
            return WEFT_ETIMEDOUT;
    }
    return WEFT_OK;
}

int weft_sys_psem_release(weft_sys_psync *p, uint32_t n)
{
    psync_block *s = p->s;
    uint32_t limit = s->bounded ? s->bound : INT32_MAX;
    uint32_t v = weft__load_relaxed(&s->value);

    do {
        if (v > limit || limit - v < n)
            return WEFT_EOVERFLOW;
    } while (!weft__cas(&s->value, &v, v + n));
    if (weft__load_sc(&s->waiters) != 0)
        weft__posix_wake_shared(&s->value, n > 1);
    return WEFT_OK;
}

/* ---- Events ------------------------------------------------------------------------ */

/* As sync/event.c: a waiter that saw the word with the flag clear returns
 * at any change of it, which can only be a set, even when a clear followed
 * before it looked (threading.Event). */
#define PEVENT_FLAG 1u

void weft_sys_pevent_set(weft_sys_psync *p)
{
    psync_block *s = p->s;
    uint32_t v = weft__load_relaxed(&s->state);

    do {
        if (v & PEVENT_FLAG)
            return;
    } while (!weft__cas(&s->state, &v, (v + 2) | PEVENT_FLAG));
    if (weft__load_sc(&s->waiters) != 0)
        weft__posix_wake_shared(&s->state, true);
}

void weft_sys_pevent_clear(weft_sys_psync *p)
{
    weft__fetch_and(&p->s->state, ~PEVENT_FLAG);
}

bool weft_sys_pevent_is_set(weft_sys_psync *p)
{
    return (weft__load(&p->s->state) & PEVENT_FLAG) != 0;
}

int weft_sys_pevent_wait(weft_sys_psync *p, int64_t deadline)
{
    psync_block *s = p->s;
    uint32_t seen = weft__load(&s->state);

    if (seen & PEVENT_FLAG)
        return WEFT_OK;
    while (weft__load(&s->state) == seen) {
        if (psync_wait_counted(s, &s->state, seen, deadline) == WEFT_ETIMEDOUT)
            return weft__load(&s->state) == seen ? WEFT_ETIMEDOUT : WEFT_OK;
    }
    return WEFT_OK;
}

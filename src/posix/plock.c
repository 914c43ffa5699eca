/* SPDX-License-Identifier: MIT */
/*
 * Locks, semaphores and events between processes on POSIX, in a nameless
 * shared mapping (posix/shm.c) whose descriptor is what a child is handed.
 *
 * A lock is a process-shared pthread mutex, robust where the system has
 * robust mutexes (Linux, FreeBSD): when its holder dies, the C library's
 * robust list hands the next acquirer EOWNERDEAD, which a hand-made futex
 * word could only match by re-implementing that list. Beside it the block
 * records the holder (pid and thread id) and its levels, so that a release
 * by another thread and a second acquire by the holder are told without
 * asking the mutex. macOS has no robust mutexes: there a dead holder's lock
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
#include <unistd.h>

/* Robust mutexes: their holder's death is reported to the next acquirer. */
#if defined(__linux__) || defined(__FreeBSD__) || defined(PTHREAD_MUTEX_ROBUST)
#define WEFT_POSIX_ROBUST 1
#endif

#define PSYNC_MAGIC 0x77706c6bu /* "wplk": the mapping is one of ours */

typedef struct psync_block {
    pthread_mutex_t mutex; /* a lock */
    uint32_t magic;
    uint32_t kind;
    uint32_t levels;               /* a lock: its holder's levels */
    /* a lock: its holder, or 0; 8-aligned also under -m32, where a
     * uint64_t is 4-aligned and its atomic loads would not be atomic */
    _Alignas(8) uint64_t owner_pid;
    uint64_t owner_tid;
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

/* A handle, once the fork handlers are there: a fork child must learn that
 * it is a new process (plock_self_thread). */
static int psync_new_handle(weft_sys_psync **out)
{
    int rc = weft__posix_fork_handlers();

    if (rc != WEFT_OK)
        return weft__fail(rc, "plock: cannot register the fork handlers");
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

/* One try: 0, ETIMEDOUT (held), EOWNERDEAD (ours: its holder died). */
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

/* Lock `m` by the deadline: 0 (locked), EOWNERDEAD (locked, the holder
 * died), or the error. A free lock, or one whose holder is dead already,
 * is taken by the first try, with no clock read. */
static int mutex_lock_until(pthread_mutex_t *m, int64_t deadline)
{
    int err = mutex_try_once(m);

    if (err != ETIMEDOUT || deadline == 0)
        return err;
    if (deadline == WEFT__NO_DEADLINE)
        return pthread_mutex_lock(m);
    return mutex_lock_by(m, deadline);
}

#if defined(WEFT_POSIX_ROBUST)
/* Take over a mutex whose holder died: it is ours and usable again. */
static int mutex_recover(pthread_mutex_t *m, int err)
{
    if (err == EOWNERDEAD)
        pthread_mutex_consistent(m);
    return err;
}
#else
static int mutex_recover(pthread_mutex_t *m, int err)
{
    (void)m;
    return err;
}
#endif

/* ---- Locks ------------------------------------------------------------------------ */

/* The calling thread, told apart from every other live thread of every
 * process by its pid and native thread id. Both are system calls, so each
 * thread asks once and keeps them, until a fork makes its process (and, on
 * Linux, its thread id) new: `plock_forks` counts the forks this process came
 * through. (A holder that died leaves its ids in the block until the next
 * acquirer takes over; a new thread given both ids in that window would be
 * taken for the holder, a reuse no system makes that soon.) */
static uint32_t plock_forks;
static WEFT__THREAD_LOCAL struct {
    uint32_t forks; /* plock_forks + 1 when pid and tid are known */
    uint64_t pid, tid;
} plock_self;

void weft__posix_plock_after_fork(void)
{
    plock_forks++; /* only the forking thread runs in the child */
}

static uint64_t plock_self_thread(uint64_t *pid)
{
    uint32_t now = weft__load_relaxed(&plock_forks) + 1;

    if (plock_self.forks != now) {
        plock_self.pid = (uint64_t)getpid();
        plock_self.tid = weft_sys_thread_native_id();
        plock_self.forks = now;
    }
    *pid = plock_self.pid;
    return plock_self.tid;
}

static bool plock_held_by(const psync_block *s, uint64_t pid, uint64_t tid)
{
    return weft__load64(&s->owner_tid) == tid && weft__load64(&s->owner_pid) == pid;
}

int weft_sys_plock_acquire(weft_sys_psync *p, int64_t deadline)
{
    psync_block *s = p->s;
    uint64_t pid, tid = plock_self_thread(&pid);
    int err;

    /* The holder's own look at the owner needs no lock: only the holder
     * writes it, and no other thread can make it equal the caller. Keeping
     * the levels here, not in a recursive mutex, also keeps every unlock a
     * call by the thread that locked. */
    if (plock_held_by(s, pid, tid)) {
        if (s->kind == WEFT_SYS_PLOCK)
            return WEFT_EPERM;
        if (s->levels == UINT32_MAX)
            return weft__fail(WEFT_EOVERFLOW, "plock_acquire: the caller holds 2^32-1 levels");
        s->levels++;
        return WEFT_OK;
    }
    err = mutex_recover(&s->mutex, mutex_lock_until(&s->mutex, deadline));
    if (err == 0 || err == EOWNERDEAD) {
        weft__store64(&s->owner_pid, pid);
        weft__store64(&s->owner_tid, tid);
        s->levels = 1;
        return err == 0 ? WEFT_OK : WEFT_EOWNERDEAD;
    }
    if (err == ETIMEDOUT)
        return WEFT_ETIMEDOUT;
    weft__posix_status(err, "pthread_mutex_lock");
    return weft__fail(WEFT_EOS, "plock_acquire: pthread_mutex_lock failed (os error %d)", err);
}

int weft_sys_plock_release(weft_sys_psync *p)
{
    psync_block *s = p->s;
    uint64_t pid, tid = plock_self_thread(&pid);

    if (!plock_held_by(s, pid, tid))
        return weft__fail(WEFT_EPERM, "plock_release: the calling thread does not hold the plock");
    if (--s->levels == 0) {
        weft__store64(&s->owner_tid, 0);
        weft__store64(&s->owner_pid, 0);
        pthread_mutex_unlock(&s->mutex);
    }
    return WEFT_OK;
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

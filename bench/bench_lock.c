/* SPDX-License-Identifier: MIT */
/*
 * bench_lock: weft_lock, weft_rlock and weft_cond against pthreads, C11
 * <threads.h>, GLib, libuv, APR and (on Linux) a bare futex lock and
 * condition, uncontended, contended and in a condition ping-pong.
 *
 * What is measured
 *   - Uncontended (lock.uncontended, rlock.uncontended): one thread,
 *     acquire + increment + release in a loop, in nanoseconds per
 *     operation, timed on the thread's CPU-time clock
 *     (CLOCK_THREAD_CPUTIME_ID): the loop never blocks, so that is its
 *     wall time minus the slices other processes took, which on a shared
 *     machine cut the spread of the repetitions from about 3x to 1.2x.
 *   - Contended (lock.contended.T, rlock.contended.T): T threads hammer one
 *     lock (acquire, increment a shared counter, release) for a fixed time;
 *     the total operations per second, and fairness = fewest / most
 *     operations done by one thread.
 *   - Single-threaded (lock.uncontended.single, rlock.uncontended.single):
 *     the uncontended loop in a process that has only ever had one thread
 *     (a child forked before the first thread), where a C library may skip its atomics
 *     (glibc's __libc_single_threaded).
 *   - CPU time (the .cpu rows of the contended runs and the ping-pong):
 *     the CPU time of the process (every pair's, with --pingpong-pairs)
 *     per operation or round trip, which spinning spends and a sleep does
 *     not: under load a wait that spins in vain costs the CPU the thread
 *     it waits for needs.
 *   - Event ping-pong (event.pingpong): the same hand-off through two
 *     events, one per thread: wait for mine, clear it, set the other's.
 *     pthreads has no event: its row is what Python's threading.Event is
 *     made of, a mutex, a condition and a flag.
 *   - Condition ping-pong (cond.pingpong): two threads hand a token back
 *     and forth through one mutex and one condition variable, each round
 *     written as Python would: acquire; while the token is not mine, wait;
 *     pass it; notify one; release. Microseconds per round trip (two
 *     hand-offs), from the moment both may run to the moment the first
 *     thread has the token back for the last time.
 *
 * The competitors (each family compares like with like)
 *   lock   weft_lock; pthread_mutex_t (default type, the baseline);
 *          futex (bare), Drepper's three-state futex mutex
 *          (futex_lock_ref.c, Linux); GLib GMutex; libuv uv_mutex_t; APR
 *          apr_thread_mutex_t (APR_THREAD_MUTEX_DEFAULT); C11 mtx_t
 *          (mtx_plain).
 *   rlock  weft_rlock; pthread_mutex_t (PTHREAD_MUTEX_RECURSIVE, the
 *          baseline); GLib GRecMutex; libuv uv_mutex_init_recursive; APR
 *          APR_THREAD_MUTEX_NESTED; C11 mtx_plain | mtx_recursive.
 *   cond   weft_lock + weft_cond; pthread_mutex_t + pthread_cond_t (the
 *          baseline); the bare futex mutex + a sequence-counter futex
 *          condition (Linux); GMutex + GCond; uv_mutex_t + uv_cond_t; APR
 *          mutex + apr_thread_cond_t; C11 mtx_t + cnd_t.
 *   A library that pkg-config did not find at build time (GLib, libuv, APR)
 *   or a C library without <threads.h> only drops its rows; the output says
 *   near the top which were skipped.
 *
 * How
 *   Each repetition runs every competitor of every measurement once, in an
 *   order shuffled anew each repetition (bench_order), so that drift
 *   (frequency scaling, a noisy neighbour) and what one run leaves the next
 *   (where the scheduler put the load's busy processes) fall on all of them
 *   alike. Reported are the median, minimum and maximum over the
 *   repetitions, and the ratio of the medians to the pthread row of the
 *   same family; the "paired" range is the spread of the per-repetition
 *   ratios. A summary then sets weft against the best other competitor of
 *   each family and checks the targets of issue 6 (weft_lock within 1.05x
 *   of the bare futex lock uncontended and at least as fast contended;
 *   the ping-pong at most 0.8x pthread's time). Every row is also printed
 *   as an `@result` line (see bench_result in bench_util.h).
 *
 *   The hammering threads are plain pthreads, so weft's thread API is not
 *   what is measured. On Linux thread i is pinned to the i-th CPU the
 *   process may use (round robin; --no-pin turns this off), so that two
 *   threads on two CPUs really contend across cores: left to the
 *   scheduler, they sometimes share one CPU and take turns by time slice,
 *   which is several times faster and makes the results bimodal. The two
 *   ping-pong threads are pinned the same way, to two different CPUs. They
 *   start together from a barrier; the window runs from the moment the last
 *   thread reaches the barrier (stamped by that thread) to the moment the
 *   main thread raises the stop flag (contended) or the first ping-pong
 *   thread gets its last token (ping-pong). The loops are generated from
 *   one text per measurement (DEFINE_LOOPS, DEFINE_PINGPONG), so they differ
 *   only in the calls of the competitor, and every call is an out-of-line
 *   call into another translation unit (libweft, libc, libglib, libuv,
 *   libapr, futex_lock_ref.c), which also keeps the compiler from removing
 *   the loops; the counter the critical section increments is checked
 *   afterwards, so a lock that lost an update would be caught.
 *
 * Usage: bench_lock [--smoke] [--reps N] [--ms N] [--ops N] [--rounds N]
 *                   [--pingpong-pairs N] [--regime NAME]
 *                   [--threads A,B,..] [--no-pin] [--verbose] [--only A,B,..]
 *                   [--families A,B,..]
 * Environment: WEFT_BENCH_REPS, WEFT_BENCH_MS, WEFT_BENCH_OPS,
 *              WEFT_BENCH_ROUNDS, WEFT_BENCH_THREADS (the command line wins).
 */
#include "bench_features.h"

#include <weft/lock.h>
#include <weft/sync.h>
#include <weft/time.h>

#define BENCH_NAME "bench_lock"
#include "bench_util.h"
#include "bench_threads.h"
#include "bench_regime.h"

#if defined(WEFT_BENCH_FUTEX_REF)
#include "futex_lock_ref.h"
#endif
#include "bench_competitors.h"

#include <errno.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_THREADS 64
#define MAX_PAIRS 16 /* ping-pongs at once */
#define MAX_THREAD_COUNTS 8
#define MAX_REPS BENCH_MAX_REPS
#define CACHE_LINE 64

/* ---- Small helpers -------------------------------------------------------- */

/* Sleep on the monotonic clock until weft_monotonic_ns() reaches `until`. */
static void sleep_until(int64_t until)
{
    for (;;) {
        int64_t left = until - weft_monotonic_ns();
        struct timespec ts;

        if (left <= 0)
            return;
        ts.tv_sec = (time_t)(left / 1000000000);
        ts.tv_nsec = (long)(left % 1000000000);
        if (nanosleep(&ts, NULL) != 0 && errno != EINTR)
            die("nanosleep failed: errno %d", errno);
    }
}

/* ---- The shared state ----------------------------------------------------------
 * The lock under test, the condition, the counter the lock protects (with
 * the ping-pong token), and the stop flag each sit on their own cache line,
 * so that only the competitor's own traffic differs between competitors. */

/* An event of the event ping-pong: weft's, or pthread's made as Python's
 * threading.Event is (a mutex, a condition, a flag). */
typedef struct pthread_event {
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    bool flag;
} pthread_event;

typedef struct event_slot {
    alignas(CACHE_LINE) union {
        weft_event we;
        pthread_event pe;
    } u;
} event_slot;

static struct {
    alignas(CACHE_LINE) union {
        weft_lock wl;
        weft_rlock wr;
        pthread_mutex_t pm;
#if defined(WEFT_BENCH_FUTEX_REF)
        futex_lock_ref fr;
#endif
#if defined(WEFT_BENCH_HAVE_GLIB)
        GMutex gm;
        GRecMutex grm;
#endif
#if defined(WEFT_BENCH_HAVE_UV)
        uv_mutex_t um;
#endif
#if defined(WEFT_BENCH_HAVE_APR)
        apr_thread_mutex_t *am; /* APR's objects are opaque, made in a pool */
#endif
#if defined(WEFT_BENCH_HAVE_C11_THREADS)
        mtx_t cm;
#endif
    } lock;
    alignas(CACHE_LINE) union {
        weft_cond wc;
        pthread_cond_t pc;
#if defined(WEFT_BENCH_FUTEX_REF)
        futex_cond_ref fc;
#endif
#if defined(WEFT_BENCH_HAVE_GLIB)
        GCond gc;
#endif
#if defined(WEFT_BENCH_HAVE_UV)
        uv_cond_t uc;
#endif
#if defined(WEFT_BENCH_HAVE_APR)
        apr_thread_cond_t *ac;
#endif
#if defined(WEFT_BENCH_HAVE_C11_THREADS)
        cnd_t cc;
#endif
    } cv;
    event_slot ev[2]; /* event ping-pong: each player's event */
    alignas(CACHE_LINE) uint64_t counter; /* protected by the lock */
    int turn;                             /* ping-pong: whose token; under the lock */
    alignas(CACHE_LINE) atomic_int stop;
    alignas(CACHE_LINE) start_barrier barrier;
#if defined(WEFT_BENCH_HAVE_APR)
    apr_pool_t *apr_root; /* made once in main */
    apr_pool_t *apr_pool; /* one per run, for the run's mutex and condition */
#endif
} g;

typedef struct worker {
    alignas(CACHE_LINE) uint64_t ops;
    pthread_t thread;
} worker;

static worker workers[MAX_THREADS];

/* A ping-pong thread: `me` is 0 or 1; it waits for the token `waits` times
 * and passes it on the first `passes` of them. */
typedef struct player {
    alignas(CACHE_LINE) int me;
    uint64_t waits;
    uint64_t passes;
    int64_t end_ns;
    pthread_t thread;
} player;

/* ---- The loops -------------------------------------------------------------------
 * Generated from one text per measurement, so every call is a direct call
 * and the loops of two competitors differ only in the calls. ACQ and REL
 * acquire and release the lock; WAIT waits on the condition (releasing and
 * reacquiring the lock), SIGNAL wakes one waiter. */

#define DEFINE_LOOPS(tag, ACQ, REL)                                            \
    static void uncontended_##tag(uint64_t ops)                                \
    {                                                                          \
        for (uint64_t i = 0; i < ops; i++) {                                   \
            ACQ;                                                               \
            g.counter++;                                                       \
            REL;                                                               \
        }                                                                      \
    }                                                                          \
    static void *hammer_##tag(void *arg)                                       \
    {                                                                          \
        worker *w = arg;                                                       \
        uint64_t ops = 0;                                                      \
        /* Outside the window: first-use costs (a weft thread record for  */   \
        /* the rlock owner, page faults) are paid here by everyone.      */   \
        ACQ;                                                                   \
        REL;                                                                   \
        barrier_wait(&g.barrier);                                              \
        while (!atomic_load_explicit(&g.stop, memory_order_relaxed)) {         \
            ACQ;                                                               \
            g.counter++;                                                       \
            REL;                                                               \
            ops++;                                                             \
        }                                                                      \
        w->ops = ops;                                                          \
        return NULL;                                                           \
    }

#define DEFINE_PINGPONG(tag, ACQ, REL, WAIT, SIGNAL)                           \
    static void *pingpong_##tag(void *arg)                                     \
    {                                                                          \
        player *p = arg;                                                       \
        ACQ;                                                                   \
        REL;                                                                   \
        barrier_wait(&g.barrier);                                              \
        for (uint64_t i = 0; i < p->waits; i++) {                              \
            ACQ;                                                               \
            while (g.turn != p->me)                                            \
                WAIT;                                                          \
            if (i < p->passes) {                                               \
                g.turn = !p->me;                                               \
                g.counter++;                                                   \
                SIGNAL;                                                        \
            }                                                                  \
            REL;                                                               \
        }                                                                      \
        p->end_ns = weft_monotonic_ns();                                       \
        return NULL;                                                           \
    }

/* Each player waits for its event, clears it and sets the other's. */
#define DEFINE_EVENT_PINGPONG(tag, WAIT, CLEAR, SET)                           \
    static void *evpong_##tag(void *arg)                                       \
    {                                                                          \
        player *p = arg;                                                       \
        barrier_wait(&g.barrier);                                              \
        for (uint64_t i = 0; i < p->waits; i++) {                              \
            WAIT(&g.ev[p->me].u);                                              \
            CLEAR(&g.ev[p->me].u);                                             \
            if (i < p->passes) {                                               \
                g.turn = !p->me;                                               \
                g.counter++;                                                   \
                SET(&g.ev[!p->me].u);                                          \
            }                                                                  \
        }                                                                      \
        p->end_ns = weft_monotonic_ns();                                       \
        return NULL;                                                           \
    }

static void nothing(void) {}

/* ---- weft --------------------------------------------------------------------- */

#define WEFT_LOCK_ACQ                                                          \
    if (weft_lock_acquire(&g.lock.wl, WEFT_FOREVER) != WEFT_OK)                \
        die("weft_lock_acquire failed")
#define WEFT_LOCK_REL                                                          \
    if (weft_lock_release(&g.lock.wl) != WEFT_OK)                              \
        die("weft_lock_release failed")
#define WEFT_RLOCK_ACQ                                                         \
    if (weft_rlock_acquire(&g.lock.wr, WEFT_FOREVER) != WEFT_OK)               \
        die("weft_rlock_acquire failed")
#define WEFT_RLOCK_REL                                                         \
    if (weft_rlock_release(&g.lock.wr) != WEFT_OK)                             \
        die("weft_rlock_release failed")
#define WEFT_COND_WAIT                                                         \
    if (weft_cond_wait(&g.cv.wc, &g.lock.wl, WEFT_FOREVER) != WEFT_OK)         \
        die("weft_cond_wait failed")
#define WEFT_COND_SIGNAL weft_cond_notify(&g.cv.wc, 1)

DEFINE_LOOPS(weft_lock, WEFT_LOCK_ACQ, WEFT_LOCK_REL)
DEFINE_LOOPS(weft_rlock, WEFT_RLOCK_ACQ, WEFT_RLOCK_REL)
DEFINE_PINGPONG(weft, WEFT_LOCK_ACQ, WEFT_LOCK_REL, WEFT_COND_WAIT, WEFT_COND_SIGNAL)

static void setup_weft_lock(void)
{
    weft_lock init = WEFT_LOCK_INIT;
    g.lock.wl = init;
}

static void setup_weft_rlock(void)
{
    weft_rlock init = WEFT_RLOCK_INIT;
    g.lock.wr = init;
}

#define WEFT_EVENT_WAIT(e)                                                     \
    if (weft_event_wait(&(e)->we, WEFT_FOREVER) != WEFT_OK)                    \
        die("weft_event_wait failed")
#define WEFT_EVENT_CLEAR(e) weft_event_clear(&(e)->we)
#define WEFT_EVENT_SET(e) weft_event_set(&(e)->we)

DEFINE_EVENT_PINGPONG(weft, WEFT_EVENT_WAIT, WEFT_EVENT_CLEAR, WEFT_EVENT_SET)

/* Thread 0 has the token first. */
static void setup_weft_event(void)
{
    for (int i = 0; i < 2; i++) {
        weft_event init = WEFT_EVENT_INIT;
        g.ev[i].u.we = init;
    }
    weft_event_set(&g.ev[0].u.we);
}

static void setup_weft_cond(void)
{
    weft_cond init = WEFT_COND_INIT;
    setup_weft_lock();
    g.cv.wc = init;
}

/* ---- pthreads ----------------------------------------------------------------- */

#define PTHREAD_ACQ                                                            \
    if (pthread_mutex_lock(&g.lock.pm) != 0)                                   \
        die("pthread_mutex_lock failed")
#define PTHREAD_REL                                                            \
    if (pthread_mutex_unlock(&g.lock.pm) != 0)                                 \
        die("pthread_mutex_unlock failed")
#define PTHREAD_WAIT                                                           \
    if (pthread_cond_wait(&g.cv.pc, &g.lock.pm) != 0)                          \
        die("pthread_cond_wait failed")
#define PTHREAD_SIGNAL                                                         \
    if (pthread_cond_signal(&g.cv.pc) != 0)                                    \
        die("pthread_cond_signal failed")

DEFINE_LOOPS(pthread, PTHREAD_ACQ, PTHREAD_REL)
DEFINE_PINGPONG(pthread, PTHREAD_ACQ, PTHREAD_REL, PTHREAD_WAIT, PTHREAD_SIGNAL)

static void setup_pthread_default(void)
{
    check(pthread_mutex_init(&g.lock.pm, NULL), "pthread_mutex_init");
}

static void setup_pthread_recursive(void)
{
    pthread_mutexattr_t attr;

    check(pthread_mutexattr_init(&attr), "pthread_mutexattr_init");
    check(pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE),
          "pthread_mutexattr_settype");
    check(pthread_mutex_init(&g.lock.pm, &attr), "pthread_mutex_init");
    check(pthread_mutexattr_destroy(&attr), "pthread_mutexattr_destroy");
}

static void teardown_pthread(void)
{
    check(pthread_mutex_destroy(&g.lock.pm), "pthread_mutex_destroy");
}

static void setup_pthread_cond(void)
{
    setup_pthread_default();
    check(pthread_cond_init(&g.cv.pc, NULL), "pthread_cond_init");
}

static void teardown_pthread_cond(void)
{
    check(pthread_cond_destroy(&g.cv.pc), "pthread_cond_destroy");
    teardown_pthread();
}

static void pthread_event_wait(pthread_event *e)
{
    check(pthread_mutex_lock(&e->mutex), "pthread_mutex_lock");
    while (!e->flag)
        check(pthread_cond_wait(&e->cond, &e->mutex), "pthread_cond_wait");
    check(pthread_mutex_unlock(&e->mutex), "pthread_mutex_unlock");
}

static void pthread_event_change(pthread_event *e, bool flag)
{
    check(pthread_mutex_lock(&e->mutex), "pthread_mutex_lock");
    e->flag = flag;
    if (flag)
        check(pthread_cond_broadcast(&e->cond), "pthread_cond_broadcast"); /* notify_all */
    check(pthread_mutex_unlock(&e->mutex), "pthread_mutex_unlock");
}

#define PTHREAD_EVENT_WAIT(e) pthread_event_wait(&(e)->pe)
#define PTHREAD_EVENT_CLEAR(e) pthread_event_change(&(e)->pe, false)
#define PTHREAD_EVENT_SET(e) pthread_event_change(&(e)->pe, true)

DEFINE_EVENT_PINGPONG(pthread, PTHREAD_EVENT_WAIT, PTHREAD_EVENT_CLEAR, PTHREAD_EVENT_SET)

static void setup_pthread_event(void)
{
    for (int i = 0; i < 2; i++) {
        check(pthread_mutex_init(&g.ev[i].u.pe.mutex, NULL), "pthread_mutex_init");
        check(pthread_cond_init(&g.ev[i].u.pe.cond, NULL), "pthread_cond_init");
        g.ev[i].u.pe.flag = i == 0;
    }
}

static void teardown_pthread_event(void)
{
    for (int i = 0; i < 2; i++) {
        check(pthread_cond_destroy(&g.ev[i].u.pe.cond), "pthread_cond_destroy");
        check(pthread_mutex_destroy(&g.ev[i].u.pe.mutex), "pthread_mutex_destroy");
    }
}

/* ---- The bare futex lock and condition (Linux) ------------------------------ */

#if defined(WEFT_BENCH_FUTEX_REF)
#define FUTEX_REF_ACQ futex_lock_ref_acquire(&g.lock.fr)
#define FUTEX_REF_REL futex_lock_ref_release(&g.lock.fr)
#define FUTEX_REF_WAIT futex_cond_ref_wait(&g.cv.fc, &g.lock.fr)
#define FUTEX_REF_SIGNAL futex_cond_ref_signal(&g.cv.fc)

DEFINE_LOOPS(futex_ref, FUTEX_REF_ACQ, FUTEX_REF_REL)
DEFINE_PINGPONG(futex_ref, FUTEX_REF_ACQ, FUTEX_REF_REL, FUTEX_REF_WAIT, FUTEX_REF_SIGNAL)

static void setup_futex_ref(void)
{
    futex_lock_ref init = FUTEX_LOCK_REF_INIT;
    g.lock.fr = init;
}

static void setup_futex_ref_cond(void)
{
    futex_cond_ref init = FUTEX_COND_REF_INIT;
    setup_futex_ref();
    g.cv.fc = init;
}
#endif

/* ---- GLib: GMutex, GRecMutex, GCond ------------------------------------------- */

#if defined(WEFT_BENCH_HAVE_GLIB)
#define GLIB_ACQ g_mutex_lock(&g.lock.gm)
#define GLIB_REL g_mutex_unlock(&g.lock.gm)
#define GLIB_REC_ACQ g_rec_mutex_lock(&g.lock.grm)
#define GLIB_REC_REL g_rec_mutex_unlock(&g.lock.grm)
#define GLIB_WAIT g_cond_wait(&g.cv.gc, &g.lock.gm)
#define GLIB_SIGNAL g_cond_signal(&g.cv.gc)

DEFINE_LOOPS(glib, GLIB_ACQ, GLIB_REL)
DEFINE_LOOPS(glib_rec, GLIB_REC_ACQ, GLIB_REC_REL)
DEFINE_PINGPONG(glib, GLIB_ACQ, GLIB_REL, GLIB_WAIT, GLIB_SIGNAL)

static void setup_glib(void) { g_mutex_init(&g.lock.gm); }
static void teardown_glib(void) { g_mutex_clear(&g.lock.gm); }
static void setup_glib_rec(void) { g_rec_mutex_init(&g.lock.grm); }
static void teardown_glib_rec(void) { g_rec_mutex_clear(&g.lock.grm); }

static void setup_glib_cond(void)
{
    setup_glib();
    g_cond_init(&g.cv.gc);
}

static void teardown_glib_cond(void)
{
    g_cond_clear(&g.cv.gc);
    teardown_glib();
}
#endif

/* ---- libuv: uv_mutex_t, uv_cond_t --------------------------------------------- */

#if defined(WEFT_BENCH_HAVE_UV)
#define UV_ACQ uv_mutex_lock(&g.lock.um)
#define UV_REL uv_mutex_unlock(&g.lock.um)
#define UV_WAIT uv_cond_wait(&g.cv.uc, &g.lock.um)
#define UV_SIGNAL uv_cond_signal(&g.cv.uc)

DEFINE_LOOPS(uv, UV_ACQ, UV_REL)
DEFINE_PINGPONG(uv, UV_ACQ, UV_REL, UV_WAIT, UV_SIGNAL)

static void setup_uv(void) { check(uv_mutex_init(&g.lock.um), "uv_mutex_init"); }
static void setup_uv_recursive(void)
{
    check(uv_mutex_init_recursive(&g.lock.um), "uv_mutex_init_recursive");
}
static void teardown_uv(void) { uv_mutex_destroy(&g.lock.um); }

static void setup_uv_cond(void)
{
    setup_uv();
    check(uv_cond_init(&g.cv.uc), "uv_cond_init");
}

static void teardown_uv_cond(void)
{
    uv_cond_destroy(&g.cv.uc);
    teardown_uv();
}
#endif

/* ---- APR: apr_thread_mutex_t, apr_thread_cond_t -------------------------------- */

#if defined(WEFT_BENCH_HAVE_APR)
#define APR_ACQ                                                                \
    if (apr_thread_mutex_lock(g.lock.am) != APR_SUCCESS)                       \
        die("apr_thread_mutex_lock failed")
#define APR_REL                                                                \
    if (apr_thread_mutex_unlock(g.lock.am) != APR_SUCCESS)                     \
        die("apr_thread_mutex_unlock failed")
#define APR_WAIT                                                               \
    if (apr_thread_cond_wait(g.cv.ac, g.lock.am) != APR_SUCCESS)               \
        die("apr_thread_cond_wait failed")
#define APR_SIGNAL                                                             \
    if (apr_thread_cond_signal(g.cv.ac) != APR_SUCCESS)                        \
        die("apr_thread_cond_signal failed")

DEFINE_LOOPS(apr, APR_ACQ, APR_REL)
DEFINE_PINGPONG(apr, APR_ACQ, APR_REL, APR_WAIT, APR_SIGNAL)

/* Each run makes its objects in a pool of its own, destroyed after it. */
static void setup_apr_mutex(unsigned flags)
{
    check(apr_pool_create(&g.apr_pool, g.apr_root), "apr_pool_create");
    check(apr_thread_mutex_create(&g.lock.am, flags, g.apr_pool), "apr_thread_mutex_create");
}

static void setup_apr(void) { setup_apr_mutex(APR_THREAD_MUTEX_DEFAULT); }
static void setup_apr_nested(void) { setup_apr_mutex(APR_THREAD_MUTEX_NESTED); }

static void teardown_apr(void)
{
    check(apr_thread_mutex_destroy(g.lock.am), "apr_thread_mutex_destroy");
    apr_pool_destroy(g.apr_pool);
}

static void setup_apr_cond(void)
{
    setup_apr();
    check(apr_thread_cond_create(&g.cv.ac, g.apr_pool), "apr_thread_cond_create");
}

static void teardown_apr_cond(void)
{
    check(apr_thread_cond_destroy(g.cv.ac), "apr_thread_cond_destroy");
    teardown_apr();
}
#endif

/* ---- C11 <threads.h>: mtx_t, cnd_t ---------------------------------------------- */

#if defined(WEFT_BENCH_HAVE_C11_THREADS)
#define C11_ACQ                                                                \
    if (mtx_lock(&g.lock.cm) != thrd_success)                                  \
        die("mtx_lock failed")
#define C11_REL                                                                \
    if (mtx_unlock(&g.lock.cm) != thrd_success)                                \
        die("mtx_unlock failed")
#define C11_WAIT                                                               \
    if (cnd_wait(&g.cv.cc, &g.lock.cm) != thrd_success)                        \
        die("cnd_wait failed")
#define C11_SIGNAL                                                             \
    if (cnd_signal(&g.cv.cc) != thrd_success)                                  \
        die("cnd_signal failed")

DEFINE_LOOPS(c11, C11_ACQ, C11_REL)
DEFINE_PINGPONG(c11, C11_ACQ, C11_REL, C11_WAIT, C11_SIGNAL)

static void setup_c11_type(int type)
{
    if (mtx_init(&g.lock.cm, type) != thrd_success)
        die("mtx_init failed");
}

static void setup_c11(void) { setup_c11_type(mtx_plain); }
static void setup_c11_recursive(void) { setup_c11_type(mtx_plain | mtx_recursive); }
static void teardown_c11(void) { mtx_destroy(&g.lock.cm); }

static void setup_c11_cond(void)
{
    setup_c11();
    if (cnd_init(&g.cv.cc) != thrd_success)
        die("cnd_init failed");
}

static void teardown_c11_cond(void)
{
    cnd_destroy(&g.cv.cc);
    teardown_c11();
}
#endif

/* ---- The table ----------------------------------------------------------------- */

typedef struct competitor {
    const char *family;   /* "lock", "rlock", "cond" or "event" */
    const char *name;     /* as in the @result lines: "weft", "GLib GMutex", ... */
    const char *what;     /* what exactly runs, for the legend */
    bool baseline;        /* the pthread row the family's ratios are taken to */
    void (*setup)(void);
    void (*teardown)(void);
    void (*uncontended)(uint64_t ops); /* lock and rlock */
    void *(*hammer)(void *arg);        /* lock and rlock */
    void *(*pingpong)(void *arg);      /* cond and event */
} competitor;

#define LOCK_ROW(family, name, what, baseline, tag, setup, teardown)           \
    {family, name, what, baseline, setup, teardown, uncontended_##tag, hammer_##tag, NULL}
#define COND_ROW(name, what, baseline, tag, setup, teardown)                   \
    {"cond", name, what, baseline, setup, teardown, NULL, NULL, pingpong_##tag}
#define EVENT_ROW(name, what, baseline, tag, setup, teardown)                  \
    {"event", name, what, baseline, setup, teardown, NULL, NULL, evpong_##tag}

static const competitor competitors[] = {
    LOCK_ROW("lock", "weft", "weft_lock", false, weft_lock, setup_weft_lock, nothing),
    LOCK_ROW("lock", "pthread", "pthread_mutex_t, default type", true, pthread,
             setup_pthread_default, teardown_pthread),
#if defined(WEFT_BENCH_FUTEX_REF)
    LOCK_ROW("lock", "futex (bare)", "Drepper's three-state futex mutex (futex_lock_ref.c)",
             false, futex_ref, setup_futex_ref, nothing),
#endif
#if defined(WEFT_BENCH_HAVE_GLIB)
    LOCK_ROW("lock", "GLib GMutex", "GMutex", false, glib, setup_glib, teardown_glib),
#endif
#if defined(WEFT_BENCH_HAVE_UV)
    LOCK_ROW("lock", "libuv uv_mutex", "uv_mutex_t from uv_mutex_init", false, uv, setup_uv,
             teardown_uv),
#endif
#if defined(WEFT_BENCH_HAVE_APR)
    LOCK_ROW("lock", "APR apr_thread_mutex", "apr_thread_mutex_t, APR_THREAD_MUTEX_DEFAULT",
             false, apr, setup_apr, teardown_apr),
#endif
#if defined(WEFT_BENCH_HAVE_C11_THREADS)
    LOCK_ROW("lock", "C11 threads", "mtx_t, mtx_plain", false, c11, setup_c11, teardown_c11),
#endif

    LOCK_ROW("rlock", "weft", "weft_rlock", false, weft_rlock, setup_weft_rlock, nothing),
    LOCK_ROW("rlock", "pthread", "pthread_mutex_t, PTHREAD_MUTEX_RECURSIVE", true, pthread,
             setup_pthread_recursive, teardown_pthread),
#if defined(WEFT_BENCH_HAVE_GLIB)
    LOCK_ROW("rlock", "GLib GRecMutex", "GRecMutex", false, glib_rec, setup_glib_rec,
             teardown_glib_rec),
#endif
#if defined(WEFT_BENCH_HAVE_UV)
    LOCK_ROW("rlock", "libuv uv_mutex (recursive)", "uv_mutex_t from uv_mutex_init_recursive",
             false, uv, setup_uv_recursive, teardown_uv),
#endif
#if defined(WEFT_BENCH_HAVE_APR)
    LOCK_ROW("rlock", "APR apr_thread_mutex (nested)",
             "apr_thread_mutex_t, APR_THREAD_MUTEX_NESTED", false, apr, setup_apr_nested,
             teardown_apr),
#endif
#if defined(WEFT_BENCH_HAVE_C11_THREADS)
    LOCK_ROW("rlock", "C11 threads", "mtx_t, mtx_plain | mtx_recursive", false, c11,
             setup_c11_recursive, teardown_c11),
#endif

    EVENT_ROW("weft", "two weft_events", false, weft, setup_weft_event, nothing),
    EVENT_ROW("pthread", "two events of pthread_mutex_t + pthread_cond_t + a flag", true,
              pthread, setup_pthread_event, teardown_pthread_event),

    COND_ROW("weft", "weft_lock + weft_cond", false, weft, setup_weft_cond, nothing),
    COND_ROW("pthread", "pthread_mutex_t + pthread_cond_t", true, pthread, setup_pthread_cond,
             teardown_pthread_cond),
#if defined(WEFT_BENCH_FUTEX_REF)
    COND_ROW("futex (bare)", "the bare futex mutex + a sequence-counter futex condition",
             false, futex_ref, setup_futex_ref_cond, nothing),
#endif
#if defined(WEFT_BENCH_HAVE_GLIB)
    COND_ROW("GLib GCond", "GMutex + GCond", false, glib, setup_glib_cond, teardown_glib_cond),
#endif
#if defined(WEFT_BENCH_HAVE_UV)
    COND_ROW("libuv uv_cond", "uv_mutex_t + uv_cond_t", false, uv, setup_uv_cond,
             teardown_uv_cond),
#endif
#if defined(WEFT_BENCH_HAVE_APR)
    COND_ROW("APR apr_thread_cond", "apr_thread_mutex_t + apr_thread_cond_t", false, apr,
             setup_apr_cond, teardown_apr_cond),
#endif
#if defined(WEFT_BENCH_HAVE_C11_THREADS)
    COND_ROW("C11 threads", "mtx_t + cnd_t", false, c11, setup_c11_cond, teardown_c11_cond),
#endif
};

#define NCOMP ((int)(sizeof competitors / sizeof competitors[0]))


static bool active[NCOMP];

/* The competitor of `family` named `name` if it runs, else -1. */
static int find_competitor(const char *family, const char *name)
{
    for (int i = 0; i < NCOMP; i++)
        if (active[i] && strcmp(competitors[i].family, family) == 0 &&
            strcmp(competitors[i].name, name) == 0)
            return i;
    return -1;
}

/* The pthread row of the competitor's family; -1 when it does not run. */
static int baseline_of(int c)
{
    for (int i = 0; i < NCOMP; i++)
        if (active[i] && competitors[i].baseline &&
            strcmp(competitors[i].family, competitors[c].family) == 0)
            return i;
    return -1;
}

/* ---- One measurement -------------------------------------------------------- */

/* The calling thread's CPU time in nanoseconds: the time slices that other
 * processes take from an uncontended loop are not counted, so the loop's
 * own cost stays measurable on a busy machine. */
static int64_t thread_cpu_ns(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        die("clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed: errno %d", errno);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The process's CPU time in nanoseconds: every thread's, the main
 * thread's (asleep in the window) included. */
static int64_t process_cpu_ns(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0)
        die("clock_gettime(CLOCK_PROCESS_CPUTIME_ID) failed: errno %d", errno);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Nanoseconds of CPU time per acquire+release, one thread. */
static double run_uncontended(const competitor *c, uint64_t ops)
{
    int64_t t0, t1;

    c->setup();
    g.counter = 0;
    c->uncontended(ops / 16 + 1); /* warm the caches and branch predictors */
    g.counter = 0;
    t0 = thread_cpu_ns();
    c->uncontended(ops);
    t1 = thread_cpu_ns();
    if (g.counter != ops)
        die("%s %s: counter %llu after %llu uncontended operations", c->family, c->name,
            (unsigned long long)g.counter, (unsigned long long)ops);
    c->teardown();
    return (double)(t1 - t0) / (double)ops;
}

/* The same in a process that has only ever had one thread, where a C
 * library that knows it is single-threaded may skip its atomics (glibc
 * looks at a flag that a fork child of a threaded process does not get
 * back): a child forked at the start of main, before any thread, that
 * measures what it is asked to over a pipe. */
static int single_ask[2] = {-1, -1}, single_answer[2] = {-1, -1};
static pid_t single_pid;

static void start_single_server(uint64_t ops)
{
    int c;
    double ns;

    check(pipe(single_ask), "pipe");
    check(pipe(single_answer), "pipe");
    fflush(stdout);
    fflush(stderr);
    single_pid = fork();
    if (single_pid < 0)
        die("fork failed: errno %d", errno);
    if (single_pid == 0) {
        close(single_ask[1]);
        close(single_answer[0]);
        while (read(single_ask[0], &c, sizeof c) == (ssize_t)sizeof c) {
            ns = run_uncontended(&competitors[c], ops);
            if (write(single_answer[1], &ns, sizeof ns) != (ssize_t)sizeof ns)
                _exit(2);
        }
        _exit(0);
    }
    close(single_ask[0]);
    close(single_answer[1]);
}

static double run_uncontended_single(int c)
{
    double ns;

    if (write(single_ask[1], &c, sizeof c) != (ssize_t)sizeof c ||
        read(single_answer[0], &ns, sizeof ns) != (ssize_t)sizeof ns)
        die("%s %s: the single-threaded child sent no result", competitors[c].family,
            competitors[c].name);
    return ns;
}

static void stop_single_server(void)
{
    int status;

    close(single_ask[1]);
    close(single_answer[0]);
    if (waitpid(single_pid, &status, 0) != single_pid || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0)
        die("the single-threaded child failed");
}

typedef struct contended_result {
    double mops;     /* million operations per second, all threads */
    double cpu_ns;   /* CPU time of the process per operation, ns */
    double fairness; /* fewest / most operations of one thread */
    double csw;      /* context switches (voluntary + involuntary) per 1000 ops */
} contended_result;

static contended_result run_contended(const competitor *c, int nthreads, int duration_ms)
{
    contended_result r;
    uint64_t total = 0, lo = UINT64_MAX, hi = 0;
    int64_t t0, t1;
    int64_t cpu0, cpu1;
    long csw0, csw1;

    c->setup();
    g.counter = 0;
    atomic_store(&g.stop, 0);
    csw0 = context_switches();
    cpu0 = process_cpu_ns();
    barrier_init(&g.barrier, nthreads + 1);
    for (int i = 0; i < nthreads; i++) {
        workers[i].ops = 0;
        bench_start_thread(&workers[i].thread, i, c->hammer, &workers[i]);
    }
    t0 = barrier_wait(&g.barrier);
    sleep_until(t0 + (int64_t)duration_ms * 1000000);
    atomic_store(&g.stop, 1);
    t1 = weft_monotonic_ns();
    for (int i = 0; i < nthreads; i++) {
        check(pthread_join(workers[i].thread, NULL), "pthread_join");
        total += workers[i].ops;
        if (workers[i].ops < lo)
            lo = workers[i].ops;
        if (workers[i].ops > hi)
            hi = workers[i].ops;
    }
    csw1 = context_switches();
    cpu1 = process_cpu_ns();
    barrier_destroy(&g.barrier);
    if (g.counter != total)
        die("%s %s: counter %llu, but the threads did %llu operations: the lock "
            "let two threads in", c->family, c->name, (unsigned long long)g.counter,
            (unsigned long long)total);
    c->teardown();
    r.mops = (double)total / (double)(t1 - t0) * 1e3;
    r.fairness = hi ? (double)lo / (double)hi : 0.0;
    r.csw = total ? (double)(csw1 - csw0) * 1000.0 / (double)total : 0.0;
    r.cpu_ns = total ? (double)(cpu1 - cpu0) / (double)total : 0.0;
    return r;
}

typedef struct pingpong_result {
    double us;     /* microseconds per round trip */
    double cpu_us; /* CPU time of the process(es) per round trip, us */
    double csw;    /* context switches of the process per round trip */
} pingpong_result;

static pingpong_result run_pingpong(const competitor *c, uint64_t rounds)
{
    pingpong_result r;
    player p[2];
    int64_t t0, cpu0;
    long csw0;

    c->setup();
    g.counter = 0;
    g.turn = 0;
    csw0 = context_switches();
    cpu0 = process_cpu_ns();
    barrier_init(&g.barrier, 3);
    for (int i = 0; i < 2; i++) {
        p[i].me = i;
        /* Thread 0 passes first and waits once more, for the last return. */
        p[i].passes = rounds;
        p[i].waits = rounds + (i == 0);
        p[i].end_ns = 0;
        bench_start_thread(&p[i].thread, i, c->pingpong, &p[i]);
    }
    t0 = barrier_wait(&g.barrier);
    for (int i = 0; i < 2; i++)
        check(pthread_join(p[i].thread, NULL), "pthread_join");
    r.csw = (double)(context_switches() - csw0) / (double)rounds;
    r.cpu_us = (double)(process_cpu_ns() - cpu0) / (double)rounds / 1e3;
    barrier_destroy(&g.barrier);
    if (g.counter != 2 * rounds || g.turn != 0)
        die("%s %s: %llu hand-offs after %llu round trips", c->family, c->name,
            (unsigned long long)g.counter, (unsigned long long)rounds);
    c->teardown();
    r.us = (double)(p[0].end_ns - t0) / (double)rounds / 1e3;
    return r;
}

/* ---- Ping-pong pairs --------------------------------------------------------
 * --pingpong-pairs N runs N ping-pongs at once: 4 pairs on two CPUs is the
 * oversubscribed regime of issue 15. The pairs beyond the first run in
 * forked copies of this process, so each has its own lock, condition and
 * token (the shared state is per process) and the loops stay those of one
 * pair; a pipe that the parent closes releases them all together. The
 * result is the time per round trip of all the pairs together (the
 * longest pair's time over every pair's round trips), the CPU time per
 * round trip of all of them (the mean of the pairs'); the context switches
 * are those of the parent's pair. */
static pingpong_result run_pingpongs(const competitor *c, uint64_t rounds, int pairs)
{
    int go[2], done[2];
    pid_t pids[MAX_PAIRS];
    pingpong_result r;
    double longest;

    if (pairs == 1)
        return run_pingpong(c, rounds);
    fflush(stdout);
    fflush(stderr);
    check(pipe(go), "pipe");
    check(pipe(done), "pipe");
    for (int k = 1; k < pairs; k++) {
        pids[k] = fork();
        if (pids[k] < 0)
            die("fork failed: errno %d", errno);
        if (pids[k] == 0) {
            char start;
            pingpong_result mine;

            close(go[1]);
            close(done[0]);
            if (read(go[0], &start, 1) < 0) /* 0: the parent closed go[1] */
                _exit(2);
            mine = run_pingpong(c, rounds);
            _exit(write(done[1], &mine, sizeof mine) == (ssize_t)sizeof mine ? 0 : 2);
        }
    }
    close(go[0]);
    close(done[1]);
    close(go[1]);
    r = run_pingpong(c, rounds);
    longest = r.us;
    for (int k = 1; k < pairs; k++) {
        pingpong_result theirs;
        if (read(done[0], &theirs, sizeof theirs) != (ssize_t)sizeof theirs)
            die("%s %s: a ping-pong pair's process sent no result", c->family, c->name);
        longest = theirs.us > longest ? theirs.us : longest;
        r.cpu_us += theirs.cpu_us;
    }
    r.cpu_us /= pairs;
    close(done[0]);
    for (int k = 1; k < pairs; k++) {
        int status;
        if (waitpid(pids[k], &status, 0) != pids[k] || !WIFEXITED(status) ||
            WEXITSTATUS(status) != 0)
            die("%s %s: a ping-pong pair's process failed", c->family, c->name);
    }
    r.us = longest / pairs;
    return r;
}

/* ---- Settings -------------------------------------------------------------- */

typedef struct settings {
    int reps;
    int duration_ms;
    long long ops;
    long long rounds;
    int pingpong_pairs;
    int threads[MAX_THREAD_COUNTS];
    int nthread_counts;
    bool pin;
    bool verbose;
    const char *only;     /* NULL, or comma-separated parts of competitor names */
    const char *families; /* NULL, or comma-separated family names */
} settings;

static void parse_threads(void *ctx, const char *text, const char *what)
{
    settings *s = ctx;

    s->nthread_counts = parse_int_list(text, what, 2, MAX_THREADS, s->threads, MAX_THREAD_COUNTS, "thread count");
}

static const char usage[] =
    "usage: bench_lock [--smoke] [--reps N] [--ms N] [--ops N] [--rounds N] [--pingpong-pairs N]\n"
    "                  [--threads A,B,...] [--no-pin] [--verbose] [--only A,B,...]\n"
    "                  [--families A,B,...]\n"
    "  --reps N          repetitions, every competitor once each (default 11)\n"
    "  --ms N            duration of each contended run in ms (default 200)\n"
    "  --ops N           operations per uncontended run (default 4000000)\n"
    "  --rounds N        round trips per condition ping-pong run (default 5000)\n"
    "  --pingpong-pairs N  ping-pongs at once, one per process (default 1; 4 on two\n"
    "                    CPUs: the oversubscribed regime)\n"
    "  --threads A,B     thread counts of the contended runs (default 2,8)\n"
    "  --smoke           a quick check: 1 repetition, 20 ms, 200000 ops, 500 rounds\n"
    "  --no-pin          leave the threads to the scheduler (Linux pins thread i\n"
    "                    to the i-th usable CPU, round robin)\n"
    "  --verbose         print every run as it ends, on stderr\n"
    "  --only A,B        run only the competitors whose names contain A or B\n"
    "                    (for perf or valgrind; ratios need the pthread rows)\n"
    "  --families A,B    run only these families: lock, rlock, event, cond\n"
    BENCH_REGIME_USAGE
    "environment: WEFT_BENCH_REPS, WEFT_BENCH_MS, WEFT_BENCH_OPS, WEFT_BENCH_ROUNDS,\n"
    "  WEFT_BENCH_THREADS set the same; the command line wins\n";

/* ---- Results ------------------------------------------------------------------- */

static double uncontended_ns[NCOMP][MAX_REPS];
static double single_ns[NCOMP][MAX_REPS];
static double contended_cpu[MAX_THREAD_COUNTS][NCOMP][MAX_REPS];
static double pingpong_cpu[NCOMP][MAX_REPS];
static double contended_mops[MAX_THREAD_COUNTS][NCOMP][MAX_REPS];
static double contended_fair[MAX_THREAD_COUNTS][NCOMP][MAX_REPS];
static double contended_csw[MAX_THREAD_COUNTS][NCOMP][MAX_REPS];
static double pingpong_us[NCOMP][MAX_REPS];
static double pingpong_csw[NCOMP][MAX_REPS];

/* One measurement of one family: a table, its @result lines and a line of
 * the summary. */
typedef struct measure {
    const char *family;       /* "lock", "rlock", "event", "cond" */
    char key[40];             /* the @result family: "lock.contended.8" */
    char title[120];
    const char *unit;         /* "ns/op", "Mops/s", "us" */
    const char *fmt;          /* for the values */
    bool higher_is_better;
    double (*v)[MAX_REPS];    /* v[c][r] */
    double (*fair)[MAX_REPS]; /* contended: fairness, else NULL */
    double (*csw)[MAX_REPS];  /* context switches per unit of work, or NULL */
    const char *csw_label;    /* "csw/kop", "csw/rt" */
} measure;

#define MAX_MEASURES (2 * 2 + 2 * 2 * MAX_THREAD_COUNTS + 2 * 2)

static bool family_has_rows(const char *family)
{
    for (int c = 0; c < NCOMP; c++)
        if (active[c] && strcmp(competitors[c].family, family) == 0)
            return true;
    return false;
}

/* The measurements this run makes, in the order of the output. */
static int list_measures(const settings *s, measure *m)
{
    static const char *const lock_families[] = {"lock", "rlock"};
    int n = 0;

    for (int f = 0; f < 2; f++) {
        const char *fam = lock_families[f];

        if (!family_has_rows(fam))
            continue;
        m[n] = (measure){.family = fam, .unit = "ns/op", .fmt = "%.2f", .v = uncontended_ns};
        snprintf(m[n].key, sizeof m[n].key, "%s.uncontended", fam);
        snprintf(m[n].title, sizeof m[n].title,
                 "%s: acquire+release, one thread, ns of CPU time per op (lower is better)",
                 m[n].key);
        n++;
        m[n] = (measure){.family = fam, .unit = "ns/op", .fmt = "%.2f", .v = single_ns};
        snprintf(m[n].key, sizeof m[n].key, "%s.uncontended.single", fam);
        snprintf(m[n].title, sizeof m[n].title,
                 "%s: as above, in a process with one thread, ns of CPU time per op", m[n].key);
        n++;
        for (int t = 0; t < s->nthread_counts; t++) {
            m[n] = (measure){.family = fam, .unit = "Mops/s", .fmt = "%.3f",
                             .higher_is_better = true, .v = contended_mops[t],
                             .fair = contended_fair[t], .csw = contended_csw[t],
                             .csw_label = "csw/kop"};
            snprintf(m[n].key, sizeof m[n].key, "%s.contended.%d", fam, s->threads[t]);
            snprintf(m[n].title, sizeof m[n].title,
                     "%s: %d threads on one lock, total Mops/s (higher is better)", m[n].key,
                     s->threads[t]);
            n++;
            m[n] = (measure){.family = fam, .unit = "ns-cpu/op", .fmt = "%.1f",
                             .v = contended_cpu[t]};
            snprintf(m[n].key, sizeof m[n].key, "%s.contended.%d.cpu", fam, s->threads[t]);
            snprintf(m[n].title, sizeof m[n].title,
                     "%s: the same runs, ns of the process's CPU time per op (lower is better)",
                     m[n].key);
            n++;
        }
    }
    for (int f = 0; f < 2; f++) {
        static const char *const families[] = {"event", "cond"};
        static const char *const through[] = {"two events", "a mutex + condition"};
        const char *fam = families[f];

        if (!family_has_rows(fam))
            continue;
        m[n] = (measure){.family = fam, .unit = "us", .fmt = "%.2f", .v = pingpong_us,
                         .csw = pingpong_csw, .csw_label = "csw/rt"};
        if (s->pingpong_pairs == 1) {
            snprintf(m[n].key, sizeof m[n].key, "%s.pingpong", fam);
            snprintf(m[n].title, sizeof m[n].title,
                     "%s: two threads pass a token through %s, us per round trip "
                     "(lower is better)", m[n].key, through[f]);
        } else {
            snprintf(m[n].key, sizeof m[n].key, "%s.pingpong.%dpairs", fam, s->pingpong_pairs);
            snprintf(m[n].title, sizeof m[n].title,
                     "%s: %d ping-pongs at once, us per round trip of all of them "
                     "(lower is better)", m[n].key, s->pingpong_pairs);
        }
        n++;
        m[n] = (measure){.family = fam, .unit = "us-cpu/rt", .fmt = "%.2f", .v = pingpong_cpu};
        if (s->pingpong_pairs == 1)
            snprintf(m[n].key, sizeof m[n].key, "%s.pingpong.cpu", fam);
        else
            snprintf(m[n].key, sizeof m[n].key, "%s.pingpong.%dpairs.cpu", fam,
                     s->pingpong_pairs);
        snprintf(m[n].title, sizeof m[n].title,
                 "%s: the same runs, us of CPU time per round trip (lower is better)", m[n].key);
        n++;
    }
    return n;
}

static void print_table(const measure *m, int reps)
{
    printf("\n%s\n", m->title);
    printf("  ratio = median / median of the family's pthread row (%s); "
           "paired = the same ratio\n  within each repetition: median (min-max)\n",
           m->higher_is_better ? "above 1.00 is faster" : "below 1.00 is faster");
    if (m->fair)
        printf("  fairness = fewest / most operations of one thread (1.00 = even): "
               "median (min-max)\n");
    if (m->csw)
        printf("  %s = context switches of the process per %s (median)\n", m->csw_label,
               m->fair ? "1000 operations" : "round trip");
    printf("%-6s %-30s %9s %9s %9s  %5s  %-17s", "family", "competitor", "median", "min", "max",
           "ratio", "paired");
    if (m->fair)
        printf("  %-17s", "fairness");
    if (m->csw)
        printf(" %s", m->csw_label);
    printf("\n");
    for (int c = 0; c < NCOMP; c++) {
        int b = baseline_of(c);

        if (!active[c] || strcmp(competitors[c].family, m->family) != 0)
            continue;
        printf("%-6s %-30s", competitors[c].family, competitors[c].name);
        print_stats(m->v[c], b < 0 ? NULL : m->v[b], competitors[c].baseline, reps, m->fmt, 17);
        if (m->fair) {
            double flo, fhi;

            min_max(m->fair[c], reps, &flo, &fhi);
            printf("  %.2f (%.2f-%.2f)", median(m->fair[c], reps), flo, fhi);
        }
        if (m->csw)
            printf("  %7.2f", median(m->csw[c], reps));
        printf("\n");
    }
    for (int c = 0; c < NCOMP; c++)
        if (active[c] && strcmp(competitors[c].family, m->family) == 0)
            bench_result(m->key, competitors[c].name, m->v[c], reps, m->unit,
                         m->higher_is_better);
}

/* weft's speed relative to another row: above 1 weft is faster. */
static double speed(const measure *m, double weft, double other)
{
    if (weft <= 0 || other <= 0)
        return 0.0;
    return m->higher_is_better ? weft / other : other / weft;
}

/* The summary line of one measurement: weft against the best other row. */
static void print_summary_line(const measure *m, int reps)
{
    int w = find_competitor(m->family, "weft"), best = -1;
    double sp[MAX_REPS] = {0}, lo, hi;

    for (int c = 0; c < NCOMP; c++) {
        if (!active[c] || c == w || strcmp(competitors[c].family, m->family) != 0)
            continue;
        if (best < 0 || speed(m, median(m->v[c], reps), median(m->v[best], reps)) > 1.0)
            best = c;
    }
    if (w < 0 || best < 0)
        return;
    for (int r = 0; r < reps; r++)
        sp[r] = speed(m, m->v[w][r], m->v[best][r]);
    min_max(sp, reps, &lo, &hi);
    printf("  %-18s %-30s x%.2f; paired x%.2f (%.2f-%.2f)  %s\n", m->key,
           competitors[best].name, speed(m, median(m->v[w], reps), median(m->v[best], reps)),
           median(sp, reps), lo, hi,
           verdict(m->v[w], m->v[best], reps, !m->higher_is_better));
}

/* One target of issue 6: weft's row over another's (time for
 * lower-is-better, rate otherwise) against a bound. "met" when both the
 * ratio of the medians and the median of the paired ratios are within it,
 * "MISSED" when neither is, "unclear" when they disagree (a noisy run). */
static void print_target(const measure *m, const char *other, bool at_most, double bound,
                         int reps)
{
    int w = find_competitor(m->family, "weft"), o = find_competitor(m->family, other);
    double ratio, paired;
    bool ratio_ok, paired_ok;

    if (w < 0 || o < 0) {
        printf("  %-18s weft / %-16s n/a: one of them did not run\n", m->key, other);
        return;
    }
    ratio = median_ratio(m->v[w], m->v[o], reps);
    paired = paired_median(m->v[w], m->v[o], reps);
    ratio_ok = at_most ? ratio <= bound : ratio >= bound;
    paired_ok = at_most ? paired <= bound : paired >= bound;
    printf("  %-18s weft / %-16s %s x%.2f (paired x%.2f): target %s %.2f  %s\n", m->key, other,
           m->higher_is_better ? "rate" : "time", ratio, paired, at_most ? "<=" : ">=", bound,
           ratio_ok && paired_ok ? "met" : !ratio_ok && !paired_ok ? "MISSED" : "unclear (noisy)");
}

static bool ends_with(const char *text, const char *tail)
{
    size_t n = strlen(text), k = strlen(tail);

    return n >= k && strcmp(text + n - k, tail) == 0;
}

/* The targets a measurement has. Issue 6: weft_lock within 1.05x of the
 * bare futex lock uncontended and at least as fast contended; the
 * ping-pong at most 0.8x pthread's time. Issue 15: in every regime, the
 * CPU time per operation at most pthread's and the throughput at least
 * 0.9x pthread's (goal 3); single-threaded, at most 1.1x pthread's time
 * (goal 4). */
static void print_targets(const measure *m, int reps)
{
    if (ends_with(m->key, ".cpu")) {
        print_target(m, "pthread", true, 1.0, reps);
    } else if (ends_with(m->key, ".single")) {
        print_target(m, "pthread", true, 1.1, reps);
    } else if (strcmp(m->family, "cond") == 0) {
        print_target(m, "pthread", true, 0.8, reps);
        print_target(m, "pthread", true, 1.0 / 0.9, reps);
    } else if (strcmp(m->family, "event") == 0) {
        print_target(m, "pthread", true, 1.0 / 0.9, reps);
    } else {
        if (strcmp(m->family, "lock") == 0)
            print_target(m, "futex (bare)", !m->higher_is_better,
                         m->higher_is_better ? 1.0 : 1.05, reps);
        if (m->higher_is_better)
            print_target(m, "pthread", false, 0.9, reps);
    }
}

/* ---- main ----------------------------------------------------------------------- */

static void print_header(int argc, char **argv, const settings *s, const bench_option *options,
                         size_t noptions)
{
    printf("weft bench_lock: weft_lock / weft_rlock / weft_cond against pthreads, C11 threads, "
           "GLib, libuv, APR and a bare futex lock\n");
    print_command(argc, argv, options, noptions);
    printf("settings: %d repetition%s; uncontended %lld ops per run; contended %d ms per run "
           "with",
           s->reps, s->reps == 1 ? "" : "s", s->ops, s->duration_ms);
    for (int t = 0; t < s->nthread_counts; t++)
        printf("%s %d", t ? "," : "", s->threads[t]);
    printf(" threads; ping-pong %lld round trips per run", s->rounds);
    if (s->pingpong_pairs > 1)
        printf(", %d pairs at once (one per process)", s->pingpong_pairs);
    printf("\n");
    print_build();
    printf("machine:  %d CPUs usable; threads %s\n", weft_cpu_count(),
           s->pin ? "pinned round robin, thread i to the i-th usable CPU"
                  : "not pinned (left to the scheduler)");
    bench_regime(s->pin);
    print_skipped();
#if !defined(WEFT_BENCH_FUTEX_REF)
    printf("          futex (bare): Linux only\n");
#endif
    printf("order:    each repetition runs every competitor once, in an order shuffled anew "
           "each repetition\n");
    printf("competitors:\n");
    for (int c = 0; c < NCOMP; c++)
        if (active[c])
            printf("  %-6s %-30s %s\n", competitors[c].family, competitors[c].name,
                   competitors[c].what);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    settings s = {.reps = 11, .duration_ms = 200, .ops = 4000000, .rounds = 5000, .pingpong_pairs = 1,
                  .threads = {2, 8}, .nthread_counts = 2, .pin = HAVE_AFFINITY,
                  .verbose = false, .only = NULL, .families = NULL};
    const bench_option options[] = {
        BENCH_OPT_INT("--reps", "WEFT_BENCH_REPS", &s.reps, 1, MAX_REPS, 1),
        BENCH_OPT_REGIME,
        BENCH_OPT_INT("--ms", "WEFT_BENCH_MS", &s.duration_ms, 1, 600000, 20),
        BENCH_OPT_LLONG("--ops", "WEFT_BENCH_OPS", &s.ops, 1, 1000000000000LL, 200000),
        BENCH_OPT_LLONG("--rounds", "WEFT_BENCH_ROUNDS", &s.rounds, 1, 1000000000LL, 500),
        BENCH_OPT_INT("--pingpong-pairs", NULL, &s.pingpong_pairs, 1, MAX_PAIRS, 0),
        BENCH_OPT_CUSTOM("--threads", "WEFT_BENCH_THREADS", parse_threads, &s),
        BENCH_OPT_FLAG("--no-pin", &s.pin, false),
        BENCH_OPT_FLAG("--verbose", &s.verbose, true),
        BENCH_OPT_TEXT("--only", NULL, &s.only),
        BENCH_OPT_TEXT("--families", NULL, &s.families),
    };
    measure measures[MAX_MEASURES];
    int nlock = 0, ncond = 0, ncontended, nmeasures;
    int lock_order[NCOMP], cond_order[NCOMP];
    int order[NCOMP * MAX_THREAD_COUNTS];
    int64_t started;
    bool progress;

    bench_parse_options(options, BENCH_NOPTS(options), usage, argc, argv);
    find_usable_cpus();
    pin_threads = s.pin;
    for (int c = 0; c < NCOMP; c++) {
        active[c] = bench_selected(competitors[c].name, s.only, false) &&
                    bench_selected(competitors[c].family, s.families, true);
        if (active[c] && competitors[c].pingpong)
            cond_order[ncond++] = c;
        else if (active[c])
            lock_order[nlock++] = c;
    }
    if (nlock + ncond == 0)
        die("--only / --families: no competitor matches");
    ncontended = s.nthread_counts * nlock;
    progress = !s.verbose && isatty(STDERR_FILENO) != 0;
#if defined(WEFT_BENCH_HAVE_APR)
    check(apr_initialize(), "apr_initialize");
    check(apr_pool_create(&g.apr_root, NULL), "apr_pool_create");
#endif

    start_single_server((uint64_t)s.ops); /* before the first thread */
    print_header(argc, argv, &s, options, BENCH_NOPTS(options));
    started = weft_monotonic_ns();

    /* One untimed round, so the first timed competitor is not the one that
     * pays for faulting in code, stacks and weft's main-thread record. */
    for (int i = 0; i < nlock; i++) {
        (void)run_uncontended(&competitors[lock_order[i]], (uint64_t)(s.ops / 16 + 1));
        (void)run_contended(&competitors[lock_order[i]], s.threads[0], 5);
    }
    for (int i = 0; i < ncond; i++)
        (void)run_pingpongs(&competitors[cond_order[i]], (uint64_t)(s.rounds / 16 + 1),
                            s.pingpong_pairs);

    for (int r = 0; r < s.reps; r++) {
        bench_order(order, nlock, r);
        for (int i = 0; i < nlock; i++) {
            int c = lock_order[order[i]];
            uncontended_ns[c][r] = run_uncontended(&competitors[c], (uint64_t)s.ops);
            single_ns[c][r] = run_uncontended_single(c);
            if (s.verbose)
                fprintf(stderr, "rep %2d  uncontended      %-6s %-30s %8.2f ns/op\n", r + 1,
                        competitors[c].family, competitors[c].name, uncontended_ns[c][r]);
        }
        bench_order(order, ncontended, r);
        for (int i = 0; i < ncontended; i++) {
            int k = order[i];
            int t = k / nlock, c = lock_order[k % nlock];
            contended_result res = run_contended(&competitors[c], s.threads[t], s.duration_ms);
            contended_mops[t][c][r] = res.mops;
            contended_fair[t][c][r] = res.fairness;
            contended_csw[t][c][r] = res.csw;
            contended_cpu[t][c][r] = res.cpu_ns;
            if (s.verbose)
                fprintf(stderr, "rep %2d  %2d threads       %-6s %-30s %8.3f Mops/s  "
                        "fairness %.2f  csw/kop %.2f\n", r + 1, s.threads[t],
                        competitors[c].family, competitors[c].name, res.mops, res.fairness,
                        res.csw);
        }
        bench_order(order, ncond, r);
        for (int i = 0; i < ncond; i++) {
            int c = cond_order[order[i]];
            pingpong_result res =
                run_pingpongs(&competitors[c], (uint64_t)s.rounds, s.pingpong_pairs);
            pingpong_us[c][r] = res.us;
            pingpong_csw[c][r] = res.csw;
            pingpong_cpu[c][r] = res.cpu_us;
            if (s.verbose)
                fprintf(stderr, "rep %2d  ping-pong        %-6s %-30s %8.2f us/rt  csw/rt %.2f\n",
                        r + 1, competitors[c].family, competitors[c].name, res.us, res.csw);
        }
        if (progress)
            fprintf(stderr, "\rrepetition %d/%d done", r + 1, s.reps);
    }
    if (progress)
        fprintf(stderr, "\r%30s\r", "");

    nmeasures = list_measures(&s, measures);
    for (int i = 0; i < nmeasures; i++)
        print_table(&measures[i], s.reps);

    printf("\nSummary: weft against the best other competitor of each family\n");
    printf("  speed = how much faster weft is (above 1.00 weft is faster): ratio of medians; "
           "paired median (min-max)\n");
    for (int i = 0; i < nmeasures; i++)
        print_summary_line(&measures[i], s.reps);

    printf("\nTargets (issues 6 and 15): \"met\" needs the ratio of medians and the paired "
           "median both within the bound\n");
    for (int i = 0; i < nmeasures; i++)
        print_targets(&measures[i], s.reps);

    stop_single_server();
    printf("\ntotal time: %.1f s\n", (double)(weft_monotonic_ns() - started) / 1e9);
#if defined(WEFT_BENCH_HAVE_APR)
    apr_pool_destroy(g.apr_root);
    apr_terminate();
#endif
    return 0;
}

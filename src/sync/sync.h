/* SPDX-License-Identifier: MIT */
/*
 * The synchronisation layer (HACKING.md): what its files share, and what
 * the layers above use of it besides the public calls: deadlines, spinning
 * before parking, the lock word, conditions and events by a deadline, the
 * seq channel that rwlock and barrier park on, thread idents. It looks
 * only at the base (internal.h) and the backend's waits, clocks and CPUs.
 */
#ifndef WEFT_SYNC_LAYER_H
#define WEFT_SYNC_LAYER_H

#include "../internal.h"
#include "../sys/thread.h"
#include "../sys/time.h"
#include "../sys/wait.h"

/* ---- Deadlines --------------------------------------------------------------- */

/* Turn a public timeout (seconds; WEFT_FOREVER; 0) into an absolute
 * monotonic deadline in *deadline: WEFT__NO_DEADLINE for WEFT_FOREVER, 0 (a
 * deadline that has always passed) for 0. Returns WEFT_OK or WEFT_EINVAL for
 * NaN or a negative value other than WEFT_FOREVER, with a message naming
 * `call` (the public function: the macros below pass their caller's
 * __func__). Inline for the common WEFT_FOREVER, which every blocking
 * acquire passes. */
int weft__deadline_slow(const char *call, double timeout, int64_t *deadline);

/* Whether a public timeout is acceptable (weft__deadline would not return
 * WEFT_EINVAL): WEFT_FOREVER or not negative. NaN is not. */
static inline bool weft__timeout_valid(double timeout)
{
    return timeout == WEFT_FOREVER || timeout >= 0.0; /* the common case first */
}

static inline int weft__deadline_in(const char *call, double timeout, int64_t *deadline)
{
    if (timeout == WEFT_FOREVER) {
        *deadline = WEFT__NO_DEADLINE;
        return WEFT_OK;
    }
    return weft__deadline_slow(call, timeout, deadline);
}
#define weft__deadline(timeout, deadline) weft__deadline_in(__func__, (timeout), (deadline))

/* The prologue of every timed public call: WEFT_EINVAL for a NULL object
 * or a bad timeout (with a message naming the calling function), else the
 * deadline. */
static inline int weft__begin_wait_in(const char *call, const void *object, double timeout,
                                      int64_t *deadline)
{
    if (!object)
        return weft__fail_null(call);
    return weft__deadline_in(call, timeout, deadline);
}
/* A timed public call's last step: `rc`, with the message `text` (a
 * literal naming the call) when it is WEFT_ETIMEDOUT. */
static inline int weft__timed_out(int rc, const char *text)
{
    return rc == WEFT_ETIMEDOUT ? weft__fail_text(rc, text) : rc;
}

#define weft__begin_wait(object, timeout, deadline) \
    weft__begin_wait_in(__func__, (object), (timeout), (deadline))

/* ---- Spinning before parking --------------------------------------------------- */

/* A waiter that expects its wait to end soon spins this many rounds of 1,
 * 2, 4 ... 128 pauses before it parks: a lock's contender looks once per
 * round (lock.c says how this schedule was measured), a notification's
 * waiter every 8 pauses (weft__spin_until). */
#define WEFT__SPIN_ROUNDS 8

/* A notification's waiter looks at least once per weft__backoff round of
 * this number: every 1 << 3 = 8 pauses. */
#define WEFT__SPIN_LOOK_ROUND 3u

/* The pauses before look number `round`. */
static inline void weft__backoff(unsigned round)
{
    unsigned i;

    for (i = 0; i < (1u << round); i++)
        weft__cpu_relax();
}

/* Wait a moment for another thread that is a few instructions from a
 * store the caller needs (and may have been preempted there): the pauses
 * of round *round, then, once the rounds are spent, a yield each call. */
static inline void weft__snooze(unsigned *round)
{
    if (*round < WEFT__SPIN_ROUNDS)
        weft__backoff((*round)++);
    else
        weft_sys_thread_yield();
}

/* Whether spinning can pay at all: false when the process runs on one CPU,
 * where the thread waited for cannot run while we spin. Asked once (spin.c)
 * and kept in weft__spinning: 0 not known yet, 1 no, 2 yes. */
extern uint32_t weft__spinning;
bool weft__spinning_pays_slow(void);
static inline bool weft__spinning_pays(void)
{
    uint32_t known = weft__load_relaxed(&weft__spinning);

    return known != 0 ? known == 2 : weft__spinning_pays_slow();
}

/*
 * Whether this thread's spins have been paying lately (spin.c). A spin
 * pays when what it waits for comes while it looks; it is wasted when the
 * thread it waits for is not running (descheduled by other processes, on
 * the waiter's own CPU, more threads than CPUs), and then it burns the CPU
 * that thread needs. Each thread keeps a score per kind of spin, raised by
 * a spin that found its change and cut harder by one that did not, and
 * stops spinning when it runs out; then one wait in `gap` still spins, to
 * notice when spinning pays again, the gap doubling after each such probe
 * that finds nothing. Per thread, so it costs no shared cache line; per
 * kind, because a lock's holder lets go within a critical section while a
 * notification (a condition, an event, a queue) may be far off.
 */
typedef enum weft__spin_kind {
    WEFT__SPIN_LOCK,  /* for a lock's holder to release it */
    WEFT__SPIN_WAKE,  /* for a notify, a set, an item */
    WEFT__SPIN_READ,  /* for bytes another process writes (ipc/conn.c); also
                       * where this process has one CPU: the writer may have another */
    WEFT__SPIN_PLOCK, /* for a weft_plock between processes (ipc/plock.c); as
                       * READ, also where this process has one CPU */
    WEFT__SPIN_PQUEUE, /* as PLOCK, for a weft_pqueue's own lock (ipc/pqueue.c),
                        * whose holds are bounded: a user's plock held long
                        * must not stop this spin */
    WEFT__SPIN_KINDS
} weft__spin_kind;

/* Whether the calling thread should spin now for `kind`. */
bool weft__spin_begin(weft__spin_kind kind);

/* What the spin that weft__spin_begin allowed came to: found its change or
 * not (the thread then parks). */
void weft__spin_end(weft__spin_kind kind, bool found);

/* Before a lock's spin: where other threads or processes want this
 * thread's CPU and the thread's contended acquires come densely (the last
 * one, or the last yield, less than 10 us before), give the CPU to them
 * once, and say so (true: the caller tries the lock again, then spins or
 * parks as usual). Whether they want it is learned from the yields
 * themselves: one that lasted longer than a system call ran another task.
 * A thread whose last yield ran nothing yields again, as a probe, only
 * after 64 calls, doubled after each such probe up to 1024, and so does
 * one that waited for a notification meanwhile (weft__spin_until: a
 * partner in a round trip needs it back, not a time slice later); one
 * whose yield ran another task yields at each dense call until a yield
 * comes back at once, and at a sparse one not at all: a yield beside a
 * busy process costs a time slice (milliseconds), which a thread that
 * only meets a held lock now and then would pay for a lock its spin takes
 * at once. False at once where the process has one CPU. lock.c says why.
 */
bool weft__spin_yield_cpu(void);

/* The calling thread notified a waiter that was still spinning: its
 * partner is running and answers within a spin, so the caller's own next
 * wait for `kind` spins even if its score ran out. Without this, two
 * threads whose scores ran out park in turn for ever where a wake-up takes
 * longer than a spin (across CPUs on a VM), each probe missing because its
 * partner is still waking. */
void weft__spin_partner_spins(weft__spin_kind kind);

/* The thread the caller waits for next (its partner in a round trip) was
 * last seen on `cpu` (weft_sys_current_cpu's; -1 where unknown). When that
 * is the caller's own CPU, its next wait for a notification
 * (WEFT__SPIN_WAKE) parks at once, without the probes of
 * weft__spin_partner_woken: a partner on the spinner's CPU runs only once
 * the spinner parks or the scheduler preempts it, so the spin burns the
 * time the partner needs. Beside two busy processes Linux may put both of
 * them on one CPU and a submitter with its executor's workers on the
 * other, and keep it so for a whole run (no CPU idle, the loads even);
 * there each end of a round trip spun out its rounds after waking the
 * other, a trip taking two spins and two context switches (bench_queue's
 * executor.roundtrip: 4-47 us a trip in such runs, 6-9 parking at once;
 * a bare futex ping-pong on one CPU takes 4.3). A later
 * weft__spin_partner_spins (the partner is running) clears it. */
void weft__spin_partner_cpu(int cpu);

/* How many rounds a wait for a notification spins now (weft__spin_until):
 * 0 where weft__spin_begin says no or right after weft__spin_partner_cpu
 * found the partner on this CPU, WEFT__SPIN_ROUNDS, or more right after
 * weft__spin_partner_woken. */
unsigned weft__spin_begin_wake(void);

/* The calling thread woke a waiter that had parked, and may wait for its
 * answer next (a round trip): its next wait for a notification
 * (WEFT__SPIN_WAKE, weft__spin_until) spins even if its score ran out (as
 * a probe), and longer, since the answer comes only after the partner's
 * wake-up. Without it, where wake-ups take longer than a spin (across CPUs
 * that also run busy processes), two threads' spins miss until their
 * scores run out; then they park in turn, each finding the other parked,
 * so neither meets the other spinning (weft__spin_partner_spins), and
 * their probes, one in `gap` waits and as short as the spins that missed,
 * seldom end it (bench_queue's executor.roundtrip beside two busy
 * processes, cache-line round trip 79-763 ns: 3-21 us a trip, 0.1-0.7
 * context switches, against 0.5-2 us). */
void weft__spin_partner_woken(void);

/* Before parking, spin weft__spin_begin_wake's rounds of weft__backoff's
 * growing pauses for what a waiter waits for (a notification:
 * WEFT__SPIN_WAKE): true as soon as ready(arg) holds; false after the last
 * round, or at once where or while spinning does not pay.
 * Unlike a lock's spin, which must leave the holder its cache line, this
 * looks after every 8 pauses within a round: the last rounds pause 64 and
 * 128 times (several microseconds on the VMs of bench/), and a change that
 * came early in one was seen only at its end (the executor's round trip,
 * unpinned: 3.7 against 2.5-2.8 us). */
static inline bool weft__spin_until(bool (*ready)(const void *arg), const void *arg)
{
    unsigned round, rounds = weft__spin_begin_wake();

    if (rounds == 0)
        return false;
    for (round = 0; round < rounds; round++) {
        unsigned look;

        for (look = 0; look < (1u << round); look += 1u << WEFT__SPIN_LOOK_ROUND) {
            weft__backoff(round < WEFT__SPIN_LOOK_ROUND ? round : WEFT__SPIN_LOOK_ROUND);
            if (ready(arg)) {
                weft__spin_end(WEFT__SPIN_WAKE, true);
                return true;
            }
        }
    }
    weft__spin_end(WEFT__SPIN_WAKE, false);
    return false;
}

/* The commonest thing to look for: a word that no longer holds `from`. */
typedef struct weft__word_look {
    const uint32_t *word;
    uint32_t from;
} weft__word_look;

static inline bool weft__word_moved(const void *arg)
{
    const weft__word_look *look = arg;

    return weft__load(look->word) != look->from;
}

/* ---- The lock word ------------------------------------------------------------ */

/* Acquire a weft_lock by a deadline, with no argument checks: the one lock
 * path every internal user shares. Returns WEFT_OK or WEFT_ETIMEDOUT. */
int weft__lock_until(weft_lock *lock, int64_t deadline);

/* The lock word's states: lock.c says what they mean. */
enum { WEFT__UNLOCKED = 0, WEFT__LOCKED = 1, WEFT__CONTENDED = 2 };

/* The rest of weft__lock (lock.c): the lock was not free. */
void weft__lock_contended(weft_lock *lock);

/* Mark a held lock as one threads may sleep on, so its release wakes one:
 * false (and nothing done) when it is free. For a condition handing a
 * waiter over to the lock (weft_sys_requeue_one). */
bool weft__lock_mark_contended(weft_lock *lock);

/* Acquire a lock as a thread handed over to it, which may have slept on
 * its word: never with the plain 0 -> 1 of weft__lock, which would hide
 * from the release the other threads still sleeping there. */
void weft__lock_handed(weft_lock *lock);

/* Acquire / release a weft_lock the caller knows is valid and (for release)
 * held. Inline: uncontended, each is one atomic instruction, and a queue's
 * put or get is little more than one of each (a call apiece measured a
 * third of a put and get in one thread). */
static inline void weft__lock(weft_lock *lock)
{
    uint32_t s = WEFT__UNLOCKED;

    if (!weft__cas_acquire(&lock->state, &s, WEFT__LOCKED))
        weft__lock_contended(lock);
}

static inline void weft__unlock(weft_lock *lock)
{
    if (weft__swap_release(&lock->state, WEFT__UNLOCKED) == WEFT__CONTENDED)
        weft_sys_wake_one(&lock->state);
}

/* Take a free lock at once for a public acquire (weft_lock's, weft_rlock's):
 * true when it was free. With one thread, a plain load and store (see
 * lock.c); the matching release is weft_lock_release. */
static inline bool weft__lock_try_public(weft_lock *lock)
{
    uint32_t s = WEFT__UNLOCKED;

    if (WEFT__LIKELY(!weft_sys_single_threaded()))
        return weft__cas_acquire(&lock->state, &s, WEFT__LOCKED);
    if (weft__load_relaxed(&lock->state) != WEFT__UNLOCKED)
        return false;
    weft__store_relaxed(&lock->state, WEFT__LOCKED);
    return true;
}

/* A module's global lock across fork(): held before it, so the child finds
 * what it guards whole; released in the parent; made free in the child,
 * where the forking thread that held it is the only thread. Only for a lock
 * nobody holds while blocking (a fork would wait for it). */
void weft__lock_at_fork(weft_lock *lock, weft__fork_step step);

/* Make a lock free, whatever its state: for a lock being initialised, and
 * in a fork child for one whose holder (another thread) is gone. The only
 * way other files write a lock's word. */
void weft__lock_reset(weft_lock *lock);

/* ---- Conditions ------------------------------------------------------------------ */

/* weft_cond_wait by a deadline, without argument checks: `lock` is held. */
int weft__cond_wait_until(weft_cond *cond, weft_lock *lock, int64_t deadline);

/* The same, but return without taking `lock` again: for a waiter that
 * goes on under another lock (a queue's sleeper, under its own end's). */
int weft__cond_wait_leaving(weft_cond *cond, weft_lock *lock, int64_t deadline);

/* The same for state that notifiers change without holding `lock`: they
 * store the change with a sequentially consistent store, then notify. The
 * waiter links itself in, then asks ready(arg) once more (with `lock`
 * held) and returns WEFT_OK at once if it holds. */
int weft__cond_wait_unless(weft_cond *cond, weft_lock *lock, bool (*ready)(void *arg),
                           void *arg, int64_t deadline);

/* ---- Events ----------------------------------------------------------------------- */

/* weft_event_wait by a deadline, without argument checks. */
int weft__event_wait_until(weft_event *event, int64_t deadline);

/* weft_event_set, for a non-NULL event: true when it woke a parked waiter,
 * false when none was parked (none waits, or the waiters still spin). */
bool weft__event_set(weft_event *event);

/* ---- The seq channel ------------------------------------------------------------ */

/*
 * A condition variable for state guarded by a weft_lock, made of two words:
 * `seq`, bumped on every change worth waking for, and `waiters`, the number
 * of threads parked on it (so a change with nobody waiting costs no system
 * call). Used by rwlock and barrier, which wake everyone and let each waiter
 * re-check its state; weft_cond, which must wake exactly n, keeps a queue.
 */

/* With `lock` held: release it, sleep until *seq changes (or spuriously) or
 * the deadline passes, and acquire it again. Returns WEFT_OK or
 * WEFT_ETIMEDOUT (lock held in both cases). Callers loop on their state. */
int weft__seq_wait(uint32_t *seq, uint32_t *waiters, weft_lock *lock, int64_t deadline);

/* With the guarding lock held: bump *seq and wake every waiter. */
void weft__seq_wake_all(uint32_t *seq, const uint32_t *waiters);

/* ---- Thread idents (ident.c) ------------------------------------------------------- */

/* The calling thread's ident, handed out here on its first ask: the owner
 * RLock and RWLock record, and the weft_thread_ident of its record
 * (thread.c takes its idents from weft__ident_new and gives a thread it
 * starts its ident before it runs). Never 0. Inline: RLock and RWLock ask
 * on every call, and after the first it is one thread-local read. */
extern WEFT__THREAD_LOCAL uint64_t weft__self_ident_cache;
uint64_t weft__self_ident_slow(void);
static inline uint64_t weft__self_ident(void)
{
    uint64_t id = weft__self_ident_cache;

    return id != 0 ? id : weft__self_ident_slow();
}

/* A new ident, never handed out before. */
uint64_t weft__ident_new(void);

#endif /* WEFT_SYNC_LAYER_H */

/* SPDX-License-Identifier: MIT */
/*
 * Thread records, the registry, the trampoline every weft thread runs,
 * current(), names, stop requests, sleep, timers and fork handling.
 *
 * A record is shared by the handle and the running thread and freed when
 * both are done with it (`refs`; the orderly exit takes a reference too
 * while it joins). Records of threads weft did not start ("borrowed": the
 * main thread, "Dummy-N") are made on their thread's first use of weft and
 * freed by the thread-local slot's destructor when that thread ends.
 *
 * The registry (one lock, a doubly linked list) holds every live record:
 * a weft thread from weft_thread_start until its function has returned,
 * a borrowed record from its creation until its thread ends.
 *
 *   state    1  running, nobody joining
 *            2  running, joiners parked (the thread must wake them)
 *            3  done: the function returned, `result` is set
 *   started  0  the thread has not published its native id yet
 *            1  it has
 *            2  not yet, and a caller of weft_thread_native_id() is parked
 *   stop     0, or 1 once a stop was requested; weft_sleep parks on it
 *   reap     0  the OS thread is neither joined nor detached
 *            1  busy: a joiner is in the OS join, a rename uses the handle,
 *               or the starter has not stored the handle yet (the thread
 *               may have ended by then, and the exit may be joining it)
 *            2  reaped (joined or detached)
 *            3  busy, and released meanwhile: the rename detaches it after
 *
 * A join without a time limit goes straight to the OS join when nobody else
 * is reaping: the thread's end then wakes the joiner once, not twice.
 */
#include "runtime.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { RUNNING = 1, RUNNING_JOINED = 2, DONE = 3 };
enum { NOT_STARTED = 0, STARTED = 1, START_AWAITED = 2 };
enum { UNREAPED = 0, REAP_BUSY = 1, REAPED = 2, BUSY_RELEASED = 3 };

/* A name and the one it replaced: a renamed thread keeps its old names
 * until its record is freed, so a name once returned stays readable. */
typedef struct name_node {
    struct name_node *older;
    char *text; /* stored right after the node, in the same allocation */
} name_node;

struct weft_thread {
    uint32_t refs;
    uint32_t state;
    uint32_t started;
    uint32_t stop;
    uint32_t reap;
    uint32_t reap_waiters; /* threads parked on `reap` */
    weft_lock name_lock;   /* orders renames */
    bool borrowed;       /* not started by weft */
    bool daemon;
    bool registered;     /* in the registry (guarded by its lock) */
    uint64_t ident;
    uint64_t native_id;
    weft_sys_thread os;
    weft_sys_start start; /* the trampoline and this record */
    weft_thread_fn fn;
    void *arg;
    void *result;
    name_node *names;    /* the current name is names->text */
    void *locals;        /* local.c's table */
    weft_thread *prev;   /* registry links, guarded by its lock */
    weft_thread *next;
};

/* Idents count from 1 and are never reused; 0 means "no thread". */
static uint32_t thread_counter; /* for "Thread-N" */
static uint32_t dummy_counter;  /* for "Dummy-N" */

static weft_lock registry_lock;
static weft_thread *registry_head;
static size_t registry_count;
/* The main thread's record, once made. */
static weft_thread *main_record;

static uint32_t slot_ready; /* the thread-local slot exists */


/* ---- Records ------------------------------------------------------------------ */

static void free_record(weft_thread *t)
{
    name_node *n = t->names, *older;

    for (; n; n = older) {
        older = n->older;
        weft__free(n);
    }
    WEFT__HANDLE_GONE(t);
    weft__free(t);
}

static void unref(weft_thread *t)
{
    if (weft__fetch_sub(&t->refs, 1) == 1)
        free_record(t);
}

static int push_name(weft_thread *t, const char *name)
{
    size_t len = strlen(name) + 1;
    name_node *n = weft__malloc(sizeof *n + len);

    if (!n)
        return WEFT_ENOMEM;
    n->text = (char *)(n + 1);
    memcpy(n->text, name, len);
    n->older = t->names;
    weft__store_ptr((void **)&t->names, n);
    return WEFT_OK;
}

static int push_default_name(weft_thread *t, const char *prefix, uint32_t *counter)
{
    char buf[32];

    snprintf(buf, sizeof buf, "%s-%u", prefix, (unsigned)(weft__fetch_add(counter, 1) + 1));
    return push_name(t, buf);
}

/* A record with the ident `ident` (sync.h hands them out). */
static weft_thread *new_record(uint64_t ident)
{
    weft_thread *t = weft__calloc(1, sizeof *t);

    if (t) {
        t->ident = ident;
        t->state = RUNNING;
        WEFT__HANDLE_BORN(t, "thread");
    }
    return t;
}

/* Under the registry lock. */
static void registry_link(weft_thread *t)
{
    WEFT__LIST_PUSH(registry_head, t, next, prev);
    registry_count++;
    t->registered = true;
}

static void registry_add(weft_thread *t)
{
    weft__lock(&registry_lock);
    registry_link(t);
    weft__unlock(&registry_lock);
}

static void registry_remove(weft_thread *t)
{
    weft__lock(&registry_lock);
    if (t->registered) {
        WEFT__LIST_REMOVE(registry_head, t, next, prev);
        registry_count--;
        t->registered = false;
    }
    weft__unlock(&registry_lock);
}

/* Mark a record's thread as ended and wake its joiners. */
static void mark_done(weft_thread *t)
{
    if (weft__swap(&t->state, DONE) == RUNNING_JOINED)
        weft_sys_wake_all(&t->state);
}

/* The end of every thread that has a record, on that thread: its locals
 * are destroyed while it still counts as alive and is still itself (a
 * destructor may ask for the current thread), then it leaves. The slot is
 * emptied, unless this runs as the slot's own destructor. */
static void finish(weft_thread *t, bool empty_slot)
{
    weft__locals_thread_end(t);
    if (empty_slot)
        weft_sys_tls_set(NULL);
    registry_remove(t);
    if (weft__load_ptr((void *const *)&main_record) == t)
        weft__store_ptr((void **)&main_record, NULL);
    mark_done(t);
    unref(t);
}

/* The slot destructor: a borrowed record's thread has ended. (A weft
 * thread empties its slot before it ends, so only borrowed records come.) */
static void on_thread_exit(void *value)
{
    finish(value, false);
}

static bool on_main_thread(void)
{
    return weft_sys_thread_native_id() == weft_sys_thread_main_id();
}

/* ---- Fork ----------------------------------------------------------------------- */

/* The forking thread's record: its own, or the main thread's record when
 * the main thread forks before it used weft itself. */
static weft_thread *forking_thread;

/* The thread registry's part of weft's fork handlers (src/runtime.c): its
 * lock is held across fork() so the child finds the registry whole. */
static void registry_before_fork(void)
{
    weft_thread *self = weft_sys_tls_get();

    weft__lock(&registry_lock);
    forking_thread = self ? self : on_main_thread() ? main_record : NULL;
}

/* In the child only the forking thread exists. Every other record is ended
 * where it stands (joins return at once, nothing is reaped: its OS thread
 * is not in this process) and loses its thread's reference, and the forking
 * thread becomes the main thread. */
static void registry_after_fork_in_child(void)
{
    weft_thread *self = forking_thread;
    weft_thread *t, *next;

    for (t = registry_head; t; t = next) {
        next = t->next;
        weft__lock_reset(&t->name_lock);
        if (t == self)
            continue;
        t->registered = false;
        t->reap = REAPED;
        t->state = DONE;
        unref(t);
    }
    registry_head = NULL;
    registry_count = 0;
    if (self) {
        self->prev = self->next = NULL;
        self->registered = true;
        registry_head = self;
        registry_count = 1;
        self->daemon = false;
        self->native_id = weft_sys_thread_native_id(); /* a new id in the child */
        if (!weft_sys_tls_get())
            weft_sys_tls_set(self);
    }
    main_record = self;
    weft__lock_reset(&registry_lock);
}

void weft__threads_at_fork(weft__fork_step step)
{
    if (step == WEFT__FORK_PREPARE)
        registry_before_fork();
    else if (step == WEFT__FORK_PARENT)
        weft__unlock(&registry_lock);
    else
        registry_after_fork_in_child();
}

/* ---- Initialisation --------------------------------------------------------------- */

static weft_thread *main_thread_record(void);

/* The main thread is always known, as in Python, whichever thread uses
 * weft first. */
int weft__threads_setup(void)
{
    int rc = weft_sys_tls_create(on_thread_exit);

    if (rc != WEFT_OK)
        return rc;
    weft__store(&slot_ready, 1);
    /* Not a failure of the setup: without memory now, whoever needs the
     * record next makes it (main_thread_record() retries). */
    (void)main_thread_record();
    return WEFT_OK;
}

/* A record for a thread weft did not start, not yet registered. */
static weft_thread *new_borrowed(bool is_main)
{
    /* The calling thread's own ident, unless it makes the main thread's
     * record for the main thread, which gets a fresh one (and takes it
     * when it adopts the record, if it had none). */
    weft_thread *t = new_record(is_main && !on_main_thread() ? weft__ident_new() : weft__self_ident());

    if (!t)
        return NULL;
    if ((is_main ? push_name(t, "MainThread") : push_default_name(t, "Dummy", &dummy_counter)) !=
        WEFT_OK) {
        free_record(t);
        return NULL;
    }
    t->refs = 1;
    t->borrowed = true;
    t->daemon = !is_main; /* as Python's _DummyThread */
    t->started = STARTED;
    return t;
}

/* The main thread's record, made by whichever thread asks first: the main
 * thread itself, or another through weft_thread_main(). */
static weft_thread *main_thread_record(void)
{
    weft_thread *t;

    weft__lock(&registry_lock);
    t = main_record;
    if (!t && (t = new_borrowed(true)) != NULL) {
        t->native_id = weft_sys_thread_main_id();
        registry_link(t);
        weft__store_ptr((void **)&main_record, t);
    }
    weft__unlock(&registry_lock);
    return t;
}

/* Give the calling thread, which weft did not start, its record. */
static weft_thread *adopt_current(void)
{
    bool is_main = on_main_thread();
    weft_thread *t = is_main ? main_thread_record() : new_borrowed(false);

    if (!t)
        return NULL;
    if (weft_sys_tls_set(t) != WEFT_OK) {
        if (!is_main)
            free_record(t);
        return NULL;
    }
    if (weft__self_ident_cache == 0)
        weft__self_ident_cache = t->ident; /* the main record another thread made */
    if (!is_main) {
        t->native_id = weft_sys_thread_native_id();
        registry_add(t);
    }
    return t;
}

weft_thread *weft__self(void)
{
    weft_thread *t;

    if (weft__runtime_init() != WEFT_OK)
        return NULL;
    t = weft_sys_tls_get();
    return t ? t : adopt_current();
}

weft_thread *weft__self_if_known(void)
{
    return weft__load(&slot_ready) ? weft_sys_tls_get() : NULL;
}

weft_thread *weft_thread_current(void)
{
    return weft__self();
}

void **weft__thread_locals(weft_thread *t)
{
    return &t->locals;
}

void weft__registry_foreach(void (*fn)(weft_thread *t, void *ctx), void *ctx)
{
    weft_thread *t;

    weft__lock(&registry_lock);
    for (t = registry_head; t; t = t->next)
        fn(t, ctx);
    weft__unlock(&registry_lock);
}

weft_thread *weft_thread_main(void)
{
    if (weft__runtime_init() != WEFT_OK)
        return NULL;
    return on_main_thread() ? weft__self() : main_thread_record();
}

/* ---- Starting, running, ending ---------------------------------------------------------- */

static void publish_start(weft_thread *t)
{
    t->native_id = weft_sys_thread_native_id();
    if (weft__swap(&t->started, STARTED) == START_AWAITED)
        weft_sys_wake_all(&t->started);
}

/* Wake whoever waits for the reap word to leave REAP_BUSY, if anybody. */
static void wake_reap_waiters(weft_thread *t)
{
    if (weft__load_sc(&t->reap_waiters) != 0)
        weft_sys_wake_all(&t->reap);
}

/* Whoever held the handle busy is done with it: `reap` leaves REAP_BUSY. */
static void end_busy(weft_thread *t, uint32_t reap)
{
    weft__swap(&t->reap, reap);
    wake_reap_waiters(t);
}

/* Every weft thread begins here. */
static void trampoline(void *arg)
{
    weft_thread *t = arg;

    if (weft_sys_tls_set(t) != WEFT_OK)
        WEFT__FATAL(0, "setting the thread-local slot of a new thread");
    weft__self_ident_cache = t->ident;
    publish_start(t);
    weft_sys_thread_set_name(NULL, weft_thread_name(t));
    t->result = t->fn(t->arg);
    finish(t, true);
}

int weft_thread_start(weft_thread **out, weft_thread_fn fn, void *arg,
                      const weft_thread_opts *opts)
{
    weft_thread *t;
    int rc;

    if (!out)
        return weft__fail(WEFT_EINVAL, "thread_start: out is NULL");
    *out = NULL;
    if (!fn)
        return weft__fail(WEFT_EINVAL, "thread_start: fn is NULL");
    rc = opts ? WEFT__RESERVED_CHECK("thread_start", opts) : WEFT_OK;
    if (rc != WEFT_OK)
        return rc;
    rc = weft__runtime_init(); /* also the exit hook: non-daemon threads are joined when main() returns */
    if (rc != WEFT_OK)
        return weft__fail_wrap(rc, "thread_start");
    rc = weft__exit_allows_threads();
    if (rc != WEFT_OK)
        return weft__fail(rc, "thread_start: the process is exiting: no new thread starts");
    t = new_record(weft__ident_new());
    if (!t)
        return weft__fail(WEFT_ENOMEM, "thread_start: no memory for the thread's record");
    /* As Python's Thread(name=""): an empty name gets the default. */
    rc = opts && opts->name && opts->name[0] ? push_name(t, opts->name)
                                             : push_default_name(t, "Thread", &thread_counter);
    if (rc != WEFT_OK) {
        free_record(t);
        return weft__fail(rc, "thread_start: no memory for the thread's name");
    }
    t->refs = 2; /* the handle and the running thread */
    t->daemon = opts && opts->daemon;
    t->fn = fn;
    t->arg = arg;
    /* The exit may find the record in the registry, and the thread may end,
     * before t->os is stored: the handle stays busy until then. */
    t->reap = REAP_BUSY;
    registry_add(t);
    t->start.fn = trampoline;
    t->start.arg = t;
    rc = weft_sys_thread_start(&t->os, &t->start, opts ? opts->stack_size : 0);
    if (rc != WEFT_OK) {
        /* Nothing to reap, and the exit may hold a reference: end the
         * record as a thread that ran and was reaped. */
        registry_remove(t);
        end_busy(t, REAPED);
        mark_done(t);
        unref(t);
        unref(t);
        return weft__fail_wrap(rc, "thread_start: the OS started no thread");
    }
    end_busy(t, UNREAPED);
    *out = t;
    return WEFT_OK;
}

WEFT_NORETURN void weft_thread_exit(void *result)
{
    weft_thread *t;

    if (on_main_thread())
        weft_exit(0);
    t = weft__runtime_init() == WEFT_OK ? weft_sys_tls_get() : NULL;
    if (t && !t->borrowed) {
        t->result = result;
        finish(t, true);
    }
    /* A borrowed record ends in the slot destructor, as the thread does. */
    weft_sys_thread_exit();
}

/* Wait until t has ended, by a deadline. */
static int wait_done(weft_thread *t, int64_t deadline)
{
    uint32_t s = weft__load(&t->state);

    while (s != DONE) {
        if (s == RUNNING && !weft__cas(&t->state, &s, RUNNING_JOINED))
            continue;
        if (weft_sys_wait(&t->state, RUNNING_JOINED, deadline) == WEFT_ETIMEDOUT &&
            weft__load(&t->state) != DONE)
            return weft__fail_text(WEFT_ETIMEDOUT, "thread_join: timed out: the thread still runs");
        s = weft__load(&t->state);
    }
    return WEFT_OK;
}

/* Join the OS thread of a thread that has ended or is ending, unless
 * somebody else does: then wait until they have. */
static void reap_joined(weft_thread *t)
{
    uint32_t r = weft__load(&t->reap);

    while (r != REAPED) {
        if (r == UNREAPED && weft__cas(&t->reap, &r, REAP_BUSY)) {
            weft_sys_thread_join(t->os);
            end_busy(t, REAPED);
            return;
        }
        if (r == REAP_BUSY) {
            weft__fetch_add(&t->reap_waiters, 1);
            weft_sys_wait(&t->reap, REAP_BUSY, WEFT__NO_DEADLINE);
            weft__fetch_sub(&t->reap_waiters, 1);
        }
        r = weft__load(&t->reap);
    }
}

int weft_thread_join(weft_thread *t, double timeout, void **result)
{
    int64_t deadline;
    int rc;

    if (WEFT__HANDLE_DEAD(t, "thread"))
        return WEFT_EINVAL;
    rc = weft__begin_wait(t, timeout, &deadline);
    if (rc != WEFT_OK)
        return rc;
    if (weft_sys_tls_get() == t)
        return weft__fail(WEFT_EPERM, "thread_join: thread \"%s\" cannot join itself",
                          weft_thread_name(t));
    if (t->borrowed)
        return weft__fail(WEFT_EINVAL,
                          "thread_join: thread \"%s\" was not started by weft_thread_start "
                          "(the main thread or a foreign one), so it cannot be joined",
                          weft_thread_name(t));
    /* Without a time limit the OS join itself is the wait. */
    if (deadline != WEFT__NO_DEADLINE) {
        rc = wait_done(t, deadline);
        if (rc != WEFT_OK)
            return rc;
    }
    reap_joined(t);
    if (result)
        *result = t->result;
    return WEFT_OK;
}

void weft_thread_release(weft_thread *t)
{
    uint32_t r;

    if (!t || WEFT__HANDLE_DEAD(t, "thread") || t->borrowed)
        return;
    r = weft__load(&t->reap);
    while (r == UNREAPED || r == REAP_BUSY) {
        if (r == UNREAPED && weft__cas(&t->reap, &r, REAPED)) {
            weft_sys_thread_detach(t->os);
            break;
        }
        /* A rename holds the handle: it detaches when done. (A joiner
         * holding it reaps anyway; marking it changes nothing.) */
        if (r == REAP_BUSY && weft__cas(&t->reap, &r, BUSY_RELEASED))
            break;
    }
    unref(t);
}

/* ---- What the orderly exit asks of threads ----------------------------------------------- */

static void request_stop_one(weft_thread *t, void *self)
{
    if (t != self)
        weft_thread_request_stop(t);
}

void weft__threads_request_stop(void)
{
    weft__registry_foreach(request_stop_one, weft__self_if_known());
}

/* One non-daemon weft thread other than the caller that is still alive,
 * with a reference taken, or NULL when there is none. */
static weft_thread *take_non_daemon(void)
{
    weft_thread *self = weft__self_if_known();
    weft_thread *t;

    weft__lock(&registry_lock);
    for (t = registry_head; t; t = t->next) {
        if (t != self && !t->borrowed && !t->daemon) {
            weft__fetch_add(&t->refs, 1);
            break;
        }
    }
    weft__unlock(&registry_lock);
    return t;
}

/* Join every non-daemon weft thread but the caller, including threads they
 * start meanwhile: done when no such thread is left. A thread leaves the
 * registry only as it ends, so each pass waits for the first one found. */
void weft__threads_join_non_daemon(void)
{
    weft_thread *t;

    while ((t = take_non_daemon()) != NULL) {
        /* a released thread is reaped already */
        while (wait_done(t, weft__exit_report_deadline()) != WEFT_OK)
            weft__exit_report();
        reap_joined(t);
        unref(t);
    }
}

/* A thread that has not published its native id yet shows 0: the report
 * must not wait for it. */
static void report_one(weft_thread *t, void *self)
{
    uint64_t native_id = weft__load(&t->started) == STARTED ? t->native_id : 0;

    if (t != self && !t->borrowed && !t->daemon)
        fprintf(stderr, "weft:   thread \"%s\" ident %" PRIu64 " native id %" PRIu64 "\n",
                weft_thread_name(t), t->ident, native_id);
}

void weft__threads_report_non_daemon(void)
{
    weft__registry_foreach(report_one, weft__self_if_known());
}

/* ---- Queries ------------------------------------------------------------------------------ */

bool weft_thread_is_alive(const weft_thread *t)
{
    return t && !WEFT__HANDLE_DEAD(t, "thread") && weft__load(&t->state) != DONE;
}

const char *weft_thread_name(const weft_thread *t)
{
    name_node *n;

    if (!t || WEFT__HANDLE_DEAD(t, "thread"))
        return NULL;
    n = weft__load_ptr((void *const *)&t->names);
    return n->text;
}

/* Rename another thread's OS thread while holding its handle busy, so no
 * join or detach frees the handle meanwhile. */
static void rename_other(weft_thread *t, const char *name)
{
    uint32_t r = UNREAPED;

    if (!weft__cas(&t->reap, &r, REAP_BUSY))
        return; /* ending or reaped: the OS name no longer matters */
    weft_sys_thread_set_name(&t->os, name);
    r = REAP_BUSY;
    if (weft__cas(&t->reap, &r, UNREAPED)) {
        wake_reap_waiters(t);
        return;
    }
    /* released meanwhile (BUSY_RELEASED): the detach is ours to do */
    weft_sys_thread_detach(t->os);
    end_busy(t, REAPED);
}

int weft_thread_set_name(weft_thread *t, const char *name)
{
    int rc;

    if (!t || !name)
        return weft__fail_null(__func__);
    if (WEFT__HANDLE_DEAD(t, "thread"))
        return WEFT_EINVAL;
    weft__lock(&t->name_lock);
    rc = push_name(t, name);
    if (rc != WEFT_OK)
        rc = weft__fail(rc, "thread_set_name: no memory for the name \"%.64s\"", name);
    if (rc == WEFT_OK) {
        if (weft_sys_tls_get() == t)
            weft_sys_thread_set_name(NULL, name);
        else if (!t->borrowed)
            rename_other(t, name);
    }
    weft__unlock(&t->name_lock);
    return rc;
}

bool weft_thread_is_daemon(const weft_thread *t)
{
    return t && !WEFT__HANDLE_DEAD(t, "thread") && t->daemon;
}

uint64_t weft_thread_ident(const weft_thread *t)
{
    return t && !WEFT__HANDLE_DEAD(t, "thread") ? t->ident : 0;
}

uint64_t weft_thread_native_id(weft_thread *t)
{
    uint32_t s;

    if (!t || WEFT__HANDLE_DEAD(t, "thread"))
        return 0;
    s = weft__load(&t->started);
    while (s != STARTED) {
        if (s == NOT_STARTED && !weft__cas(&t->started, &s, START_AWAITED))
            continue;
        weft_sys_wait(&t->started, START_AWAITED, WEFT__NO_DEADLINE);
        s = weft__load(&t->started);
    }
    return t->native_id;
}

size_t weft_thread_active_count(void)
{
    size_t n;

    if (weft__runtime_init() != WEFT_OK || !main_thread_record())
        return 0;
    weft__lock(&registry_lock);
    n = registry_count;
    weft__unlock(&registry_lock);
    return n;
}

size_t weft_thread_enumerate(weft_thread **out, size_t cap)
{
    weft_thread *t;
    size_t n = 0;

    if (weft__runtime_init() != WEFT_OK || !main_thread_record())
        return 0;
    if (!out)
        cap = 0;
    weft__lock(&registry_lock);
    for (t = registry_head; t; t = t->next) {
        if (n < cap)
            out[n] = t;
        n++;
    }
    weft__unlock(&registry_lock);
    return n;
}

/* ---- Stop requests, sleep, timers ----------------------------------------------------------- */

int weft_thread_request_stop(weft_thread *t)
{
    if (!t)
        return weft__fail_null(__func__);
    if (WEFT__HANDLE_DEAD(t, "thread"))
        return WEFT_EINVAL;
    if (weft__swap(&t->stop, 1) == 0)
        weft_sys_wake_all(&t->stop);
    return WEFT_OK;
}

bool weft_stop_requested(void)
{
    weft_thread *t;

    t = weft__self_if_known();
    return t && weft__load(&t->stop) != 0;
}

/* Sleeping is waiting for a stop request that may never come. */
int weft_sleep(double seconds)
{
    int64_t deadline;
    weft_thread *t;
    int rc;

    rc = weft__deadline(seconds, &deadline);
    if (rc != WEFT_OK)
        return rc;
    t = weft__self();
    if (!t)
        return weft__fail(WEFT_ENOMEM, "sleep: no memory for the calling thread's record");
    if (deadline == 0)
        weft_sys_thread_yield(); /* time.sleep(0) gives up the processor */
    for (;;) {
        if (weft__load(&t->stop) != 0)
            return weft__fail_text(WEFT_ECANCELED, "sleep: a stop was requested for this thread");
        if (weft_sys_wait(&t->stop, 0, deadline) == WEFT_ETIMEDOUT && weft__load(&t->stop) == 0)
            return WEFT_OK;
    }
}

typedef struct timer {
    double interval;
    void (*fn)(void *arg);
    void *arg;
} timer;

static void *run_timer(void *p)
{
    timer tm = *(timer *)p;

    weft__free(p);
    if (weft_sleep(tm.interval) == WEFT_OK)
        tm.fn(tm.arg);
    return NULL;
}

int weft_timer_start(weft_thread **out, double interval, void (*fn)(void *arg), void *arg)
{
    timer *tm;
    int rc;

    if (out)
        *out = NULL;
    if (!out || !fn)
        return weft__fail_null(__func__);
    if (!(interval >= 0.0))
        return weft__fail(WEFT_EINVAL, "timer_start: interval %g is not 0 or more seconds",
                          interval);
    tm = weft__malloc(sizeof *tm);
    if (!tm)
        return weft__fail(WEFT_ENOMEM, "timer_start: no memory for the timer");
    tm->interval = interval;
    tm->fn = fn;
    tm->arg = arg;
    rc = weft_thread_start(out, run_timer, tm, NULL);
    if (rc != WEFT_OK)
        weft__free(tm);
    return rc;
}

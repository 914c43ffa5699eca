/*
 * Thread records, the trampoline every weft thread runs, current(), stop
 * requests and sleep.
 *
 * A record is shared by the handle and the running thread and freed when
 * both are done with it (`refs`). Records of threads weft did not start
 * ("borrowed": the main thread, "Dummy-N") are made on their thread's first
 * weft_thread_current() and freed by the thread-local slot's destructor when
 * that thread ends.
 *
 *   state    1  running, nobody joining
 *            2  running, joiners parked (the thread must wake them)
 *            3  done: the function returned, `result` is set
 *   started  0  the thread has not published its native id yet
 *            1  it has
 *            2  not yet, and a caller of weft_thread_native_id() is parked
 *   stop     0, or 1 once a stop was requested; weft_sleep parks on it
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { RUNNING = 1, RUNNING_JOINED = 2, DONE = 3 };
enum { NOT_STARTED = 0, STARTED = 1, START_AWAITED = 2 };

struct weft_thread {
    uint32_t refs;
    uint32_t state;
    uint32_t started;
    uint32_t stop;
    weft_lock reap_lock; /* guards `reaped`: join and release race to reap */
    bool reaped;         /* the OS thread was joined or detached */
    bool borrowed;       /* not started by weft */
    bool daemon;
    uint64_t ident;
    uint64_t native_id;
    weft_sys_thread os;
    weft_thread_fn fn;
    void *arg;
    void *result;
    char *name;
};

/* Idents count from 1 and are never reused; 0 means "no thread". */
static uint64_t next_ident;
static uint32_t thread_counter; /* for "Thread-N" */
static uint32_t dummy_counter;  /* for "Dummy-N" */
/* The main thread's record, kept here too so it stays reachable. */
static weft_thread *main_record;

static weft_once tls_once = WEFT_ONCE_INIT;
static int tls_status;

/* Each thread caches its ident: see weft__self_ident(). */
WEFT__THREAD_LOCAL uint64_t weft__self_ident_cache;

static void unref(weft_thread *t)
{
    if (weft__fetch_sub(&t->refs, 1) == 1) {
        free(t->name);
        free(t);
    }
}

/* Mark a record's thread as ended and wake its joiners. */
static void mark_done(weft_thread *t)
{
    if (weft__swap(&t->state, DONE) == RUNNING_JOINED)
        weft_sys_wake_all(&t->state);
}

/* The slot destructor: a borrowed record's thread has ended. (A weft
 * thread empties its slot before it ends, so only borrowed records come.) */
static void on_thread_exit(void *value)
{
    weft_thread *t = value;

    mark_done(t);
    if (weft__load_ptr((void *const *)&main_record) == t)
        weft__store_ptr((void **)&main_record, NULL);
    unref(t);
}

static void init_tls(void *unused)
{
    (void)unused;
    tls_status = weft_sys_tls_create(on_thread_exit);
}

static int ensure_tls(void)
{
    weft_call_once(&tls_once, init_tls, NULL);
    return tls_status;
}

static char *format_name(const char *prefix, uint32_t *counter)
{
    char buf[32];

    snprintf(buf, sizeof buf, "%s-%u", prefix, (unsigned)(weft__fetch_add(counter, 1) + 1));
    return weft__strdup(buf);
}

static weft_thread *new_record(const char *name, uint32_t *counter, const char *prefix)
{
    weft_thread *t = calloc(1, sizeof *t);

    if (!t)
        return NULL;
    t->name = name ? weft__strdup(name) : format_name(prefix, counter);
    if (!t->name) {
        free(t);
        return NULL;
    }
    t->ident = weft__fetch_add64(&next_ident, 1) + 1;
    t->state = RUNNING;
    return t;
}

/* Give the calling thread, which weft did not start, its record. */
static weft_thread *adopt_current(void)
{
    bool is_main = weft_sys_thread_is_main();
    weft_thread *t = new_record(is_main ? "MainThread" : NULL, &dummy_counter, "Dummy");

    if (!t)
        return NULL;
    t->refs = 1;
    t->borrowed = true;
    t->daemon = !is_main; /* as Python's _DummyThread */
    t->native_id = weft_sys_thread_native_id();
    t->started = STARTED;
    if (weft_sys_tls_set(t) != WEFT_OK) {
        unref(t);
        return NULL;
    }
    if (is_main)
        weft__store_ptr((void **)&main_record, t);
    return t;
}

weft_thread *weft_thread_current(void)
{
    weft_thread *t;

    if (ensure_tls() != WEFT_OK)
        return NULL;
    t = weft_sys_tls_get();
    return t ? t : adopt_current();
}

uint64_t weft__self_ident_slow(void)
{
    weft_thread *t = weft_thread_current();

    if (t)
        weft__self_ident_cache = t->ident;
    return weft__self_ident_cache;
}

static void publish_start(weft_thread *t)
{
    t->native_id = weft_sys_thread_native_id();
    if (weft__swap(&t->started, STARTED) == START_AWAITED)
        weft_sys_wake_all(&t->started);
}

/* Every weft thread begins here. */
static void trampoline(void *arg)
{
    weft_thread *t = arg;

    if (weft_sys_tls_set(t) != WEFT_OK)
        WEFT__FATAL(0, "setting the thread-local slot of a new thread");
    publish_start(t);
    weft_sys_thread_set_name(t->name);
    t->result = t->fn(t->arg);
    weft_sys_tls_set(NULL);
    mark_done(t);
    unref(t);
}

int weft_thread_start(weft_thread **out, weft_thread_fn fn, void *arg,
                      const weft_thread_opts *opts)
{
    weft_thread *t;
    int rc;

    if (!out)
        return WEFT_EINVAL;
    *out = NULL;
    if (!fn)
        return WEFT_EINVAL;
    rc = ensure_tls();
    if (rc != WEFT_OK)
        return rc;
    /* As Python's Thread(name=""): an empty name gets the default. */
    t = new_record(opts && opts->name && opts->name[0] ? opts->name : NULL, &thread_counter,
                   "Thread");
    if (!t)
        return WEFT_ENOMEM;
    t->refs = 2; /* the handle and the running thread */
    t->daemon = opts && opts->daemon;
    t->fn = fn;
    t->arg = arg;
    rc = weft_sys_thread_start(&t->os, trampoline, t, opts ? opts->stack_size : 0);
    if (rc != WEFT_OK) {
        free(t->name);
        free(t);
        return rc;
    }
    *out = t;
    return WEFT_OK;
}

int weft_thread_join(weft_thread *t, double timeout, void **result)
{
    int64_t deadline;
    uint32_t s;
    int rc;

    rc = weft__begin_wait(t, timeout, &deadline);
    if (rc != WEFT_OK)
        return rc;
    if (t->borrowed)
        return WEFT_EINVAL;
    if (weft_sys_tls_get() == t)
        return WEFT_EPERM;
    s = weft__load(&t->state);
    while (s != DONE) {
        if (s == RUNNING && !weft__cas(&t->state, &s, RUNNING_JOINED))
            continue;
        if (weft_sys_wait(&t->state, RUNNING_JOINED, deadline) == WEFT_ETIMEDOUT &&
            weft__load(&t->state) != DONE)
            return WEFT_ETIMEDOUT;
        s = weft__load(&t->state);
    }
    weft__lock(&t->reap_lock);
    if (!t->reaped) {
        weft_sys_thread_join(t->os);
        t->reaped = true;
    }
    weft__unlock(&t->reap_lock);
    if (result)
        *result = t->result;
    return WEFT_OK;
}

void weft_thread_release(weft_thread *t)
{
    if (!t || t->borrowed)
        return;
    weft__lock(&t->reap_lock);
    if (!t->reaped) {
        weft_sys_thread_detach(t->os);
        t->reaped = true;
    }
    weft__unlock(&t->reap_lock);
    unref(t);
}

bool weft_thread_is_alive(const weft_thread *t)
{
    return t && weft__load(&t->state) != DONE;
}

const char *weft_thread_name(const weft_thread *t)
{
    return t ? t->name : NULL;
}

bool weft_thread_is_daemon(const weft_thread *t)
{
    return t && t->daemon;
}

uint64_t weft_thread_ident(const weft_thread *t)
{
    return t ? t->ident : 0;
}

uint64_t weft_thread_native_id(weft_thread *t)
{
    uint32_t s;

    if (!t)
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

int weft_thread_request_stop(weft_thread *t)
{
    if (!t)
        return WEFT_EINVAL;
    if (weft__swap(&t->stop, 1) == 0)
        weft_sys_wake_all(&t->stop);
    return WEFT_OK;
}

bool weft_stop_requested(void)
{
    weft_thread *t;

    if (ensure_tls() != WEFT_OK)
        return false;
    t = weft_sys_tls_get();
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
    t = weft_thread_current();
    if (!t)
        return WEFT_ENOMEM;
    if (deadline == 0)
        weft_sys_thread_yield(); /* time.sleep(0) gives up the processor */
    for (;;) {
        if (weft__load(&t->stop) != 0)
            return WEFT_ECANCELED;
        if (weft_sys_wait(&t->stop, 0, deadline) == WEFT_ETIMEDOUT)
            return weft__load(&t->stop) != 0 ? WEFT_ECANCELED : WEFT_OK;
    }
}

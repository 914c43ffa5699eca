/* SPDX-License-Identifier: MIT */
/*
 * subprocess.Popen and subprocess.run.
 *
 * communicate() gives every piped stream a thread of its own (a daemon weft
 * thread, so an orderly exit does not wait for it): the writer feeds stdin
 * and closes it, each reader collects its stream to the end. So no pipe
 * can fill up while the caller is blocked on another, on any platform
 * (Windows' anonymous pipes have no non-blocking mode to poll with). The
 * threads own what they touch until they end, and hold a reference on the
 * handle, so the caller may time out, call again, or release the handle
 * while they run.
 *
 * The first communicate starts all its threads or none: they wait at a
 * gate until every one has started. When one cannot start (no memory or
 * address space for a stack), the others are turned back at the gate
 * before they touch anything, so the call fails with the popen as it was:
 * stdin open, the input not taken, nothing read, and a retry may work.
 *
 * Streaming (write, close_stdin, read, readline) works on the same pipes
 * from the caller's thread, with the backend's timed reads and writes. Each
 * pipe has a lock (`io`), held by a streaming call for its whole length:
 * two threads reading one stream take turns, a write and a read of
 * different streams go on at once. What a streaming read took from a pipe
 * and did not hand out (a partial line after a timeout, the rest of a
 * chunk) stays in the stream's buffer, ahead of what comes next: the next
 * read, readline or communicate returns it first. communicate takes over
 * all three pipes under their locks, so a streaming call on another thread
 * is over first, and every streaming call after it is refused.
 */
#include "processes.h"
#include "ipc/ipc.h"

#include <stdlib.h>
#include <string.h>

enum { STREAM_OUT, STREAM_ERR, STREAMS };

/* The gate of the communicate threads. */
enum { GATE_CLOSED, GATE_OPEN, GATE_CANCELLED };


/* Streaming reads ask the pipe for at least this much room. */
#define FILL_CHUNK 4096

typedef struct stream {
    weft_popen *owner;
    weft_sys_file file; /* the parent's end; the reader's once it runs */
    weft_stdio how;     /* what the child's end is */
    weft_lock io;       /* held by a streaming call, and by communicate taking over */
    /* Read and not yet handed out: buf[head, len), followed by a NUL.
     * Before communicate, the holder of `io` owns it; after, the reader
     * and the holders of the handle's lock. */
    char *buf;
    size_t head, len, cap;
    size_t scanned;     /* readline: buf[head, head + scanned) holds no '\n' */
    int status;         /* a read error, if any */
    bool ended;         /* a streaming read met the end of the file */
    bool taken;         /* handed to a caller */
} stream;

struct weft_popen {
    weft__child *child;
    weft_sys_file in;   /* the parent's end of stdin, until closed or communicate */
    weft_stdio in_how;
    weft_lock in_io;    /* as stream.io, for stdin */
    bool new_process_group;
    stream streams[STREAMS];
    weft_lock lock;     /* guards the buffers and `refs` */
    uint32_t refs;      /* the owner's and one per running thread */
    uint32_t running;   /* threads still running: a word to wait on */
    uint32_t gate;      /* GATE_*: whether the threads may start their work */
    bool communicating;
    void *input;        /* the writer's copy of the input */
    size_t input_len;
    int input_status;
};

static void popen_free(weft_popen *p)
{
    int i;

    for (i = 0; i < STREAMS; i++) {
        if (p->streams[i].file != WEFT__NO_FILE)
            weft_sys_close(p->streams[i].file);
        weft__free(p->streams[i].buf);
    }
    if (p->in != WEFT__NO_FILE)
        weft_sys_close(p->in);
    weft__free(p->input);
    WEFT__HANDLE_GONE(p);
    weft__child_release(p->child);
    weft__free(p);
}

static void popen_unref(weft_popen *p)
{
    uint32_t left;

    weft__lock(&p->lock);
    left = --p->refs;
    weft__unlock(&p->lock);
    if (left == 0)
        popen_free(p);
}

/* ---- Starting ----------------------------------------------------------------- */

/* The child's end of stream `which` (0 stdin, 1 stdout, 2 stderr) for
 * `how`; a pipe's other end goes to *parent. `owned` says whether the
 * child's end is ours to close after the spawn. */
static int child_end(weft_stdio how, int which, weft_sys_file *child, bool *owned,
                     weft_sys_file *parent)
{
    /* Set, for a compiler that inlines weft_sys_pipe (the amalgamation) and
     * cannot tell that a failed pipe never returns WEFT_OK. */
    weft_sys_file r = WEFT__NO_FILE, w = WEFT__NO_FILE;
    int rc;

    *child = WEFT__NO_FILE;
    *owned = false;
    switch (how) {
    case WEFT_STDIO_INHERIT:
        return WEFT_OK;
    case WEFT_STDIO_NULL:
        rc = weft_sys_open_null(child);
        *owned = rc == WEFT_OK;
        return rc;
    case WEFT_STDIO_PIPE:
        rc = weft_sys_pipe_for_child(&r, &w, which != 0);
        if (rc != WEFT_OK)
            return rc;
        *child = which == 0 ? r : w;
        *parent = which == 0 ? w : r;
        *owned = true;
        return WEFT_OK;
    case WEFT_STDIO_STDOUT:
        break;
    }
    return WEFT_EINVAL;
}

/* ---- Handles passed to the child ---------------------------------------------------- */

/* The most handles a child is given (weft/popen.h). Their handoffs go into
 * a pipe that the child reads when it calls weft_process_main, or never (a
 * program that does not link weft), so the parent writes them whole
 * without a reader: they must fit the smallest pipe buffer weft meets, one
 * 4 KiB page (Linux's once the user's pipe memory runs low). */
#define PASS_MAX 13
_Static_assert(WEFT__WIRE_HANDOFFS_SIZE(PASS_MAX) <= 4096,
               "the handoffs of PASS_MAX handles must fit one page of pipe");

/* pass and npass took two of the four reserved slots: the struct keeps its
 * size, so a program built against an older weft.h still passes a whole
 * one (and its zero reserved slots read as no handles). */
typedef struct popen_opts_before_pass {
    const char *cwd;
    const char *const *env;
    weft_stdio in, out, err;
    bool new_process_group;
    void *reserved[4];
} popen_opts_before_pass;
_Static_assert(sizeof(weft_popen_opts) == sizeof(popen_opts_before_pass),
               "weft_popen_opts must keep its size");

/* What a start with handles to pass holds: their handoffs, the pipe that
 * carries them, and the files the child inherits, the pipe's read end
 * first, then the handles' (`as`: their names in the child). */
typedef struct popen_passing {
    weft__ipc_pass handles;
    weft_sys_file read_end, write_end;
    weft_sys_file *files, *as;
    size_t nfiles;
} popen_passing;

static void passing_free(popen_passing *ps)
{
    if (ps->read_end != WEFT__NO_FILE)
        weft_sys_close(ps->read_end);
    if (ps->write_end != WEFT__NO_FILE)
        weft_sys_close(ps->write_end);
    weft__free(ps->files);
    weft__free(ps->as);
    weft__ipc_pass_free(&ps->handles);
    ps->read_end = ps->write_end = WEFT__NO_FILE;
    ps->files = ps->as = NULL;
    ps->nfiles = 0;
}

/* Look at every handle, so that a bad one fails the start before anything
 * is made, and get the pipe ready; nothing to do without handles. */
static int passing_prepare(popen_passing *ps, const void *const *pass, size_t npass)
{
    int rc;

    *ps = (popen_passing){.read_end = WEFT__NO_FILE, .write_end = WEFT__NO_FILE};
    if (npass > PASS_MAX)
        return weft__fail(WEFT_EINVAL, "npass %zu: a child is given at most %d handles", npass,
                          PASS_MAX);
    rc = weft__ipc_pass_export(&ps->handles, pass, npass);
    if (rc != WEFT_OK || npass == 0)
        return rc;
    ps->nfiles = ps->handles.nfiles + 1;
    ps->files = weft__calloc(ps->nfiles, sizeof *ps->files);
    ps->as = weft__calloc(ps->nfiles, sizeof *ps->as);
    rc = ps->files && ps->as ? weft_sys_pipe(&ps->read_end, &ps->write_end)
                             : weft__fail(WEFT_ENOMEM, "no memory for %zu passed files",
                                          ps->nfiles);
    if (rc != WEFT_OK) {
        passing_free(ps);
        return rc;
    }
    ps->files[0] = ps->read_end;
    memcpy(ps->files + 1, ps->handles.files, ps->handles.nfiles * sizeof *ps->files);
    return WEFT_OK;
}

/* The child runs: write it the handoffs, naming the files as it finds
 * them, and close the pipe. The pipe is empty and they fit its buffer
 * (PASS_MAX), so the write never waits for the child; the parent's read
 * end, open until then, keeps it from failing should the child have ended
 * already. */
static int passing_send(popen_passing *ps)
{
    int rc = WEFT_OK;

    if (ps->nfiles > 0) {
        weft__ipc_pass_rename(&ps->handles, ps->as + 1);
        rc = weft__wire_send_handoffs(ps->write_end, ps->handles.items, ps->handles.count);
    }
    passing_free(ps);
    return rc == WEFT_OK ? rc
                         : weft__fail_wrap(rc, "the passed handles did not reach the child");
}

static bool stdio_valid(weft_stdio how, bool is_err)
{
    return how == WEFT_STDIO_INHERIT || how == WEFT_STDIO_PIPE || how == WEFT_STDIO_NULL ||
           (is_err && how == WEFT_STDIO_STDOUT);
}

int weft_popen_start(weft_popen **out, const char *const argv[], const weft_popen_opts *opts)
{
    weft_popen_opts o = opts ? *opts : (weft_popen_opts){0};
    weft_stdio how[3];
    weft_sys_spawn_opts spawn;
    weft_sys_file parent[3] = {WEFT__NO_FILE, WEFT__NO_FILE, WEFT__NO_FILE};
    bool owned[3] = {false, false, false};
    weft_sys_child sys;
    popen_passing ps;
    weft_popen *p;
    int i, rc = WEFT_OK;

    if (!out || !argv || !argv[0])
        return weft__fail(WEFT_EINVAL, "popen_start: %s is NULL",
                          !out ? "out" : !argv ? "argv" : "argv[0]");
    rc = WEFT__RESERVED_CHECK("popen_start", &o);
    if (rc != WEFT_OK)
        return rc;
    how[0] = o.in;
    how[1] = o.out;
    how[2] = o.err;
    for (i = 0; i < 3; i++) {
        if (!stdio_valid(how[i], i == 2))
            return weft__fail(WEFT_EINVAL, "popen_start: opts->%s is not a weft_stdio%s",
                              i == 0 ? "in" : i == 1 ? "out" : "err",
                              how[i] == WEFT_STDIO_STDOUT ? " it may be (STDOUT is for err only)"
                                                          : "");
    }
    rc = passing_prepare(&ps, o.pass, o.npass);
    if (rc != WEFT_OK)
        return weft__fail_wrap(rc, "popen_start");
    p = weft__calloc(1, sizeof *p);
    if (p)
        p->child = weft__child_new(WEFT__CHILD_POPEN);
    if (!p || !p->child) {
        weft__free(p);
        passing_free(&ps);
        return weft__fail(WEFT_ENOMEM, "popen_start: no memory for the child's record");
    }
    p->refs = 1;
    p->in_how = how[0];
    p->streams[STREAM_OUT].how = how[1];
    p->streams[STREAM_ERR].how = how[2];
    p->new_process_group = o.new_process_group;
    memset(&spawn, 0, sizeof spawn);
    spawn.argv = argv;
    spawn.env = o.env;
    spawn.cwd = o.cwd;
    spawn.new_process_group = o.new_process_group;
    spawn.inherit = ps.files;
    spawn.inherit_as = ps.as;
    spawn.inherit_count = ps.nfiles;
    spawn.inherit_env = WEFT__PASSED_ENV;

    weft__children_sweep();
    weft__child_start_lock();
    for (i = 0; i < 3 && rc == WEFT_OK; i++) {
        if (how[i] == WEFT_STDIO_STDOUT)
            spawn.stdio[i] = spawn.stdio[1] != WEFT__NO_FILE ? spawn.stdio[1] : weft_sys_stdio(1);
        else
            rc = child_end(how[i], i, &spawn.stdio[i], &owned[i], &parent[i]);
    }
    if (rc == WEFT_OK)
        rc = weft_sys_spawn(&sys, &spawn);
    for (i = 0; i < 3; i++) {
        if (owned[i])
            weft_sys_close(spawn.stdio[i]);
    }
    weft__child_start_unlock();

    p->in = parent[0];
    p->streams[STREAM_OUT].file = parent[1];
    p->streams[STREAM_ERR].file = parent[2];
    if (rc == WEFT_OK) {
        weft__child_started(p->child, &sys);
        rc = passing_send(&ps);
        if (rc != WEFT_OK)
            weft__child_signal(p->child, true); /* it would miss what it was promised */
    }
    if (rc != WEFT_OK) {
        passing_free(&ps);
        popen_free(p);
        return weft__fail_wrap(rc, "popen_start: \"%.100s\"%s%.100s%s", argv[0],
                               o.cwd ? " in cwd \"" : "", o.cwd ? o.cwd : "", o.cwd ? "\"" : "");
    }
    WEFT__HANDLE_BORN(p, "popen");
    *out = p;
    return WEFT_OK;
}

/* ---- communicate ---------------------------------------------------------------- */

/* A communicate thread is done. Its reference goes in the same step as its
 * count, under the lock: a caller that has seen the count reach 0 and then
 * releases the handle is the last to hold it, so the child's descriptors
 * are closed when that release returns, not a moment later. */
static void thread_done(weft_popen *p)
{
    uint32_t left;

    weft__lock(&p->lock);
    weft__fetch_sub(&p->running, 1);
    weft_sys_wake_all(&p->running);
    left = --p->refs;
    weft__unlock(&p->lock);
    if (left == 0)
        popen_free(p);
}

/* Wait at the gate; true when the thread is to do its work. */
static bool pass_gate(weft_popen *p)
{
    uint32_t gate;

    while ((gate = weft__load(&p->gate)) == GATE_CLOSED)
        weft_sys_wait(&p->gate, GATE_CLOSED, WEFT__NO_DEADLINE);
    return gate == GATE_OPEN;
}

static void set_gate(weft_popen *p, uint32_t gate)
{
    weft__store(&p->gate, gate);
    weft_sys_wake_all(&p->gate);
}

static void *write_input(void *arg)
{
    weft_popen *p = arg;
    int rc;

    if (pass_gate(p)) {
        rc = weft_sys_write_until(p->in, p->input, p->input_len, WEFT__NO_DEADLINE);
        /* A child that stops reading its input early is not an error
         * (Python ignores BrokenPipeError here too). */
        p->input_status = rc == WEFT_ESHUTDOWN ? WEFT_OK : rc;
        weft_sys_close(p->in);
        p->in = WEFT__NO_FILE;
    }
    thread_done(p);
    return NULL;
}

/* Make room in a stream's buffer for `more` bytes after those it holds,
 * and the terminating NUL; the bytes move to its front first. WEFT_OK or
 * WEFT_ENOMEM (the buffer as it was, moved). */
static int reserve(stream *s, size_t more)
{
    size_t held = s->len - s->head, cap;
    char *grown;

    if (s->head > 0) {
        memmove(s->buf, s->buf + s->head, held + 1); /* the NUL too */
        s->head = 0;
        s->len = held;
    }
    if (more > SIZE_MAX / 2 - held)
        return weft__fail_text(WEFT_ENOMEM, "popen: a child's output is larger than memory");
    if (held + more + 1 <= s->cap)
        return WEFT_OK;
    cap = s->cap ? s->cap : FILL_CHUNK;
    while (cap < held + more + 1)
        cap *= 2;
    grown = weft__realloc(s->buf, cap);
    if (!grown)
        return weft__fail(WEFT_ENOMEM, "popen: no memory to hold %zu bytes of the child's output",
                          cap);
    s->buf = grown;
    s->cap = cap;
    return WEFT_OK;
}

/* Append to a stream's buffer (communicate's readers). */
static int append(weft_popen *p, stream *s, const char *data, size_t len)
{
    int rc;

    weft__lock(&p->lock);
    rc = reserve(s, len);
    if (rc == WEFT_OK) {
        memcpy(s->buf + s->len, data, len);
        s->len += len;
        s->buf[s->len] = '\0';
    }
    weft__unlock(&p->lock);
    return rc;
}

static void *read_stream(void *arg)
{
    stream *s = arg;
    weft_popen *p = s->owner;
    char chunk[65536];
    size_t got;
    int rc;

    if (!pass_gate(p)) {
        thread_done(p);
        return NULL;
    }
    for (;;) {
        rc = weft_sys_read_until(s->file, chunk, sizeof chunk, &got, WEFT__NO_DEADLINE);
        if (rc == WEFT_OK && got == 0)
            break;
        if (rc == WEFT_OK)
            rc = append(p, s, chunk, got);
        if (rc != WEFT_OK) {
            s->status = rc;
            break;
        }
    }
    weft_sys_close(s->file);
    s->file = WEFT__NO_FILE;
    thread_done(p);
    return NULL;
}

/* Start fn(arg) on a daemon thread that holds a reference on p; `job`
 * says what it does, for the message when it cannot start. */
static int start_helper(weft_popen *p, void *(*fn)(void *), void *arg, const char *job)
{
    weft_thread_opts opts = {.name = "weft-communicate", .daemon = true};
    weft_thread *t;
    int rc;

    weft__lock(&p->lock);
    p->refs++;
    weft__unlock(&p->lock);
    weft__fetch_add(&p->running, 1);
    rc = weft_thread_start(&t, fn, arg, &opts);
    if (rc != WEFT_OK) {
        weft__fetch_sub(&p->running, 1);
        popen_unref(p);
        return weft__fail_wrap(rc, "popen_communicate: no thread could be started to %s", job);
    }
    weft_thread_release(t);
    return WEFT_OK;
}

/* Wait by the deadline for the communicate threads to end. */
static int wait_helpers(weft_popen *p, int64_t deadline)
{
    uint32_t n;

    while ((n = weft__load(&p->running)) != 0) {
        if (weft_sys_wait(&p->running, n, deadline) == WEFT_ETIMEDOUT &&
            weft__load(&p->running) != 0)
            return WEFT_ETIMEDOUT;
    }
    return WEFT_OK;
}

/* The locks of the three pipes, in the order they are taken. */
static void pipe_locks(weft_popen *p, weft_lock *locks[3])
{
    locks[0] = &p->in_io;
    locks[1] = &p->streams[STREAM_OUT].io;
    locks[2] = &p->streams[STREAM_ERR].io;
}

/* Take all three by the deadline (WEFT_OK), or none (WEFT_ETIMEDOUT). */
static int lock_pipes(weft_popen *p, int64_t deadline)
{
    weft_lock *locks[3];
    int i;

    pipe_locks(p, locks);
    for (i = 0; i < 3; i++) {
        if (weft__lock_until(locks[i], deadline) != WEFT_OK) {
            while (i-- > 0)
                weft__unlock(locks[i]);
            return WEFT_ETIMEDOUT;
        }
    }
    return WEFT_OK;
}

static void unlock_pipes(weft_popen *p)
{
    weft_lock *locks[3];
    int i;

    pipe_locks(p, locks);
    for (i = 2; i >= 0; i--)
        weft__unlock(locks[i]);
}

/* The first communicate, with the pipes' locks held: hand stdin and the
 * piped outputs to threads, all of them or none (see the top of the
 * file). */
static int hand_over(weft_popen *p, const void *input, size_t input_len)
{
    static const char *const jobs[STREAMS] = {"read stdout", "read stderr"};
    void *copy = NULL;
    int i, rc = WEFT_OK;

    if (input_len > 0 && p->in == WEFT__NO_FILE)
        return weft__fail(WEFT_EINVAL, "popen_communicate: input for a child whose stdin is %s",
                          p->in_how == WEFT_STDIO_PIPE ? "closed (weft_popen_close_stdin)"
                                                       : "not a pipe");
    if (input_len > 0) {
        copy = weft__malloc(input_len);
        if (!copy)
            return weft__fail(WEFT_ENOMEM,
                              "popen_communicate: no memory for a copy of the %zu bytes of input",
                              input_len);
        memcpy(copy, input, input_len);
        rc = start_helper(p, write_input, p, "feed stdin");
    }
    for (i = 0; i < STREAMS && rc == WEFT_OK; i++) {
        stream *s = &p->streams[i];
        s->owner = p;
        if (s->file != WEFT__NO_FILE)
            rc = start_helper(p, read_stream, s, jobs[i]);
    }
    if (rc != WEFT_OK) {
        /* Those that started leave without touching anything, at once. */
        set_gate(p, GATE_CANCELLED);
        wait_helpers(p, WEFT__NO_DEADLINE);
        weft__store(&p->gate, GATE_CLOSED);
        weft__free(copy);
        return rc;
    }
    p->input = copy;
    p->input_len = input_len;
    if (input_len == 0 && p->in != WEFT__NO_FILE) {
        weft_sys_close(p->in);
        p->in = WEFT__NO_FILE;
    }
    p->communicating = true;
    set_gate(p, GATE_OPEN);
    return WEFT_OK;
}

/* Wait by the deadline for streaming calls on other threads to end, then
 * hand over. */
static int begin_communication(weft_popen *p, const void *input, size_t input_len,
                               int64_t deadline)
{
    int rc = lock_pipes(p, deadline);

    if (rc != WEFT_OK)
        return rc;
    rc = hand_over(p, input, input_len);
    unlock_pipes(p);
    return rc;
}

/* Hand stream s's bytes to the caller: the buffer itself once the reader
 * is done (`final`), else a copy of what it has so far. */
static int take(weft_popen *p, stream *s, bool final, char **out, size_t *out_len)
{
    char *copy = NULL;
    size_t len = 0;
    int rc = WEFT_OK;

    weft__lock(&p->lock);
    if (!s->taken && s->len > s->head) {
        len = s->len - s->head;
        if (final) {
            reserve(s, 0); /* moves the bytes to the front; needs no memory */
            copy = s->buf;
            s->buf = NULL;
            s->len = s->cap = 0;
            s->taken = true;
        } else {
            copy = weft__malloc(len + 1);
            if (copy)
                memcpy(copy, s->buf + s->head, len + 1);
            else
                rc = WEFT_ENOMEM;
        }
    } else if (!s->taken && final) {
        s->taken = true;
    }
    weft__unlock(&p->lock);
    if (out) {
        *out = copy;
    } else {
        weft__free(copy);
    }
    if (out_len)
        *out_len = copy ? len : 0;
    return rc;
}

/* How the transfers went, once the threads have ended. A stream that
 * failed (a read error, or no memory to keep what was read) stops being
 * read, so its output is incomplete: every later call says so too. */
static int transfer_status(weft_popen *p)
{
    static const char *const names[STREAMS] = {"stdout", "stderr"};
    int i;

    if (p->input_status != WEFT_OK)
        return weft__fail(p->input_status, "popen_communicate: writing stdin failed (%s)",
                          weft_strerror(p->input_status));
    for (i = 0; i < STREAMS; i++) {
        int rc = p->streams[i].status;
        if (rc != WEFT_OK)
            return weft__fail(rc, "popen_communicate: reading %s failed (%s); its output is "
                                  "incomplete", names[i], weft_strerror(rc));
    }
    return WEFT_OK;
}

static int communicate(weft_popen *p, const void *input, size_t input_len, char **out,
                       size_t *out_len, char **err, size_t *err_len, int64_t deadline,
                       bool snapshot_on_timeout)
{
    int code, rc = WEFT_OK;

    if (!p->communicating)
        rc = begin_communication(p, input, input_len, deadline);
    if (rc == WEFT_OK)
        rc = wait_helpers(p, deadline);
    if (rc == WEFT_OK)
        rc = weft__child_wait_until(p->child, deadline, &code);
    if (rc == WEFT_OK)
        rc = transfer_status(p);
    if (rc == WEFT_OK || snapshot_on_timeout) {
        bool final = rc == WEFT_OK;
        int taken = take(p, &p->streams[STREAM_OUT], final, out, out_len);
        if (taken == WEFT_OK)
            taken = take(p, &p->streams[STREAM_ERR], final, err, err_len);
        if (rc == WEFT_OK)
            rc = taken;
    } else {
        if (out)
            *out = NULL;
        if (out_len)
            *out_len = 0;
        if (err)
            *err = NULL;
        if (err_len)
            *err_len = 0;
    }
    return rc;
}

int weft_popen_communicate(weft_popen *popen, const void *input, size_t input_len, char **out,
                           size_t *out_len, char **err, size_t *err_len, double timeout)
{
    int64_t deadline;
    int rc = weft__begin_wait(popen, timeout, &deadline);

    if (WEFT__HANDLE_DEAD(popen, "popen"))
        return WEFT_EINVAL;
    if (rc != WEFT_OK)
        return rc;
    if (input_len > 0 && !input)
        return weft__fail(WEFT_EINVAL, "popen_communicate: input is NULL, input_len %zu",
                          input_len);
    if (input_len > 0 && popen->communicating)
        return weft__fail(WEFT_EINVAL,
                          "popen_communicate: input for a child whose stdin is already given");
    return weft__timed_out(
        communicate(popen, input, input_len, out, out_len, err, err_len, deadline, false),
        "popen_communicate: timed out: the child still runs (call again to go on)");
}

/* ---- Streaming ------------------------------------------------------------------------- */

static const char *stdio_name(weft_stdio how)
{
    switch (how) {
    case WEFT_STDIO_INHERIT:
        return "inherited from this process";
    case WEFT_STDIO_NULL:
        return "the null device";
    case WEFT_STDIO_STDOUT:
        return "sent to stdout";
    case WEFT_STDIO_PIPE:
        break;
    }
    return "a pipe";
}

/* Take the lock `io` of the child's stream `name`, whose end is `how`, by
 * the deadline, for `call`: WEFT_OK with it held, WEFT_ETIMEDOUT (another
 * thread's call on it went on), or WEFT_EINVAL when the stream is no pipe
 * or communicate has taken it. */
static int lock_pipe(weft_popen *p, weft_lock *io, weft_stdio how, const char *name,
                     int64_t deadline, const char *call)
{
    if (how != WEFT_STDIO_PIPE)
        return weft__fail(WEFT_EINVAL, "%s: the child's %s is not a pipe: it is %s", call, name,
                          stdio_name(how));
    if (weft__lock_until(io, deadline) != WEFT_OK)
        return WEFT_ETIMEDOUT;
    if (p->communicating) {
        weft__unlock(io);
        return weft__fail(WEFT_EINVAL, "%s: communicate has taken the child's %s", call, name);
    }
    return WEFT_OK;
}

int weft_popen_write(weft_popen *popen, const void *data, size_t len, double timeout)
{
    int64_t deadline;
    int rc = weft__begin_wait(popen, timeout, &deadline);

    if (WEFT__HANDLE_DEAD(popen, "popen"))
        return WEFT_EINVAL;
    if (rc == WEFT_OK && len > 0 && !data)
        rc = weft__fail(WEFT_EINVAL, "popen_write: data is NULL, len %zu", len);
    if (rc == WEFT_OK)
        rc = lock_pipe(popen, &popen->in_io, popen->in_how, "stdin", deadline, "popen_write");
    if (rc != WEFT_OK)
        return rc;
    if (popen->in == WEFT__NO_FILE)
        rc = weft__fail(WEFT_EINVAL, "popen_write: stdin is closed (weft_popen_close_stdin)");
    else if (len > 0)
        rc = weft_sys_write_until(popen->in, data, len, deadline);
    weft__unlock(&popen->in_io);
    if (rc == WEFT_ESHUTDOWN)
        return weft__fail(WEFT_EOF, "popen_write: the child has closed its stdin (or ended)");
    return weft__timed_out(rc, "popen_write: timed out: the child reads nothing (nothing written)");
}

int weft_popen_close_stdin(weft_popen *popen)
{
    if (WEFT__HANDLE_DEAD(popen, "popen"))
        return WEFT_EINVAL;
    if (!popen)
        return weft__fail(WEFT_EINVAL, "popen_close_stdin: the popen is NULL");
    if (popen->in_how != WEFT_STDIO_PIPE)
        return weft__fail(WEFT_EINVAL,
                          "popen_close_stdin: the child's stdin is not a pipe: it is %s",
                          stdio_name(popen->in_how));
    /* After communicate began, its writer closes stdin: nothing to do. */
    weft__lock(&popen->in_io);
    if (!popen->communicating && popen->in != WEFT__NO_FILE) {
        weft_sys_close(popen->in);
        popen->in = WEFT__NO_FILE;
    }
    weft__unlock(&popen->in_io);
    return WEFT_OK;
}

/* The stream `which` for `call`, its lock held (see lock_pipe). */
static int lock_stream(weft_popen *p, weft_stdio_stream which, int64_t deadline,
                       const char *call, stream **out)
{
    static const char *const names[STREAMS] = {"stdout", "stderr"};
    stream *s;

    if (which != WEFT_STREAM_OUT && which != WEFT_STREAM_ERR)
        return weft__fail(WEFT_EINVAL, "%s: which is %d, neither WEFT_STREAM_OUT nor "
                                       "WEFT_STREAM_ERR", call, (int)which);
    s = &p->streams[which == WEFT_STREAM_OUT ? STREAM_OUT : STREAM_ERR];
    *out = s;
    return lock_pipe(p, &s->io, s->how, names[s - p->streams], deadline, call);
}

/* Hand out the first n buffered bytes. */
static void consume(stream *s, size_t n)
{
    s->head += n;
    s->scanned = 0;
    if (s->head == s->len) {
        s->head = s->len = 0;
        s->buf[0] = '\0';
    }
}

/* Read more from the pipe into the buffer, by the deadline: WEFT_OK (with
 * `ended` set at the end of the file), WEFT_ETIMEDOUT, WEFT_ENOMEM or
 * WEFT_EOS. */
static int fill(stream *s, int64_t deadline)
{
    size_t got;
    int rc = reserve(s, FILL_CHUNK);

    if (rc != WEFT_OK)
        return weft__fail(rc, "popen_readline: no memory to read more of a line (%zu bytes "
                              "of it held)", s->len - s->head);
    rc = weft_sys_read_until(s->file, s->buf + s->len, s->cap - s->len - 1, &got, deadline);
    if (rc != WEFT_OK)
        return rc;
    s->ended = got == 0;
    s->len += got;
    s->buf[s->len] = '\0';
    return WEFT_OK;
}

int weft_popen_read(weft_popen *popen, weft_stdio_stream which, void *buf, size_t cap,
                    size_t *got, double timeout)
{
    int64_t deadline;
    stream *s = NULL; /* set by lock_stream; compilers cannot always tell */
    size_t n = 0;
    int rc = weft__begin_wait(popen, timeout, &deadline);

    if (WEFT__HANDLE_DEAD(popen, "popen"))
        return WEFT_EINVAL;
    if (got)
        *got = 0;
    if (rc == WEFT_OK && (!buf || !got || cap == 0))
        rc = weft__fail(WEFT_EINVAL, "popen_read: %s", !buf ? "buf is NULL"
                                                      : !got ? "got is NULL" : "cap is 0");
    if (rc == WEFT_OK)
        rc = lock_stream(popen, which, deadline, "popen_read", &s);
    if (rc != WEFT_OK)
        return rc;
    if (s->len > s->head) {
        n = s->len - s->head < cap ? s->len - s->head : cap;
        memcpy(buf, s->buf + s->head, n);
        consume(s, n);
    } else if (!s->ended) {
        rc = weft_sys_read_until(s->file, buf, cap, &n, deadline);
        s->ended = rc == WEFT_OK && n == 0;
    }
    weft__unlock(&s->io);
    if (rc == WEFT_OK && n == 0)
        return weft__fail_text(WEFT_EOF, "popen_read: the end: the child closed the stream");
    *got = n;
    return weft__timed_out(rc, "popen_read: timed out: nothing came");
}

int weft_popen_readline(weft_popen *popen, weft_stdio_stream which, char **line, size_t *len,
                        double timeout)
{
    int64_t deadline;
    stream *s = NULL; /* set by lock_stream; compilers cannot always tell */
    char *copy, *nl;
    size_t n = 0;
    int rc = weft__begin_wait(popen, timeout, &deadline);

    if (WEFT__HANDLE_DEAD(popen, "popen"))
        return WEFT_EINVAL;
    if (line)
        *line = NULL;
    if (len)
        *len = 0;
    if (rc == WEFT_OK && !line)
        rc = weft__fail(WEFT_EINVAL, "popen_readline: line is NULL");
    if (rc == WEFT_OK)
        rc = lock_stream(popen, which, deadline, "popen_readline", &s);
    if (rc != WEFT_OK)
        return rc;
    /* Until a '\n' is buffered or the end is met; a timeout keeps what was
     * read for the next call, and remembers how far it was searched. */
    for (;;) {
        size_t unsearched = s->len - s->head - s->scanned;

        nl = unsearched > 0 ? memchr(s->buf + s->head + s->scanned, '\n', unsearched) : NULL;
        if (nl) {
            n = (size_t)(nl - (s->buf + s->head)) + 1;
            break;
        }
        s->scanned += unsearched;
        if (s->ended) {
            n = s->len - s->head;
            break;
        }
        rc = fill(s, deadline);
        if (rc != WEFT_OK)
            break;
    }
    if (rc == WEFT_OK && n == 0)
        rc = weft__fail_text(WEFT_EOF, "popen_readline: the end: the child closed the stream");
    if (rc == WEFT_OK) {
        copy = weft__malloc(n + 1);
        if (copy) {
            memcpy(copy, s->buf + s->head, n);
            copy[n] = '\0';
            consume(s, n);
            *line = copy;
            if (len)
                *len = n;
        } else {
            rc = weft__fail(WEFT_ENOMEM, "popen_readline: no memory for a line of %zu bytes", n);
        }
    }
    weft__unlock(&s->io);
    return weft__timed_out(rc, "popen_readline: timed out: no whole line came (the part is kept)");
}

int weft_popen_send_signal(weft_popen *popen, int sig)
{
    if (WEFT__HANDLE_DEAD(popen, "popen"))
        return WEFT_EINVAL;
    if (!popen)
        return weft__fail(WEFT_EINVAL, "popen_send_signal: the popen is NULL");
    return weft__child_send_signal(popen->child, sig, popen->new_process_group);
}

/* ---- The rest of Popen ---------------------------------------------------------------- */

int weft_popen_wait(weft_popen *popen, double timeout, int *exit_code)
{
    int64_t deadline;
    int code;
    int rc = weft__begin_wait(popen, timeout, &deadline);

    if (WEFT__HANDLE_DEAD(popen, "popen"))
        return WEFT_EINVAL;
    if (rc == WEFT_OK)
        rc = weft__child_wait_until(popen->child, deadline, &code);
    if (rc == WEFT_OK && exit_code)
        *exit_code = code;
    return weft__timed_out(rc, "popen_wait: timed out: the child still runs");
}

int weft_popen_poll(weft_popen *popen, int *exit_code)
{
    int code, rc;

    if (WEFT__HANDLE_DEAD(popen, "popen"))
        return WEFT_EINVAL;
    if (!popen)
        return weft__fail_null(__func__);
    rc = weft__child_poll(popen->child, &code);
    if (rc == WEFT_EAGAIN)
        return weft__fail_text(rc, "popen_poll: the child still runs");
    if (rc == WEFT_OK && exit_code)
        *exit_code = code;
    return rc;
}

int weft_popen_terminate(weft_popen *popen)
{
    if (WEFT__HANDLE_DEAD(popen, "popen"))
        return WEFT_EINVAL;
    return popen ? weft__child_signal(popen->child, false) : weft__fail_null(__func__);
}

int weft_popen_kill(weft_popen *popen)
{
    if (WEFT__HANDLE_DEAD(popen, "popen"))
        return WEFT_EINVAL;
    return popen ? weft__child_signal(popen->child, true) : weft__fail_null(__func__);
}

int64_t weft_popen_pid(const weft_popen *popen)
{
    return popen && !WEFT__HANDLE_DEAD(popen, "popen") ? weft__child_pid(popen->child) : -1;
}

void weft_popen_release(weft_popen *popen)
{
    if (popen && !WEFT__HANDLE_DEAD(popen, "popen"))
        popen_unref(popen);
}

int weft_run(const char *const argv[], const weft_popen_opts *opts, double timeout,
             int *exit_code, char **out, size_t *out_len, char **err, size_t *err_len)
{
    weft_popen_opts o = opts ? *opts : (weft_popen_opts){0};
    weft_popen *p;
    int64_t deadline;
    int code, rc;

    rc = weft__deadline(timeout, &deadline);
    if (rc != WEFT_OK)
        return rc;
    if (out)
        o.out = WEFT_STDIO_PIPE;
    if (err)
        o.err = WEFT_STDIO_PIPE;
    rc = weft_popen_start(&p, argv, &o);
    if (rc != WEFT_OK)
        return rc;
    rc = communicate(p, NULL, 0, out, out_len, err, err_len, deadline, true);
    if (rc != WEFT_OK) {
        /* As subprocess.run, on a timeout or any other failure (no thread
         * to read its pipes, say): kill it and reap it, but do not wait for
         * its pipes, which a grandchild may hold open. */
        weft__child_signal(p->child, true);
    }
    if (weft__child_wait_until(p->child, WEFT__NO_DEADLINE, &code) == WEFT_OK && exit_code)
        *exit_code = code;
    popen_unref(p);
    return rc;
}

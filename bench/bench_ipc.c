/* SPDX-License-Identifier: MIT */
/*
 * bench_ipc: weft's objects between processes (weft/ipc.h) against what a
 * C programmer writes by hand (issue 16's bench). POSIX only (CMake does
 * not build it on Windows).
 *
 * What is measured
 *   - Connections, a parent and one fork child:
 *       round trip: the parent sends a message of 8 B, 4 KiB or 64 KiB, the
 *         child sends it back, the parent reads it whole; microseconds per
 *         round trip (families conn.roundtrip.8, .4k, .64k);
 *       one-way throughput: the parent sends 1 MiB messages (MiB/s,
 *         conn.throughput.1m) or 64-byte ones (thousands of messages/s,
 *         conn.throughput.64) and the child reads each one whole; the run
 *         ends when the child has acknowledged the last.
 *     Competitors: weft_pipe + weft_conn_send/recv (duplex; the child
 *     started by weft_process_start with WEFT_START_FORK and the child's
 *     end handed over in `pass`); "weft, one-way pipes": the same on two
 *     one-way weft_pipes, one each way (duplex false: what the two raw
 *     pipes below are the like of); "raw socketpair": an AF_UNIX stream
 *     socketpair (what weft uses on POSIX), a fork() child, and a framing
 *     written by hand: an 8-byte length and the bytes in one writev, read
 *     back by read loops into one buffer grown as needed (no allocation per
 *     message, which weft's receive makes), for reference; "raw pipe": the
 *     same framing on two pipe(2)s, the baseline the target (weft
 *     >= 0.9x its speed) is checked against: what a C programmer writes;
 *     "raw pipe, SIGPIPE masked": the same with SIGPIPE blocked in the
 *     thread around each write (pthread_sigmask, two system calls), for
 *     reference: the least a library on pipes pays so that no SIGPIPE
 *     reaches its caller.
 *     CPU time: the parent's getrusage(RUSAGE_SELF) over the timed loop
 *     plus the child's own over its serving loop (it sends it back at the
 *     end), per round trip or per message, in families <family>.cpu.
 *   - Process locks:
 *       uncontended: acquire, increment a counter, release, in one process;
 *         ns per operation (plock.uncontended);
 *       contended: two fork children, each pinned to its own CPU (unless
 *         --no-pin), each doing --ops/4 acquire + increment + release on
 *         one counter in shared memory; wall ns per operation from the
 *         start signal to the last child's end (plock.contended.2proc),
 *         and the children's CPU time per operation (.cpu). The counter
 *         is checked.
 *     Competitors: weft_plock (a robust process-shared pthread mutex
 *     inside, of type ERRORCHECK for a Lock), "pthread pshared mutex"
 *     (PTHREAD_PROCESS_SHARED) and "pthread robust pshared mutex" (also
 *     PTHREAD_MUTEX_ROBUST: weft's like for like), both in an anonymous
 *     shared mapping.
 *   - Process queues, a parent and one fork child, as the connections:
 *       round trip: the parent puts an 8-byte message into one
 *         weft_pqueue, the child gets it and puts it into a second, the
 *         parent gets it; microseconds per round trip (pqueue.roundtrip.8);
 *       throughput: the parent puts 64-byte messages, the child gets each
 *         (thousands of messages/s, pqueue.throughput.64).
 *     Both queues unbounded, passed to the child in `pass`; CPU time as
 *     for the connections. Competitors: weft_pqueue, and the raw
 *     socketpair for reference (one reader, one writer: no queue). The
 *     issue's target (>= 20x) is against Python's multiprocessing.Queue.
 *   Python's multiprocessing.Pipe and multiprocessing.Queue are measured by
 *   bench/python_ref.py, in the same families, so bench/report.py sets
 *   them side by side.
 *
 * How
 *   Each repetition of a family is --slices turns; in each turn every
 *   competitor does 1/slices of the work, the first one rotating, and a
 *   competitor's value for the repetition is the median of its turns. On a
 *   machine shared with other work, a burst then falls on one short turn
 *   of each competitor alike, and the median leaves it out, where runs made
 *   one after the other would each catch a different share of it. A turn
 *   starts its child untimed (and exchanges one message with it, so it is
 *   running). Reported: median, min and max over the repetitions, the ratio of the medians to the baseline (raw
 *   pipe, pthread pshared mutex), the paired per-repetition ratios,
 *   the targets and one @result line per row. The @regime line
 *   (bench_regime.h) comes first: figures from a loaded machine say little
 *   without it.
 *
 * Usage: bench_ipc [--smoke] [--reps N] [--slices N] [--trips N] [--mib N]
 *                  [--msgs N] [--ops N] [--no-pin] [--families A,B] [--verbose]
 *                  [--regime NAME]
 */
#include "bench_features.h"

#include <weft/base.h>
#include <weft/ipc.h>
#include <weft/process.h>
#include <weft/time.h>

#define BENCH_NAME "bench_ipc"
#include "bench_util.h"
#include "bench_regime.h"

#include <errno.h>
#include <pthread.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdalign.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

/* Robust mutexes, as weft's plock uses where the system has them. */
#if defined(__linux__) || defined(__FreeBSD__) || defined(PTHREAD_MUTEX_ROBUST)
#define HAVE_ROBUST 1
#else
#define HAVE_ROBUST 0
#endif

#define MAX_REPS BENCH_MAX_REPS
#define MAX_SLICES 100
#define TARGET "bench_ipc_serve"
#define TARGET_PQUEUE "bench_ipc_pqueue"

typedef struct settings {
    int reps;
    int slices; /* turns per repetition: each competitor does 1/slices of the work per turn */
    long long trips; /* round trips per repetition at 8 B and 4 KiB; a quarter at 64 KiB */
    long long mib;   /* MiB in 1 MiB messages per throughput repetition */
    long long msgs;  /* 64-byte messages per throughput repetition */
    long long ops;   /* uncontended lock operations per repetition; contended: a quarter per child */
    bool pin;
    bool verbose;
    const char *families; /* NULL: all */
} settings;

/* ---- Placement ---------------------------------------------------------------------
 * Pinned, the parent (or the first locker) runs on the first usable CPU and
 * the child (the second locker) on the second, so the two never share one
 * CPU by the scheduler's whim. */

static bool pin;
#if HAVE_AFFINITY
static int usable[2];
static int nusable;
#endif

static void find_cpus(void)
{
#if HAVE_AFFINITY
    cpu_set_t set;

    CPU_ZERO(&set);
    check(sched_getaffinity(0, sizeof set, &set), "sched_getaffinity");
    for (int cpu = 0; cpu < CPU_SETSIZE && nusable < 2; cpu++)
        if (CPU_ISSET(cpu, &set))
            usable[nusable++] = cpu;
    if (nusable < 2)
        pin = false; /* one CPU: nothing to place */
#else
    pin = false;
#endif
}

/* Pin the calling process to its slot's CPU (0 or 1) when pinning is on. */
static void pin_self(int slot)
{
#if HAVE_AFFINITY
    if (pin) {
        cpu_set_t set;

        CPU_ZERO(&set);
        CPU_SET(usable[slot], &set);
        check(sched_setaffinity(0, sizeof set, &set), "sched_setaffinity");
    }
#else
    (void)slot;
#endif
}

/* The CPU time this process has used so far, in ns: all its threads
 * (RUSAGE_SELF) or its waited-for children (RUSAGE_CHILDREN). */
static int64_t cpu_ns(int who)
{
    struct rusage ru;

    check(getrusage(who, &ru), "getrusage");
    return ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000 +
           ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
}

/* ---- Message transports ---------------------------------------------------------------
 * What both ends of a connection competitor do: send a message whole;
 * receive one whole (the bytes stay valid until the next receive). */

typedef struct transport {
    const char *name;
    void (*send)(void *ctx, const void *msg, size_t len);
    const void *(*recv)(void *ctx, size_t *len);
} transport;

/* weft: the end received from and the end sent to (one duplex end, or
 * the ends of two one-way pipes); the last message received, to free. */
typedef struct weft_end {
    weft_conn *in, *out;
    void *last;
} weft_end;

static void weft_send(void *ctx, const void *msg, size_t len)
{
    int rc = weft_conn_send(((weft_end *)ctx)->out, msg, len, WEFT_FOREVER);

    if (rc != WEFT_OK)
        die("weft_conn_send: %s", weft_strerror(rc));
}

static const void *weft_recv(void *ctx, size_t *len)
{
    weft_end *e = ctx;
    int rc;

    weft_free(e->last);
    e->last = NULL;
    rc = weft_conn_recv(e->in, &e->last, len, WEFT_FOREVER);
    if (rc != WEFT_OK)
        die("weft_conn_recv: %s", weft_strerror(rc));
    return e->last;
}

static const transport weft_transport = {"weft", weft_send, weft_recv};

static void weft_end_close(weft_end *e)
{
    if (e->out != e->in)
        weft_conn_close(e->out);
    weft_conn_close(e->in);
}

/* raw: a length prefix by hand on two descriptors (one socket both ways,
 * or the ends of two pipes), the received bytes in one reused buffer.
 * mask_sigpipe: each write with SIGPIPE blocked in the thread, the least
 * a library writing to a pipe must do so that a reader's death does not
 * kill its caller (a socket's MSG_NOSIGNAL costs nothing). */
typedef struct raw_end {
    int rfd, wfd;
    bool mask_sigpipe;
    char *buf;
    size_t cap;
} raw_end;

static void raw_send(void *ctx, const void *msg, size_t len)
{
    raw_end *e = ctx;
    uint64_t head = len;
    struct iovec iov[2] = {{&head, sizeof head}, {(void *)msg, len}};
    struct iovec *v = iov;
    int n = 2;
    sigset_t pipe_only, old;

    if (e->mask_sigpipe) {
        sigemptyset(&pipe_only);
        sigaddset(&pipe_only, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
    }
    while (n > 0) {
        ssize_t w = writev(e->wfd, v, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            die("raw writev: %s", strerror(errno));
        for (; n > 0 && (size_t)w >= v->iov_len; v++, n--)
            w -= (ssize_t)v->iov_len;
        if (n > 0) {
            v->iov_base = (char *)v->iov_base + w;
            v->iov_len -= (size_t)w;
        }
    }
    if (e->mask_sigpipe)
        pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void raw_read_all(int fd, void *buf, size_t len)
{
    char *p = buf;

    while (len > 0) {
        ssize_t r = read(fd, p, len);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            die("raw read: %s", r == 0 ? "the other end closed" : strerror(errno));
        p += r;
        len -= (size_t)r;
    }
}

static const void *raw_recv(void *ctx, size_t *len)
{
    raw_end *e = ctx;
    uint64_t head;

    raw_read_all(e->rfd, &head, sizeof head);
    if (head + 1 > e->cap) {
        free(e->buf);
        e->cap = (size_t)head + 1;
        e->buf = malloc(e->cap);
        if (!e->buf)
            die("raw recv: no memory for %zu bytes", e->cap);
    }
    raw_read_all(e->rfd, e->buf, (size_t)head);
    *len = (size_t)head;
    return e->buf;
}

static const transport raw_transport = {"raw", raw_send, raw_recv};

/* weft_pqueue: a queue each way (a queue has no ends: a process gets what
 * another put); the last message received, to free. */
typedef struct pqueue_end {
    weft_pqueue *in, *out;
    void *last;
} pqueue_end;

static void pqueue_send(void *ctx, const void *msg, size_t len)
{
    int rc = weft_pqueue_put(((pqueue_end *)ctx)->out, msg, len, WEFT_FOREVER);

    if (rc != WEFT_OK)
        die("weft_pqueue_put: %s", weft_strerror(rc));
}

static const void *pqueue_recv(void *ctx, size_t *len)
{
    pqueue_end *e = ctx;
    int rc;

    weft_free(e->last);
    e->last = NULL;
    rc = weft_pqueue_get(e->in, &e->last, len, WEFT_FOREVER);
    if (rc != WEFT_OK)
        die("weft_pqueue_get: %s", weft_strerror(rc));
    return e->last;
}

static const transport pqueue_transport = {"weft_pqueue", pqueue_send, pqueue_recv};

/* ---- The child ----------------------------------------------------------------------
 * It echoes the first message (so the parent knows it runs), then echoes
 * every message (ECHO) or only reads it (SINK), until an empty message:
 * then it answers with the CPU time its loop took, in ns, and ends. */

enum { ECHO, SINK };

typedef struct child_args {
    int mode;
    int slot; /* the CPU slot to pin itself to */
} child_args;

static void serve(const transport *t, void *ctx, child_args a)
{
    size_t len;
    const void *m;
    int64_t cpu0;

    pin_self(a.slot);
    m = t->recv(ctx, &len);
    t->send(ctx, m, len);
    cpu0 = cpu_ns(RUSAGE_SELF);
    for (;;) {
        m = t->recv(ctx, &len);
        if (len == 0)
            break;
        if (a.mode == ECHO)
            t->send(ctx, m, len);
    }
    cpu0 = cpu_ns(RUSAGE_SELF) - cpu0;
    t->send(ctx, &cpu0, sizeof cpu0);
}

static int weft_child(const void *arg, size_t len)
{
    /* One duplex end, or the end to receive from and the one to send to. */
    weft_end e = {weft_process_passed(0), weft_process_passed(1), NULL};
    child_args a;

    if (!e.in || len != sizeof a)
        die("weft child: no connection passed, or a bad argument");
    if (!e.out)
        e.out = e.in;
    memcpy(&a, arg, sizeof a);
    serve(&weft_transport, &e, a);
    weft_free(e.last);
    weft_end_close(&e);
    return 0;
}

/* The pqueue child: it gets from the first queue passed, puts into the
 * second. */
static int pqueue_child(const void *arg, size_t len)
{
    pqueue_end e = {weft_process_passed(0), weft_process_passed(1), NULL};
    child_args a;

    if (!e.in || !e.out || len != sizeof a)
        die("pqueue child: no queues passed, or a bad argument");
    memcpy(&a, arg, sizeof a);
    serve(&pqueue_transport, &e, a);
    weft_free(e.last);
    weft_pqueue_close(e.in);
    weft_pqueue_close(e.out);
    return 0;
}

/* ---- A connection run -----------------------------------------------------------------
 * One competitor's child, started and ended around the timed part. */

/* The transports a family's competitors use: the connections', then the
 * process queue's. */
enum { C_WEFT, C_WEFT_ONEWAY, C_SOCKETPAIR, C_PIPE, C_PIPE_MASKED, NCONN, C_PQUEUE = NCONN, NKIND };
static const char *const kind_names[NKIND] = {"weft", "weft, one-way pipes", "raw socketpair (ref)",
                                              "raw pipe", "raw pipe, SIGPIPE masked (ref)",
                                              "weft_pqueue"};
static const char *const *const conn_names = kind_names;
static const int conn_kinds[NCONN] = {C_WEFT, C_WEFT_ONEWAY, C_SOCKETPAIR, C_PIPE, C_PIPE_MASKED};
/* The pqueue families: weft_pqueue, and a socketpair for reference (what a
 * message between the two processes costs at the least; no queue). */
enum { NPQ = 2 };
static const char *const pq_names[NPQ] = {"weft", "raw socketpair (ref)"};
static const int pq_kinds[NPQ] = {C_PQUEUE, C_SOCKETPAIR};

typedef struct peer {
    int kind;
    const transport *t;
    void *ctx;
    weft_end weft;
    pqueue_end pq;
    raw_end raw;
    weft_process *proc;
    pid_t pid;
} peer;

/* A weft fork child running `target`, given the n handles of `pass`. */
static weft_process *start_weft_child(const char *target, const void *const *pass, size_t n,
                                      child_args a)
{
    weft_process_opts opts = {.method = WEFT_START_FORK, .pass = pass, .npass = n};
    weft_process *proc;
    int rc = weft_process_start(&proc, target, &a, sizeof a, &opts);

    if (rc != WEFT_OK)
        die("weft_process_start: %s", weft_strerror(rc));
    return proc;
}

static void peer_start(peer *p, int kind, int mode)
{
    child_args a = {mode, 1};

    memset(p, 0, sizeof *p);
    p->kind = kind;
    if (kind == C_WEFT || kind == C_WEFT_ONEWAY) {
        /* The child's ends: [0] it receives from, [1] it sends to. */
        weft_end theirs = {0};
        const void *pass[2];
        int rc = kind == C_WEFT ? weft_pipe(&p->weft.in, &theirs.in, true)
                                : weft_pipe(&theirs.in, &p->weft.out, false);

        if (rc == WEFT_OK && kind == C_WEFT_ONEWAY)
            rc = weft_pipe(&p->weft.in, &theirs.out, false);
        if (rc != WEFT_OK)
            die("weft_pipe: %s", weft_strerror(rc));
        if (kind == C_WEFT)
            p->weft.out = p->weft.in, theirs.out = theirs.in;
        pass[0] = theirs.in;
        pass[1] = theirs.out;
        p->proc = start_weft_child(TARGET, pass, kind == C_WEFT ? 1 : 2, a);
        weft_end_close(&theirs); /* the child has its own: its ends alone */
        p->t = &weft_transport;
        p->ctx = &p->weft;
    } else if (kind == C_PQUEUE) {
        const void *pass[2];
        int rc = weft_pqueue_create(&p->pq.out, 0);

        if (rc == WEFT_OK)
            rc = weft_pqueue_create(&p->pq.in, 0);
        if (rc != WEFT_OK)
            die("weft_pqueue_create: %s", weft_strerror(rc));
        pass[0] = p->pq.out; /* the child gets what the parent puts */
        pass[1] = p->pq.in;
        p->proc = start_weft_child(TARGET_PQUEUE, pass, 2, a);
        p->t = &pqueue_transport;
        p->ctx = &p->pq;
    } else {
        int to_child[2], to_parent[2];
        raw_end child_end = {0};

        if (kind == C_SOCKETPAIR) {
            if (socketpair(AF_UNIX, SOCK_STREAM, 0, to_child) != 0)
                die("socketpair: %s", strerror(errno));
            to_parent[0] = to_child[1];
            to_parent[1] = to_child[0];
        } else if (pipe(to_child) != 0 || pipe(to_parent) != 0) {
            die("pipe: %s", strerror(errno));
        }
        p->raw.rfd = to_parent[0];
        p->raw.wfd = to_child[1];
        child_end.rfd = to_child[0];
        child_end.wfd = to_parent[1];
        p->raw.mask_sigpipe = child_end.mask_sigpipe = kind == C_PIPE_MASKED;
        fflush(NULL);
        p->pid = fork();
        if (p->pid < 0)
            die("fork: %s", strerror(errno));
        if (p->pid == 0) {
            close(p->raw.rfd);
            if (p->raw.wfd != p->raw.rfd)
                close(p->raw.wfd);
            serve(&raw_transport, &child_end, a);
            _exit(0);
        }
        close(child_end.rfd);
        if (child_end.wfd != child_end.rfd)
            close(child_end.wfd);
        p->t = &raw_transport;
        p->ctx = &p->raw;
    }
    /* The first message, echoed: the child runs and has pinned itself. */
    {
        size_t len;
        p->t->send(p->ctx, "hello", 5);
        (void)p->t->recv(p->ctx, &len);
        if (len != 5)
            die("%s: the child's greeting came back with %zu bytes", kind_names[kind], len);
    }
}

/* Send the empty message that ends the child; its CPU ns come back. */
static int64_t peer_stop(peer *p)
{
    size_t len;
    const void *m;
    int64_t child_cpu;

    p->t->send(p->ctx, "", 0);
    m = p->t->recv(p->ctx, &len);
    if (len != sizeof child_cpu)
        die("%s: the child's last answer has %zu bytes", kind_names[p->kind], len);
    memcpy(&child_cpu, m, sizeof child_cpu);
    return child_cpu;
}

static void peer_end(peer *p)
{
    if (p->proc) {
        int code = -1, rc = weft_process_join(p->proc, WEFT_FOREVER);

        if (rc == WEFT_OK)
            rc = weft_process_exitcode(p->proc, &code);
        if (rc != WEFT_OK || code != 0)
            die("%s child: %s, exit code %d", kind_names[p->kind], weft_strerror(rc), code);
        weft_process_release(p->proc);
        weft_free(p->weft.last);
        if (p->weft.in)
            weft_end_close(&p->weft);
        weft_free(p->pq.last);
        weft_pqueue_close(p->pq.in);
        weft_pqueue_close(p->pq.out);
    } else {
        int status = 0;

        close(p->raw.rfd);
        if (p->raw.wfd != p->raw.rfd)
            close(p->raw.wfd);
        if (waitpid(p->pid, &status, 0) != p->pid || !WIFEXITED(status) ||
            WEXITSTATUS(status) != 0)
            die("%s child: did not end with code 0 (status 0x%x)", kind_names[p->kind],
                (unsigned)status);
        free(p->raw.buf);
    }
}

typedef struct sample {
    double value; /* the family's unit */
    double cpu;   /* CPU time per operation, the family's cpu unit */
} sample;

/* `n` round trips of `size` bytes: us per round trip, CPU us per round trip. */
static sample run_roundtrip(int kind, size_t size, long long n)
{
    static char out[64 * 1024];
    peer p;
    int64_t t0, c0, wall, cpu;

    peer_start(&p, kind, ECHO);
    t0 = weft_monotonic_ns();
    c0 = cpu_ns(RUSAGE_SELF);
    for (long long i = 0; i < n; i++) {
        size_t len;

        out[0] = (char)i;
        p.t->send(p.ctx, out, size);
        const char *back = p.t->recv(p.ctx, &len);
        if (len != size || back[0] != (char)i)
            die("%s: round trip %lld came back wrong", kind_names[kind], i);
    }
    cpu = peer_stop(&p) + cpu_ns(RUSAGE_SELF) - c0;
    wall = weft_monotonic_ns() - t0;
    peer_end(&p);
    return (sample){(double)wall / 1e3 / (double)n, (double)cpu / 1e3 / (double)n};
}

/* `n` messages of `size` bytes one way: bytes (MiB/s) or messages
 * (kmsg/s) per second, as `per_message` says; CPU ns per message. */
static sample run_throughput(int kind, size_t size, long long n, bool per_message)
{
    static char out[1 << 20];
    peer p;
    int64_t t0, c0, wall, cpu;
    double secs;

    peer_start(&p, kind, SINK);
    t0 = weft_monotonic_ns();
    c0 = cpu_ns(RUSAGE_SELF);
    for (long long i = 0; i < n; i++)
        p.t->send(p.ctx, out, size);
    cpu = peer_stop(&p) + cpu_ns(RUSAGE_SELF) - c0;
    wall = weft_monotonic_ns() - t0;
    peer_end(&p);
    secs = (double)wall / 1e9;
    return (sample){per_message ? (double)n / secs / 1e3 : (double)n * (double)size / secs / 1048576.0,
                    (double)cpu / (double)n};
}

/* ---- Process locks ------------------------------------------------------------------ */

/* Without robust mutexes (macOS) the last row is left out. */
enum { L_WEFT, L_PSHARED, L_ROBUST, NLOCK = L_ROBUST + HAVE_ROBUST };
static const char *const lock_names[] = {"weft", "pthread pshared mutex",
                                         "pthread robust pshared mutex"};

/* In an anonymous shared mapping: the competitors' locks and what the two
 * lockers share. Each lock and the counter have a cache line of their own:
 * weft's lock lives in its own mapping, and a competitor whose lock word
 * shared a line with the counter would move one line per contended
 * operation where weft moves two. */
typedef struct shared {
    struct {
        alignas(64) pthread_mutex_t m;
    } mutex[3]; /* [L_WEFT] unused: weft's lives in its own mapping */
    alignas(64) uint64_t counter;
    alignas(64) _Atomic int ready;
    _Atomic int go;
    int64_t go_ns;
    int64_t end_ns[2];
    int64_t cpu_ns[2];
} shared;

static shared *sh;
static weft_plock *plock;

static void shared_init(void)
{
    pthread_mutexattr_t ma;
    int rc;

    sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED)
        die("mmap: %s", strerror(errno));
    for (int k = L_PSHARED; k < NLOCK; k++) {
        check(pthread_mutexattr_init(&ma), "pthread_mutexattr_init");
        check(pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED),
              "pthread_mutexattr_setpshared");
#if HAVE_ROBUST
        if (k == L_ROBUST)
            check(pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST),
                  "pthread_mutexattr_setrobust");
#endif
        check(pthread_mutex_init(&sh->mutex[k].m, &ma), "pthread_mutex_init");
        check(pthread_mutexattr_destroy(&ma), "pthread_mutexattr_destroy");
    }
    rc = weft_plock_create(&plock, false);
    if (rc != WEFT_OK)
        die("weft_plock_create: %s", weft_strerror(rc));
}

/* n acquire + increment + release of competitor k; the loop is written
 * once per competitor, so each compiles to its own calls. */
static void lock_loop(int k, long long n)
{
    if (k == L_WEFT) {
        for (long long i = 0; i < n; i++) {
            if (weft_plock_acquire(plock, WEFT_FOREVER) != WEFT_OK)
                die("weft_plock_acquire failed");
            sh->counter++;
            if (weft_plock_release(plock) != WEFT_OK)
                die("weft_plock_release failed");
        }
        return;
    }
    for (long long i = 0; i < n; i++) {
        if (pthread_mutex_lock(&sh->mutex[k].m) != 0)
            die("pthread_mutex_lock failed");
        sh->counter++;
        if (pthread_mutex_unlock(&sh->mutex[k].m) != 0)
            die("pthread_mutex_unlock failed");
    }
}

static sample run_uncontended(int k, long long n)
{
    int64_t t0;

    sh->counter = 0;
    t0 = weft_monotonic_ns();
    lock_loop(k, n);
    t0 = weft_monotonic_ns() - t0;
    if (sh->counter != (uint64_t)n)
        die("%s: counter %llu after %lld operations", lock_names[k],
            (unsigned long long)sh->counter, n);
    return (sample){(double)t0 / (double)n, (double)t0 / (double)n};
}

/* Two fork children, n operations each, started together: wall ns per
 * operation from the start to the last end, and CPU ns per operation. */
static sample run_contended(int k, long long n)
{
    pid_t pids[2];
    int64_t last = 0;

    sh->counter = 0;
    atomic_store(&sh->ready, 0);
    atomic_store(&sh->go, 0);
    fflush(NULL);
    for (int c = 0; c < 2; c++) {
        pids[c] = fork();
        if (pids[c] < 0)
            die("fork: %s", strerror(errno));
        if (pids[c] == 0) {
            int64_t c0;

            pin_self(c);
            atomic_fetch_add(&sh->ready, 1);
            while (!atomic_load(&sh->go))
                sched_yield();
            c0 = cpu_ns(RUSAGE_SELF);
            lock_loop(k, n);
            sh->cpu_ns[c] = cpu_ns(RUSAGE_SELF) - c0;
            sh->end_ns[c] = weft_monotonic_ns();
            _exit(0);
        }
    }
    while (atomic_load(&sh->ready) < 2)
        sched_yield();
    sh->go_ns = weft_monotonic_ns();
    atomic_store(&sh->go, 1);
    for (int c = 0; c < 2; c++) {
        int status = 0;

        if (waitpid(pids[c], &status, 0) != pids[c] || !WIFEXITED(status) ||
            WEXITSTATUS(status) != 0)
            die("%s: a locker did not end with code 0", lock_names[k]);
        if (sh->end_ns[c] > last)
            last = sh->end_ns[c];
    }
    if (sh->counter != (uint64_t)(2 * n))
        die("%s: counter %llu after 2 x %lld operations", lock_names[k],
            (unsigned long long)sh->counter, n);
    return (sample){(double)(last - sh->go_ns) / (double)(2 * n),
                    (double)(sh->cpu_ns[0] + sh->cpu_ns[1]) / (double)(2 * n)};
}

/* ---- Families ---------------------------------------------------------------------- */

typedef struct family {
    const char *name; /* the @result family */
    const char *what;
    const char *unit, *cpu_unit; /* cpu_unit NULL: no CPU family */
    bool higher;
    int ncomp;
    const char *const *names;
    int base; /* the baseline competitor */
    sample (*run)(const struct family *f, int comp, const settings *s);
    size_t size;
    const int *kinds; /* message families: each competitor's transport */
} family;

static sample fam_roundtrip(const family *f, int comp, const settings *s)
{
    return run_roundtrip(f->kinds[comp], f->size, f->size > 4096 ? s->trips / 4 : s->trips);
}

static sample fam_throughput(const family *f, int comp, const settings *s)
{
    bool small = f->size < 4096;

    return run_throughput(f->kinds[comp], f->size, small ? s->msgs : s->mib, small);
}

static sample fam_uncontended(const family *f, int comp, const settings *s)
{
    (void)f;
    return run_uncontended(comp, s->ops);
}

static sample fam_contended(const family *f, int comp, const settings *s)
{
    (void)f;
    return run_contended(comp, s->ops / 4 + 1);
}

static const family families[] = {
    {"conn.roundtrip.8", "round trip of an 8-byte message", "us", "CPU us", false, NCONN,
     conn_names, C_PIPE, fam_roundtrip, 8, conn_kinds},
    {"conn.roundtrip.4k", "round trip of a 4 KiB message", "us", "CPU us", false, NCONN,
     conn_names, C_PIPE, fam_roundtrip, 4096, conn_kinds},
    {"conn.roundtrip.64k", "round trip of a 64 KiB message", "us", "CPU us", false, NCONN,
     conn_names, C_PIPE, fam_roundtrip, 65536, conn_kinds},
    {"conn.throughput.1m", "one way, 1 MiB messages", "MiB/s", "CPU ns/msg", true, NCONN,
     conn_names, C_PIPE, fam_throughput, 1 << 20, conn_kinds},
    {"conn.throughput.64", "one way, 64-byte messages", "kmsg/s", "CPU ns/msg", true, NCONN,
     conn_names, C_PIPE, fam_throughput, 64, conn_kinds},
    {"plock.uncontended", "acquire + increment + release, one process", "ns/op", NULL, false,
     NLOCK, lock_names, L_PSHARED, fam_uncontended, 0, NULL},
    {"plock.contended.2proc", "2 processes hammer one lock", "ns/op", "CPU ns/op", false, NLOCK,
     lock_names, L_PSHARED, fam_contended, 0, NULL},
    {"pqueue.roundtrip.8", "an 8-byte message put, got and put back through two queues", "us",
     "CPU us", false, NPQ, pq_names, 1, fam_roundtrip, 8, pq_kinds},
    {"pqueue.throughput.64", "64-byte messages put by one process, got by the other", "kmsg/s",
     "CPU ns/msg", true, NPQ, pq_names, 1, fam_throughput, 64, pq_kinds},
};
enum { NFAM = sizeof families / sizeof families[0], MAXCOMP = NCONN };

static double value[NFAM][MAXCOMP][MAX_REPS];
static double cpu[NFAM][MAXCOMP][MAX_REPS];

/* ---- Output -------------------------------------------------------------------------- */

static void print_family(int f, int reps)
{
    const family *fam = &families[f];

    printf("\n%s: %s (%s, %s is better%s)\n", fam->name, fam->what, fam->unit,
           fam->higher ? "higher" : "lower", fam->cpu_unit ? "; CPU: both processes" : "");
    printf("  %-30s %9s %9s %9s  %5s  %-16s %s\n", "competitor", "median", "min", "max", "ratio",
           "paired", fam->cpu_unit ? fam->cpu_unit : "");
    for (int c = 0; c < fam->ncomp; c++) {
        printf("  %-30s", fam->names[c]);
        print_stats(value[f][c], value[f][fam->base], c == fam->base, reps, "%.3f", 16);
        if (fam->cpu_unit)
            printf(" %9.3f", median(cpu[f][c], reps));
        printf("\n");
    }
}

/* The bar for family f: weft's speed against the baseline (>= bar
 * when speed_bar, else weft's time <= bar x the baseline's). */
static void print_target(int f, int weft, int against, double bar, bool speed_bar, int reps)
{
    const family *fam = &families[f];
    double paired = paired_median(value[f][weft], value[f][against], reps);
    double ratio = median_ratio(value[f][weft], value[f][against], reps);
    /* A speed: higher values are faster, else the inverse of the time ratio. */
    double speed = fam->higher ? paired : 1.0 / paired, mspeed = fam->higher ? ratio : 1.0 / ratio;
    bool met = speed_bar ? speed >= bar && mspeed >= bar
                         : 1.0 / speed <= bar && 1.0 / mspeed <= bar;

    if (speed_bar)
        printf("  %-22s %-19s speed vs %-14s %.2fx paired, %.2fx of medians (target >= "
               "%.2fx): %s\n", fam->name, fam->names[weft], fam->names[against], speed, mspeed,
               bar, met ? "met" : "MISSED");
    else
        printf("  %-22s %s time vs %-29s %.2fx paired, %.2fx of medians (target <= %.2fx): "
               "%s\n", fam->name, fam->names[weft], fam->names[against], 1.0 / speed,
               1.0 / mspeed, bar, met ? "met" : "MISSED");
}

static void print_results(const bool *active, int reps)
{
    char name[64];

    for (int f = 0; f < (int)NFAM; f++) {
        const family *fam = &families[f];

        if (!active[f])
            continue;
        for (int c = 0; c < fam->ncomp; c++)
            bench_result(fam->name, fam->names[c], value[f][c], reps, fam->unit, fam->higher);
        if (!fam->cpu_unit)
            continue;
        snprintf(name, sizeof name, "%s.cpu", fam->name);
        for (int c = 0; c < fam->ncomp; c++)
            bench_result(name, fam->names[c], cpu[f][c], reps, fam->cpu_unit, false);
    }
}

static const char usage[] =
    "usage: bench_ipc [options]\n"
    "  weft_conn round trip and throughput against a raw socketpair and pipe,\n"
    "  weft_plock against process-shared pthread mutexes, and weft_pqueue round trip\n"
    "  and throughput, between fork children.\n"
    "  --reps N        repetitions (default 5; --smoke 1; WEFT_BENCH_REPS)\n"
    "  --slices N      turns per repetition, each competitor doing 1/N of the work in\n"
    "                  each (default 5; --smoke 1; WEFT_BENCH_SLICES)\n"
    "  --trips N       round trips per repetition at 8 B and 4 KiB, a quarter at\n"
    "                  64 KiB (default 2000; WEFT_BENCH_TRIPS)\n"
    "  --mib N         MiB in 1 MiB messages per throughput repetition (default 128;\n"
    "                  WEFT_BENCH_MIB)\n"
    "  --msgs N        64-byte messages per throughput repetition (default 20000;\n"
    "                  WEFT_BENCH_MSGS)\n"
    "  --ops N         uncontended lock operations per repetition; a quarter per\n"
    "                  locker when contended (default 2000000; WEFT_BENCH_OPS)\n"
    "  --families A,B  only the families whose names contain A or B (conn.roundtrip,\n"
    "                  plock, ...)\n"
    "  --verbose       every turn's figures on stderr\n"
    "  --no-pin        leave the processes to the scheduler (default: the parent or\n"
    "                  first locker on the first usable CPU, the other on the second)\n" BENCH_REGIME_USAGE
    "  --smoke         one repetition of short runs (seconds)\n"
    "  --help          this text\n";

int main(int argc, char **argv)
{
    settings s = {.reps = 5, .slices = 5, .trips = 2000, .mib = 128, .msgs = 20000, .ops = 2000000,
                  .pin = HAVE_AFFINITY};
    const bench_option options[] = {
        BENCH_OPT_INT("--reps", "WEFT_BENCH_REPS", &s.reps, 1, MAX_REPS, 1),
        BENCH_OPT_REGIME,
        BENCH_OPT_INT("--slices", "WEFT_BENCH_SLICES", &s.slices, 1, MAX_SLICES, 1),
        BENCH_OPT_LLONG("--trips", "WEFT_BENCH_TRIPS", &s.trips, 1, 1000000000LL, 200),
        BENCH_OPT_LLONG("--mib", "WEFT_BENCH_MIB", &s.mib, 1, 1000000LL, 8),
        BENCH_OPT_LLONG("--msgs", "WEFT_BENCH_MSGS", &s.msgs, 1, 1000000000LL, 2000),
        BENCH_OPT_LLONG("--ops", "WEFT_BENCH_OPS", &s.ops, 1, 1000000000000LL, 40000),
        BENCH_OPT_FLAG("--no-pin", &s.pin, false),
        BENCH_OPT_TEXT("--families", NULL, &s.families),
        BENCH_OPT_FLAG("--verbose", &s.verbose, true),
    };
    settings part;
    bool active[NFAM];
    int nactive = 0;
    int64_t started;

    if (weft_process_register(TARGET, weft_child) != WEFT_OK ||
        weft_process_register(TARGET_PQUEUE, pqueue_child) != WEFT_OK)
        die("weft_process_register failed");
    weft_process_main(argc, argv);
    bench_parse_options(options, BENCH_NOPTS(options), usage, argc, argv);
    pin = s.pin;
    find_cpus();
    for (int f = 0; f < (int)NFAM; f++)
        nactive += active[f] = bench_selected(families[f].name, s.families, false);
    if (nactive == 0)
        die("--families: no family matches \"%s\"", s.families);
    /* What each competitor does in one turn. */
    part = s;
    part.trips = s.trips / s.slices + 1;
    part.mib = s.mib / s.slices + 1;
    part.msgs = s.msgs / s.slices + 1;
    part.ops = s.ops / s.slices + 1;

    printf("weft bench_ipc: weft_conn against a raw socketpair and pipe, weft_plock against "
           "process-shared pthread mutexes, weft_pqueue\n");
    print_command(argc, argv, options, BENCH_NOPTS(options));
    printf("settings: %d repetition%s of %d turn%s; %lld round trips per repetition (%lld at 64 KiB); %lld MiB in "
           "1 MiB messages, %lld 64-byte messages per throughput repetition; %lld uncontended lock "
           "ops, 2 x %lld contended\n",
           s.reps, s.reps == 1 ? "" : "s", s.slices, s.slices == 1 ? "" : "s", s.trips, s.trips / 4, s.mib, s.msgs, s.ops,
           s.ops / 4 + 1);
    print_build();
    printf("machine:  %d CPUs usable; processes %s\n", weft_cpu_count(),
           pin ? "pinned: parent (first locker) to the first usable CPU, child (second) to the second"
               : "not pinned (left to the scheduler)");
    bench_regime(pin);
    printf("order:    family by family; in each turn every competitor once, the first one "
           "rotating; a repetition's value is the median of its turns; children are fork "
           "children (weft: weft_process_start, WEFT_START_FORK, the end passed)\n");
    fflush(stdout);
    started = weft_monotonic_ns();

    pin_self(0);
    shared_init();
    /* One untimed round: page faults, weft's first-use setup. */
    for (int f = 0; f < (int)NFAM; f++)
        for (int c = 0; c < families[f].ncomp && active[f]; c++) {
            settings warm = {.trips = 20, .mib = 2, .msgs = 100, .ops = 1000};
            (void)families[f].run(&families[f], c, &warm);
        }
    for (int r = 0; r < s.reps; r++) {
        for (int f = 0; f < (int)NFAM; f++) {
            const family *fam = &families[f];
            double turn_value[MAXCOMP][MAX_SLICES], turn_cpu[MAXCOMP][MAX_SLICES];

            for (int t = 0; t < s.slices && active[f]; t++) {
                for (int i = 0; i < fam->ncomp; i++) {
                    int c = (r + t + i) % fam->ncomp;
                    sample got = fam->run(fam, c, &part);

                    turn_value[c][t] = got.value;
                    turn_cpu[c][t] = got.cpu;
                    if (s.verbose)
                        fprintf(stderr, "rep %d turn %d  %-22s %-30s %10.3f %s  %10.3f %s\n",
                                r + 1, t + 1, fam->name, fam->names[c], got.value, fam->unit,
                                got.cpu, fam->cpu_unit ? fam->cpu_unit : fam->unit);
                }
            }
            for (int c = 0; c < fam->ncomp && active[f]; c++) {
                value[f][c][r] = median(turn_value[c], s.slices);
                cpu[f][c][r] = median(turn_cpu[c], s.slices);
            }
        }
        if (isatty(STDERR_FILENO) && !s.verbose)
            fprintf(stderr, "\rrepetition %d/%d done", r + 1, s.reps);
    }
    if (isatty(STDERR_FILENO) && !s.verbose)
        fprintf(stderr, "\r%30s\r", "");

    printf("\nEach family: median, min and max over the repetitions; ratio = median / the "
           "baseline's median; paired = median (min-max) of the per-repetition ratios; last "
           "column, where there is one, the median CPU time of both processes per operation\n");
    for (int f = 0; f < (int)NFAM; f++)
        if (active[f])
            print_family(f, s.reps);

    printf("\nTargets (issue 16): \"met\" needs the paired median and the ratio of medians both "
           "within the bound\n");
    for (int f = 0; f < (int)NFAM; f++) {
        if (!active[f])
            continue;
        if (families[f].names == conn_names) {
            print_target(f, C_WEFT, C_PIPE, 0.9, true, s.reps);
            print_target(f, C_WEFT_ONEWAY, C_PIPE, 0.9, true, s.reps);
            continue;
        }
        if (families[f].names == pq_names)
            continue; /* its target is against Python: below */
        for (int k = L_PSHARED; k < NLOCK; k++)
            print_target(f, L_WEFT, k, 1.1, false, s.reps);
    }
    printf("  against Python's multiprocessing.Pipe (target >= 10x) and multiprocessing.Queue "
           "(pqueue, target >= 20x): bench/python_ref.py, in bench/RESULTS.md\n\n");
    print_results(active, s.reps);
    printf("\ntotal time: %.1f s\n", (double)(weft_monotonic_ns() - started) / 1e9);
    weft_plock_close(plock);
    return 0;
}

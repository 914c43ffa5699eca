/* SPDX-License-Identifier: MIT */
/*
 * Connections (multiprocessing.Pipe): framed messages over the backend's
 * byte stream (sys/conn.h). A frame is a header, a magic number and the
 * length, in native byte order (both ends are on one machine), then the
 * bytes. Each end has a lock for its senders and one for its receivers, so
 * that the frames of two threads never interleave; the timeout bounds the
 * wait for that lock and for the stream to start moving, never a frame
 * half sent or half read. A receive reads ahead: what it needs of a
 * frame, up to a few hundred bytes, comes in one read that asks for that
 * many, so a small message costs one read and a run of them fewer than
 * one each (a raw pipe read header then body costs two).
 */
#include "ipc.h"

#include <stdint.h>
#include <string.h>

enum { FRAME_MAGIC = 0x636e7777u /* "wwnc" */ };

typedef struct frame_header {
    uint32_t magic;
    uint32_t zero; /* room for flags; sent as 0 */
    uint64_t len;
} frame_header;

enum { CAN_RECV = 1, CAN_SEND = 2, BOTH_WAYS = CAN_RECV | CAN_SEND };

/* The most bytes read ahead: what is left over after a frame goes to a
 * child with the end, after the ways byte of its description. */
enum { AHEAD_MAX = WEFT__IPC_DESC_MAX - 1 };

struct weft_conn {
    weft__ipc_head head; /* first: weft__ipc_export tells the kind by it */
    weft_sys_conn sys;
    uint32_t ways; /* CAN_RECV | CAN_SEND; 0: the parent's, in a forked child */
    weft_lock send_lock, recv_lock;
    bool corrupt; /* under recv_lock: bytes that were not a frame came */
    /* Under recv_lock: ahead[ahead_off, ahead_len) was read from the
     * stream and not yet received. */
    size_t ahead_off, ahead_len;
    unsigned char ahead[AHEAD_MAX];
    weft_conn *prev, *next; /* in open_conns */
};

/* Every open end of this process, so that a forked child can let go of
 * the ends it was not given (weft__conn_drop_inherited). */
static weft_lock open_conns_lock;
static weft_conn *open_conns;

void weft__conn_at_fork(weft__fork_step step)
{
    weft__lock_at_fork(&open_conns_lock, step);
}

static weft_conn *conn_new(uint32_t ways)
{
    weft_conn *c = weft__calloc(1, sizeof *c);

    if (c) {
        c->head.kind = WEFT__IPC_CONN;
        c->ways = ways;
        c->sys.file = WEFT__NO_FILE;
        WEFT__HANDLE_BORN(c, "conn");
        weft__lock(&open_conns_lock);
        c->next = open_conns;
        if (open_conns)
            open_conns->prev = c;
        open_conns = c;
        weft__unlock(&open_conns_lock);
    }
    return c;
}

static void conn_free(weft_conn *c)
{
    if (!c)
        return;
    weft__lock(&open_conns_lock);
    if (c->prev)
        c->prev->next = c->next;
    else
        open_conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    weft__unlock(&open_conns_lock);
    c->head.kind = 0; /* a stale pointer passed later is refused, in the common case */
    WEFT__HANDLE_GONE(c);
    weft__free(c);
}

void weft__conn_drop_inherited(void)
{
    weft_conn *c;

    /* Only the forking thread runs in the child: no lock is needed, and
     * the fork handlers left the open_conns whole. */
    for (c = open_conns; c; c = c->next) {
        if (c->sys.file != WEFT__NO_FILE)
            weft_sys_conn_close(&c->sys);
        c->ways = 0;
    }
}

int weft_pipe(weft_conn **a, weft_conn **b, bool duplex)
{
    weft_conn *ea, *eb;
    int rc;

    if (!a || !b)
        return weft__fail(WEFT_EINVAL, "pipe: NULL %s", !a ? "a" : "b");
    ea = conn_new(duplex ? BOTH_WAYS : CAN_RECV);
    eb = conn_new(duplex ? BOTH_WAYS : CAN_SEND);
    rc = ea && eb ? weft_sys_conn_pair(&ea->sys, &eb->sys, duplex) : WEFT_ENOMEM;
    if (rc != WEFT_OK) {
        conn_free(ea);
        conn_free(eb);
        return rc;
    }
    *a = ea;
    *b = eb;
    return WEFT_OK;
}

/* The prologue of send, recv and poll: the arguments, the deadline, and
 * whether this end goes the way asked (`way`). */
static int conn_begin(const weft_conn *c, uint32_t way, const char *call, double timeout,
                 int64_t *deadline)
{
    int rc = weft__begin_wait_in(call, c, timeout, deadline);

    if (rc != WEFT_OK)
        return rc;
    if (WEFT__HANDLE_DEAD_IN(call, c, "conn"))
        return WEFT_EINVAL;
    if (c->ways == 0)
        return weft__fail(WEFT_EPERM, "%s: this end is the parent's: a forked child has only "
                                      "the ends passed to it (weft_process_passed)", call);
    if ((c->ways & way) == 0)
        return weft__fail(WEFT_EPERM, "%s: this end of a one-way pipe only %s", call,
                          way == CAN_SEND ? "receives" : "sends");
    return WEFT_OK;
}

int weft_conn_send(weft_conn *conn, const void *msg, size_t len, double timeout)
{
    frame_header h = {FRAME_MAGIC, 0, len};
    int64_t deadline;
    int rc;

    if (!msg && len > 0)
        return weft__fail(WEFT_EINVAL, "conn_send: NULL msg with len %zu", len);
    rc = conn_begin(conn, CAN_SEND, "conn_send", timeout, &deadline);
    if (rc == WEFT_OK)
        rc = weft__lock_until(&conn->send_lock, deadline);
    if (rc != WEFT_OK)
        return rc;
    rc = weft_sys_conn_write(&conn->sys, &h, sizeof h, msg, len, deadline);
    weft__unlock(&conn->send_lock);
    if (rc == WEFT_ESHUTDOWN)
        return weft__fail(WEFT_EOF, "conn_send: the other end is closed");
    return rc;
}

/* How long a read that would wait asks again before it sleeps. Waking a
 * reader that sleeps costs a system call and a wake-up across CPUs (30 to
 * 40 us on the 2-CPU VMs of bench/) where the other process often answers
 * within a few (an 8-byte echo: about 4 us), and a writer pays less to
 * send to a reader that is not asleep; the thread's spin score
 * (sync/spin.c) stops the asking where it does not pay. */
enum { READ_SPIN_NS = 10000 };

/* Read up to len (> 0) bytes from the OS as weft_sys_conn_read does,
 * asking without waiting for up to READ_SPIN_NS (not past the deadline)
 * before it waits. Bytes there at the first ask say nothing of the spin:
 * only those that came while it asked again count for the score, so that
 * where the writer cannot run meanwhile (both processes on one CPU) the
 * score runs out. */
static int conn_read(weft_conn *c, void *buf, size_t len, size_t *got, int64_t deadline)
{
    int rc = weft_sys_conn_try_read(&c->sys, buf, len, got);

    if (rc != WEFT_EAGAIN)
        return rc;
    if (weft__spin_begin(WEFT__SPIN_READ)) {
        int64_t until = weft_sys_monotonic_ns() + READ_SPIN_NS;

        if (deadline != WEFT__NO_DEADLINE && deadline < until)
            until = deadline;
        while (weft_sys_monotonic_ns() < until) {
            rc = weft_sys_conn_try_read(&c->sys, buf, len, got);
            if (rc != WEFT_EAGAIN) {
                weft__spin_end(WEFT__SPIN_READ, true);
                return rc;
            }
        }
        weft__spin_end(WEFT__SPIN_READ, false);
    }
    return weft_sys_conn_read(&c->sys, buf, len, got, deadline);
}

/* Take up to len (> 0) bytes of the stream into buf: those read ahead
 * first, then from the OS, a remainder smaller than the read-ahead buffer
 * through it (the read may bring the next frames too), a larger one
 * straight into buf. Only the first byte waits until `deadline`. *taken
 * is len, or less at the end of the stream (WEFT_OK) or on an error. */
static int stream_take(weft_conn *c, void *buf, size_t len, size_t *taken, int64_t deadline)
{
    char *p = buf;
    int rc = WEFT_OK;

    *taken = 0;
    while (len > 0) {
        size_t n = c->ahead_len - c->ahead_off;

        if (n > 0) {
            n = n < len ? n : len;
            memcpy(p, c->ahead + c->ahead_off, n);
            c->ahead_off += n;
        } else if (len < AHEAD_MAX) {
            rc = conn_read(c, c->ahead, AHEAD_MAX, &n, deadline);
            if (rc != WEFT_OK || n == 0)
                break;
            c->ahead_off = 0;
            c->ahead_len = n;
            continue;
        } else {
            rc = conn_read(c, p, len, &n, deadline);
            if (rc != WEFT_OK || n == 0)
                break;
        }
        p += n;
        len -= n;
        *taken += n;
        deadline = WEFT__NO_DEADLINE;
    }
    return rc;
}

/* Read exactly len bytes of a frame whose first byte has come: WEFT_OK,
 * WEFT_EOF when the sender went away in the middle, or WEFT_EOS. */
static int read_frame_rest(weft_conn *c, void *buf, size_t len)
{
    size_t got;
    int rc = stream_take(c, buf, len, &got, WEFT__NO_DEADLINE);

    if (rc == WEFT_OK && got < len)
        return weft__fail(WEFT_EOF, "conn_recv: the other end closed in the middle of a "
                                    "message");
    return rc;
}

/* Read the header: the first byte by the deadline, the rest as it comes. */
static int read_frame_header(weft_conn *c, frame_header *h, int64_t deadline)
{
    size_t got;
    /* One byte asked for: the read behind it brings what came, up to the
     * read-ahead buffer, so the rest of the header costs no other read. */
    int rc = stream_take(c, h, 1, &got, deadline);

    if (rc != WEFT_OK)
        return rc;
    if (got == 0)
        return weft__fail(WEFT_EOF, "conn_recv: the other end is closed");
    return read_frame_rest(c, (char *)h + 1, sizeof *h - 1);
}

/* A message too large to hold: read its bytes and drop them, so the next
 * message can be received. */
static int drop_message(weft_conn *c, uint64_t len)
{
    char sink[4096];
    int rc = WEFT_OK;

    while (len > 0 && rc == WEFT_OK) {
        size_t n = len < sizeof sink ? (size_t)len : sizeof sink;

        rc = read_frame_rest(c, sink, n);
        len -= n;
    }
    return rc;
}

static int receive_frame(weft_conn *c, void **msg, size_t *len, int64_t deadline)
{
    frame_header h;
    char *buf;
    int rc;

    if (c->corrupt)
        return weft__fail(WEFT_EINVAL, "conn_recv: the connection carried bytes that were not "
                                       "a message before");
    rc = read_frame_header(c, &h, deadline);
    if (rc != WEFT_OK)
        return rc;
    if (h.magic != FRAME_MAGIC || h.zero != 0) {
        c->corrupt = true;
        return weft__fail(WEFT_EINVAL, "conn_recv: bytes that are not a message (header "
                                       "0x%08lx): something other than weft_conn_send wrote "
                                       "into the connection",
                          (unsigned long)h.magic);
    }
    /* One more for the NUL; a length no object here can have is refused
     * before any allocation is tried. */
    buf = h.len < (uint64_t)PTRDIFF_MAX ? weft__malloc((size_t)h.len + 1) : NULL;
    if (!buf) {
        rc = drop_message(c, h.len);
        if (rc != WEFT_OK)
            return rc;
        return weft__fail(WEFT_ENOMEM, "conn_recv: no memory for a message of %llu bytes (it "
                                       "was dropped)",
                          (unsigned long long)h.len);
    }
    rc = read_frame_rest(c, buf, (size_t)h.len);
    if (rc != WEFT_OK) {
        weft__free(buf);
        return rc;
    }
    buf[h.len] = '\0';
    *msg = buf;
    *len = (size_t)h.len;
    return WEFT_OK;
}

int weft_conn_recv(weft_conn *conn, void **msg, size_t *len, double timeout)
{
    int64_t deadline;
    int rc;

    if (!msg || !len)
        return weft__fail(WEFT_EINVAL, "conn_recv: NULL %s", !msg ? "msg" : "len");
    *msg = NULL;
    *len = 0;
    rc = conn_begin(conn, CAN_RECV, "conn_recv", timeout, &deadline);
    if (rc == WEFT_OK)
        rc = weft__lock_until(&conn->recv_lock, deadline);
    if (rc != WEFT_OK)
        return rc;
    rc = receive_frame(conn, msg, len, deadline);
    weft__unlock(&conn->recv_lock);
    return rc;
}

int weft_conn_poll(weft_conn *conn, double timeout)
{
    int64_t deadline;
    int rc = conn_begin(conn, CAN_RECV, "conn_poll", timeout, &deadline);

    /* With the receivers' lock: a receive under way means a receive now
     * would wait; and the backend's wait is a read of its own (Windows). */
    if (rc == WEFT_OK)
        rc = weft__lock_until(&conn->recv_lock, deadline);
    if (rc != WEFT_OK)
        return rc;
    rc = conn->corrupt || conn->ahead_off < conn->ahead_len
             ? WEFT_OK
             : weft_sys_conn_wait(&conn->sys, deadline);
    weft__unlock(&conn->recv_lock);
    return rc;
}

void weft_conn_close(weft_conn *conn)
{
    if (conn && !WEFT__HANDLE_DEAD(conn, "conn")) {
        if (conn->sys.file != WEFT__NO_FILE) /* else dropped in a forked child */
            weft_sys_conn_close(&conn->sys);
        conn_free(conn);
    }
}

/* ---- Handing an end to a child --------------------------------------------------- */

int weft__conn_export(const weft_conn *conn, weft__ipc_handoff *out)
{
    /* The receivers' lock guards what was read ahead: taken (hence the
     * cast of the const) only if free, since a receive may hold it as long
     * as it waits, or a thread that is not in this forked child may. */
    weft_lock *recv_lock = (weft_lock *)&conn->recv_lock;
    size_t ahead = 0;

    if (conn->ways == 0)
        return weft__fail(WEFT_EINVAL, "a connection end this forked child "
                                       "was not given cannot be passed on");
    out->files[0] = conn->sys.file;
    out->nfiles = 1;
    out->desc[0] = (unsigned char)conn->ways;
    /* Bytes this end read ahead are the child's to receive first: the
     * stream it inherits goes on after them. With a receive under way they
     * are that receive's. */
    if (weft__lock_until(recv_lock, 0) == WEFT_OK) {
        ahead = conn->ahead_len - conn->ahead_off;
        memcpy(out->desc + 1, conn->ahead + conn->ahead_off, ahead);
        weft__unlock(recv_lock);
    }
    out->desc_len = 1 + ahead;
    return WEFT_OK;
}

int weft__conn_import(const weft__ipc_handoff *in, void **out)
{
    weft_conn *c;
    int rc;

    if (in->nfiles != 1 || in->desc_len < 1 || in->desc_len > 1 + AHEAD_MAX ||
        in->desc[0] == 0 || in->desc[0] > BOTH_WAYS)
        return weft__fail(WEFT_EINVAL, "process_passed: a connection's description is not "
                                       "one this weft knows");
    c = conn_new(in->desc[0]);
    if (!c)
        return weft__fail(WEFT_ENOMEM, "process_passed: no memory for a connection");
    rc = weft_sys_conn_open(&c->sys, in->files[0]);
    if (rc != WEFT_OK) {
        conn_free(c);
        return rc;
    }
    c->ahead_len = in->desc_len - 1;
    memcpy(c->ahead, in->desc + 1, c->ahead_len);
    *out = c;
    return WEFT_OK;
}

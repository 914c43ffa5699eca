/* SPDX-License-Identifier: MIT */
/*
 * Connections on POSIX: both kinds are a pair of AF_UNIX stream sockets (a
 * one-way pipe shuts each end's other direction), so every write can ask
 * for no SIGPIPE itself (MSG_NOSIGNAL, or SO_NOSIGPIPE where that flag is
 * missing) instead of blocking the signal around it as weft_sys_write
 * must. The files stay blocking: the descriptions are shared with the
 * children they are handed to, and O_NONBLOCK would change them for every
 * holder. A deadline is a poll() before the first byte only.
 */
#define _GNU_SOURCE /* SOCK_CLOEXEC */
#include "posix.h"
#include "../sys/conn.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#if defined(MSG_NOSIGNAL)
#define SEND_FLAGS MSG_NOSIGNAL
#else
#define SEND_FLAGS 0
#endif

/* Where MSG_NOSIGNAL is missing (older macOS), the socket itself is told
 * never to raise SIGPIPE; the option travels with it to a child. */
static int socket_no_sigpipe(int fd)
{
#if !defined(MSG_NOSIGNAL) && defined(SO_NOSIGPIPE)
    int one = 1;

    if (setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one) != 0)
        return weft__posix_status(errno, "setsockopt SO_NOSIGPIPE");
#else
    (void)fd;
#endif
    return WEFT_OK;
}

static int conn_cloexec(int fd)
{
    if (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0)
        return weft__posix_status(errno, "fcntl FD_CLOEXEC");
    return WEFT_OK;
}

static void conn_end_of(weft_sys_conn *c, int fd)
{
    c->file = fd;
    c->read_event = c->write_event = -1;
}

int weft_sys_conn_pair(weft_sys_conn *a, weft_sys_conn *b, bool duplex)
{
    int fds[2], rc = WEFT_OK;

#if defined(SOCK_CLOEXEC)
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
        return weft__posix_status(errno, "socketpair");
#else
    /* As weft_sys_pipe without pipe2: only another library's fork+exec on
     * another thread can catch these before they are close-on-exec. */
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
        return weft__posix_status(errno, "socketpair");
    rc = conn_cloexec(fds[0]);
    if (rc == WEFT_OK)
        rc = conn_cloexec(fds[1]);
#endif
    if (rc == WEFT_OK)
        rc = socket_no_sigpipe(fds[0]);
    if (rc == WEFT_OK)
        rc = socket_no_sigpipe(fds[1]);
    /* One way: fds[0] only reads, fds[1] only writes; the kernel then
     * refuses the other direction too, whoever holds the descriptor. */
    if (rc == WEFT_OK && !duplex &&
        (shutdown(fds[0], SHUT_WR) != 0 || shutdown(fds[1], SHUT_RD) != 0))
        rc = weft__posix_status(errno, "shutdown");
    if (rc != WEFT_OK) {
        close(fds[0]);
        close(fds[1]);
        return rc;
    }
    conn_end_of(a, fds[0]);
    conn_end_of(b, fds[1]);
    return WEFT_OK;
}

int weft_sys_conn_open(weft_sys_conn *out, weft_sys_file file)
{
    /* An inherited descriptor is not close-on-exec (dup2 cleared it): a
     * program this child starts by other means must not get it. */
    int rc = conn_cloexec((int)file);

    if (rc == WEFT_OK)
        conn_end_of(out, (int)file);
    return rc;
}

/* Wait for `events` on fd until the deadline: WEFT_OK (ready, or the
 * other end is gone: the read or write that follows says so), WEFT_ETIMEDOUT
 * or WEFT_EOS. */
static int conn_wait_for(int fd, short events, int64_t deadline)
{
    struct pollfd p;
    int ms = -1, n;

    for (;;) {
        if (deadline != WEFT__NO_DEADLINE) {
            int64_t left = deadline - weft_sys_monotonic_ns();

            if (left < 0)
                left = 0;
            /* Rounded up, so a wait never ends before its deadline. */
            ms = left / 1000000 >= INT_MAX ? INT_MAX : (int)((left + 999999) / 1000000);
        }
        p.fd = fd;
        p.events = events;
        p.revents = 0;
        n = poll(&p, 1, ms);
        if (n > 0)
            return (p.revents & POLLNVAL) != 0 ? weft__posix_status(EBADF, "poll") : WEFT_OK;
        if (n == 0 && weft_sys_monotonic_ns() >= deadline)
            return WEFT_ETIMEDOUT;
        if (n < 0 && errno != EINTR)
            return weft__posix_status(errno, "poll");
    }
}

/* recv() with `flags`: MSG_DONTWAIT (for this call alone: the description
 * stays blocking for every holder) makes a read that would wait WEFT_EAGAIN. */
static int conn_recv(weft_sys_conn *c, void *buf, size_t len, size_t *got, int flags)
{
    ssize_t n;

    do
        n = recv((int)c->file, buf, len > SSIZE_MAX ? SSIZE_MAX : len, flags);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        /* The peer closed with bytes of ours unread: it is gone all the same. */
        if (errno == ECONNRESET) {
            *got = 0;
            return WEFT_OK;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return WEFT_EAGAIN;
        return weft__posix_status(errno, "recv");
    }
    *got = (size_t)n;
    return WEFT_OK;
}

int weft_sys_conn_read(weft_sys_conn *c, void *buf, size_t len, size_t *got, int64_t deadline)
{
    /* Without a deadline the blocking recv itself waits. */
    int rc = deadline == WEFT__NO_DEADLINE ? WEFT_OK : conn_wait_for((int)c->file, POLLIN, deadline);

    return rc == WEFT_OK ? conn_recv(c, buf, len, got, 0) : rc;
}

int weft_sys_conn_try_read(weft_sys_conn *c, void *buf, size_t len, size_t *got)
{
    return conn_recv(c, buf, len, got, MSG_DONTWAIT);
}

enum { SMALL_SEND = 256 };

int weft_sys_conn_write(weft_sys_conn *c, const void *head, size_t head_len, const void *body,
                        size_t body_len, int64_t deadline)
{
    char one[SMALL_SEND]; /* a small message, whole */
    struct iovec iov[2];
    struct msghdr msg = {0};
    int rc = deadline == WEFT__NO_DEADLINE ? WEFT_OK : conn_wait_for((int)c->file, POLLOUT, deadline);

    if (rc != WEFT_OK)
        return rc;
    iov[0].iov_base = (void *)head;
    iov[0].iov_len = head_len;
    iov[1].iov_base = (void *)body;
    iov[1].iov_len = body_len;
    msg.msg_iov = iov;
    msg.msg_iovlen = 2;
    if (head_len + body_len <= SMALL_SEND) {
        /* A small message goes whole from one buffer, by send(): the
         * kernel then copies in no msghdr and iovecs, which took 140 of
         * the 1090 ns a 64-byte message cost the writer (bench_ipc
         * conn.throughput.64, unpinned, quiet). */
        memcpy(one, head, head_len);
        if (body_len > 0)
            memcpy(one + head_len, body, body_len);
        iov[0].iov_base = one;
        iov[0].iov_len = head_len + body_len;
        msg.msg_iovlen = 1;
    }
    while (msg.msg_iovlen > 0) {
        const struct iovec *v = msg.msg_iov;
        ssize_t n = msg.msg_iovlen == 1 ? send((int)c->file, v->iov_base, v->iov_len, SEND_FLAGS)
                                        : sendmsg((int)c->file, &msg, SEND_FLAGS);
        size_t left;

        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EPIPE || errno == ECONNRESET)
                return WEFT_ESHUTDOWN;
            return weft__posix_status(errno, "send");
        }
        /* Step past what went: whole pieces, then into the next one. */
        for (left = (size_t)n; msg.msg_iovlen > 0 && left >= msg.msg_iov[0].iov_len;) {
            left -= msg.msg_iov[0].iov_len;
            msg.msg_iov++;
            msg.msg_iovlen--;
        }
        if (msg.msg_iovlen > 0) {
            msg.msg_iov[0].iov_base = (char *)msg.msg_iov[0].iov_base + left;
            msg.msg_iov[0].iov_len -= left;
        }
    }
    return WEFT_OK;
}

int weft_sys_conn_wait(weft_sys_conn *c, int64_t deadline)
{
    return conn_wait_for((int)c->file, POLLIN, deadline);
}

void weft_sys_conn_close(weft_sys_conn *c)
{
    close((int)c->file);
    c->file = WEFT__NO_FILE;
}

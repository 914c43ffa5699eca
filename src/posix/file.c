/* SPDX-License-Identifier: MIT */
/*
 * Files and pipes on POSIX: descriptors, each close-on-exec from its birth
 * so that a child started on another thread never inherits one by chance,
 * and writes that report a closed reader as a status instead of letting
 * SIGPIPE kill the process.
 */
#define _GNU_SOURCE /* pipe2 */
#include "posix.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

int weft_sys_pipe(weft_sys_file *read_end, weft_sys_file *write_end)
{
    int fds[2];

#if defined(WEFT_HAVE_PIPE2)
    if (pipe2(fds, O_CLOEXEC) != 0)
        return weft__posix_status(errno, "pipe2");
#else
    /* No pipe2 (macOS): a fork+exec on another thread between pipe() and
     * fcntl() inherits these ends. weft's own spawns close every descriptor
     * they do not pass, so only other code's fork+exec can catch them. */
    if (pipe(fds) != 0)
        return weft__posix_status(errno, "pipe");
    if (fcntl(fds[0], F_SETFD, FD_CLOEXEC) != 0 || fcntl(fds[1], F_SETFD, FD_CLOEXEC) != 0) {
        int err = errno;

        close(fds[0]);
        close(fds[1]);
        return weft__posix_status(err, "fcntl FD_CLOEXEC");
    }
#endif
    *read_end = fds[0];
    *write_end = fds[1];
    return WEFT_OK;
}

int weft_sys_open_null(weft_sys_file *out)
{
    int fd;

    fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return weft__posix_status(errno, "open /dev/null");
    *out = fd;
    return WEFT_OK;
}

weft_sys_file weft_sys_stdio(int which)
{
    return which;
}

int weft_sys_read(weft_sys_file f, void *buf, size_t len, size_t *got)
{
    ssize_t n;

    do
        n = read((int)f, buf, len > SSIZE_MAX ? SSIZE_MAX : len);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return weft__posix_status(errno, "read");
    *got = (size_t)n;
    return WEFT_OK;
}

/* Take back the SIGPIPE a failed write made pending for the calling
 * thread, which has it blocked, so it is never delivered once the mask is
 * restored. */
static void consume_sigpipe(const sigset_t *pipe_set)
{
#if defined(WEFT_HAVE_SIGTIMEDWAIT)
    static const struct timespec no_wait = {0, 0};

    while (sigtimedwait(pipe_set, NULL, &no_wait) < 0 && errno == EINTR) {
    }
#else
    int sig;

    /* Known pending, so this returns at once. */
    sigwait(pipe_set, &sig);
#endif
}

int weft_sys_write(weft_sys_file f, const void *buf, size_t len)
{
    const char *p = buf;
    sigset_t pipe_set, old_mask, pending;
    bool was_pending;
    int err = 0;

    /* Blocking SIGPIPE for this thread alone keeps the application's own
     * disposition for it intact, and a write to a closed pipe still makes
     * it pending; it is taken back below unless it was pending already (a
     * blocked signal is pending at most once, so that one is not ours). */
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old_mask);
    sigpending(&pending);
    was_pending = sigismember(&pending, SIGPIPE) == 1;

    while (len > 0) {
        ssize_t n = write((int)f, p, len > SSIZE_MAX ? SSIZE_MAX : len);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            err = errno;
            break;
        }
        p += n;
        len -= (size_t)n;
    }

    if (err == EPIPE && !was_pending)
        consume_sigpipe(&pipe_set);
    pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
    if (err == EPIPE)
        return WEFT_ESHUTDOWN;
    return weft__posix_status(err, "write");
}

int weft_sys_file_dup(weft_sys_file f, weft_sys_file *out)
{
    int fd = fcntl((int)f, F_DUPFD_CLOEXEC, 0);

    if (fd < 0)
        return weft__posix_status(errno, "fcntl F_DUPFD_CLOEXEC");
    *out = fd;
    return WEFT_OK;
}

void weft_sys_close(weft_sys_file f)
{
    /* Never retried on EINTR: Linux and most systems free the descriptor
     * even then, and a retry could close one another thread just opened. */
    close((int)f);
}

/* ---- A child's standard stream, with timeouts on the parent's end ----------- */

int weft_sys_pipe_for_child(weft_sys_file *read_end, weft_sys_file *write_end, bool parent_reads)
{
    (void)parent_reads; /* poll() waits on any pipe end */
    return weft_sys_pipe(read_end, write_end);
}

/* Wait by the deadline until poll() reports one of `events` on f, or the
 * error or hang-up that the read or write after it will report. */
static int poll_until(weft_sys_file f, short events, int64_t deadline)
{
    struct pollfd p = {.fd = (int)f, .events = events};

    for (;;) {
        int ms = 0, n;
        int64_t left = deadline - weft_sys_monotonic_ns();

        /* Rounded up, so the wait never ends before the deadline. */
        if (left > 0)
            ms = left / 1000000 >= INT_MAX ? INT_MAX
                                           : (int)(left / 1000000 + (left % 1000000 != 0));
        n = poll(&p, 1, ms);
        if (n > 0)
            return p.revents & POLLNVAL ? weft__posix_status(EBADF, "poll") : WEFT_OK;
        if (n == 0 && ms == 0)
            return WEFT_ETIMEDOUT;
        if (n < 0 && errno != EINTR)
            return weft__posix_status(errno, "poll");
    }
}

int weft_sys_read_until(weft_sys_file f, void *buf, size_t len, size_t *got, int64_t deadline)
{
    int rc = deadline == WEFT__NO_DEADLINE ? WEFT_OK : poll_until(f, POLLIN, deadline);

    /* Readable (or at its end): the read returns at once, since no one
     * else reads this end. */
    return rc == WEFT_OK ? weft_sys_read(f, buf, len, got) : rc;
}

int weft_sys_write_until(weft_sys_file f, const void *buf, size_t len, int64_t deadline)
{
    int rc = deadline == WEFT__NO_DEADLINE ? WEFT_OK : poll_until(f, POLLOUT, deadline);

    /* Writable means room for PIPE_BUF bytes at least, so the blocking
     * write starts at once, and it finishes however long that takes. */
    return rc == WEFT_OK ? weft_sys_write(f, buf, len) : rc;
}

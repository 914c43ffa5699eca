/* SPDX-License-Identifier: MIT */
/* weft_conn: multiprocessing.Pipe. Messages of every size between threads
 * and between processes, timeouts, the end of the other side, one-way ends,
 * senders that never interleave, and ends handed to children of both start
 * methods (the fork cases are skipped on Windows). */
#ifndef _WIN32
#define _POSIX_C_SOURCE 200809L /* S_ISSOCK */
#endif
#include "runner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _WIN32
#include <windows.h>
#else
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

/* ---- Helpers ------------------------------------------------------------------ */

static void pair(weft_conn **a, weft_conn **b, bool duplex)
{
    *a = *b = NULL;
    CHECK_OK(weft_pipe(a, b, duplex));
    CHECK(*a != NULL && *b != NULL);
}

/* Receive one message (within weft_test_long()) and check it is `want`. */
static void expect(weft_conn *c, const void *want, size_t len)
{
    void *msg = NULL;
    size_t got = 99;

    CHECK_OK(weft_conn_recv(c, &msg, &got, weft_test_long()));
    CHECK(msg != NULL);
    CHECK_EQ_UINT(got, len);
    CHECK(len == 0 || memcmp(msg, want, len) == 0);
    CHECK_EQ_INT(((char *)msg)[len], '\0');
    weft_free(msg);
}

/* A patterned buffer of `len` bytes (weft_test_pattern), from malloc. */
static unsigned char *patterned(size_t len)
{
    unsigned char *p = malloc(len ? len : 1);
    size_t i;

    CHECK(p != NULL);
    for (i = 0; i < len; i++)
        p[i] = weft_test_pattern(i);
    return p;
}

/* ---- Between threads -------------------------------------------------------------- */

WEFT_TEST(conn_small_messages_both_ways)
{
    weft_conn *a, *b;

    pair(&a, &b, true);
    CHECK_OK(weft_conn_send(a, "hello", 5, WEFT_FOREVER));
    CHECK_OK(weft_conn_send(a, "world!", 6, 0));
    expect(b, "hello", 5);
    expect(b, "world!", 6);
    CHECK_OK(weft_conn_send(b, "back", 4, 1.0));
    expect(a, "back", 4);
    weft_conn_close(a);
    weft_conn_close(b);
}

WEFT_TEST(conn_empty_message_is_a_message)
{
    weft_conn *a, *b;

    pair(&a, &b, false);
    CHECK_OK(weft_conn_send(b, NULL, 0, WEFT_FOREVER));
    CHECK_OK(weft_conn_send(b, "x", 1, WEFT_FOREVER));
    CHECK_OK(weft_conn_send(b, "", 0, WEFT_FOREVER));
    expect(a, NULL, 0);
    expect(a, "x", 1);
    expect(a, NULL, 0);
    CHECK_STATUS(weft_conn_poll(a, 0), WEFT_ETIMEDOUT);
    weft_conn_close(a);
    weft_conn_close(b);
}

enum { LARGE = 6 << 20 };

static void *receive_large(void *arg)
{
    unsigned char *want = patterned(LARGE);

    expect(arg, want, LARGE);
    expect(arg, "after", 5);
    free(want);
    return NULL;
}

/* Far more than the socket's or pipe's buffer: the send completes only
 * because the receiver reads meanwhile. */
WEFT_TEST(conn_large_message_to_a_receiving_thread)
{
    unsigned char *big = patterned(LARGE);
    weft_conn *a, *b;
    weft_thread *t;

    pair(&a, &b, true);
    t = weft_test_start(receive_large, b);
    CHECK_OK(weft_conn_send(a, big, LARGE, WEFT_FOREVER));
    CHECK_OK(weft_conn_send(a, "after", 5, WEFT_FOREVER));
    weft_test_join(t);
    free(big);
    weft_conn_close(a);
    weft_conn_close(b);
}

WEFT_TEST(conn_recv_times_out_with_nothing_taken)
{
    weft_conn *a, *b;
    void *msg = &msg;
    size_t len = 7;
    double t0;

    pair(&a, &b, true);
    CHECK_STATUS(weft_conn_recv(a, &msg, &len, 0), WEFT_ETIMEDOUT);
    CHECK(msg == NULL);
    CHECK_EQ_UINT(len, 0);
    t0 = weft_monotonic();
    CHECK_STATUS(weft_conn_recv(a, &msg, &len, 0.2), WEFT_ETIMEDOUT);
    CHECK_ELAPSED(t0, 0.2);
    CHECK_STATUS(weft_conn_poll(a, 0.1), WEFT_ETIMEDOUT);
    CHECK_OK(weft_conn_send(b, "late", 4, 0));
    expect(a, "late", 4);
    weft_conn_close(a);
    weft_conn_close(b);
}

enum { CHUNK = 1000, MAX_FILL = 100000 };

/* Nobody receives: sends with a timeout succeed until the buffer is full,
 * then time out having sent nothing; every message sent arrives whole. */
WEFT_TEST(conn_send_times_out_when_full_and_sends_nothing)
{
    unsigned char buf[CHUNK];
    weft_conn *a, *b;
    int sent = 0, i, rc;
    double t0;

    pair(&a, &b, false);
    for (;;) {
        memset(buf, sent & 0xff, sizeof buf);
        rc = weft_conn_send(b, buf, sizeof buf, 0.05);
        if (rc == WEFT_ETIMEDOUT)
            break;
        CHECK_OK(rc);
        CHECK_LT_INT(++sent, MAX_FILL);
    }
    CHECK_GE_INT(sent, 1);
    t0 = weft_monotonic();
    CHECK_STATUS(weft_conn_send(b, buf, sizeof buf, 0.2), WEFT_ETIMEDOUT);
    CHECK_ELAPSED(t0, 0.2);
    CHECK_STATUS(weft_conn_send(b, buf, sizeof buf, 0), WEFT_ETIMEDOUT);
    for (i = 0; i < sent; i++) {
        memset(buf, i & 0xff, sizeof buf);
        expect(a, buf, sizeof buf);
    }
    CHECK_STATUS(weft_conn_poll(a, 0), WEFT_ETIMEDOUT);
    weft_conn_close(a);
    weft_conn_close(b);
}

WEFT_TEST(conn_eof_once_everything_was_read)
{
    weft_conn *a, *b;
    void *msg;
    size_t len;

    pair(&a, &b, true);
    CHECK_OK(weft_conn_send(b, "one", 3, 0));
    CHECK_OK(weft_conn_send(b, "two", 3, 0));
    weft_conn_close(b);
    CHECK_OK(weft_conn_poll(a, 0));
    expect(a, "one", 3);
    expect(a, "two", 3);
    CHECK_OK(weft_conn_poll(a, 0)); /* the end: a receive would not block */
    CHECK_STATUS(weft_conn_recv(a, &msg, &len, WEFT_FOREVER), WEFT_EOF);
    CHECK(strstr(weft_last_error_message(), "conn_recv") != NULL);
    CHECK_STATUS(weft_conn_recv(a, &msg, &len, 0), WEFT_EOF);
    CHECK_STATUS(weft_conn_send(a, "x", 1, WEFT_FOREVER), WEFT_EOF);
    weft_conn_close(a);
}

WEFT_TEST(conn_one_way_ends_refuse_the_other_way)
{
    weft_conn *a, *b;
    void *msg;
    size_t len;

    pair(&a, &b, false);
    CHECK_STATUS(weft_conn_send(a, "x", 1, 0), WEFT_EPERM);
    CHECK(strstr(weft_last_error_message(), "only receives") != NULL);
    CHECK_STATUS(weft_conn_recv(b, &msg, &len, 0), WEFT_EPERM);
    CHECK(strstr(weft_last_error_message(), "only sends") != NULL);
    CHECK_STATUS(weft_conn_poll(b, 0), WEFT_EPERM);
    CHECK_OK(weft_conn_send(b, "ok", 2, 0));
    expect(a, "ok", 2);
    weft_conn_close(a);
    CHECK_STATUS(weft_conn_send(b, "gone", 4, WEFT_FOREVER), WEFT_EOF);
    weft_conn_close(b);

    /* And the other way round: the receiving end sees the end. */
    pair(&a, &b, false);
    weft_conn_close(b);
    CHECK_OK(weft_conn_poll(a, WEFT_FOREVER));
    CHECK_STATUS(weft_conn_recv(a, &msg, &len, WEFT_FOREVER), WEFT_EOF);
    weft_conn_close(a);
}

WEFT_TEST(conn_bad_arguments_are_einval)
{
    weft_conn *a, *b;
    void *msg;
    size_t len;

    CHECK_STATUS(weft_pipe(NULL, &b, true), WEFT_EINVAL);
    CHECK_STATUS(weft_pipe(&a, NULL, true), WEFT_EINVAL);
    pair(&a, &b, true);
    CHECK_STATUS(weft_conn_send(NULL, "x", 1, 0), WEFT_EINVAL);
    CHECK_STATUS(weft_conn_send(a, NULL, 1, 0), WEFT_EINVAL);
    CHECK_STATUS(weft_conn_send(a, "x", 1, -2.0), WEFT_EINVAL);
    CHECK_STATUS(weft_conn_recv(NULL, &msg, &len, 0), WEFT_EINVAL);
    CHECK_STATUS(weft_conn_recv(a, NULL, &len, 0), WEFT_EINVAL);
    CHECK_STATUS(weft_conn_recv(a, &msg, NULL, 0), WEFT_EINVAL);
    CHECK_STATUS(weft_conn_poll(NULL, 0), WEFT_EINVAL);
    CHECK_STATUS(weft_conn_poll(a, -3.0), WEFT_EINVAL);
    weft_conn_close(NULL);
    /* Still usable after all that. */
    CHECK_OK(weft_conn_send(a, "x", 1, 0));
    expect(b, "x", 1);
    weft_conn_close(a);
    weft_conn_close(b);
}

WEFT_TEST(conn_poll_sees_messages_and_the_end)
{
    weft_conn *a, *b;

    pair(&a, &b, true);
    CHECK_STATUS(weft_conn_poll(a, 0), WEFT_ETIMEDOUT);
    CHECK_OK(weft_conn_send(b, "m", 1, 0));
    CHECK_OK(weft_conn_poll(a, 0));
    CHECK_OK(weft_conn_poll(a, WEFT_FOREVER));
    expect(a, "m", 1);
    CHECK_STATUS(weft_conn_poll(a, 0.05), WEFT_ETIMEDOUT);
    weft_conn_close(b);
    CHECK_OK(weft_conn_poll(a, WEFT_FOREVER));
    weft_conn_close(a);
}

/* Two messages sent before the first receive come in one read (the read
 * ahead): poll must still see the second, which no OS wait would. */
WEFT_TEST(conn_poll_sees_a_message_already_read)
{
    weft_conn *a, *b;

    pair(&a, &b, true);
    CHECK_OK(weft_conn_send(b, "one", 3, 0));
    CHECK_OK(weft_conn_send(b, "two", 3, 0));
    expect(a, "one", 3);
    CHECK_OK(weft_conn_poll(a, 0));
    expect(a, "two", 3);
    CHECK_STATUS(weft_conn_poll(a, 0), WEFT_ETIMEDOUT);
    weft_conn_close(a);
    weft_conn_close(b);
}

#ifndef _WIN32
static volatile sig_atomic_t sigpipes;

static void count_sigpipe(int sig)
{
    (void)sig;
    sigpipes++;
}

/* A program with its own SIGPIPE handler: a send to a closed peer is
 * WEFT_EOF, and the handler never hears of it (nor is one left pending). */
static void send_to_closed_peer_raises_no_sigpipe(bool duplex)
{
    struct sigaction sa, old;
    sigset_t pending;
    weft_conn *a, *b;
    static char big[1 << 20];

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = count_sigpipe;
    sigemptyset(&sa.sa_mask);
    CHECK_EQ_INT(sigaction(SIGPIPE, &sa, &old), 0);
    sigpipes = 0;
    pair(&a, &b, duplex);
    weft_conn_close(a);
    CHECK_STATUS(weft_conn_send(b, "x", 1, weft_test_long()), WEFT_EOF);
    CHECK_STATUS(weft_conn_send(b, big, sizeof big, weft_test_long()), WEFT_EOF);
    CHECK_EQ_INT(sigpending(&pending), 0);
    CHECK_EQ_INT(sigismember(&pending, SIGPIPE), 0);
    CHECK_EQ_INT((int)sigpipes, 0);
    /* The handler is in place and SIGPIPE not blocked: one raised is seen. */
    CHECK_EQ_INT(raise(SIGPIPE), 0);
    CHECK_EQ_INT((int)sigpipes, 1);
    weft_conn_close(b);
    CHECK_EQ_INT(sigaction(SIGPIPE, &old, NULL), 0);
}
#endif

WEFT_TEST(conn_one_way_send_to_closed_peer_raises_no_sigpipe)
{
#ifdef _WIN32
    weft_test_skip("SIGPIPE is POSIX");
#else
    send_to_closed_peer_raises_no_sigpipe(false);
#endif
}

WEFT_TEST(conn_duplex_send_to_closed_peer_raises_no_sigpipe)
{
#ifdef _WIN32
    weft_test_skip("SIGPIPE is POSIX");
#else
    send_to_closed_peer_raises_no_sigpipe(true);
#endif
}

/* Two threads send large messages on one end at once: each message must
 * arrive whole, never mixed with the other thread's. */
enum { SENDERS = 2, PER_SENDER = 40, MIXED = 256 << 10 };

typedef struct sender_arg {
    weft_conn *conn;
    unsigned char mark;
} sender_arg;

static void *send_marked(void *arg)
{
    sender_arg *s = arg;
    unsigned char *buf = malloc(MIXED);
    int i;

    CHECK(buf != NULL);
    memset(buf, s->mark, MIXED);
    for (i = 0; i < PER_SENDER; i++)
        CHECK_OK(weft_conn_send(s->conn, buf, MIXED, WEFT_FOREVER));
    free(buf);
    return NULL;
}

WEFT_TEST(conn_two_senders_never_interleave)
{
    sender_arg args[SENDERS];
    weft_thread *threads[SENDERS];
    int counts[SENDERS] = {0}, i, k;
    weft_conn *a, *b;

    pair(&a, &b, false);
    for (i = 0; i < SENDERS; i++)
        args[i] = (sender_arg){b, (unsigned char)(i + 1)};
    weft_test_start_each(threads, SENDERS, send_marked, args, sizeof args[0]);
    for (k = 0; k < SENDERS * PER_SENDER; k++) {
        unsigned char *msg;
        size_t len, j;

        CHECK_OK(weft_conn_recv(a, (void **)&msg, &len, weft_test_long()));
        CHECK_EQ_UINT(len, MIXED);
        CHECK(msg[0] >= 1 && msg[0] <= SENDERS);
        for (j = 1; j < len; j++)
            if (msg[j] != msg[0])
                weft_test_fail(__FILE__, __LINE__, "message %d: byte %lu is %d in a message of %d",
                               k, (unsigned long)j, msg[j], msg[0]);
        counts[msg[0] - 1]++;
        weft_free(msg);
    }
    weft_test_join_all(threads, SENDERS);
    for (i = 0; i < SENDERS; i++)
        CHECK_EQ_INT(counts[i], PER_SENDER);
    weft_conn_close(a);
    weft_conn_close(b);
}

typedef struct blocked {
    weft_conn *conn;
    weft_event started;
    int status;
} blocked;

static void *recv_blocked(void *arg)
{
    blocked *bl = arg;
    void *msg;
    size_t len;

    weft_event_set(&bl->started);
    bl->status = weft_conn_recv(bl->conn, &msg, &len, WEFT_FOREVER);
    return NULL;
}

static void *send_blocked(void *arg)
{
    blocked *bl = arg;
    unsigned char *big = patterned(LARGE);

    weft_event_set(&bl->started);
    bl->status = weft_conn_send(bl->conn, big, LARGE, WEFT_FOREVER);
    free(big);
    return NULL;
}

/* A receiver and a sender (of a message larger than the buffer) blocked
 * forever on one end both return WEFT_EOF when the other end is closed. */
WEFT_TEST(conn_close_ends_the_peers_blocked_calls)
{
    blocked r = {NULL, WEFT_EVENT_INIT, 1}, s = {NULL, WEFT_EVENT_INIT, 1};
    weft_conn *a, *b;
    weft_thread *t;

    pair(&a, &b, true);
    r.conn = a;
    t = weft_test_start(recv_blocked, &r);
    weft_test_wait_event(&r.started);
    weft_test_settle();
    weft_conn_close(b);
    weft_test_join(t);
    CHECK_STATUS(r.status, WEFT_EOF);
    weft_conn_close(a);

    pair(&a, &b, true);
    s.conn = b;
    t = weft_test_start(send_blocked, &s);
    weft_test_wait_event(&s.started);
    weft_test_settle();
    weft_conn_close(a);
    weft_test_join(t);
    CHECK_STATUS(s.status, WEFT_EOF);
    weft_conn_close(b);
}

/* ---- Between processes ----------------------------------------------------------- */

/* A child's target: echo every message on passed end 0 until the end;
 * 9 when the handles are not as the parent passed them. */
static int echo(const void *arg, size_t len)
{
    weft_conn *c = weft_process_passed(0);
    void *msg;
    size_t n;
    int rc;

    (void)arg;
    (void)len;
    if (c == NULL || weft_process_passed(1) != NULL)
        return 9;
    while ((rc = weft_conn_recv(c, &msg, &n, WEFT_FOREVER)) == WEFT_OK) {
        rc = weft_conn_send(c, msg, n, WEFT_FOREVER);
        weft_free(msg);
        if (rc != WEFT_OK)
            return 2;
    }
    weft_conn_close(c);
    return rc == WEFT_EOF ? 0 : 3;
}

/* Receive one message, then die without a word. */
static int die_after_one(const void *arg, size_t len)
{
    weft_conn *c = weft_process_passed(0);
    void *msg;
    size_t n;

    (void)arg;
    (void)len;
    if (c == NULL || weft_conn_recv(c, &msg, &n, WEFT_FOREVER) != WEFT_OK)
        return 9;
    abort();
}

/* The handle of a file the parent opened inheritable and did not pass,
 * given as the argument: it must not be open in the child. */
static int inherits_nothing_else(const void *arg, size_t len)
{
    long long value;
    char text[32];

    if (len >= sizeof text)
        return 8;
    memcpy(text, arg, len);
    text[len] = '\0';
    value = strtoll(text, NULL, 10);
#ifdef _WIN32
    {
        DWORD flags;

        if (GetHandleInformation((HANDLE)(intptr_t)value, &flags))
            return 7;
    }
#else
    if (fcntl((int)value, F_GETFD) != -1 || errno != EBADF)
        return 7;
#endif
    return echo(NULL, 0);
}

#ifndef _WIN32
/* Write bytes that are not a message into the passed end, found as the
 * one socket among the child's descriptors (POSIX: connections are
 * socket pairs, and a spawned child inherits nothing else that is). */
static int write_garbage(const void *arg, size_t len)
{
    static const char garbage[32] = "this is not a weft frame header";
    struct stat st;
    int fd;

    (void)arg;
    (void)len;
    for (fd = 3; fd < 256; fd++)
        if (fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode))
            return write(fd, garbage, sizeof garbage) == (ssize_t)sizeof garbage ? 0 : 5;
    return 4;
}
#endif

WEFT_TEST_SETUP
{
#ifndef _WIN32
    weft_process_register("write_garbage", write_garbage);
#endif
    weft_process_register("echo", echo);
    weft_process_register("die_after_one", die_after_one);
    weft_process_register("inherits_nothing_else", inherits_nothing_else);
}

static weft_process *start_with(const char *target, const void *arg, size_t len,
                                weft_start_method method, weft_conn *pass)
{
    const void *handles[1] = {pass};
    weft_process_opts opts = {.method = method, .pass = handles, .npass = 1};
    weft_process *p = NULL;

    CHECK_OK(weft_process_start(&p, target, arg, len, &opts));
    CHECK(p != NULL);
    return p;
}

static void join_with(weft_process *p, int want)
{
    int code = -100;

    CHECK_OK(weft_process_join(p, weft_test_long()));
    CHECK_OK(weft_process_exitcode(p, &code));
    CHECK_EQ_INT(code, want);
    weft_process_release(p);
}

/* Talk to an echoing child through `mine`: small, empty and large
 * messages come back as sent; closing ends the child with 0. */
static void converse(weft_process *p, weft_conn *mine)
{
    enum { BIG = 3 << 20 };
    unsigned char *big = patterned(BIG);

    CHECK_OK(weft_conn_send(mine, "ping", 4, weft_test_long()));
    expect(mine, "ping", 4);
    CHECK_OK(weft_conn_send(mine, NULL, 0, weft_test_long()));
    expect(mine, NULL, 0);
    /* The child echoes while this end still sends: a receiving thread is
     * not needed, since the child reads all before it writes back. */
    CHECK_OK(weft_conn_send(mine, big, BIG, weft_test_long()));
    expect(mine, big, BIG);
    free(big);
    weft_conn_close(mine);
    join_with(p, 0);
}

static void echo_child(weft_start_method method)
{
    weft_conn *mine, *theirs;
    weft_process *p;

    pair(&mine, &theirs, true);
    p = start_with("echo", NULL, 0, method, theirs);
    /* The child has its own copy: the parent's goes, or the child would
     * never see the end. */
    weft_conn_close(theirs);
    converse(p, mine);
}

WEFT_TEST(conn_passed_to_a_spawned_child)
{
    echo_child(WEFT_START_SPAWN);
}

WEFT_TEST(conn_passed_to_a_forked_child)
{
    weft_test_skip_without_fork();
    echo_child(WEFT_START_FORK);
}

/* The end handed over has read ahead (the parent received one of three
 * messages, and the read brought all three): the child must receive the
 * other two, then the rest of the stream. */
static void child_after_read_ahead(weft_start_method method)
{
    weft_conn *mine, *theirs;
    weft_process *p;

    pair(&mine, &theirs, true);
    CHECK_OK(weft_conn_send(mine, "one", 3, 0));
    CHECK_OK(weft_conn_send(mine, "two", 3, 0));
    CHECK_OK(weft_conn_send(mine, "three", 5, 0));
    expect(theirs, "one", 3);
    p = start_with("echo", NULL, 0, method, theirs);
    weft_conn_close(theirs);
    expect(mine, "two", 3);
    expect(mine, "three", 5);
    converse(p, mine);
}

WEFT_TEST(conn_spawned_child_receives_what_the_parent_read_ahead)
{
    child_after_read_ahead(WEFT_START_SPAWN);
}

WEFT_TEST(conn_forked_child_receives_what_the_parent_read_ahead)
{
    weft_test_skip_without_fork();
    child_after_read_ahead(WEFT_START_FORK);
}

/* The parent holds an inheritable file it does not pass: the spawned child
 * must not have it. */
WEFT_TEST(conn_spawned_child_inherits_nothing_else)
{
    weft_conn *mine, *theirs;
    weft_process *p;
    long long value;
    char text[32];
#ifdef _WIN32
    SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, TRUE};
    HANDLE r, w;

    CHECK(CreatePipe(&r, &w, &sa, 0));
    value = (long long)(intptr_t)w;
#else
    int fds[2];

    CHECK(pipe(fds) == 0); /* not close-on-exec: inheritable */
    value = fds[1];
#endif
    snprintf(text, sizeof text, "%lld", value);
    pair(&mine, &theirs, true);
    p = start_with("inherits_nothing_else", text, strlen(text), WEFT_START_SPAWN, theirs);
    weft_conn_close(theirs);
    converse(p, mine);
#ifdef _WIN32
    CloseHandle(r);
    CloseHandle(w);
#else
    close(fds[0]);
    close(fds[1]);
#endif
}

static void child_dies(weft_start_method method)
{
    weft_conn *mine, *theirs;
    weft_process *p;
    void *msg;
    size_t len;
    int code = 0;

    pair(&mine, &theirs, true);
    p = start_with("die_after_one", NULL, 0, method, theirs);
    weft_conn_close(theirs);
    CHECK_OK(weft_conn_send(mine, "last words?", 11, weft_test_long()));
    CHECK_STATUS(weft_conn_recv(mine, &msg, &len, weft_test_long()), WEFT_EOF);
    CHECK_OK(weft_process_join(p, weft_test_long()));
    CHECK_OK(weft_process_exitcode(p, &code));
    CHECK(code != 0);
    weft_process_release(p);
    weft_conn_close(mine);
}

WEFT_TEST(conn_spawned_child_that_dies_gives_eof)
{
    child_dies(WEFT_START_SPAWN);
}

WEFT_TEST(conn_forked_child_that_dies_gives_eof)
{
    weft_test_skip_without_fork();
    child_dies(WEFT_START_FORK);
}

WEFT_TEST(conn_pass_refuses_what_is_not_a_handle)
{
    static int not_a_handle[4];
    const void *bad[1] = {not_a_handle};
    const void *null_one[1] = {NULL};
    weft_process_opts opts = {.pass = bad, .npass = 1};
    weft_process *p = NULL;

    CHECK_STATUS(weft_process_start(&p, "echo", NULL, 0, &opts), WEFT_EINVAL);
    CHECK(strstr(weft_last_error_message(), "not an open handle") != NULL);
    opts.pass = null_one;
    CHECK_STATUS(weft_process_start(&p, "echo", NULL, 0, &opts), WEFT_EINVAL);
    opts.pass = NULL;
    CHECK_STATUS(weft_process_start(&p, "echo", NULL, 0, &opts), WEFT_EINVAL);
    CHECK(p == NULL);
    CHECK(weft_process_passed(0) == NULL); /* this process was given none */
}

/* Two ends the parent holds, one passed: in the forked child the passed
 * one works, while the child's copies of the parent's handles refuse every
 * call (nothing but the passed ends is inherited, as with spawn). */
static weft_conn *parent_other, *parent_passed;

static int only_the_passed_end(const void *arg, size_t len)
{
    (void)arg;
    (void)len;
    if (weft_conn_send(parent_other, "x", 1, 0) != WEFT_EPERM ||
        weft_conn_poll(parent_passed, 0) != WEFT_EPERM)
        return 6;
    weft_conn_close(parent_other); /* still fine: frees the child's copy */
    return echo(NULL, 0);
}

WEFT_TEST(conn_forked_child_has_only_the_passed_ends)
{
    weft_conn *mine, *other_peer;
    weft_process *p;

    weft_test_skip_without_fork();
    CHECK_OK(weft_process_register("only_the_passed_end", only_the_passed_end));
    pair(&mine, &parent_passed, true);
    pair(&parent_other, &other_peer, true);
    p = start_with("only_the_passed_end", NULL, 0, WEFT_START_FORK, parent_passed);
    weft_conn_close(parent_passed);
    /* The child holds no copy of parent_other: closing it here is its end. */
    weft_conn_close(parent_other);
    CHECK_OK(weft_conn_poll(other_peer, weft_test_long()));
    CHECK_STATUS(weft_conn_send(other_peer, "x", 1, 0), WEFT_EOF);
    converse(p, mine);
    weft_conn_close(other_peer);
}

/* Bytes that are not a message (another program wrote into the
 * connection): WEFT_EINVAL, no allocation of a length read from them, and
 * the same on every later receive. */
WEFT_TEST(conn_bytes_that_are_not_a_message_are_einval)
{
#ifdef _WIN32
    weft_test_skip("the child finds the end as a socket descriptor: POSIX");
#else
    weft_conn *mine, *theirs;
    weft_process *p;
    void *msg;
    size_t len;

    pair(&mine, &theirs, true);
    p = start_with("write_garbage", NULL, 0, WEFT_START_SPAWN, theirs);
    weft_conn_close(theirs);
    join_with(p, 0);
    CHECK_STATUS(weft_conn_recv(mine, &msg, &len, weft_test_long()), WEFT_EINVAL);
    CHECK(strstr(weft_last_error_message(), "not a message") != NULL);
    CHECK(msg == NULL);
    CHECK_OK(weft_conn_poll(mine, 0));
    CHECK_STATUS(weft_conn_recv(mine, &msg, &len, 0), WEFT_EINVAL);
    weft_conn_close(mine);
#endif
}

/* SPDX-License-Identifier: MIT */
/*
 * Connections on Windows: a named pipe with a name of its own, created and
 * opened with FILE_FLAG_OVERLAPPED on both ends, since only overlapped I/O
 * can be waited for with a timeout (an anonymous pipe cannot). A read or
 * write is started, waited for on the end's event up to the deadline and,
 * when that passes, cancelled (CancelIoEx) and its result collected: what
 * it moved before the cancel counts. A wait for a message without taking
 * it is a zero-byte read, which completes when bytes arrive or the writer
 * is gone.
 */
#include "win32.h"
#include "../sys/conn.h"

#include <string.h>

/* Each direction's buffer, a hint: as weft_sys_pipe's. */
#define PIPE_BUFFER 65536

/* The most one ReadFile or WriteFile call is asked for (a DWORD count). */
#define IO_CHUNK ((DWORD)1 << 30)

/* Names tried before giving up: another process may hold a name (one
 * squatting on a guessed name, say), and FILE_FLAG_FIRST_PIPE_INSTANCE then
 * refuses it. */
#define NAME_TRIES 16

static volatile LONG name_counter;

/* Append v in hexadecimal and a '-' at *p, and move *p past them. */
static void append_hex(wchar_t **p, unsigned long long v)
{
    wchar_t digits[16];
    int n = 0;

    do {
        digits[n++] = L"0123456789abcdef"[v % 16];
        v /= 16;
    } while (v != 0);
    while (n > 0)
        *(*p)++ = digits[--n];
    *(*p)++ = L'-';
}

/* \\.\pipe\weft-<pid>-<counter>-<clock>, in hexadecimal: unique to this process
 * and call (the clock only makes a name harder to guess). 64 units hold it. */
static void make_name(wchar_t name[64])
{
    static const wchar_t prefix[] = L"\\\\.\\pipe\\weft-";
    LARGE_INTEGER now;
    wchar_t *p = name + sizeof prefix / sizeof prefix[0] - 1;

    QueryPerformanceCounter(&now);
    memcpy(name, prefix, sizeof prefix - sizeof prefix[0]);
    append_hex(&p, GetCurrentProcessId());
    append_hex(&p, (unsigned long)InterlockedIncrement(&name_counter));
    append_hex(&p, (unsigned long long)now.QuadPart);
    p[-1] = 0; /* the last '-' */
}

static void conn_close_events(weft_sys_conn *c)
{
    if (c->read_event != -1)
        CloseHandle((HANDLE)c->read_event);
    if (c->write_event != -1)
        CloseHandle((HANDLE)c->write_event);
    c->read_event = c->write_event = -1;
}

/* The end of `file` with its two events; the file stays the caller's on
 * failure. */
static int conn_end_of(weft_sys_conn *c, HANDLE file)
{
    /* Manual reset: ReadFile and WriteFile reset them as they start. */
    HANDLE r = CreateEventW(NULL, TRUE, FALSE, NULL);
    HANDLE w = r ? CreateEventW(NULL, TRUE, FALSE, NULL) : NULL;

    c->file = (weft_sys_file)file;
    c->read_event = r ? (intptr_t)r : -1;
    c->write_event = w ? (intptr_t)w : -1;
    if (!w) {
        DWORD err = GetLastError();

        conn_close_events(c);
        return weft__handle_status(err, "CreateEventW");
    }
    return WEFT_OK;
}

/* The server end of a new pipe, under a name no other pipe has. */
static int conn_create_server(bool duplex, wchar_t name[64], HANDLE *out)
{
    DWORD open_mode = (duplex ? PIPE_ACCESS_DUPLEX : PIPE_ACCESS_INBOUND) | FILE_FLAG_OVERLAPPED |
                      FILE_FLAG_FIRST_PIPE_INSTANCE;
    DWORD pipe_mode = PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS;
    DWORD err = ERROR_SUCCESS;
    int i;

    for (i = 0; i < NAME_TRIES; i++) {
        HANDLE h;

        make_name(name);
        h = CreateNamedPipeW(name, open_mode, pipe_mode, 1, PIPE_BUFFER, PIPE_BUFFER, 0, NULL);
        if (h != INVALID_HANDLE_VALUE) {
            *out = h;
            return WEFT_OK;
        }
        err = GetLastError();
        if (err != ERROR_ACCESS_DENIED && err != ERROR_PIPE_BUSY)
            break;
    }
    return weft__handle_status(err, "CreateNamedPipeW");
}

/* The server accepts the client that has just opened it. */
static int conn_connect_server(HANDLE server, HANDLE event)
{
    OVERLAPPED ov;
    DWORD n;

    memset(&ov, 0, sizeof ov);
    ov.hEvent = event;
    if (ConnectNamedPipe(server, &ov))
        return WEFT_OK;
    switch (GetLastError()) {
    case ERROR_PIPE_CONNECTED: /* the client came first, as here */
        return WEFT_OK;
    case ERROR_IO_PENDING:
        if (GetOverlappedResult(server, &ov, &n, TRUE))
            return WEFT_OK;
        /* fall through */
    default:
        return weft__os_error((int)GetLastError());
    }
}

int weft_sys_conn_pair(weft_sys_conn *a, weft_sys_conn *b, bool duplex)
{
    wchar_t name[64];
    HANDLE server = INVALID_HANDLE_VALUE, client;
    int rc = conn_create_server(duplex, name, &server);

    if (rc != WEFT_OK)
        return rc;
    /* One way: the server (a) reads, the client (b) writes. */
    client = CreateFileW(name, duplex ? GENERIC_READ | GENERIC_WRITE : GENERIC_WRITE, 0, NULL,
                         OPEN_EXISTING, FILE_FLAG_OVERLAPPED, NULL);
    if (client == INVALID_HANDLE_VALUE) {
        rc = weft__handle_status(GetLastError(), "CreateFileW pipe");
        CloseHandle(server);
        return rc;
    }
    a->read_event = a->write_event = b->read_event = b->write_event = -1;
    rc = conn_end_of(a, server);
    if (rc == WEFT_OK)
        rc = conn_end_of(b, client);
    if (rc == WEFT_OK)
        rc = conn_connect_server(server, (HANDLE)a->read_event);
    if (rc != WEFT_OK) {
        conn_close_events(a);
        conn_close_events(b);
        CloseHandle(client);
        CloseHandle(server);
    }
    return rc;
}

int weft_sys_conn_open(weft_sys_conn *out, weft_sys_file file)
{
    return conn_end_of(out, (HANDLE)file);
}

/* Wait for the operation `ov` on c's file up to the deadline; past it,
 * cancel it. *n receives what it moved. Returns WEFT_OK (done, maybe after
 * a cancel that came too late), WEFT_ETIMEDOUT (cancelled: *n may still be
 * > 0, what it moved first), or the failure's WEFT_ESHUTDOWN (the other end
 * is gone) / WEFT_EOS. */
static int conn_finish(weft_sys_conn *c, OVERLAPPED *ov, HANDLE event, DWORD *n, int64_t deadline)
{
    HANDLE h = (HANDLE)c->file;
    int rc = weft__win32_wait_handle(event, deadline);
    DWORD err;

    /* Also when the wait failed: an operation must never outlive the
     * OVERLAPPED on our stack. */
    if (rc != WEFT_OK)
        CancelIoEx(h, ov);
    *n = 0;
    if (GetOverlappedResult(h, ov, n, TRUE))
        return WEFT_OK;
    err = GetLastError();
    if (err == ERROR_OPERATION_ABORTED)
        return WEFT_ETIMEDOUT;
    if (err == ERROR_BROKEN_PIPE || err == ERROR_NO_DATA || err == ERROR_PIPE_NOT_CONNECTED)
        return WEFT_ESHUTDOWN;
    return rc != WEFT_OK && rc != WEFT_ETIMEDOUT ? rc : weft__os_error((int)err);
}

/* Start a read of `want` bytes into buf (0: only wait for bytes) and see it
 * through: as conn_finish(). */
static int conn_read_once(weft_sys_conn *c, void *buf, DWORD want, DWORD *n, int64_t deadline)
{
    OVERLAPPED ov;
    DWORD err;

    memset(&ov, 0, sizeof ov);
    ov.hEvent = (HANDLE)c->read_event;
    if (!ReadFile((HANDLE)c->file, buf, want, NULL, &ov)) {
        err = GetLastError();
        if (err == ERROR_BROKEN_PIPE || err == ERROR_PIPE_NOT_CONNECTED)
            return WEFT_ESHUTDOWN;
        if (err != ERROR_IO_PENDING)
            return weft__os_error((int)err);
    }
    return conn_finish(c, &ov, (HANDLE)c->read_event, n, deadline);
}

int weft_sys_conn_read(weft_sys_conn *c, void *buf, size_t len, size_t *got, int64_t deadline)
{
    DWORD want = len > IO_CHUNK ? IO_CHUNK : (DWORD)len, n;
    int rc;

    do
        rc = conn_read_once(c, buf, want, &n, deadline);
    while (rc == WEFT_OK && n == 0); /* a zero-byte write is not the end */
    if (rc == WEFT_ETIMEDOUT && n > 0)
        rc = WEFT_OK; /* bytes came as the wait ended: take them */
    if (rc == WEFT_ESHUTDOWN) {
        n = 0;
        rc = WEFT_OK;
    }
    if (rc == WEFT_OK)
        *got = n;
    return rc;
}

int weft_sys_conn_try_read(weft_sys_conn *c, void *buf, size_t len, size_t *got)
{
    DWORD avail = 0;

    /* Asked first, so that no overlapped read has to be started and
     * cancelled when nothing is there; with bytes there (or the writer
     * gone) the read returns at once. */
    if (!PeekNamedPipe((HANDLE)c->file, NULL, 0, NULL, &avail, NULL)) {
        if (GetLastError() != ERROR_BROKEN_PIPE)
            return weft__os_error((int)GetLastError());
    } else if (avail == 0) {
        return WEFT_EAGAIN;
    }
    return weft_sys_conn_read(c, buf, len, got, WEFT__NO_DEADLINE);
}

/* Write all len bytes; until one has gone, only up to *deadline, which
 * becomes WEFT__NO_DEADLINE once one has. */
static int conn_write_all(weft_sys_conn *c, const char *p, size_t len, int64_t *deadline)
{
    while (len > 0) {
        OVERLAPPED ov;
        DWORD want = len > IO_CHUNK ? IO_CHUNK : (DWORD)len, n, err;
        int rc;

        memset(&ov, 0, sizeof ov);
        ov.hEvent = (HANDLE)c->write_event;
        if (!WriteFile((HANDLE)c->file, p, want, NULL, &ov)) {
            err = GetLastError();
            if (err == ERROR_NO_DATA || err == ERROR_BROKEN_PIPE ||
                err == ERROR_PIPE_NOT_CONNECTED)
                return WEFT_ESHUTDOWN;
            if (err != ERROR_IO_PENDING)
                return weft__os_error((int)err);
        }
        rc = conn_finish(c, &ov, (HANDLE)c->write_event, &n, *deadline);
        if (rc == WEFT_ETIMEDOUT && n == 0)
            return WEFT_ETIMEDOUT;
        if (rc != WEFT_OK && rc != WEFT_ETIMEDOUT)
            return rc;
        if (n > 0)
            *deadline = WEFT__NO_DEADLINE; /* started: the rest goes whatever it takes */
        p += n;
        len -= n;
    }
    return WEFT_OK;
}

/* The most bytes the first write of a message carries. */
#define FIRST_WRITE 4096

int weft_sys_conn_write(weft_sys_conn *c, const void *head, size_t head_len, const void *body,
                        size_t body_len, int64_t deadline)
{
    char first[FIRST_WRITE];
    size_t from_body = 0;
    int rc;

    /* The header and the start of the body go in one write: a pending
     * write that is cancelled at the deadline has moved nothing, while one
     * for the body alone, after the header went, could no longer be
     * cancelled (the message has started) and would wait for the reader
     * without limit. */
    if (head_len <= sizeof first) {
        from_body = sizeof first - head_len < body_len ? sizeof first - head_len : body_len;
        memcpy(first, head, head_len);
        if (from_body > 0)
            memcpy(first + head_len, body, from_body);
        head = first;
        head_len += from_body;
    }
    rc = conn_write_all(c, head, head_len, &deadline);
    return rc == WEFT_OK ? conn_write_all(c, (const char *)body + from_body, body_len - from_body,
                                     &deadline)
                         : rc;
}

int weft_sys_conn_wait(weft_sys_conn *c, int64_t deadline)
{
    DWORD avail = 0, n;
    char none;
    int rc;

    /* Bytes already there, or the writer gone: no read needed. */
    if (!PeekNamedPipe((HANDLE)c->file, NULL, 0, NULL, &avail, NULL))
        return GetLastError() == ERROR_BROKEN_PIPE ? WEFT_OK
                                                   : weft__os_error((int)GetLastError());
    if (avail > 0)
        return WEFT_OK;
    rc = conn_read_once(c, &none, 0, &n, deadline);
    return rc == WEFT_ESHUTDOWN ? WEFT_OK : rc;
}

void weft_sys_conn_close(weft_sys_conn *c)
{
    conn_close_events(c);
    CloseHandle((HANDLE)c->file);
    c->file = WEFT__NO_FILE;
}

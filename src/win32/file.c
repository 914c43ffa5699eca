/* SPDX-License-Identifier: MIT */
/*
 * Files and pipes on Windows: a weft_sys_file is a HANDLE. Every handle
 * made here is created non-inheritable (NULL security attributes), so a
 * CreateProcess on another thread that inherits handles never takes one.
 */
#include "win32.h"

#include <string.h>
#include <wchar.h>

_Static_assert(sizeof(HANDLE) <= sizeof(weft_sys_file), "a HANDLE must fit a weft_sys_file");

/* The most one ReadFile or WriteFile call is asked for: their counts are
 * DWORDs, and a round 1 GiB keeps each call well inside one. */
#define IO_CHUNK ((DWORD)1 << 30)

/* The pipe's buffer size, a hint: the default (one page) would make a
 * writer block on every few kilobytes. */
#define PIPE_BUFFER 65536

int weft__handle_status(DWORD err, const char *call)
{
    int rc = weft__status_from_win32(err); /* the OS's words, for the message */

    if (err == ERROR_TOO_MANY_OPEN_FILES || err == ERROR_NO_SYSTEM_RESOURCES)
        return weft__fail_wrap(WEFT_EAGAIN, "%s: no file descriptor (handle) is left", call);
    return weft__fail_wrap(rc, "%s", call);
}

int weft_sys_pipe(weft_sys_file *read_end, weft_sys_file *write_end)
{
    HANDLE r, w;

    if (!CreatePipe(&r, &w, NULL, PIPE_BUFFER))
        return weft__handle_status(GetLastError(), "CreatePipe");
    *read_end = (weft_sys_file)r;
    *write_end = (weft_sys_file)w;
    return WEFT_OK;
}

int weft_sys_open_null(weft_sys_file *out)
{
    HANDLE h = CreateFileW(L"NUL", GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE,
                           NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);

    if (h == INVALID_HANDLE_VALUE)
        return weft__handle_status(GetLastError(), "CreateFileW NUL");
    *out = (weft_sys_file)h;
    return WEFT_OK;
}

weft_sys_file weft_sys_stdio(int which)
{
    static const DWORD ids[3] = {STD_INPUT_HANDLE, STD_OUTPUT_HANDLE, STD_ERROR_HANDLE};
    HANDLE h;

    if (which < 0 || which > 2)
        return WEFT__NO_FILE;
    h = GetStdHandle(ids[which]);
    /* NULL: a process started without standard handles (a GUI program). */
    if (h == NULL || h == INVALID_HANDLE_VALUE)
        return WEFT__NO_FILE;
    return (weft_sys_file)h;
}

int weft_sys_read(weft_sys_file f, void *buf, size_t len, size_t *got)
{
    HANDLE h = (HANDLE)f;
    DWORD want = len > IO_CHUNK ? IO_CHUNK : (DWORD)len;

    for (;;) {
        DWORD n = 0, err;

        if (ReadFile(h, buf, want, &n, NULL)) {
            /* A pipe gives 0 bytes for a writer's zero-length write, which
             * is not the end: that is reported as ERROR_BROKEN_PIPE. */
            if (n == 0 && GetFileType(h) == FILE_TYPE_PIPE)
                continue;
            *got = n;
            return WEFT_OK;
        }
        err = GetLastError();
        switch (err) {
        case ERROR_BROKEN_PIPE: /* every writer closed its end */
            *got = 0;
            return WEFT_OK;
        case ERROR_MORE_DATA: /* a message-mode pipe: the bytes read are good */
            *got = n;
            return WEFT_OK;
        default:
            return weft__os_error((int)err);
        }
    }
}

int weft_sys_write(weft_sys_file f, const void *buf, size_t len)
{
    const char *p = buf;

    while (len > 0) {
        DWORD want = len > IO_CHUNK ? IO_CHUNK : (DWORD)len;
        DWORD n = 0;

        if (!WriteFile((HANDLE)f, p, want, &n, NULL)) {
            DWORD err = GetLastError();

            /* ERROR_NO_DATA: the pipe is being closed; ERROR_BROKEN_PIPE:
             * the reader is gone. Windows has no SIGPIPE to suppress. */
            if (err == ERROR_NO_DATA || err == ERROR_BROKEN_PIPE)
                return WEFT_ESHUTDOWN;
            return weft__os_error((int)err);
        }
        p += n;
        len -= n;
    }
    return WEFT_OK;
}

int weft_sys_file_dup(weft_sys_file f, weft_sys_file *out)
{
    HANDLE self = GetCurrentProcess(), dup;

    if (!DuplicateHandle(self, (HANDLE)f, self, &dup, 0, FALSE, DUPLICATE_SAME_ACCESS))
        return weft__handle_status(GetLastError(), "DuplicateHandle");
    *out = (weft_sys_file)dup;
    return WEFT_OK;
}

void weft_sys_close(weft_sys_file f)
{
    CloseHandle((HANDLE)f);
}

/* ---- A child's standard stream, with timeouts on the parent's end ----------- */

/* An anonymous pipe has no overlapped I/O, and so no read or write that
 * can give up at a deadline. A named pipe has it per handle: the parent's
 * end (the server) is created with FILE_FLAG_OVERLAPPED, the child's end
 * (the client) is opened without it, a synchronous handle like the ones
 * CreatePipe makes, with the same access: the read end may also set its
 * mode (FILE_WRITE_ATTRIBUTES), the write end query it
 * (FILE_READ_ATTRIBUTES). */

#define PIPE_NAME_PREFIX L"\\\\.\\pipe\\weft-popen-"

static uint32_t pipe_serial; /* makes this process's pipe names unique */

/* "\\.\pipe\weft-popen-<pid>-<serial>", in hexadecimal: 38 units with
 * the NUL. */
static void pipe_name(wchar_t name[64])
{
    static const wchar_t digits[] = L"0123456789abcdef";
    uint32_t parts[2] = {GetCurrentProcessId(), weft__fetch_add(&pipe_serial, 1)};
    size_t n = wcslen(PIPE_NAME_PREFIX);

    memcpy(name, PIPE_NAME_PREFIX, n * sizeof *name);
    for (int i = 0; i < 2; i++) {
        if (i > 0)
            name[n++] = L'-';
        for (int shift = 28; shift >= 0; shift -= 4)
            name[n++] = digits[(parts[i] >> shift) & 0xf];
    }
    name[n] = L'\0';
}

int weft_sys_pipe_for_child(weft_sys_file *read_end, weft_sys_file *write_end, bool parent_reads)
{
    wchar_t name[64];
    HANDLE server = INVALID_HANDLE_VALUE, client;
    OVERLAPPED ov;
    DWORD err;

    /* FILE_FLAG_FIRST_PIPE_INSTANCE: a name some other process took first
     * (ERROR_ACCESS_DENIED) is never joined; the next serial is tried. */
    for (int tries = 0; server == INVALID_HANDLE_VALUE; tries++) {
        pipe_name(name);
        server = CreateNamedPipeW(name,
                                  (parent_reads ? PIPE_ACCESS_INBOUND : PIPE_ACCESS_OUTBOUND) |
                                      FILE_FLAG_OVERLAPPED | FILE_FLAG_FIRST_PIPE_INSTANCE,
                                  PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT |
                                      PIPE_REJECT_REMOTE_CLIENTS,
                                  1, PIPE_BUFFER, PIPE_BUFFER, 0, NULL);
        err = GetLastError();
        if (server == INVALID_HANDLE_VALUE && (err != ERROR_ACCESS_DENIED || tries == 15))
            return weft__handle_status(err, "CreateNamedPipeW");
    }
    /* One instance only: should another process connect first, this open
     * fails (ERROR_PIPE_BUSY) and so does the call, so the parent never
     * talks to a stranger. */
    client = CreateFileW(name,
                         parent_reads ? GENERIC_WRITE | FILE_READ_ATTRIBUTES
                                      : GENERIC_READ | FILE_WRITE_ATTRIBUTES,
                         0, NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
    if (client == INVALID_HANDLE_VALUE) {
        err = GetLastError();
        CloseHandle(server);
        return weft__handle_status(err, "CreateFileW pipe");
    }
    /* The client is connected already, so this only confirms it
     * (ERROR_PIPE_CONNECTED); an overlapped handle needs an OVERLAPPED,
     * with an event, even so, and an operation that pends all the same is
     * waited for: `ov` must outlive it. */
    memset(&ov, 0, sizeof ov);
    ov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
    err = ov.hEvent == NULL ? GetLastError()
          : ConnectNamedPipe(server, &ov) ? ERROR_SUCCESS
                                          : GetLastError();
    if (err == ERROR_IO_PENDING) {
        DWORD unused;

        err = GetOverlappedResult(server, &ov, &unused, TRUE) ? ERROR_SUCCESS : GetLastError();
    }
    if (ov.hEvent)
        CloseHandle(ov.hEvent);
    if (err != ERROR_SUCCESS && err != ERROR_PIPE_CONNECTED) {
        CloseHandle(client);
        CloseHandle(server);
        return weft__handle_status(err, "ConnectNamedPipe");
    }
    *read_end = (weft_sys_file)(parent_reads ? server : client);
    *write_end = (weft_sys_file)(parent_reads ? client : server);
    return WEFT_OK;
}

/* WEFT_EOS for the error of `call` on a pipe, with a message. */
static int pipe_error(DWORD err, const char *call)
{
    weft__os_error((int)err);
    return weft__fail(WEFT_EOS, "%s on a child's pipe failed (error %lu)", call,
                      (unsigned long)err);
}

/* One overlapped ReadFile or WriteFile of `want` bytes on h, waited for by
 * the deadline and cancelled when it passes. *n receives what was
 * transferred, also by an operation that was cancelled (bytes that came
 * as the deadline passed are not lost). Returns the operation's error:
 * ERROR_SUCCESS, ERROR_OPERATION_ABORTED for the cancel, or another. */
static DWORD overlapped_io(HANDLE h, bool write, void *buf, DWORD want, int64_t deadline,
                           DWORD *n)
{
    OVERLAPPED ov;
    BOOL ok;
    DWORD err;

    *n = 0;
    memset(&ov, 0, sizeof ov);
    ov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (ov.hEvent == NULL)
        return GetLastError();
    ok = write ? WriteFile(h, buf, want, NULL, &ov) : ReadFile(h, buf, want, NULL, &ov);
    if (!ok && GetLastError() == ERROR_IO_PENDING) {
        /* A timed-out wait may end a little before the deadline by our
         * clock: only the deadline's passing cancels. */
        while (WaitForSingleObject(ov.hEvent, weft__win32_ms_until(deadline)) == WAIT_TIMEOUT) {
            if (weft_sys_monotonic_ns() >= deadline) {
                CancelIoEx(h, &ov);
                break;
            }
        }
        ok = TRUE;
    }
    /* Also after a cancel: the operation may have completed first, and it
     * must be over before `ov` and `buf` go. */
    if (ok)
        ok = GetOverlappedResult(h, &ov, n, TRUE);
    err = ok ? ERROR_SUCCESS : GetLastError();
    CloseHandle(ov.hEvent);
    return err;
}

int weft_sys_read_until(weft_sys_file f, void *buf, size_t len, size_t *got, int64_t deadline)
{
    DWORD want = len > IO_CHUNK ? IO_CHUNK : (DWORD)len;

    for (;;) {
        DWORD n, err = overlapped_io((HANDLE)f, false, buf, want, deadline, &n);

        switch (err) {
        case ERROR_SUCCESS:
            /* 0 bytes: a writer's zero-length write, not the end. */
            if (n == 0)
                continue;
            /* fall through */
        case ERROR_MORE_DATA: /* a message-mode pipe: the bytes read are good */
            *got = n;
            return WEFT_OK;
        case ERROR_BROKEN_PIPE: /* every writer closed its end */
            *got = 0;
            return WEFT_OK;
        case ERROR_OPERATION_ABORTED:
            if (n == 0)
                return WEFT_ETIMEDOUT;
            *got = n;
            return WEFT_OK;
        default:
            return pipe_error(err, "ReadFile");
        }
    }
}

int weft_sys_write_until(weft_sys_file f, const void *buf, size_t len, int64_t deadline)
{
    const char *p = buf;
    bool started = false;

    while (len > 0) {
        DWORD want = len > IO_CHUNK ? IO_CHUNK : (DWORD)len;
        DWORD n, err;

        /* Once a byte is written the rest is written without a deadline,
         * so that a timeout always means nothing was written. */
        err = overlapped_io((HANDLE)f, true, (void *)p, want,
                            started ? WEFT__NO_DEADLINE : deadline, &n);
        p += n;
        len -= n;
        started = started || n > 0;
        switch (err) {
        case ERROR_SUCCESS:
            break;
        case ERROR_OPERATION_ABORTED:
            if (!started)
                return WEFT_ETIMEDOUT;
            break;
        case ERROR_NO_DATA: /* the pipe is being closed */
        case ERROR_BROKEN_PIPE: /* the reader is gone */
            return WEFT_ESHUTDOWN;
        default:
            return pipe_error(err, "WriteFile");
        }
    }
    return WEFT_OK;
}

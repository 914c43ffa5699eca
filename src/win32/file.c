/* SPDX-License-Identifier: MIT */
/*
 * Files and pipes on Windows: a weft_sys_file is a HANDLE. Every handle
 * made here is created non-inheritable (NULL security attributes), so a
 * CreateProcess on another thread that inherits handles never takes one.
 */
#include "win32.h"

_Static_assert(sizeof(HANDLE) <= sizeof(weft_sys_file), "a HANDLE must fit a weft_sys_file");

/* The most one ReadFile or WriteFile call is asked for: their counts are
 * DWORDs, and a round 1 GiB keeps each call well inside one. */
#define IO_CHUNK ((DWORD)1 << 30)

/* The pipe's buffer size, a hint: the default (one page) would make a
 * writer block on every few kilobytes. */
#define PIPE_BUFFER 65536

int weft__handle_status(DWORD err, const char *call)
{
    if (err == ERROR_TOO_MANY_OPEN_FILES || err == ERROR_NO_SYSTEM_RESOURCES) {
        weft__os_error((int)err); /* weft_last_os_error() tells which */
        return weft__fail(WEFT_EAGAIN, "%s: no file descriptor (handle) is left (error %lu)", call,
                          (unsigned long)err);
    }
    return weft__status_from_win32(err);
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

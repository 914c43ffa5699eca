/* SPDX-License-Identifier: MIT */
/*
 * Files and pipes: posix/file.c, win32/file.c; used by the process layer.
 */
#ifndef WEFT_SYS_FILE_H
#define WEFT_SYS_FILE_H

#include "base.h"

/* ---- Files and pipes -------------------------------------------------------- */

/* An open file: a descriptor on POSIX, a HANDLE on Windows. Every file the
 * backend opens is close-on-exec (not inheritable) from its birth, so a
 * spawn on another thread can never inherit it by accident. */
typedef intptr_t weft_sys_file;
#define WEFT__NO_FILE ((weft_sys_file)-1)

/* A pipe: bytes written to *write_end are read from *read_end. Returns
 * WEFT_OK, WEFT_EAGAIN (no descriptors left), WEFT_ENOMEM or WEFT_EOS. */
int weft_sys_pipe(weft_sys_file *read_end, weft_sys_file *write_end);

/* The null device (/dev/null, NUL) open for reading and writing. */
int weft_sys_open_null(weft_sys_file *out);

/* The calling process's own standard file `which` (0 stdin, 1 stdout,
 * 2 stderr): the descriptor number, or GetStdHandle's handle (which may be
 * WEFT__NO_FILE when the process has none). Not a new file: never closed. */
weft_sys_file weft_sys_stdio(int which);

/* Read up to len (> 0) bytes, blocking until at least one byte or the end
 * of the file (every writer closed its end), and retrying interrupted
 * calls. *got is 0 only at the end. Returns WEFT_OK or WEFT_EOS. */
int weft_sys_read(weft_sys_file f, void *buf, size_t len, size_t *got);

/* Write all len bytes, blocking as long as it takes. Returns WEFT_OK;
 * WEFT_ESHUTDOWN when the reading end is closed (EPIPE, ERROR_NO_DATA),
 * without SIGPIPE reaching the process; WEFT_EOS. */
int weft_sys_write(weft_sys_file f, const void *buf, size_t len);

/* A close-on-exec (non-inheritable) duplicate of f in *out, a file of its
 * own on the same open file. Returns WEFT_OK, WEFT_EAGAIN (no descriptors
 * left) or WEFT_EOS. */
int weft_sys_file_dup(weft_sys_file f, weft_sys_file *out);

/* Close a file the backend opened. */
void weft_sys_close(weft_sys_file f);

/* ---- A child's standard stream, with timeouts on the parent's end ----------- */

/* A pipe for a child's stdin (`parent_reads` false: the parent writes
 * *write_end) or stdout/stderr (true: the parent reads *read_end). The
 * parent's end is for weft_sys_read_until and weft_sys_write_until only
 * (on Windows an overlapped named pipe end, which weft_sys_read/write must
 * not be given); the child's end is a plain synchronous file, as a child
 * expects of its standard streams. Returns as weft_sys_pipe. */
int weft_sys_pipe_for_child(weft_sys_file *read_end, weft_sys_file *write_end, bool parent_reads);

/* Read up to len (> 0) bytes from the parent's end of a
 * weft_sys_pipe_for_child pipe: what is there once at least one byte is,
 * or the end of the file (*got 0), by the deadline (WEFT__NO_DEADLINE: no
 * limit). Nothing is lost on a timeout: bytes that arrive as it expires
 * are returned. Returns WEFT_OK, WEFT_ETIMEDOUT or WEFT_EOS. One caller at
 * a time per file. */
int weft_sys_read_until(weft_sys_file f, void *buf, size_t len, size_t *got, int64_t deadline);

/* Write len bytes to the parent's end of a weft_sys_pipe_for_child pipe.
 * The deadline bounds only the wait for room to start: once a byte is
 * written the rest follows, however long the reader takes, so
 * WEFT_ETIMEDOUT always means that nothing was written. Returns WEFT_OK,
 * WEFT_ETIMEDOUT, WEFT_ESHUTDOWN when the reading end is closed (no
 * SIGPIPE reaches the process), or WEFT_EOS. One caller at a time per
 * file. */
int weft_sys_write_until(weft_sys_file f, const void *buf, size_t len, int64_t deadline);

#endif /* WEFT_SYS_FILE_H */

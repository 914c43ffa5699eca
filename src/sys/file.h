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

#endif /* WEFT_SYS_FILE_H */

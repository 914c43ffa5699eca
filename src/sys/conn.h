/* SPDX-License-Identifier: MIT */
/*
 * The OS side of a connection (weft_pipe, src/ipc/conn.c): posix/conn.c,
 * win32/conn.c. A connection's end is one file that reads, writes or both;
 * the common code frames the messages, this file moves the bytes and
 * bounds the waits.
 */
#ifndef WEFT_SYS_CONN_H
#define WEFT_SYS_CONN_H

#include "base.h"
#include "file.h"

/* One end as the backend keeps it: the file and, on Windows, the events
 * its overlapped reads and writes wait on (one each, so a thread reading
 * and one writing never wait on each other's event); -1 on POSIX. Reads
 * are serialised by the caller, and so are writes. */
typedef struct weft_sys_conn {
    weft_sys_file file;
    intptr_t read_event, write_event;
} weft_sys_conn;

/* Two connected ends: duplex, each reads what the other writes (a
 * socketpair; a named pipe opened both ways); else *a only reads and *b
 * only writes. The files are close-on-exec (not inheritable). Returns
 * WEFT_OK, WEFT_EAGAIN (no descriptors or handles left), WEFT_ENOMEM or
 * WEFT_EOS. */
int weft_sys_conn_pair(weft_sys_conn *a, weft_sys_conn *b, bool duplex);

/* Make an end of `file`, a file that weft_sys_conn_pair made, which this
 * process now owns (a child's inherited copy, a duplicate). It stays
 * owned by the caller when this fails. Returns WEFT_OK, WEFT_EAGAIN or
 * WEFT_EOS. */
int weft_sys_conn_open(weft_sys_conn *out, weft_sys_file file);

/* Read up to len (> 0) bytes, waiting until `deadline` for the first.
 * Returns WEFT_OK with *got > 0; WEFT_OK with *got == 0 at the end (every
 * writer is gone and everything was read); WEFT_ETIMEDOUT when nothing came
 * by the deadline; WEFT_EOS. */
int weft_sys_conn_read(weft_sys_conn *c, void *buf, size_t len, size_t *got, int64_t deadline);

/* Read up to len (> 0) bytes that are there now, never waiting, so cheap
 * enough to ask in a spin: as weft_sys_conn_read, but WEFT_EAGAIN when a
 * read would wait. */
int weft_sys_conn_try_read(weft_sys_conn *c, void *buf, size_t len, size_t *got);

/* Write the head_len bytes at head, then the body_len at body, waiting
 * until `deadline` for the first byte to go: once one has gone, all of
 * them go, however long that takes. Returns WEFT_OK; WEFT_ETIMEDOUT when
 * nothing was written; WEFT_ESHUTDOWN when the reading end is gone (the
 * write may have been cut short then; no SIGPIPE reaches the process);
 * WEFT_EOS. */
int weft_sys_conn_write(weft_sys_conn *c, const void *head, size_t head_len, const void *body,
                        size_t body_len, int64_t deadline);

/* Wait until a read would not block (bytes, or the end) or the deadline
 * passes. Returns WEFT_OK, WEFT_ETIMEDOUT or WEFT_EOS. */
int weft_sys_conn_wait(weft_sys_conn *c, int64_t deadline);

/* Close the end (its file and events). */
void weft_sys_conn_close(weft_sys_conn *c);

#endif /* WEFT_SYS_CONN_H */

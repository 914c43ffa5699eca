/* SPDX-License-Identifier: MIT */
/**
 * \file weft/ipc.h
 * \brief Between processes: the other half of Python's multiprocessing
 *        (Pipe, Queue, shared_memory, Lock, Semaphore, Event), and handing
 *        those objects to a child.
 *
 * Every object here works in a fork child and can be handed to a child
 * started by either method (weft_process_opts.pass), on POSIX and Windows;
 * none needs a server process. Handles are opaque, made by `*_create` or
 * weft_pipe(), and freed in the calling process by `*_close`: the object
 * itself lives on while another process holds it.
 */
#ifndef WEFT_IPC_H
#define WEFT_IPC_H

#include "base.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Connections (multiprocessing.Pipe) ---------------------------------- */

/**
 * One end of a connection (multiprocessing.Connection): whole messages of
 * bytes, any size (0 too), in order, each one written and read whole.
 *
 * Within a process, any number of threads may send on one end at once, and
 * any number receive: each end has a lock for its senders and one for its
 * receivers, so messages never interleave. Between processes the kernel
 * gives no such lock: when an end is handed to a child, only one of the
 * processes that hold it should send on it, and only one receive (two
 * senders in two processes may interleave the bytes of large messages;
 * two receivers may each get part of one). Python's Connection has the
 * same rule.
 *
 * POSIX: a pair of AF_UNIX stream sockets (a one-way pipe shuts the other
 * direction of each). Windows: an overlapped named pipe with a unique
 * name. Both are close-on-exec (not inheritable): an end reaches a child
 * only through weft_process_opts.pass.
 */
typedef struct weft_conn weft_conn;

/**
 * Make a connected pair of ends (multiprocessing.Pipe(duplex)).
 * \param a receives the first end: with `duplex`, it sends what `b`
 *        receives and receives what `b` sends; without, it only receives.
 * \param b receives the second end; without `duplex`, it only sends.
 * \param duplex both ways, or one way from `b` to `a`.
 * \returns `WEFT_OK` with both ends; `WEFT_EINVAL` for NULL `a` or `b`;
 *          `WEFT_EAGAIN` when no descriptor (handle) is left; `WEFT_ENOMEM`;
 *          `WEFT_EOS`. Nothing is made on failure.
 * \par Thread safety:
 * Safe from any thread. Never blocks.
 */
WEFT_API int weft_pipe(weft_conn **a, weft_conn **b, bool duplex);

/**
 * Send the `len` bytes at `msg` as one message (send_bytes). The timeout
 * bounds the wait for this end's other senders and for room to start the
 * message; a message once started is always sent whole, however long the
 * receiver takes to make room (a message larger than the pipe's buffer
 * needs a receiver reading it meanwhile).
 * \param conn an end that sends.
 * \param msg the bytes; NULL is fine when `len` is 0.
 * \param len how many; 0 sends an empty message.
 * \param timeout `WEFT_FOREVER`, 0 or the longest wait in seconds.
 * \returns `WEFT_OK`; `WEFT_ETIMEDOUT` (nothing was sent); `WEFT_EOF` when
 *          the other end is closed in every process (also when it closed
 *          while this message was going: the message is lost);
 *          `WEFT_EPERM` on the receiving end of a one-way pipe;
 *          `WEFT_EINVAL` for NULL `conn`, NULL `msg` with `len` > 0, or a
 *          bad timeout; `WEFT_EOS`. SIGPIPE never reaches the process.
 * \par Thread safety:
 * Safe from any thread; senders on one end take turns. Blocks up to
 * `timeout` to start, then until the message is written.
 */
WEFT_API int weft_conn_send(weft_conn *conn, const void *msg, size_t len, double timeout);

/**
 * Receive the next message whole (recv_bytes).
 * \param conn an end that receives.
 * \param msg receives the bytes, allocated (free with weft_free()), never
 *        NULL, with a NUL after the last byte (so text can be read as a
 *        string); NULL on failure.
 * \param len receives the count; 0 on failure.
 * \param timeout `WEFT_FOREVER`, 0 or the longest wait in seconds: it
 *        bounds the wait for this end's other receivers and for the first
 *        byte of a message; a message once started is read whole (its
 *        sender always completes it, or dies).
 * \returns `WEFT_OK`; `WEFT_ETIMEDOUT` (nothing was taken); `WEFT_EOF`
 *          once the other end is closed in every process and every
 *          message was read (also when its sender died in the middle of a
 *          message: the part is dropped); `WEFT_ENOMEM` when the message
 *          is larger than memory allows: it is read and dropped, and the
 *          next message can be received; `WEFT_EPERM` on the sending end
 *          of a one-way pipe; `WEFT_EINVAL` for NULL arguments, a bad
 *          timeout, or bytes that are not a message (something other than
 *          weft_conn_send() wrote into the connection: from then on every
 *          receive on this end returns `WEFT_EINVAL`); `WEFT_EOS`.
 * \par Thread safety:
 * Safe from any thread; receivers on one end take turns. Blocks up to
 * `timeout` for a message to start, then until it has been read.
 */
WEFT_API int weft_conn_recv(weft_conn *conn, void **msg, size_t *len, double timeout);

/**
 * Wait until weft_conn_recv() would not wait for a message to start
 * (poll(timeout)): a message has started, or the other end is closed.
 * \param conn an end that receives.
 * \param timeout `WEFT_FOREVER`, 0 (look, never block) or the longest
 *        wait in seconds.
 * \returns `WEFT_OK` when a receive would not wait; `WEFT_ETIMEDOUT`;
 *          `WEFT_EPERM` on the sending end of a one-way pipe; `WEFT_EINVAL`
 *          for NULL or a bad timeout; `WEFT_EOS`.
 * \par Thread safety:
 * Safe from any thread: it waits for the end's receivers as a receive
 * does (while another thread receives, a receive would wait). Blocks up to
 * `timeout`.
 */
WEFT_API int weft_conn_poll(weft_conn *conn, double timeout);

/**
 * Close this process's copy of the end and free the handle (close()). The
 * other end sees `WEFT_EOF` once every process holding this end has closed
 * it (or ended).
 * \param conn the end; NULL is ignored.
 * \par Thread safety:
 * Not while another thread uses the same end. Never blocks.
 */
WEFT_API void weft_conn_close(weft_conn *conn);

/* ---- Shared memory (multiprocessing.shared_memory) ------------------------ */

/* ---- Locks between processes (multiprocessing.Lock, Semaphore, Event) ----- */

/* ---- Handing objects to a child ------------------------------------------- */

/**
 * In a child started by weft_process_start() with `pass` in its options:
 * the i-th handle passed, the child's own (close it as any handle of this
 * header; every call gives the same one).
 *
 * With the spawn method the child inherits exactly the passed handles' OS
 * files (and its standard ones), nothing else. With the fork method the
 * child is a copy of the parent and keeps every descriptor the parent had
 * (weft closes none of them, as Python's fork does not); the passed handle
 * is a new one on duplicates of the parent's files, so its locks are fresh
 * whatever the parent's threads held at the fork, and closing it leaves the
 * child's copy of the parent's handle alone.
 * \param i the index into the parent's `pass` array.
 * \returns the handle (cast it to the type passed); NULL past the end of
 *          the array, and in a process that was not started that way.
 * \par Thread safety:
 * Safe from any thread. Never blocks.
 */
WEFT_API void *weft_process_passed(size_t i);

#ifdef __cplusplus
}
#endif

#endif /* WEFT_IPC_H */

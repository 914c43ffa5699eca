/* SPDX-License-Identifier: MIT */
/**
 * \file weft/ipc.h
 * \brief Between processes: the other half of Python's multiprocessing
 *        (Pipe, Queue, shared_memory, Lock, Semaphore, Event), and handing
 *        those objects to a child.
 *
 * Every object here can be handed to a child started by either method
 * (weft_process_opts.pass), on POSIX and Windows; none needs a server
 * process. In a child started by fork, the parent's shared memory, plocks,
 * psems and pevents keep working as they are (memory both processes
 * share, as in Python); the parent's connections do not (see
 * weft_process_passed()): a child gets an end only by being passed it, so
 * an end it does not use never keeps the other end from seeing WEFT_EOF. Handles are opaque, made by `*_create` or
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

/* ---- Process queue (multiprocessing.Queue, JoinableQueue) ----------------- */

/**
 * A queue of messages between processes (multiprocessing.JoinableQueue,
 * and Queue and SimpleQueue by ignoring task_done and join): any process
 * that has it may put and get. Each message is a copy of bytes, delivered
 * whole to exactly one get, in the order of the puts (so in each producer's
 * order); there is no feeder thread: a put returns once its message is in
 * the queue.
 *
 * Kept in shared memory (256 KiB for the messages) under a lock between
 * processes; a message larger than 64 KiB travels in a weft_shm block of
 * its own (named "wsm_..."), which the get that takes it removes.
 *
 * A process killed while it uses the queue:
 * - a producer killed in a put never makes a partial message visible and,
 *   where the OS tells of a lock's dead holder (see weft_plock: Linux,
 *   FreeBSD, Windows), leaves the queue working for the others. On macOS,
 *   OpenBSD and NetBSD a process killed while it holds the queue's lock
 *   (during the copy of one message of at most 64 KiB) leaves it held:
 *   every later call fails once its timeout (plus a grace of one second)
 *   has passed, and the calls without a timeout wait for ever.
 * - a consumer killed in a get loses at most the message it was taking:
 *   nothing when it dies before taking it, that message when it dies after.
 * - a producer killed in the put of a message larger than 64 KiB before
 *   that message is in the queue leaves its block's name in /dev/shm
 *   (POSIX); so does the last process that closes a queue still holding
 *   such messages. Drain the queue, or shut it down with `immediate`.
 *
 * On Windows a block lives only while a handle to it is open, so the
 * process that put a message larger than 64 KiB keeps its block open until
 * a get has taken it: that process must not close the queue (or end)
 * before then (weft_pqueue_join() tells), or the message is lost and gets
 * skip it.
 */
typedef struct weft_pqueue weft_pqueue;

/**
 * Make an empty process queue (`multiprocessing.JoinableQueue(maxsize)`).
 * \param out receives the handle; close it with weft_pqueue_close().
 * \param maxsize the most messages it holds (put waits while it is full);
 *        0: no limit but its memory (a put then waits for room).
 * \returns `WEFT_OK`; `WEFT_EINVAL` for NULL `out`; `WEFT_ENOMEM`;
 *          `WEFT_EAGAIN` when no file descriptor (handle) is left;
 *          `WEFT_EOS`.
 * \par Thread safety:
 * Safe from any thread. Never blocks.
 */
WEFT_API int weft_pqueue_create(weft_pqueue **out, size_t maxsize);

/**
 * Put a copy of `len` bytes at `msg` into the queue (`put(obj, timeout)`),
 * waiting up to `timeout` for room.
 * \param q the queue.
 * \param msg the message; may be NULL when `len` is 0.
 * \param len its length in bytes, 0 allowed.
 * \param timeout `WEFT_FOREVER`, 0 (do not wait for room) or the longest
 *        wait in seconds.
 * \returns `WEFT_OK`; `WEFT_EFULL` when there was no room by the timeout
 *          (maxsize messages, or no free memory in the queue);
 *          `WEFT_ESHUTDOWN` once weft_pqueue_shutdown() was called in any
 *          process (also for a put waiting then); `WEFT_ENOMEM` (no room
 *          for a large message's block) or `WEFT_EAGAIN` (no descriptor
 *          left for it), nothing put; `WEFT_EINVAL` for NULL `q`, NULL
 *          `msg` with a `len`, or a bad timeout; `WEFT_EOS`.
 * \par Thread safety:
 * Safe from any thread of any process that has the queue. Blocks up to
 * `timeout`.
 */
WEFT_API int weft_pqueue_put(weft_pqueue *q, const void *msg, size_t len, double timeout);

/**
 * Take the oldest message (`get(timeout)`), waiting up to `timeout` for
 * one.
 * \param q the queue.
 * \param msg receives the message, allocated (non-NULL also for length 0);
 *        free it with weft_free().
 * \param len receives its length.
 * \param timeout `WEFT_FOREVER`, 0 or the longest wait in seconds.
 * \returns `WEFT_OK`; `WEFT_EEMPTY` when none came by the timeout;
 *          `WEFT_ESHUTDOWN` when the queue is shut down and empty (a plain
 *          shutdown lets gets take what is left first); `WEFT_ENOMEM`
 *          (no memory for the message: it stays in the queue);
 *          `WEFT_EINVAL` for NULL `q`, `msg` or `len`, or a bad timeout;
 *          `WEFT_EOS`.
 * \par Thread safety:
 * Safe from any thread of any process that has the queue. Blocks up to
 * `timeout`.
 */
WEFT_API int weft_pqueue_get(weft_pqueue *q, void **msg, size_t *len, double timeout);

/**
 * Say that a message taken by a get is processed (`task_done()`).
 * \param q the queue.
 * \returns `WEFT_OK`; `WEFT_EINVAL` when called more times than messages
 *          were put, or for NULL.
 * \par Thread safety:
 * Safe from any thread of any process that has the queue. Waits only for
 * the queue's lock.
 */
WEFT_API int weft_pqueue_task_done(weft_pqueue *q);

/**
 * Wait until every message put has been marked done with
 * weft_pqueue_task_done() (`join()`, with a timeout).
 * \param q the queue.
 * \param timeout `WEFT_FOREVER`, 0 or the longest wait in seconds.
 * \returns `WEFT_OK`; `WEFT_ETIMEDOUT`; `WEFT_EINVAL` for NULL or a bad
 *          timeout.
 * \par Thread safety:
 * Safe from any thread of any process that has the queue. Blocks up to
 * `timeout`.
 */
WEFT_API int weft_pqueue_join(weft_pqueue *q, double timeout);

/**
 * How many messages the queue holds (`qsize()`): a snapshot, which other
 * processes may change at once.
 * \param q the queue.
 * \returns the count; 0 for NULL (or when the queue's lock could not be
 *          had within a second).
 * \par Thread safety:
 * Safe from any thread of any process that has the queue. Waits only for
 * the queue's lock.
 */
WEFT_API size_t weft_pqueue_size(weft_pqueue *q);

/**
 * Shut the queue down, for every process that has it (`shutdown(immediate)`,
 * Python 3.13): from then on puts fail with `WEFT_ESHUTDOWN`, and so do gets
 * once the queue is empty; blocked puts and gets in every process wake with
 * it. `immediate` also drops every message still in the queue, counting
 * each as done for weft_pqueue_join(). Calling it again does no harm (an
 * immediate shutdown after a plain one drops the messages).
 * \param q the queue; NULL does nothing.
 * \param immediate drop the messages still in the queue.
 * \par Thread safety:
 * Safe from any thread of any process that has the queue. Waits only for
 * the queue's lock.
 */
WEFT_API void weft_pqueue_shutdown(weft_pqueue *q, bool immediate);

/**
 * Free this process's handle (`close()`); the queue lives on in the
 * processes that still have it, with its messages.
 * \param q the handle; NULL does nothing.
 * \par Thread safety:
 * Not while another thread of this process uses the handle. Never blocks.
 */
WEFT_API void weft_pqueue_close(weft_pqueue *q);

/* ---- Shared memory (multiprocessing.shared_memory) ------------------------ */

/**
 * A block of memory that several processes map (shared_memory.SharedMemory).
 *
 * Names: 1 to WEFT_SHM_NAME_MAX bytes of UTF-8 without '/' or '\\', after
 * one leading '/', which is allowed and ignored ("/data" and "data" are the
 * same block, as for Python's SharedMemory, which adds that '/' on POSIX).
 * The OS's name is "/<name>" on POSIX (so Python's
 * `SharedMemory(name="<name>")` opens the same block) and "Local\\<name>"
 * on Windows (the session's namespace, where Python's names are too). The
 * limit is macOS's: its shm_open takes 31 bytes with the '/'.
 *
 * Lifetime: the memory lives while any process maps it or (POSIX) while it
 * has a name; weft_shm_unlink() removes the name. Windows has no such
 * removal: there a block lives exactly while some process has it open
 * (a handle handed to a child counts), and its name goes with the last
 * weft_shm_close(); weft_shm_unlink() does nothing there.
 */
typedef struct weft_shm weft_shm;

/** The longest name of a shared memory block, in bytes, without the
 *  optional leading '/'. */
#define WEFT_SHM_NAME_MAX 30

/**
 * Create a block of shared memory and map it
 * (`SharedMemory(name, create=True, size=size)`).
 *
 * All of its memory is reserved here (Linux: fallocate on /dev/shm;
 * Windows: the section is committed), so that a full /dev/shm is this
 * call's `WEFT_ENOMEM`, never a SIGBUS when the memory is touched later.
 *
 * \param out receives the handle; close it with weft_shm_close().
 * \param name the block's name (see weft_shm for the rule); NULL makes a
 *        fresh unique one, which weft_shm_name() tells.
 * \param size the size in bytes, more than 0 (beyond 4 GiB where pointers
 *        have 64 bits).
 * \returns `WEFT_OK` with the block mapped, zero-filled, in `*out`;
 *          `WEFT_EEXIST` when a block has that name already;
 *          `WEFT_EINVAL` for NULL `out`, a size of 0, or a name that breaks
 *          the rule; `WEFT_ENOMEM` when the system has no room for `size`
 *          bytes (a full /dev/shm, the commit limit; SIZE_MAX) or no memory
 *          for the handle; `WEFT_EAGAIN` when no file descriptor is left;
 *          `WEFT_EOS`. Each failure leaves nothing behind (no name).
 * \par Thread safety:
 * Safe from any thread. Blocks while the system zero-fills the memory.
 */
WEFT_API int weft_shm_create(weft_shm **out, const char *name, size_t size);

/**
 * Open and map an existing block (`SharedMemory(name)`), all of it.
 *
 * \param out receives the handle; close it with weft_shm_close().
 * \param name its name, with or without the leading '/'.
 * \returns `WEFT_OK`; `WEFT_ENOENT` when no block has that name;
 *          `WEFT_EINVAL` for NULL `out` or a name that breaks the rule;
 *          `WEFT_EAGAIN` when no file descriptor is left, or when the
 *          block's creator has not sized it yet (try again);
 *          `WEFT_ENOMEM`; `WEFT_EOS`.
 * \par Thread safety:
 * Safe from any thread. Never blocks.
 */
WEFT_API int weft_shm_open(weft_shm **out, const char *name);

/**
 * The block's memory in this process (`SharedMemory.buf`).
 * \param shm the handle.
 * \returns the start of the mapping, page-aligned; NULL for NULL. Valid
 *          until weft_shm_close().
 * \par Thread safety:
 * Safe from any thread. Never blocks. The memory itself is not guarded:
 * use a weft_plock, or atomics, between its users.
 */
WEFT_API void *weft_shm_ptr(weft_shm *shm);

/**
 * The block's size (`SharedMemory.size`).
 * \param shm the handle.
 * \returns the size in bytes; 0 for NULL. A block opened by name on
 *          Windows reports its size rounded up to a page, as Windows tells
 *          no more (Python's SharedMemory does the same).
 * \par Thread safety:
 * Safe from any thread. Never blocks.
 */
WEFT_API size_t weft_shm_size(const weft_shm *shm);

/**
 * The block's name (`SharedMemory.name`), without a leading '/'.
 * \param shm the handle.
 * \returns the name, valid until weft_shm_close(); NULL for NULL.
 * \par Thread safety:
 * Safe from any thread. Never blocks.
 */
WEFT_API const char *weft_shm_name(const weft_shm *shm);

/**
 * Unmap the block in this process and free the handle
 * (`SharedMemory.close()`). The block lives on while another process maps
 * it or (POSIX) while it has a name.
 * \param shm the handle; NULL does nothing.
 * \par Thread safety:
 * Not while another thread uses the handle or its memory. Never blocks.
 */
WEFT_API void weft_shm_close(weft_shm *shm);

/**
 * Remove a block's name (`SharedMemory.unlink()`): no later
 * weft_shm_open() finds it; the memory lives on while anyone maps it.
 *
 * Windows has no such removal: a block there lives while a handle to it is
 * open and then goes, name and all. There this call checks the name and
 * does nothing else (as Python's unlink there), so that the POSIX habit of
 * close-then-unlink works unchanged.
 *
 * \param name the block's name, with or without the leading '/'.
 * \returns `WEFT_OK`; `WEFT_ENOENT` when no block has that name (POSIX);
 *          `WEFT_EINVAL` for a name that breaks the rule; `WEFT_EOS`.
 * \par Thread safety:
 * Safe from any thread. Never blocks.
 */
WEFT_API int weft_shm_unlink(const char *name);

/* ---- Locks between processes (multiprocessing.Lock, Semaphore, Event) ----- */

/**
 * A lock between processes (multiprocessing.Lock and RLock), with the calls,
 * timeouts and codes of weft_lock and weft_rlock.
 *
 * Unlike threading.Lock, a plock belongs to the thread that acquired it:
 * only that thread releases it (`WEFT_EPERM` for any other). That owner is
 * what lets the OS tell the next acquirer that the holder died holding the
 * lock (`WEFT_EOWNERDEAD`): on Linux and FreeBSD (a robust process-shared
 * mutex) and Windows (an abandoned mutex). macOS, OpenBSD and NetBSD cannot
 * tell: there a dead holder's plock stays held, and acquirers time out.
 * A thread that ends without releasing a plock counts as dead too.
 */
typedef struct weft_plock weft_plock;

/**
 * Make a plock, unlocked.
 * \param out receives the handle; close it with weft_plock_close().
 * \param recursive true: an RLock, which its owner may acquire again (one
 *        more level each time); false: a Lock, whose holder waits for
 *        itself when it acquires it again.
 * \returns `WEFT_OK`; `WEFT_EINVAL` for NULL `out`; `WEFT_ENOMEM`;
 *          `WEFT_EAGAIN` when no file descriptor (handle) is left;
 *          `WEFT_EOS`.
 * \par Thread safety:
 * Safe from any thread. Never blocks.
 */
WEFT_API int weft_plock_create(weft_plock **out, bool recursive);

/**
 * Acquire the plock, waiting up to `timeout` seconds.
 * \param lock the plock.
 * \param timeout `WEFT_FOREVER`, 0 (try once) or the longest wait in
 *        seconds; the owner of a recursive plock never waits.
 * \returns `WEFT_OK` when the caller now holds it; `WEFT_EOWNERDEAD` when
 *          the caller now holds it and the previous holder died holding
 *          it (what it guarded may be half-changed; where the OS can tell,
 *          see weft_plock); `WEFT_ETIMEDOUT` (nothing changed; also for the
 *          holder of a non-recursive plock, once its timeout has passed);
 *          `WEFT_EOVERFLOW` when the owner of a recursive plock holds as
 *          many levels as the system counts; `WEFT_EINVAL` for NULL or a
 *          bad timeout; `WEFT_EOS`.
 * \par Thread safety:
 * Safe from any thread of any process that has the plock. Blocks up to
 * `timeout`.
 */
WEFT_API int weft_plock_acquire(weft_plock *lock, double timeout);

/**
 * Release the plock (one level of a recursive one).
 * \param lock the plock.
 * \returns `WEFT_OK`; `WEFT_EPERM` when the calling thread does not hold
 *          it (nothing changes); `WEFT_EINVAL` for NULL.
 * \par Thread safety:
 * Only the holding thread releases. Never blocks.
 */
WEFT_API int weft_plock_release(weft_plock *lock);

/**
 * Free this process's handle; the plock lives on in the processes that
 * still have it.
 * \param lock the handle; NULL does nothing.
 * \par Thread safety:
 * Not while another thread of this process uses the handle. Never blocks.
 */
WEFT_API void weft_plock_close(weft_plock *lock);

/**
 * A semaphore between processes (multiprocessing.Semaphore and
 * BoundedSemaphore), with the calls, timeouts and codes of weft_sem.
 * Values run up to INT32_MAX (what a Windows semaphore holds).
 */
typedef struct weft_psem weft_psem;

/**
 * Make a semaphore between processes.
 * \param out receives the handle; close it with weft_psem_close().
 * \param value the initial value, at most INT32_MAX.
 * \param bounded true: release may never raise the value above `value`.
 * \returns `WEFT_OK`; `WEFT_EINVAL` for NULL `out` or a value above
 *          INT32_MAX; `WEFT_ENOMEM`; `WEFT_EAGAIN` when no file descriptor
 *          (handle) is left; `WEFT_EOS`.
 * \par Thread safety:
 * Safe from any thread. Never blocks.
 */
WEFT_API int weft_psem_create(weft_psem **out, uint32_t value, bool bounded);

/**
 * Decrement the value, waiting while it is 0.
 * \param sem the semaphore.
 * \param timeout `WEFT_FOREVER`, 0 or the longest wait in seconds.
 * \returns `WEFT_OK`; `WEFT_ETIMEDOUT` (nothing changed); `WEFT_EINVAL`
 *          for NULL or a bad timeout.
 * \par Thread safety:
 * Safe from any thread of any process that has it. Blocks up to `timeout`.
 */
WEFT_API int weft_psem_acquire(weft_psem *sem, double timeout);

/**
 * Add `n` to the value, waking up to `n` waiters in any process.
 * \param sem the semaphore.
 * \param n how much, at least 1.
 * \returns `WEFT_OK`; `WEFT_EOVERFLOW` when a bounded semaphore would pass
 *          its initial value, or any would pass INT32_MAX (nothing
 *          changes); `WEFT_EINVAL` for NULL or `n` of 0.
 * \par Thread safety:
 * Safe from any thread of any process that has it. Never blocks.
 */
WEFT_API int weft_psem_release(weft_psem *sem, uint32_t n);

/**
 * Free this process's handle; the semaphore lives on in the processes that
 * still have it.
 * \param sem the handle; NULL does nothing.
 * \par Thread safety:
 * Not while another thread of this process uses the handle. Never blocks.
 */
WEFT_API void weft_psem_close(weft_psem *sem);

/**
 * An event between processes (multiprocessing.Event), with the calls,
 * timeouts and codes of weft_event.
 */
typedef struct weft_pevent weft_pevent;

/**
 * Make an event between processes, its flag clear.
 * \param out receives the handle; close it with weft_pevent_close().
 * \returns `WEFT_OK`; `WEFT_EINVAL` for NULL `out`; `WEFT_ENOMEM`;
 *          `WEFT_EAGAIN` when no file descriptor (handle) is left;
 *          `WEFT_EOS`.
 * \par Thread safety:
 * Safe from any thread. Never blocks.
 */
WEFT_API int weft_pevent_create(weft_pevent **out);

/**
 * Set the flag and wake every waiter, in every process.
 * \param event the event; NULL does nothing.
 * \par Thread safety:
 * Safe from any thread of any process that has it. Never blocks.
 */
WEFT_API void weft_pevent_set(weft_pevent *event);

/**
 * Clear the flag.
 * \param event the event; NULL does nothing.
 * \par Thread safety:
 * Safe from any thread of any process that has it. Never blocks.
 */
WEFT_API void weft_pevent_clear(weft_pevent *event);

/**
 * Whether the flag is set.
 * \param event the event.
 * \returns the flag, a snapshot; false for NULL.
 * \par Thread safety:
 * Safe from any thread of any process that has it. Never blocks.
 */
WEFT_API bool weft_pevent_is_set(weft_pevent *event);

/**
 * Wait until the flag is set (Event.wait(timeout)).
 * \param event the event.
 * \param timeout `WEFT_FOREVER`, 0 or the longest wait in seconds.
 * \returns `WEFT_OK` when the flag was set during the wait or already set,
 *          even if it was cleared again before the waiter ran;
 *          `WEFT_ETIMEDOUT`; `WEFT_EINVAL` for NULL or a bad timeout.
 * \par Thread safety:
 * Safe from any thread of any process that has it. Blocks up to `timeout`.
 */
WEFT_API int weft_pevent_wait(weft_pevent *event, double timeout);

/**
 * Free this process's handle; the event lives on in the processes that
 * still have it.
 * \param event the handle; NULL does nothing.
 * \par Thread safety:
 * Not while another thread of this process uses the handle. Never blocks.
 */
WEFT_API void weft_pevent_close(weft_pevent *event);

/* ---- Handing objects to a child ------------------------------------------- */

/**
 * In a child started by weft_process_start() with `pass` in its options,
 * or by weft_popen_start() (a program linking weft, once it has called
 * weft_process_main(); weft/popen.h): the i-th handle passed, the child's
 * own (close it as any handle of this header; every call gives the same
 * one).
 *
 * With the spawn method the child inherits exactly the passed handles' OS
 * files (and its standard ones), nothing else. With the fork method the
 * child is a copy of the parent and keeps every descriptor the parent had
 * (weft closes none of them, as Python's fork does not), but the parent's
 * connection ends let go of theirs in the child and refuse every call but
 * close (`WEFT_EPERM`); its other handles of this header keep working. The
 * passed handle is a new one on duplicates of the parent's files, so its
 * locks are fresh whatever the parent's threads held at the fork, and
 * closing it leaves the child's copy of the parent's handle alone.
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

/* SPDX-License-Identifier: MIT */
/**
 * \file weft/queue.h
 * \brief Python's queue.Queue, LifoQueue and PriorityQueue, with Python
 *        3.13's shutdown.
 *
 * A queue holds `void *` items; it never looks at them, never frees them.
 * NULL is an item like any other (Python's None).
 * Every item put is counted as an unfinished task until a consumer calls
 * weft_queue_task_done() for it; weft_queue_join() waits for that count to
 * reach zero. A queue is an opaque handle from weft_queue_create(), given
 * back with weft_queue_destroy().
 *
 * A FIFO queue's puts and gets take no lock: each claims its item with one
 * atomic compare-and-swap. Its memory comes in chunks of 126 items (1 KiB
 * on a 64-bit target), and a chunk a slow thread may still be reading is
 * never given back to the allocator while the queue lives: emptied chunks
 * are kept for reuse, so a FIFO keeps the memory of the most items it ever
 * held at once (about 8 bytes an item) until weft_queue_destroy(). LIFO and
 * PRIORITY queues keep one array under a lock, grown as needed.
 */
#ifndef WEFT_QUEUE_H
#define WEFT_QUEUE_H

#include "base.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An opaque queue handle. */
typedef struct weft_queue weft_queue;

/** The order items come out in. */
typedef enum weft_queue_kind {
    WEFT_QUEUE_FIFO,    /**< queue.Queue: first in, first out */
    WEFT_QUEUE_LIFO,    /**< queue.LifoQueue: last in, first out */
    WEFT_QUEUE_PRIORITY /**< queue.PriorityQueue: smallest first (by `compare`), FIFO among equals */
} weft_queue_kind;

/** Options for weft_queue_create(); NULL means an unbounded FIFO. */
typedef struct weft_queue_opts {
    weft_queue_kind kind; /**< the order; WEFT_QUEUE_FIFO when zero-filled */
    size_t maxsize; /**< 0: unbounded; else puts wait while the queue holds this many */
    /** PRIORITY only, required there: negative, 0 or positive as a is
     *  smaller than, equal to or greater than b. Called with the queue's
     *  lock held: it must not use the queue. */
    int (*compare)(const void *a, const void *b);
    void *reserved[4]; /**< zero: room for later fields (weft/base.h) */
} weft_queue_opts;

/**
 * Make a queue (queue.Queue(maxsize), LifoQueue, PriorityQueue).
 * \param out receives the queue; give it back with weft_queue_destroy().
 * \param opts the kind, size limit and order; NULL for an unbounded FIFO.
 * \returns `WEFT_OK`; `WEFT_EINVAL` for a NULL `out`, a non-zero reserved
 *          slot in `opts`, an unknown kind, or a PRIORITY queue without
 *          `compare`; `WEFT_ENOMEM`. On failure
 *          `*out` is NULL.
 * \par Thread safety:
 * Safe from any thread. Never blocks.
 */
WEFT_API int weft_queue_create(weft_queue **out, const weft_queue_opts *opts);

/**
 * Put an item (Queue.put(item, timeout=...)), waiting while the queue is
 * full.
 * \param queue the queue.
 * \param item the item; NULL is an item too.
 * \param timeout `WEFT_FOREVER`, 0 (put_nowait) or the longest wait.
 * \returns `WEFT_OK`; `WEFT_EFULL` when it stayed full until the timeout
 *          (queue.Full); `WEFT_ESHUTDOWN` once the queue is shut down,
 *          also for a putter waiting when that happens; `WEFT_EINVAL` for
 *          a NULL queue or a bad timeout; `WEFT_ENOMEM` (a growing queue that could
 *          not grow). Nothing is put on failure.
 * \par Thread safety:
 * Safe from any thread. Blocks up to `timeout`.
 */
WEFT_API int weft_queue_put(weft_queue *queue, void *item, double timeout);

/**
 * Take an item (Queue.get(timeout=...)), waiting while the queue is empty.
 * \param queue the queue.
 * \param item receives the item.
 * \param timeout `WEFT_FOREVER`, 0 (get_nowait) or the longest wait.
 * \returns `WEFT_OK`; `WEFT_EEMPTY` when it stayed empty until the timeout
 *          (queue.Empty); `WEFT_ESHUTDOWN` when the queue is shut down and
 *          empty (after a plain shutdown the items left are still handed
 *          out first); `WEFT_EINVAL` for NULL or a bad timeout.
 * \par Thread safety:
 * Safe from any thread. Blocks up to `timeout`; a FIFO's get whose next
 * item a put has claimed but not yet stored waits for that put to store
 * it, whatever the timeout (0 too): the item is in the queue already,
 * and items put after it may be too. That wait lasts a few instructions,
 * unless the scheduler stopped the putting thread between its two steps.
 */
WEFT_API int weft_queue_get(weft_queue *queue, void **item, double timeout);

/**
 * Mark one task done (Queue.task_done()): call it once for each item a
 * consumer got and finished with.
 * \param queue the queue.
 * \returns `WEFT_OK`; `WEFT_EINVAL` for NULL, or when called more often
 *          than items were put (ValueError in Python; nothing changes).
 * \par Thread safety:
 * Safe from any thread. Never blocks.
 */
WEFT_API int weft_queue_task_done(weft_queue *queue);

/**
 * Wait until every item put has been marked done (Queue.join()). Items
 * dropped by an immediate shutdown count as done.
 * \param queue the queue.
 * \param timeout `WEFT_FOREVER`, 0 or the longest wait in seconds.
 * \returns `WEFT_OK` when no task is unfinished; `WEFT_ETIMEDOUT`;
 *          `WEFT_EINVAL` for NULL or a bad timeout.
 * \par Thread safety:
 * Safe from any thread. Blocks up to `timeout`.
 */
WEFT_API int weft_queue_join(weft_queue *queue, double timeout);

/**
 * The number of items in the queue (Queue.qsize()).
 * \param queue the queue.
 * \returns a snapshot: a state the queue was in during the call; 0 for NULL.
 * \par Thread safety:
 * Safe from any thread. Never blocks for a FIFO; a LIFO or PRIORITY
 * queue's waits only for its lock, which a put or get holds for a moment.
 */
WEFT_API size_t weft_queue_size(const weft_queue *queue);
/**
 * Whether the queue holds no item (Queue.empty()).
 * \param queue the queue.
 * \returns a snapshot: a state the queue was in during the call; true for NULL.
 * \par Thread safety:
 * Safe from any thread. Never blocks for a FIFO; a LIFO or PRIORITY
 * queue's waits only for its lock, which a put or get holds for a moment.
 */
WEFT_API bool weft_queue_empty(const weft_queue *queue);
/**
 * Whether a bounded queue holds maxsize items (Queue.full()).
 * \param queue the queue.
 * \returns a snapshot: a state the queue was in during the call; false for NULL and for unbounded queues.
 * \par Thread safety:
 * Safe from any thread. Never blocks for a FIFO; a LIFO or PRIORITY
 * queue's waits only for its lock, which a put or get holds for a moment.
 */
WEFT_API bool weft_queue_full(const weft_queue *queue);

/**
 * Shut the queue down (Queue.shutdown(immediate), Python 3.13). From now
 * on puts fail with `WEFT_ESHUTDOWN`. Plain: gets go on handing out the
 * items left, then fail with `WEFT_ESHUTDOWN`. Immediate: the items left
 * are dropped (never touched; counted done for weft_queue_join) and gets
 * fail at once. Every blocked putter and getter is woken. Calling it again
 * may turn a plain shutdown into an immediate one.
 * \param queue the queue; NULL does nothing.
 * \param immediate drop the items left instead of handing them out.
 * \par Thread safety:
 * Safe from any thread. Never blocks.
 */
WEFT_API void weft_queue_shutdown(weft_queue *queue, bool immediate);

/**
 * Free the queue. Items still in it are not touched (free them first if
 * they need it).
 * \param queue the queue; NULL does nothing.
 * \par Thread safety:
 * No thread may use the queue any more, nor be blocked in
 * it: every call on it must have returned. A weft_queue_join()
 * that returned is enough for the weft_queue_task_done() calls
 * it waited for; workers still blocked in weft_queue_get() must
 * be sent home first (weft_queue_shutdown(), then join their
 * threads). A queue whose daemon workers were released, so that
 * nobody can join them, is never destroyed: it lives, as they do,
 * to the end of the process. Never blocks.
 */
WEFT_API void weft_queue_destroy(weft_queue *queue);

#ifdef __cplusplus
}
#endif

#endif /* WEFT_QUEUE_H */

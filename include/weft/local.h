/* SPDX-License-Identifier: MIT */
/**
 * \file weft/local.h
 * \brief Thread-local values (Python's threading.local).
 *
 * A weft_local is a key: each thread sees its own value under it, NULL
 * until that thread sets one. A local may have a destructor, which weft
 * calls with every non-NULL value exactly once, when the value's thread
 * ends or when the local is destroyed, whichever comes first:
 * - when any thread ends: threads weft started (returning from their
 *   function or weft_thread_exit()), threads weft did not start (through
 *   the pthread key destructor or the Windows FLS callback), and the thread
 *   that runs an orderly exit (weft_exit(), return from main()) — on that
 *   thread, after its other work is done;
 * - in weft_local_destroy(), for the value of every thread that still
 *   holds one, on the thread that destroys the local.
 *
 * Before a destructor is called the value is cleared, so a destructor sees
 * NULL for its own local. A destructor may set values of locals (its own
 * too): at a thread's end weft then goes round again, at most
 * #WEFT_LOCAL_DESTRUCTOR_ROUNDS rounds in all (as
 * PTHREAD_DESTRUCTOR_ITERATIONS); values set in the last round are dropped
 * without their destructor, so a destructor that always sets a value does
 * not loop forever.
 *
 * There is no limit on how many locals exist at once but memory: each
 * thread's values live in a table that grows to the largest local it has
 * set. weft_local_get() takes no lock and makes no call; weft_local_set()
 * takes none either once the calling thread's table is large enough.
 */
#ifndef WEFT_LOCAL_H
#define WEFT_LOCAL_H

#include "base.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A thread-local key: an opaque handle made by weft_local_create(). */
typedef struct weft_local weft_local;

/** How many rounds of destructors run at most when a thread ends. */
#define WEFT_LOCAL_DESTRUCTOR_ROUNDS 4

/**
 * Make a thread-local key (threading.local()). Every thread's value starts
 * as NULL, including the threads that already run.
 *
 * \param out receives the local; give it back with weft_local_destroy().
 * \param destructor called with each non-NULL value when its thread ends or
 *        the local is destroyed (see the overview); NULL for none.
 * \returns `WEFT_OK`; `WEFT_EINVAL` for a NULL `out`; `WEFT_ENOMEM`;
 *          `WEFT_EAGAIN` or `WEFT_EOS` when weft's one-time set-up on first
 *          use (its thread-local slot, its fork handlers) fails. On failure
 *          `*out` is NULL (unless `out` is NULL).
 * \par Thread safety:
 * Safe from any thread. Never blocks.
 * \sa weft_local_destroy()
 */
WEFT_API int weft_local_create(weft_local **out, void (*destructor)(void *value));

/**
 * The calling thread's value of the local.
 *
 * \param local the local.
 * \returns the value this thread last set; NULL when it has set none (or
 *          set NULL), and for a NULL `local`.
 * \par Thread safety:
 * Safe from any thread, each seeing its own value. Never
 * blocks, takes no lock, never allocates.
 */
WEFT_API void *weft_local_get(weft_local *local);

/**
 * Set the calling thread's value of the local. A value it replaces is not
 * passed to the destructor (it is the caller's to dispose of); NULL clears
 * the value.
 *
 * \param local the local.
 * \param value the new value; NULL is fine.
 * \returns `WEFT_OK`; `WEFT_EINVAL` for a NULL `local`; `WEFT_ENOMEM`
 *          when the calling thread's table
 *          could not grow, or, in a thread weft did not start, its thread
 *          record could not be made (the value is then unchanged). Setting
 *          NULL never fails for lack of memory.
 * \par Thread safety:
 * Safe from any thread. Never blocks, except that growing
 * the calling thread's table (the first time it sets a local with
 * a higher index than before) takes an internal lock briefly.
 */
WEFT_API int weft_local_set(weft_local *local, void *value);

/**
 * Destroy the local: call its destructor with every thread's remaining
 * non-NULL value, on the calling thread, then free it. A destructor called
 * here that sets this local again (on the calling thread) has that value
 * destroyed too, in at most #WEFT_LOCAL_DESTRUCTOR_ROUNDS rounds in all,
 * as at a thread's end. When it returns no
 * destructor of this local is running or will run (destructor calls that
 * ending threads had already begun are waited for), and the local must not
 * be used again; a new local never sees values of a destroyed one.
 *
 * \param local the local; NULL does nothing.
 * \par Thread safety:
 * Safe from any thread, and from a destructor (its own local
 * included), but no other thread may use this local meanwhile.
 * Blocks while its destructors run, and while destructor calls of
 * this local by ending threads finish.
 * \sa weft_local_create()
 */
WEFT_API void weft_local_destroy(weft_local *local);

#ifdef __cplusplus
}
#endif

#endif /* WEFT_LOCAL_H */

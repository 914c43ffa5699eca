/* SPDX-License-Identifier: MIT */
/**
 * \file weft/time.h
 * \brief Clocks, sleep and the CPU count (Python's time.monotonic,
 *        time.time, time.sleep and os.process_cpu_count).
 *
 * The monotonic clock never goes backwards and is the clock of every weft
 * timeout. The wall clock may jump; use it only to tell the time of day.
 */
#ifndef WEFT_TIME_H
#define WEFT_TIME_H

#include "base.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Seconds on the monotonic clock, from an unspecified origin.
 * \returns the monotonic time in seconds (nanosecond resolution where the OS
 *          gives it).
 * \par Thread safety:
 * Safe from any thread. Never blocks.
 * \sa weft_monotonic_ns
 */
WEFT_API double weft_monotonic(void);

/**
 * Nanoseconds on the monotonic clock, from an unspecified origin.
 * \returns the monotonic time in nanoseconds.
 * \par Thread safety:
 * Safe from any thread. Never blocks.
 */
WEFT_API int64_t weft_monotonic_ns(void);

/**
 * Seconds since the Unix epoch on the wall clock (time.time()).
 * \returns the wall-clock time in seconds.
 * \par Thread safety:
 * Safe from any thread. Never blocks.
 */
WEFT_API double weft_time(void);

/**
 * Sleep for `seconds` on the monotonic clock (time.sleep()), or until a stop
 * is requested for the calling weft thread (weft_thread_request_stop(), or
 * an exit a signal started: weft_exit() itself requests none, so it lets
 * this sleep run its full time).
 *
 * \param seconds how long to sleep; 0 returns at once; `WEFT_FOREVER` sleeps
 *        until a stop is requested.
 * \returns `WEFT_OK` after the full time; `WEFT_ECANCELED` as soon as a stop
 *          is requested for the calling thread (also when one was requested
 *          before the call); `WEFT_EINVAL` for a negative value other than
 *          `WEFT_FOREVER`, or NaN; `WEFT_ENOMEM` if the calling thread was
 *          not started by weft and its record could not be allocated.
 * \par Thread safety:
 * Safe from any thread. Blocks for up to `seconds`; 0 only
 * yields the processor to other threads, as time.sleep(0) does.
 * \sa weft_thread_request_stop
 */
WEFT_API int weft_sleep(double seconds);

/**
 * The number of CPUs this process may run on (its affinity mask where the OS
 * has one), like os.process_cpu_count().
 * \returns a count of at least 1.
 * \par Thread safety:
 * Safe from any thread. Never blocks.
 */
WEFT_API int weft_cpu_count(void);

#ifdef __cplusplus
}
#endif

#endif /* WEFT_TIME_H */

/* SPDX-License-Identifier: MIT */
/*
 * The allocation-failure hook of a WEFT_FAULT_INJECTION build (a CMake
 * option, off by default): test-only, never part of the public API, never
 * compiled into a normal build. tests/test_allocfail.c drives it: count the
 * allocations a call makes, then make each of them fail in turn.
 *
 * The count is per process and shared by every thread, so an allocation a
 * background thread of weft makes (a worker, a watcher) while the counted
 * call runs is counted too: a driver must accept that the failure lands
 * there rather than in the call.
 */
#ifndef WEFT_FAULT_H
#define WEFT_FAULT_H

#ifndef WEFT_FAULT_INJECTION
#error "src/fault.h is only for a WEFT_FAULT_INJECTION build"
#endif

#include <weft/base.h>

/* Restart the count of allocations at 0 and make the n-th allocation from
 * now on (1 is the next one) fail, exactly that one: the ones after it
 * succeed again, so a clean-up that allocates is not failed as well.
 * n = 0: no allocation fails (the count still runs). Thread-safe. */
WEFT_API void weft_fault_alloc_fail_at(long n);

/* How many allocations weft made since the last weft_fault_alloc_fail_at(),
 * the failed one included. Thread-safe. */
WEFT_API long weft_fault_alloc_count(void);

/* Where the allocation that failed since the last
 * weft_fault_alloc_fail_at() with n > 0 was asked for: a return address inside weft
 * (the caller of weft__malloc and its kin), for a symbolizer; NULL when
 * none failed or the compiler cannot tell (it is gcc's and clang's
 * __builtin_return_address). Thread-safe. */
WEFT_API const void *weft_fault_alloc_failed_site(void);

#endif /* WEFT_FAULT_H */

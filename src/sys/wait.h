/* SPDX-License-Identifier: MIT */
/*
 * Waiting on an address: posix/wait_futex.c or posix/wait_parkinglot.c,
 * win32/wait.c; used by the sync layer.
 */
#ifndef WEFT_SYS_WAIT_H
#define WEFT_SYS_WAIT_H

#include "base.h"

/* ---- Waiting on an address --------------------------------------------- */

/* Compare-and-sleep. If *addr (read atomically) differs from `expected`,
 * return WEFT_OK at once. Otherwise sleep until weft_sys_wake_* is called on
 * addr, the deadline passes, or spuriously. Returns WEFT_ETIMEDOUT when the
 * deadline has passed (before the call or during the sleep; a deadline of 0
 * has always passed), else WEFT_OK; so callers loop: re-check their
 * condition, call again with the same deadline, and give up on
 * WEFT_ETIMEDOUT. addr must be 4-byte aligned. The check and the sleep are
 * atomic with respect to the wake calls: a wake that follows a change of
 * *addr is never lost. Never allocates. */
int weft_sys_wait(const uint32_t *addr, uint32_t expected, int64_t deadline_ns);

/* Wake at least one thread sleeping in weft_sys_wait on addr, if any. addr
 * need not point to live memory any more: waking a dead address is
 * harmless (at worst a spurious wake-up). */
void weft_sys_wake_one(const uint32_t *addr);

/* Wake every thread sleeping in weft_sys_wait on addr; as above. */
void weft_sys_wake_all(const uint32_t *addr);

/* Move one thread sleeping in weft_sys_wait on `from` to sleep on `to`
 * instead, without waking it, if *from holds `expected`: a condition's
 * notify hands its parked waiter over to the held lock it will take next.
 * It then wakes as a thread parked on `to` does (weft_sys_wake_one(to),
 * its deadline, or spuriously) and must look at *from again. Where the
 * platform cannot move a sleeper (weft_sys_requeue_moves false), it wakes
 * it instead. Unlike the wakes, `from` must still be live memory: a dead
 * address reused by another sleeper would move that one. */
void weft_sys_requeue_one(const uint32_t *from, uint32_t expected, const uint32_t *to);

/* Whether weft_sys_requeue_one moves a sleeper (Linux futexes) rather
 * than waking it. */
extern const bool weft_sys_requeue_moves;

#endif /* WEFT_SYS_WAIT_H */

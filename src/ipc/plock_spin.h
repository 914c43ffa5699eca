/* SPDX-License-Identifier: MIT */
/*
 * The spin of a process lock's contender, shared by weft_plock
 * (ipc/plock.c) and weft_pqueue's own lock (ipc/pqueue.c): in a header of
 * its own, so that the rest of the process layer does not take in the
 * backend's inline lock calls with ipc.h.
 */
#ifndef WEFT_IPC_PLOCK_SPIN_H
#define WEFT_IPC_PLOCK_SPIN_H

#include "../sync/sync.h"
#include "../sys/plock.h"

/* After a first try found a process lock held (`code`, of
 * weft_sys_plock_try), try again for a while before the caller parks,
 * under the spin score of `kind`: the last try's code, 0 when it took the
 * lock. */
int weft__plock_spin(weft_sys_plock_at *at, int code, weft__spin_kind kind);

#endif /* WEFT_IPC_PLOCK_SPIN_H */

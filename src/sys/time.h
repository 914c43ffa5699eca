/* SPDX-License-Identifier: MIT */
/*
 * Clocks and the machine's CPUs: posix/time.c, win32/time.c; used by
 * time.c and the sync layer.
 */
#ifndef WEFT_SYS_TIME_H
#define WEFT_SYS_TIME_H

#include "base.h"

/* ---- Clocks ------------------------------------------------------------ */

/* Nanoseconds on a clock that never goes backwards and keeps counting while
 * the machine runs (CLOCK_MONOTONIC, QueryPerformanceCounter). */
int64_t weft_sys_monotonic_ns(void);

/* Nanoseconds since the Unix epoch on the wall clock. */
int64_t weft_sys_wall_ns(void);

/* ---- The machine ---------------------------------------------------------- */

/* The number of CPUs the process may run on (affinity mask), at least 1. */
int weft_sys_cpu_count(void);

/* Whether the process's threads can run on more than one CPU at once (the
 * process's affinity, as taskset or a container sets it, not the calling
 * thread's, which a program may have pinned): only then can spinning for a
 * thread that holds a lock pay, since on one CPU that thread cannot run. */
bool weft_sys_several_cpus(void);

/* The CPU the calling thread runs on as it asks (it may move at once
 * after), or -1 where the system does not say. Cheap (a read of what the
 * kernel keeps for the thread, no system call where the system has one:
 * 3 ns with glibc's rseq area): asked a few times per round trip through
 * an executor, to tell a partner that shares the caller's CPU, for which
 * spinning only burns the CPU that partner needs. Only a hint: never used
 * to move a thread. */
int weft_sys_current_cpu(void);

#endif /* WEFT_SYS_TIME_H */

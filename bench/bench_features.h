/* SPDX-License-Identifier: MIT */
/*
 * Included first by the timing benches, before any system header: the
 * build is strict C11, so ask for POSIX (PTHREAD_MUTEX_RECURSIVE,
 * nanosleep, getrusage...) and, on Linux, for what only _GNU_SOURCE
 * declares (sched_setaffinity, CPU_SET, pthread_attr_setaffinity_np).
 * HAVE_AFFINITY says whether threads can be pinned.
 */
#ifndef WEFT_BENCH_FEATURES_H
#define WEFT_BENCH_FEATURES_H

#if defined(__linux__)
#ifndef _GNU_SOURCE /* APR's pkg-config flags define it too */
#define _GNU_SOURCE
#endif
#define HAVE_AFFINITY 1
#else
#define _XOPEN_SOURCE 700
#define HAVE_AFFINITY 0
#endif

#endif /* WEFT_BENCH_FEATURES_H */

/* SPDX-License-Identifier: MIT */
/*
 * bench_competitors.h: the headers of the libraries weft is compared with,
 * each under the WEFT_BENCH_HAVE_* macro bench/CMakeLists.txt defines when
 * pkg-config found it (C11 <threads.h> where the C library has it), so a
 * bench compiles whichever of them this build has.
 */
#ifndef WEFT_BENCH_COMPETITORS_H
#define WEFT_BENCH_COMPETITORS_H

#if defined(WEFT_BENCH_HAVE_C11_THREADS)
#include <threads.h>
#endif
#if defined(WEFT_BENCH_HAVE_GLIB)
#include <glib.h>
#endif
#if defined(WEFT_BENCH_HAVE_UV)
#include <uv.h>
#endif
#if defined(WEFT_BENCH_HAVE_APR)
#include <apr_general.h>
#include <apr_pools.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>
#include <apr_thread_proc.h>
#endif
#if defined(WEFT_BENCH_HAVE_APRUTIL)
#include <apr_general.h>
#include <apr_pools.h>
#include <apr_queue.h>
#endif

#endif /* WEFT_BENCH_COMPETITORS_H */

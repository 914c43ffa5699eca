/* SPDX-License-Identifier: MIT */
/*
 * The atomic operations weft uses, on plain uint32_t / uint64_t / pointer
 * words. Public structs hold plain integers (no _Atomic in the API, so C++
 * and C89-era consumers can include the headers); every access that can
 * race goes through these functions.
 *
 * gcc, clang and clang-cl: the __atomic builtins (ThreadSanitizer models
 * them). MSVC: the Interlocked intrinsics and ISO volatile accesses.
 * Orders: "acquire" loads, "release" stores, and read-modify-writes that are
 * sequentially consistent (the Dekker-style "store value, then check the
 * waiter count" handshakes of the wait paths need that).
 */
#ifndef WEFT_ATOMIC_H
#define WEFT_ATOMIC_H

#ifndef WEFT_BUILDING
#error "src/atomic.h is internal to weft"
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <weft/lock.h>

/* Thread-local storage class: C11's keyword, which MSVC's C compiler spells
 * its own way. */
#if defined(_MSC_VER) && !defined(__clang__)
#define WEFT__THREAD_LOCAL __declspec(thread)
#else
#define WEFT__THREAD_LOCAL _Thread_local
#endif

/* Built for ThreadSanitizer: gcc says so with a macro, clang with a
 * feature test. TSan does not model fences or see atomics inside an asm,
 * so a few operations below take another form there. */
#if defined(__SANITIZE_THREAD__)
#define WEFT__TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define WEFT__TSAN 1
#endif
#endif

/* The cache line size weft pads and aligns to, so that words written by
 * different threads do not share a line: 64 bytes on the x86-64 and ARM64
 * machines weft runs on (Apple's M-series have 128-byte lines, where 64
 * still keeps neighbours apart more often than not). */
#define WEFT__CACHE_LINE 64

/* For a thread-local on a hot path, after WEFT__THREAD_LOCAL: the
 * initial-exec TLS model on ELF, so that in the shared library an access is
 * one thread-pointer-relative load rather than a call to __tls_get_addr (in
 * the static library it changes nothing). It draws on the static TLS space
 * that glibc, musl and the BSDs reserve for libraries loaded later by
 * dlopen, which is small (hundreds of bytes): keep such variables few and
 * small. Elsewhere (Mach-O, PE) the platform's default model. */
#if (defined(__GNUC__) || defined(__clang__)) && defined(__ELF__)
#define WEFT__TLS_INITIAL_EXEC __attribute__((tls_model("initial-exec")))
#else
#define WEFT__TLS_INITIAL_EXEC
#endif

/* Keep a slow path out of line, so that the fast path that calls it does
 * not pay for its registers and stack frame. */
#if defined(__GNUC__) || defined(__clang__)
#define WEFT__NOINLINE __attribute__((noinline))
#elif defined(_MSC_VER)
#define WEFT__NOINLINE __declspec(noinline)
#else
#define WEFT__NOINLINE
#endif

/* The branch that the fast path takes, for the compiler to lay that path
 * out straight, with no taken jump (the lock's acquire). */
#if defined(__GNUC__) || defined(__clang__)
#define WEFT__LIKELY(x) __builtin_expect(!!(x), 1)
#else
#define WEFT__LIKELY(x) (x)
#endif

/* A printf-style function, for the compiler to check its callers' formats.
 * Not with mingw-w64, whose gcc would check them against msvcrt's printf. */
#if (defined(__GNUC__) || defined(__clang__)) && !defined(__MINGW32__)
#define WEFT__PRINTF(format_index, first_arg) \
    __attribute__((format(printf, format_index, first_arg)))
#else
#define WEFT__PRINTF(format_index, first_arg)
#endif

/* A 64-bit word that the *64 functions below touch must be 8-aligned
 * wherever its struct is put (WEFT_ALIGN8): on i386 a uint64_t member is
 * aligned to 4 only, and an access that straddles a cache line is not
 * atomic. Checked here for the public structs; the library's own words
 * (pool.c, exit.c, thread.c, win32/time.c) carry WEFT_ALIGN8 too. */
#define WEFT__ASSERT_ALIGNED8(type, member)                                          \
    _Static_assert(_Alignof(type) >= 8 && offsetof(type, member) % 8 == 0,           \
                   #type "." #member " must be 8-aligned: WEFT_ALIGN8")

WEFT__ASSERT_ALIGNED8(weft_rlock, owner);

#if defined(__GNUC__) || defined(__clang__)

#define WEFT__SC __ATOMIC_SEQ_CST

static inline uint32_t weft__load_relaxed(const uint32_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
static inline uint32_t weft__load(const uint32_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
/* A sequentially consistent load: the "check the waiter count" half of the
 * store-then-check handshake between a waker and a thread about to park. */
static inline uint32_t weft__load_sc(const uint32_t *p) { return __atomic_load_n(p, WEFT__SC); }
static inline void weft__store_relaxed(uint32_t *p, uint32_t v) { __atomic_store_n(p, v, __ATOMIC_RELAXED); }
static inline void weft__store(uint32_t *p, uint32_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
static inline uint32_t weft__swap(uint32_t *p, uint32_t v) { return __atomic_exchange_n(p, v, WEFT__SC); }
/* Compare-and-swap: true when *p was *expected and is now desired; else
 * *expected receives the value seen. */
static inline bool weft__cas(uint32_t *p, uint32_t *expected, uint32_t desired)
{
    return __atomic_compare_exchange_n(p, expected, desired, false, WEFT__SC, __ATOMIC_ACQUIRE);
}
/* The same, for lock fast paths: acquire on success only. */
static inline bool weft__cas_acquire(uint32_t *p, uint32_t *expected, uint32_t desired)
{
    return __atomic_compare_exchange_n(p, expected, desired, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}
static inline uint32_t weft__swap_release(uint32_t *p, uint32_t v) { return __atomic_exchange_n(p, v, __ATOMIC_RELEASE); }
static inline uint32_t weft__fetch_add(uint32_t *p, uint32_t v) { return __atomic_fetch_add(p, v, WEFT__SC); }
static inline uint32_t weft__fetch_sub(uint32_t *p, uint32_t v) { return __atomic_fetch_sub(p, v, WEFT__SC); }
static inline uint32_t weft__fetch_and(uint32_t *p, uint32_t v) { return __atomic_fetch_and(p, v, WEFT__SC); }

static inline uint64_t weft__load64(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static inline void weft__store64(uint64_t *p, uint64_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
static inline uint64_t weft__fetch_add64(uint64_t *p, uint64_t v) { return __atomic_fetch_add(p, v, WEFT__SC); }
static inline bool weft__cas64(uint64_t *p, uint64_t *expected, uint64_t desired)
{
    return __atomic_compare_exchange_n(p, expected, desired, false, WEFT__SC, WEFT__SC);
}

/* size_t accesses, the loads and compare-and-swaps sequentially
 * consistent: the executor's queue positions, which a submit publishes
 * and then checks the workers' sleep word against (see executor.c). */
static inline size_t weft__load_size(const size_t *p) { return __atomic_load_n(p, WEFT__SC); }
static inline void weft__store_size_release(size_t *p, size_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
static inline bool weft__cas_size(size_t *p, size_t *expected, size_t desired)
{
    return __atomic_compare_exchange_n(p, expected, desired, false, WEFT__SC, WEFT__SC);
}

static inline void *weft__load_ptr(void *const *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static inline void weft__store_ptr(void **p, void *v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
static inline void *weft__swap_ptr(void **p, void *v) { return __atomic_exchange_n(p, v, WEFT__SC); }
static inline void *weft__load_ptr_sc(void *const *p) { return __atomic_load_n(p, WEFT__SC); }

/* A full fence: the stores before it are visible to every thread before
 * any load after it is made (the "store, then check" half of a handshake
 * whose store is not itself sequentially consistent). */
#if defined(WEFT__TSAN)
/* gcc refuses a fence under -fsanitize=thread (-Wtsan: ThreadSanitizer does
 * not model fences). A sequentially consistent read-modify-write of a word
 * on the stack is one TSan understands, and the same full barrier on the
 * processor: TSan's runtime makes it with a __sync builtin, a full barrier
 * on every architecture. */
static inline void weft__fence_sc(void)
{
    uint32_t word = 0;

    (void)__atomic_fetch_add(&word, 0, WEFT__SC);
}
#else
static inline void weft__fence_sc(void) { __atomic_thread_fence(WEFT__SC); }
#endif

/* A hint inside spin loops. */
static inline void weft__cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
    __asm__ __volatile__("yield");
#endif
}

#elif defined(_MSC_VER)

#include <intrin.h>

/* On MSVC every Interlocked operation is a full barrier; plain loads and
 * stores need a barrier after (acquire) or before (release) them off x86.
 * Every sequentially consistent store below is an Interlocked operation,
 * so a load with the acquire barrier after it is sequentially consistent
 * too: no store before it can pass it. Such loads never write the line,
 * which a lock-free look at another thread's counter must not do. */
#if defined(_M_ARM64)
#define WEFT__BARRIER() __dmb(_ARM64_BARRIER_ISH)
#elif defined(_M_ARM)
#define WEFT__BARRIER() __dmb(_ARM_BARRIER_ISH)
#else
#define WEFT__BARRIER() _ReadWriteBarrier()
#endif

static inline uint32_t weft__load_relaxed(const uint32_t *p) { return (uint32_t)__iso_volatile_load32((const volatile __int32 *)p); }
static inline uint32_t weft__load(const uint32_t *p)
{
    uint32_t v = (uint32_t)__iso_volatile_load32((const volatile __int32 *)p);
    WEFT__BARRIER();
    return v;
}
static inline uint32_t weft__load_sc(const uint32_t *p) { return weft__load(p); }
static inline void weft__store_relaxed(uint32_t *p, uint32_t v) { __iso_volatile_store32((volatile __int32 *)p, (__int32)v); }
static inline void weft__store(uint32_t *p, uint32_t v)
{
    WEFT__BARRIER();
    __iso_volatile_store32((volatile __int32 *)p, (__int32)v);
}
static inline uint32_t weft__swap(uint32_t *p, uint32_t v) { return (uint32_t)_InterlockedExchange((volatile long *)p, (long)v); }
static inline uint32_t weft__swap_release(uint32_t *p, uint32_t v) { return weft__swap(p, v); }
static inline bool weft__cas(uint32_t *p, uint32_t *expected, uint32_t desired)
{
    uint32_t seen = (uint32_t)_InterlockedCompareExchange((volatile long *)p, (long)desired, (long)*expected);
    if (seen == *expected)
        return true;
    *expected = seen;
    return false;
}
static inline bool weft__cas_acquire(uint32_t *p, uint32_t *expected, uint32_t desired) { return weft__cas(p, expected, desired); }
static inline uint32_t weft__fetch_add(uint32_t *p, uint32_t v) { return (uint32_t)_InterlockedExchangeAdd((volatile long *)p, (long)v); }
/* Adding 2^32 - v: -(long)v would overflow for v = 2^31. */
static inline uint32_t weft__fetch_sub(uint32_t *p, uint32_t v) { return (uint32_t)_InterlockedExchangeAdd((volatile long *)p, (long)(0u - v)); }
static inline uint32_t weft__fetch_and(uint32_t *p, uint32_t v) { return (uint32_t)_InterlockedAnd((volatile long *)p, (long)v); }

static inline uint64_t weft__load64(const uint64_t *p)
{
    uint64_t v = (uint64_t)__iso_volatile_load64((const volatile __int64 *)p);
    WEFT__BARRIER();
    return v;
}
static inline void weft__store64(uint64_t *p, uint64_t v)
{
    WEFT__BARRIER();
    __iso_volatile_store64((volatile __int64 *)p, (__int64)v);
}
static inline uint64_t weft__fetch_add64(uint64_t *p, uint64_t v) { return (uint64_t)_InterlockedExchangeAdd64((volatile __int64 *)p, (__int64)v); }
static inline bool weft__cas64(uint64_t *p, uint64_t *expected, uint64_t desired)
{
    uint64_t seen = (uint64_t)_InterlockedCompareExchange64((volatile __int64 *)p, (__int64)desired, (__int64)*expected);

    if (seen == *expected)
        return true;
    *expected = seen;
    return false;
}

/* size_t is 64 bits on 64-bit Windows, 32 on 32-bit: the intrinsics of
 * that width. */
#if defined(_WIN64)
#define WEFT__SIZE_T __int64
#define WEFT__SIZE_LOAD __iso_volatile_load64
#define WEFT__SIZE_CAS _InterlockedCompareExchange64
#else
#define WEFT__SIZE_T long
#define WEFT__SIZE_LOAD(p) __iso_volatile_load32((const volatile __int32 *)(p))
#define WEFT__SIZE_CAS _InterlockedCompareExchange
#endif

static inline size_t weft__load_size(const size_t *p)
{
    size_t v = (size_t)WEFT__SIZE_LOAD((const volatile WEFT__SIZE_T *)p);
    WEFT__BARRIER();
    return v;
}
static inline void weft__store_size_release(size_t *p, size_t v)
{
    WEFT__BARRIER();
    *(volatile size_t *)p = v;
}
static inline bool weft__cas_size(size_t *p, size_t *expected, size_t desired)
{
    size_t seen = (size_t)WEFT__SIZE_CAS((volatile WEFT__SIZE_T *)p, (WEFT__SIZE_T)desired, (WEFT__SIZE_T)*expected);

    if (seen == *expected)
        return true;
    *expected = seen;
    return false;
}

static inline void *weft__load_ptr(void *const *p)
{
    void *v = *(void *const volatile *)p;
    WEFT__BARRIER();
    return v;
}
static inline void weft__store_ptr(void **p, void *v)
{
    WEFT__BARRIER();
    *(void *volatile *)p = v;
}
static inline void *weft__swap_ptr(void **p, void *v) { return _InterlockedExchangePointer((void *volatile *)p, v); }
static inline void *weft__load_ptr_sc(void *const *p) { return weft__load_ptr(p); }

static inline void weft__fence_sc(void)
{
#if defined(_M_ARM64) || defined(_M_ARM)
    WEFT__BARRIER();
#elif defined(_M_X64)
    __faststorefence();
#else
    _mm_mfence();
#endif
}

#if defined(_M_ARM64) || defined(_M_ARM)
static inline void weft__cpu_relax(void) { __yield(); }
#else
static inline void weft__cpu_relax(void) { _mm_pause(); }
#endif

#else
#error "weft needs gcc, clang or MSVC atomics"
#endif

/* Subtract 1 from *p (sequentially consistent) and say where it stood:
 * 0 if it was 1, -1 if it was 0 (it wraps to UINT32_MAX), 1 if more.
 * What the lock's release needs, in one `lock sub` on x86 with gcc and
 * clang, whose flags tell the three apart: the portable fetch_sub makes an
 * `xadd` there, which bench_lock found as slow as a swap (`xchg`): 1.07x
 * the bare futex lock's uncontended acquire+release where `lock sub` made
 * 1.00x (AMD EPYC VM, pinned, quiet, spin round trip 86-90 ns). */
static inline int weft__decrement_sign(uint32_t *p)
{
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__)) && \
    defined(__GCC_ASM_FLAG_OUTPUTS__) && !defined(WEFT__TSAN)
    bool zero, borrow;

    __asm__ __volatile__("lock subl $1, %0" : "+m"(*p), "=@ccz"(zero), "=@ccc"(borrow) : : "memory");
    return zero ? 0 : borrow ? -1 : 1;
#else
    uint32_t old = weft__fetch_sub(p, 1);

    return old == 1 ? 0 : old == 0 ? -1 : 1;
#endif
}

#endif /* WEFT_ATOMIC_H */

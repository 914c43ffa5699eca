/* SPDX-License-Identifier: MIT */
/*
 * Which sanitizer a test program is built with, for the few cases whose
 * check a sanitizer changes: WEFT_TEST_ASAN and WEFT_TEST_TSAN are 1 or 0.
 * gcc says so with __SANITIZE_*__, clang (and gcc 14) with __has_feature.
 */
#ifndef WEFT_TEST_SANITIZERS_H
#define WEFT_TEST_SANITIZERS_H

#if defined(__SANITIZE_ADDRESS__)
#define WEFT_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WEFT_TEST_ASAN 1
#endif
#endif
#ifndef WEFT_TEST_ASAN
#define WEFT_TEST_ASAN 0
#endif

#if defined(__SANITIZE_THREAD__)
#define WEFT_TEST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define WEFT_TEST_TSAN 1
#endif
#endif
#ifndef WEFT_TEST_TSAN
#define WEFT_TEST_TSAN 0
#endif

#endif /* WEFT_TEST_SANITIZERS_H */

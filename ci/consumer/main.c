/* SPDX-License-Identifier: MIT */
/*
 * A tiny program that uses an installed (or add_subdirectory'd) weft, as a
 * user's project would: ci/consume.sh builds it three ways and checks that
 * it prints "consumer <how>: <kind> weft <version> OK, counter 20000".
 * CONSUMER_HOW names the way it was built. The version is the library's,
 * and must be the one of the header the program was compiled with.
 */
#include <weft.h>

#include <stdio.h>
#include <string.h>

#ifndef CONSUMER_HOW
#define CONSUMER_HOW "unknown"
#endif

static weft_lock lock = WEFT_LOCK_INIT;
static weft_event go = WEFT_EVENT_INIT;
static long counter;

static void *work(void *arg)
{
    (void)arg;
    if (weft_event_wait(&go, WEFT_FOREVER) != WEFT_OK)
        return NULL;
    for (int i = 0; i < 10000; i++) {
        weft_lock_acquire(&lock, WEFT_FOREVER);
        counter++;
        weft_lock_release(&lock);
    }
    return &counter;
}

int main(void)
{
    weft_thread *threads[2];
    for (int i = 0; i < 2; i++) {
        int status = weft_thread_start(&threads[i], work, NULL, NULL);
        if (status != WEFT_OK) {
            fprintf(stderr, "weft_thread_start: %s\n", weft_strerror(status));
            return 1;
        }
    }
    weft_event_set(&go);
    int ok = 1;
    for (int i = 0; i < 2; i++) {
        void *result = NULL;
        ok = ok && weft_thread_join(threads[i], WEFT_FOREVER, &result) == WEFT_OK &&
             result == &counter;
        weft_thread_release(threads[i]);
    }
#ifdef WEFT_STATIC
    const char *kind = "static";
#else
    const char *kind = "shared";
#endif
    ok = ok && strcmp(weft_version(), WEFT_VERSION_STRING) == 0;
    printf("consumer %s: %s weft %s %s, counter %ld\n", CONSUMER_HOW, kind, weft_version(),
           ok ? "OK" : "FAILED", counter);
    return ok && counter == 20000 ? 0 : 1;
}

/* SPDX-License-Identifier: MIT */
/*
 * threading.Event on one word:
 *
 *   state  bit 0      the flag
 *          bits 1-31  how many times the flag went from clear to set
 *
 * A waiter remembers the word it saw while the flag was clear. Clearing a
 * clear flag changes nothing, so any change it later sees is a set, even if
 * a clear followed before the waiter ran: Python reports that wait as True,
 * and so does weft. (2^31 sets between a waiter's two looks would fool it.)
 */
#include "sync.h"

#define FLAG 1u

bool weft__event_set(weft_event *event)
{
    uint32_t s = weft__load_relaxed(&event->state);

    do {
        if (s & FLAG)
            return false;
    } while (!weft__cas(&event->state, &s, (s + 2) | FLAG));
    if (weft__load_sc(&event->waiters) == 0)
        return false;
    weft_sys_wake_all(&event->state);
    return true;
}

void weft_event_set(weft_event *event)
{
    if (event)
        (void)weft__event_set(event);
}

void weft_event_clear(weft_event *event)
{
    if (event)
        weft__fetch_and(&event->state, ~FLAG);
}

bool weft_event_is_set(const weft_event *event)
{
    return event && (weft__load(&event->state) & FLAG) != 0;
}

int weft__event_wait_until(weft_event *event, int64_t deadline)
{
    uint32_t seen;
    int rc = WEFT_OK;

    seen = weft__load(&event->state);
    if (seen & FLAG)
        return WEFT_OK;
    if (deadline == 0)
        return WEFT_ETIMEDOUT;
    /* A set that comes within microseconds (a future's result, a hand-off
     * between two threads) is seen without parking, and spares the setter
     * its wake-up call. */
    if (weft__spin_until(weft__word_moved, &(weft__word_look){&event->state, seen}))
        return WEFT_OK;
    weft__fetch_add(&event->waiters, 1);
    while (weft__load(&event->state) == seen) {
        if (weft_sys_wait(&event->state, seen, deadline) == WEFT_ETIMEDOUT) {
            /* A set that raced with the deadline still counts. */
            rc = weft__load(&event->state) == seen ? WEFT_ETIMEDOUT : WEFT_OK;
            break;
        }
    }
    weft__fetch_sub(&event->waiters, 1);
    return rc;
}

int weft_event_wait(weft_event *event, double timeout)
{
    int64_t deadline;
    int rc = weft__begin_wait(event, timeout, &deadline);

    if (rc != WEFT_OK)
        return rc;
    return weft__timed_out(weft__event_wait_until(event, deadline),
                           "event_wait: timed out: the event is not set");
}

/* SPDX-License-Identifier: MIT */
/*
 * The debug build's registry of live handles (-DWEFT_DEBUG_HANDLES=ON):
 * every handle weft gives out is entered when it is made and removed when
 * its memory goes, and each public call on a handle looks it up first. A
 * call on a handle that was destroyed or released (or on something that
 * never was one of that kind) then fails with WEFT_EINVAL and says so on
 * stderr, instead of reading freed memory. Memory that a new handle of the
 * same kind reuses passes the check: the registry catches most uses after
 * destroy, not every one.
 *
 * An open-addressing table of (address, kind) under one lock, a leaf: no
 * other lock is taken while it is held, so any module may enter or look up
 * a handle with its own locks held.
 */
#include "runtime.h"

#ifdef WEFT_DEBUG_HANDLES

#include <stdio.h>
#include <string.h>

typedef struct entry {
    const void *handle; /* NULL: free; TOMBSTONE: removed */
    const char *kind;
} entry;

static const char tombstone;
#define TOMBSTONE ((const void *)&tombstone)

static weft_lock registry_lock = WEFT_LOCK_INIT;
static entry *table;
static size_t cap, used; /* used counts tombstones too */
/* An entry that could not be made for want of memory: from then on an
 * unknown handle may be a live one, so the check lets it pass. */
static bool incomplete;

static size_t slot_of(const void *handle, size_t mask)
{
    uintptr_t h = (uintptr_t)handle;

    h ^= h >> 17;
    h *= (uintptr_t)0x9E3779B97F4A7C15u;
    return (size_t)(h >> 7) & mask;
}

static entry *find(const void *handle)
{
    size_t mask = cap - 1, i;

    if (!table)
        return NULL;
    for (i = slot_of(handle, mask);; i = (i + 1) & mask) {
        if (table[i].handle == handle)
            return &table[i];
        if (!table[i].handle)
            return NULL;
    }
}

static void insert(entry *into, size_t into_cap, const void *handle, const char *kind)
{
    size_t mask = into_cap - 1, i;

    for (i = slot_of(handle, mask); into[i].handle && into[i].handle != TOMBSTONE;
         i = (i + 1) & mask)
        ;
    into[i].handle = handle;
    into[i].kind = kind;
}

/* Room for one more, the table at most half full; tombstones go. */
static bool make_room(void)
{
    size_t ncap = cap ? cap : 64, i;
    entry *grown;

    if ((used + 1) * 2 <= cap)
        return true;
    while ((used + 1) * 2 > ncap)
        ncap *= 2;
    grown = weft__calloc(ncap, sizeof *grown);
    if (!grown)
        return false;
    used = 0;
    for (i = 0; i < cap; i++) {
        if (table[i].handle && table[i].handle != TOMBSTONE) {
            insert(grown, ncap, table[i].handle, table[i].kind);
            used++;
        }
    }
    weft__free(table);
    table = grown;
    cap = ncap;
    return true;
}

void weft__handle_born(const void *handle, const char *kind)
{
    entry *e;

    weft__lock(&registry_lock);
    e = find(handle);
    if (e) {
        e->kind = kind; /* memory reused: the registry missed its end */
    } else if (make_room()) {
        insert(table, cap, handle, kind);
        used++;
    } else {
        incomplete = true;
    }
    weft__unlock(&registry_lock);
}

void weft__handle_gone(const void *handle)
{
    entry *e;

    if (!handle)
        return;
    weft__lock(&registry_lock);
    e = find(handle);
    if (e)
        e->handle = TOMBSTONE;
    weft__unlock(&registry_lock);
}

bool weft__handle_dead(const void *handle, const char *kind, const char *call)
{
    const char *found = NULL;
    bool dead;
    entry *e;

    weft__lock(&registry_lock);
    e = find(handle);
    if (e)
        found = e->kind;
    dead = e ? strcmp(found, kind) != 0 : !incomplete;
    weft__unlock(&registry_lock);
    if (!dead)
        return false;
    if (found)
        weft__fail(WEFT_EINVAL, "%s: %p is a %s, not a %s", weft__call_name(call), handle, found,
                   kind);
    else
        weft__fail(WEFT_EINVAL, "%s: %p is not a live %s (used after its destroy or release?)",
                   weft__call_name(call), handle, kind);
    fprintf(stderr, "weft: %s\n", weft_last_error_message());
    fflush(stderr);
    return true;
}

void weft__handles_at_fork(weft__fork_step step)
{
    weft__lock_at_fork(&registry_lock, step);
}

#else

typedef int weft__handles_off; /* ISO C: a translation unit declares something */

#endif /* WEFT_DEBUG_HANDLES */

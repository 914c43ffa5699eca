/* SPDX-License-Identifier: MIT */
/*
 * The allocation-failure hook (src/fault.h), compiled only with the CMake
 * option WEFT_FAULT_INJECTION. Every weft__malloc/calloc/realloc asks
 * weft__alloc_fails() first (src/memory.c). The #if keeps it out of the
 * single-file build too (ci/amalgamate.py pastes every file of src/), as
 * CMake keeps it out of a normal build.
 */
#ifdef WEFT_FAULT_INJECTION
#include "internal.h"

#include "fault.h"

/* Allocations since the last weft_fault_alloc_fail_at(), and which one of
 * them fails (0: none). 32 bits: a test never makes 4 billion. */
static uint32_t alloc_count;
static uint32_t alloc_fail_at;
/* The caller of the allocation that failed. */
static void *failed_site;

bool weft__alloc_fails(const void *caller)
{
    uint32_t target = weft__load(&alloc_fail_at);

    if (weft__fetch_add(&alloc_count, 1) + 1 != target || target == 0)
        return false;
    weft__store_ptr(&failed_site, (void *)(uintptr_t)caller);
    return true;
}

/* The hook belongs to the process that set it: a fork child starts with it
 * off, so a failure meant for the parent's call does not land in the
 * child's copy of the count. */
void weft__fault_at_fork(weft__fork_step step)
{
    if (step == WEFT__FORK_CHILD)
        weft__store(&alloc_fail_at, 0);
}

void weft_fault_alloc_fail_at(long n)
{
    /* Off while the count restarts, so no allocation in between can match. */
    weft__store(&alloc_fail_at, 0);
    weft__store(&alloc_count, 0);
    if (n > 0) /* turning it off keeps the last site, for the report */
        weft__store_ptr(&failed_site, NULL);
    weft__store(&alloc_fail_at, n > 0 && (unsigned long)n <= UINT32_MAX ? (uint32_t)n : 0);
}

long weft_fault_alloc_count(void)
{
    return (long)weft__load(&alloc_count);
}

const void *weft_fault_alloc_failed_site(void)
{
    return weft__load_ptr(&failed_site);
}

#endif /* WEFT_FAULT_INJECTION */

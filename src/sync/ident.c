/* SPDX-License-Identifier: MIT */
/* Thread idents, handed out by the synchronisation layer so that RLock and
 * RWLock need no thread record (and no allocation) to know their owner. */
#include "sync.h"

WEFT__THREAD_LOCAL uint64_t weft__self_ident_cache;

static WEFT_ALIGN8 uint64_t last_ident;

uint64_t weft__ident_new(void)
{
    return weft__fetch_add64(&last_ident, 1) + 1;
}

uint64_t weft__self_ident_slow(void)
{
    weft__self_ident_cache = weft__ident_new();
    return weft__self_ident_cache;
}

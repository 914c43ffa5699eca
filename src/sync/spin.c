/* SPDX-License-Identifier: MIT */
/* Whether spinning before parking can pay (sync.h has the spinning itself). */
#include "sync.h"

uint32_t weft__spinning;

bool weft__spinning_pays_slow(void)
{
    uint32_t known = weft_sys_several_cpus() ? 2 : 1;

    weft__store_relaxed(&weft__spinning, known);
    return known == 2;
}

/* SPDX-License-Identifier: MIT */
/* Whether spinning before parking can pay (sync.h has the spinning itself). */
#include "sync.h"

/* 0 not known yet, 1 no (one CPU), 2 yes. */
static uint32_t spinning;

bool weft__spinning_pays(void)
{
    uint32_t known = weft__load_relaxed(&spinning);

    if (known == 0) {
        known = weft_sys_several_cpus() ? 2 : 1;
        weft__store_relaxed(&spinning, known);
    }
    return known == 2;
}

/* SPDX-License-Identifier: MIT */
/* What the POSIX backend's files share. */
#ifndef WEFT_POSIX_H
#define WEFT_POSIX_H

#include "../internal.h"

/* The weft status for an errno from a POSIX call: the codes weft has a name
 * for map to it, anything else is WEFT_EOS with the errno recorded. */
int weft__status_from_errno(int err);

#endif /* WEFT_POSIX_H */

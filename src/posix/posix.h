/* SPDX-License-Identifier: MIT */
/* What the POSIX backend's files share. */
#ifndef WEFT_POSIX_H
#define WEFT_POSIX_H

#include "../internal.h"

/* The weft status for an errno from a POSIX call: the codes weft has a name
 * for map to it, anything else is WEFT_EOS with the errno recorded. */
int weft__status_from_errno(int err);

/* The status for the errno of a call that makes a descriptor (`call`
 * names it in the message): running out of descriptors (EMFILE, ENFILE)
 * is WEFT_EAGAIN, "try again once some are closed", with a message, as
 * the headers promise; ENOMEM is WEFT_ENOMEM; anything else WEFT_EOS. */
int weft__fd_status(int err, const char *call);

#endif /* WEFT_POSIX_H */

/* SPDX-License-Identifier: MIT */
/* The library's version, compiled in from the header of its own build, so
 * a program can tell it from the header the program was compiled with. */
#include "internal.h"

const char *weft_version(void)
{
    return WEFT_VERSION_STRING;
}

/* SPDX-License-Identifier: MIT */
/* weft/version.h: the version macros and weft_version(). */
#include "runner.h"

#include <stdio.h>

WEFT_TEST(version_library_matches_header)
{
    const char *built = weft_version();

    CHECK(built != NULL);
    CHECK_EQ_STR(built, WEFT_VERSION_STRING);
    CHECK(weft_version() == built); /* one static string, not a copy per call */
}

WEFT_TEST(version_string_is_major_minor_patch)
{
    char expected[64];

    snprintf(expected, sizeof expected, "%d.%d.%d", WEFT_VERSION_MAJOR, WEFT_VERSION_MINOR,
             WEFT_VERSION_PATCH);
    CHECK_EQ_STR(WEFT_VERSION_STRING, expected);
}

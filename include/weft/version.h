/* SPDX-License-Identifier: MIT */
/**
 * \file weft/version.h
 * \brief weft's version: the macros a program is compiled against, and
 *        weft_version(), the version of the library it runs with.
 *
 * This header is the one place the version is written: CMakeLists.txt reads
 * it for the project, the CMake package and weft.pc. Versions follow
 * semantic versioning. The shared library's SONAME carries the major
 * version (libweft.so.0); before 1.0 a minor version may still change the
 * API and the ABI under the same SONAME, so a program built against 0.1
 * needs rebuilding for 0.2. CHANGELOG.md says what each version changed.
 */
#ifndef WEFT_VERSION_H
#define WEFT_VERSION_H

#include "base.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The major version: changes that break the API or ABI (after 1.0). */
#define WEFT_VERSION_MAJOR 0
/** The minor version: new API, compatible with the same major version. */
#define WEFT_VERSION_MINOR 1
/** The patch version: fixes only. */
#define WEFT_VERSION_PATCH 0
/** The version as "MAJOR.MINOR.PATCH". */
#define WEFT_VERSION_STRING "0.1.0"

/**
 * The version of the weft library as it was built, "MAJOR.MINOR.PATCH".
 * A program can compare it with #WEFT_VERSION_STRING, the version of the
 * header it was compiled against, to notice a shared library of another
 * version.
 *
 * \returns a static string; never NULL.
 * \par Thread safety:
 * Safe from any thread. Never blocks.
 */
WEFT_API const char *weft_version(void);

#ifdef __cplusplus
}
#endif

#endif /* WEFT_VERSION_H */

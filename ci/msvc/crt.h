/* SPDX-License-Identifier: MIT */
/*
 * weft's CI only: the part of an MSVC static C runtime that the msvc-wine
 * entry (ci/msvc-wine.sh) needs, because Wine ships the DLL half of the
 * Universal CRT (ucrtbase.dll, vcruntime140.dll and their import
 * libraries) but not the static half (libcmt/msvcrt.lib's startup code)
 * that an MSVC program links into itself. crt_common.c is what every
 * module needs (initializer tables, TLS directory, /GS cookie, _fltused);
 * crt_exe.c and crt_dll.c are the two entry points, each with the atexit
 * of its kind of module.
 */
#ifndef WEFT_CI_MSVC_CRT_H
#define WEFT_CI_MSVC_CRT_H

/* Run the module's C initializers (.CRT$XI*, then .CRT$XC*) and randomise
 * its /GS cookie; non-zero when an initializer failed. Call it first. */
int weft_ci_crt_init(void);

#endif

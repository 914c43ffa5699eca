/* SPDX-License-Identifier: MIT */
/*
 * DllMain of weft's DLL (built only when weft is a shared library). At
 * process exit (DLL_PROCESS_DETACH with a non-NULL reserved argument)
 * ExitProcess has already ended every other thread, and the C runtime runs
 * the DLL's atexit table right after this function: record it, so an exit
 * hook run from that table waits for no thread (see exit.c).
 */
#include "win32.h"

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved)
{
    (void)instance;
    if (reason == DLL_PROCESS_DETACH && reserved != NULL)
        weft__win32_process_detaching = true;
    return TRUE;
}

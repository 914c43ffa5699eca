/* SPDX-License-Identifier: MIT */
/*
 * Shutdown events on Windows: a console control handler. Windows calls it
 * on a thread of its own, an ordinary thread, so the orderly exit runs right
 * there; the handler never returns, which also keeps Windows from ending the
 * process before the exit is done (after a close, log-off or shut-down event
 * it does so when the handler returns, or after about 5 seconds).
 */
#include "win32.h"

#ifndef STATUS_CONTROL_C_EXIT
#define STATUS_CONTROL_C_EXIT 0xC000013AL
#endif

static void (*on_signal_cb)(int code);
static bool (*exiting_cb)(void);
static LONG event_seen;
static SRWLOCK install_lock = SRWLOCK_INIT; /* the backend is below weft_lock */
static bool installed; /* a failed install leaves nothing: the next call tries again */

static BOOL WINAPI control_handler(DWORD type)
{
    int code = (int)STATUS_CONTROL_C_EXIT;

    switch (type) {
    case CTRL_C_EVENT:
    case CTRL_BREAK_EVENT:
    case CTRL_CLOSE_EVENT:
    case CTRL_LOGOFF_EVENT:
    case CTRL_SHUTDOWN_EVENT:
        break;
    default:
        return FALSE;
    }
    if (InterlockedExchange(&event_seen, 1) != 0 || exiting_cb())
        weft_sys_exit_now(code);
    on_signal_cb(code);
    return TRUE;
}

int weft_sys_signals_install(void (*on_signal)(int code), bool (*exiting)(void))
{
    DWORD err;
    int rc = WEFT_OK;

    AcquireSRWLockExclusive(&install_lock);
    on_signal_cb = on_signal;
    exiting_cb = exiting;
    if (!installed) {
        if (SetConsoleCtrlHandler(control_handler, TRUE)) {
            installed = true;
        } else {
            err = GetLastError();
            rc = weft__fail_wrap(weft__status_from_win32(err),
                                 "exit_on_signals: SetConsoleCtrlHandler");
        }
    }
    ReleaseSRWLockExclusive(&install_lock);
    return rc;
}

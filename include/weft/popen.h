/* SPDX-License-Identifier: MIT */
/**
 * \file weft/popen.h
 * \brief subprocess.Popen and subprocess.run: run other programs.
 *
 * argv[0] names the program: a path, or a bare name looked up in the
 * directories of PATH (the PATH of `opts->env` when it sets one, else the
 * parent's), never in the current directory; on Windows a name without an
 * extension is tried with each extension of PATHEXT. How the program
 * starts:
 * - POSIX: posix_spawn, so the cost does not grow with the parent's memory.
 *   A failure to execute it is this call's status (`WEFT_ENOENT`, or
 *   `WEFT_EOS` with the errno in weft_last_os_error()), never an exit code
 *   127 of the child. The child inherits no descriptor but its stdin,
 *   stdout and stderr (and those of `opts->pass`, below).
 * - Windows: CreateProcessW with the strings converted from UTF-8, the
 *   arguments quoted so that CommandLineToArgvW (and the C runtime's own
 *   parser) gives the child exactly `argv`, and an explicit list of the
 *   three handles the child inherits (and those of `opts->pass`). A .bat
 *   or .cmd program runs under cmd.exe, which re-reads its command line
 *   by rules no quoting can satisfy; an argument to one with a character
 *   other than letters, digits, space and `-_.,;:/\\+=@~` (such as `"`,
 *   `%`, `&`, `^`) is refused with `WEFT_EINVAL`. The others reach the
 *   batch file intact as `%~1`, `%~2`... (`%1` keeps the quotes that an
 *   argument with a space, `,`, `;` or `=` is given).
 *
 * A relative program path is found from the child's `cwd` on POSIX and
 * from the parent's current directory on Windows (as Python documents for
 * subprocess); a `cwd` that does not exist fails the start (`WEFT_ENOENT`
 * on POSIX, where exec cannot tell it from a missing program; `WEFT_EOS`
 * on Windows).
 *
 * Exit codes: on POSIX the exit status, or -N when signal N ended the
 * child; on Windows the process's 32-bit exit code as an int, so the
 * NTSTATUS codes of a crash (0xC0000005) come out negative.
 *
 * Streaming (Popen.stdin.write, Popen.stdout.readline and kin): while the
 * child runs, weft_popen_write(), weft_popen_close_stdin(),
 * weft_popen_read() and weft_popen_readline() talk to it through its pipes,
 * each with a timeout, and weft_popen_send_signal() signals it. A thread
 * may write stdin while others read stdout and stderr. Once streaming is
 * over, weft_popen_communicate() takes the pipes over and goes on from
 * there: it returns first what a read left in the handle (the partial line
 * of a readline that timed out), then the rest. After it has begun, the
 * streaming calls are refused (`WEFT_EINVAL`).
 *
 * Handing objects to the child (`opts->pass`): the handles of weft/ipc.h
 * named there reach a child that is a program linking weft, which finds
 * them with weft_process_passed() once it has called weft_process_main()
 * (as a child of weft_process_start() does). Exactly their files (POSIX
 * descriptors, Windows handles) are inherited, and one pipe more that
 * describes them; the child learns which from the environment variable
 * `WEFT_PASSED`, which weft_process_main() reads, removes from the
 * child's environment, and checks (a child that cannot take them writes
 * a message on stderr and exits with code 1). A child that does not link
 * weft (a shell, any other program) simply has those descriptors or
 * handles open, and `WEFT_PASSED` in its environment; a program it runs
 * by exec with them still open can take them in its turn. At most 13
 * handles, so that their description fits the smallest pipe buffer and
 * the start never waits for the child to read it.
 *
 * weft never takes SIGCHLD from the application and never calls
 * waitpid(-1): it waits for its own children only (a pidfd on Linux, the
 * process handle on Windows). A child whose handle is released while it
 * runs is reaped within a fraction of a second of its end by a thread
 * weft runs only while such children exist, so no zombie stays.
 */
#ifndef WEFT_POPEN_H
#define WEFT_POPEN_H

#include "base.h"

#ifdef __cplusplus
extern "C" {
#endif

/** What a child's standard stream is connected to. */
typedef enum weft_stdio {
    WEFT_STDIO_INHERIT, /**< the parent's own stream (None) */
    WEFT_STDIO_PIPE,    /**< a pipe to the parent (PIPE) */
    WEFT_STDIO_NULL,    /**< the null device (DEVNULL) */
    WEFT_STDIO_STDOUT   /**< stderr only: wherever stdout goes (STDOUT) */
} weft_stdio;

/** Options of weft_popen_start() and weft_run(); NULL means all zero. */
typedef struct weft_popen_opts {
    const char *cwd;                /**< NULL: the parent's */
    const char *const *env;         /**< NULL: inherit; else "K=V" entries, NULL-terminated */
    /** @{ */
    /** Where the child's stdin, stdout and stderr go (`in`, `out`, `err`);
     *  `WEFT_STDIO_INHERIT` when zero-filled. */
    weft_stdio in, out, err;
    /** @} */
    bool new_process_group;         /**< setpgid(0, 0) / CREATE_NEW_PROCESS_GROUP */
    /** Handles of weft/ipc.h (a weft_conn *, weft_shm *, weft_pqueue *...)
     *  the child receives, in order, at most 13 (see "Handing objects to
     *  the child" above); the parent keeps its own. NULL is fine when
     *  `npass` is 0. */
    const void *const *pass;
    size_t npass; /**< how many handles `pass` holds */
    void *reserved[2]; /**< zero: room for later fields (weft/base.h) */
} weft_popen_opts;

/** An opaque child process handle. */
typedef struct weft_popen weft_popen;

/** Which output of the child weft_popen_read() and weft_popen_readline() read. */
typedef enum weft_stdio_stream {
    WEFT_STREAM_OUT, /**< its stdout (Popen.stdout) */
    WEFT_STREAM_ERR  /**< its stderr (Popen.stderr) */
} weft_stdio_stream;

/**
 * Start a program (Popen(argv, ...)).
 * \param out receives the handle; give it back with weft_popen_release().
 * \param argv the program and its arguments, NULL-terminated, UTF-8.
 * \param opts directory, environment and standard streams; NULL: all
 *        inherited.
 * \returns `WEFT_OK` with a handle in `*out`; `WEFT_ENOENT` when the
 *          program does not exist; `WEFT_EINVAL` for NULL `out` or `argv`,
 *          an empty `argv`, an unknown `weft_stdio` value or
 *          `WEFT_STDIO_STDOUT` for stdin or stdout, a non-zero reserved slot
 *          in `opts`, a string Windows cannot pass (see above), NULL
 *          `pass` with `npass` > 0, `npass` over 13, or an entry of `pass`
 *          that is not an open handle of weft/ipc.h (nothing is started);
 *          `WEFT_EAGAIN` when no file descriptor is left for a pipe;
 *          `WEFT_ENOMEM`; `WEFT_EOS` with the OS error (e.g. EACCES for a
 *          file that is not executable).
 * \par Thread safety:
 * Safe from any thread. Blocks only while the OS starts it.
 */
WEFT_API int weft_popen_start(weft_popen **out, const char *const argv[],
                              const weft_popen_opts *opts);

/**
 * Send `input` to the child's stdin and close it, read its stdout and
 * stderr to their end, and wait for it to exit (communicate()). Never
 * deadlocks on full pipes: each piped stream has a thread of its own. On
 * `WEFT_ETIMEDOUT` nothing is lost: a later call (without input) goes on
 * and returns everything read since the first, as Python does. After
 * streaming it goes on from where the streaming calls stopped (see the
 * top of this file); it first waits, within `timeout`, for a streaming
 * call on another thread to return.
 * \param popen the child.
 * \param input bytes for the child's stdin (which must be piped); NULL is
 *        fine when `input_len` is 0. Without input, a piped stdin is closed.
 * \param input_len how many bytes.
 * \param out receives a NUL-terminated copy of stdout (free it with
 *        weft_free()); NULL when the caller does not want it. NULL is
 *        stored when stdout is not piped, or nothing was read.
 * \param out_len receives the length of `*out`; may be NULL.
 * \param err as `out`, for stderr.
 * \param err_len as `out_len`, for stderr.
 * \param timeout `WEFT_FOREVER`, 0 or the longest wait in seconds.
 * \returns `WEFT_OK`; `WEFT_ETIMEDOUT` (the child runs on; its output is
 *          kept for the next call); `WEFT_EINVAL` for NULL, a bad timeout,
 *          NULL `input` with `input_len` > 0, input when stdin is not
 *          piped or was closed by weft_popen_close_stdin(), or input after
 *          communication started (nothing is stored then); `WEFT_ENOMEM`
 *          (also when no memory was left to keep what a stream's thread
 *          read: that stream's output is then incomplete, and every later
 *          call returns it again); `WEFT_EOS` (a pipe or the wait failed);
 *          `WEFT_ETIMEDOUT` also when a streaming call on another thread
 *          held a pipe past `timeout` (nothing was started); a
 *          status of weft_thread_start() when a stream's thread could not
 *          start: the popen is then as it was (stdin open, the input not
 *          taken, nothing read), so the call may be repeated with the same
 *          input. On every failure but `WEFT_EINVAL`, `*out` and `*err` are
 *          NULL.
 * \par Thread safety:
 * One caller at a time per handle. Blocks up to `timeout`.
 */
WEFT_API int weft_popen_communicate(weft_popen *popen, const void *input, size_t input_len,
                                    char **out, size_t *out_len, char **err, size_t *err_len,
                                    double timeout);

/**
 * Wait for the child to end and reap it (wait(timeout)).
 * \param popen the child.
 * \param timeout `WEFT_FOREVER`, 0 or the longest wait in seconds.
 * \param exit_code its exit status, or -N when signal N ended it (POSIX);
 *          may be NULL.
 * \returns `WEFT_OK`; `WEFT_ETIMEDOUT`; `WEFT_EINVAL` for NULL or a bad
 *          timeout; `WEFT_EOS`.
 * \par Thread safety:
 * Safe from several threads at once. Blocks up to `timeout`,
 * woken by the child's end (no polling on Linux and Windows).
 */
WEFT_API int weft_popen_wait(weft_popen *popen, double timeout, int *exit_code);

/**
 * Reap the child if it has ended (poll()).
 * \param popen the child.
 * \param exit_code receives the exit code as for weft_popen_wait(); may be
 *        NULL.
 * \returns `WEFT_OK` with `*exit_code`; `WEFT_EAGAIN` while it runs;
 *          `WEFT_EINVAL` for NULL.
 * \par Thread safety:
 * Safe from any thread. Never blocks.
 */
WEFT_API int weft_popen_poll(weft_popen *popen, int *exit_code);

/**
 * Ask the child to end: SIGTERM on POSIX, TerminateProcess on Windows
 * (terminate()). A child already reaped is never signalled, so a recycled
 * pid is never hit.
 * \param popen the child.
 * \returns `WEFT_OK` (also when it has ended); `WEFT_EINVAL` for NULL;
 *          `WEFT_EOS`.
 * \par Thread safety:
 * Safe from any thread. Never blocks: it does not wait for
 * the child to end.
 */
WEFT_API int weft_popen_terminate(weft_popen *popen);

/**
 * End the child at once: SIGKILL on POSIX, TerminateProcess on Windows
 * (kill()). Otherwise as weft_popen_terminate().
 * \param popen the child.
 * \returns `WEFT_OK` (also when it has ended); `WEFT_EINVAL` for NULL;
 *          `WEFT_EOS`.
 * \par Thread safety:
 * Safe from any thread. Never blocks.
 */
WEFT_API int weft_popen_kill(weft_popen *popen);

/**
 * The child's process id (pid).
 * \param popen the child.
 * \returns the pid, also after the child has ended; -1 for NULL.
 * \par Thread safety:
 * Safe from any thread. Never blocks.
 */
WEFT_API int64_t weft_popen_pid(const weft_popen *popen);

/**
 * Write to the child's stdin (Popen.stdin.write() and flush(), with a
 * timeout). The timeout bounds the wait for the child to make room in the
 * pipe for the first byte; once one is written, the call writes the rest
 * however long the child takes to read it (as weft_conn_send() does), so
 * `WEFT_ETIMEDOUT` always means that nothing was written and the same
 * call can be made again. A child that stops reading in the middle of a
 * long write holds the call until it reads on or ends: weft_popen_kill()
 * on another thread ends the call with `WEFT_EOF`.
 * \param popen the child, started with `in` = `WEFT_STDIO_PIPE`.
 * \param data the bytes; NULL is fine when `len` is 0.
 * \param len how many; 0 writes nothing.
 * \param timeout `WEFT_FOREVER`, 0 or the longest wait in seconds.
 * \returns `WEFT_OK` (all written); `WEFT_ETIMEDOUT` (nothing written);
 *          `WEFT_EOF` when the child has closed its stdin or ended
 *          (Python's BrokenPipeError; no SIGPIPE reaches this process);
 *          `WEFT_EINVAL` for NULL `popen`, NULL `data` with `len` > 0, a
 *          bad timeout, a stdin that is not a pipe, after
 *          weft_popen_close_stdin(), or once weft_popen_communicate() has
 *          begun; `WEFT_EOS`.
 * \par Thread safety:
 * Safe from any thread. Writes on several threads take turns, each
 * written whole (the wait for the turn counts in the timeout); reads of
 * stdout and stderr on other threads go on meanwhile. Blocks up to
 * `timeout` for the first byte, then until the last is written.
 */
WEFT_API int weft_popen_write(weft_popen *popen, const void *data, size_t len, double timeout);

/**
 * Close the child's stdin (Popen.stdin.close()), so that it reads the end
 * of its input. Closing it again does nothing, and neither does a call
 * once weft_popen_communicate() has begun (which closes it itself).
 * \param popen the child, started with `in` = `WEFT_STDIO_PIPE`.
 * \returns `WEFT_OK`; `WEFT_EINVAL` for NULL or a stdin that is not a
 *          pipe.
 * \par Thread safety:
 * Safe from any thread. Waits for a weft_popen_write() on another thread
 * to return; otherwise never blocks.
 */
WEFT_API int weft_popen_close_stdin(weft_popen *popen);

/**
 * Read what the child wrote to stdout or stderr, up to `cap` bytes
 * (Popen.stdout.read1(cap), with a timeout): what a readline left in the
 * handle comes first; else the call waits, up to `timeout`, until the pipe
 * holds at least one byte, and takes what it holds.
 * \param popen the child.
 * \param which `WEFT_STREAM_OUT` or `WEFT_STREAM_ERR`; that stream must
 *        be `WEFT_STDIO_PIPE`.
 * \param buf receives the bytes (not NUL-terminated).
 * \param cap the size of `buf`, more than 0.
 * \param got receives how many bytes: at least 1 on `WEFT_OK`, else 0.
 * \param timeout `WEFT_FOREVER`, 0 or the longest wait in seconds.
 * \returns `WEFT_OK`; `WEFT_EOF` at the end of the stream (the child, and
 *          whatever it started that shares the pipe, closed it: usually
 *          it ended), and on every call after; `WEFT_ETIMEDOUT` (nothing
 *          read); `WEFT_EINVAL` for NULL `popen`, `buf` or `got`, `cap` 0,
 *          a bad timeout, a `which` that is neither stream, a stream that
 *          is not a pipe, or once weft_popen_communicate() has begun (it
 *          took the streams over: what it returns is the rest);
 *          `WEFT_EOS`.
 * \par Thread safety:
 * Safe from any thread. Reads of one stream on several threads take
 * turns, each getting bytes no other gets (the wait for the turn counts in
 * the timeout); the other stream and stdin may be used meanwhile. Blocks
 * up to `timeout`.
 */
WEFT_API int weft_popen_read(weft_popen *popen, weft_stdio_stream which, void *buf, size_t cap,
                             size_t *got, double timeout);

/**
 * Read one line from the child's stdout or stderr (Popen.stdout.readline(),
 * with a timeout): the bytes up to and including the next newline (LF);
 * the last line of the stream may lack it. Lines are split at the LF
 * alone: a Windows program's CR LF line ends keep their CR, and a line may
 * hold NUL bytes (`*len` says where it ends). A line has no length limit
 * but memory.
 * On `WEFT_ETIMEDOUT` nothing is consumed: the part of a line read so far
 * stays in the handle, and the next readline, read or communicate returns
 * it first.
 * \param popen the child.
 * \param which `WEFT_STREAM_OUT` or `WEFT_STREAM_ERR`; that stream must
 *        be `WEFT_STDIO_PIPE`.
 * \param line receives the line, NUL-terminated, allocated: free it with
 *        weft_free(); NULL when the call fails.
 * \param len receives its length (without the NUL); may be NULL.
 * \param timeout `WEFT_FOREVER`, 0 or the longest wait in seconds.
 * \returns `WEFT_OK`; `WEFT_EOF` at the end of the stream with nothing
 *          left, and on every call after; `WEFT_ETIMEDOUT`; `WEFT_ENOMEM`
 *          (no memory for the line: nothing is consumed); `WEFT_EINVAL`
 *          for NULL `line`, and as weft_popen_read(); `WEFT_EOS`.
 * \par Thread safety:
 * As weft_popen_read(): readers of one stream take turns, each line goes
 * to one of them whole. Blocks up to `timeout`.
 */
WEFT_API int weft_popen_readline(weft_popen *popen, weft_stdio_stream which, char **line,
                                 size_t *len, double timeout);

/**
 * Send a signal to the child (Popen.send_signal()). POSIX: kill() with
 * any signal number (0 checks that the child is there). Windows, as
 * Python: `SIGTERM` ends the child as weft_popen_terminate() does;
 * `CTRL_C_EVENT` and `CTRL_BREAK_EVENT` (from `<windows.h>`) go by
 * GenerateConsoleCtrlEvent to a child started with `new_process_group`
 * that shares this process's console; CREATE_NEW_PROCESS_GROUP turns
 * Ctrl+C handling off in the child, so `CTRL_C_EVENT` reaches only a
 * child that turned it back on. A child already reaped is never
 * signalled, so a recycled pid is never hit.
 * \param popen the child.
 * \param sig the signal.
 * \returns `WEFT_OK` (also when the child has ended); `WEFT_EINVAL` for
 *          NULL, a number that is no signal (POSIX), on Windows any
 *          value but those three or a console event for a child without
 *          `new_process_group`; `WEFT_EOS` (e.g. EPERM; no console).
 * \par Thread safety:
 * Safe from any thread. Never blocks: it does not wait for the child to
 * act on the signal.
 */
WEFT_API int weft_popen_send_signal(weft_popen *popen, int sig);

/**
 * Give the handle back: the parent's ends of the pipes are closed; a child
 * still running goes on and is reaped when it ends. A communicate() that
 * timed out keeps its threads until the child's output ends.
 * \param popen the handle; NULL is ignored.
 * \par Thread safety:
 * Not while another thread uses the handle. Never blocks.
 */
WEFT_API void weft_popen_release(weft_popen *popen);

/**
 * Run a program to its end (subprocess.run). A non-NULL `out` or `err`
 * captures that stream (capture_output=True), overriding `opts`; a NULL one
 * leaves it as `opts` says. When `timeout` expires the child is killed and
 * reaped, and `WEFT_ETIMEDOUT` is returned with what it wrote until then
 * and its exit code (-9 on POSIX).
 * \param argv the program and its arguments, as for weft_popen_start().
 * \param opts as for weft_popen_start(); NULL: all inherited.
 * \param timeout `WEFT_FOREVER`, 0 or the longest wait in seconds.
 * \param exit_code receives the exit code, as for weft_popen_wait(); may be
 *        NULL.
 * \param out as for weft_popen_communicate().
 * \param out_len as for weft_popen_communicate().
 * \param err as for weft_popen_communicate().
 * \param err_len as for weft_popen_communicate().
 * \returns `WEFT_OK` with `*exit_code`; `WEFT_ETIMEDOUT`; `WEFT_EINVAL` for
 *          a bad timeout; the statuses of weft_popen_start() and
 *          weft_popen_communicate().
 * \par Thread safety:
 * Safe from any thread. Blocks up to `timeout`, then until
 * the killed child has ended. When the communication fails for
 * another reason (no thread for a stream), the child is killed
 * and reaped too, as Python's run does on any exception.
 */
WEFT_API int weft_run(const char *const argv[], const weft_popen_opts *opts, double timeout,
                      int *exit_code, char **out, size_t *out_len, char **err, size_t *err_len);

#ifdef __cplusplus
}
#endif

#endif /* WEFT_POPEN_H */

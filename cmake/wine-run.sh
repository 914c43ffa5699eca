#!/bin/sh
# SPDX-License-Identifier: MIT
# Run a Windows program under Wine for ctest (CMAKE_CROSSCOMPILING_EMULATOR
# of cmake/toolchain-mingw-w64-x86_64.cmake): Wine's own diagnostics off, so
# a test's output is the program's; the program's exit status is returned.
# WINE names another wine binary; WINEPREFIX and WINEPATH pass through.
#
# Wine 8 under load now and then fails to start a program: it ends at once
# with a failure status, having printed nothing (seen about once in 500
# runs with ctest -j2). A weft test always prints why it failed, so such a
# run is no result of the test: it is started once more, and the note below
# says so. Windows itself has no such failure; this is a Wine-only
# workaround and lives here, in the tests' runner, not in weft.
#
# Wine 8 also now and then ends a process with SIGKILL when the process
# exits while another of its threads is ending: a plain Win32 program (no
# weft) whose _beginthreadex thread sets an event and returns while main
# returns was killed 18 times in 1600 runs, two at a time; so was weft's
# thread_release_running_thread, 1 run in about 400. Windows ends such a
# process normally (ExitProcess ends the other threads). A run killed so,
# with nothing printed but the shell's "Killed", is started once more too.
#
# And Wine's Linux side now and then fails an assertion of the Linux
# loader as the process exits ("Inconsistency detected by ld.so:
# dl-fini.c: 87: _dl_fini: ..."), after the program has ended: once in
# the 8850 runs under Wine of three CI runs, in a test that had printed its
# own skip line (300 more runs of that test alone passed). No Windows
# program prints that line; such a run is started once more too.
#
# The first failure also strikes the processes a test starts: Wine's
# CreateProcessW then fails with ERROR_INTERNAL_ERROR (1359), which its
# NtCreateUserProcess returns when the new process ended before it told
# the server it had started (once in the 1791 msvc-wine runs of a CI run,
# pool_spawn_map_squares_in_order: "worker 3 of 5 did not start: Internal
# error (os error 1359)"; 120 more runs passed). weft reports it as the
# test expects, as an error with the system's code; the run is no result
# of the test and is started once more too.
WINEDEBUG=-all
export WINEDEBUG
out=$(mktemp "${TMPDIR:-/tmp}/wine-run.XXXXXX") || exit 1
"${WINE:-wine}" "$@" >"$out" 2>&1
status=$?
# Nothing printed, nothing but the shell's "Killed", the loader's
# assertion, or a child that Wine failed to start: the failures above.
if [ "$status" -ne 0 ] &&
  { ! grep -qv 'Killed$' "$out" || grep -q '^Inconsistency detected by ld\.so: ' "$out" ||
    grep -q '(os error 1359)' "$out"; }; then
  echo "wine-run: $1 ended with status $status: a Wine start-up failure (of it or of a process it started), Wine killing a process at exit, or Linux's loader failing as Wine exits, not a result of the program; starting it again" >&2
  rm -f "$out"
  exec "${WINE:-wine}" "$@"
fi
cat "$out"
rm -f "$out"
exit "$status"

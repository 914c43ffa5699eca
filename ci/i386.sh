#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ci/i386.sh: weft for 32-bit x86 Linux, built with gcc -m32 (gcc-multilib),
# the whole suite run (preset i386). Where the kernel runs i386 programs
# they run natively; a kernel built without ia32 emulation (this CI's) runs
# them under qemu-i386, registered with binfmt_misc (ci/qemu.sh) so that
# the programs the tests start themselves run too. 32-bit is where a
# 64-bit atomic word is 4-aligned by the ABI: rlock's owner test checks
# weft aligns its own to 8.
#
# Environment: WEFT_CI_I386_QEMU=1 runs the tests under qemu-i386 even where
# the kernel could run them.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=qemu.sh
source "$WEFT_ROOT/ci/qemu.sh"

probe_dir=$(ci_tempdir)
trap 'rm -rf "$probe_dir"' EXIT
printf 'int main(void) { return 0; }\n' >"$probe_dir/probe.c"
gcc -m32 "$probe_dir/probe.c" -o "$probe_dir/probe" ||
  ci_die "gcc -m32 cannot build a program (ci/install-deps.sh installs gcc-multilib)"

qemu_binfmt_off i386
host_runs=0
qemu_host_runs "$probe_dir/probe" && host_runs=1
if ((host_runs)) && [[ -z ${WEFT_CI_I386_QEMU:-} ]]; then
  ci_log "i386: the kernel runs i386 programs: tests run natively"
  emulator=(-DWEFT_I386_EMULATOR=)
else
  ci_log "i386: tests under qemu-i386 (the kernel cannot run i386 programs, or WEFT_CI_I386_QEMU is set)"
  # binfmt_misc comes before the kernel's own loader: where the kernel
  # runs i386 programs itself, the entry is turned off again at the end.
  if ((host_runs)); then
    trap 'rm -rf "$probe_dir"; qemu_binfmt_off i386' EXIT
  fi
  qemu_binfmt i386 || exit 1
  "$probe_dir/probe" || ci_die "i386: the probe does not run through binfmt_misc"
  emulator=(-DWEFT_I386_EMULATOR=qemu-i386)
fi
bash "$WEFT_ROOT/ci/build-and-test.sh" i386 "${emulator[@]}" "$@"

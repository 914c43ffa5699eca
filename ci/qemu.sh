# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# ci/qemu.sh: run Linux programs of another architecture under qemu-user
# (Debian's qemu-user); source it, don't run it.
#
# ctest starts each test through CMAKE_CROSSCOMPILING_EMULATOR, but the
# tests also start programs themselves: their own executable again (exit
# and process tests, through system()) and the process pool's workers.
# Those exec() calls reach qemu only through binfmt_misc, so qemu_binfmt
# registers the architecture with the kernel (as root), with the F flag:
# the interpreter is opened once, at registration, so it serves every
# mount namespace and chroot.

# The ELF header bytes binfmt_misc matches for each architecture: class
# (32/64-bit), little-endian, version 1, type EXEC or DYN (the mask's 0xfe
# takes both), and the machine (3: i386, 0xb7: aarch64).
qemu_magic() {
  case $1 in
    i386) printf '%s' '\x7fELF\x01\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x03\x00' ;;
    aarch64) printf '%s' '\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00' ;;
    *) return 1 ;;
  esac
}
qemu_mask='\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff'

qemu_binfmt_dir=/proc/sys/fs/binfmt_misc

# Run "$@" as root: directly, or through sudo -n (never asking anything).
qemu_as_root() {
  if [[ $(id -u) == 0 ]]; then "$@"; else sudo -n "$@"; fi
}

# qemu_write FILE TEXT: write TEXT into a binfmt_misc control file, as root.
qemu_write() {
  printf '%s' "$2" | qemu_as_root tee "$1" >/dev/null
}

# qemu_binfmt ARCH: make the kernel run ARCH's ELF programs through
# qemu-ARCH, by an entry named weft-qemu-ARCH (kept for later runs, and
# enabled again if it was disabled).
qemu_binfmt() {
  local arch=$1 entry="$qemu_binfmt_dir/weft-qemu-$1" qemu magic
  magic=$(qemu_magic "$arch") || { echo "==== qemu: no binfmt_misc magic for $arch" >&2; return 1; }
  qemu=$(command -v "qemu-$arch") || {
    echo "==== qemu: qemu-$arch is not installed (ci/install-deps.sh installs qemu-user)" >&2
    return 1
  }
  if [[ ! -e $qemu_binfmt_dir/register ]]; then
    qemu_as_root mount -t binfmt_misc binfmt_misc "$qemu_binfmt_dir" || {
      echo "==== qemu: cannot mount binfmt_misc (root needed)" >&2
      return 1
    }
  fi
  if [[ -e $entry ]]; then
    qemu_write "$entry" 1
  else
    qemu_write "$qemu_binfmt_dir/register" \
      ":weft-qemu-$arch:M::$magic:$qemu_mask:$qemu:F" || {
      echo "==== qemu: binfmt_misc refused the $arch entry" >&2
      return 1
    }
  fi
  ci_log "qemu: $arch programs run through $qemu ($("$qemu" --version | head -n 1))"
}

# qemu_binfmt_off ARCH: disable our entry for ARCH, if there is one.
# binfmt_misc comes before the kernel's own ELF loader, so while it is
# enabled even a kernel that runs ARCH itself hands ARCH's programs to qemu.
qemu_binfmt_off() {
  local entry="$qemu_binfmt_dir/weft-qemu-$1"
  if [[ -e $entry ]] && grep -qx enabled "$entry"; then
    qemu_write "$entry" 0
  fi
}

# qemu_host_runs PROGRAM: true when the kernel itself runs PROGRAM (call
# qemu_binfmt_off for its architecture first).
qemu_host_runs() {
  "$1" >/dev/null 2>&1
}

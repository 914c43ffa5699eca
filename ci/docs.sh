#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ci/docs.sh: the API reference. Configure build-docs/ (library only, no
# tests or examples), build the `docs` target with Doxygen (cmake/docs.cmake,
# docs/Doxyfile.in), and check:
#   - the target builds and writes build-docs/docs/html/index.html;
#   - the front page (index.html) carries the README's Python → weft table;
#   - Doxygen warned about nothing (build-docs/docs/warnings.log is empty):
#     every public function, type, enumerator, macro and struct member has
#     a doc comment, and every function's parameters and return value are
#     described;
#   - every public function's comment has a `\par Thread safety:` paragraph
#     (whether it may be called from any thread, and whether it blocks),
#     which Doxygen cannot check;
#   - clang's -Wdocumentation and -Wdocumentation-pedantic (unknown
#     commands) find nothing in any public header, each compiled on its own
#     with -Werror: a user's clang with those warnings on must stay quiet
#     (clang must be installed).
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

if grep -q 'threading.Thread(target=f' "$build/docs/html/index.html" 2>/dev/null; then
  pass "the front page has the README's Python → weft table"
else
  fail "the front page lacks the README's Python → weft table"
fi

if [[ ! -f $log ]]; then
  fail "Doxygen wrote no warnings log ($log)"
elif [[ -s $log ]]; then
  cat "$log"
  fail "Doxygen warned $(grep -c 'warning:' "$log") times (above)"
else
  pass "no Doxygen warning"
fi

# A WEFT_API declaration must follow a doc comment with a thread safety paragraph.
ci_log "docs: a thread safety paragraph for every public function"
if awk '
    /\/\*\*/ { doc = ""; in_doc = 1 }
    in_doc { doc = doc $0 "\n" }
    in_doc && /\*\// { in_doc = 0 }
    /^WEFT_API/ {
      if (index(doc, "\\par Thread safety:") == 0) { print FILENAME ":" FNR ": " $0; bad++ }
      doc = ""
    }
    END { exit bad > 0 }' include/weft.h include/weft/*.h; then
  pass "every public function has a thread safety paragraph"
else
  fail "public functions without a thread safety paragraph (above)"
fi

ci_log "docs: clang -Wdocumentation -Wdocumentation-pedantic on each public header"
if ! command -v clang >/dev/null 2>&1; then
  fail "clang is not installed (ci/install-deps.sh installs it)"
else
  bad=0
  for h in include/weft.h include/weft/*.h; do
    printf '#include "%s"\n' "$WEFT_ROOT/$h" |
      clang -std=c11 -x c -fsyntax-only -Iinclude -Wdocumentation -Wdocumentation-pedantic \
        -Werror - || bad=1
  done
  if ((bad)); then
    fail "clang -Wdocumentation warned (above)"
  else
    pass "clang -Wdocumentation is quiet on every public header"
  fi
fi

finish
